"""Security headers on every response (OWASP secure headers), set once for the whole app."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

ADMIN_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def make_security_headers(*, hsts: bool) -> object:
    async def security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        path: str = scope.get("path", "")
        defaults = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if path.startswith("/admin"):
            defaults["Content-Security-Policy"] = ADMIN_CSP
        elif path.startswith("/api/"):
            if not path.startswith("/api/schema"):
                defaults["Content-Security-Policy"] = API_CSP
            defaults["Cache-Control"] = "no-store"
        if hsts:
            defaults["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        for name, value in defaults.items():
            if name not in headers:
                headers[name] = value

    return security_headers
