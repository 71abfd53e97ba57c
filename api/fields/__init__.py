"""Typed fields: one module that normalises and validates every value Kizuna stores.

Plain Python (no Litestar): services, the CSV importer and the form handler all use it, so a
rule lives in one place. See README.md.
"""

from api.errors import FieldError
from api.fields.chars import match_key, nfkc, search_key, trim
from api.fields.messages import MESSAGES, catalog, localize, message, report_line
from api.fields.types import (
    TYPES,
    Cleaned,
    Field,
    FieldSet,
    FieldType,
    Invalid,
    error,
    raise_for,
)

__all__ = [
    "MESSAGES",
    "TYPES",
    "Cleaned",
    "Field",
    "FieldError",
    "FieldSet",
    "FieldType",
    "Invalid",
    "catalog",
    "error",
    "localize",
    "match_key",
    "message",
    "nfkc",
    "raise_for",
    "report_line",
    "search_key",
    "trim",
]
