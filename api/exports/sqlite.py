"""SQLite's fast path for CSV exports: the cells are made by the query, the rows written in batches.

Formatting 30 cells a row through the general path (one converter call and one writer call per
cell) costs ~70–100 µs a row, several times ``sqlite3`` + ``csv.writer`` of the raw columns.
SQLite has no ``COPY``, but the same idea works: the query returns the finished text of every
cell, and Python writes a batch of rows at once (``csv.writer.writerows`` into a buffer) and
encodes the batch at once (the CP932 twins, then a strict ``encode``: a character CP932 cannot
hold raises :class:`api.exports.copy.Gap`, and the caller writes the export the general way,
which lists each gap by record and field).

No rule is written twice here:

- what SQL does is only what cannot disagree: the OWASP neutralisation of a text column
  (``substr(x, 1, 1) IN`` :data:`api.tabular.reader.FORMULA_STARTS`), booleans as
  ``TRUE``/``FALSE``, a choice's label for its value (each label neutralised once, in Python,
  by :func:`api.tabular.writer.neutralise`), the owner's name, a reference's label;
- everything that needs a conversion (decimals, multi-selects, file names, any type without a
  case below) is a **registered SQLite function** that calls the general path's own converter
  (:func:`api.exports.cells.converters`) on the value as SQLAlchemy would have read it
  (the column type's result processor) and the writer's own cell text
  (:func:`api.tabular.writer.cell_text`) — the same Python code, called by SQLite;
- datetimes: SQLite's ``datetime()`` adds to the stored UTC time (its whole seconds) the site
  zone's offset *for that UTC hour*, which a registered function reads from the same
  ``zoneinfo`` (memoised by hour); an hour in which the offset changes (a daylight-saving
  change not on a whole UTC hour) has no single offset, and that value goes to the general
  converter, registered as above.

Rows come in the list's keyset order (``records._keyset``, as :func:`iter_rows` walks it), so
the order is the general path's by construction. A test exports the same hostile and typed
records both ways and compares the bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import sqlalchemy as sa

from api.customers import records
from api.customers.query import sort_columns
from api.customers.record_set import RecordSet
from api.customers.types import FieldType, column_name, table_name
from api.exports import cells
from api.exports.copy import STAFF, Gap, _twins
from api.livesettings.services import site_time_zone
from api.tabular.reader import FORMULA_STARTS
from api.tabular.writer import cell_text, neutralise

_STARTS = [ord(c) for c in FORMULA_STARTS]


def _neutral(expr: Any) -> Any:
    """:func:`neutralise` in SQL: a text starting with a formula character gets an apostrophe
    (``unicode()`` is the first character's code point: an integer compared, no string made)."""
    return sa.case((sa.func.unicode(expr).in_(_STARTS), sa.literal("'") + expr), else_=expr)


def _named(expr: Any, names: dict[str, str]) -> Any:
    """A choice's label (neutralised here, once) for its value; other values neutralised; an
    empty value empty (as the general path's ``_named``)."""
    rest = _neutral(sa.func.nullif(expr, ""))
    if not names:
        return rest
    return sa.case({v: sa.literal(neutralise(n)) for v, n in names.items()}, value=expr, else_=rest)


def cell_expressions(
    session: Any, rs: RecordSet, columns: Sequence[str], options: Any
) -> list[Any]:
    """One SQL expression per column giving the cell's finished text (or an integer, or NULL
    for an empty cell). Registers the functions it uses on the session's connection."""

    design = rs.design
    table = design.sa_table()
    lang = options.lang
    display = options.values == "display"
    dialect = session.get_bind().dialect
    raw = session.connection().connection.driver_connection
    converters, _ = cells.converters(session, design, columns, lang, display)

    def labels(choices: Any) -> dict[str, str]:
        return cells.choice_labels(choices, lang, display)

    def through_python(i: int, col: Any, *, stored_text: bool = False) -> Any:
        """The general path's converter, called by SQLite on the stored value (as SQLAlchemy
        reads it; ``stored_text``: the converter takes the stored text itself, as the
        datetime converter takes ISO text)."""
        process: Callable[[Any], Any] | None = (
            None if stored_text else col.type.dialect_impl(dialect).result_processor(dialect, None)
        )
        convert = converters[i][1]

        def cell(value: Any) -> Any:
            if value is None:
                return None
            text = cell_text(convert(process(value) if process else value))
            return text or None

        name = f"kizuna_export_{i}"
        # Memoised: records written together share their times (an import's created_at).
        raw.create_function(name, 1, functools.lru_cache(maxsize=4_096)(cell), deterministic=True)
        return getattr(sa.func, name)(col)

    zone = site_time_zone(session)

    @functools.lru_cache(maxsize=8_192)  # about a year of hours
    def offset(hour: str | None) -> str | None:
        """The site zone's UTC offset during this UTC hour (``2026-04-01 09``) as a SQLite
        modifier, from the same ``zoneinfo`` as the converter; None when the offset changes
        within the hour (a DST change) or the text is not an hour: the converter then decides."""
        if hour is None:
            return None
        try:
            start = dt.datetime.fromisoformat(hour + ":00:00").replace(tzinfo=dt.UTC)
        except ValueError:
            return None
        first = start.astimezone(zone).utcoffset()
        last = (start + dt.timedelta(seconds=3599)).astimezone(zone).utcoffset()
        if first is None or first != last:
            return None
        return f"{int(first.total_seconds()):+d} seconds"

    raw.create_function("kizuna_zone_offset", 1, offset, deterministic=True)

    def local_time(i: int, col: Any) -> Any:
        """A stored UTC time (``2026-04-01 00:30:00.123456``) in the site's zone, to the second:
        SQLite adds the zone's offset for that hour to the whole seconds (the fraction is cut
        first, as the converter drops it; SQLite would round it); when the hour has no single
        offset, the general converter (registered) does it."""
        whole = sa.func.substr(col, 1, 19)
        shifted = sa.func.datetime(whole, sa.func.kizuna_zone_offset(sa.func.substr(col, 1, 13)))
        return sa.func.coalesce(shifted, through_python(i, col, stored_text=True))

    refs = cells.References(session, design)
    out: list[Any] = []
    for i, key in enumerate(columns):
        if key == "id":
            out.append(table.c.id)
        elif key == "public_id":
            out.append(_neutral(table.c.public_id))
        elif key == "status":
            out.append(_named(table.c.status, labels(design.spec.statuses)))
        elif key == "owner_id":
            if display:
                out.append(sa.func.coalesce(_neutral(STAFF.c.name), table.c.owner_id))
            else:
                out.append(table.c.owner_id)
        elif key in ("created_at", "updated_at"):
            out.append(local_time(i, table.c[key]))
        else:
            spec = design.specs[key]
            col = table.c[column_name(key)]
            kind = spec.type
            if kind in (FieldType.text, FieldType.long_text, FieldType.email, FieldType.phone,
                        FieldType.url, FieldType.postal_code, FieldType.furigana):  # fmt: skip
                out.append(_neutral(col))
            elif kind in (FieldType.integer, FieldType.date):
                out.append(col)  # an integer; a date is stored as its ISO text
            elif kind == FieldType.datetime:
                out.append(local_time(i, col))
            elif kind == FieldType.boolean:
                out.append(sa.case((col == 1, "TRUE"), (col == 0, "FALSE")))
            elif kind == FieldType.select:
                out.append(_named(col, labels(spec.choices)))
            elif kind == FieldType.reference and display and spec.references:
                label = refs.column_of(spec.references)
                if label is None:
                    out.append(col)
                else:
                    target = sa.table(
                        table_name(spec.references), sa.column("id"), sa.column(label, sa.Text)
                    )
                    name = sa.select(target.c[label]).where(target.c.id == col).scalar_subquery()
                    out.append(sa.func.coalesce(_neutral(name), col))
            elif kind == FieldType.reference:
                out.append(col)
            else:  # decimal, multi-select, file: the general converter
                out.append(through_python(i, col))
    return out


def write_rows(
    session: Any,
    rs: RecordSet,
    columns: Sequence[str],
    options: Any,
    stream: BinaryIO,
    *,
    batch: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every record of the set as CSV rows (no header) to ``stream``; how many. Raises
    :class:`Gap` at the first batch holding a character CP932 cannot hold (``stream`` then
    holds part of the export: the caller starts again)."""
    design = rs.design
    table = design.sa_table()
    cells = cell_expressions(session, rs, columns, options)
    width = len(cells)
    sort, descending = sort_columns(design, rs.sort)[0]
    picked = [c.label(f"c{i}") for i, c in enumerate(cells)]
    extra = [table.c.id] if sort is table.c.id else [table.c.id, sort]
    source: Any = table
    if "owner_id" in columns and options.values == "display":
        source = table.outerjoin(STAFF, STAFF.c.id == table.c.owner_id)
    base = sa.select(*picked, *extra).select_from(source).where(rs.condition)
    cp932 = options.encoding == "cp932"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cursor: str | None = None
    written = 0
    while True:
        page = records._keyset(
            session, design, base, sort, descending, cursor=cursor, offset=0, limit=batch
        )
        if page.items:
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(row[:width] for row in page.items)
            text = buffer.getvalue()
            if cp932:
                if not text.isascii():
                    try:
                        data = _twins(text).encode("cp932")
                    except UnicodeEncodeError:
                        raise Gap() from None
                else:
                    data = text.encode("ascii")
            else:
                data = text.encode("utf-8")
            stream.write(data)
            written += len(page.items)
            if progress is not None:
                progress(written)
        if page.next_cursor is None:
            return written
        cursor = page.next_cursor
