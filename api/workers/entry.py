"""The module ``kizuna worker`` hands to dramatiq's CLI: each worker process imports it.

It builds the runtime from the environment, installs the Redis broker, declares every actor
and starts a janitor thread once the worker has booted.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from api.runtime import build_runtime, set_runtime
from api.settings import load_settings
from api.workers import broker as brokers
from api.workers.janitor import Janitor


class JanitorMiddleware(Middleware):
    def __init__(self) -> None:
        self.janitor: Janitor | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        from api.runtime import current

        self.janitor = Janitor(current())
        self.janitor.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self.janitor:
            self.janitor.stop()


def setup() -> dramatiq.Broker:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level)
    if not settings.redis_url:
        raise SystemExit(
            "kizuna worker needs REDIS_URL (without it, `kizuna run` runs workers in-process)"
        )
    brokers.check_redis(settings.redis_url)
    runtime = build_runtime(settings)
    set_runtime(runtime)
    import api.tasks  # noqa: F401

    broker = brokers.install(brokers.make_broker(settings.redis_url))
    broker.add_middleware(JanitorMiddleware())
    return broker


broker = setup()
