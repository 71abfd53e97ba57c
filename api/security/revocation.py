"""What the member-token caches must not outlive: revoked sessions and changed members.

An access token is verified once and then cached by its string until it expires (the gate's
fast path: no decode, no database). What happens meanwhile must reach that cache at once:

- **a session ends** (log-out, suspension, password change, staff ending it): its id is
  *revoked*; a token naming it is anonymous (and its refresh is refused by the database);
- **a member changes** (staff edit their fields or groups, suspend them, set a password): the
  member gets a *stamp* (milliseconds); a token issued before it is *stale*, so the next
  request renews it from the refresh session (new groups and fields), or, when the session
  is gone, is anonymous;
- **the member table changes as a whole** (its design, another table marked): one stamp for
  everyone.

:class:`Revocations` holds these in memory (one per process, ``Database.member_events``);
services announce changes with :func:`members_changed`, :func:`sessions_revoked` and
:func:`everyone_changed`, which act **after the transaction commits** (a rolled-back change
revokes nothing). With ``REDIS_URL`` set, each announcement is also written to Redis (keys that
live as long as a token can, for processes that start later) and published on a channel;
every API process runs a subscriber thread that applies them to its own memory, so a worker
process (a bulk group change) or another API instance reaches this process's cache within
the time of a Redis message. Without Redis there is one process (the embedded default), and
the memory is the whole truth.

Lives here, below the domains, and imports nothing of them: customers, groups and imports
announce their changes without importing the members domain.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from api.db import run_after_commit

log = logging.getLogger(__name__)

CHANNEL = "kizuna:members:revocations"
PREFIX = "kizuna:members:rev:"


def now_ms() -> int:
    return int(time.time() * 1000)


class Revocations:
    """Revoked session ids and member stamps, in memory; mirrored through Redis when given."""

    def __init__(self, redis_url: str = "", *, ttl_seconds: int = 3600) -> None:
        self.redis_url = redis_url
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._revoked: dict[str, float] = {}  # session id -> wall time it may be forgotten
        self._stamps: dict[int, int] = {}  # member id -> ms
        self.everyone = 0  # ms: every token issued before is stale
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._redis: Any = None
        self.connected = threading.Event()

    # ------------------------------------------------------------ reading (the fast path)

    def is_revoked(self, session_id: str) -> bool:
        return session_id in self._revoked

    def stamp(self, member_id: int) -> int:
        return max(self._stamps.get(member_id, 0), self.everyone)

    def is_stale(self, member_id: int, issued_ms: int) -> bool:
        return issued_ms <= self.stamp(member_id)

    # ------------------------------------------------------------ announcing

    def revoke_sessions(self, session_ids: Iterable[str]) -> None:
        ids = [str(s) for s in session_ids]
        if ids:
            self._apply({"s": ids})
            self._publish({"s": ids})

    def change_members(self, member_ids: Iterable[int], *, at: int | None = None) -> None:
        at = at or now_ms()
        stamps = {int(m): at for m in member_ids}
        if stamps:
            self._apply({"m": stamps})
            self._publish({"m": stamps})

    def change_everyone(self, *, at: int | None = None) -> None:
        message = {"a": at or now_ms()}
        self._apply(message)
        self._publish(message)

    def _apply(self, message: dict[str, Any]) -> None:
        until = time.time() + self.ttl_seconds
        with self._lock:
            for sid in message.get("s", ()):
                self._revoked[str(sid)] = until
            for member, at in dict(message.get("m", {})).items():
                key = int(member)
                self._stamps[key] = max(self._stamps.get(key, 0), int(at))
            if "a" in message:
                self.everyone = max(self.everyone, int(message["a"]))
            if len(self._revoked) + len(self._stamps) > 50_000:
                self._prune()

    def _prune(self) -> None:
        now = time.time()
        oldest = int((now - self.ttl_seconds) * 1000)
        self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        self._stamps = {k: v for k, v in self._stamps.items() if v > oldest}

    # ------------------------------------------------------------ Redis

    def _client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=3)
        return self._redis

    def _publish(self, message: dict[str, Any]) -> None:
        if not self.redis_url:
            return
        try:
            client = self._client()
            pipe = client.pipeline()
            for sid in message.get("s", ()):
                pipe.set(f"{PREFIX}s:{sid}", 1, ex=self.ttl_seconds)
            for member, at in dict(message.get("m", {})).items():
                pipe.set(f"{PREFIX}m:{member}", at, ex=self.ttl_seconds)
            if "a" in message:
                pipe.set(f"{PREFIX}a", message["a"], ex=self.ttl_seconds)
            pipe.publish(CHANNEL, json.dumps(message))
            pipe.execute()
        except Exception:  # the change is committed; other processes learn it at their reload
            log.exception("could not publish a member revocation to Redis")

    def load(self) -> None:
        """Read every announcement still alive in Redis (a process that starts, or reconnects)."""
        client = self._client()
        sessions, stamps, everyone = [], {}, None
        for key in client.scan_iter(match=f"{PREFIX}*", count=1000):
            name = key.decode() if isinstance(key, bytes) else str(key)
            rest = name[len(PREFIX) :]
            if rest.startswith("s:"):
                sessions.append(rest[2:])
            elif rest.startswith("m:"):
                value = client.get(name)
                if value is not None:
                    stamps[int(rest[2:])] = int(value)
            elif rest == "a":
                value = client.get(name)
                everyone = int(value) if value is not None else None
        message: dict[str, Any] = {"s": sessions, "m": stamps}
        if everyone is not None:
            message["a"] = everyone
        self._apply(message)

    def start(self) -> None:
        """Follow other processes' announcements (a daemon thread), when Redis is configured."""
        if not self.redis_url or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._follow, name="kizuna-member-revocations", daemon=True
        )
        self._thread.start()
        self.connected.wait(timeout=5)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.connected.clear()

    def _follow(self) -> None:
        import redis

        while not self._stop.is_set():
            pubsub = None
            try:
                client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)  # first subscribe, then load: nothing falls between
                self.load()
                self.connected.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message and message.get("type") == "message":
                        try:
                            self._apply(json.loads(message["data"]))
                        except (ValueError, TypeError, KeyError):
                            log.warning("ignored a malformed member revocation message")
            except Exception:
                self.connected.clear()
                log.exception("member revocation subscriber lost Redis; reconnecting")
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection
                        pubsub.close()


