"""Full-text search across a table's text fields that finds two-character Japanese words.

Each record has a **search text**: the search key (``api.fields.chars.search_key``: NFKC,
case-folded, katakana → hiragana, no whitespace, common kanji variants folded) of every active
text-like field — text, long text, e-mail, phone, URL, postal code, furigana — and of the
labels (ja, en) and value of select and multi-select choices, one field per line. A query is
split into terms at whitespace; each term goes through the same ``search_key``, and a record
matches when its search text contains every term (``山田 東京`` finds Yamada in Tokyo;
``ﾔﾏﾀﾞ``, ``ヤマダ`` and ``やまだ`` are one term).

The index holds each record's distinct **characters and character bigrams** (never across two
fields). A term of one character is looked up as itself, a longer one as all its bigrams; a
term of three or more characters is then rechecked against the search text (``strpos`` /
``instr``: no LIKE, so ``%`` and ``_`` are ordinary characters). Trigram indexes (pg_trgm, the
FTS5 trigram tokenizer) cannot serve terms under three characters, and pg_bigm is not
available, hence bigrams:

* **PostgreSQL**: ``ct_<key>$search (id, body, grams text[])`` with a GIN index on ``grams``;
  a term is ``grams @> ARRAY[…]`` (exact for one or two characters).
* **SQLite**: ``ct_<key>$search (id, body)`` plus a contentless FTS5 table ``ct_<key>$grams``
  (``detail=none``: only which records hold a token) whose tokens are the same grams.

The names carry ``$``, which no key can contain, so they never meet another table's; they start
with ``ct_``, so Alembic's ``include_object`` leaves them alone like the data tables.

The search data is written in the same transaction as the record (create, update, delete),
rebuilt for the whole table when a field that feeds it is retired, restored, changes type or
has its choices relabelled, and :func:`rebuild_search` / :func:`index_rows` are what the CSV
import calls (per batch of rows, or once at the end).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from api import copyin
from api.customers import duplicates
from api.customers.definitions import FieldSpec
from api.customers.types import TEXT_TYPES, FieldType, column_name, object_name, table_name
from api.errors import FieldError, ValidationFailed
from api.fields.chars import has_bidi_control, has_control, search_key

# Types whose values feed the search text.
SEARCHED_TYPES = frozenset({*TEXT_TYPES, FieldType.select, FieldType.multi_select})
MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
BATCH = 2_000
_SPLIT = re.compile(r"[\s\u200b\ufeff]+")
# FTS5 tokens: every character but separators (Z*) and controls (C*), so a gram is one token.
_FTS_TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S*'"


def search_table_name(key: str) -> str:
    return f"{table_name(key)}$search"


def fts_table_name(key: str) -> str:
    return f"{table_name(key)}$grams"


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


@lru_cache(maxsize=1024)  # one Table object per table: SQLAlchemy caches its statements
def search_table(key: str, dialect: str) -> sa.Table:
    columns: list[sa.Column[Any]] = [
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    ]
    if dialect == "postgresql":
        columns.append(sa.Column("grams", ARRAY(sa.Text), nullable=False))
    return sa.Table(search_table_name(key), sa.MetaData(), *columns)


# ------------------------------------------------------------------ the rule


def searched(spec: FieldSpec) -> bool:
    return spec.type in SEARCHED_TYPES


def search_text(specs: Sequence[FieldSpec], row: Mapping[Any, Any]) -> str:
    """A record's search text from its stored values (``row`` by column name): the search key
    of each value, one a line. The values are folded in one call, joined by NUL (which no
    stored value holds and no folding step touches), then split again."""
    return _search_text(_text_plan(specs), row)


# What each searched field gives: (column, None) for a text value; (column, labels by choice
# value) for a choice, whose value and labels are all searched.
TextPlan = list[tuple[str, dict[str, list[str]] | None]]


def _text_plan(specs: Sequence[FieldSpec]) -> TextPlan:
    plan: TextPlan = []
    for spec in specs:
        if spec.type in (FieldType.select, FieldType.multi_select):
            labels = {c.value: [str(x) for x in (c.label or {}).values()] for c in spec.choices}
            plan.append((column_name(spec.key), labels))
        else:
            plan.append((column_name(spec.key), None))
    return plan


def _search_text(plan: TextPlan, row: Mapping[Any, Any]) -> str:
    texts: list[str] = []
    for column, labels in plan:
        stored = row.get(column)
        if stored is None:
            continue
        if labels is None:
            texts.append(stored if isinstance(stored, str) else str(stored))
            continue
        for value in stored if isinstance(stored, list | tuple) else [stored]:
            texts.append(str(value))
            texts.extend(labels.get(str(value), ()))
    if not texts:
        return ""
    keys = dict.fromkeys(search_key("\x00".join(texts)).split("\x00"))
    return "\n".join(k for k in keys if k)


def grams(body: str) -> list[str]:
    """The distinct characters and bigrams of each line of a search text, sorted."""
    return sorted(gram_set(body))


def gram_set(body: str) -> set[str]:
    """:func:`grams` unsorted (what the index needs)."""
    out: set[str] = set()
    for part in body.split("\n"):
        out.update(part)
        out.update(map(str.__add__, part, part[1:]))
    return out


def _term_grams(term: str) -> list[str]:
    return [term] if len(term) == 1 else sorted({term[i : i + 2] for i in range(len(term) - 1)})


def parse_query(q: str) -> list[str]:
    """The terms of a query, each folded by ``search_key``; a 422 on ``q`` for bad input.
    An empty list: nothing to search for (only spaces)."""
    if not isinstance(q, str):
        raise _bad("must be text", "invalid")
    if len(q) > MAX_QUERY_LENGTH:
        raise _bad(f"is longer than {MAX_QUERY_LENGTH} characters", "too_long")
    if has_control(q, allow_tab=True) or has_bidi_control(q):
        raise _bad("contains control characters", "control_characters")
    terms: list[str] = []
    for word in _SPLIT.split(unicodedata.normalize("NFKC", q)):
        key = search_key(word)
        if key and key not in terms:
            terms.append(key)
    if len(terms) > MAX_TERMS:
        raise _bad(f"has more than {MAX_TERMS} words", "too_many_terms")
    return terms


def _bad(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(
        detail=f"q: {message}",
        errors=[FieldError("q", message, code, params={"max_length": MAX_QUERY_LENGTH})],
    )


# ------------------------------------------------------------------ reading


def matches(design: Any, terms: Sequence[str]) -> ColumnElement[bool]:
    """The condition "the record's search text contains every term" on ``design``'s table."""
    table = design.sa_table()
    search = search_table(design.key, design.dialect)
    conditions: list[ColumnElement[bool]] = []
    if design.dialect == "postgresql":
        wanted = sorted({g for term in terms for g in _term_grams(term)})
        conditions.append(search.c.grams.contains(sa.cast(wanted, ARRAY(sa.Text))))
        rechecked = [t for t in terms if len(t) > 2]
        candidates = sa.select(search.c.id)
    else:
        fts = sa.table(fts_table_name(design.key), sa.column("rowid"))
        query = " AND ".join(
            '"' + g.replace('"', '""') + '"' for term in terms for g in _term_grams(term)
        )
        fts_match = sa.text(f"{_quote_name(fts_table_name(design.key))} MATCH :fts_query")
        conditions.append(
            search.c.id.in_(sa.select(fts.c.rowid).where(fts_match.bindparams(fts_query=query)))
        )
        rechecked = list(terms)
        candidates = sa.select(search.c.id)
    for term in rechecked:
        position = sa.func.strpos if design.dialect == "postgresql" else sa.func.instr
        conditions.append(position(search.c.body, term) > 0)
    return table.c.id.in_(candidates.where(*conditions))


