"""The import's groups column on SQLite and PostgreSQL: auto-mapped from its header, keys or
labels separated by ; or ,, an unknown group refusing its row (naming the column), the column
replacing the members' groups on a second import (an empty cell takes them out), history rows
with the batch id; a table that is not the member table cannot map it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.customers.models import RecordHistory
from api.groups import services as groups
from api.imports import services as imports
from api.imports import tasks
from api.imports.cli import OK, SOME_REFUSED, run_import
from api.imports.models import CustomerImport
from api.jobs.models import JobState
from api.jobs.runner import run_job
from api.principal import SYSTEM, Principal
from api.runtime import Runtime


@pytest.fixture
def members(runtime: Runtime, actor: Principal) -> None:
    with runtime.db.transaction() as session:
        for key, member in (("members", True), ("leads", False)):
            services.create_table(
                session, actor, parse_table({"key": key, "is_member_table": member}),
                [parse_field({"key": "email", "type": "email", "unique": True}),
                 parse_field({"key": "name", "type": "text"})],
            )  # fmt: skip
        groups.create_group(session, actor, "doctors", {"ja": "医師", "en": "Doctors"})
        groups.create_group(session, actor, "nurses", {"ja": "看護師", "en": "Nurses"})


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def cli(runtime: Runtime, table: str, path: Path, **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_import(runtime, table, path, echo=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def member_groups(runtime: Runtime) -> dict[str, list[str]]:
    with runtime.db.read() as session:
        page = records.list_records(session, SYSTEM, "members", limit=100)
        table_id = groups.member_design(session).table.id or 0
        of = groups.groups_of(session, table_id, [r["id"] for r in page.items])
        return {r["values"]["email"]: of.get(r["id"], []) for r in page.items}


def test_groups_column_assigns_then_replaces(
    runtime: Runtime, members: None, tmp_path: Path
) -> None:
    first = write_csv(
        tmp_path / "first.csv",
        [
            ["email", "name", "グループ"],
            ["a@example.jp", "A", "医師; nurses"],
            ["b@example.jp", "B", "ＤＯＣＴＯＲＳ"],  # a key, written full-width
            ["c@example.jp", "C", "doctors, pharmacists"],
            ["d@example.jp", "D", ""],
        ],
    )
    code, out, _ = cli(runtime, "members", first, dry_run=True)
    assert member_groups(runtime) == {}  # a dry run writes nothing
    report = tmp_path / "errors.csv"
    code, out, _ = cli(runtime, "members", first, errors_out=report)
    assert code == SOME_REFUSED, out
    assert member_groups(runtime) == {
        "a@example.jp": ["doctors", "nurses"],
        "b@example.jp": ["doctors"],
        "d@example.jp": [],
    }
    refused = report.read_text("utf-8-sig")
    assert "pharmacists" in refused
    assert "グループ列" in refused or "groups column" in refused

    second = write_csv(
        tmp_path / "second.csv",
        [["email", "groups"], ["a@example.jp", ""], ["b@example.jp", "看護師"]],
    )
    code, out, _ = cli(runtime, "members", second, mode="update", key=["email"])
    assert code == OK, out
    assert member_groups(runtime) == {
        "a@example.jp": [],
        "b@example.jp": ["nurses"],
        "d@example.jp": [],
    }
    with runtime.db.read() as session:
        rows = session.exec(
            select(RecordHistory)
            .where(col(RecordHistory.source) == "import")
            .order_by(col(RecordHistory.id))
        ).all()
        changes = [(h.batch_id is not None, h.changes) for h in rows if h.action == "update"]
        page = records.list_records(session, SYSTEM, "members", limit=100)
        ids = {r["values"]["email"][0]: r["id"] for r in page.items}
        created = [h.changes for h in rows if h.action == "create" and h.record_id == ids["b"]]
    assert created[0]["groups"] == {"before": [], "after": ["doctors"]}
    assert (True, {"groups": {"before": ["doctors", "nurses"], "after": ["nurses"]}}) in changes
    assert (True, {"groups": {"before": ["nurses"], "after": []}}) in changes


def test_only_the_member_table_maps_a_groups_column(runtime: Runtime, members: None) -> None:
    with runtime.db.read() as session:
        design = services.load_design(session, "leads")
        assert imports.auto_mapping(design, ["email", "groups"]) == {"0": "email", "1": None}
        member = services.load_design(session, "members")
        assert imports.auto_mapping(member, ["email", "Group"]) == {"0": "email", "1": "groups"}


def test_undo_deletes_the_members_it_created_with_their_groups(
    runtime: Runtime, members: None, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "new.csv", [["email", "groups"], ["e@example.jp", "doctors;nurses"]]
    )
    code, out, _ = cli(runtime, "members", path)
    assert code == OK, out
    assert member_groups(runtime) == {"e@example.jp": ["doctors", "nurses"]}
    with runtime.db.transaction() as session:
        batch = session.exec(select(CustomerImport).order_by(col(CustomerImport.id).desc())).first()
        assert batch is not None and batch.id is not None
        job_id = imports.start_undo(session, SYSTEM, "members", batch.id, tasks.UNDO)
    assert run_job(runtime, tasks.UNDO, job_id) == JobState.done
    with runtime.db.read() as session:
        undone = session.get(CustomerImport, batch.id).undo  # type: ignore[union-attr]
    assert undone["deleted"] == 1, undone
    assert member_groups(runtime) == {}
    with runtime.db.read() as session:
        assert groups.list_members(session, SYSTEM, "doctors").total == 0


def undo_last(runtime: Runtime) -> dict[str, Any]:
    with runtime.db.transaction() as session:
        batch = session.exec(select(CustomerImport).order_by(col(CustomerImport.id).desc())).first()
        assert batch is not None and batch.id is not None
        job_id = imports.start_undo(session, SYSTEM, "members", batch.id, tasks.UNDO)
    assert run_job(runtime, tasks.UNDO, job_id) == JobState.done
    with runtime.db.read() as session:
        undone = session.get(CustomerImport, batch.id).undo  # type: ignore[union-attr]
    assert undone is not None
    return undone


def test_undo_restores_the_groups_it_changed_unless_changed_since(
    runtime: Runtime, members: None, tmp_path: Path
) -> None:
    first = write_csv(
        tmp_path / "first.csv",
        [["email", "groups"], ["a@example.jp", "doctors"], ["b@example.jp", "nurses"]],
    )
    assert cli(runtime, "members", first)[0] == OK
    second = write_csv(  # a: doctors → nurses (one out, one in); b: nurses → doctors
        tmp_path / "second.csv",
        [["email", "groups"], ["a@example.jp", "nurses"], ["b@example.jp", "doctors"]],
    )
    assert cli(runtime, "members", second)[0] == OK
    assert member_groups(runtime) == {"a@example.jp": ["nurses"], "b@example.jp": ["doctors"]}
    with runtime.db.transaction() as session:  # staff take b out of doctors since
        b = next(r for r in records.list_records(session, SYSTEM, "members").items
                 if r["values"]["email"] == "b@example.jp")["id"]  # fmt: skip
        groups.change_members(session, SYSTEM, "doctors", [b], add=False)
    undone = undo_last(runtime)
    # a is as before the second import; b keeps what staff did (doctors: changed since) and
    # gets nurses back (that change of the import was still as it left it)
    assert member_groups(runtime) == {"a@example.jp": ["doctors"], "b@example.jp": ["nurses"]}
    assert undone["restored"] == 3, undone
    assert undone["skipped_total"] == 1
    assert [(s["record_id"], s["field"], s["reason"], s["current"]) for s in undone["skipped"]
            ] == [(b, "groups", "changed_since", [])]  # fmt: skip
