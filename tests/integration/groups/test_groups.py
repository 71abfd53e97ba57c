"""Groups on SQLite and PostgreSQL: create, rename (the key stays), delete (only empty, or
forced), members added and removed by id and in bulk (a job over a view), history rows on the
member's record and audit entries, a record's groups, permissions, the sweep of deleted
records."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from api.audit.models import AuditEntry
from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.customers.models import RecordHistory
from api.errors import Conflict, NotFound, ValidationFailed
from api.groups import bulk
from api.groups import services as groups
from api.jobs.models import JobState
from api.jobs.runner import run_job
from api.principal import Principal
from api.runtime import Runtime
from tests.fixtures.app import StaffClient


@pytest.fixture
def members(runtime: Runtime, actor: Principal) -> list[int]:
    """A member table with six members (four in Tokyo) and another table."""
    with runtime.db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "orgs"}), [parse_field({"key": "n", "type": "text"})]
        )  # fmt: skip
        services.create_table(
            session,
            actor,
            parse_table({"key": "members", "is_member_table": True}),
            [
                parse_field({"key": "name", "type": "text"}),
                parse_field({"key": "city", "type": "text"}),
            ],
        )
        ids = [
            records.create_record(
                session, actor, "members", {"name": f"m{n}", "city": "東京" if n <= 4 else "大阪"}
            )["id"]
            for n in range(1, 7)
        ]
    return ids


def codes(exc: pytest.ExceptionInfo[Any]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


def history(runtime: Runtime, record_id: int) -> list[dict[str, Any]]:
    """The record's history rows about groups, oldest first."""
    with runtime.db.read() as session:
        return [
            {"source": h.source, "batch_id": h.batch_id, "changes": h.changes}
            for h in session.exec(
                select(RecordHistory)
                .where(RecordHistory.record_id == record_id, col(RecordHistory.action) == "update")
                .order_by(col(RecordHistory.id))
            ).all()
            if "groups" in h.changes
        ]


def test_create_rename_delete(runtime: Runtime, actor: Principal, members: list[int]) -> None:
    with runtime.db.transaction() as session:
        groups.create_group(session, actor, "doctors", {"ja": "医師", "en": "Doctors"}, "医師会員")
    with runtime.db.transaction() as session, pytest.raises(Conflict) as taken:
        groups.create_group(session, actor, "doctors", "again")
    assert taken.value.code == "group_key_taken"
    for bad, code in [("Doctors", "invalid_group_key"), ("1a", "invalid_group_key"),
                      ("", "required"), ("a" * 51, "too_long")]:  # fmt: skip
        with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as exc:
            groups.create_group(session, actor, bad, "x")
        assert codes(exc) == [("key", code)]
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as exc:
        groups.create_group(session, actor, "nurses", {"fr": "x"})
    assert codes(exc) == [("label.fr", "unknown_field")]

    with runtime.db.transaction() as session:
        groups.update_group(
            session, actor, "doctors", label={"ja": "医師・歯科医師", "en": "Doctors"}
        )
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as exc:
        groups.update_group(session, actor, "doctors", new_key="physicians")
    assert codes(exc) == [("key", "key_immutable")]
    with runtime.db.read() as session:
        group = groups.get_group(session, "doctors")
        assert group.label == {"ja": "医師・歯科医師", "en": "Doctors"}
        assert group.description == "医師会員"
        entries = session.exec(
            select(AuditEntry).where(col(AuditEntry.action).startswith("groups."))
        ).all()
        assert [e.action for e in entries] == ["groups.group.create", "groups.group.update"]
        assert entries[1].before == {"label": {"ja": "医師", "en": "Doctors"}}

    with runtime.db.transaction() as session:
        groups.change_members(session, actor, "doctors", members[:2], add=True)
    with runtime.db.transaction() as session, pytest.raises(Conflict) as not_empty:
        groups.delete_group(session, actor, "doctors")
    assert not_empty.value.code == "group_not_empty"
    assert not_empty.value.extra == {"members": 2}
    with runtime.db.transaction() as session:
        assert groups.delete_group(session, actor, "doctors", force=True) == 2
    with runtime.db.read() as session, pytest.raises(NotFound):
        groups.get_group(session, "doctors")
    # the members' records say they left the group
    last = history(runtime, members[0])[-1]
    assert last["source"] == "groups"
    assert last["changes"] == {"groups": {"before": ["doctors"], "after": []}}


