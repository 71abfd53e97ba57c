"""The data-layer conventions of api.db, on SQLite and PostgreSQL: transactions, conflicts,
keyset pages, estimated totals, server-side defaults, case-insensitive search."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar, post
from litestar.testing import TestClient
from sqlmodel import col, select

from api.audit.models import AuditEntry
from api.db import (
    Database,
    Total,
    decode_cursor,
    encode_cursor,
    estimate_total,
    keyset_page,
)
from api.errors import Conflict, ValidationFailed
from api.livesettings.models import Setting
from api.staff.models import ApiToken, Staff, StaffSession
from api.web.problems import EXCEPTION_HANDLERS

ORDER = ((col(AuditEntry.at), True), (col(AuditEntry.id), True))


def _staff(email: str, name: str = "Someone") -> Staff:
    return Staff(email=email, name=name, role="viewer", password_hash="x")


def _insert_audit(db: Database, count: int, instants: int) -> None:
    """``count`` entries spread over ``instants`` equal timestamps (many ties)."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {"at": base + timedelta(seconds=i % instants), "actor_type": "system", "action": "x.y"}
        for i in range(count)
    ]
    with db.transaction() as session:
        session.execute(sa.insert(AuditEntry), rows)


# ------------------------------------------------------------------ transactions and conflicts


def test_a_unique_violation_leaves_the_transaction_as_a_conflict_naming_the_field(
    db: Database,
) -> None:
    with db.transaction() as session:
        session.add(_staff("dup@example.jp"))
    with pytest.raises(Conflict) as caught, db.transaction() as session:
        session.add(_staff("dup@example.jp"))  # no check first: the constraint catches it
    assert caught.value.code == "email_taken"
    assert [(e.field, e.code) for e in caught.value.errors] == [("email", "taken")]

    def twice() -> None:
        with db.transaction() as session:
            session.add(Setting(key="k", value=1))
            session.flush()
            session.add(Setting(key="k", value=2))
            session.flush()  # inside the block: the same translation

    with pytest.raises(Conflict) as caught:
        twice()
    assert caught.value.code == "key_taken"
    with db.transaction() as session:  # the failed transactions left nothing behind
        assert len(session.exec(select(Staff)).all()) == 1
        assert session.exec(select(Setting)).all() == []


def test_an_integrity_error_outside_transaction_is_a_409_problem_not_a_500(db: Database) -> None:
    """The net in api.web.problems for code that commits without Database.transaction()."""

    @post("/dup", sync_to_thread=True)
    def dup() -> None:
        with db.session() as session:
            session.add(_staff("same@example.jp"))
            session.commit()

    app = Litestar([dup], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        assert client.post("/dup").status_code == 201
        response = client.post("/dup")
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "email"


def test_a_unique_violation_on_a_table_the_models_do_not_know_names_its_columns(
    db: Database,
) -> None:
    """Staff-designed tables are made at run time, outside SQLModel's metadata."""
    with db.transaction() as session:
        session.execute(sa.text("CREATE TABLE custom_t (a INTEGER, b INTEGER, UNIQUE (a, b))"))
        session.execute(sa.text("INSERT INTO custom_t VALUES (1, 2)"))
    with pytest.raises(Conflict) as caught, db.transaction() as session:
        session.execute(sa.text("INSERT INTO custom_t VALUES (1, 2)"))
    assert caught.value.code == "duplicate"
    assert [e.field for e in caught.value.errors] == ["a", "b"]
    assert "custom_t" in caught.value.detail
    with db.transaction() as session:
        session.execute(sa.text("DROP TABLE custom_t"))


def test_a_foreign_key_violation_is_a_conflict_too(db: Database) -> None:
    with pytest.raises(Conflict) as caught, db.transaction() as session:
        session.add(StaffSession(id="s", staff_id=999, expires_at=datetime.now(UTC)))
    assert caught.value.code == "constraint_violation"


def test_read_is_read_only_and_rolled_back(db: Database) -> None:
    with db.transaction() as session:
        session.add(_staff("r@example.jp"))
    with db.read() as session:
        assert session.exec(select(Staff.email)).all() == ["r@example.jp"]

    def write_in_read() -> None:
        with db.read() as session:
            session.add(_staff("w@example.jp"))
            session.flush()

    if db.dialect == "postgresql":
        with pytest.raises(sa.exc.InternalError, match="read-only"):
            write_in_read()
    else:
        write_in_read()  # SQLite allows it, but the block is always rolled back
    with db.read() as session:
        assert session.exec(select(Staff.email)).all() == ["r@example.jp"]
    for n in range(12):  # pooled connections are writable again after a read()
        with db.transaction() as session:
            session.add(_staff(f"after{n}@example.jp"))


def test_sqlite_transactions_take_the_write_lock_before_their_first_read(
    sqlite_url: str,
) -> None:
    """pysqlite used to run a SELECT outside any transaction; now BEGIN IMMEDIATE comes first,
    so nobody can write between a check and the write that depends on it."""
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            session.exec(select(Staff)).all()  # only a read so far
            other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0)
            other.isolation_level = None
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        with db.read() as session:  # a read transaction does not take it
            session.exec(select(Staff)).all()
            other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0)
            other.isolation_level = None
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
    finally:
        db.dispose()


