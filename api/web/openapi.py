"""The OpenAPI description at ``/api/schema``, kept true to what the API sends.

Litestar documents errors with its own default body and knows nothing of our guards, so
each API route's documented responses and security are derived here, in one place, from
the route itself:

- every error is ``application/problem+json`` with the ``Problem`` shape of
  ``api.web.problems.problem``;
- a route behind ``requires(...)``/``self_service()`` needs the bearer token or the session
  cookie (plus the CSRF header for writes) and may answer 401 and 403; a route without one
  of our guards is public and shows no security;
- a guard or a handler may add statuses: a guard through a ``problems`` attribute, a handler
  through ``opt={"problems": (...)}`` (log-in: 415, 429);
- a 204 has no body.

New domains get all of this without doing anything: the plugin sees every route as the app
registers it.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import Empty

from api.web.auth import CSRF_HEADER, route_guards
from api.web.problems import PROBLEM_JSON

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DESCRIPTIONS = {
    400: "Malformed request (the body is not valid JSON)",
    401: "Not logged in, or the API token is unknown, expired or revoked",
    403: "The role does not allow this, or the CSRF header is missing (cookie sessions)",
    404: "No such resource",
    409: "Conflicts with the current state (e.g. the e-mail is taken, the last admin)",
    413: "Request body too large",
    415: "Unsupported media type: send JSON",
    422: "The input is not valid: see `errors` for each field",
    429: "Too many requests: wait for `Retry-After` seconds",
    500: "Unexpected server error: quote the `reference`",
}


class ProblemFieldError(msgspec.Struct, omit_defaults=True):
    """One field at fault (``row``: the line of an imported file)."""

    field: str
    message: str
    code: str
    row: int | None = None
    params: dict[str, Any] | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, as every error of the API is sent."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    errors: list[ProblemFieldError] | None = None
    reference: str | None = None


def _problem_spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=DESCRIPTIONS.get(status, "Error"),
        media_type=PROBLEM_JSON,
        generate_examples=False,
    )


def is_guarded(handler: HTTPRouteHandler) -> bool:
    return any(hasattr(g, "permission") for g in route_guards(handler))


def problem_statuses(handler: HTTPRouteHandler, path_parameters: bool) -> set[int]:
    """The error statuses a route can answer, from its guards, parameters and method."""
    statuses = {400, 422, 500}  # malformed input, validation; and the unexpected
    writes = bool(handler.http_methods - SAFE_METHODS)
    if writes:
        statuses |= {409, 413}
    if path_parameters:
        statuses.add(404)
    for guard in route_guards(handler):
        statuses.update(getattr(guard, "problems", ()))
    statuses.update(handler.opt.get("problems", ()))
    return statuses


def security_for(handler: HTTPRouteHandler) -> list[dict[str, list[str]]]:
    if not is_guarded(handler):
        return []
    writes = bool(handler.http_methods - SAFE_METHODS)
    cookie: dict[str, list[str]] = {"cookie": [], "csrf": []} if writes else {"cookie": []}
    return [{"bearer": []}, cookie]


def document(handler: HTTPRouteHandler, path_parameters: bool) -> None:
    """Set the handler's documented error responses and security requirements."""
    responses = dict(handler.responses or {})
    for status in problem_statuses(handler, path_parameters):
        responses.setdefault(status, _problem_spec(status))
    if handler.status_code == 204:
        responses[204] = ResponseSpec(data_container=None, description="Done; no content")
    handler.responses = responses
    handler.security = security_for(handler)
    handler._resolved_security = Empty


class ApiDocs(ReceiveRoutePlugin):
    """Documents every ``/api/`` route as it is registered (see the module docstring)."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            return
        for handler in route.route_handlers:
            if handler.include_in_schema:
                document(handler, bool(route.path_parameters))


def openapi_config(version: str, cookie_name: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Kizuna API",
        version=version,
        description="The JSON API behind Kizuna's admin panel, for integrations too. "
        "Authenticate with 'Authorization: Bearer kz_…' (API tokens are created in the admin); "
        "the admin panel uses the session cookie plus the X-CSRF-Token header on writes. "
        "Errors are RFC 9457 problem details (application/problem+json).",
        path="/api/schema",
        render_plugins=[
            JsonRenderPlugin(path=["/", "/openapi.json"]),
            YamlRenderPlugin(path="/openapi.yaml"),
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API token"),
                "cookie": SecurityScheme(
                    type="apiKey",
                    name=cookie_name,
                    security_scheme_in="cookie",
                    description="The admin panel's session cookie (set by log-in)",
                ),
                "csrf": SecurityScheme(
                    type="apiKey",
                    name=CSRF_HEADER,
                    security_scheme_in="header",
                    description="`csrf_token` from log-in or /me; needed on cookie writes",
                ),
            }
        ),
        use_handler_docstrings=True,
        operation_id_creator=operation_id,
    )


def operation_id(handler: Any, _method: Any, _path: Any) -> str:
    """Stable, readable operation ids for generated clients: ``<tag>_<handler name>``."""
    tags = list(handler.resolve_tags() or ["api"])
    return f"{tags[0]}_{handler.handler_name}"