def _quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------ writing


def create_objects(conn: Connection, key: str) -> None:
    """The search table (and its index) of a new data table; harmless if they exist."""
    dialect = conn.dialect.name
    table = search_table(key, dialect)
    table.create(conn, checkfirst=True)
    duplicates.create_objects(conn, key)  # the match keys live beside the search data
    if dialect == "postgresql":
        _create_gin(conn, key)
    else:
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {_quote(conn, fts_table_name(key))} USING "
            f"fts5(g, content='', detail=none, columnsize=0, tokenize=\"{_FTS_TOKENIZE}\")"
        )


def _gin_name(key: str) -> str:
    return object_name("ix", key, "$grams")


def _create_gin(conn: Connection, key: str) -> None:
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {_quote(conn, _gin_name(key))} ON "
        f"{_quote(conn, search_table_name(key))} USING gin (grams)"
    )


# ---------------------------------------------------------- the GIN index during big imports
# A GIN index grows slowly row by row (each record adds ~120 grams); made at once over the
# finished table it costs a fraction of that. A large import therefore drops it before its
# first chunk and makes it again after its last (or when it stops): searches keep working in
# between, only without the index. See docs in api/imports/README.md ("Speed").
DEFER_INDEX_ROWS = 50_000


def index_suspended(conn: Connection, key: str) -> bool:
    """Whether the table's GIN index is missing (a large import runs, or one stopped hard)."""
    if conn.dialect.name != "postgresql":
        return False
    missing = conn.execute(
        sa.text("SELECT to_regclass(:t) IS NOT NULL AND to_regclass(:ix) IS NULL"),
        {"t": _quote(conn, search_table_name(key)), "ix": _quote(conn, _gin_name(key))},
    ).scalar_one()
    return bool(missing)


