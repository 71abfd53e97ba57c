"""customer files: the metadata of files uploaded to file fields (bytes under var/files)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 11:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customer_file",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("field_key", sa.String(30), nullable=False),
        sa.Column("record_id", BIGINT, nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by_type", sa.String(20), nullable=False),
        sa.Column("uploaded_by_id", sa.String(64), nullable=True),
        sa.Column(
            "uploaded_by_label", sa.String(300), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("uploaded_at", TS, server_default=NOW, nullable=False),
        sa.Column("removed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customer_file"),
        sa.UniqueConstraint("public_id", name="uq_customer_file_public_id"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_customer_file_table_id_customer_table",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_customer_file_table_id_record_id", "customer_file", ["table_id", "record_id"]
    )
    op.create_index("ix_customer_file_sha256", "customer_file", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_customer_file_sha256", table_name="customer_file")
    op.drop_index("ix_customer_file_table_id_record_id", table_name="customer_file")
    op.drop_table("customer_file")
