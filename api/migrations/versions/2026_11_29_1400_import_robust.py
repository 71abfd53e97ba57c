"""import batches: the message in Japanese too, and when housekeeping removed the file

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 14:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customer_import",
        sa.Column("message_ja", sa.String(2000), server_default=sa.text("''"), nullable=False),
    )
    op.add_column(
        "customer_import", sa.Column("file_removed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("customer_import") as batch:
        batch.drop_column("file_removed_at")
        batch.drop_column("message_ja")
