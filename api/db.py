"""Database engine, sessions and the column types every model shares.

Kizuna talks to the database synchronously (SQLModel ``Session``): the same service code runs
in Litestar handlers (in the thread pool), dramatiq actors and the CLI. ``DATABASE_URL`` is
accepted the usual way (``postgresql://user@host/db``) and mapped to the psycopg 3 driver.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, event, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine, select
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# A JSON column that is JSONB on PostgreSQL (indexable, containment queries).
JSONType = JSON().with_variant(JSONB(), "postgresql")


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


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


def paged(
    session: Session, query: SelectOfScalar[T], *order_by: Any, offset: int, limit: int
) -> tuple[list[T], int]:
    """One page of ``query`` in the given order, and how many rows match in all."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(*order_by).offset(offset).limit(limit)).all()
    return list(rows), int(total)


class Database:
    """An engine plus its session factory; one per process (or per test)."""

    def __init__(self, url: str, *, pool: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, pool=pool)
        self._factory = sessionmaker(self.engine, class_=Session, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        with self._factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