def suspend_index(conn: Connection, design: Any, rows_coming: int) -> bool:
    """Drop the GIN index before writing ``rows_coming`` rows when that is cheaper than
    maintaining it: at least ``DEFER_INDEX_ROWS`` rows and at least as many as the table has
    (PostgreSQL's estimate). True when the index is (now) absent. No-op on SQLite."""
    if conn.dialect.name != "postgresql" or rows_coming < DEFER_INDEX_ROWS:
        return False
    estimate = conn.execute(
        sa.text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
        {"t": _quote(conn, search_table_name(design.key))},
    ).scalar()
    if estimate is not None and int(estimate) > rows_coming:
        return False
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_quote(conn, _gin_name(design.key))}")
    return True


def restore_index(conn: Connection, key: str) -> bool:
    """Make the GIN index again if it is missing; True when it was made. No-op on SQLite."""
    if not index_suspended(conn, key):
        return False
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    _create_gin(conn, key)
    return True


def _specs(design: Any) -> list[FieldSpec]:
    return [spec for _, spec in design.active() if searched(spec)]


def feeds_search(design: Any, changed_columns: Iterable[str]) -> bool:
    """Whether writing these columns changes a record's search data: its search text, or the
    match keys of duplicate finding that are kept with it (a company reference, say). Every
    write path asks this before :func:`index_records`."""
    changed = list(changed_columns)
    names = {column_name(s.key) for s in _specs(design)}
    return any(c in names for c in changed) or duplicates.feeds_keys(design, changed)


def index_rows(
    session: Session, design: Any, rows: Iterable[Mapping[Any, Any]], *, fresh: bool = False
) -> int:
    """Write the search data of these records (each a mapping by column name with ``id``),
    replacing what they had. The per-record call of every write, and the CSV import's bulk
    call (pass thousands at once). ``fresh``: the records were just made (their ids just
    taken), so they have nothing to replace — the deletes are skipped (at an import's chunk of
    5,000, they cost as much as the match keys' whole write). Returns how many rows were
    written."""
    rows = list(rows)
    specs = _specs(design)
    conn = session.connection()
    duplicates.index_rows(conn, design, rows, fresh=fresh)  # in step with the search data
    count = 0
    plan = _text_plan(specs)
    batch: list[tuple[int, str]] = []
    for row in rows:
        batch.append((int(row["id"]), _search_text(plan, row)))
        if len(batch) >= BATCH:
            count += _write(conn, design, batch, fresh)
            batch = []
    if batch:
        count += _write(conn, design, batch, fresh)
    return count


def _write(conn: Connection, design: Any, batch: list[tuple[int, str]], fresh: bool) -> int:
    if not fresh:
        _delete(conn, design, [i for i, _ in batch])
    return _insert(conn, design, batch)


