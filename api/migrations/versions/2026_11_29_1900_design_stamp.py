"""design stamp: one row whose value changes with every change to the design tables

Revision ID: 0012_design_stamp
Revises: 0011_member_site
Create Date: 2026-11-29 19:00:00

``customer_design_stamp`` (one row, ``id`` 1) gets a new random ``stamp`` from triggers on
``customer_table`` and ``customer_field`` — insert, update, delete (and truncate on
PostgreSQL) — in the transaction that makes the change. The process-wide design cache of
``api.customers.services`` checks it instead of reading every table's and field's rows.

SQLite drops a table's triggers when the table is rebuilt (Alembic's batch mode does that
to alter a column): a later migration that rebuilds ``customer_table`` or ``customer_field``
must create these triggers again (``create_triggers`` below);
``tests/integration/customers/test_design_cache.py`` fails at head when they are missing.

Immutable once on main: change the schema in a new migration.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_design_stamp"
down_revision: str | None = "0011_member_site"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("customer_table", "customer_field")
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")
# The row may be gone (tests empty every table): an upsert puts it back.
SQLITE_BUMP = (
    "INSERT INTO customer_design_stamp (id, stamp) VALUES (1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp"
)
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION customer_design_stamp_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_design_stamp (id, stamp)
    VALUES (1, md5(random()::text || clock_timestamp()::text || txid_current()::text))
    ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    RETURN NULL;
END
$$
"""


def create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER tr_{table}_design_stamp AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION customer_design_stamp_bump()"
            )
        return
    for table in TABLES:
        for event in SQLITE_EVENTS:
            op.execute(
                f"CREATE TRIGGER tr_{table}_design_stamp_{event.lower()} AFTER {event} "
                f"ON {table} BEGIN {SQLITE_BUMP}; END"
            )


def upgrade() -> None:
    op.create_table(
        "customer_design_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_design_stamp"),
    )
    op.execute(
        sa.text("INSERT INTO customer_design_stamp (id, stamp) VALUES (1, :stamp)").bindparams(
            stamp=uuid.uuid4().hex
        )
    )
    create_triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_design_stamp ON {table}")
        else:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_design_stamp_{event.lower()}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS customer_design_stamp_bump()")
    op.drop_table("customer_design_stamp")
