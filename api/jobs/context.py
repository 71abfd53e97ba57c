"""What a job's code receives from the runner: its job, and for units the unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from api.jobs.models import Job
from api.runtime import Runtime


@dataclass
class JobContext:
    """What a job's code gets: its row (a snapshot), the runtime, and for ``run=`` kinds the
    transaction in which it runs together with the job's completion."""

    job: Job
    runtime: Runtime
    worker: str
    _session: Session | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # shared by the units of one run

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError(
                f"job kind {self.job.kind} works in units: use the session of the unit context"
            )
        return self._session


@dataclass
class UnitContext:
    """What ``per_unit`` gets: the unit, its job, and for kinds without side effects the
    transaction in which the unit runs together with its outcome (None with side effects:
    the external call must happen outside any transaction)."""

    job: JobContext
    id: int
    seq: int
    key: str
    payload: dict[str, Any]
    attempts: int  # this attempt's number, from 1
    session: Session | None = None

    @property
    def runtime(self) -> Runtime:
        return self.job.runtime
