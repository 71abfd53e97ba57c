"""Jobs API: follow a job and its units, list jobs, retry or cancel the ones that need a
person, and the kinds of jobs the installed domains declare."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.jobs import permissions as perms
from api.jobs import services
from api.jobs.kinds import JobRegistry
from api.jobs.models import JobState, UnitState
from api.jobs.schemas import JobKindOut, JobOut, JobUnitOut
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires
from api.web.params import BigRowId, Page, Pagination, provide_pagination


class JobController(Controller):
    path = "/api/jobs"
    tags = ["jobs"]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/", guards=[requires(perms.JOBS_READ)], sync_to_thread=True)
    def list_jobs(
        self,
        runtime: NamedDependency[Runtime],
        jobs: NamedDependency[JobRegistry],
        pagination: NamedDependency[Pagination],
        job_state: Annotated[JobState | None, QueryParameter(name="state")] = None,
        kind: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Page[JobOut]:
        """Newest first; filter by state (e.g. ``uncertain`` ones need a person to check)."""
        with runtime.db.transaction() as session:
            rows, total = services.list_jobs(
                session, state=job_state, kind=kind,
                offset=pagination.offset, limit=pagination.per_page,
            )  # fmt: skip
            return pagination.of([JobOut.of(j, jobs) for j in rows], total)

    @get("/kinds", guards=[requires(perms.JOBS_READ)], sync_to_thread=False)
    def list_kinds(self, jobs: NamedDependency[JobRegistry]) -> list[JobKindOut]:
        """The kinds of jobs the installed domains declare, with their display names."""
        return [JobKindOut.of(kind) for kind in jobs]

    @get("/{job_id:int}", guards=[requires(perms.JOBS_READ)], sync_to_thread=True)
    def get_job(
        self,
        job_id: BigRowId,
        runtime: NamedDependency[Runtime],
        jobs: NamedDependency[JobRegistry],
    ) -> JobOut:
        with runtime.db.transaction() as session:
            return JobOut.of(services.get_job(session, job_id), jobs)

    @get("/{job_id:int}/units", guards=[requires(perms.JOBS_READ)], sync_to_thread=True)
    def list_units(
        self,
        job_id: BigRowId,
        runtime: NamedDependency[Runtime],
        pagination: NamedDependency[Pagination],
        unit_state: Annotated[UnitState | None, QueryParameter(name="state")] = None,
    ) -> Page[JobUnitOut]:
        """A job's units in order (recipients, chunks); ``state=uncertain`` lists the ones a
        person must check."""
        with runtime.db.transaction() as session:
            rows, total = services.list_units(
                session, job_id, state=unit_state,
                offset=pagination.offset, limit=pagination.per_page,
            )  # fmt: skip
            return pagination.of([JobUnitOut.of(u) for u in rows], total)

    @post(
        "/{job_id:int}/retry",
        guards=[requires(perms.JOBS_WRITE)],
        status_code=200,
        sync_to_thread=True,
    )
    def retry(
        self,
        job_id: BigRowId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        jobs: NamedDependency[JobRegistry],
    ) -> JobOut:
        """Queue a failed or uncertain job again; its failed and uncertain units are tried
        again, units already done are not."""
        with runtime.db.transaction() as session:
            return JobOut.of(services.retry_job(session, principal, job_id), jobs)

    @post(
        "/{job_id:int}/cancel",
        guards=[requires(perms.JOBS_WRITE)],
        status_code=200,
        sync_to_thread=True,
    )
    def cancel(
        self,
        job_id: BigRowId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        jobs: NamedDependency[JobRegistry],
    ) -> JobOut:
        """Cancel a queued job, or close a failed/uncertain one as handled."""
        with runtime.db.transaction() as session:
            return JobOut.of(services.cancel_job(session, principal, job_id, jobs), jobs)
