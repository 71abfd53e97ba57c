"""Database engine, sessions and the conventions every model shares.

Kizuna talks to the database synchronously (SQLModel ``Session``): the same service code runs
in Litestar handlers (in the thread pool), dramatiq actors and the CLI. ``DATABASE_URL`` is
accepted the usual way (``postgresql://user@host/db``) and mapped to the psycopg 3 driver.

Transactions (decided in issue 14)
    ``Database.transaction()`` is the one way services get a session: it commits when the block
    succeeds, rolls back when it raises, and turns a unique violation into
    :class:`api.errors.Conflict` naming the field (:func:`conflict_from_integrity_error`; the
    problem handler does the same for one that escapes elsewhere, so none becomes a 500).

    * PostgreSQL: READ COMMITTED. Check-then-write code locks what it checks
      (``SELECT … FOR UPDATE``, e.g. the active admins before a demotion) or relies on a
      constraint: a duplicate that slips past a check still becomes the same 409.
    * SQLite: pysqlite's own transaction handling is switched off and Kizuna emits ``BEGIN``
      itself (SQLAlchemy's documented pysqlite recipe for serializable isolation, savepoints and
      transactional DDL), so a SELECT inside a transaction *is* inside it. **Every**
      ``transaction()`` and ``session()`` begins with ``BEGIN IMMEDIATE``: it takes SQLite's one
      write lock up front, so a check followed by a write (duplicate e-mail, last admin) is
      atomic, and two writers never deadlock upgrading a read lock (an ``SQLITE_BUSY`` no busy
      timeout can wait out). Controllers did not change for this: nearly every request may
      write (authentication refreshes ``last_seen_at``), and on the embedded single-node default
      the lock is held for milliseconds while readers in WAL mode are never blocked by it.
    * Read-only work that is large or frequent may use ``Database.read()`` instead: a deferred
      ``BEGIN`` on SQLite (it runs beside the writer) and a ``READ ONLY`` transaction on
      PostgreSQL; it is always rolled back. Writing in it is a bug, which PostgreSQL refuses.

Conventions for millions of rows
    * Constraint names follow :data:`NAMING_CONVENTION` (``pk_<table>``, ``uq_<table>_<cols>``,
      ``fk_<table>_<cols>_<referred>``, ``ix_<table>_<cols>``, ``ck_<table>_<name>``), so
      Alembic can drop and rebuild them on SQLite and a unique violation names its field.
    * High-volume tables use :data:`BigIntKey` for their identity key (BIGINT on PostgreSQL;
      INTEGER, the rowid alias, on SQLite). Ids that leave the server are random
      (:func:`new_id`); see ``api/README.md``.
    * A column with a Python default also gets a ``server_default`` (:func:`server_now`,
      ``sa.true()``, ``"0"``…) so bulk ``INSERT … SELECT`` and ``COPY`` may leave it out.
    * Lists that grow without bound page by keyset (:func:`keyset_page`: an opaque cursor, the
      id as tie-breaker, both directions) and report :func:`estimate_total` instead of counting
      every row; ``paged()`` (offset + exact count) stays for small tables.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    and_,
    event,
    func,
    or_,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine, select
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import Conflict, FieldError, ServiceUnavailable, invalid

log = logging.getLogger(__name__)
T = TypeVar("T")

# Constraint names, the same on every database. Set on SQLModel's metadata here, before any
# model is defined (every model module imports api.db first), so every table picks it up.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# A JSON column that is JSONB on PostgreSQL (indexable, containment queries).
JSONType = JSON().with_variant(JSONB(), "postgresql")

# The identity key of a high-volume table: 64-bit on PostgreSQL; plain INTEGER on SQLite, which
# is 64-bit already and, as the primary key, the rowid alias (a BIGINT key would not be).
# Use: ``id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)``.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


# ``sa_column_kwargs`` of a JSON column whose Python default is ``{}`` / ``[]``: the same default
# in the database (rows written by SQL, or by a migration, get it too).
EMPTY_OBJECT = {"server_default": text("'{}'")}
EMPTY_LIST = {"server_default": text("'[]'")}


def server_now() -> TextClause:
    """``server_default`` of a timestamp column: the database's current time (UTC on SQLite)."""
    return text("CURRENT_TIMESTAMP")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Random, URL-safe, unguessable identifier for rows whose ids leave the server."""
    return secrets.token_hex(16)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and given ``tzinfo=UTC`` again when read. Naive input is refused: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use api.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalize_database_url(url: str) -> str:
    """Map the usual spellings to the drivers Kizuna ships with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(normalize_database_url(url)).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's pysqlite recipe: pysqlite no longer opens (or skips) transactions on its own;
    # _sqlite_begin emits BEGIN. These PRAGMAs therefore run outside any transaction.
    dbapi_connection.isolation_level = None
    # SQLite's lower() folds ASCII only, PostgreSQL's every script: case-insensitive searches
    # compare lower() on both sides, so SQLite gets the same Unicode folding.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Execution option read when a SQLite transaction begins: "IMMEDIATE" (default) or "DEFERRED".