def test_savepoints_work(db: Database) -> None:
    with db.transaction() as session:
        session.add(_staff("outer@example.jp"))
        nested = session.begin_nested()
        session.add(_staff("inner@example.jp"))
        session.flush()
        nested.rollback()
    with db.read() as session:
        assert session.exec(select(Staff.email)).all() == ["outer@example.jp"]


def test_lower_folds_every_script_on_both_databases(db: Database) -> None:
    with db.read() as session:
        folded = session.execute(sa.select(sa.func.lower("ÉCOLE Ｔａｒｏ ΑΒΓ"))).scalar_one()
    assert folded == "école ｔａｒｏ αβγ"


# ------------------------------------------------------------------ keyset pages


def _walk(db: Database, *, limit: int) -> tuple[list[int], list[str | None]]:
    ids: list[int] = []
    cursors: list[str | None] = []
    cursor: str | None = None
    with db.read() as session:
        while True:
            page = keyset_page(
                session,
                select(AuditEntry),
                ORDER,
                lambda e: (e.at, e.id),
                cursor=cursor,
                limit=limit,
            )
            ids += [e.id for e in page.items if e.id is not None]
            cursors.append(page.prev_cursor)
            if page.next_cursor is None:
                return ids, cursors
            cursor = page.next_cursor


def test_keyset_pages_cross_equal_sort_keys_without_repeating_or_skipping(db: Database) -> None:
    _insert_audit(db, 23, instants=3)  # 23 rows, only 3 distinct timestamps
    with db.read() as session:
        expected = [
            e.id
            for e in session.exec(
                select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            )
        ]
    ids, prevs = _walk(db, limit=4)
    assert ids == expected
    assert prevs[0] is None and all(prevs[1:])  # the first page has nothing before it

    # Backwards from the last page, page by page, gives the same pages in reverse.
    with db.read() as session:
        forward = []
        cursor: str | None = None
        while True:
            page = keyset_page(
                session, select(AuditEntry), ORDER, lambda e: (e.at, e.id), cursor=cursor, limit=4
            )
            forward.append([e.id for e in page.items])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        backward = [forward[-1]]
        cursor = page.prev_cursor
        while cursor is not None:
            page = keyset_page(
                session, select(AuditEntry), ORDER, lambda e: (e.at, e.id), cursor=cursor, limit=4
            )
            backward.append([e.id for e in page.items])
            cursor = page.prev_cursor
    assert backward == list(reversed(forward))


