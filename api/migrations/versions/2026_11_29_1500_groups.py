"""groups: named sets of member records (``member_group``) and their memberships

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 15:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "member_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("label", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("description", sa.String(2000), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_group"),
        sa.UniqueConstraint("key", name="uq_member_group_key"),
    )
    op.create_table(
        "member_group_membership",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("record_id", BIGINT, nullable=False),
        sa.Column("added_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint(
            "group_id", "table_id", "record_id", name="pk_member_group_membership"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["member_group.id"],
            name="fk_member_group_membership_group_id_member_group",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_member_group_membership_table_id_customer_table",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_member_group_membership_table_id_record_id",
        "member_group_membership",
        ["table_id", "record_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_member_group_membership_table_id_record_id", table_name="member_group_membership"
    )
    op.drop_table("member_group_membership")
    op.drop_table("member_group")
