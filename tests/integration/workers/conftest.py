from __future__ import annotations

import time
from typing import Any

from api.jobs.models import FINISHED_STATES


def wait_for_job(get: Any, job_id: str, timeout: float = 20) -> dict[str, Any]:
    """Poll GET /api/jobs/{id} (``get`` is a client's get) until the job is finished."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = get(f"/api/jobs/{job_id}").json()
        if body.get("state") in FINISHED_STATES:
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s: {body}")
