"""The customer database's tests: the data tables (ct_*) the app creates are not in the models'
metadata, so the per-test emptying of PostgreSQL does not remove them; this does, around
every test here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api.db import Database, make_engine
from api.principal import Principal, cli_principal


def drop_data_tables(url: str) -> None:
    if not url.startswith("postgres"):
        return  # SQLite: every test has its own copy of the database
    engine = make_engine(url, pool=False)
    with engine.begin() as conn:
        names = [t for t in sa.inspect(conn).get_table_names() if t.startswith("ct_")]
        if names:
            conn.exec_driver_sql("DROP TABLE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_data_tables(database_url: str) -> Iterator[None]:
    drop_data_tables(database_url)
    yield
    drop_data_tables(database_url)


@pytest.fixture
def actor() -> Principal:
    return cli_principal("tests")


@pytest.fixture
def database(db: Database) -> Database:
    return db
