"""Response bodies of the jobs API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from api.jobs.models import Job
from api.jobs.services import summary


class JobOut(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    summary: str | None  # e.g. the recipient of a mail job
    state: str
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            summary=summary(job),
            state=job.state,
            error=job.error,
            result=job.result,
            attempts=job.attempts,
            created_by=job.created_by,
            created_at=job.created_at,
            updated_at=job.updated_at,
            finished_at=job.finished_at,
        )


class JobEnvelope(msgspec.Struct, kw_only=True):
    job: JobOut