def test_keyset_mixed_directions_and_filters(db: Database) -> None:
    _insert_audit(db, 12, instants=4)
    mixed = ((col(AuditEntry.at), False), (col(AuditEntry.id), True))  # oldest first, id desc
    with db.read() as session:
        expected = [
            e.id
            for e in session.exec(
                select(AuditEntry).order_by(col(AuditEntry.at).asc(), col(AuditEntry.id).desc())
            )
        ]
        got: list[int | None] = []
        cursor: str | None = None
        while True:
            page = keyset_page(
                session, select(AuditEntry), mixed, lambda e: (e.at, e.id), cursor=cursor, limit=5
            )
            got += [e.id for e in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert got == expected


def test_a_cursor_that_is_not_ours_is_a_validation_error(db: Database) -> None:
    for bad in ("nonsense", encode_cursor("sideways", [1, 2]), encode_cursor("after", [1])):
        with pytest.raises(ValidationFailed) as caught:
            decode_cursor(bad, 2)
        assert caught.value.errors[0].field == "cursor"
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert decode_cursor(encode_cursor("before", [at, 7]), 2) == ("before", [at, 7])


# ------------------------------------------------------------------ estimated totals


def test_totals_are_exact_up_to_the_cap_and_estimated_beyond(db: Database) -> None:
    _insert_audit(db, 300, instants=300)
    with db.transaction() as session:
        if db.dialect == "postgresql":
            session.connection().exec_driver_sql("ANALYZE audit_log")
    with db.read() as session:
        assert estimate_total(session, select(AuditEntry), cap=1000) == Total(300, True)
        total = estimate_total(session, select(AuditEntry), cap=100)
        assert not total.exact
        if db.dialect == "postgresql":  # the planner's estimate, from the statistics
            assert 150 <= total.value <= 600
        else:  # at least this many ("100+")
            assert total.value == 100
        filtered = select(AuditEntry).where(AuditEntry.action == "nothing")
        assert estimate_total(session, filtered, cap=100) == Total(0, True)


# ------------------------------------------------------------------ server-side defaults


def test_bulk_inserts_may_leave_defaulted_columns_out(db: Database) -> None:
    """INSERT … SELECT and COPY write rows without the ORM: the database fills the defaults."""
    before = datetime.now(UTC) - timedelta(seconds=5)
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Staff.__table__).values(  # type: ignore[attr-defined]
                email="bulk@example.jp", name="Bulk", role="viewer", password_hash="x"
            )
        )
        staff_id = conn.execute(sa.text("SELECT id FROM staff")).scalar_one()
        conn.execute(
            sa.insert(StaffSession.__table__).values(  # type: ignore[attr-defined]
                id="s", staff_id=staff_id, expires_at=datetime.now(UTC)
            )
        )
        conn.execute(
            sa.insert(ApiToken.__table__).values(  # type: ignore[attr-defined]
                name="t", prefix="kz_", token_hash="h", role="viewer"
            )
        )
        conn.execute(
            sa.text("INSERT INTO audit_log (actor_type, action) VALUES ('system', 'bulk.test')")
        )
        conn.execute(sa.text("INSERT INTO setting (key, value) VALUES ('k', '1')"))
    with db.read() as session:
        staff = session.exec(select(Staff)).one()
        assert (staff.locale, staff.is_active) == ("ja", True)
        stamps: list[Any] = [staff.created_at, staff.updated_at, staff.password_changed_at]
        login = session.exec(select(StaffSession)).one()
        stamps += [login.created_at, login.last_seen_at]
        stamps.append(session.exec(select(ApiToken)).one().created_at)
        entry = session.exec(select(AuditEntry)).one()
        assert (entry.actor_label, entry.target_type) == ("", "")
        stamps.append(entry.at)
        setting = session.exec(select(Setting)).one()
        assert setting.updated_by == ""
        stamps.append(setting.updated_at)
    for stamp in stamps:
        assert stamp.tzinfo is not None
        assert before <= stamp <= datetime.now(UTC) + timedelta(seconds=5)


def test_every_python_default_has_a_server_default_too() -> None:
    import api.models

    missing = [
        f"{table.name}.{column.name}"
        for table in api.models.metadata.tables.values()
        for column in table.columns
        if column.default is not None and column.server_default is None
    ]
    assert missing == []


def test_audit_ids_are_64_bit(db: Database) -> None:
    """BigIntKey: BIGINT and a 64-bit sequence on PostgreSQL; the 64-bit rowid on SQLite."""
    with db.transaction() as session:
        session.execute(
            sa.insert(AuditEntry), [{"id": 2**40, "actor_type": "system", "action": "big.id"}]
        )
        session.add(AuditEntry(actor_type="system", action="next.id"))
    with db.read() as session:
        ids = sorted(e.id for e in session.exec(select(AuditEntry)) if e.id is not None)
        assert 2**40 in ids
        if db.dialect == "sqlite":  # the rowid continues after the largest key
            assert ids == [2**40, 2**40 + 1]
        else:
            limit = session.connection().exec_driver_sql(
                "SELECT max_value FROM pg_sequences WHERE sequencename = 'audit_log_id_seq'"
            )
            assert limit.scalar_one() == 2**63 - 1
