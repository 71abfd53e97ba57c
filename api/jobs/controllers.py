"""Jobs API: follow a job someone started (an import, a test mail...)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.jobs import services
from api.jobs.schemas import JobOut
from api.runtime import Runtime
from api.staff.permissions import Permission
from api.web.auth import requires


class JobController(Controller):
    path = "/api/jobs"
    tags = ["jobs"]

    @get("/{job_id:str}", guards=[requires(Permission.jobs_read)], sync_to_thread=True)
    def get_job(self, job_id: FromPath[str], runtime: NamedDependency[Runtime]) -> JobOut:
        with runtime.db.transaction() as session:
            return JobOut.of(services.get_job(session, job_id))
