"""``GET /api/access/check``: the gate's decision for nginx ``auth_request`` (CONTRACT17 §3).

nginx passes the path it is about to serve in ``X-Original-URI`` — its ``$uri``, already
percent-decoded and normalised (deploy/nginx/kizuna.conf captures it in the parent location:
inside the subrequest ``$uri`` is the check's own path). The answer is the embedded gate's,
from the same manifest, the same normalisation (``decoded=True``: never decoded twice) and the
same member identity: 204 allowed, 401 anonymous (log in first), 403 logged in but not
allowed, 404 unknown or malformed. Every answer carries ``Cache-Control`` for nginx to copy
onto the file (``private, no-store`` for a gated path, the public one otherwise) and
``X-Kizuna-Decision``. A renewed access token comes back as ``Set-Cookie``.

A GET that changes nothing: no CSRF check applies (auth.py checks writes only).
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency

from api.access.gate import Gate
from api.access.paths import PathError
from api.access.rules import Decision
from api.runtime import Runtime
from api.web.problems import problem

ORIGINAL_URI = "x-original-uri"
STATUS = {Decision.allow: 204, Decision.login: 401, Decision.forbidden: 403}
GATED = "private, no-store"
PUBLIC = "public, max-age=300"


_PROBLEMS = {
    401: ("unauthenticated", "Authentication required", "Log in as a member to read this page"),
    403: ("permission_denied", "Not permitted", "This member may not read this page"),
    404: ("not_found", "Not found", "No such page or file"),
}


def _answer(
    request: Request[Any, Any, Any],
    status: int,
    decision: str,
    cache: str,
    cookies: list[Cookie] | None = None,
) -> Response[None]:
    """The answer; a refusal carries problem details (nginx ignores the body)."""
    headers = {"Cache-Control": cache, "X-Kizuna-Decision": decision}
    if status == 204:
        response: Response[Any] = Response(None, status_code=204, headers=headers)
    else:
        code, title, detail = _PROBLEMS[status]
        response = problem(request, status, code, title, detail, headers=headers)
    for cookie in cookies or ():
        response.set_cookie(cookie)
    return cast("Response[None]", response)


class AccessCheckController(Controller):
    path = "/api/access"
    tags = ["access"]

    @get("/check", status_code=204, problems=(401, 403, 404))
    async def check(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[None]:
        """May the visitor (by the member cookies) read the path in ``X-Original-URI``?
        204 yes, 401 log in first, 403 not permitted, 404 no such file (for nginx
        ``auth_request``; see deploy/nginx/)."""
        gate: Gate = request.app.state.gate
        raw = request.headers.get(ORIGINAL_URI, "")
        # Header values arrive as latin-1 text: the bytes nginx sent are its UTF-8 $uri.
        found = await gate.resolve(raw.encode("latin-1", "replace"), decoded=True) if raw else None
        if found is None or isinstance(found, PathError):
            return _answer(request, 404, "not_found", GATED)
        if found.public:
            if found.entry is None and found.redirect is None:
                return _answer(request, 404, "not_found", PUBLIC)
            return _answer(request, 204, "allow", PUBLIC)
        identity = await runtime.member_auth.identify(request.cookies)
        decision = found.decide(identity.member)
        if decision is Decision.allow and found.entry is None and found.redirect is None:
            return _answer(request, 404, "not_found", GATED, identity.set_cookies)
        return _answer(request, STATUS[decision], decision.value, GATED, identity.set_cookies)
