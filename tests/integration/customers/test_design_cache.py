"""The designs shared across sessions (``api.customers.services``): read once per engine and
checked against ``customer_design_stamp``, which database triggers change with every change to
the design tables, whoever makes it. A change made through another engine (another process),
or by SQL outside the app, is seen by the next session; a rolled-back change is not."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from api.customers import services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.errors import NotFound
from api.livesettings import services as live
from api.principal import Principal


def stamp(db: Database) -> str:
    with db.engine.connect() as conn:
        value = conn.exec_driver_sql("SELECT stamp FROM customer_design_stamp WHERE id = 1")
        return str(value.scalar_one())


def make_table(db: Database, actor: Principal) -> None:
    with db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "people", "label": "人"}),
            [parse_field({"key": "name", "type": "text"})],
        )


def read_design(db: Database, key: str = "people") -> services.Design:
    with db.read() as session:
        return services.load_design(session, key)


@pytest.fixture
def other(database_url: str) -> Database:
    """A second engine on the same database: what another process sees and does."""
    database = Database(database_url)
    yield database
    database.dispose()


def test_sessions_share_one_design_until_the_stamp_changes(db: Database, actor: Principal) -> None:
    make_table(db, actor)
    first, second = read_design(db), read_design(db)
    assert first is second  # read once, not per session
    assert first.table.key == "people" and [f.key for f in first.fields] == ["name"]
    assert first.table.label == {"ja": "人", "en": "人"}  # usable after its session ended
    with db.transaction() as session:
        services.add_field(session, actor, "people", parse_field({"key": "kana", "type": "text"}))
    third = read_design(db)
    assert third is not first
    assert [f.key for f in third.fields] == ["name", "kana"]


def test_every_design_change_changes_the_stamp(db: Database, actor: Principal) -> None:
    seen = {stamp(db)}
    make_table(db, actor)
    seen.add(stamp(db))
    with db.transaction() as session:
        services.add_field(session, actor, "people", parse_field({"key": "age", "type": "integer"}))
    seen.add(stamp(db))
    with db.transaction() as session:
        services.update_field(
            session, actor, "people", "age", parse_field({"key": "age", "type": "integer",
                                                          "label": "年齢"})
        )  # fmt: skip
    seen.add(stamp(db))
    with db.transaction() as session:
        services.retire_field(session, actor, "people", "age")
    seen.add(stamp(db))
    with db.transaction() as session:
        services.retire_table(session, actor, "people")
    seen.add(stamp(db))
    assert len(seen) == 6


def test_a_change_through_another_engine_is_seen_by_the_next_session(
    db: Database, other: Database, actor: Principal
) -> None:
    make_table(db, actor)
    assert read_design(db).specs["name"].required is False
    assert read_design(other).specs["name"].required is False  # the other one caches it too
    with other.transaction() as session:
        services.update_field(
            session, actor, "people", "name",
            parse_field({"key": "name", "type": "text", "required": True}),
        )  # fmt: skip
        services.add_field(session, actor, "people", parse_field({"key": "kana", "type": "text"}))
    design = read_design(db)
    assert design.specs["name"].required is True
    assert [f.key for f in design.fields] == ["name", "kana"]
    with db.transaction() as session:
        services.retire_table(session, actor, "people")
    with pytest.raises(NotFound):
        read_design(other)


def test_a_change_by_sql_outside_the_app_is_seen(db: Database, actor: Principal) -> None:
    """The triggers, not the services, change the stamp: a migration or a hand-made fix
    counts too (and a later migration that rebuilds the tables must keep the triggers)."""
    make_table(db, actor)
    assert read_design(db).table.label == {"ja": "人", "en": "人"}
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE customer_table SET label = :label WHERE key = 'people'"),
            {"label": '{"ja": "会員", "en": "Members"}'},
        )
    assert read_design(db).table.label == {"ja": "会員", "en": "Members"}
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE customer_field SET required = :yes"), {"yes": True})
    assert read_design(db).specs["name"].required is True
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM customer_field WHERE key = 'name'"))
    assert read_design(db).fields == []


def test_a_rolled_back_change_is_not_kept(db: Database, actor: Principal) -> None:
    make_table(db, actor)
    before = stamp(db)

    class Undo(Exception):
        pass

    def change_then_fail() -> None:
        with db.transaction() as session:
            services.add_field(
                session, actor, "people", parse_field({"key": "kana", "type": "text"})
            )
            # Read inside the changing transaction: its own rows, with the new field; and a
            # session of its own on the same transaction sees them too (a stamp of its own).
            assert "kana" in services.load_design(session, "people").specs
            with Session(bind=session.connection()) as same_transaction:
                assert "kana" in services.load_design(same_transaction, "people").specs
            raise Undo

    with pytest.raises(Undo):
        change_then_fail()
    assert stamp(db) == before
    assert [f.key for f in read_design(db).fields] == ["name"]


def test_a_session_that_changes_the_design_reads_and_changes_its_own_rows(
    db: Database, actor: Principal
) -> None:
    make_table(db, actor)
    shared = read_design(db)
    with db.transaction() as session:
        locked = services.load_design(session, "people", lock=True)
        assert locked is not shared and locked.table is not shared.table
        assert locked.table in session  # rows of this session: changing them is saved
        locked.table.label = {"ja": "顧客", "en": "Customers"}
        session.add(locked.table)
    assert shared.table.label == {"ja": "人", "en": "人"}  # the shared rows never change
    assert read_design(db).table.label == {"ja": "顧客", "en": "Customers"}


def test_the_time_zone_setting_reaches_the_specs(
    db: Database, other: Database, actor: Principal
) -> None:
    make_table(db, actor)
    assert read_design(db).specs["name"].time_zone == "Asia/Tokyo"
    with other.transaction() as session:
        live.update(session, actor, {"site.time_zone": "Europe/Paris"})
    assert read_design(db).specs["name"].time_zone == "Europe/Paris"


def test_without_the_stamp_row_designs_are_read_per_session(db: Database, actor: Principal) -> None:
    make_table(db, actor)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM customer_design_stamp")
    with db.read() as session:
        first = services.load_design(session, "people")
        assert first.table in session  # its own rows, as before there were shared designs
    assert read_design(db) is not read_design(db)
    with db.transaction() as session:  # the next change puts the row back
        services.add_field(session, actor, "people", parse_field({"key": "kana", "type": "text"}))
    assert stamp(db)
    assert read_design(db) is read_design(db)
