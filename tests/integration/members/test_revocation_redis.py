"""Revocation across processes through Redis: a change announced by one process (a worker, an
API instance) reaches another's cache of verified tokens, and a process that starts later
learns what was announced before it started."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.groups import services as groups
from api.members import services as members
from api.members.identity import MemberAuth
from api.principal import Principal
from api.runtime import Runtime, build_runtime
from api.security.revocation import Revocations, now_ms
from api.security.throttle import MemoryCounterStore
from tests.integration.members.conftest import PASSWORD, Members


@pytest.fixture
def settings_overrides(redis_url: str) -> dict[str, Any]:
    return {"redis_url": redis_url}


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll until ``check`` holds (a Redis message is asynchronous); no timing is asserted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.fixture
def other(runtime: Runtime) -> Iterator[Runtime]:
    """A second process's runtime (same database, same Redis), following announcements."""
    rt = build_runtime(runtime.settings)
    rt.member_auth.start()
    yield rt
    rt.close()


def test_announcements_reach_other_processes_and_late_starters(redis_url: str) -> None:
    one = Revocations(redis_url, ttl_seconds=60)
    two = Revocations(redis_url, ttl_seconds=60)
    two.start()
    try:
        assert two.connected.is_set()
        before = now_ms() - 1
        one.change_members([41])
        one.revoke_sessions(["s-1"])
        assert eventually(lambda: two.is_stale(41, before) and two.is_revoked("s-1"))
        assert not two.is_stale(42, before)
        late = Revocations(redis_url, ttl_seconds=60)
        late.start()
        try:
            assert late.is_stale(41, before) and late.is_revoked("s-1")
        finally:
            late.stop()
    finally:
        two.stop()


def test_a_suspension_in_one_process_ends_a_token_cached_in_another(
    runtime: Runtime, other: Runtime, people: Members, actor: Principal
) -> None:
    auth: MemberAuth = other.member_auth
    attempt = members.begin_login(MemoryCounterStore(), email="doctor@example.jp", ip="192.0.2.1")
    login = members.authenticate(
        runtime.db, MemoryCounterStore(), attempt, password=PASSWORD, user_agent=None,
        lifetime=auth.session_lifetime, fields=auth.fields.refresh(),
    )  # fmt: skip
    token = auth.remember_login(login, now_ms())
    cookies = {auth.access_name: token, auth.refresh_name: login.refresh}
    assert asyncio.run(auth.identify(cookies)).member is not None  # cached in "other"
    with runtime.db.transaction() as session:  # a change of groups, made in "runtime"
        groups.change_members(session, actor, "pharmacists", [people.doctor], add=True)
    assert eventually(lambda: auth.peek(cookies) is None)  # stale: renewed on next request
    identity = asyncio.run(auth.identify(cookies))
    assert identity.member is not None and "pharmacists" in identity.member.groups
    cookies[auth.access_name] = str(identity.set_cookies[0].value)
    with runtime.db.transaction() as session:
        members.set_status(session, actor, people.doctor, "suspended")
    assert eventually(lambda: auth.peek(cookies) is None)
    assert asyncio.run(auth.identify(cookies)).member is None