SQLITE_BEGIN = "kizuna_sqlite_begin"


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


def make_engine(url: str, *, pool: bool = True) -> Engine:
    url = normalize_database_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            from api.security.files import protect_sqlite

            protect_sqlite(Path(parsed.database))  # 0600, and so its WAL/SHM files too
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    else:
        kwargs["connect_args"] = {"connect_timeout": 5}
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 20
    if not pool:
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
        kwargs["poolclass"] = NullPool
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def check_database(engine: Engine) -> None:
    """Connect once; raise ServiceUnavailable naming DATABASE_URL if that fails."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)
        raise ServiceUnavailable(
            detail=(
                f"DATABASE_URL: cannot connect to {describe_url(str(engine.url))}: {reason}. "
                "Check that the server runs and the URL (user, host, port, database) is right."
            ),
            code="database_unreachable",
        ) from exc


# ------------------------------------------------------------------ constraint violations


def _constraint_columns(name: str) -> tuple[str, list[str]] | None:
    """Table and columns of a unique constraint, primary key or unique index, by its name."""
    for table in SQLModel.metadata.tables.values():
        for constraint in table.constraints:
            if constraint.name == name:
                return table.name, [c.name for c in getattr(constraint, "columns", [])]
        for index in table.indexes:
            if index.name == name:
                return table.name, [c.name for c in index.columns if hasattr(c, "name")]
    return None


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_PG_KEY = re.compile(r"^Key \(([\w, ]+)\)=")


def _unique_violation(exc: IntegrityError) -> tuple[str, list[str]] | None:
    """(table, columns) when ``exc`` is a unique (or primary key) violation we can name."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        if sqlstate != "23505":
            return None
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        found = _constraint_columns(name) if name else None
        if found is None:  # a table the models do not describe: "Key (a, b)=(…) already exists."
            key = _PG_KEY.match(getattr(diag, "message_detail", None) or "")
            columns = [c.strip() for c in key.group(1).split(",")] if key else []
            found = (getattr(diag, "table_name", None) or "", columns)
        return found
    match = _SQLITE_UNIQUE.search(str(orig).strip())
    if match is None:
        return None
    pairs = [part.strip().split(".", 1) for part in match.group(1).split(",")]
    return pairs[0][0], [p[-1] for p in pairs]


def conflict_from_integrity_error(exc: IntegrityError) -> Conflict:
    """The 409 for a constraint the database refused: which field, when it is a duplicate.

    Reached when two writers race past a check (the check is still worth making: it gives the
    specific message in the common case) or when a service relies on the constraint alone.
    """
    unique = _unique_violation(exc)
    if unique is not None:
        table, columns = unique
        what = ", ".join(columns) or "value"
        return Conflict(
            detail=f"Another {table or 'record'} already has this {what}",
            code=f"{columns[0]}_taken" if len(columns) == 1 else "duplicate",
            errors=[
                FieldError(c, "is already used by another record", "taken")
                for c in columns or ["body"]
            ],
        )
    return Conflict(
        detail="The change conflicts with other data (it may have changed meanwhile); "
        "reload and try again",
        code="constraint_violation",
    )


