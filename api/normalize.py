"""Normalisation applied on every write path (API, admin, forms, CSV): one place, one rule."""

from __future__ import annotations

import re
import unicodedata

from api.errors import FieldError

_EMAIL = re.compile(
    r"^[^@\s\"(),:;<>\[\\\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(value: str) -> str:
    """NFKC (full-width ASCII → half-width, half-width kana → full-width) and trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def single_line(value: str) -> str:
    return " ".join(text(value).split())


def email(value: str) -> str:
    return text(value).lower()


def check_email(value: str, field: str = "email") -> FieldError | None:
    if len(value) > 254 or not _EMAIL.match(value):
        return FieldError(field, "is not a valid e-mail address", "invalid_email")
    return None


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))
