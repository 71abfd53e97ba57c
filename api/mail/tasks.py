"""Mail actors."""

from __future__ import annotations

from typing import Any

from api.jobs.runner import JobContext, job_actor
from api.mail import services


@job_actor(services.TEST_MAIL, queue="mail", side_effects=True)
def send_test_mail(ctx: JobContext) -> dict[str, Any]:
    return services.send_test_mail(ctx.session, ctx.runtime.mail, ctx.payload)
