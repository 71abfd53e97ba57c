"""The job table and its units (see DESIGN.md "Jobs").

A job is one piece of long work. A job that touches the outside world (mails, webhooks) or
that is too big for one transaction (an import) is split into **units**: one recipient, one
chunk of rows. Each unit records its own outcome, so a crash half-way through loses nothing
and repeats nothing: finished units stay finished, and a unit caught in flight is marked
``uncertain`` for a person to check.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, text
from sqlmodel import Field, SQLModel

from api.db import BigIntKey, JSONType, UTCDateTime, server_now, utcnow


class JobState(StrEnum):
    queued = "queued"  # waiting for a worker (run_after says from when)
    running = "running"  # claimed by a worker, which keeps heartbeat_at fresh
    done = "done"
    failed = "failed"  # gave up: error says why
    uncertain = "uncertain"  # some work may or may not have happened: a person must check
    cancelled = "cancelled"


FINISHED_STATES = frozenset(
    {JobState.done, JobState.failed, JobState.uncertain, JobState.cancelled}
)


class UnitState(StrEnum):
    pending = "pending"  # not tried yet (or tried and certain that nothing happened)
    running = "running"  # claimed; for side effects: the external call may be under way
    done = "done"
    retry = "retry"  # failed for now, certain that nothing happened; tried again later
    failed = "failed"  # failed for good, certain that nothing happened
    uncertain = "uncertain"  # the outcome cannot be known (crash or broken connection mid-call)


FINAL_UNIT_STATES = frozenset({UnitState.done, UnitState.failed, UnitState.uncertain})


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    kind: str = Field(max_length=100)
    state: str = Field(
        default=JobState.queued, max_length=20, sa_column_kwargs={"server_default": "queued"}
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs={"server_default": text("'{}'")}
    )
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: str | None = Field(default=None)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    max_attempts: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # Units: how many the job has and how many reached a final state (for progress and ETA).
    units_total: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    units_finished: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    planned: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    created_by: str = Field(
        default="", max_length=300, sa_column_kwargs={"server_default": text("''")}
    )
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": server_now()},
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": server_now()},
    )
    run_after: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": server_now()},
    )
    enqueued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobUnit(SQLModel, table=True):
    __tablename__ = "job_unit"
    __table_args__ = (Index("ix_job_unit_job_id_state_seq", "job_id", "state", "seq"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    job_id: int = Field(
        sa_column=Column(BigIntKey, ForeignKey("job.id", ondelete="CASCADE"), nullable=False)
    )
    seq: int  # order within the job
    key: str = Field(max_length=300)  # what a person recognises: the recipient, "rows 1–1000"
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs={"server_default": text("'{}'")}
    )
    state: str = Field(
        default=UnitState.pending, max_length=20, sa_column_kwargs={"server_default": "pending"}
    )
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    claimed_by: str | None = Field(default=None, max_length=100)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: str | None = Field(default=None)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
