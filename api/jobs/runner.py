"""Running one job: claim it, do its work the way its kind says, settle it.

The dramatiq message carries only the job id; whatever receives it calls :func:`run_job`,
which claims the row atomically (a duplicate message is harmless), keeps its heartbeat fresh
from a side thread, and records the outcome. Retries are decided here from the job row and
the kind's :class:`~api.jobs.kinds.RetryPolicy`, never by dramatiq.

Work in units (see :mod:`api.jobs.kinds`): for a kind with side effects every unit is

    claim (commit) → the external call, outside any transaction → outcome (commit)

so a crash between the call and its record leaves the unit ``running``, which the janitor
turns into ``uncertain``: reported to a person by its key (the recipient), never redone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta
from typing import Any

from dramatiq.middleware import Interrupt, TimeLimitExceeded
from sqlmodel import Session

from api.jobs import services
from api.jobs.context import JobContext, UnitContext
from api.jobs.kinds import JobKind
from api.jobs.models import Job, JobState, UnitState
from api.runtime import Runtime

log = logging.getLogger(__name__)

# After this many units in a row fail "for now" (the mail server is down), the job pauses and
# tries again after its backoff instead of knocking on a closed door for every unit.
PAUSE_AFTER_RETRIES = 5
BATCH = 100


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


class LostJob(Exception):
    """The job is no longer ours (the janitor gave it to another worker): stop quietly."""


def classify(kind: JobKind, exc: BaseException) -> UnitState:
    """What a unit's error means for its outcome."""
    if getattr(exc, "uncertain", False):
        return UnitState.uncertain
    if kind.retry.fail_on and isinstance(exc, kind.retry.fail_on):
        return UnitState.failed
    if kind.retry.retry_on and isinstance(exc, kind.retry.retry_on):
        return UnitState.retry
    # An unexpected error during an external call: nobody can say whether it happened.
    return UnitState.uncertain if kind.side_effects else UnitState.failed


def run_job(runtime: Runtime, kind: JobKind, job_id: int) -> str | None:
    """Claim, run and settle one job. Returns the final state, or None if not ours to run."""
    worker = worker_name()
    with runtime.db.transaction() as session:
        claimed = services.claim(session, job_id, worker)
    if claimed is None:
        log.info("job %s not claimed (already taken, finished or not due)", job_id)
        return None
    if claimed.kind != kind.name:  # a message for another kind: never run foreign code
        with runtime.db.transaction() as session:
            services.fail(session, job_id, worker, f"received by the actor of {kind.name}")
        return JobState.failed.value
    beat = _Heartbeat(runtime, job_id, worker)
    beat.start()
    try:
        if kind.uses_units:
            return _run_units(runtime, kind, claimed, worker)
        with runtime.db.transaction() as session:
            job = session.get(Job, job_id)
            assert job is not None
            result = kind.run(JobContext(job, runtime, worker, session))  # type: ignore[misc]
            if not services.complete(session, job_id, worker, result):
                log.error("job %s finished but was no longer ours (lease lost)", job_id)
        return JobState.done.value
    except LostJob:
        log.warning("job %s was taken away from this worker (lease lost); stopped", job_id)
        return None
    except Interrupt as exc:  # dramatiq stopped this thread: time limit or worker shutdown
        timed_out = isinstance(exc, TimeLimitExceeded)
        reason = "Stopped at the time limit" if timed_out else "Stopped by a worker shutdown"
        log.warning("job %s (%s): %s", job_id, kind.name, reason)
        with runtime.db.transaction() as session:
            return _interrupted(session, kind, job_id, worker, reason, timed_out=timed_out)
    except Exception as exc:
        retryable = bool(kind.retry.retry_on) and isinstance(exc, kind.retry.retry_on)
        retry_in = kind.retry.delay(claimed.attempts) if retryable else None
        log.warning("job %s (%s) failed: %s", job_id, kind.name, exc, exc_info=not retryable)
        with runtime.db.transaction() as session:
            error = str(exc) or type(exc).__name__
            state = services.fail(session, job_id, worker, error, retry_in=retry_in)
            if state == JobState.failed.value:
                _stopped(session, kind, job_id, state, error)
            return state
    finally:
        beat.stop()


