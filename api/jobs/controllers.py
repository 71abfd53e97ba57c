"""Jobs API: follow a job, list jobs, retry or cancel the ones that need a person."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter

from api.jobs import services
from api.jobs.models import JobState
from api.jobs.schemas import JobOut
from api.principal import Principal
from api.runtime import Runtime
from api.staff.permissions import Permission
from api.web.auth import requires
from api.web.params import Page, Pagination, provide_pagination


class JobController(Controller):
    path = "/api/jobs"
    tags = ["jobs"]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/", guards=[requires(Permission.jobs_read)], sync_to_thread=True)
    def list_jobs(
        self,
        runtime: NamedDependency[Runtime],
        pagination: NamedDependency[Pagination],
        job_state: Annotated[JobState | None, QueryParameter(name="state")] = None,
        kind: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Page[JobOut]:
        """Newest first; filter by state (e.g. ``uncertain`` ones need a person to check)."""
        with runtime.db.transaction() as session:
            rows, total = services.list_jobs(
                session,
                state=job_state,
                kind=kind,
                offset=pagination.offset,
                limit=pagination.per_page,
            )
            return pagination.of([JobOut.of(j) for j in rows], total)

    @get("/{job_id:str}", guards=[requires(Permission.jobs_read)], sync_to_thread=True)
    def get_job(self, job_id: FromPath[str], runtime: NamedDependency[Runtime]) -> JobOut:
        with runtime.db.transaction() as session:
            return JobOut.of(services.get_job(session, job_id))

    @post(
        "/{job_id:str}/retry",
        guards=[requires(Permission.jobs_write)],
        status_code=200,
        sync_to_thread=True,
    )
    def retry(
        self,
        job_id: FromPath[str],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> JobOut:
        """Queue a failed or uncertain job again."""
        with runtime.db.transaction() as session:
            return JobOut.of(services.retry_job(session, principal, job_id))

    @post(
        "/{job_id:str}/cancel",
        guards=[requires(Permission.jobs_write)],
        status_code=200,
        sync_to_thread=True,
    )
    def cancel(
        self,
        job_id: FromPath[str],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> JobOut:
        """Cancel a queued job, or close a failed/uncertain one as handled."""
        with runtime.db.transaction() as session:
            return JobOut.of(services.cancel_job(session, principal, job_id))
