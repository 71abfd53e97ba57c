"""Workers inside the web process (the embedded default, when ``REDIS_URL`` is not set).

The in-process queue is lost when the process stops; nothing is lost for good because the job
table holds the truth and the janitor re-enqueues unfinished work at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dramatiq import Worker

from api.domain import Housekeeping
from api.jobs.kinds import JobRegistry
from api.runtime import Runtime
from api.workers.broker import make_broker
from api.workers.janitor import Janitor
from api.workers.queue import JobQueue

log = logging.getLogger(__name__)


class EmbeddedWorkers:
    def __init__(
        self, runtime: Runtime, registry: JobRegistry, housekeeping: Sequence[Housekeeping] = ()
    ) -> None:
        self.queue = JobQueue(make_broker(None), runtime, registry)
        self.worker = Worker(
            self.queue.broker, worker_threads=runtime.settings.worker_threads, worker_timeout=100
        )
        # The in-process queue is empty at start: every due job must be enqueued again now.
        self.janitor = Janitor(runtime, registry, housekeeping, queue_starts_empty=True)

    def start(self) -> None:
        self.queue.attach()
        self.worker.start()
        self.janitor.start()
        log.info("in-process workers started (%d threads)", self.worker.worker_threads)

    def stop(self) -> None:
        self.janitor.stop()
        self.worker.stop(timeout=10_000)
        self.queue.detach()
