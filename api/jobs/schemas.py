"""Response bodies of the jobs API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from api.jobs.kinds import JobKind, JobRegistry
from api.jobs.models import Job, JobUnit


class JobProgress(msgspec.Struct, kw_only=True):
    total: int  # units (recipients, chunks); 0 for a job that is not split into units
    finished: int


class JobOut(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    summary: str | None  # e.g. the recipient of a mail job
    state: str
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    progress: JobProgress
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, registry: JobRegistry) -> JobOut:
        assert job.id is not None
        return cls(
            id=job.id,
            kind=job.kind,
            summary=registry.summary(job),
            state=job.state,
            error=job.error,
            result=job.result,
            attempts=job.attempts,
            progress=JobProgress(total=job.units_total, finished=job.units_finished),
            created_by=job.created_by,
            created_at=job.created_at,
            updated_at=job.updated_at,
            finished_at=job.finished_at,
        )


class JobEnvelope(msgspec.Struct, kw_only=True):
    job: JobOut


class JobUnitOut(msgspec.Struct, kw_only=True):
    """One unit of a job: a recipient, a chunk of rows."""

    seq: int
    key: str
    state: str
    attempts: int
    error: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, unit: JobUnit) -> JobUnitOut:
        return cls(
            seq=unit.seq, key=unit.key, state=unit.state, attempts=unit.attempts,
            error=unit.error, updated_at=unit.updated_at,
        )  # fmt: skip


class JobKindOut(msgspec.Struct, kw_only=True):
    name: str
    label: dict[str, str]  # by language
    side_effects: bool
    queue: str

    @classmethod
    def of(cls, kind: JobKind) -> JobKindOut:
        return cls(
            name=kind.name, label=dict(kind.label), side_effects=kind.side_effects,
            queue=kind.queue,
        )  # fmt: skip
