"""What ``kizuna worker`` hands to dramatiq's command line (``api.workers.entry:setup``).

dramatiq calls :func:`setup` in each worker process: it builds the runtime from the
environment, collects the installed domains' job kinds, binds one actor per kind to the Redis
broker, and starts a janitor thread once the worker has booted.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from api.domain import Housekeeping, housekeeping, job_registry
from api.jobs.kinds import JobRegistry
from api.runtime import Runtime, build_runtime
from api.settings import load_settings
from api.workers.broker import check_redis, make_broker
from api.workers.janitor import Janitor
from api.workers.queue import JobQueue


class JanitorMiddleware(Middleware):
    def __init__(self, runtime: Runtime, registry: JobRegistry, tasks: list[Housekeeping]) -> None:
        self.runtime, self.registry, self.tasks = runtime, registry, tasks
        self.janitor: Janitor | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.janitor = Janitor(self.runtime, self.registry, self.tasks)
        self.janitor.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self.janitor:
            self.janitor.stop()


def setup() -> dramatiq.Broker:
    from api.domains import DOMAINS

    settings = load_settings()
    logging.basicConfig(level=settings.log_level)
    if not settings.redis_url:
        raise SystemExit(
            "kizuna worker needs REDIS_URL (without it, `kizuna run` runs workers in-process)"
        )
    check_redis(settings.redis_url)
    runtime = build_runtime(settings)
    registry = job_registry(DOMAINS)
    queue = JobQueue(make_broker(settings.redis_url), runtime, registry).attach()
    queue.broker.add_middleware(JanitorMiddleware(runtime, registry, housekeeping(DOMAINS)))
    dramatiq.set_broker(queue.broker)  # dramatiq's command line reads the global broker
    return queue.broker
