"""Members' tests: a member table with e-mail, name, plan and specialty, two groups, members
with passwords, and an access manifest naming the fields rules read (as a build writes it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.groups import services as groups
from api.members import services as members
from api.principal import Principal, cli_principal
from api.runtime import Runtime
from tests.integration.customers.conftest import drop_data_tables

PASSWORD = "member password 1234"


@pytest.fixture(autouse=True)
def _fresh_data_tables(database_url: str) -> Iterator[None]:
    drop_data_tables(database_url)
    yield
    drop_data_tables(database_url)


@pytest.fixture
def actor() -> Principal:
    return cli_principal("tests")


@dataclass
class Members:
    doctor: int
    pharmacist: int
    nobody: int  # a record without a password


def write_manifest(runtime: Runtime, fields: list[str]) -> None:
    meta = runtime.settings.meta_dir
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "access.json").write_text(json.dumps({"version": 1, "fields": fields}), "utf-8")
    runtime.member_auth.fields.refresh(force=True)


@pytest.fixture
def people(runtime: Runtime, actor: Principal) -> Members:
    with runtime.db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "members", "is_member_table": True}),
            [
                parse_field({"key": "email", "type": "email", "unique": True}),
                parse_field({"key": "name", "type": "text"}),
                parse_field({"key": "plan", "type": "text"}),
                parse_field({"key": "specialty", "type": "text"}),
            ],
        )
        ids = [
            records.create_record(
                session,
                actor,
                "members",
                {"email": email, "name": name, "plan": plan, "specialty": specialty},
            )["id"]
            for email, name, plan, specialty in (
                ("doctor@example.jp", "医師 一郎", "gold", "oncology"),
                ("pharma@example.jp", "薬剤 花子", "free", "pharmacy"),
                ("nobody@example.jp", "無 太郎", "free", ""),
            )
        ]
        groups.create_group(session, actor, "doctors", "医師")
        groups.create_group(session, actor, "pharmacists", "薬剤師")
        groups.change_members(session, actor, "doctors", [ids[0]], add=True)
        groups.change_members(session, actor, "pharmacists", [ids[1]], add=True)
        members.set_password(session, actor, ids[0], PASSWORD)
        members.set_password(session, actor, ids[1], PASSWORD)
    write_manifest(runtime, ["plan", "specialty"])
    return Members(*ids)
