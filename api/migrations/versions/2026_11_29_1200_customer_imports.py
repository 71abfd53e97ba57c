"""customer imports: the import batch, the rows it refused, and customer_history.batch_id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
EMPTY = sa.text("''")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "customer_import",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), server_default="uploaded", nullable=False),
        sa.Column("filename", sa.String(255), server_default=EMPTY, nullable=False),
        sa.Column("stored", sa.String(64), nullable=False),
        sa.Column("format", sa.String(10), server_default="csv", nullable=False),
        sa.Column("encoding", sa.String(20), server_default=EMPTY, nullable=False),
        sa.Column("requested_encoding", sa.String(20), server_default="auto", nullable=False),
        _count("size"),
        sa.Column("header", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("sample", _json(), server_default=sa.text("'[]'"), nullable=False),
        _count("rows_total"),
        sa.Column("mapping", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("mapping_source", sa.String(20), server_default="auto", nullable=False),
        sa.Column("mode", sa.String(10), server_default="upsert", nullable=False),
        sa.Column("key", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("all_or_nothing", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("check", _json(), nullable=True),
        sa.Column("result", _json(), nullable=True),
        sa.Column("undo", _json(), nullable=True),
        sa.Column("job_id", BIGINT, nullable=True),
        _count("rows_done"),
        sa.Column("chunks_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("chunks_done", sa.Integer(), server_default="0", nullable=False),
        _count("created"),
        _count("updated"),
        _count("unchanged"),
        _count("invalid"),
        _count("duplicate_keys"),
        sa.Column("message", sa.String(2000), server_default=EMPTY, nullable=False),
        sa.Column("created_by", sa.String(300), server_default=EMPTY, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_import"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_customer_import_table_id_customer_table",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_customer_import_table_id_id", "customer_import", ["table_id", "id"])
    op.create_table(
        "customer_import_error",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("batch_id", BIGINT, nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=False),
        sa.Column("cells", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("reasons", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_import_error"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["customer_import.id"],
            name="fk_customer_import_error_batch_id_customer_import",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_customer_import_error_batch_id_row", "customer_import_error", ["batch_id", "row"]
    )
    op.add_column("customer_history", sa.Column("batch_id", BIGINT, nullable=True))
    op.create_index("ix_customer_history_batch_id", "customer_history", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_history_batch_id", table_name="customer_history")
    with op.batch_alter_table("customer_history") as batch:
        batch.drop_column("batch_id")
    op.drop_index("ix_customer_import_error_batch_id_row", table_name="customer_import_error")
    op.drop_table("customer_import_error")
    op.drop_index("ix_customer_import_table_id_id", table_name="customer_import")
    op.drop_table("customer_import")