# ------------------------------------------------------------------ for services


def _events(session: Session) -> Revocations | None:
    database = session.info.get("database")
    return getattr(database, "member_events", None)


def members_changed(session: Session, member_ids: Iterable[int]) -> None:
    """Members' fields, groups or state changed in this transaction: after the commit, their
    cached tokens are stale (renewed on the next request)."""
    events = _events(session)
    ids = sorted({int(i) for i in member_ids})
    if events is not None and ids:
        run_after_commit(session, lambda: events.change_members(ids))


def sessions_revoked(session: Session, session_ids: Iterable[str]) -> None:
    """Sessions ended in this transaction: after the commit, their tokens are anonymous."""
    events = _events(session)
    ids = sorted(set(session_ids))
    if events is not None and ids:
        run_after_commit(session, lambda: events.revoke_sessions(ids))


def everyone_changed(session: Session) -> None:
    """The member table itself changed (its design, another table marked): every token is
    stale after the commit."""
    events = _events(session)
    if events is not None:
        run_after_commit(session, events.change_everyone)


def records_changed(session: Session, design: Any, record_ids: Iterable[int]) -> None:
    """The hook of the customer-record writes: records of ``design`` changed; counts only when
    it is the member table."""
    try:
        is_member_table = bool(design.table.is_member_table)
    except Exception:  # a design read in a session since closed: err on the safe side
        is_member_table = True  # (a needless stamp only makes a token renew once)
    if is_member_table:
        members_changed(session, record_ids)
