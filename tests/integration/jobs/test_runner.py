"""The job runner on both databases: claim, run, settle; units with side effects recorded one
by one; a heartbeat that keeps long jobs alive."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from dramatiq.middleware import Shutdown, TimeLimitExceeded

from api.jobs import services
from api.jobs.kinds import JobKind, JobRegistry, RetryPolicy, UnitSpec
from api.jobs.models import JobState, UnitState
from api.jobs.runner import JobContext, UnitContext, run_job
from api.principal import SYSTEM
from api.runtime import Runtime


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"job_lease_seconds": 3}


class Refused(Exception):
    """Stands for a permanent refusal (SMTP 5xx)."""


class Busy(Exception):
    """Stands for a temporary refusal (SMTP 4xx): nothing was sent."""


class Broken(Exception):
    """Stands for a connection that broke after the message was sent."""

    uncertain = True


def pure(run: Any, **kw: Any) -> JobKind:
    return JobKind(name="test.pure", side_effects=False, run=run, **kw)


def sending(per_unit: Any, **kw: Any) -> JobKind:
    retry = kw.pop("retry", RetryPolicy(max_attempts=1, retry_on=(Busy,), fail_on=(Refused,),
                                        first_delay=timedelta(0)))  # fmt: skip
    return JobKind(name="test.send", side_effects=True, per_unit=per_unit, retry=retry, **kw)


def make(runtime: Runtime, kind: JobKind, units: int | None = None, **kw: Any) -> int:
    specs = (
        None if units is None else [UnitSpec(f"r{n}@example.jp", {"n": n}) for n in range(units)]
    )
    with runtime.db.transaction() as s:
        job_id = services.create_job(s, kind, {"n": 1}, units=specs, **kw).id
    assert job_id is not None
    return job_id


def job(runtime: Runtime, job_id: int) -> Any:
    with runtime.db.transaction() as s:
        return services.get_job(s, job_id)


def counts(runtime: Runtime, job_id: int) -> dict[str, int]:
    with runtime.db.transaction() as s:
        return services.unit_counts(s, job_id)


# ------------------------------------------------------------------------ work without units


def test_a_job_longer_than_the_lease_is_not_taken_away(runtime: Runtime) -> None:
    def slow(ctx: JobContext) -> dict[str, Any]:
        time.sleep(4.5)  # longer than the 3 s lease: only the heartbeat keeps it ours
        return {"ok": True}

    kind = pure(slow)
    job_id = make(runtime, kind)
    seen: dict[str, Any] = {}

    def janitor() -> None:
        time.sleep(3.6)
        with runtime.db.transaction() as s:
            seen["recovery"] = services.recover(s, JobRegistry([kind]), lease=timedelta(seconds=3))

    sweeper = threading.Thread(target=janitor)
    sweeper.start()
    assert run_job(runtime, kind, job_id) == "done"
    sweeper.join()
    assert seen["recovery"].requeued == [] and seen["recovery"].uncertain_units == {}
    assert job(runtime, job_id).state == "done" and job(runtime, job_id).result == {"ok": True}


def test_failure_is_recorded_and_retryable_errors_are_queued_again(runtime: Runtime) -> None:
    failing = pure(lambda ctx: 1 / 0)
    flaky = pure(lambda ctx: (_ for _ in ()).throw(Busy("server busy, try later")),
                 retry=RetryPolicy(max_attempts=3, retry_on=(Busy,)))  # fmt: skip
    a, b = make(runtime, failing), make(runtime, flaky)
    assert run_job(runtime, failing, a) == "failed"
    assert run_job(runtime, flaky, b) == "queued"
    assert "division by zero" in (job(runtime, a).error or "")
    again = job(runtime, b)
    assert again.state == "queued" and again.error == "server busy, try later"
    assert again.run_after > again.updated_at  # backoff: not due at once


def test_a_job_runs_once_even_if_its_message_arrives_twice(runtime: Runtime) -> None:
    runs: list[int] = []
    kind = pure(lambda ctx: runs.append(ctx.job.id))
    job_id = make(runtime, kind)
    assert run_job(runtime, kind, job_id) == "done"
    assert run_job(runtime, kind, job_id) is None
    assert runs == [job_id]


def test_work_is_rolled_back_when_the_job_fails(runtime: Runtime) -> None:
    from api.livesettings import services as live
    from api.principal import SYSTEM

    def half_done(ctx: JobContext) -> None:
        live.update(ctx.session, SYSTEM, {"site.name": "half written"})
        raise RuntimeError("crash after a write")

    kind = pure(half_done)
    assert run_job(runtime, kind, make(runtime, kind)) == "failed"
    with runtime.db.transaction() as s:
        assert live.get(s, "site.name") == "Kizuna"


@pytest.mark.parametrize(("interruption", "state"), [("time", "failed"), ("shutdown", "queued")])
def test_interrupted_jobs_without_units(runtime: Runtime, interruption: str, state: str) -> None:
    def stopped(ctx: JobContext) -> None:
        raise TimeLimitExceeded() if interruption == "time" else Shutdown()

    kind = pure(stopped)
    job_id = make(runtime, kind)
    assert run_job(runtime, kind, job_id) == state
    assert (job(runtime, job_id).error or "").startswith("Stopped")


# ------------------------------------------------------------------------ units with side effects


def test_each_unit_is_done_once_and_a_second_run_sends_nothing(runtime: Runtime) -> None:
    sent: list[str] = []
    kind = sending(lambda unit: sent.append(unit.key) or {"id": unit.seq})
    job_id = make(runtime, kind, units=250)
    assert run_job(runtime, kind, job_id) == "done"
    assert sent == [f"r{n}@example.jp" for n in range(250)]
    finished = job(runtime, job_id)
    assert finished.units_finished == finished.units_total == 250
    assert finished.result["units"] == {"total": 250, "done": 250, "failed": 0, "uncertain": 0}
    with runtime.db.transaction() as s:  # even if a person queued it again by mistake
        s.execute(services._JOB.update().where(services._JOB.c.id == job_id).values(state="queued"))
    assert run_job(runtime, kind, job_id) == "done"
    assert len(sent) == 250


def test_the_claim_is_committed_before_the_side_effect(runtime: Runtime) -> None:
    """What another connection sees during the external call: the unit is claimed."""
    seen: list[str] = []

    def look(unit: UnitContext) -> None:
        assert unit.session is None  # no transaction is open around the external call
        with runtime.db.transaction() as s:
            (row,), _ = services.list_units(s, unit.job.job.id, state="running")  # type: ignore[arg-type]
            seen.append(row.key)

    kind = sending(look)
    assert run_job(runtime, kind, make(runtime, kind, units=2)) == "done"
    assert seen == ["r0@example.jp", "r1@example.jp"]


def test_outcomes_per_unit_and_the_job_reports_who_to_check(runtime: Runtime) -> None:
    def deliver(unit: UnitContext) -> None:
        n = unit.payload["n"]
        if n == 1:
            raise Refused("550 no such user")
        if n == 2:
            raise Broken("connection lost after DATA")
        if n == 3:
            raise KeyError("surprise")  # unknown error during a side effect: uncertain

    kind = sending(deliver)
    job_id = make(runtime, kind, units=5)
    assert run_job(runtime, kind, job_id) == "uncertain"
    finished = job(runtime, job_id)
    assert finished.result["units"] == {"total": 5, "done": 2, "failed": 1, "uncertain": 2}
    assert [u["key"] for u in finished.result["uncertain"]] == ["r2@example.jp", "r3@example.jp"]
    assert finished.result["failed"] == [{"key": "r1@example.jp", "error": "550 no such user"}]
    assert "r2@example.jp" in finished.error and "Check them" in finished.error


def test_temporary_failures_retry_the_unit_later_then_give_up(runtime: Runtime) -> None:
    tries: list[int] = []

    def busy_once(unit: UnitContext) -> None:
        tries.append(unit.payload["n"])
        if unit.payload["n"] == 0 and unit.attempts == 1:
            raise Busy("421 try later")

    kind = sending(busy_once, retry=RetryPolicy(max_attempts=2, retry_on=(Busy,),
                                                 first_delay=timedelta(0)))  # fmt: skip
    job_id = make(runtime, kind, units=3)
    assert run_job(runtime, kind, job_id) == "queued"  # unit 0 waits for the next attempt
    assert counts(runtime, job_id) == {"pending": 1, "done": 2}
    assert run_job(runtime, kind, job_id) == "done"
    assert tries == [0, 1, 2, 0]

    always = sending(lambda unit: (_ for _ in ()).throw(Busy("421")))
    gave_up = make(runtime, always, units=1)
    assert run_job(runtime, always, gave_up) == "failed"
    assert counts(runtime, gave_up) == {"failed": 1}


def test_a_service_that_keeps_refusing_pauses_the_job(runtime: Runtime) -> None:
    tried: list[int] = []

    def down(unit: UnitContext) -> None:
        tried.append(unit.seq)
        raise Busy("421 service not available")

    kind = sending(down, retry=RetryPolicy(max_attempts=3, retry_on=(Busy,)))
    job_id = make(runtime, kind, units=50)
    assert run_job(runtime, kind, job_id) == "queued"
    assert len(tried) == 5  # stopped knocking after five refusals in a row
    paused = job(runtime, job_id)
    assert paused.run_after > paused.updated_at and "trying again" in paused.error
    assert counts(runtime, job_id) == {"pending": 50}


def test_an_interruption_mid_send_makes_that_unit_uncertain(runtime: Runtime) -> None:
    def stop_at_two(unit: UnitContext) -> None:
        if unit.seq == 2:
            raise Shutdown()

    kind = sending(stop_at_two)
    job_id = make(runtime, kind, units=4)
    assert run_job(runtime, kind, job_id) == "queued"  # the rest is for the next worker
    assert counts(runtime, job_id) == {"done": 2, "uncertain": 1, "pending": 1}
    assert run_job(runtime, sending(lambda unit: None), job_id) == "uncertain"
    assert counts(runtime, job_id) == {"done": 3, "uncertain": 1}


def test_units_planned_at_the_first_run_only(runtime: Runtime) -> None:
    planned: list[int] = []

    def plan(payload: dict[str, Any]) -> list[UnitSpec]:
        planned.append(1)
        return [UnitSpec("only@example.jp")]

    kind = sending(lambda unit: None, plan=plan)
    job_id = make(runtime, kind)
    assert run_job(runtime, kind, job_id) == "done"
    with runtime.db.transaction() as s:
        services.plan_units(s, job_id, [UnitSpec("again@example.jp")])
    assert planned == [1] and counts(runtime, job_id) == {"done": 1}


def test_a_worker_that_lost_its_job_stops_before_the_next_unit(runtime: Runtime) -> None:
    sent: list[str] = []

    def slow(unit: UnitContext) -> None:
        sent.append(unit.key)
        if unit.seq == 0:  # meanwhile the janitor decided this worker is dead
            with runtime.db.transaction() as s:
                services.recover(s, JobRegistry([kind]), lease=timedelta(0),
                                 now=services.utcnow() + timedelta(seconds=1))  # fmt: skip

    kind = sending(slow)
    job_id = make(runtime, kind, units=3)
    assert run_job(runtime, kind, job_id) is None
    assert sent == ["r0@example.jp"]
    # The unit it was sending is uncertain (the janitor could not know); its own record
    # then corrected that to done, since the call returned.
    assert counts(runtime, job_id) == {"done": 1, "pending": 2}
    assert job(runtime, job_id).units_finished == 1


# ------------------------------------------------------------------------ units in transactions


def test_transactional_units_roll_back_alone(runtime: Runtime) -> None:
    from api.livesettings import services as live
    from api.principal import SYSTEM

    def chunk(unit: UnitContext) -> dict[str, Any]:
        assert unit.session is not None
        live.update(unit.session, SYSTEM, {"mail.footer": f"chunk {unit.seq}"})
        if unit.seq == 1:
            raise ValueError("row 7: not a date")
        return {"rows": 10}

    kind = JobKind(name="test.chunks", side_effects=False, per_unit=chunk)
    job_id = make(runtime, kind, units=2)
    assert run_job(runtime, kind, job_id) == "done"  # one chunk failed, one is in
    with runtime.db.transaction() as s:
        assert live.get(s, "mail.footer") == "chunk 0"
        units, _ = services.list_units(s, job_id)
    assert [(u.state, u.error) for u in units] == [
        (UnitState.done, None),
        (UnitState.failed, "row 7: not a date"),
    ]
    assert job(runtime, job_id).state == JobState.done


# ------------------------------------------------------------ units that depend on each other


def chunks(per_unit: Any, stopped: list[tuple[str, str]], **kw: Any) -> JobKind:
    def on_stopped(session: Any, job: Any, state: str, error: str) -> None:
        stopped.append((state, error))

    return JobKind(name="test.chunks", side_effects=False, per_unit=per_unit,
                   stop_on_failure=True, on_stopped=on_stopped, **kw)  # fmt: skip


def test_stop_on_failure_leaves_the_rest_untried_and_tells_the_kind(runtime: Runtime) -> None:
    ran: list[int] = []
    stopped: list[tuple[str, str]] = []

    def per_unit(unit: UnitContext) -> dict[str, Any]:
        if unit.payload["n"] == 1 and unit.attempts == 1:
            raise RuntimeError("the disk is full")
        ran.append(unit.payload["n"])
        return {}

    kind = chunks(per_unit, stopped)
    job_id = make(runtime, kind, units=4)
    assert run_job(runtime, kind, job_id) == JobState.failed.value
    assert ran == [0]
    assert counts(runtime, job_id) == {UnitState.done: 1, UnitState.failed: 3}
    assert stopped == [("failed", "3 of 4 failed; first: r1@example.jp: the disk is full")]
    # retried by a person: the failed and untried units run, in order
    with runtime.db.transaction() as s:
        services.retry_job(s, SYSTEM, job_id)
    assert run_job(runtime, kind, job_id) == JobState.done.value
    assert ran == [0, 1, 2, 3] and len(stopped) == 1


def test_cancelling_a_queued_job_tells_its_kind(runtime: Runtime) -> None:
    stopped: list[tuple[str, str]] = []
    kind = chunks(lambda unit: {}, stopped)
    job_id = make(runtime, kind, units=2)
    with runtime.db.transaction() as s:
        services.cancel_job(s, SYSTEM, job_id, JobRegistry([kind]))
    assert stopped == [("cancelled", "cancelled by staff")]
    assert job(runtime, job_id).state == JobState.cancelled


def test_a_hook_that_raises_does_not_undo_the_jobs_outcome(runtime: Runtime) -> None:
    def on_stopped(session: Any, job: Any, state: str, error: str) -> None:
        raise ValueError("a bug in the domain's hook")

    def fail(unit: UnitContext) -> None:
        raise RuntimeError("no")

    kind = JobKind(name="test.chunks", side_effects=False, per_unit=fail, stop_on_failure=True,
                   on_stopped=on_stopped)  # fmt: skip
    job_id = make(runtime, kind, units=2)
    assert run_job(runtime, kind, job_id) == JobState.failed.value
    assert job(runtime, job_id).state == JobState.failed
