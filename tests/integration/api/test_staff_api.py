"""The staff JSON API through the real app: auth, roles, CSRF, tokens, problem details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.runtime import Runtime
from api.staff.models import Staff
from tests.fixtures.app import PASSWORD, StaffClient, login


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


def test_login_sets_httponly_cookie_and_no_bearer_header(
    client: TestClient[Litestar], make_staff: Callable[..., Staff]
) -> None:
    staff = make_staff("marketer")
    response = login(client, staff.email)
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "authorization" not in response.headers
    body = response.json()
    assert body["staff"]["email"] == staff.email and body["csrf_token"]
    assert "staff:write" not in body["permissions"] and "outbox:read" in body["permissions"]
    me = client.get("/api/staff/auth/me")
    assert me.status_code == 200 and me.json()["staff"]["role"] == "marketer"
    assert me.json()["password_policy"]["min_length"] == 12


def test_wrong_credentials(client: TestClient[Litestar], make_staff: Callable[..., Staff]) -> None:
    staff = make_staff()
    assert_problem(login(client, staff.email, "wrong password"), 401, "invalid_credentials")
    assert_problem(login(client, "nobody@example.jp"), 401, "invalid_credentials")
    assert "set-cookie" not in login(client, "nobody@example.jp").headers


def test_login_rate_limit_per_ip(client: TestClient[Litestar], runtime: Runtime) -> None:
    limit = runtime.settings.login_rate_limit
    for _ in range(limit):
        login(client, "nobody@example.jp")
    body = assert_problem(login(client, "nobody@example.jp"), 429, "rate_limited")
    assert "minute" in body["detail"]


def test_forged_expired_and_revoked_cookies(
    client: TestClient[Litestar], admin: StaffClient, runtime: Runtime
) -> None:
    from datetime import timedelta

    from api.db import utcnow
    from api.web.auth import STAFF_AUDIENCE

    good = client.cookies.get("kizuna_staff")
    assert good
    client.cookies.set("kizuna_staff", good[:-4] + "AAAA")
    assert_problem(client.get("/api/staff/auth/me"), 401, "unauthenticated")
    expired = runtime.keyring.encode_token(
        audience=STAFF_AUDIENCE, subject=str(admin.staff.id), token_id="x", lifetime=timedelta(minutes=1),
        now=utcnow() - timedelta(hours=1),
    )  # fmt: skip
    client.cookies.set("kizuna_staff", expired)
    assert_problem(client.get("/api/staff/auth/me"), 401, "unauthenticated")
    client.cookies.set("kizuna_staff", good)
    assert client.get("/api/staff/auth/me").status_code == 200
    assert admin.post("/api/staff/auth/logout").status_code == 204
    with runtime.db.transaction() as session:
        from api.audit import services as audit

        assert audit.list_entries(session, action="staff.logout")[1] == 1
    client.cookies.set("kizuna_staff", good)  # a copy of the cookie kept by an attacker
    assert_problem(client.get("/api/staff/auth/me"), 401, "unauthenticated")


def test_csrf_required_for_cookie_writes(admin: StaffClient) -> None:
    body = {"email": "new@example.jp", "name": "New", "role": "viewer", "password": PASSWORD}
    response = admin.client.post("/api/staff/users", json=body)
    assert_problem(response, 403, "csrf_failed")
    response = admin.client.post("/api/staff/users", json=body, headers={"X-CSRF-Token": "forged"})
    assert_problem(response, 403, "csrf_failed")
    assert admin.post("/api/staff/users", json=body).status_code == 201


def test_cross_site_login_is_refused(
    client: TestClient[Litestar], make_staff: Callable[..., Staff]
) -> None:
    staff = make_staff()
    response = client.post(
        "/api/staff/auth/login",
        json={"email": staff.email, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert_problem(response, 403, "cross_site")


ROLE_MATRIX = [
    ("GET", "/api/staff/users", {"admin"}),
    ("GET", "/api/staff/tokens", {"admin"}),
    ("GET", "/api/audit", {"admin"}),
    ("GET", "/api/outbox", {"admin", "marketer"}),
    ("GET", "/api/settings", {"admin", "marketer", "sales", "viewer"}),
    ("PATCH", "/api/settings", {"admin"}),
    ("POST", "/api/mail/test", {"admin", "marketer"}),
]


@pytest.mark.parametrize("role", ["admin", "marketer", "sales", "viewer"])
def test_roles_are_checked_on_every_endpoint(
    login_as: Callable[[str], StaffClient], role: str
) -> None:
    who = login_as(role)
    bodies = {"/api/settings": {"values": {}}, "/api/mail/test": {"to": "x@example.jp"}}
    for method, url, allowed in ROLE_MATRIX:
        response = who.request(method, url, json=bodies.get(url) if method != "GET" else None)
        if role in allowed:
            assert response.status_code < 400, (method, url, response.text)
        else:
            assert_problem(response, 403, "permission_denied")


def test_anonymous_gets_401_everywhere(client: TestClient[Litestar]) -> None:
    for method, url, _ in ROLE_MATRIX:
        assert_problem(client.request(method, url), 401, "unauthenticated")


def test_malformed_json_and_unknown_fields(admin: StaffClient) -> None:
    response = admin.post(
        "/api/staff/users", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
    body = {
        "email": "a@example.jp",
        "name": "A",
        "role": "viewer",
        "password": PASSWORD,
        "is_admin": True,
    }
    problem = assert_problem(admin.post("/api/staff/users", json=body), 422, "validation_failed")
    assert problem["errors"] == [
        {"field": "is_admin", "message": "is not a known field", "code": "unknown_field"}
    ]
    problem = assert_problem(
        admin.post("/api/staff/users", json={"email": "a@example.jp"}), 422, "validation_failed"
    )
    assert problem["errors"][0]["code"] == "required"
    users = admin.get("/api/staff/users").json()
    assert users["total"] == 1  # nothing was half-written


def test_staff_crud_and_audit(admin: StaffClient) -> None:
    created = admin.post(
        "/api/staff/users",
        json={
            "email": "Rep@Example.JP",
            "name": "営業 次郎",
            "role": "sales",
            "password": PASSWORD,
            "locale": "ja",
        },
    )
    assert created.status_code == 201, created.text
    rep = created.json()
    assert rep["email"] == "rep@example.jp"
    assert_problem(
        admin.post("/api/staff/users", json={"email": "rep@example.jp", "name": "x", "role": "sales", "password": PASSWORD}),
        409, "email_taken",
    )  # fmt: skip
    problem = assert_problem(
        admin.patch(f"/api/staff/users/{rep['id']}", json={"password": "123"}),
        422,
        "validation_failed",
    )
    assert {e["code"] for e in problem["errors"]} >= {"password_too_short"}
    updated = admin.patch(
        f"/api/staff/users/{rep['id']}", json={"role": "marketer", "is_active": False}
    )
    assert (
        updated.status_code == 200
        and updated.json()["role"] == "marketer"
        and not updated.json()["is_active"]
    )
    assert_problem(
        admin.patch(f"/api/staff/users/{admin.staff.id}", json={"role": "viewer"}),
        409,
        "cannot_change_self",
    )
    assert_problem(admin.get("/api/staff/users/999999"), 404, "staff_not_found")
    listing = admin.get("/api/staff/users", params={"q": "営業"}).json()
    assert [u["email"] for u in listing["items"]] == ["rep@example.jp"]
    audit = admin.get(
        "/api/audit", params={"target_type": "staff", "target_id": str(rep["id"])}
    ).json()
    actions = [e["action"] for e in audit["items"]]
    assert actions == ["staff.update", "staff.create"]
    update = audit["items"][0]
    assert update["before"] == {"role": "sales", "is_active": True}
    assert update["after"] == {"role": "marketer", "is_active": False}
    assert update["actor_type"] == "staff" and admin.staff.email in update["actor_label"]


def test_api_tokens_end_to_end(admin: StaffClient, client: TestClient[Litestar]) -> None:
    created = admin.post(
        "/api/staff/tokens", json={"name": "BI連携", "role": "viewer", "expires_in_days": 90}
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    token_id = created.json()["token"]["id"]
    listing = admin.get("/api/staff/tokens").json()
    assert secret not in str(listing)  # shown once only
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/settings", headers=bearer).status_code == 200
    assert_problem(client.get("/api/staff/users", headers=bearer), 403, "permission_denied")
    me = client.get("/api/staff/auth/me", headers=bearer).json()
    assert me["staff"] is None and me["principal"]["kind"] == "token"
    assert_problem(
        client.delete(f"/api/staff/tokens/{token_id}", headers=bearer), 403, "permission_denied"
    )


def test_bearer_writes_need_no_csrf_token(admin: StaffClient, client: TestClient[Litestar]) -> None:
    secret = admin.post("/api/staff/tokens", json={"name": "ops", "role": "admin"}).json()["secret"]
    client.cookies.clear()  # an integration: no cookie, so no CSRF risk and no CSRF header
    body = {"email": "api@example.jp", "name": "API", "role": "viewer", "password": PASSWORD}
    response = client.post(
        "/api/staff/users", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201, response.text
    entry = admin.client.get(
        "/api/audit",
        params={"action": "staff.create"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert entry.json()["items"][0]["actor_type"] == "token"


def test_revoked_token_is_refused_at_once(admin: StaffClient) -> None:
    secret = admin.post("/api/staff/tokens", json={"name": "x", "role": "admin"}).json()["secret"]
    token_id = admin.get("/api/staff/tokens").json()["items"][0]["id"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert admin.client.get("/api/staff/users", headers=bearer).status_code == 200
    assert admin.delete(f"/api/staff/tokens/{token_id}").status_code == 204
    assert_problem(
        admin.client.get("/api/staff/users", headers=bearer | {"Cookie": ""}),
        401,
        "unauthenticated",
    )


def test_settings_api(admin: StaffClient) -> None:
    items = {i["key"]: i for i in admin.get("/api/settings").json()["items"]}
    assert (
        items["password.min_length"]["value"] == 12
        and items["mail.sender_name"]["type"] == "string"
    )
    problem = assert_problem(
        admin.patch("/api/settings", json={"values": {"password.min_length": "x"}}),
        422,
        "validation_failed",
    )
    assert problem["errors"][0]["field"] == "password.min_length"
    ok = admin.patch("/api/settings", json={"values": {"mail.sender_name": "絆 事務局"}})
    assert {i["key"]: i["value"] for i in ok.json()["items"]}["mail.sender_name"] == "絆 事務局"


def test_the_site_time_zone_is_a_setting_the_admin_is_told(admin: StaffClient) -> None:
    assert admin.get("/api/staff/auth/me").json()["time_zone"] == "Asia/Tokyo"  # the default
    problem = assert_problem(
        admin.patch("/api/settings", json={"values": {"site.time_zone": "Mars/Olympus"}}),
        422,
        "validation_failed",
    )
    assert problem["errors"][0]["field"] == "site.time_zone"
    ok = admin.patch("/api/settings", json={"values": {"site.time_zone": "Europe/Paris"}})
    assert ok.status_code == 200, ok.text
    assert admin.get("/api/staff/auth/me").json()["time_zone"] == "Europe/Paris"


def test_openapi_schema_and_security_headers(client: TestClient[Litestar]) -> None:
    schema = client.get("/api/schema")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/staff/users" in paths
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert (
        len(ids) == len(set(ids)) and "staff_list_users" in ids
    )  # stable names for generated clients
    response = client.get("/api/health")
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"
    admin_page = client.get("/admin/")
    assert admin_page.status_code == 200
    assert "default-src 'self'" in admin_page.headers["content-security-policy"]


def test_unknown_api_path_is_a_problem(client: TestClient[Litestar]) -> None:
    assert_problem(client.get("/api/nope"), 404, "not_found")
    assert_problem(client.post("/api/staff/users/1"), 405, "method_not_allowed")


def test_own_account_name_language_and_password(
    admin: StaffClient, client: TestClient[Litestar]
) -> None:
    other_session = TestClient(client.app, base_url="http://testserver.local")
    assert login(other_session, admin.staff.email).status_code == 200
    response = admin.patch("/api/staff/auth/me", json={"name": "管理　太郎 ", "locale": "en"})
    assert response.status_code == 200, response.text
    assert (
        response.json()["staff"]["name"] == "管理\u3000太郎"  # as typed, trimmed
        and response.json()["staff"]["locale"] == "en"
    )
    problem = assert_problem(
        admin.patch("/api/staff/auth/me", json={"new_password": "a brand new passphrase"}),
        422,
        "validation_failed",
    )
    assert problem["errors"][0] == {
        "field": "current_password",
        "message": "is required to set a new password",
        "code": "required",
    }
    problem = assert_problem(
        admin.patch(
            "/api/staff/auth/me", json={"current_password": "nope", "new_password": "short"}
        ),
        422,
        "validation_failed",
    )
    codes = {(e["field"], e["code"]): e.get("params") for e in problem["errors"]}
    assert ("current_password", "wrong_password") in codes
    assert codes[("new_password", "password_too_short")] == {"min": 12}
    changed = admin.patch(
        "/api/staff/auth/me",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 200, changed.text
    assert admin.get("/api/staff/auth/me").status_code == 200  # this session stays
    assert other_session.get("/api/staff/auth/me").status_code == 401  # every other one ends
    assert login(client, admin.staff.email, "a brand new passphrase").status_code == 200
    entries = admin.get("/api/audit", params={"action": "staff.update_self"}).json()["items"]
    assert entries[0]["after"]["password_changed"] is True and PASSWORD not in str(entries)


def test_own_account_refuses_unknown_fields_and_role_changes(admin: StaffClient) -> None:
    problem = assert_problem(
        admin.patch("/api/staff/auth/me", json={"role": "admin"}), 422, "validation_failed"
    )
    assert (
        problem["errors"][0]["field"] == "role" and problem["errors"][0]["code"] == "unknown_field"
    )


class TestBehindHttps:
    """Outside dev (an https base URL): __Host- cookie, Secure, HSTS."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"base_url": "https://testserver.local"}

    def test_cookie_is_host_prefixed_and_secure(
        self, app: Litestar, make_staff: Callable[..., Staff]
    ) -> None:
        staff = make_staff()
        with TestClient(app, base_url="https://testserver.local") as https:
            response = login(https, staff.email)
            assert response.status_code == 200
            cookie = response.headers["set-cookie"]
            assert (
                cookie.startswith("__Host-kizuna_staff=")
                and "Secure" in cookie
                and "Path=/" in cookie
            )
            assert "Domain" not in cookie
            assert https.get("/api/staff/auth/me").status_code == 200
            assert "max-age=31536000" in response.headers["strict-transport-security"]
