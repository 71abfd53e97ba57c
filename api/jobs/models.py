"""The job table (see DESIGN.md "Jobs")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.db import JSONType, UTCDateTime, new_id, utcnow


class JobState(StrEnum):
    queued = "queued"  # waiting for a worker (run_after says from when)
    running = "running"  # claimed by a worker, which keeps heartbeat_at fresh
    done = "done"
    failed = "failed"  # gave up: error says why
    uncertain = "uncertain"  # its worker vanished mid-way and redoing it could repeat a side effect
    cancelled = "cancelled"


FINISHED_STATES = frozenset(
    {JobState.done, JobState.failed, JobState.uncertain, JobState.cancelled}
)


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=100)
    state: str = Field(default=JobState.queued, max_length=20)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: str | None = Field(default=None)
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=1)
    # True when running the job twice could repeat something visible outside (a mail sent).
    side_effects: bool = Field(default=False)
    created_by: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    run_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    enqueued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