def _interrupted(
    session: Session, kind: JobKind, job_id: int, worker: str, reason: str, *, timed_out: bool
) -> str | None:
    """Stopped mid-way. Units in flight become uncertain; the rest waits for the next worker.
    Work without units was rolled back: queued again after a shutdown, failed at the limit."""
    if kind.uses_units:
        services.settle_running_units(
            session, job_id, worker=worker,
            reason=f"{reason} while this was being sent; it may or may not have been delivered",
        )  # fmt: skip
        requeued = services.requeue(session, job_id, worker, delay=timedelta(0), reason=reason)
        return JobState.queued.value if requeued else None
    if timed_out:
        state = services.fail(session, job_id, worker, reason)
        if state == JobState.failed.value:
            _stopped(session, kind, job_id, state, reason)
        return state
    requeued = services.requeue(session, job_id, worker, delay=timedelta(0), reason=reason)
    return JobState.queued.value if requeued else None


# ------------------------------------------------------------------------------ units


def _run_units(runtime: Runtime, kind: JobKind, claimed: services.Claim, worker: str) -> str | None:
    job_id = claimed.id
    with runtime.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        if kind.plan is not None and not claimed.planned:
            services.plan_units(session, job_id, kind.plan(job.payload))
    ctx = JobContext(job, runtime, worker)
    retries_in_a_row = 0
    paused = stopped = False
    while not paused:
        with runtime.db.transaction() as session:
            batch = services.next_units(session, job_id, BATCH)
        if not batch:
            break
        for row in batch:
            unit = UnitContext(ctx, row.id, row.seq, row.key, row.payload, row.attempts + 1)
            state = (
                _side_effect_unit(kind, unit)
                if kind.side_effects
                else _transactional_unit(kind, unit)
            )
            retries_in_a_row = retries_in_a_row + 1 if state is UnitState.retry else 0
            if retries_in_a_row >= PAUSE_AFTER_RETRIES:
                paused = True
                break
            if kind.stop_on_failure and state in (UnitState.failed, UnitState.uncertain):
                with runtime.db.transaction() as session:
                    services.give_up_pending_units(
                        session, job_id, f"Not tried: {unit.key} before it failed"
                    )
                stopped = True
                break
        if stopped:
            break
    return _finish_units(runtime, kind, claimed, worker, paused=paused)


def _side_effect_unit(kind: JobKind, unit: UnitContext) -> UnitState:
    ctx = unit.job
    db = ctx.runtime.db
    with db.transaction() as session:
        if not services.claim_unit(session, unit.id, ctx.worker):
            raise LostJob
    try:
        result = kind.per_unit(unit)  # type: ignore[misc]
    except Interrupt:
        raise  # run_job settles the unit (uncertain) and the job
    except Exception as exc:
        state = classify(kind, exc)
        log.log(
            logging.WARNING if state is UnitState.uncertain else logging.INFO,
            "job %s unit %s (%s): %s -> %s", ctx.job.id, unit.seq, unit.key, exc, state.value,
        )  # fmt: skip
        with db.transaction() as session:
            services.record_unit(session, unit.id, ctx.worker, state, error=_describe(exc))
        return state
    with db.transaction() as session:
        services.record_unit(session, unit.id, ctx.worker, UnitState.done, result=result)
    return UnitState.done