# ------------------------------------------------------------------ sessions and after-commit


def run_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Call ``callback`` once the session's current transaction has committed.

    Used to enqueue jobs only when the rows they refer to are visible to workers; dropped on
    rollback, so a failed request never wakes a worker for work that does not exist.
    """
    session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # The data is committed whatever happens here: a failing callback (say, Redis is down while
    # enqueueing) is logged, never turned into an error for a request whose work is saved.
    # Jobs do not depend on it: the janitor re-enqueues work that no worker picked up.
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)


# ------------------------------------------------------------------ lists: offset pages


def paged(
    session: Session, query: SelectOfScalar[T], *order_by: Any, offset: int, limit: int
) -> tuple[list[T], int]:
    """One page of ``query`` in the given order, and how many rows match in all.

    For tables that stay small (staff, tokens). Lists that grow without bound use
    :func:`keyset_page` and :func:`estimate_total`.
    """
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(*order_by).offset(offset).limit(limit)).all()
    return list(rows), int(total)


# ------------------------------------------------------------------ lists: keyset pages

# Counting stops here: above it, a total is the planner's estimate (PostgreSQL) or "at least".
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Total:
    """How many rows match: exact, or (``exact`` False) an estimate / a lower bound."""

    value: int
    exact: bool


def estimate_total(
    session: Session,
    query: SelectOfScalar[Any],
    *,
    cap: int = COUNT_CAP,
    estimate_first: bool = False,
) -> Total:
    """How many rows ``query`` matches, without scanning millions of rows to say so.

    Counts at most ``cap + 1`` rows; up to ``cap`` the count is exact. Beyond it PostgreSQL
    answers with the planner's estimate (``EXPLAIN``: table statistics, so filters count too)
    and SQLite with ``cap`` itself as a lower bound (shown as "10,000+"). Either way
    ``exact`` is False.

    ``estimate_first`` (PostgreSQL; lists of tables that grow to millions): ask the planner
    first, and count only when it expects at most ``cap`` rows. A broad filter then costs one
    ``EXPLAIN`` (about a millisecond) instead of counting ``cap`` rows, which can cost as much
    as the page itself; a narrow one is counted exactly as before.
    """
    bind = session.get_bind()
    estimate: int | None = None
    if estimate_first and bind.dialect.name == "postgresql":
        estimate = _planner_rows(session, query)
        if estimate > cap:
            return Total(estimate, False)
    capped = select(func.count()).select_from(query.limit(cap + 1).subquery())
    counted = int(session.exec(capped).one())
    if counted <= cap:
        return Total(counted, True)
    if bind.dialect.name == "postgresql":
        if estimate is None:
            estimate = _planner_rows(session, query)
        return Total(max(estimate, cap + 1), False)
    return Total(cap, False)


def _planner_rows(session: Session, query: SelectOfScalar[Any]) -> int:
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    plan: Any = (
        session.connection()
        .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        .scalar()
    )
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of a keyset-paged list. A cursor is None when there is nothing that way."""

    items: list[T]
    next_cursor: str | None
    prev_cursor: str | None


