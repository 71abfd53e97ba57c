"""Serving the built site and the admin panel's static files from the app (embedded mode).

The site goes through the gate (``api.access.gate``: access rules, hot files in memory); the
admin panel's files are plain static files.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Router
from litestar.response import Response
from litestar.static_files import create_static_files_router
from litestar.types import Receive, Scope, Send

from api.access.gate import Gate
from api.access.paths import PathError, normalise
from api.web.problems import problem

CHECK_PATH = b"/api/access/check"  # nginx auth_request: answered by the gate itself
ADMIN_STATIC = Path(__file__).resolve().parent.parent / "admin" / "static"


def _bad_admin_path(request: Request[Any, Any, Any], exc: ValueError) -> Response[Any]:
    # A NUL byte (``%00``) in the path makes the file lookup raise ValueError: no such file.
    return problem(request, 404, "not_found", "Not found", "No such file")


def admin_router() -> Router:
    return create_static_files_router(
        path="/admin",
        directories=[ADMIN_STATIC],
        html_mode=True,
        name="admin",
        include_in_schema=False,
        exception_handlers={ValueError: _bad_admin_path},
    )


def app_prefixes(app: Litestar) -> frozenset[bytes]:
    """The first path segments the app's own routes use (``api``, ``admin``)."""
    return frozenset(
        route.path.strip("/").split("/", 1)[0].encode() for route in app.routes if route.path != "/"
    )


def install_gate(app: Litestar, gate: Gate) -> None:
    """Put the gate in front of the app's router: a request whose first path segment is one of
    the app's (``/api/…``, ``/admin/…``) goes to the router as before; every other path is the
    built site and goes straight to the gate — no routing, no framework request object.

    Installed as the app's ASGI handler (inside ``Litestar.__call__``), so the app's
    ``before_send`` hooks (security headers) still apply and lifespan is untouched. A Litestar
    mount at ``/`` would not do: it also takes every route with a path parameter."""
    router = app.asgi_handler
    prefixes = app_prefixes(app)

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given: bytes | None = scope.get("raw_path")
            raw = scope["path"].encode("utf-8") if given is None else given.partition(b"?")[0]
            if b"%" in raw or b"/." in raw or b"//" in raw:
                # /admin/../members/x is a page of the site; the gate refuses what is malformed.
                # Malformed: its first segment says whose 400/404 it gets (/api/…: problem
                # details from the router; else the site's page).
                with contextlib.suppress(PathError):
                    raw = normalise(raw, decoded=given is None).encode("utf-8")
            if raw == CHECK_PATH and scope.get("method") == "GET":
                await gate.check_asgi(scope, send)  # type: ignore[arg-type]
                return
            first = raw[1:].split(b"/", 1)[0]
            if first not in prefixes:
                await gate(scope, receive, send)  # type: ignore[arg-type]
                return
        await router(scope, receive, send)

    app.asgi_handler = dispatch
