"""customer table options: a table's settings beyond its columns (the duplicates' name and
company fields: ``{"name_field": "name", "company_field": "company"}``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customer_table",
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("customer_table") as batch:
        batch.drop_column("options")
