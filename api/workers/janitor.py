"""The janitor: recovers jobs whose worker vanished or whose message was lost, and runs the
periodic housekeeping (old login sessions…)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from api.jobs import services
from api.runtime import Runtime
from api.staff import services as staff_services

log = logging.getLogger(__name__)


def sweep(runtime: Runtime, *, redeliver_after: timedelta | None = None) -> services.Recovery:
    """One pass; enqueues after the state changes are committed.

    ``redeliver_after=timedelta(0)`` re-enqueues every due job at once: right for an
    in-process queue that has just started empty.
    """
    settings = runtime.settings
    with runtime.db.transaction() as session:
        recovery = services.recover(
            session,
            lease=timedelta(seconds=settings.job_lease_seconds),
            redeliver_after=services.REDELIVER_AFTER
            if redeliver_after is None
            else redeliver_after,
        )
    for job_id, kind in recovery.requeued:
        try:
            services.dispatch(job_id, kind)
        except Exception:
            log.exception("could not enqueue job %s (%s)", job_id, kind)
    if recovery.requeued:
        log.info("janitor: re-enqueued %d job(s)", len(recovery.requeued))
    if recovery.uncertain:
        log.warning(
            "janitor: %d job(s) marked uncertain: %s", len(recovery.uncertain), recovery.uncertain
        )
    return recovery


# Periodic clean-ups, each taking a session and returning how many rows it removed. Domains
# add theirs here (old sessions now; expired tokens, event partitions later).
HOUSEKEEPING: list[tuple[str, Callable[[Session], int]]] = [
    ("expired staff sessions", lambda session: staff_services.purge_sessions(session)),
]
HOUSEKEEPING_INTERVAL = timedelta(hours=1)


def housekeeping(runtime: Runtime) -> dict[str, int]:
    removed: dict[str, int] = {}
    for name, task in HOUSEKEEPING:
        try:
            with runtime.db.transaction() as session:
                removed[name] = task(session)
        except Exception:
            log.exception("housekeeping %r failed; will try again", name)
    if any(removed.values()):
        log.info("housekeeping removed %s", removed)
    return removed


class Janitor:
    def __init__(
        self, runtime: Runtime, interval: float | None = None, *, queue_starts_empty: bool = False
    ) -> None:
        self.runtime = runtime
        self.queue_starts_empty = queue_starts_empty
        self.interval = interval or runtime.settings.janitor_interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kizuna-janitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        first = self.queue_starts_empty
        last_housekeeping = 0.0
        while not self._stop.is_set():
            if time.monotonic() - last_housekeeping >= HOUSEKEEPING_INTERVAL.total_seconds():
                housekeeping(self.runtime)
                last_housekeeping = time.monotonic()
            try:
                sweep(self.runtime, redeliver_after=timedelta(0) if first else None)
                first = False
            except Exception:
                log.exception("janitor sweep failed; will try again")
            self._stop.wait(self.interval)
