"""Field values: every customer field's value goes through its ``api.fields`` type.

THE SEAM for ``api/fields``, now closed: this module holds no rule of its own. Each field
definition (:class:`FieldSpec`) is turned once into an :class:`api.fields.Field` (type,
length, range, decimal places and digits, pattern, choices, the site's time zone) and every
input value (JSON from the API, a string from a schema file or a CSV cell, an old value during a
type change, a filter's value) is cleaned by it: NFKC, e-mail lower-casing, phone digits,
furigana in katakana, postal codes as 123-4567, dates and datetimes typed in JST… Errors carry
``api.fields``' codes and params, so their messages exist in ja and en (``api.fields.localize``,
the admin catalogs' ``error.<code>``).

What stays here is storage: an empty value is stored as NULL (never ""), a decimal is
quantised to its column's scale, and a retired choice is refused for new values (``api.fields``
knows choices, not their retirement).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from api.customers.definitions import FieldSpec
from api.customers.types import DECIMAL_PRECISION, TEXT_TYPES, FieldType
from api.errors import ValidationFailed
from api.fields import Field, error
from api.fields.chars import trim
from api.fields.types import MAX_CHOICES_IN_MESSAGE

# The api/fields type of each customer field type (the same names; kept explicit so a new
# customer type must say which rule it uses).
FIELD_TYPES: dict[FieldType, str] = {
    FieldType.text: "text",
    FieldType.long_text: "long_text",
    FieldType.integer: "integer",
    FieldType.decimal: "decimal",
    FieldType.date: "date",
    FieldType.datetime: "datetime",
    FieldType.boolean: "boolean",
    FieldType.select: "select",
    FieldType.multi_select: "multi_select",
    FieldType.email: "email",
    FieldType.phone: "phone",
    FieldType.url: "url",
    FieldType.postal_code: "postal_code",
    FieldType.furigana: "furigana",
    FieldType.reference: "reference",
    FieldType.file: "file",
}

_CACHE_ATTR = "_value_field"


def value_field(spec: FieldSpec) -> Field:
    """The ``api.fields`` definition of ``spec`` (built once per spec: a type change runs it
    over every record)."""
    cached = spec.__dict__.get(_CACHE_ATTR)
    if cached is None:
        cached = _build(spec)
        object.__setattr__(spec, _CACHE_ATTR, cached)
    return cached


def _build(spec: FieldSpec) -> Field:
    options: dict[str, Any] = {}
    kind = spec.type
    if kind in TEXT_TYPES:
        options["max_length"] = spec.length_limit
        if spec.pattern:
            options["pattern"] = spec.pattern
    if kind == FieldType.integer:
        options["min"] = None if spec.min is None else int(spec.min)
        options["max"] = None if spec.max is None else int(spec.max)
    elif kind == FieldType.decimal:
        options["min"] = None if spec.min is None else Decimal(str(spec.min))
        options["max"] = None if spec.max is None else Decimal(str(spec.max))
        options["decimal_places"] = spec.decimal_scale
        options["max_digits"] = DECIMAL_PRECISION
    elif kind in (FieldType.select, FieldType.multi_select):
        # every choice, retired ones too (so "ＧＯＬＤ" still finds "gold"); retirement is
        # checked after cleaning
        options["choices"] = tuple(c.value for c in spec.choices) or ("",)
    elif kind in (FieldType.date, FieldType.datetime):
        options["timezone"] = spec.time_zone  # "2026-04-01 09:30" is in the site's zone
    return Field(FIELD_TYPES[kind], **options)


def _fail(spec: FieldSpec, code: str, params: dict[str, Any] | None = None) -> ValidationFailed:
    problem = error(spec.key, code, params)
    return ValidationFailed(detail=f"{spec.key}: {problem.message}", errors=[problem])


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and not value)


def normalise(spec: FieldSpec, value: Any) -> Any:
    """The stored value of ``value`` for ``spec`` (None for an empty value); a 422 on the field
    with ``api.fields``' code and params when it is not one."""
    if isinstance(value, str) and not trim(value):
        return None
    if is_empty(value):
        return None
    result = value_field(spec).clean(value, name=spec.key)
    if not result.ok:
        problem = result.errors[0]
        raise ValidationFailed(detail=f"{spec.key}: {problem.message}", errors=list(result.errors))
    clean = result.value
    if is_empty(clean):
        return None
    if spec.type in (FieldType.select, FieldType.multi_select):
        _refuse_retired(spec, clean)
    if isinstance(clean, Decimal):
        clean = clean.quantize(Decimal(1).scaleb(-spec.decimal_scale))
    return clean


def _refuse_retired(spec: FieldSpec, clean: Any) -> None:
    active = spec.active_choice_values()
    picked = clean if isinstance(clean, list) else [clean]
    if all(v in active for v in picked):
        return
    shown = [c.value for c in spec.choices if not c.retired]
    params = {"choices": ", ".join(shown)} if len(shown) <= MAX_CHOICES_IN_MESSAGE else None
    raise _fail(spec, "invalid_choice", params)


# Types whose stored values are already what ``to_json`` shows (text, whole numbers, booleans,
# a choice, a record id): bulk paths skip the call for them.
_JSON_READY = frozenset({*TEXT_TYPES, FieldType.integer, FieldType.boolean, FieldType.select,
                         FieldType.reference})  # fmt: skip


def json_ready(spec: FieldSpec) -> bool:
    """Whether :func:`to_json` returns every stored value of ``spec`` unchanged."""
    return spec.type in _JSON_READY


def to_json(spec: FieldSpec, stored: Any) -> Any:
    """A stored value as the API shows it: dates and datetimes in ISO 8601, decimals as text
    (exact), multi-select as a list, a file as its metadata."""
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
