"""jobs: 64-bit identity keys, units with their own outcomes, progress; no side-effect column

The job kind (declared in code) now says whether a job has side effects; each unit of a job
(a recipient, a chunk of rows) records its own outcome in ``job_unit``.

The job table is rebuilt (its key changes from a random string to a 64-bit identity), so its
rows are copied over in order; old ids are not kept. Unfinished jobs of the units kinds make
their units at their next run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COPIED = (
    "kind, state, payload, result, error, attempts, max_attempts, created_by, created_at, "
    "updated_at, run_after, enqueued_at, claimed_at, claimed_by, heartbeat_at, finished_at"
)


def json_type() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Schema: the new tables beside the old one.
    op.drop_index("ix_job_state_run_after", table_name="job")
    op.rename_table("job", "job_before_0003")
    if op.get_bind().dialect.name == "postgresql":  # its key's name is taken by the new table
        op.execute("ALTER TABLE job_before_0003 RENAME CONSTRAINT pk_job TO pk_job_before_0003")
    op.create_table(
        "job",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), server_default="queued", nullable=False),
        sa.Column("payload", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("result", json_type(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("units_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("units_finished", sa.Integer(), server_default="0", nullable=False),
        sa.Column("planned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.String(300), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("run_after", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("enqueued_at", TS, nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job"),
    )
    op.create_index("ix_job_state_run_after", "job", ["state", "run_after"])
    op.create_table(
        "job_unit",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("job_id", BIGINT, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("payload", json_type(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("state", sa.String(20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("result", json_type(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("updated_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_unit"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name="fk_job_unit_job_id_job", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_job_unit_job_id_state_seq", "job_unit", ["job_id", "state", "seq"])
    # Data: the rows of the old table, oldest first, then the old table goes.
    copy = f"INSERT INTO job ({COPIED}) SELECT {COPIED} FROM job_before_0003 ORDER BY created_at"
    op.execute(copy)
    op.drop_table("job_before_0003")


def downgrade() -> None:
    op.drop_index("ix_job_unit_job_id_state_seq", table_name="job_unit")
    op.drop_table("job_unit")
    op.drop_index("ix_job_state_run_after", table_name="job")
    op.rename_table("job", "job_after_0003")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE job_after_0003 RENAME CONSTRAINT pk_job TO pk_job_after_0003")
    op.create_table(
        "job",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("payload", json_type(), nullable=False),
        sa.Column("result", json_type(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("side_effects", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("run_after", TS, nullable=False),
        sa.Column("enqueued_at", TS, nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job"),
    )
    op.create_index("ix_job_state_run_after", "job", ["state", "run_after"])
    copy_back = (
        f"INSERT INTO job (id, side_effects, {COPIED}) SELECT CAST(id AS VARCHAR(32)), "
        f"kind LIKE 'mail.%', {COPIED} FROM job_after_0003"
    )
    op.execute(copy_back)
    op.drop_table("job_after_0003")
