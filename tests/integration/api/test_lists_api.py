"""Lists: the audit log (filters that behave the same on both databases, page numbers as
before, cursors for any depth, a total that says whether it is exact) and staff search."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from api.audit.models import AuditEntry
from api.runtime import Runtime
from api.staff.models import Staff
from tests.fixtures.app import StaffClient, login


def _entries(admin: StaffClient, **params: Any) -> dict[str, Any]:
    response = admin.get("/api/audit", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _bulk(runtime: Runtime, count: int, *, instants: int, action: str = "bulk.test") -> None:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "at": base + timedelta(seconds=i % instants),
            "actor_type": "system",
            "actor_label": f"Importer {i}",
            "action": action,
        }
        for i in range(count)
    ]
    with runtime.db.transaction() as session:
        session.execute(sa.insert(AuditEntry), rows)


def test_actor_and_code_filters_ignore_case_on_both_databases(
    admin: StaffClient, make_staff: Callable[..., Staff]
) -> None:
    make_staff("viewer", email="elise@example.jp", name="Élise Ōtani")
    for actor in ("TESTS", "tests", "Tests"):  # make_staff records as the CLI principal "tests"
        body = _entries(admin, actor=actor, action="staff.create")
        assert body["total"] >= 2, (actor, body)
    created = _entries(admin, action="STAFF.CREATE", target_type="STAFF")["items"]
    assert any(e["after"]["email"] == "elise@example.jp" for e in created)
    # Non-ASCII letters fold too (SQLite's own lower() leaves É and Ō as they are).
    assert login(admin.client, "elise@example.jp").status_code == 200
    assert login(admin.client, admin.staff.email).status_code == 200  # back to the admin
    for actor in ("ÉLISE ŌTANI", "élise ōtani", "Élise"):
        found = _entries(admin, actor=actor, action="staff.login")
        assert [e["actor_label"] for e in found["items"]] == ["Élise Ōtani <elise@example.jp>"]


def test_page_numbers_still_work_and_carry_cursors(admin: StaffClient, runtime: Runtime) -> None:
    _bulk(runtime, 30, instants=4, action="bulk.pages")
    first = _entries(admin, action="bulk.pages", per_page=10)
    assert (first["total"], first["total_exact"], first["page"]) == (30, True, 1)
    assert first["prev_cursor"] is None and first["next_cursor"]
    pages = [first["items"]] + [
        _entries(admin, action="bulk.pages", per_page=10, page=n)["items"] for n in (2, 3)
    ]
    by_page = [e["id"] for items in pages for e in items]
    assert len(set(by_page)) == 30

    walked: list[int] = []
    body = first
    while True:
        walked += [e["id"] for e in body["items"]]
        if body["next_cursor"] is None:
            break
        body = _entries(admin, action="bulk.pages", per_page=10, cursor=body["next_cursor"])
    assert walked == by_page  # same order, ties on `at` broken by id, nothing twice

    back = _entries(admin, action="bulk.pages", per_page=10, cursor=body["prev_cursor"])
    assert [e["id"] for e in back["items"]] == by_page[10:20]
    # A page number's page also carries cursors to continue from.
    second = _entries(admin, action="bulk.pages", per_page=10, page=2)
    after = _entries(admin, action="bulk.pages", per_page=10, cursor=second["next_cursor"])
    assert [e["id"] for e in after["items"]] == by_page[20:30]


def test_a_huge_log_reports_an_estimated_total(admin: StaffClient, runtime: Runtime) -> None:
    _bulk(runtime, 10_050, instants=500)
    if runtime.db.dialect == "postgresql":
        with runtime.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE audit_log")
    body = _entries(admin, per_page=5)
    assert body["total_exact"] is False
    assert body["total"] >= 10_000
    assert len(body["items"]) == 5 and body["next_cursor"]
    small = _entries(admin, action="staff.login")
    assert small["total_exact"] is True and small["total"] == 1


def test_a_forged_cursor_is_a_422_naming_it(admin: StaffClient) -> None:
    response = admin.get("/api/audit", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "cursor"


def test_staff_search_ignores_case_on_both_databases(
    admin: StaffClient, make_staff: Callable[..., Staff]
) -> None:
    make_staff("viewer", email="elise@example.jp", name="Élise Ōtani")
    make_staff("viewer", email="bob@example.jp", name="Bob")
    for q in ("ÉLISE", "élise", "ōTANI", "ELISE@EXAMPLE", "Élise Ō"):
        response = admin.get("/api/staff/users", params={"q": q})
        assert response.status_code == 200, response.text
        assert [u["email"] for u in response.json()["items"]] == ["elise@example.jp"], q
