"""Domain errors.

Services raise these (never Litestar exceptions); ``api.web.problems`` turns each one into an
RFC 9457 problem-details response. Each error carries a stable machine ``code`` (clients and
the admin panel translate by code) and, for validation, the list of fields at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field (``field`` is a dotted path, ``row`` for CSV lines)."""

    field: str
    message: str
    code: str = "invalid"
    row: int | None = None
    params: dict[str, Any] | None = None  # values for the client's translation, e.g. {"min": 12}

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "message": self.message, "code": self.code}
        if self.row is not None:
            data["row"] = self.row
        if self.params:
            data["params"] = self.params
        return data


@dataclass
class KizunaError(Exception):
    """Base of every error a service may raise on purpose."""

    detail: str = ""
    code: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    default_code: ClassVar[str] = "bad_request"

    def __post_init__(self) -> None:
        if not self.code:
            self.code = self.default_code
        if not self.detail:
            self.detail = self.title
        Exception.__init__(self, self.detail)

    def __str__(self) -> str:
        return self.detail


class ValidationFailed(KizunaError):
    status = 422
    title = "The input is not valid"
    default_code = "validation_failed"


class Unauthenticated(KizunaError):
    status = 401
    title = "Authentication required"
    default_code = "unauthenticated"


class PermissionDenied(KizunaError):
    status = 403
    title = "Not permitted"
    default_code = "permission_denied"


class NotFound(KizunaError):
    status = 404
    title = "Not found"
    default_code = "not_found"


class Conflict(KizunaError):
    status = 409
    title = "Conflict"
    default_code = "conflict"


class Gone(KizunaError):
    status = 410
    title = "No longer available"
    default_code = "gone"


class RateLimited(KizunaError):
    status = 429
    title = "Too many requests"
    default_code = "rate_limited"


class ServiceUnavailable(KizunaError):
    status = 503
    title = "A service Kizuna depends on is unavailable"
    default_code = "service_unavailable"


def invalid(field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
    """Shortcut for the common one-field validation error."""
    return ValidationFailed(
        detail=f"{field_name}: {message}",
        errors=[FieldError(field=field_name, message=message, code=code)],
    )