def _insert(conn: Connection, design: Any, batch: list[tuple[int, str]]) -> int:
    kept = [(i, body) for i, body in batch if body]
    if not kept:
        return 0
    search = search_table(design.key, design.dialect)
    if design.dialect == "postgresql":
        # COPY on the transaction's own connection: the fastest way in, for one row or many.
        lines = (f"{i}\t{copyin.text(b)}\t{copyin.array(gram_set(b))}\n" for i, b in kept)
        copyin.copy_lines(conn, search.name, ("id", "body", "grams"), lines)
    else:
        copyin.insert_many(conn, search, [{"id": i, "body": body} for i, body in kept])
        _fts(conn, design.key, "", [(i, " ".join(grams(body))) for i, body in kept])
    return len(kept)


def _fts(conn: Connection, key: str, command: str, rows: list[tuple[int, str]]) -> None:
    """Write to the FTS5 table: add rows (``command`` empty), ``delete`` them (given their
    tokens) or ``delete-all``. Its name is derived from a checked key and quoted; values are
    bound."""
    fts = _quote(conn, fts_table_name(key))
    if command == "delete-all":
        conn.exec_driver_sql(f"INSERT INTO {fts} ({fts}) VALUES ('delete-all')")  # noqa: S608
    elif command == "delete":
        sql = f"INSERT INTO {fts} ({fts}, rowid, g) VALUES ('delete', ?, ?)"  # noqa: S608
        conn.exec_driver_sql(sql, rows)
    else:
        sql = f"INSERT INTO {fts} (rowid, g) VALUES (?, ?)"  # noqa: S608
        conn.exec_driver_sql(sql, rows)


def _delete(conn: Connection, design: Any, ids: list[int]) -> None:
    search = search_table(design.key, design.dialect)
    if design.dialect == "sqlite":
        # A contentless FTS5 table forgets a row only when told its tokens: they are the
        # grams of the stored search text.
        old = conn.execute(sa.select(search.c.id, search.c.body).where(search.c.id.in_(ids)))
        entries = [(int(i), " ".join(grams(body))) for i, body in old]
        if entries:
            _fts(conn, design.key, "delete", entries)
    conn.execute(sa.delete(search).where(search.c.id.in_(ids)))


def forget(session: Session, design: Any, ids: Sequence[int]) -> None:
    """Drop the search data of deleted records (before or after the records themselves)."""
    conn = session.connection()
    for start in range(0, len(ids), BATCH):
        _delete(conn, design, list(ids[start : start + BATCH]))
    duplicates.forget(conn, design, ids)  # and the match keys


def index_records(session: Session, design: Any, ids: Sequence[int]) -> int:
    """Re-read these records and write their search data (after a bulk UPDATE)."""
    table = design.sa_table()
    conn = session.connection()
    count = 0
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start : start + BATCH])
        rows = conn.execute(sa.select(table).where(table.c.id.in_(chunk))).mappings().all()
        found = {int(r["id"]) for r in rows}
        gone = [i for i in chunk if i not in found]
        if gone:
            _delete(conn, design, gone)
        count += index_rows(session, design, rows)
    return count


def rebuild_search(session: Session, table: str | Any) -> int:
    """Rebuild a table's search data from its records, in the caller's transaction: empty it,
    then read the records in id order by batches, fold them in Python (``search_key`` is the
    one place of the rule) and bulk-insert. Creates the search objects if they are missing
    (a table made before search existed). Returns how many records have search text."""
    from api.customers.services import load_design

    design = load_design(session, table) if isinstance(table, str) else table
    conn = session.connection()
    create_objects(conn, design.key)
    search = search_table(design.key, design.dialect)
    if design.dialect == "sqlite":
        _fts(conn, design.key, "delete-all", [])
    else:  # building a GIN index at once is many times faster than growing it row by row
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_quote(conn, _gin_name(design.key))}")
    conn.execute(sa.delete(search))
    duplicates.rebuild(conn, design)
    count = _fill(conn, design, search)
    if design.dialect == "postgresql":
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        _create_gin(conn, design.key)
    return count


def _fill(conn: Connection, design: Any, search: sa.Table) -> int:
    specs = _specs(design)
    if not specs:
        return 0
    data = design.sa_table()
    columns = [data.c.id, *(data.c[column_name(s.key)] for s in specs)]
    plan = _text_plan(specs)
    last = 0
    count = 0
    while True:
        rows = (
            conn.execute(
                sa.select(*columns).where(data.c.id > last).order_by(data.c.id).limit(BATCH * 5)
            )
            .mappings()
            .all()
        )
        if not rows:
            return count
        batch = [(int(r["id"]), _search_text(plan, r)) for r in rows]
        count += _insert(conn, design, batch)
        last = batch[-1][0]