def test_members_added_removed_listed(
    runtime: Runtime, actor: Principal, members: list[int]
) -> None:
    with runtime.db.transaction() as session:
        groups.create_group(session, actor, "doctors", "医師")
        groups.create_group(session, actor, "pharmacists", "薬剤師")
    with runtime.db.transaction() as session:
        assert groups.change_members(session, actor, "doctors", members[:3], add=True) == (3, 0)
        assert groups.change_members(session, actor, "doctors", members[:4], add=True) == (1, 3)
        groups.change_members(session, actor, "pharmacists", [members[0]], add=True)
    # unknown record ids: refused as a whole, naming them
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as exc:
        groups.change_members(session, actor, "doctors", [members[4], 999_999], add=True)
    assert codes(exc) == [("record_ids", "member_not_found")]
    assert "999999" in exc.value.errors[0].message
    with runtime.db.read() as session:
        page = groups.list_members(session, actor, "doctors", offset=1, limit=2)
        assert page.total == 4
        assert [m["id"] for m in page.items] == members[1:3]
        assert page.items[0]["label"] == "m2"
        assert groups.groups_of(session, groups.member_design(session).table.id or 0, members) == {
            members[0]: ["doctors", "pharmacists"],
            members[1]: ["doctors"],
            members[2]: ["doctors"],
            members[3]: ["doctors"],
        }
        assert {i.group.key: i.members for i in groups.list_groups(session)} == {
            "doctors": 4,
            "pharmacists": 1,
        }
    with runtime.db.transaction() as session:
        assert groups.change_members(session, actor, "doctors", members[:2], add=False) == (2, 0)
    steps = [h["changes"]["groups"] for h in history(runtime, members[0])]
    assert steps == [
        {"before": [], "after": ["doctors"]},
        {"before": ["doctors"], "after": ["doctors", "pharmacists"]},
        {"before": ["doctors", "pharmacists"], "after": ["pharmacists"]},
    ]
    # the record's own version is untouched (an open edit form stays valid)
    with runtime.db.read() as session:
        assert records.get_record(session, actor, "members", members[0])["version"] == 1

    # a record's groups set at once
    with runtime.db.transaction() as session:
        groups.set_record_groups(session, actor, members[5], ["doctors", "pharmacists"])
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as exc:
        groups.set_record_groups(session, actor, members[5], ["doctors", "nurses"])
    assert codes(exc) == [("groups", "group_not_found")]
    with runtime.db.transaction() as session:
        groups.set_record_groups(session, actor, members[5], ["pharmacists"])
    with runtime.db.read() as session:
        _, found = groups.record_groups(session, actor, members[5])
        assert [g.key for g in found] == ["pharmacists"]
        with pytest.raises(NotFound):
            groups.record_groups(session, actor, 999_999)


def test_deleted_records_are_not_listed_and_are_swept(
    runtime: Runtime, actor: Principal, members: list[int]
) -> None:
    with runtime.db.transaction() as session:
        groups.create_group(session, actor, "doctors", "医師")
        groups.change_members(session, actor, "doctors", members[:3], add=True)
    with runtime.db.transaction() as session:
        records.delete_record(session, actor, "members", members[0])
    with runtime.db.read() as session:
        assert groups.list_members(session, actor, "doctors").total == 2
    with runtime.db.transaction() as session:
        assert groups.sweep(session) == 1
        assert groups.sweep(session) == 0


def test_no_member_table(runtime: Runtime, actor: Principal) -> None:
    with runtime.db.transaction() as session:
        groups.create_group(session, actor, "doctors", "医師")
    with runtime.db.transaction() as session, pytest.raises(Conflict) as exc:
        groups.change_members(session, actor, "doctors", [1], add=True)
    assert exc.value.code == "no_member_table"
    with runtime.db.read() as session:
        assert groups.list_members(session, actor, "doctors").total == 0


def test_bulk_add_and_remove_over_a_filter(
    runtime: Runtime, actor: Principal, members: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 3)
    tokyo = {"field": "city", "op": "eq", "value": "東京"}
    with runtime.db.transaction() as session:
        groups.create_group(session, actor, "tokyo", "東京")
        groups.change_members(session, actor, "tokyo", [members[0]], add=True)
        job_id, count = bulk.start(session, actor, "tokyo", "add", where=tokyo)
    assert count == 4
    assert run_job(runtime, bulk.KIND, job_id) == JobState.done
    with runtime.db.read() as session:
        assert bulk.report(session, "tokyo", job_id) == {"state": "done", "done": 3,
                                                         "unchanged": 1}  # fmt: skip
        with pytest.raises(NotFound):  # another group's, or another kind of job: not found
            bulk.report(session, "doctors", job_id)
        page = groups.list_members(session, actor, "tokyo")
        assert [m["id"] for m in page.items] == members[:4]
    rows = history(runtime, members[1])
    assert rows[-1]["source"] == "bulk"
    assert rows[-1]["batch_id"] == job_id
    with runtime.db.transaction() as session:
        job_id, count = bulk.start(session, actor, "tokyo", "remove", ids=members[:2])
    assert run_job(runtime, bulk.KIND, job_id) == JobState.done
    with runtime.db.read() as session:
        assert [m["id"] for m in groups.list_members(session, actor, "tokyo").items] == members[2:4]
        actions = [
            e.action
            for e in session.exec(
                select(AuditEntry).where(col(AuditEntry.action).startswith("groups.bulk"))
            ).all()
        ]
        assert actions == ["groups.bulk.add", "groups.bulk.remove"]
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed) as exc:
        bulk.start(session, actor, "tokyo", "toggle", ids=members[:1])
    assert codes(exc) == [("action", "invalid_choice")]


