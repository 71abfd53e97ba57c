"""The bridge between the job table and dramatiq: one actor per job kind, bound to a broker.

The message carries only the job id. The actor claims the row and runs the kind's work
(:func:`api.jobs.runner.run_job`); retries are decided from the row, never by dramatiq
(``max_retries=0``), and the time limit is the kind's.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from api.jobs.kinds import JobKind, JobRegistry
from api.jobs.runner import run_job
from api.runtime import Runtime


class JobQueue:
    def __init__(self, broker: dramatiq.Broker, runtime: Runtime, registry: JobRegistry) -> None:
        self.broker = broker
        self.runtime = runtime
        self.actors: dict[str, dramatiq.Actor[[int], Any]] = {
            kind.name: self._declare(kind) for kind in registry
        }

    def _declare(self, kind: JobKind) -> dramatiq.Actor[[int], Any]:
        runtime = self.runtime

        def perform(job_id: int) -> None:
            run_job(runtime, kind, int(job_id))

        perform.__name__ = perform.__qualname__ = f"job_{kind.name.replace('.', '_')}"
        return dramatiq.Actor(
            perform,
            broker=self.broker,
            actor_name=kind.name,
            queue_name=kind.queue,
            priority=0,
            options={"max_retries": 0, "time_limit": int(kind.time_limit.total_seconds() * 1000)},
        )

    def enqueue(self, job_id: int, kind: str) -> None:
        actor = self.actors.get(kind)
        if actor is None:
            raise LookupError(f"no installed domain declares the job kind {kind!r}")
        actor.send(job_id)

    @property
    def queues(self) -> list[str]:
        return sorted({actor.queue_name for actor in self.actors.values()})

    def attach(self) -> JobQueue:
        """Make this the queue that jobs created in this process are sent to."""
        self.runtime.db.dispatcher = self.enqueue
        return self

    def detach(self) -> None:
        if self.runtime.db.dispatcher == self.enqueue:
            self.runtime.db.dispatcher = None
