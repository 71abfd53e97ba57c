"""The janitor: recovers jobs whose worker vanished or whose message was lost, and runs the
periodic housekeeping the domains declare (old login sessions, import and export files…)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from api.domain import Housekeeping
from api.jobs import services
from api.jobs.kinds import JobRegistry
from api.runtime import Runtime

log = logging.getLogger(__name__)


def sweep(
    runtime: Runtime, registry: JobRegistry, *, redeliver_after: timedelta | None = None
) -> services.Recovery:
    """One pass; enqueues after the state changes are committed.

    ``redeliver_after=timedelta(0)`` re-enqueues every due job at once: right for an
    in-process queue that has just started empty.
    """
    settings = runtime.settings
    with runtime.db.transaction() as session:
        recovery = services.recover(
            session,
            registry,
            lease=timedelta(seconds=settings.job_lease_seconds),
            redeliver_after=services.REDELIVER_AFTER
            if redeliver_after is None
            else redeliver_after,
        )
    for job_id, kind in recovery.requeued:
        try:
            runtime.db.dispatch(job_id, kind)
        except Exception:
            log.exception("could not enqueue job %s (%s)", job_id, kind)
    if recovery.requeued:
        log.info("janitor: re-enqueued %d job(s)", len(recovery.requeued))
    if recovery.uncertain_units:
        log.warning(
            "janitor: a worker vanished mid-way; units now uncertain, by job: %s",
            recovery.uncertain_units,
        )
    if recovery.failed:
        log.warning("janitor: jobs of an unknown kind failed: %s", recovery.failed)
    return recovery


def housekeeping(runtime: Runtime, tasks: Sequence[Housekeeping]) -> dict[str, int]:
    removed: dict[str, int] = {}
    for task in tasks:
        try:
            with runtime.db.transaction() as session:
                if task.settings:
                    removed[task.name] = task.run(session, runtime.settings)
                else:
                    removed[task.name] = task.run(session)
        except Exception:
            log.exception("housekeeping %r failed; will try again", task.name)
    if any(removed.values()):
        log.info("housekeeping: %s", removed)
    return removed


class Janitor:
    def __init__(
        self,
        runtime: Runtime,
        registry: JobRegistry,
        tasks: Sequence[Housekeeping] = (),
        interval: float | None = None,
        *,
        queue_starts_empty: bool = False,
    ) -> None:
        self.runtime = runtime
        self.registry = registry
        self.tasks = list(tasks)
        self.queue_starts_empty = queue_starts_empty
        self.interval = interval or runtime.settings.janitor_interval_seconds
        self._last_run: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kizuna-janitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def due_tasks(self) -> list[Housekeeping]:
        now = time.monotonic()
        due = [
            task
            for task in self.tasks
            if task.name not in self._last_run
            or now - self._last_run[task.name] >= task.every.total_seconds()
        ]
        for task in due:
            self._last_run[task.name] = now
        return due

    def _loop(self) -> None:
        first = self.queue_starts_empty
        while not self._stop.is_set():
            due = self.due_tasks()
            if due:
                housekeeping(self.runtime, due)
            try:
                sweep(self.runtime, self.registry, redeliver_after=timedelta(0) if first else None)
                first = False
            except Exception:
                log.exception("janitor sweep failed; will try again")
            self._stop.wait(self.interval)
