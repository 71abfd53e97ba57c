"""Migrations run unchanged on SQLite and PostgreSQL and produce exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import api.models
from api.db import make_engine
from api.migrate import current_revision, downgrade, head_revision, upgrade


def test_schema_matches_models_and_downgrades(any_database_url: str) -> None:
    engine = make_engine(any_database_url, pool=False)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, api.models.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(engine, "base")
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_migration_file_names_are_dated() -> None:
    import re
    from pathlib import Path

    versions = Path(api.models.__file__).parent / "migrations" / "versions"
    names = [p.name for p in versions.glob("*.py") if p.name != "__init__.py"]
    assert names
    for name in names:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+\.py$", name), name
