"""member site: mailed links (confirmation, reset, e-mail change) and funnel events

Revision ID: 0011_member_site
Revises: 0010_members
Create Date: 2026-11-29 17:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011_member_site"
down_revision: str | None = "0010_members"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "member_token",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("data", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_member_token"),
        sa.UniqueConstraint("secret_hash", name="uq_member_token_secret_hash"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["member_account.id"],
            name="fk_member_token_account_id_member_account",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_member_token_account_id", "member_token", ["account_id"])
    op.create_table(
        "member_event",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_event"),
    )
    op.create_index("ix_member_event_kind_at", "member_event", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_member_event_kind_at", table_name="member_event")
    op.drop_table("member_event")
    op.drop_index("ix_member_token_account_id", table_name="member_token")
    op.drop_table("member_token")
