"""Check-then-write rules hold when requests really run at the same time, on both databases."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlmodel import col, select

from api.db import Database
from api.errors import Conflict
from api.principal import cli_principal
from api.staff import services
from api.staff.models import Staff
from tests.fixtures.app import PASSWORD


def test_eight_concurrent_creates_of_one_email_give_one_201_and_seven_409s(
    served_app: str, make_staff: Callable[..., Staff]
) -> None:
    admin = make_staff("admin")
    with httpx.Client(base_url=served_app, timeout=60) as client:
        login = client.post(
            "/api/staff/auth/login", json={"email": admin.email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        cookies, csrf = dict(client.cookies), login.json()["csrf_token"]
    body = {"email": "same@example.jp", "name": "Same", "role": "viewer", "password": PASSWORD}
    start = threading.Barrier(8)

    def create(_: int) -> httpx.Response:
        with httpx.Client(base_url=served_app, cookies=cookies, timeout=60) as own:
            start.wait()
            return own.post("/api/staff/users", json=body, headers={"X-CSRF-Token": csrf})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(create, range(8)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 7}, [(r.status_code, r.text[:200]) for r in responses]
    for response in responses:
        if response.status_code == 409:
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert problem["code"] == "email_taken"
            assert [e["field"] for e in problem["errors"]] == ["email"]


def _demote(db: Database, staff_id: int, changes: dict[str, Any], start: threading.Barrier) -> str:
    start.wait()
    try:
        with db.transaction() as session:
            services.update_staff(session, cli_principal("tests"), staff_id, dict(changes))
    except Conflict as exc:
        return exc.code
    return "ok"


ROUNDS = 10


def test_concurrent_demotions_never_leave_no_active_admin(db: Database) -> None:
    """Two admins are demoted at the same moment by two transactions: one must be refused
    (without the row lock, PostgreSQL lets both through)."""
    with db.transaction() as session:
        a, b = (
            services.create_staff(
                session, cli_principal("tests"), email=f"{n}@example.jp", name=n,
                role="admin", password=PASSWORD,
            ).id
            for n in ("first", "second")
        )  # fmt: skip
    assert a is not None and b is not None
    for _ in range(ROUNDS):
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(_demote, db, a, {"role": "viewer"}, start)
            second = pool.submit(_demote, db, b, {"is_active": False}, start)
            outcomes = sorted([first.result(), second.result()])
        assert outcomes == ["last_admin", "ok"], outcomes
        with db.transaction() as session:
            admins = session.exec(
                select(Staff).where(Staff.role == "admin", col(Staff.is_active))
            ).all()
            assert len(admins) == 1
            for staff in session.exec(select(Staff)).all():  # both admins again for the next round
                staff.role, staff.is_active = "admin", True
                session.add(staff)