# A table with more records than this has its search data rebuilt by a job (see
# ``schedule_rebuild``); below it, in the design change's own transaction.
INLINE_REBUILD = 20_000
# Records per unit of the rebuild job (ids ``[start, end)``): seconds of work each.
UNIT_SPAN = 20_000


def index_range(session: Session, design: Any, start: int, end: int) -> int:
    """Rewrite the search data of the records with ids in ``[start, end)`` from the records as
    they are now: one unit of the rebuild job (safe to run twice, in any order)."""
    conn = session.connection()
    search = search_table(design.key, design.dialect)
    old = [
        int(i)
        for i in conn.execute(
            sa.select(search.c.id).where(search.c.id >= start, search.c.id < end)
        ).scalars()
    ]
    for first in range(0, len(old), BATCH):
        _delete(conn, design, old[first : first + BATCH])
    duplicates.rebuild(conn, design, start=start, end=end)
    specs = _specs(design)
    if not specs:
        return 0
    data = design.sa_table()
    columns = [data.c.id, *(data.c[column_name(s.key)] for s in specs)]
    rows = conn.execute(
        sa.select(*columns).where(data.c.id >= start, data.c.id < end).order_by(data.c.id)
    ).mappings()
    plan = _text_plan(specs)
    return _insert(conn, design, [(int(r["id"]), _search_text(plan, r)) for r in rows])


def schedule_rebuild(session: Session, design: Any, *, created_by: str = "") -> int | None:
    """Bring a table's search data in step with its design after a change that alters every
    record's search text. Up to ``INLINE_REBUILD`` records: at once, in the caller's
    transaction (returns None). Larger tables: a job of units of ``UNIT_SPAN`` ids, committed
    with the change (returns its id); until it is done, records not yet rewritten are found
    by their former text (e.g. a retired field's values)."""
    from api.customers.tasks import SEARCH_REBUILD
    from api.jobs.kinds import UnitSpec
    from api.jobs.services import create_job

    conn = session.connection()
    create_objects(conn, design.key)
    data = design.sa_table()
    capped = sa.select(data.c.id).limit(INLINE_REBUILD + 1).subquery()
    if conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one() <= INLINE_REBUILD:
        rebuild_search(session, design)
        return None
    low, high = conn.execute(sa.select(sa.func.min(data.c.id), sa.func.max(data.c.id))).one()
    units = [
        UnitSpec(f"{design.key} {start}–{start + UNIT_SPAN - 1}",
                 {"table": design.key, "start": start, "end": start + UNIT_SPAN})
        for start in range(int(low), int(high) + 1, UNIT_SPAN)
    ]  # fmt: skip
    job = create_job(
        session, SEARCH_REBUILD, {"table": design.key}, created_by=created_by, units=units
    )
    return job.id


def build_missing(session: Session) -> list[str]:
    """Build the search data of every data table that has none (tables made before search
    existed); ``kizuna migrate`` runs it after the migrations. Returns their keys."""
    from api.customers.services import list_designs

    existing = set(sa.inspect(session.connection()).get_table_names())
    built = []
    for design in list_designs(session, retired=True):
        if search_table_name(design.key) not in existing:
            rebuild_search(session, design)
            built.append(design.key)
    built += [k for k in duplicates.build_missing(session) if k not in built]
    return built


def search_changes(old: FieldSpec, new: FieldSpec) -> bool:
    """Whether changing a field from ``old`` to ``new`` changes records' search texts."""
    if searched(old) != searched(new):
        return True
    if not searched(new):
        return False
    if old.type != new.type:
        return True
    if new.type in (FieldType.select, FieldType.multi_select):
        return {c.value: dict(c.label) for c in old.choices} != {
            c.value: dict(c.label) for c in new.choices
        }
    return False


__all__ = [
    "INLINE_REBUILD",
    "build_missing",
    "create_objects",
    "feeds_search",
    "forget",
    "grams",
    "index_range",
    "index_records",
    "index_rows",
    "matches",
    "parse_query",
    "rebuild_search",
    "schedule_rebuild",
    "search_changes",
    "search_text",
]
