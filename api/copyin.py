"""Many rows into a table at once: PostgreSQL's ``COPY … FROM STDIN`` in its text format,
formatted here, and SQLite's ``executemany`` through the driver.

psycopg's ``write_row`` adapts each value by type (arrays and JSON through Python dumpers),
which costs more than the rest of a bulk write; the bulk paths (the CSV import's records,
history rows, search data and match keys) format each line themselves, as text:
fields separated by TAB, ``\\N`` for NULL, backslash escapes for backslash, TAB, LF and CR.
Arrays are written as PostgreSQL array literals (``{"a","b"}``), JSON as its text (encoded by
msgspec, which the API uses already: ten times faster than ``json.dumps`` on the
import's history rows, and ``jsonb`` reads the same value from either).

On SQLite, :func:`insert_many` converts each value with its column type's own bind processor
(the same conversion SQLAlchemy applies: datetimes, JSON, decimals) and hands tuples to the
driver's ``executemany``, skipping SQLAlchemy's per-row statement machinery, which cost a
fifth of an import there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

NULL = "\\N"
BLOCK = 1 << 20  # characters sent to the server at a time
_JSON = msgspec.json.Encoder()


def text(value: str) -> str:
    """A text value as one field of COPY's text format."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def array(items: Iterable[str]) -> str:
    """A ``text[]`` value as one field: every element quoted (NUL cannot be in stored text,
    so it stands for the separators while the elements are escaped in one pass)."""
    if not isinstance(items, list | tuple | set | frozenset):
        items = list(items)
    if not items:
        return "{}"
    joined = "\x00".join(items)
    if "\\" in joined or '"' in joined:
        joined = joined.replace("\\", "\\\\").replace('"', '\\"')
    return text('{"' + joined.replace("\x00", '","') + '"}')


def jsonb(value: Any) -> str:
    """A JSON value as one field (NULL for None)."""
    if value is None:
        return NULL
    return text(_JSON.encode(value).decode())


def field(value: Any) -> str:
    """Any scalar the bulk paths write: None, str, bool, int, Decimal, date and datetime (ISO
    8601, which PostgreSQL reads for date and timestamptz)."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return text(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def copy_lines(conn: Connection, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """Send lines already formatted (each ending with ``\\n``) to ``COPY table (columns)`` on
    the transaction's own connection. ``table`` and ``columns`` are quoted here."""
    quote = conn.dialect.identifier_preparer.quote
    driver: Any = conn.connection.dbapi_connection
    names = ", ".join(quote(c) for c in columns)
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
    ):
        block: list[str] = []
        size = 0
        for line in lines:
            block.append(line)
            size += len(line)
            if size >= BLOCK:
                copy.write("".join(block))
                block, size = [], 0
        if block:
            copy.write("".join(block))


def insert_many(conn: Connection, table: sa.Table, rows: Sequence[Any]) -> None:
    """INSERT ``rows`` (mappings by column name, all with the same keys) through the driver's
    ``executemany``, each value converted by its column type's bind processor."""
    if not rows:
        return
    names = list(rows[0])
    dialect = conn.dialect
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    if not any(processors):
        conn.exec_driver_sql(sql, [tuple(row[n] for n in names) for row in rows])
        return
    pairs = list(zip(names, processors, strict=True))
    conn.exec_driver_sql(
        sql, [tuple(row[n] if p is None else p(row[n]) for n, p in pairs) for row in rows]
    )
