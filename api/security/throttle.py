"""Fixed-window counters for rate limits that live in the domain (login, register, reset).

Backed by Redis when ``REDIS_URL`` is set (shared by every API instance), else by memory.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class CounterStore(Protocol):
    def hit(self, key: str, window_seconds: int) -> int: ...
    def peek(self, key: str) -> int: ...
    def reset(self, key: str) -> None: ...


class MemoryCounterStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[int, float]] = {}

    def hit(self, key: str, window_seconds: int) -> int:
        now = time.monotonic()
        with self._lock:
            count, expires = self._data.get(key, (0, now + window_seconds))
            if expires <= now:
                count, expires = 0, now + window_seconds
            count += 1
            self._data[key] = (count, expires)
            if len(self._data) > 100_000:  # bound memory under a flood of distinct keys
                self._data = {k: v for k, v in self._data.items() if v[1] > now}
            return count

    def peek(self, key: str) -> int:
        with self._lock:
            count, expires = self._data.get(key, (0, 0.0))
            return count if expires > time.monotonic() else 0

    def reset(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class RedisCounterStore:
    def __init__(self, url: str, prefix: str = "kizuna:throttle:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=3)
        self._prefix = prefix

    def hit(self, key: str, window_seconds: int) -> int:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def peek(self, key: str) -> int:
        value = self._redis.get(self._prefix + key)
        return int(value) if value else 0

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)
