"""Serving the built site and the admin panel's static files from the app (embedded mode).

The gate (access rules on gated pages) replaces the plain site router in a later issue;
until then everything under ``site/public`` is public.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Router
from litestar.exceptions import NotFoundException
from litestar.response import Response
from litestar.static_files import create_static_files_router

from api.web.problems import problem

ADMIN_STATIC = Path(__file__).resolve().parent.parent / "admin" / "static"

NOT_BUILT = """<!doctype html><html lang="ja"><meta charset="utf-8"><title>Kizuna</title>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.7">
<h1>サイトはまだビルドされていません / The site is not built yet</h1>
<p><code>kizuna build</code> を実行してください。 Run <code>kizuna build</code>, then reload.</p>
<p><a href="/admin/">管理画面 / Admin</a></p></body></html>"""


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


def site_router(public_dir: Path) -> Router:
    """The built site; a friendly page instead of a bare 404 while nothing is built yet."""
    public_dir.mkdir(parents=True, exist_ok=True)

    def not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if request.url.path.startswith("/api/"):  # API clients get problem details, not HTML
            return problem(request, 404, "not_found", "Not found", "No such API endpoint")
        if not (public_dir / "index.html").exists():
            return Response(NOT_BUILT, media_type=MediaType.HTML, status_code=503)
        page = public_dir / "404.html"
        if page.exists():
            return Response(page.read_bytes(), media_type=MediaType.HTML, status_code=404)
        return Response("Not found", media_type=MediaType.TEXT, status_code=404)

    return create_static_files_router(
        path="/",
        directories=[public_dir],
        html_mode=True,
        name="site",
        include_in_schema=False,
        # ValueError: a NUL byte (``%00``) in the path, which no file name can hold.
        exception_handlers={NotFoundException: not_found, ValueError: not_found},
    )
