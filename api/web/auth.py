"""Staff authentication for the JSON API: the session cookie (admin panel) or a bearer API
token (integrations), permission guards, and CSRF defence for cookie-authenticated writes.

Every staff endpoint declares ``guards=[requires(perms.X)]`` (a permission its domain
declares); the guard authenticates lazily (public routes pay nothing), checks the permission
and, for writes made with the cookie, the ``X-CSRF-Token`` header. Revocation is immediate:
the cookie's token names a session row, which logout, password change or deactivation revokes.
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import timedelta
from typing import Any, cast

import anyio.to_thread
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from api.errors import PermissionDenied, Unauthenticated
from api.permissions import Permission
from api.principal import Principal
from api.runtime import Runtime
from api.settings import Settings
from api.staff import services as staff_services
from api.staff.models import Staff, StaffSession

STAFF_AUDIENCE = "kizuna:staff"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SCOPE_KEY = "kizuna_principal"


def staff_cookie_name(settings: Settings) -> str:
    return "__Host-kizuna_staff" if settings.secure_cookies else "kizuna_staff"


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    return connection.app.state.runtime


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The client's address; X-Forwarded-For is believed only from trusted proxies."""
    peer = connection.client.host if connection.client else None
    trusted = runtime_of(connection).settings.trusted_proxies
    if not peer or not trusted:
        return peer
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in n for n in networks)

    if not is_trusted(peer):
        return peer
    hops = [
        h.strip() for h in connection.headers.get("x-forwarded-for", "").split(",") if h.strip()
    ]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return peer


def csrf_token(runtime: Runtime, session_id: str) -> str:
    return runtime.keyring.sign("csrf", session_id)


# --------------------------------------------------------------------------- authentication


def _authenticate_sync(
    runtime: Runtime, cookie: str | None, bearer: str | None, ip: str | None
) -> Principal | None:
    with runtime.db.transaction() as session:
        if bearer:
            return staff_services.resolve_token(session, bearer, ip=ip)
        if cookie:
            claims = runtime.keyring.decode_token(cookie, audience=STAFF_AUDIENCE)
            if claims is None:
                return None
            found = staff_services.resolve_session(
                session,
                str(claims["jti"]),
                idle=timedelta(minutes=runtime.settings.staff_idle_minutes),
            )
            if found is None or str(found[0].id) != str(claims["sub"]):
                return None
            staff, login = found
            return staff_services.principal_for_staff(staff, ip=ip, session_id=login.id)
    return None


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The staff principal of this request, or None. Cached on the request scope."""
    scope: Any = connection.scope
    if _SCOPE_KEY in scope:
        return scope[_SCOPE_KEY]
    runtime = runtime_of(connection)
    authorization = connection.headers.get("authorization", "")
    bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
    cookie = connection.cookies.get(staff_cookie_name(runtime.settings))
    principal = None
    if bearer or cookie:
        principal = await anyio.to_thread.run_sync(
            _authenticate_sync, runtime, cookie, bearer, client_ip(connection)
        )
    scope[_SCOPE_KEY] = principal
    scope["kizuna_auth_via"] = "bearer" if bearer else "cookie" if cookie else None
    return principal


def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    if connection.scope.get("method") in SAFE_METHODS:
        return
    if connection.scope.get("kizuna_auth_via") != "cookie" or principal.session_id is None:
        return  # bearer tokens are not sent by browsers on their own: no CSRF risk
    sent = connection.headers.get(CSRF_HEADER, "")
    expected = csrf_token(runtime_of(connection), principal.session_id)
    if not sent or not hmac.compare_digest(sent, expected):
        raise PermissionDenied(
            detail="Missing or wrong X-CSRF-Token header; reload the page and try again",
            code="csrf_failed",
        )


def _guard(permission: Permission | None, name: str) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if principal is None:
            raise Unauthenticated(
                detail="Log in, or send an API token as 'Authorization: Bearer kz_…'"
            )
        _check_csrf(connection, principal)
        if permission is not None and not principal.can(permission):
            who = (
                f"This API token (role {principal.role}, within its creator's current role)"
                if principal.kind == "token"
                else f"Your role ({principal.role})"
            )
            raise PermissionDenied(
                detail=f"{who} does not allow this (needs {permission.value})",
                code="permission_denied",
            )

    guard.permission = permission  # type: ignore[attr-defined]
    guard.self_service = permission is None  # type: ignore[attr-defined]
    guard.problems = (401, 403)  # type: ignore[attr-defined]
    guard.__name__ = name
    return guard


def requires(permission: Permission) -> Guard:
    """Guard: an authenticated staff member (or API token) holding ``permission``.

    A route that changes something names a permission that ``writes``.
    """
    return _guard(permission, f"requires_{permission.value}")


def self_service() -> Guard:
    """Guard for what any authenticated caller may do to their own session or account
    (log-out, /me): authentication and CSRF, no permission. Marked ``self_service`` so the
    route-table checks tell it from a forgotten permission."""
    return _guard(None, "self_service")


def route_guards(handler: BaseRouteHandler) -> list[Guard]:
    """Every guard that applies to a handler, from the app down to the handler itself."""
    return [g for layer in handler.ownership_layers for g in (layer.guards or [])]


def route_permissions(handler: BaseRouteHandler) -> frozenset[Permission]:
    """The permissions a caller needs for a route (all its ``requires`` guards together)."""
    return frozenset(
        p for g in route_guards(handler) if (p := getattr(g, "permission", None)) is not None
    )


def is_public(handler: BaseRouteHandler) -> bool:
    """True when no guard of ours authenticates the route (login, health, public settings)."""
    return not any(hasattr(g, "permission") for g in route_guards(handler))


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency for handlers behind a ``requires`` guard."""
    principal = request.scope.get(_SCOPE_KEY)
    if principal is None:
        raise Unauthenticated()
    return cast(Principal, principal)


