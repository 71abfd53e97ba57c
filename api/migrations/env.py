"""Alembic environment: runs migrations on the engine Kizuna passes in (or DATABASE_URL).

The target metadata carries Kizuna's constraint naming convention (``api.db``), so generated
operations name every constraint; on SQLite operations are rendered in batch mode (a table
rebuild), and a batch of an older table needs ``naming_convention=`` to name what it reflects.
The data tables the customer database creates at run time (``ct_*``) are left out
(``include_object``): the app migrates them from its own metadata tables.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import api.models  # noqa: F401  (registers every table on the metadata)
from api.customers.physical import alembic_include_object
from api.db import make_engine
from api.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        include_object=alembic_include_object,  # the app's own data tables (ct_*)
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
        engine = make_engine(url, pool=False)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        include_object=alembic_include_object,  # the app's own data tables (ct_*)
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
