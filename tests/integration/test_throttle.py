"""Rate-limit counters: in memory (embedded) and in Redis (shared by every API instance)."""

from __future__ import annotations

import time

import pytest

from api.security.throttle import CounterStore, MemoryCounterStore, RedisCounterStore


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> CounterStore:
    if request.param == "memory":
        return MemoryCounterStore()
    return RedisCounterStore(request.getfixturevalue("redis_url"))


def test_counts_within_a_window_and_resets(store: CounterStore) -> None:
    assert store.peek("k") == 0
    assert [store.hit("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.peek("k") == 3
    store.reset("k")
    assert store.peek("k") == 0


def test_window_expires(store: CounterStore) -> None:
    store.hit("short", 1)
    time.sleep(1.2)
    assert store.peek("short") == 0
    assert store.hit("short", 1) == 1


def test_two_api_instances_share_redis_counters(redis_url: str) -> None:
    first, second = RedisCounterStore(redis_url), RedisCounterStore(redis_url)
    first.hit("login:ip:203.0.113.9", 60)
    assert second.hit("login:ip:203.0.113.9", 60) == 2