def _refuse_cross_site(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    headers = connection.headers
    if headers.get("sec-fetch-site") == "cross-site":
        raise PermissionDenied(
            detail="Cross-site requests are not accepted here", code="cross_site"
        )
    origin = headers.get("origin")
    if origin is not None:
        own = f"{connection.url.scheme}://{connection.url.netloc}"
        base = runtime_of(connection).settings.effective_base_url
        if origin not in (own, base):  # "null" (sandboxed frame, file:) included
            raise PermissionDenied(
                detail="Cross-site requests are not accepted here", code="cross_site"
            )


async def same_origin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for public writes that a plain HTML form of our own site may send (the member
    log-in and log-out of the theme, which work without JavaScript): refused when the browser
    says the request comes from another site (``Sec-Fetch-Site: cross-site``, or an ``Origin``
    that is not ours, ``null`` included). Browsers send ``Origin`` on every POST, so a
    cross-site form cannot log a member in (login CSRF) or out; a client that sends neither
    header is not a browser acting for someone else. Together with ``SameSite=Lax`` cookies."""
    _refuse_cross_site(connection)


same_origin.problems = (403,)  # type: ignore[attr-defined]


async def same_origin_json(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for public writes used before a session exists (log-in): refuse login CSRF.

    A cross-site page can post a form (``text/plain``, ``application/x-www-form-urlencoded``)
    without a CORS preflight, and sandboxed frames send ``Origin: null``: only a JSON body
    from our own origin (or a client that sends no Origin, i.e. not a browser) gets in.
    Runs as a guard, so before the body is read.
    """
    _refuse_cross_site(connection)
    headers = connection.headers
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(
            status_code=415, detail="Send the body as JSON (Content-Type: application/json)"
        )


same_origin_json.problems = (403, 415)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- cookies


def login_cookie(runtime: Runtime, staff: Staff, login: StaffSession) -> Cookie:
    settings = runtime.settings
    lifetime = login.expires_at - login.created_at
    token = runtime.keyring.encode_token(
        audience=STAFF_AUDIENCE,
        subject=str(staff.id),
        token_id=login.id,
        lifetime=lifetime,
        now=login.created_at,
    )
    return Cookie(
        key=staff_cookie_name(settings),
        value=token,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        max_age=int(lifetime.total_seconds()),
    )


def clear_login_cookie(response: Response[Any], settings: Settings) -> None:
    """Expire the session cookie. A ``__Host-`` cookie is only replaced by one that is also
    ``Secure`` with ``Path=/``: a plain deletion would be ignored and the cookie kept."""
    response.set_cookie(
        Cookie(
            key=staff_cookie_name(settings),
            value="",
            path="/",
            httponly=True,
            secure=settings.secure_cookies,
            samesite="strict",
            max_age=0,
            expires=0,
        )
    )


def session_lifetime(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.staff_session_minutes)
