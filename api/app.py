"""The Litestar application: ``create_app(settings)`` built from the installed domains
(``api/domains.py``): their controllers, job kinds and housekeeping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.logging.config import LoggingConfig

from api import __version__
from api.access.gate import Gate
from api.domain import (
    Domain,
    admin_labels,
    controllers,
    housekeeping,
    job_registry,
    page_fillers,
    permission_registry,
)
from api.domains import DOMAINS
from api.runtime import Runtime, build_runtime
from api.settings import Settings, get_settings
from api.web.auth import current_principal, staff_cookie_name
from api.web.headers import make_security_headers
from api.web.health import health
from api.web.openapi import ApiDocs, openapi_config
from api.web.problems import EXCEPTION_HANDLERS, screen_request
from api.web.site import admin_router, install_gate
from api.workers import broker as brokers
from api.workers.queue import JobQueue

log = logging.getLogger("kizuna")


def preflight(runtime: Runtime) -> None:
    """Fail fast, naming the setting at fault, when a service Kizuna needs is unreachable."""
    from api.db import check_database
    from api.errors import ServiceUnavailable
    from api.migrate import current_revision, head_revision

    check_database(runtime.db.engine)
    current, head = current_revision(runtime.db.engine), head_revision()
    if current != head:
        raise ServiceUnavailable(
            detail=f"The database schema is at revision {current or 'none'} but Kizuna needs "
            f"{head}: run `kizuna migrate` first.",
            code="migrations_pending",
        )
    if runtime.settings.redis_url:
        brokers.check_redis(runtime.settings.redis_url)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    workers: bool | None = None,
    domains: Sequence[Domain] = DOMAINS,
) -> Litestar:
    """Build the app from ``domains``. ``workers``: run dramatiq workers in this process
    (default: when ``REDIS_URL`` is unset and ``KIZUNA_EMBEDDED_WORKER`` is true)."""
    settings = settings or get_settings()
    runtime = runtime or build_runtime(settings)
    jobs = job_registry(domains)
    permissions = permission_registry(domains)
    labels = admin_labels(domains)
    run_workers = (
        (not settings.redis_url and settings.embedded_worker) if workers is None else workers
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        preflight(runtime)
        runtime.member_auth.start()  # with Redis: follow other processes' revocations
        embedded = queue = None
        if run_workers:
            from api.workers.embedded import EmbeddedWorkers

            embedded = EmbeddedWorkers(runtime, jobs, housekeeping(domains))
            embedded.start()
        elif settings.redis_url:  # enqueue only: `kizuna worker` processes do the work
            queue = JobQueue(brokers.make_broker(settings.redis_url), runtime, jobs)
            queue.attach()
        try:
            yield
        finally:
            runtime.member_auth.stop()
            if embedded is not None:
                embedded.stop()
            if queue is not None:
                queue.detach()
                queue.broker.close()

    # The embedded gate serves site/public; it asks the member identity (runtime.member_auth)
    # for gated paths only.
    # Theme pages the domains fill for the visitor who asks (members: my page).
    fillers = page_fillers(domains, runtime)
    gate = Gate(
        settings.public_dir,
        settings.meta_dir,
        lambda: runtime.member_auth,
        personalisers=lambda: fillers,
    )

    app = Litestar(
        route_handlers=[
            *controllers(domains),
            health,
            admin_router(),
        ],
        dependencies={
            "runtime": Provide(lambda: runtime, sync_to_thread=False, use_cache=True),
            "jobs": Provide(lambda: jobs, sync_to_thread=False, use_cache=True),
            "permissions": Provide(lambda: permissions, sync_to_thread=False, use_cache=True),
            "labels": Provide(lambda: labels, sync_to_thread=False, use_cache=True),
            "principal": Provide(current_principal, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=screen_request,
        before_send=[make_security_headers(hsts=settings.secure_cookies)],  # type: ignore[list-item]
        lifespan=[lifespan],
        openapi_config=openapi_config(__version__, staff_cookie_name(settings)),
        plugins=[ApiDocs()],  # documented responses and security, derived from each route
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        # Our problem handler logs unexpected errors once, with a reference the client sees.
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            # Alembic announces its dialect at every start-up check: not news.
            loggers={"alembic": {"level": "WARNING", "propagate": True}},
            log_exceptions="never",
        ),
        request_max_body_size=10 * 1024 * 1024,
        debug=False,
    )
    app.state.runtime = runtime
    app.state.jobs = jobs
    app.state.permissions = permissions
    app.state.settings = settings
    app.state.gate = gate
    install_gate(app, gate)  # the built site: every path outside the app's own (api, admin)
    return app
