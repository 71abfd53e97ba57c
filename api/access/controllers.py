"""``GET /api/access/check``: the gate's decision for nginx ``auth_request`` (CONTRACT17 §3).

nginx passes the path it is about to serve in ``X-Original-URI`` — its ``$uri``, already
percent-decoded and normalised (deploy/nginx/kizuna.conf captures it in the parent location:
inside the subrequest ``$uri`` is the check's own path). The answer is the embedded gate's,
from the same manifest, the same normalisation (``decoded=True``: never decoded twice) and the
same member identity: 204 allowed, 401 anonymous (log in first), 403 logged in but not
allowed, 404 unknown or malformed. Every answer carries ``Cache-Control`` for nginx to copy
onto the file (``private, no-store`` for a gated path, the public one otherwise) and
``X-Kizuna-Decision``. A renewed access token comes back as ``Set-Cookie``.

A GET that changes nothing: no CSRF check applies (auth.py checks writes only). In the app
the same answer comes from ``Gate.check_asgi``, which ``api.web.site.install_gate`` puts in
front of the router (no framework cost per check); this route documents it and answers when
the gate is not installed.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response, get

from api.access.gate import CheckAnswer, Gate
from api.web.problems import problem

ORIGINAL_URI = "x-original-uri"


def _answer(request: Request[Any, Any, Any], answer: CheckAnswer) -> Response[None]:
    """The answer; a refusal carries problem details (nginx ignores the body)."""
    headers = {"Cache-Control": answer.cache.decode(), "X-Kizuna-Decision": answer.decision}
    if answer.status == 204:
        response: Response[Any] = Response(None, status_code=204, headers=headers)
    else:
        code, title, detail = answer.problem()
        response = problem(request, answer.status, code, title, detail, headers=headers)
    for cookie in answer.cookies:
        response.set_cookie(cookie)
    return cast("Response[None]", response)


class AccessCheckController(Controller):
    path = "/api/access"
    tags = ["access"]

    @get("/check", status_code=204, problems=(401, 403, 404))
    async def check(self, request: Request[Any, Any, Any]) -> Response[None]:
        """May the visitor (by the member cookies) read the path in ``X-Original-URI``?
        204 yes, 401 log in first, 403 not permitted, 404 no such file (for nginx
        ``auth_request``; see deploy/nginx/)."""
        gate: Gate = request.app.state.gate
        # Header values arrive as latin-1 text: the bytes nginx sent are its UTF-8 $uri.
        original = request.headers.get(ORIGINAL_URI, "").encode("latin-1", "replace")
        cookie = request.headers.get("cookie", "").encode("latin-1", "replace")
        return _answer(request, await gate.check(original, cookie))