def test_api(login_as: Callable[[str], StaffClient], runtime: Runtime, members: list[int]) -> None:
    viewer = login_as("viewer")
    marketer = login_as("marketer")
    assert viewer.post("/api/groups", json={"key": "a", "label": "A"}).status_code == 403
    made = marketer.post(
        "/api/groups", json={"key": "doctors", "label": {"ja": "医師", "en": "Doctors"}}
    )
    assert made.status_code == 201, made.text
    assert made.json()["rule"] == "group:doctors"
    bad = marketer.post("/api/groups", json={"key": "Bad Key", "label": "x"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "key"
    renamed = marketer.patch(
        "/api/groups/doctors", json={"label": {"ja": "医師会員", "en": "Doctors"}}
    )
    assert renamed.status_code == 200 and renamed.json()["label"]["ja"] == "医師会員"
    rekey = marketer.patch("/api/groups/doctors", json={"key": "docs"})
    assert rekey.status_code == 422 and rekey.json()["errors"][0]["code"] == "key_immutable"

    added = marketer.post("/api/groups/doctors/members", json={"record_ids": members[:2]})
    assert added.json() == {"changed": 2, "unchanged": 0}
    listed = viewer.get("/api/groups/doctors/members", params={"limit": 1})
    assert listed.status_code == 200
    assert listed.json()["total"] == 2 and len(listed.json()["items"]) == 1
    assert viewer.get("/api/groups").json()["items"][0]["members"] == 2
    assert viewer.get("/api/groups").json()["member_table"] == "members"
    mine = viewer.get(f"/api/member-groups/{members[0]}")
    assert [g["key"] for g in mine.json()["groups"]] == ["doctors"]
    assert (
        viewer.request("PUT", f"/api/member-groups/{members[0]}", json={"groups": []}).status_code
        == 403
    )
    cleared = marketer.request("PUT", f"/api/member-groups/{members[0]}", json={"groups": []})
    assert cleared.status_code == 200 and cleared.json()["groups"] == []
    removed = marketer.post("/api/groups/doctors/members/remove", json={"record_ids": members[:2]})
    assert removed.json() == {"changed": 1, "unchanged": 1}

    started = marketer.post(
        "/api/groups/doctors/bulk",
        json={"action": "add", "where": {"field": "city", "op": "eq", "value": "大阪"}},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    run_job(runtime, bulk.KIND, job_id)  # or the app's in-process worker ran it
    for _ in range(100):
        report = marketer.get(f"/api/groups/doctors/bulk/{job_id}").json()
        if report["state"] == "done":
            break
        time.sleep(0.1)
    assert report["state"] == "done" and report["done"] == 2

    assert marketer.delete("/api/groups/doctors").status_code == 409
    assert marketer.delete("/api/groups/doctors", params={"force": "true"}).status_code == 204
    assert viewer.get("/api/groups/doctors").status_code == 404


def test_merged_members_keep_their_groups(
    runtime: Runtime, actor: Principal, members: list[int]
) -> None:
    """Merging member records: the survivor joins every group of the sources (history row,
    recorded on the merge) and keeps its own."""
    from api.customers.merge import MERGE_KEY, merge_records

    survivor, source_a, source_b = members[:3]
    with runtime.db.transaction() as session:
        for key in ("doctors", "pharmacists", "staff"):
            groups.create_group(session, actor, key, key)
        groups.change_members(session, actor, "staff", [survivor], add=True)
        groups.change_members(session, actor, "doctors", [source_a, source_b], add=True)
        groups.change_members(session, actor, "pharmacists", [source_b], add=True)
    with runtime.db.read() as session:
        versions = {
            i: records.get_record(session, actor, "members", i)["version"]
            for i in (survivor, source_a, source_b)
        }
    with runtime.db.transaction() as session:
        merge_records(
            session, actor, "members", survivor=survivor, sources=[source_a, source_b],
            values={}, versions=versions,
        )  # fmt: skip
    with runtime.db.read() as session:
        keys = groups.groups_of(session, session.exec(
            select(services.CustomerTable.id).where(services.CustomerTable.key == "members")
        ).one(), [survivor])[survivor]  # fmt: skip
        merged = (
            session.exec(
                select(RecordHistory).where(
                    RecordHistory.record_id == survivor, col(RecordHistory.action) == "merge"
                )
            )
            .one()
            .changes
        )
    assert keys == ["doctors", "pharmacists", "staff"]
    assert merged[MERGE_KEY]["groups"] == ["doctors", "pharmacists"]
    assert [h["changes"]["groups"]["after"] for h in history(runtime, survivor)] == [
        ["staff"],
        ["doctors", "staff"],
        ["doctors", "pharmacists", "staff"],
    ]
