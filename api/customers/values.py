"""Field values: one function per field type turns an input value into the stored value.

THE SEAM for ``api/fields``. Each ``_<type>`` function below takes what came in (JSON from the
API, a string from a schema file or a CSV cell, an old value during a type change) and returns
what the column stores, or raises :class:`api.errors.ValidationFailed` on the field. They check
only what storage needs (the Python type, the length that keeps a value in an index entry, no
NUL that PostgreSQL refuses, choices, ranges, a safe URL scheme). When ``api/fields`` lands,
each function becomes a call to its field type (normalisation: NFKC, e-mail lower-casing,
phone digits, kana folding, dates typed in JST) and keeps its signature; nothing else in this
domain validates values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from api.customers.definitions import FieldSpec
from api.customers.types import DECIMAL_PRECISION, FieldType
from api.errors import FieldError, ValidationFailed

# Until api/fields and the site's time-zone setting land: a datetime typed without an offset
# is in the site's time zone, JST by default.
SITE_TZ = ZoneInfo("Asia/Tokyo")
INT64 = 2**63 - 1
# Control characters are refused in single-line values (NUL would be a 500 on PostgreSQL);
# long text keeps tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9()\- ]{2,30}")
_POSTAL = re.compile(r"[0-9A-Za-z\- ]{2,10}")


def fail(spec: FieldSpec, message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    return ValidationFailed(
        detail=f"{spec.key}: {message}",
        errors=[FieldError(spec.key, message, code, params=params or None)],
    )


def _string(spec: FieldSpec, value: Any, *, multiline: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise fail(spec, "must be a text", "type")
    text = str(value).strip(" \t\r\n\u3000")
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(text):
        raise fail(spec, "contains control characters", "control_characters")
    limit = spec.length_limit
    if len(text) > limit:
        raise fail(spec, f"is longer than {limit} characters", "too_long", max_length=limit)
    if spec.pattern and text and not re.fullmatch(spec.pattern, text):
        raise fail(spec, "does not have the expected form", "pattern")
    return text


def _text(spec: FieldSpec, value: Any) -> str:
    return _string(spec, value)


def _long_text(spec: FieldSpec, value: Any) -> str:
    return _string(spec, value, multiline=True)


def _integer(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise fail(spec, "must be a whole number", "type")
    if isinstance(value, str):
        try:
            value = int(value.strip().replace(",", ""))
        except ValueError:
            raise fail(spec, "must be a whole number", "type") from None
    elif isinstance(value, float | Decimal):
        if value != int(value):
            raise fail(spec, "must be a whole number", "type")
        value = int(value)
    if not isinstance(value, int):
        raise fail(spec, "must be a whole number", "type")
    if not -INT64 <= value <= INT64:
        raise fail(spec, "is too large", "out_of_range")
    _range(spec, value)
    return value


def _decimal(spec: FieldSpec, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise fail(spec, "must be a number", "type")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise fail(spec, "must be a number", "type") from None
    if not number.is_finite():
        raise fail(spec, "must be a number", "type")
    scale = spec.decimal_scale
    if number.adjusted() >= DECIMAL_PRECISION - scale:
        raise fail(spec, "is too large", "out_of_range")
    quantised = number.quantize(Decimal(1).scaleb(-scale))
    if quantised != number:
        raise fail(spec, f"has more than {scale} decimal places", "scale", scale=scale)
    if abs(quantised) >= Decimal(10) ** (DECIMAL_PRECISION - scale):
        raise fail(spec, "is too large", "out_of_range")
    _range(spec, quantised)
    return quantised


def _range(spec: FieldSpec, value: int | Decimal) -> None:
    if spec.min is not None and value < Decimal(str(spec.min)):
        raise fail(spec, f"must be at least {spec.min}", "too_small", min=spec.min)
    if spec.max is not None and value > Decimal(str(spec.max)):
        raise fail(spec, f"must be at most {spec.max}", "too_large", max=spec.max)


def _date(spec: FieldSpec, value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(SITE_TZ).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail(spec, "must be a date (YYYY-MM-DD)", "type")


def _datetime(spec: FieldSpec, value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise fail(spec, "must be a date and time (ISO 8601)", "type") from None
    else:
        raise fail(spec, "must be a date and time (ISO 8601)", "type")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SITE_TZ)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise fail(spec, "is out of range", "out_of_range") from None
    if not 1 <= parsed.year <= 9998:
        raise fail(spec, "is out of range", "out_of_range")
    return parsed


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _boolean(spec: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise fail(spec, "must be true or false", "type")


def _select(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise fail(spec, "must be one of the choices", "type")
    text = value.strip()
    if text not in spec.active_choice_values():
        raise fail(spec, f"“{text[:50]}” is not one of the choices", "not_a_choice")
    return text


def _multi_select(spec: FieldSpec, value: Any) -> list[str]:
    if isinstance(value, str):  # one value, or "a;b" from a file
        value = [v for v in value.split(";") if v.strip()]
    if not isinstance(value, list | tuple):
        raise fail(spec, "must be a list of choices", "type")
    allowed = spec.active_choice_values()
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or item.strip() not in allowed:
            shown = str(item)[:50]
            raise fail(spec, f"“{shown}” is not one of the choices", "not_a_choice")
        if item.strip() not in out:
            out.append(item.strip())
    order = [c.value for c in spec.choices]
    return sorted(out, key=order.index)


def _email(spec: FieldSpec, value: Any) -> str:
    text = _string(spec, value)
    if not _EMAIL.fullmatch(text):
        raise fail(spec, "is not an e-mail address", "email")
    return text.lower()


def _phone(spec: FieldSpec, value: Any) -> str:
    text = _string(spec, value)
    if not _PHONE.fullmatch(text):
        raise fail(spec, "is not a telephone number", "phone")
    return text


def _url(spec: FieldSpec, value: Any) -> str:
    text = _string(spec, value)
    if not re.match(r"https?://[^\s/]+", text, re.IGNORECASE):
        raise fail(spec, "must be a web address starting with http:// or https://", "url")
    return text


def _postal_code(spec: FieldSpec, value: Any) -> str:
    text = _string(spec, value)
    if not _POSTAL.fullmatch(text):
        raise fail(spec, "is not a postal code", "postal_code")
    return text


def _furigana(spec: FieldSpec, value: Any) -> str:
    return _string(spec, value)


def _reference(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise fail(spec, "must be the id of a record", "type")
    try:
        number = int(value)
    except ValueError:
        raise fail(spec, "must be the id of a record", "type") from None
    if not 1 <= number <= INT64:
        raise fail(spec, "must be the id of a record", "type")
    return number  # that the record exists is checked in the same transaction (services)


NORMALISERS: dict[FieldType, Callable[[FieldSpec, Any], Any]] = {
    FieldType.text: _text,
    FieldType.long_text: _long_text,
    FieldType.integer: _integer,
    FieldType.decimal: _decimal,
    FieldType.date: _date,
    FieldType.datetime: _datetime,
    FieldType.boolean: _boolean,
    FieldType.select: _select,
    FieldType.multi_select: _multi_select,
    FieldType.email: _email,
    FieldType.phone: _phone,
    FieldType.url: _url,
    FieldType.postal_code: _postal_code,
    FieldType.furigana: _furigana,
    FieldType.reference: _reference,
}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and not value)


def normalise(spec: FieldSpec, value: Any) -> Any:
    """The stored value of ``value`` for ``spec`` (None for an empty value)."""
    if isinstance(value, str) and not value.strip(" \t\r\n\u3000"):
        return None
    if is_empty(value):
        return None
    return NORMALISERS[spec.type](spec, value)


def to_json(spec: FieldSpec, stored: Any) -> Any:
    """A stored value as the API shows it: dates and datetimes in ISO 8601, decimals as text
    (exact), multi-select as a list."""
    if stored is None:
        return None
    if isinstance(stored, datetime):
        return stored.isoformat()
    if isinstance(stored, date):
        return stored.isoformat()
    if isinstance(stored, Decimal):
        return str(stored.quantize(Decimal(1).scaleb(-spec.decimal_scale)))
    if spec.type == FieldType.decimal and isinstance(stored, float | int):  # SQLite REAL
        return str(Decimal(str(stored)).quantize(Decimal(1).scaleb(-spec.decimal_scale)))
    if isinstance(stored, tuple):
        return list(stored)
    return stored
