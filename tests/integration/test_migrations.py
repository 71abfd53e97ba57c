"""Migrations run unchanged on SQLite and PostgreSQL and produce exactly the models' schema,
constraint names and server-side defaults included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import api.models
from api.db import NAMING_CONVENTION, make_engine
from api.migrate import current_revision, downgrade, head_revision, upgrade


@pytest.fixture
def engine(database_url: str) -> Any:
    engine = make_engine(database_url, pool=False)
    yield engine
    engine.dispose()


def _names_in_database(engine: Engine) -> set[tuple[str, str, str]]:
    inspector = sa.inspect(engine)
    names: set[tuple[str, str, str]] = set()
    for table in api.models.metadata.tables:
        if not inspector.has_table(table):  # made by a later revision than the one tested
            continue
        names.add((table, "pk", str(inspector.get_pk_constraint(table).get("name"))))
        names |= {(table, "uq", str(u["name"])) for u in inspector.get_unique_constraints(table)}
        names |= {(table, "fk", str(f["name"])) for f in inspector.get_foreign_keys(table)}
        names |= {
            (table, "ix", str(i["name"]))
            for i in inspector.get_indexes(table)
            if not i.get("duplicates_constraint")  # PostgreSQL: a unique constraint's index
        }
    return names


def _names_in_models() -> set[tuple[str, str, str]]:
    names: set[tuple[str, str, str]] = set()
    for table in api.models.metadata.tables.values():
        for constraint in table.constraints:
            kind = {
                sa.PrimaryKeyConstraint: "pk",
                sa.UniqueConstraint: "uq",
                sa.ForeignKeyConstraint: "fk",
            }.get(type(constraint))
            if kind:
                names.add((table.name, kind, str(constraint.name)))
        names |= {(table.name, "ix", str(i.name)) for i in table.indexes}
    return names


def test_schema_matches_models_and_downgrades(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(context, api.models.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert _names_in_database(engine) == _names_in_models()
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _names_in_database(engine) == _names_in_models()


def test_every_constraint_follows_the_naming_convention() -> None:
    assert SQLModel.metadata.naming_convention == NAMING_CONVENTION
    for table, kind, name in _names_in_models():
        assert name.startswith(f"{kind}_{table}"), (table, kind, name)
    staff = api.models.metadata.tables["staff"]
    assert {c.name for c in staff.constraints} >= {"pk_staff", "uq_staff_email"}
    token = api.models.metadata.tables["api_token"]
    assert "fk_api_token_created_by_id_staff" in {c.name for c in token.constraints}


def test_conventions_migration_upgrades_a_database_made_before_it(engine: Engine) -> None:
    """A database created by revision 0001 before the convention existed (PostgreSQL's own
    names, SQLite's unnamed constraints, no server defaults) gets the names and defaults, and
    rebuilding referenced tables on SQLite loses no row that refers to them."""
    downgrade(engine, "base")
    convention = dict(SQLModel.metadata.naming_convention)
    SQLModel.metadata.naming_convention = {"ix": "ix_%(column_0_label)s"}  # SQLAlchemy's default
    try:
        upgrade(engine, "0001")
    finally:
        SQLModel.metadata.naming_convention = convention
    old_names = {n for _, _, n in _names_in_database(engine)}
    assert "pk_staff" not in old_names and "uq_staff_email" not in old_names
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO staff (email, name, role, locale, password_hash, is_active, "
                "created_at, updated_at, password_changed_at) "
                "VALUES ('a@example.jp', 'A', 'admin', 'ja', 'x', :t, :now, :now, :now)"
            ),
            {"t": True, "now": now},
        )
        staff_id = conn.execute(sa.text("SELECT id FROM staff")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO staff_session (id, staff_id, created_at, expires_at, last_seen_at) "
                "VALUES ('s1', :id, :now, :later, :now)"
            ),
            {"id": staff_id, "now": now, "later": now + timedelta(hours=1)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_token (name, prefix, token_hash, role, created_by_id, created_at)"
                " VALUES ('t', 'kz_x', 'h', 'viewer', :id, :now)"
            ),
            {"id": staff_id, "now": now},
        )
    upgrade(engine)
    assert _names_in_database(engine) == _names_in_models()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM staff_session")).scalar_one() == 1
        created_by = conn.execute(sa.text("SELECT created_by_id FROM api_token")).scalar_one()
        assert created_by == staff_id
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, api.models.metadata) == []
    # Foreign keys are enforced again after the migration.
    with engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text("INSERT INTO staff_session (id, staff_id, expires_at) VALUES ('s2', 999, :t)"),
            {"t": now},
        )


def test_migration_file_names_are_dated() -> None:
    versions = Path(api.models.__file__).parent / "migrations" / "versions"
    names = [p.name for p in versions.glob("*.py") if p.name != "__init__.py"]
    assert names
    for name in names:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+\.py$", name), name
