"""Which dramatiq broker this process uses.

dramatiq binds actors to the global broker when they are declared, so a stand-in
``StubBroker`` is set the moment this module is imported (before any actor), and
:func:`install` later moves every declared actor onto the real one: the in-process
``StubBroker`` of the embedded default, or a ``RedisBroker`` when ``REDIS_URL`` is set.
"""

from __future__ import annotations

import dramatiq
import dramatiq.broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from api.errors import ServiceUnavailable

if dramatiq.broker.global_broker is None:
    dramatiq.set_broker(StubBroker())


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
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def make_broker(redis_url: str | None, *, namespace: str = "kizuna") -> dramatiq.Broker:
    if redis_url:
        return RedisBroker(url=redis_url, namespace=namespace)
    return StubBroker()


def install(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make ``broker`` the global one and move every declared actor onto it."""
    from api.jobs.runner import REGISTRY

    dramatiq.set_broker(broker)
    for actor in REGISTRY.values():
        actor.broker = broker
        broker.declare_actor(actor)
    return broker
