"""Bulk actions on a selection or a whole view, on SQLite and PostgreSQL: each action as a job
in batches, status transitions, sales staff and their own records, history and audit rows, a
record changed after the job was created (skipped and reported), the API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from api.audit.models import AuditEntry
from api.customers import bulk, records, services
from api.customers.definitions import parse_field, parse_table
from api.customers.models import RecordHistory
from api.errors import PermissionDenied, ValidationFailed
from api.jobs.models import JobState
from api.jobs.runner import run_job
from api.principal import Principal
from api.runtime import Runtime
from api.staff.models import Staff
from api.staff.services import principal_for_staff
from tests.fixtures.app import StaffClient


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 3)


@pytest.fixture
def table(runtime: Runtime, actor: Principal) -> str:
    with runtime.db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "orgs"}), [parse_field({"key": "n", "type": "text"})]
        )  # fmt: skip
        services.create_table(
            session,
            actor,
            parse_table(
                {
                    "key": "customers",
                    "statuses": ["lead", "won", "lost"],
                    "transitions": {"lead": ["won", "lost"], "won": ["lost"], "lost": ["lead"]},
                }
            ),
            [
                parse_field({"key": "name", "type": "text"}),
                parse_field({"key": "city", "type": "text"}),
                parse_field({"key": "email", "type": "email", "unique": True}),
                parse_field({"key": "score", "type": "integer"}),
            ],
        )
        for n in range(1, 9):
            records.create_record(
                session, actor, "customers", {"name": f"n{n}", "city": "東京" if n <= 6 else "大阪"}
            )
    return "customers"


def ids(runtime: Runtime, actor: Principal, **where: Any) -> list[int]:
    with runtime.db.read() as session:
        page = records.list_records(session, actor, "customers", limit=100, **where)
        return sorted(r["id"] for r in page.items)


def run(runtime: Runtime, job_id: int) -> dict[str, Any]:
    assert run_job(runtime, bulk.KIND, job_id) == JobState.done
    with runtime.db.read() as session:
        out = bulk.report(session, "customers", job_id)
    assert out.pop("state") == "done"
    return out


def rows(runtime: Runtime, actor: Principal) -> dict[int, dict[str, Any]]:
    with runtime.db.read() as session:
        page = records.list_records(session, actor, "customers", limit=100)
        return {r["id"]: r for r in page.items}


TOKYO = {"field": "city", "op": "eq", "value": "東京"}


def test_set_a_field_on_a_filter_in_batches_with_history_and_audit(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    with runtime.db.transaction() as session:
        job_id, count = bulk.start(
            session, actor, table, "set_field", where=TOKYO, field="score", value="４２"
        )
    assert count == 6
    report = run(runtime, job_id)
    assert report == {"done": 6, "unchanged": 0, "skipped_count": 0, "skipped": []}
    found = rows(runtime, actor)
    assert (
        sorted(r["values"]["score"] for r in found.values() if r["values"]["city"] == "東京")
        == [42] * 6
    )
    assert all(
        r["values"]["score"] is None for r in found.values() if r["values"]["city"] == "大阪"
    )
    assert all(r["version"] == 2 for r in found.values() if r["values"]["city"] == "東京")
    with runtime.db.read() as session:
        entries = session.exec(select(RecordHistory).where(RecordHistory.source == "bulk")).all()
        assert len(entries) == 6
        assert entries[0].changes == {"score": {"before": None, "after": 42}}
        assert entries[0].version == 2 and entries[0].actor_label == "tests"
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.action == "customers.bulk.set_field")
        ).one()
        assert audit.target_id == "customers" and (audit.after or {})["records"] == 6
        assert (audit.after or {})["job_id"] == job_id
    with runtime.db.transaction() as session:  # again: nothing to change
        again, _ = bulk.start(session, actor, table, "set_field", where=TOKYO, field="score",
                              value=42)  # fmt: skip
    assert run(runtime, again)["unchanged"] == 6


def test_bad_requests_are_refused_before_any_job(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"action": "paint"}, "action"),
        ({"action": "set_field", "field": "nope"}, "field"),
        ({"action": "set_field", "field": "email", "value": "a@example.com"}, "field"),
        ({"action": "set_field", "field": "score", "value": "many"}, "value"),
        ({"action": "status", "status": "gone"}, "status"),
        ({"action": "owner", "owner_id": 999_999}, "owner_id"),
        ({"action": "delete", "where": {"field": "city", "op": "eq", "value": "京都"}}, "records"),
    ]
    for body, field in cases:
        action = body.pop("action")
        with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as refused:
            bulk.start(session, actor, table, action, **body)
        assert refused.value.errors[0].field == field, (action, refused.value.errors)


def test_status_respects_transitions_and_a_changed_record_is_skipped(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    everyone = ids(runtime, actor)
    with runtime.db.transaction() as session:
        records.update_record(session, actor, table, everyone[0], {}, version=1, status="lost")
        job_id, count = bulk.start(session, actor, table, "status", ids=everyone, status="won")
    assert count == 8
    # someone edits a record after the bulk action was confirmed, before its batch runs
    with runtime.db.transaction() as session:
        records.update_record(session, actor, table, everyone[3], {"name": "edited"}, version=1)
        records.delete_record(session, actor, table, everyone[5])
    report = run(runtime, job_id)
    assert report["done"] == 5 and report["skipped_count"] == 3
    assert {(s["record_id"], s["reason"]) for s in report["skipped"]} == {
        (everyone[0], "transition_not_allowed"),
        (everyone[3], "changed"),
        (everyone[5], "gone"),
    }
    found = rows(runtime, actor)
    assert (
        found[everyone[3]]["status"] == "lead" and found[everyone[3]]["values"]["name"] == "edited"
    )
    assert found[everyone[0]]["status"] == "lost" and found[everyone[1]]["status"] == "won"


def test_sales_change_only_their_own_records(
    runtime: Runtime, actor: Principal, table: str, make_staff: Callable[..., Staff]
) -> None:
    rep_row, other_row = make_staff("sales"), make_staff("sales")
    rep = principal_for_staff(rep_row)
    with runtime.db.transaction() as session:
        mine = records.create_record(session, rep, table, {"name": "mine", "city": "東京"})
        with pytest.raises(PermissionDenied):
            bulk.start(session, rep, table, "owner", where=TOKYO, owner_id=other_row.id)
    with runtime.db.transaction() as session:
        job_id, count = bulk.start(session, rep, table, "set_field", where=TOKYO, field="score",
                                   value=1)  # fmt: skip
    assert count == 7  # the table is not owner-only: they see all seven
    report = run(runtime, job_id)
    assert report["done"] == 1 and report["skipped_count"] == 6
    assert {s["reason"] for s in report["skipped"]} == {"not_owner"}
    found = rows(runtime, actor)
    assert [r["id"] for r in found.values() if r["values"]["score"] == 1] == [mine["id"]]


def test_owner_change_and_delete(
    runtime: Runtime, actor: Principal, table: str, make_staff: Callable[..., Staff]
) -> None:
    rep = make_staff("sales")
    everyone = ids(runtime, actor)
    with runtime.db.transaction() as session:
        job_id, _ = bulk.start(session, actor, table, "owner", ids=everyone[:4], owner_id=rep.id)
    assert run(runtime, job_id)["done"] == 4
    assert [r["owner_id"] for r in rows(runtime, actor).values()].count(rep.id) == 4
    # a record another table refers to is not deleted
    with runtime.db.transaction() as session:
        services.add_field(session, actor, "orgs", parse_field(
            {"key": "contact", "type": "reference", "references": "customers"}))  # fmt: skip
        records.create_record(session, actor, "orgs", {"n": "x", "contact": everyone[7]})
        job_id, count = bulk.start(session, actor, table, "delete", where={
            "field": "city", "op": "eq", "value": "大阪"})  # fmt: skip
    assert count == 2
    report = run(runtime, job_id)
    assert report["done"] == 1 and report["skipped"] == [
        {"record_id": everyone[7], "reason": "in_use"}
    ]
    assert sorted(rows(runtime, actor)) == [*everyone[:6], everyone[7]]
    with runtime.db.read() as session:
        deleted = session.exec(select(RecordHistory).where(RecordHistory.action == "delete")).one()
        assert deleted.record_id == everyone[6] and deleted.source == "bulk"
        assert deleted.changes["name"] == {"before": "n7", "after": None}
    with runtime.db.read() as session:  # the search data went with the record
        assert records.list_records(session, actor, table, q="n7").items == []


def test_api_starts_the_job_and_reports(
    login_as: Callable[[str], StaffClient], runtime: Runtime, table: str
) -> None:
    viewer = login_as("viewer")
    base = "/api/customers/tables/customers/bulk"
    assert viewer.post(base, json={"action": "delete", "ids": [1]}).status_code == 403
    marketer = login_as("marketer")
    started = marketer.post(base, json={"action": "status", "status": "won", "where": TOKYO})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["count"] == 6
    run_job(runtime, bulk.KIND, body["job_id"])  # or the app's in-process worker ran it
    for _ in range(100):
        report = marketer.get(f"{base}/{body['job_id']}").json()
        if report["state"] == "done":
            break
        time.sleep(0.1)
    assert report["state"] == "done" and report["done"] == 6
    job = marketer.get(f"/api/jobs/{body['job_id']}")
    assert job.status_code == 200
    bad = marketer.post(base, json={"action": "status", "status": "won", "colour": "red"})
    assert bad.status_code == 400 or bad.status_code == 422
    assert marketer.get(f"{base}/999999").status_code == 404
