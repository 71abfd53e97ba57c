"""Member records merged: the person keeps one log-in (the survivor's, else the best source's
moved over), the other accounts go, every session of a source ends at once, and the merge's
history says so. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import col, select

from api.customers import records
from api.customers.merge import MERGE_KEY, merge_records
from api.customers.models import RecordHistory
from api.members import services as members
from api.members.models import MemberAccount, MemberEvent, MemberSession
from api.principal import Principal
from api.runtime import Runtime
from tests.integration.members.conftest import PASSWORD, Members


def login(client: TestClient[Litestar], email: str, password: str = PASSWORD) -> int:
    return client.post(
        "/api/members/login", json={"email": email, "password": password}
    ).status_code


def me(client: TestClient[Litestar]) -> Any:
    return client.get("/api/members/me").json()["member"]


def merge(runtime: Runtime, actor: Principal, survivor: int, *sources: int) -> dict[str, Any]:
    with runtime.db.read() as session:
        versions = {
            i: records.get_record(session, actor, "members", i)["version"]
            for i in (survivor, *sources)
        }
    with runtime.db.transaction() as session:
        merge_records(
            session, actor, "members", survivor=survivor, sources=list(sources), values={},
            versions=versions,
        )  # fmt: skip
    with runtime.db.read() as session:
        entry = session.exec(
            select(RecordHistory).where(
                RecordHistory.record_id == survivor, col(RecordHistory.action) == "merge"
            )
        ).one()
        return dict(entry.changes[MERGE_KEY])


def accounts(runtime: Runtime) -> dict[int, int]:
    """record id → account id"""
    with runtime.db.read() as session:
        return {a.record_id: a.id or 0 for a in session.exec(select(MemberAccount)).all()}


def test_a_survivor_without_a_login_takes_the_sources_account(
    app: Litestar, runtime: Runtime, actor: Principal, people: Members
) -> None:
    with TestClient(app, base_url="http://testserver.local") as doctor:
        assert login(doctor, "doctor@example.jp") == 200
        assert me(doctor)["email"] == "doctor@example.jp"
        moved = accounts(runtime)[people.doctor]
        facts = merge(runtime, actor, people.nobody, people.doctor)
        # The source's session ended at once: its token named a record that is gone.
        assert me(doctor) is None
    assert facts["logins"] == {
        "kept": "moved", "moved_from": people.doctor, "removed_from": [], "sessions_ended": 1,
    }  # fmt: skip
    assert accounts(runtime)[people.nobody] == moved  # the same account, password and all
    assert people.doctor not in accounts(runtime)
    with TestClient(app, base_url="http://testserver.local") as person:
        # The survivor's address (kept by the merge) with the source's password.
        assert login(person, "doctor@example.jp") == 401
        assert login(person, "nobody@example.jp") == 200
        assert me(person)["email"] == "nobody@example.jp"
    with runtime.db.read() as session:
        kinds = session.exec(
            select(MemberEvent.record_id).where(MemberEvent.kind == "logged_in")
        ).all()
    assert set(kinds) == {people.nobody}  # the funnel counts the person once


def test_a_survivor_with_a_login_keeps_it_and_the_sources_go(
    app: Litestar, runtime: Runtime, actor: Principal, people: Members
) -> None:
    with runtime.db.transaction() as session:
        members.set_status(session, actor, people.doctor, "suspended")
    kept = accounts(runtime)[people.pharmacist]
    with TestClient(app, base_url="http://testserver.local") as pharmacist:
        assert login(pharmacist, "pharma@example.jp") == 200
        facts = merge(runtime, actor, people.pharmacist, people.doctor, people.nobody)
        # The survivor's own session goes on (its token renews with the merged values).
        assert me(pharmacist)["email"] == "pharma@example.jp"
    assert facts["logins"] == {
        "kept": "survivor", "moved_from": None, "removed_from": [people.doctor],
        "sessions_ended": 0,
    }  # fmt: skip
    assert accounts(runtime) == {people.pharmacist: kept}
    with runtime.db.read() as session:
        assert session.exec(select(MemberSession)).all()  # the survivor's session is still there


def test_an_active_account_wins_over_a_suspended_one(
    runtime: Runtime, actor: Principal, people: Members
) -> None:
    with runtime.db.transaction() as session:
        members.set_status(session, actor, people.doctor, "suspended")
    facts = merge(runtime, actor, people.nobody, people.doctor, people.pharmacist)
    assert facts["logins"]["moved_from"] == people.pharmacist
    assert facts["logins"]["removed_from"] == [people.doctor]


def test_a_withdrawn_account_is_never_carried(
    runtime: Runtime, actor: Principal, people: Members
) -> None:
    with runtime.db.transaction() as session:
        left = session.exec(
            select(MemberAccount).where(MemberAccount.record_id == people.doctor)
        ).one()
        left.status = "withdrawn"
        session.add(left)
    facts = merge(runtime, actor, people.nobody, people.doctor)
    assert facts["logins"] == {
        "kept": "none", "moved_from": None, "removed_from": [people.doctor], "sessions_ended": 0,
    }  # fmt: skip
    assert people.nobody not in accounts(runtime)