def encode_cursor(direction: str, values: Sequence[Any]) -> str:
    """An opaque cursor: the sort key of the row to continue from, and which way."""
    keys = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"d": direction, "k": keys}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> tuple[str, list[Any]]:
    """Direction and key values of a cursor; a 422 on ``cursor`` if it was not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        direction = data["d"]
        values = [datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in data["k"]]
        if direction not in ("after", "before") or len(values) != width:
            raise ValueError(direction)
        if not all(v is None or isinstance(v, str | int | float | datetime) for v in values):
            raise ValueError("key type")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "is not a cursor this list gave out", "invalid_cursor") from None
    return direction, values


def _beyond(keys: Sequence[tuple[Any, bool]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order ``keys`` ((column, descending) pairs)."""
    if len({desc for _, desc in keys}) == 1:  # one direction: a row comparison, index-friendly
        columns = tuple_(*(c for c, _ in keys))
        return columns < tuple_(*values) if keys[0][1] else columns > tuple_(*values)
    clauses = []
    for i, (column, desc) in enumerate(keys):
        equal = [c == v for (c, _), v in zip(keys[:i], values[:i], strict=True)]
        step = column < values[i] if desc else column > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def keyset_page(
    session: Session,
    query: SelectOfScalar[T],
    keys: Sequence[tuple[Any, bool]],
    key_of: Callable[[T], Sequence[Any]],
    *,
    cursor: str | None,
    limit: int,
) -> KeysetPage[T]:
    """A page of ``query`` ordered by ``keys`` and continued from ``cursor``.

    ``keys`` are ``(column, descending)`` pairs of NOT NULL columns ending with a unique one
    (the id), so equal sort values never make a row repeat or vanish between pages (index them
    in that order); ``key_of`` reads those values
    from a row. The cost of a page does not grow with its depth (no OFFSET), and rows inserted
    meanwhile do not shift the pages. ``cursor=None`` is the first page.
    """
    direction, values = ("after", []) if cursor is None else decode_cursor(cursor, len(keys))
    backwards = direction == "before"
    if values:
        flipped = [(c, not d) for c, d in keys] if backwards else list(keys)
        query = query.where(_beyond(flipped, values))
    order = [
        (c.asc() if desc else c.desc()) if backwards else (c.desc() if desc else c.asc())
        for c, desc in keys
    ]
    rows = list(session.exec(query.order_by(*order).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    has_next = (more and not backwards) or (backwards and bool(values))
    has_prev = (more and backwards) or (not backwards and bool(values))
    return KeysetPage(
        items=rows,
        next_cursor=encode_cursor("after", key_of(rows[-1])) if rows and has_next else None,
        prev_cursor=encode_cursor("before", key_of(rows[0])) if rows and has_prev else None,
    )


# ------------------------------------------------------------------ the database


class Database:
    """An engine plus its session factory; one per process (or per test)."""

    def __init__(self, url: str, *, pool: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, pool=pool)
        # Sessions know their database, so work created in them (jobs) can reach its queue.
        self._factory = sessionmaker(
            self.engine, class_=Session, expire_on_commit=False, info={"database": self}
        )
        # How a committed job reaches a worker; set by whoever runs a job queue in this process
        # (the web app, `kizuna worker`). None: the janitor of a running worker picks jobs up.
        self.dispatcher: Callable[[int, str], None] | None = None
        # Where committed changes to members go (api.security.revocation.Revocations): the
        # member-token caches of this process and, with Redis, of every other. Set by
        # build_runtime; None: nothing to tell (a bare Database in a script or test).
        self.member_events: Any = None

    def dispatch(self, job_id: int, kind: str) -> None:
        if self.dispatcher is None:
            log.info(
                "job %s (%s) saved; no queue in this process, a worker will pick it up",
                job_id,
                kind,
            )
            return
        self.dispatcher(job_id, kind)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises.

        ``BEGIN IMMEDIATE`` on SQLite (see the module docstring); a unique violation, at a
        flush inside the block or at the commit, leaves as :class:`api.errors.Conflict`.
        """
        with self._factory() as session:
            try:
                yield session
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise conflict_from_integrity_error(exc) from exc
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session: deferred on SQLite, ``READ ONLY`` on PostgreSQL, rolled back."""
        option = (
            {SQLITE_BEGIN: "DEFERRED"}
            if self.dialect == "sqlite"
            else {"postgresql_readonly": True}
        )
        with self._factory() as session:
            session.connection(execution_options=option)
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
