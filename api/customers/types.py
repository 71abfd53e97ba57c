"""Field types, the keys staff choose, and the physical names the app derives from them.

A staff-designed table ``customers`` is the SQL table ``ct_customers``; its field ``email`` is
the column ``c_email``. Physical names are always derived from a key that passed
:func:`check_key` and are always quoted by SQLAlchemy when emitted: input never reaches SQL
as text.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

from api.errors import FieldError, ValidationFailed

KEY_MAX_LENGTH = 30
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# PostgreSQL truncates identifiers at 63 bytes; names are derived so that none is longer.
MAX_IDENTIFIER = 63

TABLE_PREFIX = "ct_"
COLUMN_PREFIX = "c_"

# Columns every data table has besides its fields (they are not prefixed, fields are).
SYSTEM_COLUMNS = ("id", "public_id", "owner_id", "status", "created_at", "updated_at", "version")

# Keys refused for tables and fields. Physical names are prefixed, so SQL never sees a bare
# key; these are refused because a key also names a value in the JSON API, in the schema file,
# in filters and in access rules (``plan in ("gold") and not status == "trial"``), where a
# field called ``and`` or ``id`` would be ambiguous.
RESERVED_KEYS = frozenset(
    {
        # the record's own columns and what the API puts beside the fields
        *SYSTEM_COLUMNS,
        "owner",
        "table",
        "fields",
        "values",
        "history",
        "record",
        "records",
        # words of the rule and filter languages
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "true",
        "false",
        "none",
        # SQL words that are reserved in both PostgreSQL and SQL:2016
        "all",
        "as",
        "by",
        "case",
        "check",
        "column",
        "constraint",
        "create",
        "default",
        "delete",
        "distinct",
        "drop",
        "else",
        "end",
        "from",
        "grant",
        "group",
        "having",
        "insert",
        "into",
        "join",
        "limit",
        "order",
        "select",
        "union",
        "unique",
        "update",
        "user",
        "where",
        "with",
    }
)

KEY_RULE = (
    f"a key starts with a lower-case letter a–z, continues with a–z, 0–9 or _, is at most "
    f"{KEY_MAX_LENGTH} characters long, and is not a reserved word "
    f"({', '.join(sorted(RESERVED_KEYS))})"
)


def check_key(value: object, field: str = "key") -> str:
    """The key if it follows :data:`KEY_RULE`; a 422 on ``field`` stating the rule if not."""
    if not isinstance(value, str):
        raise _bad_key(field, "must be a string", "invalid_key")
    if len(value) > KEY_MAX_LENGTH:
        raise _bad_key(field, f"is longer than {KEY_MAX_LENGTH} characters", "key_too_long")
    if not KEY_PATTERN.fullmatch(value):
        raise _bad_key(field, "has a character outside the allowed ones", "invalid_key")
    if value in RESERVED_KEYS:
        raise _bad_key(field, f"“{value}” is a reserved word", "reserved_key")
    return value


def _bad_key(field: str, problem: str, code: str) -> ValidationFailed:
    message = f"{problem}: {KEY_RULE}"
    return ValidationFailed(
        detail=f"{field}: {message}",
        code="invalid_key",
        errors=[
            FieldError(
                field,
                message,
                code,
                params={"max_length": KEY_MAX_LENGTH, "pattern": KEY_PATTERN.pattern},
            )
        ],
    )


def table_name(key: str) -> str:
    return TABLE_PREFIX + key


def column_name(key: str) -> str:
    return COLUMN_PREFIX + key


def object_name(kind: str, table_key: str, *parts: str) -> str:
    """Name of an index or constraint on a data table, at most 63 characters on any database.

    ``ix_ct_customers_email``; a name that would be longer keeps its start and ends with a
    hash of the whole, so it stays unique and stable.
    """
    name = "_".join((kind, table_name(table_key), *parts))
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]  # noqa: S324 (a name, not security)
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"


class FieldType(StrEnum):
    text = "text"
    long_text = "long_text"
    integer = "integer"
    decimal = "decimal"
    date = "date"
    datetime = "datetime"
    boolean = "boolean"
    select = "select"
    multi_select = "multi_select"
    email = "email"
    phone = "phone"
    url = "url"
    postal_code = "postal_code"
    furigana = "furigana"
    reference = "reference"
    file = "file"


# Types whose values are strings written by people (text search, length limits apply).
TEXT_TYPES = frozenset(
    {
        FieldType.text,
        FieldType.long_text,
        FieldType.email,
        FieldType.phone,
        FieldType.url,
        FieldType.postal_code,
        FieldType.furigana,
    }
)

# Longest value of each string type; also what keeps a value within a B-tree index entry.
MAX_LENGTHS: dict[FieldType, int] = {
    FieldType.text: 1000,
    FieldType.long_text: 100_000,
    FieldType.email: 254,
    FieldType.phone: 30,
    FieldType.url: 2000,
    FieldType.postal_code: 10,
    FieldType.furigana: 1000,
    FieldType.select: 200,
}
DEFAULT_TEXT_LENGTH = 255

# Types that cannot be unique or indexed with a plain B-tree index.
NOT_INDEXABLE = frozenset({FieldType.long_text, FieldType.multi_select, FieldType.file})
# Types that keep their type for good (their values cannot be converted: add a new field).
FIXED_TYPES = frozenset({FieldType.reference, FieldType.file})

DECIMAL_PRECISION = 18
DEFAULT_DECIMAL_SCALE = 2
MAX_DECIMAL_SCALE = 6


def check_type(value: object, field: str = "type") -> FieldType:
    try:
        return FieldType(str(value))
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        raise ValidationFailed(
            detail=f"{field}: is not a field type (one of {allowed})",
            errors=[FieldError(field, f"is not a field type (one of {allowed})", "unknown_type")],
        ) from None
