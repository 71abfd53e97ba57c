"""Every cell of the role × route matrix, generated from the app's own route table.

For each staff route (any route behind ``requires(...)`` or ``self_service()``) and each
role, a login session of that role and an API token of that role get 403 exactly when the
role lacks a permission the route needs, and never 401 or a 5xx. The expected cells come
from the guards' ``.permission`` and ``permissions_for(role)``, so routes that domains add
later are checked without touching this file. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import delete
from sqlmodel import select

from api.domain import permission_registry
from api.domains import DOMAINS
from api.mail.permissions import OUTBOX_WRITE
from api.permissions import Permission, Role
from api.runtime import Runtime
from api.staff.models import ApiToken, Staff
from api.web.auth import is_public, route_permissions
from tests.fixtures.app import StaffClient

SAFE = {"GET", "HEAD", "OPTIONS"}


def permissions_for(role: str) -> set[str]:
    """What a role holds in the installed domains (each domain declares who holds what)."""
    return {p.value for p in permission_registry(DOMAINS).for_role(role)}


GUARD_CODES = {"permission_denied", "csrf_failed"}
PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@dataclass(frozen=True)
class Cell:
    method: str
    url: str
    needs: frozenset[Permission]

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


def staff_routes(app: Litestar) -> list[Cell]:
    """Every guarded API operation, with a concrete URL (ids that exist nowhere)."""
    cells = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if not isinstance(handler, HTTPRouteHandler) or is_public(handler):
                continue
            url = PLACEHOLDER.sub(
                lambda m: "2147483000" if m.group(2) == "int" else "no-such-id", route.path
            )
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                cells.append(Cell(method, url, route_permissions(handler)))
    # Log-out last: it ends the session the other cells use.
    return sorted(cells, key=lambda c: c.url.endswith("/logout"))


def check_cell(response: Any, cell: Cell, role: str, via: str) -> str | None:
    allowed = {p.value for p in cell.needs} <= permissions_for(role)
    where = f"{via} {role}: {cell} -> {response.status_code} {response.text[:200]}"
    if response.status_code >= 500 or response.status_code == 401:
        return where
    if allowed and response.status_code == 403 and response.json()["code"] in GUARD_CODES:
        return where  # (a service may still refuse on its own rule, e.g. a token's /me)
    if not allowed and (
        response.status_code != 403 or response.json().get("code") != "permission_denied"
    ):
        return where
    return None


def send(request: Callable[..., Any], cell: Cell) -> Any:
    kwargs: dict[str, Any] = {} if cell.method in SAFE else {"json": {}}
    return request(cell.method, cell.url, **kwargs)


def test_the_route_table_is_not_empty(app: Litestar) -> None:
    cells = staff_routes(app)
    assert len(cells) > 20
    assert any(c.method == "DELETE" and c.url == "/api/outbox" for c in cells)
    assert OUTBOX_WRITE in next(
        c.needs for c in cells if c.method == "DELETE" and c.url == "/api/outbox"
    )


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_route_for_a_login_session_of_each_role(
    app: Litestar, login_as: Callable[[str], StaffClient], role: str
) -> None:
    who = login_as(role)
    failures = [
        failure
        for cell in staff_routes(app)
        if (failure := check_cell(send(who.request, cell), cell, role, "session"))
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_route_for_an_api_token_of_each_role(
    app: Litestar, client: TestClient[Litestar], admin: StaffClient, role: str
) -> None:
    created = admin.post("/api/staff/tokens", json={"name": f"matrix {role}", "role": role})
    assert created.status_code == 201, created.text
    client.cookies.clear()  # the token alone
    bearer = {"Authorization": f"Bearer {created.json()['secret']}"}

    def request(method: str, url: str, **kwargs: Any) -> Any:
        return client.request(method, url, headers=bearer, **kwargs)

    failures = [
        failure
        for cell in staff_routes(app)
        if (failure := check_cell(send(request, cell), cell, role, "token"))
    ]
    assert not failures, "\n".join(failures)


def test_a_marketer_cannot_empty_the_outbox(login_as: Callable[[str], StaffClient]) -> None:
    marketer = login_as("marketer")
    assert marketer.get("/api/outbox").status_code == 200
    response = marketer.delete("/api/outbox")
    assert response.status_code == 403 and "outbox:write" in response.json()["detail"]


# --------------------------------------------------------------------------- API tokens


def make_token(who: StaffClient, role: str) -> dict[str, str]:
    created = who.post("/api/staff/tokens", json={"name": f"{role} token", "role": role})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['secret']}"}


def test_token_rights_follow_the_creators_current_role(
    client: TestClient[Litestar], login_as: Callable[[str], StaffClient]
) -> None:
    creator = login_as("admin")
    admin_token = make_token(creator, "admin")
    viewer_token = make_token(creator, "viewer")
    other_admin = login_as("admin")  # the bearer header wins over this session's cookie
    assert client.get("/api/staff/users", headers=admin_token).status_code == 200

    demoted = other_admin.patch(f"/api/staff/users/{creator.staff.id}", json={"role": "marketer"})
    assert demoted.status_code == 200, demoted.text
    # The creator is now a marketer: the admin token has a marketer's rights, no more.
    me = client.get("/api/staff/auth/me", headers=admin_token).json()
    assert set(me["permissions"]) == set(permissions_for("marketer"))
    response = client.get("/api/staff/users", headers=admin_token)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client.get("/api/outbox", headers=admin_token).status_code == 200
    assert client.get("/api/outbox", headers=viewer_token).status_code == 403

    promoted = other_admin.patch(f"/api/staff/users/{creator.staff.id}", json={"role": "admin"})
    assert promoted.status_code == 200, promoted.text
    assert client.get("/api/staff/users", headers=admin_token).status_code == 200
    # The token's own role still bounds it: a viewer token stays a viewer under an admin.
    me = client.get("/api/staff/auth/me", headers=viewer_token).json()
    assert set(me["permissions"]) == set(permissions_for("viewer"))


def test_tokens_stop_when_the_creator_is_deactivated_or_deleted(
    client: TestClient[Litestar],
    login_as: Callable[[str], StaffClient],
    runtime: Runtime,
) -> None:
    boss = login_as("admin")
    boss_token = make_token(boss, "admin")
    deactivated = login_as("admin")  # only admins hold tokens:write
    deactivated_token = make_token(deactivated, "marketer")
    deleted = login_as("admin")
    deleted_token = make_token(deleted, "viewer")
    client.cookies.clear()
    for bearer in (deactivated_token, deleted_token):
        assert client.get("/api/jobs", headers=bearer).status_code == 200

    off = client.patch(
        f"/api/staff/users/{deactivated.staff.id}", json={"is_active": False}, headers=boss_token
    )
    assert off.status_code == 200, off.text
    response = client.get("/api/jobs", headers=deactivated_token)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"

    with runtime.db.transaction() as session:
        session.execute(delete(Staff).where(Staff.id == deleted.staff.id))  # type: ignore[arg-type]
    with runtime.db.transaction() as session:
        tokens = session.exec(select(ApiToken).where(ApiToken.name == "viewer token")).all()
        assert [t.created_by_id for t in tokens] == [None]  # ON DELETE SET NULL, both databases
    response = client.get("/api/jobs", headers=deleted_token)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    # Reactivating the creator brings the token back: it was never revoked, only unbacked.
    on = client.patch(
        f"/api/staff/users/{deactivated.staff.id}", json={"is_active": True}, headers=boss_token
    )
    assert on.status_code == 200
    assert client.get("/api/jobs", headers=deactivated_token).status_code == 200
