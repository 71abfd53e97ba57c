"""Typed fields: one module that normalises and validates every value Kizuna stores.

Plain Python (no Litestar): services, the CSV importer and the form handler all use it, so a
rule lives in one place. See README.md.

The names below are loaded when first used (PEP 562 `__getattr__`): the rule language, which
the site build imports, needs only `chars` and `messages`, not every field type.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Name -> the module that defines it.
_HOME = {
    "FieldError": "api.errors",
    **dict.fromkeys(("match_key", "nfkc", "search_key", "trim"), "api.fields.chars"),
    **dict.fromkeys(
        ("MESSAGES", "catalog", "localize", "message", "report_line"), "api.fields.messages"
    ),
    **dict.fromkeys(
        (
            "TYPES",
            "Cleaned",
            "Field",
            "FieldSet",
            "FieldType",
            "Invalid",
            "error",
            "raise_for",
        ),
        "api.fields.types",
    ),
}

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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once: later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
