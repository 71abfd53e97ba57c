"""members: accounts of member-table records (password, state) and their refresh sessions

Revision ID: 0010_members
Revises: 0009
Create Date: 2026-11-29 16:10:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_members"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_account",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), server_default="active", nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failed_at", TS, nullable=True),
        sa.Column("last_login_at", TS, nullable=True),
        sa.Column("password_changed_at", TS, nullable=True),
        sa.Column("suspended_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_account"),
        sa.UniqueConstraint("table_id", "record_id", name="uq_member_account_table_id_record_id"),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["customer_table.id"],
            name="fk_member_account_table_id_customer_table",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "member_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("last_used_at", TS, server_default=NOW, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_member_session"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["member_account.id"],
            name="fk_member_session_account_id_member_account",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_member_session_account_id", "member_session", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_member_session_account_id", table_name="member_session")
    op.drop_table("member_session")
    op.drop_table("member_account")
