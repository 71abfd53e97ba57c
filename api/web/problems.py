"""One exception-handler map: every error leaves the API as RFC 9457 problem details.

Domain errors (``api.errors``) carry their status, code and field errors; Litestar's own
exceptions (malformed JSON, unknown fields, 404, 405) are translated to the same shape, and
anything unexpected becomes a 500 that reveals nothing but a reference to the log.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import IntegrityError

from api.db import conflict_from_integrity_error
from api.errors import FieldError, KizunaError, NotFound, ValidationFailed
from api.fields import chars

log = logging.getLogger("kizuna.errors")

PROBLEM_JSON = "application/problem+json"

_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("permission_denied", "Not permitted"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "The input is not valid"),
    429: ("rate_limited", "Too many requests"),
    503: ("service_unavailable", "Service unavailable"),
}


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"urn:kizuna:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def handle_domain_error(
    request: Request[Any, Any, Any], exc: KizunaError
) -> Response[dict[str, Any]]:
    headers = None
    if exc.status == 429 and "retry_after" in exc.extra:
        headers = {"Retry-After": str(exc.extra["retry_after"])}
    return problem(request, exc.status, exc.code, exc.title, exc.detail, exc.errors, headers)


_KEY_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _field_errors(exc: ValidationException) -> list[FieldError]:
    out: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "is not valid"))
        key = str(item.get("key") or "")
        match = _KEY_PATH.search(message)
        if not key and match:
            key = match.group(1)
        message = _KEY_PATH.sub("", message).strip(" -")
        code = "unknown_field" if "unknown field" in message.lower() else "invalid"
        if message == "'data'":  # Litestar's KeyError when a body is required and none came
            out.append(FieldError("body", "a JSON body is required", "required"))
            continue
        if "Object missing required field" in message:
            code = "required"
            missing = re.search(r"`([^`]+)`", message)
            key = f"{key}.{missing.group(1)}".strip(".") if missing else key
            message = "is required"
        elif code == "unknown_field":
            unknown = re.search(r"`([^`]+)`", message)
            key = f"{key}.{unknown.group(1)}".strip(".") if unknown else key
            message = "is not a known field"
        key = key.removeprefix("data.").removeprefix("data")
        out.append(FieldError(field=key or "body", message=message, code=code))
    return out


def handle_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    detail = str(exc.detail or "")
    if "malformed" in detail.lower() or ("json" in detail.lower() and "decode" in detail.lower()):
        return problem(
            request, 400, "malformed_json", "Malformed JSON", "The request body is not valid JSON"
        )
    errors = _field_errors(exc)
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors) or detail
    return problem(request, 422, "validation_failed", "The input is not valid", summary, errors)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code, title = _CODES.get(status, ("error", "Error"))
    if status == 400 and "json" in request.headers.get("content-type", ""):
        return problem(
            request,
            400,
            "malformed_json",
            "Malformed JSON",
            f"The request body is not valid JSON ({exc.detail})",
        )
    detail = exc.detail if exc.detail and exc.detail != title else title
    return problem(request, status, code, title, str(detail), headers=exc.headers)


def handle_integrity_error(
    request: Request[Any, Any, Any], exc: IntegrityError
) -> Response[dict[str, Any]]:
    """A constraint the database refused outside ``Database.transaction()``: a 409, never a 500.

    ``transaction()`` already turns these into ``Conflict``; this is the net under code that
    commits some other way.
    """
    # Not the database's message: it would put the duplicate value (an e-mail…) in the log.
    log.info("constraint violation on %s %s", request.method, request.url.path)
    return handle_domain_error(request, conflict_from_integrity_error(exc))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    reference = secrets.token_hex(6)
    log.error(
        "unhandled error (reference %s) on %s %s",
        reference,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "Internal server error",
        f"Something went wrong on the server. Reference: {reference}",
        reference=reference,
    )


def refuse_control_characters(request: Request[Any, Any, Any]) -> None:
    """before_request hook: no path or query parameter may carry NUL or control characters.

    PostgreSQL cannot store NUL in text and no legitimate filter needs one, so such input
    is a 422 naming the parameter instead of a database error deep inside a service.
    """
    path = request.scope.get("path", "")
    # The rule of api/fields (NUL, C0/C1 controls, lone surrogates); %00 in an id names nothing.
    if path.startswith("/api/") and chars.has_control(path, allow_tab=True):
        raise NotFound(detail="No such resource (the path has a control character)")
    for name, value in request.query_params.multi_items():
        if chars.has_control(value, allow_tab=True):  # JSON in a parameter may be laid out
            raise ValidationFailed(
                detail=f"{name}: must not contain control characters",
                errors=[FieldError(name, "must not contain control characters", "control_chars")],
            )


_JSON_TYPES = ("application/json", "application/problem+json")
_MALFORMED = (
    SerializationException,
    msgspec.DecodeError,
    UnicodeDecodeError,
    RecursionError,
    ValueError,
)


async def refuse_malformed_json(request: Request[Any, Any, Any]) -> None:
    """before_request hook: decode a JSON body once, before any handler asks for it.

    msgspec raises ``UnicodeDecodeError`` for invalid UTF-8 inside a string and
    ``RecursionError`` for very deep nesting, which Litestar lets through as 500s; here they
    are a 400 like any other malformed JSON. The decoded body is cached on the request.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES:
        return
    try:
        await request.json()
    except HTTPException:
        raise
    except _MALFORMED as exc:
        reason = (
            "invalid UTF-8" if isinstance(exc, UnicodeDecodeError)
            else "nested too deeply" if isinstance(exc, RecursionError)
            else "syntax error"
        )  # fmt: skip
        raise HTTPException(status_code=400, detail=reason) from None


async def screen_request(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: every check that must refuse input before a handler."""
    refuse_control_characters(request)
    await refuse_malformed_json(request)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    KizunaError: handle_domain_error,
    IntegrityError: handle_integrity_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected,
    Exception: handle_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem"]
