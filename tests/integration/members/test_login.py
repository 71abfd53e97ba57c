"""Member log-in over HTTP on SQLite and PostgreSQL: JSON and plain form posts (303 to a safe
``next`` only), the same answer for an unknown address and a wrong password, rate limits per
address and per account, log-in CSRF, argon2 rehash, and staff actions on the member's record
(state, sessions, set a password, suspend / reactivate) with permissions and audit entries."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher, Type
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from api.audit.models import AuditEntry
from api.members.identity import safe_next
from api.members.models import MemberAccount
from api.runtime import Runtime
from tests.fixtures.app import StaffClient
from tests.integration.members.conftest import PASSWORD, Members

FORM = {"content-type": "application/x-www-form-urlencoded"}


def post_form(client: TestClient[Litestar], data: dict[str, str], **headers: str) -> Any:
    return client.post("/api/members/login", data=data, headers=headers, follow_redirects=False)


def test_form_login_goes_to_a_safe_next_only(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    good = {"email": "doctor@example.jp", "password": PASSWORD}
    response = post_form(client, {**good, "next": "/members/seminar/?a=1"})
    assert response.status_code == 303 and response.headers["location"] == "/members/seminar/?a=1"
    assert client.cookies.get(runtime.member_auth.access_name)
    for unsafe in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\tx", ""):
        client.cookies.clear()
        response = post_form(client, {**good, "next": unsafe})
        assert response.status_code == 303 and response.headers["location"] == "/", unsafe
    client.cookies.clear()
    response = post_form(client, {**good, "password": "wrong password", "next": "/members/x/"})
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login/"
    assert parse_qs(location.query) == {"error": ["invalid"], "next": ["/members/x/"]}
    assert not client.cookies.get(runtime.member_auth.access_name)
    # Log-out by a form: 303 to / and the cookies cleared.
    post_form(client, good)
    response = client.post("/api/members/logout", data={"x": ""}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.get("/api/members/me").json()["member"] is None


def test_safe_next() -> None:
    assert safe_next("/a/b/?x=1#y") == "/a/b/?x=1#y"
    for bad in (
        None,
        "",
        "a/b",
        "//x",
        "/\\x",
        "\\\\x",
        "/a\nb",
        "/a\x00",
        "https://x/",
        "/" * 2001,
    ):
        assert safe_next(bad) is None, bad


def test_cross_site_login_and_logout_are_refused(
    client: TestClient[Litestar], people: Members
) -> None:
    good = {"email": "doctor@example.jp", "password": PASSWORD}
    assert post_form(client, good, origin="https://evil.example").status_code == 403
    assert post_form(client, good, origin="null").status_code == 403
    assert post_form(client, good, **{"sec-fetch-site": "cross-site"}).status_code == 403
    assert post_form(client, good, origin="http://testserver.local").status_code == 303
    response = client.post(
        "/api/members/logout", headers={"origin": "https://evil.example"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/api/members/me").json()["member"] is not None


def test_unknown_address_and_wrong_password_get_the_same_answer(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    answers = []
    for email, password in (
        ("doctor@example.jp", "wrong password!"),
        ("nobody@example.jp", PASSWORD),  # a record without a password
        ("unknown@example.jp", PASSWORD),
        ("not an address\x00", PASSWORD),
    ):
        response = client.post("/api/members/login", json={"email": email, "password": password})
        body = response.json()
        answers.append((response.status_code, body["detail"], body.get("code")))
    assert len(set(answers)) == 1 and answers[0][0] == 401
    with runtime.db.transaction() as session:
        account = session.exec(
            select(MemberAccount).where(MemberAccount.record_id == people.doctor)
        ).one()
    assert account.failed_attempts == 1 and account.last_failed_at is not None
    # The address is matched after the same normalisation as every write (width, case).
    response = client.post(
        "/api/members/login", json={"email": "ＤＯＣＴＯＲ@Example.jp", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_rate_limits_per_address_and_per_account(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    for _ in range(5):  # failures for one account from one address
        response = client.post(
            "/api/members/login", json={"email": "doctor@example.jp", "password": "nope nope"}
        )
        assert response.status_code == 401
    response = client.post(
        "/api/members/login", json={"email": "doctor@example.jp", "password": PASSWORD}
    )
    assert response.status_code == 429 and response.headers["retry-after"] == "900"
    # A form post shows the login page again with the reason.
    response = post_form(
        client, {"email": "doctor@example.jp", "password": PASSWORD, "next": "/m/"}
    )
    assert response.status_code == 303
    assert "error=rate_limited" in response.headers["location"]
    # Another account from the same address still logs in, until the per-address limit.
    response = client.post(
        "/api/members/login", json={"email": "pharma@example.jp", "password": PASSWORD}
    )
    assert response.status_code == 200
    limit = runtime.settings.login_rate_limit
    statuses = [
        client.post(
            "/api/members/login", json={"email": "x@example.jp", "password": "whatever it is"}
        ).status_code
        for _ in range(limit)
    ]
    assert (
        statuses[-1] == 429
        and "try again"
        in client.post(
            "/api/members/login", json={"email": "x@example.jp", "password": "p"}
        ).json()["detail"]
    )


def test_an_account_with_many_failures_is_slowed_down_then_logs_in(
    client: TestClient[Litestar], runtime: Runtime, people: Members, monkeypatch: Any
) -> None:
    """Past the account's failure threshold, the right password still logs in, after a delay
    waited on the event loop (then the password is checked in a second thread hop)."""
    from api.members import controllers
    from api.members import services as members
    from api.security import login as throttle

    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(controllers, "asyncio", SimpleNamespace(sleep=sleep))
    attempt = members.begin_login(runtime.counters, email="doctor@example.jp", ip="192.0.2.9")
    for _ in range(throttle.ACCOUNT_SLOWDOWN_AFTER + 1):  # failures from other addresses
        attempt.failed(runtime.counters)
    response = client.post(
        "/api/members/login", json={"email": "doctor@example.jp", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert waited == [throttle.login_delay(throttle.ACCOUNT_SLOWDOWN_AFTER + 1)]
    assert response.json()["member"]["email"] == "doctor@example.jp"
    response = client.post(
        "/api/members/login", json={"email": "doctor@example.jp", "password": "nope nope"}
    )
    assert response.status_code == 401 and len(waited) == 2


def test_a_hash_with_old_parameters_is_rehashed_at_login(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    with runtime.db.transaction() as session:
        account = session.exec(
            select(MemberAccount).where(MemberAccount.record_id == people.pharmacist)
        ).one()
        account.password_hash = old.hash(PASSWORD)
        session.add(account)
    response = client.post(
        "/api/members/login", json={"email": "pharma@example.jp", "password": PASSWORD}
    )
    assert response.status_code == 200
    with runtime.db.transaction() as session:
        account = session.exec(
            select(MemberAccount).where(MemberAccount.record_id == people.pharmacist)
        ).one()
    assert "m=19456,t=2,p=1" in (account.password_hash or "")
    assert account.last_login_at is not None


def test_staff_see_and_change_a_members_login(
    client: TestClient[Litestar],
    runtime: Runtime,
    people: Members,
    login_as: Callable[[str], StaffClient],
) -> None:
    member = TestClient(client.app, base_url="http://testserver.local")
    with member:
        assert member.post(
            "/api/members/login", json={"email": "doctor@example.jp", "password": PASSWORD},
            headers={"user-agent": "Member Browser 1.0"},
        ).status_code == 200  # fmt: skip
        viewer = login_as("viewer")
        state = viewer.get(f"/api/members/accounts/{people.doctor}").json()
        assert state["status"] == "active" and state["can_log_in"] is True
        assert state["email"] == "doctor@example.jp" and state["login_field"] == "email"
        assert state["last_login_at"] is not None
        (session,) = state["sessions"]
        assert session["user_agent"] == "Member Browser 1.0"
        assert viewer.post(f"/api/members/accounts/{people.doctor}/sessions/end").status_code == 403
        nobody = viewer.get(f"/api/members/accounts/{people.nobody}").json()
        assert nobody["status"] == "none" and nobody["can_log_in"] is False
        assert viewer.get("/api/members/accounts/999999").status_code == 404

        marketer = login_as("marketer")
        url = f"/api/members/accounts/{people.doctor}"
        assert marketer.delete(f"{url}/sessions/{session['id']}").status_code == 204
        assert member.get("/api/members/me").json()["member"] is None  # ended at once
        assert (
            marketer.request("PUT", f"{url}/password", json={"password": "short"}).status_code
            == 422
        )
        response = marketer.request(
            "PUT", f"{url}/password", json={"password": "a new member password 7"}
        )
        assert response.status_code == 200 and response.json()["password_changed_at"]
        assert member.post(
            "/api/members/login",
            json={"email": "doctor@example.jp", "password": "a new member password 7"},
        ).status_code == 200  # fmt: skip
        response = marketer.request("PUT", f"{url}/status", json={"status": "suspended"})
        assert response.json()["status"] == "suspended" and response.json()["sessions"] == []
        assert member.get("/api/members/me").json()["member"] is None
        response = marketer.request("PUT", f"{url}/status", json={"status": "active"})
        assert response.json()["status"] == "active"
        # A password for a record that had none gives it an account.
        response = marketer.request(
            "PUT",
            f"/api/members/accounts/{people.nobody}/password",
            json={"password": "nobody's password 42"},
        )
        assert response.json()["can_log_in"] is True
    with runtime.db.transaction() as session_:
        actions = [
            a.action
            for a in session_.exec(select(AuditEntry).where(AuditEntry.target_type == "member"))
        ]
    assert {"members.session.end", "members.password.set", "members.suspend",
            "members.reactivate"} <= set(actions)  # fmt: skip


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_only_marketers_and_admins_change_member_logins(
    people: Members, login_as: Callable[[str], StaffClient], role: str
) -> None:
    staff = login_as(role)
    url = f"/api/members/accounts/{people.doctor}"
    assert staff.get(url).status_code == 200
    assert staff.request("PUT", f"{url}/status", json={"status": "suspended"}).status_code == 403


def test_a_deleted_member_is_logged_out_and_their_account_swept(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    from api.customers import records
    from api.members import services as members
    from api.principal import cli_principal

    assert client.post(
        "/api/members/login", json={"email": "pharma@example.jp", "password": PASSWORD}
    ).status_code == 200  # fmt: skip
    with runtime.db.transaction() as session:
        records.delete_record(session, cli_principal("tests"), "members", people.pharmacist)
    assert client.get("/api/members/me").json()["member"] is None
    with runtime.db.transaction() as session:
        assert members.sweep_accounts(session) == 1
        assert members.sweep_accounts(session) == 0
        left = session.exec(select(MemberAccount.record_id)).all()
    assert sorted(left) == [people.doctor]


def test_login_answers_the_profile_read_in_its_own_transaction(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    """The log-in's answer and /me's profile come from the row the log-in's transaction read
    (no second read of the member afterwards), and say the same."""
    response = client.post(
        "/api/members/login", json={"email": "doctor@example.jp", "password": PASSWORD}
    )
    assert response.status_code == 200
    member = response.json()["member"]
    assert member["email"] == "doctor@example.jp" and member["name"] == "医師 一郎"
    assert member["id"] and member["id"] == client.get("/api/members/me").json()["member"]["id"]
    cached = [p for _, p in runtime.member_auth._profiles.values() if p is not None]
    assert [p["email"] for p in cached] == ["doctor@example.jp"]
