"""The job runner: claim, run, settle, and a heartbeat that keeps long jobs alive."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from api.jobs import services
from api.jobs.runner import JobContext, run_job
from api.runtime import Runtime


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"job_lease_seconds": 3}


def make(runtime: Runtime, **kw: Any) -> str:
    with runtime.db.transaction() as s:
        return services.create_job(s, "test.kind", {"n": 1}, **kw).id


def test_a_job_longer_than_the_lease_is_not_taken_away(runtime: Runtime) -> None:
    job_id = make(runtime, side_effects=True)
    seen: dict[str, Any] = {}

    def slow(ctx: JobContext) -> dict[str, Any]:
        time.sleep(4.5)  # longer than the 3 s lease: only the heartbeat keeps it ours
        return {"ok": True}

    def janitor() -> None:
        time.sleep(3.6)
        with runtime.db.transaction() as s:
            seen["recovery"] = services.recover(s, lease=timedelta(seconds=3))

    sweeper = threading.Thread(target=janitor)
    sweeper.start()
    assert run_job(slow, job_id) == "done"
    sweeper.join()
    assert seen["recovery"].uncertain == [] and seen["recovery"].requeued == []
    with runtime.db.transaction() as s:
        job = services.get_job(s, job_id)
        assert job.state == "done" and job.result == {"ok": True}


def test_failure_is_recorded_and_retryable_errors_are_queued_again(runtime: Runtime) -> None:
    class Transient(Exception):
        pass

    failing = make(runtime)
    assert run_job(lambda ctx: 1 / 0, failing) == "failed"  # type: ignore[arg-type,return-value]
    retrying = make(runtime, max_attempts=3)

    def flaky(ctx: JobContext) -> None:
        raise Transient("server busy, try later")

    assert run_job(flaky, retrying, retry_on=(Transient,)) == "queued"
    with runtime.db.transaction() as s:
        assert "division by zero" in (services.get_job(s, failing).error or "")
        job = services.get_job(s, retrying)
        assert job.state == "queued" and job.error == "server busy, try later"
        assert job.run_after > job.updated_at  # backoff: not due at once


def test_a_job_runs_once_even_if_its_message_arrives_twice(runtime: Runtime) -> None:
    job_id = make(runtime)
    runs: list[str] = []
    assert run_job(lambda ctx: runs.append(ctx.job.id), job_id) == "done"  # type: ignore[arg-type,func-returns-value]
    assert run_job(lambda ctx: runs.append(ctx.job.id), job_id) is None  # type: ignore[arg-type,func-returns-value]
    assert runs == [job_id]


def test_work_is_rolled_back_when_the_job_fails(runtime: Runtime) -> None:
    from api.livesettings import services as live
    from api.principal import SYSTEM

    job_id = make(runtime)

    def half_done(ctx: JobContext) -> None:
        live.update(ctx.session, SYSTEM, {"site.name": "half written"})
        raise RuntimeError("crash after a write")

    assert run_job(half_done, job_id) == "failed"
    with runtime.db.transaction() as s:
        assert live.get(s, "site.name") == "Kizuna"


@pytest.mark.parametrize(
    ("side_effects", "interruption", "state"),
    [
        (True, "time", "uncertain"),
        (True, "shutdown", "uncertain"),
        (False, "time", "failed"),
        (False, "shutdown", "queued"),
    ],
)
def test_interrupted_jobs(
    runtime: Runtime, side_effects: bool, interruption: str, state: str
) -> None:
    from dramatiq.middleware import Shutdown, TimeLimitExceeded

    job_id = make(runtime, side_effects=side_effects)

    def stopped(ctx: JobContext) -> None:
        raise TimeLimitExceeded() if interruption == "time" else Shutdown()

    assert run_job(stopped, job_id) == state
    with runtime.db.transaction() as s:
        assert services.get_job(s, job_id).error.startswith("Stopped")  # type: ignore[union-attr]
