"""Declaring job actors: the bridge between the job table and dramatiq.

A domain declares ``@job_actor("mail.test", side_effects=True)`` on a function taking a
:class:`JobContext`. The dramatiq message carries only the job id; the actor claims the row
atomically, runs the function in a transaction that also marks the job done, and records
failures. Retries are decided here from the job row, never by dramatiq (``max_retries=0``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import Interrupt, TimeLimitExceeded
from sqlmodel import Session

from api import runtime as rt
from api.jobs import services
from api.jobs.models import Job
from api.workers import broker as _broker  # noqa: F401  (sets a stand-in broker first)

log = logging.getLogger(__name__)

JobFunction = Callable[["JobContext"], dict[str, Any] | None]

REGISTRY: dict[str, dramatiq.Actor[..., Any]] = {}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


@dataclass
class JobContext:
    job: Job
    session: Session
    runtime: rt.Runtime
    worker: str

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload


def run_job(
    fn: JobFunction,
    job_id: str,
    *,
    retry_on: tuple[type[BaseException], ...] = (),
    backoff: Callable[[int], timedelta] = lambda attempt: timedelta(seconds=30 * 2**attempt),
) -> str | None:
    """Claim, run and settle one job. Returns the final state, or None if not ours to run."""
    runtime = rt.current()
    worker = worker_name()
    with runtime.db.transaction() as session:
        claimed = services.claim(session, job_id, worker)
    if claimed is None:
        log.info("job %s not claimed (already taken, finished or not due)", job_id)
        return None
    beat = _Heartbeat(runtime, job_id, worker)
    beat.start()
    try:
        with runtime.db.transaction() as session:
            job = session.get(Job, job_id)
            assert job is not None
            result = fn(JobContext(job, session, runtime, worker))
            if not services.complete(session, job_id, worker, result):
                log.error(
                    "job %s finished but was no longer ours (lease lost); see its state", job_id
                )
        return "done"
    except Interrupt as exc:  # dramatiq stopped this thread: time limit or worker shutdown
        timed_out = isinstance(exc, TimeLimitExceeded)
        reason = "Stopped at the time limit" if timed_out else "Stopped by a worker shutdown"
        log.warning("job %s (%s): %s", job_id, claimed.kind, reason)
        with runtime.db.transaction() as session:
            return services.interrupt(session, job_id, worker, reason, requeue=not timed_out)
    except Exception as exc:
        retry_in = backoff(claimed.attempts) if isinstance(exc, retry_on) else None
        log.warning("job %s (%s) failed: %s", job_id, claimed.kind, exc, exc_info=not retry_in)
        with runtime.db.transaction() as session:
            state = services.fail(
                session, job_id, worker, str(exc) or type(exc).__name__, retry_in=retry_in
            )
        return state
    finally:
        beat.stop()


class _Heartbeat:
    """Keeps a running job's heartbeat fresh, so the janitor never takes a live job away.

    Beats every third of the lease from a side thread, in its own transactions, whatever the
    job function is doing; job authors do not have to remember to call it.
    """

    def __init__(self, runtime: rt.Runtime, job_id: str, worker: str) -> None:
        self.runtime, self.job_id, self.worker = runtime, job_id, worker
        self.interval = max(1.0, runtime.settings.job_lease_seconds / 3)
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


def job_actor(
    kind: str,
    *,
    queue: str = "default",
    side_effects: bool = False,
    time_limit: timedelta = timedelta(minutes=10),
    retry_on: tuple[type[BaseException], ...] = (),
) -> Callable[[JobFunction], dramatiq.Actor[[str], Any]]:
    def decorate(fn: JobFunction) -> dramatiq.Actor[[str], Any]:
        def perform(job_id: str) -> None:
            run_job(fn, job_id, retry_on=retry_on)

        perform.__name__ = perform.__qualname__ = f"job_{kind.replace('.', '_')}"
        actor = dramatiq.actor(
            actor_name=kind,
            queue_name=queue,
            max_retries=0,
            time_limit=int(time_limit.total_seconds() * 1000),
        )(perform)
        actor.options["side_effects"] = side_effects  # for documentation/introspection
        REGISTRY[kind] = actor
        return actor

    return decorate


def enqueue(job_id: str, kind: str) -> None:
    actor = REGISTRY.get(kind)
    if actor is None:
        raise LookupError(f"no actor declared for job kind {kind!r}")
    actor.send(job_id)


services.set_dispatcher(enqueue)
