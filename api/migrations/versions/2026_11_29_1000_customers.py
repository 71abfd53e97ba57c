"""customers: the metadata of staff-designed tables and fields, record history, saved views

The data tables themselves (``ct_<key>``) are created and altered by the app from these rows
(``api/customers/physical.py``); Alembic ignores them (``include_object`` in ``env.py``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def json_type() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "customer_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(30), nullable=False),
        sa.Column("label", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("statuses", json_type(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("transitions", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("is_member_table", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("owner_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_table"),
        sa.UniqueConstraint("key", name="uq_customer_table_key"),
    )
    op.create_table(
        "customer_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(30), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("label", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("unique", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("indexed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("shown_in_list", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ref_table_id", sa.Integer(), nullable=True),
        sa.Column("options", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_field"),
        sa.UniqueConstraint("table_id", "key", name="uq_customer_field_table_id_key"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_customer_field_table_id_customer_table",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ref_table_id"],
            ["customer_table.id"],
            name="fk_customer_field_ref_table_id_customer_table",
            ondelete="RESTRICT",
        ),
    )
    op.create_table(
        "customer_history",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("record_id", BIGINT, nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("at", TS, server_default=NOW, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), server_default="api", nullable=False),
        sa.Column("actor_type", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("actor_label", sa.String(300), server_default=sa.text("''"), nullable=False),
        sa.Column("changes", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_history"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_customer_history_table_id_customer_table",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "customer_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("conditions", json_type(), nullable=True),
        sa.Column("columns", json_type(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("sort", sa.String(40), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_view"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_customer_view_table_id_customer_table",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff.id"], name="fk_customer_view_owner_id_staff", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_customer_history_table_id_record_id_id",
        "customer_history",
        ["table_id", "record_id", "id"],
    )


def downgrade() -> None:
    # The data tables the app made (ct_*) go with their metadata.
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    data_tables = [t for t in inspector.get_table_names() if t.startswith("ct_")]
    if data_tables and bind.dialect.name == "postgresql":
        op.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in data_tables) + " CASCADE")
    else:
        for name in data_tables:  # SQLite: foreign keys are off while migrating
            op.execute(f'DROP TABLE "{name}"')
    op.drop_index("ix_customer_history_table_id_record_id_id", table_name="customer_history")
    op.drop_table("customer_history")
    op.drop_table("customer_view")
    op.drop_table("customer_field")
    op.drop_table("customer_table")
