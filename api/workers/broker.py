"""The dramatiq broker of this process: in-process (``StubBroker``) or Redis.

Nothing here runs at import: brokers are made explicitly by whoever runs a queue (the web app's
lifespan, ``kizuna worker``), and actors are bound to them explicitly (:mod:`api.workers.queue`).
dramatiq's global broker is set only by ``kizuna worker``, whose command line needs it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from api.errors import ServiceUnavailable


def check_redis(url: str, timeout: float = 3.0) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except Exception as exc:
        raise ServiceUnavailable(
            detail=f"REDIS_URL: cannot reach Redis at {_safe(url)}: {exc}. "
            "Check that Redis runs and the URL is right, or unset REDIS_URL to run "
            "workers inside the web process.",
            code="redis_unreachable",
        ) from exc
    finally:
        client.close()


def _safe(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def make_broker(redis_url: str | None, *, namespace: str = "kizuna") -> dramatiq.Broker:
    if redis_url:
        return RedisBroker(url=redis_url, namespace=namespace)
    return StubBroker()