def _transactional_unit(kind: JobKind, unit: UnitContext) -> UnitState:
    ctx = unit.job
    db = ctx.runtime.db
    try:
        with db.transaction() as session:
            if not services.claim_unit(session, unit.id, ctx.worker):
                raise LostJob
            unit.session = session
            result = kind.per_unit(unit)  # type: ignore[misc]
            services.record_unit(session, unit.id, ctx.worker, UnitState.done, result=result)
        return UnitState.done
    except (Interrupt, LostJob):
        raise  # rolled back: the unit is still pending for the next worker
    except Exception as exc:  # rolled back: nothing of it happened; say why it failed
        state = classify(kind, exc)
        with db.transaction() as session:
            if services.claim_unit(session, unit.id, ctx.worker):
                services.record_unit(session, unit.id, ctx.worker, state, error=_describe(exc))
        return state
    finally:
        unit.session = None


def _describe(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:4000]


def _finish_units(
    runtime: Runtime, kind: JobKind, claimed: services.Claim, worker: str, *, paused: bool
) -> str | None:
    job_id = claimed.id
    with runtime.db.transaction() as session:
        counts = services.unit_counts(session, job_id)
        waiting = counts.get(UnitState.retry, 0) + (
            counts.get(UnitState.pending, 0) if paused else 0
        )
        if waiting:
            if claimed.attempts < claimed.max_attempts:
                services.reopen_retry_units(session, job_id)
                delay = kind.retry.delay(claimed.attempts)
                reason = (f"{waiting} item(s) could not be done for now; trying again after "
                          f"{int(delay.total_seconds())} s (attempt {claimed.attempts} of "
                          f"{claimed.max_attempts})")  # fmt: skip
                if not services.requeue(session, job_id, worker, delay=delay, reason=reason):
                    return None
                return JobState.queued.value
            services.give_up_retry_units(
                session, job_id, f"Gave up after {claimed.attempts} attempt(s)"
            )
            if paused:
                services.give_up_pending_units(
                    session, job_id, "Not tried: the attempts ran out while the service refused"
                )
            counts = services.unit_counts(session, job_id)
        done = counts.get(UnitState.done, 0)
        failed = counts.get(UnitState.failed, 0)
        uncertain = counts.get(UnitState.uncertain, 0)
        total = sum(counts.values())
        result: dict[str, Any] = {"units": {"total": total, "done": done, "failed": failed,
                                            "uncertain": uncertain}}  # fmt: skip
        error = None
        state = JobState.done
        if failed:
            result["failed"] = services.unit_report(session, job_id, UnitState.failed)
        if uncertain:
            reported = services.unit_report(session, job_id, UnitState.uncertain)
            result["uncertain"] = reported
            state = JobState.uncertain
            names = ", ".join(str(u["key"]) for u in reported[:5])
            more = f" and {uncertain - 5} more" if uncertain > 5 else ""
            error = (f"{uncertain} of {total} may or may not have been done: {names}{more}. "
                     "Check them before trying again.")  # fmt: skip
        elif failed:
            first = result["failed"][0]
            error = f"{failed} of {total} failed; first: {first['key']}: {first['error']}"
            if not done or kind.stop_on_failure:
                state = JobState.failed
        if not services.complete(session, job_id, worker, result, state=state, error=error):
            log.error("job %s finished but was no longer ours (lease lost)", job_id)
            return None
        if state is not JobState.done:
            _stopped(session, kind, job_id, state.value, error or "")
        return state.value


def _stopped(session: Session, kind: JobKind, job_id: int, state: str, error: str) -> None:
    job = session.get(Job, job_id)
    if job is not None:
        kind.stopped(session, job, state, error)


class _Heartbeat:
    """Keeps a running job's heartbeat fresh, so the janitor never takes a live job away.

    Beats every third of the lease from a side thread, in its own transactions, whatever the
    job function is doing; job authors do not have to remember to call it.
    """

    def __init__(self, runtime: Runtime, job_id: int, worker: str) -> None:
        self.runtime, self.job_id, self.worker = runtime, job_id, worker
        self.interval = max(0.5, runtime.settings.job_lease_seconds / 3)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.runtime.db.transaction() as session:
                    if not services.heartbeat(session, self.job_id, self.worker):
                        return  # no longer ours: nothing left to keep alive
            except Exception:
                log.exception("heartbeat for job %s failed; will try again", self.job_id)
