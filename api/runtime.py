"""The process's shared resources: settings, database, keys, counters, mail transport.

Built once by whoever starts the process (the web app's lifespan, a worker's boot, a CLI
command) and read by actors, which receive only ids and must find the database somewhere.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from api.db import Database
from api.mail.transport import MailTransport, transport_from_settings
from api.security.files import private_dir
from api.security.keys import Keyring, dev_secret
from api.security.revocation import Revocations
from api.security.throttle import CounterStore, MemoryCounterStore, RedisCounterStore
from api.settings import Settings

if TYPE_CHECKING:
    from api.members.identity import MemberAuth


class Runtime:
    # A plain class, not a dataclass: Litestar inspects dataclass fields of injected values.
    def __init__(
        self, *, settings: Settings, db: Database, keyring: Keyring, counters: CounterStore
    ) -> None:
        self.settings = settings
        self.db = db
        self.keyring = keyring
        self.counters = counters
        self._transport: MailTransport | None = None
        self._member_auth: MemberAuth | None = None
        self._lock = threading.Lock()

    @property
    def mail(self) -> MailTransport:
        """The mail transport, created on first use (SMTP connections are opened lazily)."""
        with self._lock:
            if self._transport is None:
                self._transport = transport_from_settings(self.settings)
            return self._transport

    @property
    def member_auth(self) -> MemberAuth:
        """Member tokens: issued, verified and cached here (one per process; the gate's)."""
        with self._lock:
            if self._member_auth is None:
                from api.members.identity import MemberAuth

                self._member_auth = MemberAuth(self.settings, self.keyring, self.db)
            return self._member_auth

    def close(self) -> None:
        if self._member_auth is not None:
            self._member_auth.stop()
        if self._transport is not None:
            self._transport.close()
        self.db.dispose()


def build_runtime(settings: Settings) -> Runtime:
    private_dir(settings.var_dir)  # db, secrets and outbox: nobody else's business
    if settings.uses_outbox:
        private_dir(settings.outbox_dir)
    secret = settings.secret_key or dev_secret(settings.var_dir)
    keyring = Keyring(secret, tuple(settings.previous_secret_keys))
    counters: CounterStore = (
        RedisCounterStore(settings.redis_url) if settings.redis_url else MemoryCounterStore()
    )
    db = Database(settings.effective_database_url)
    # Committed changes to members reach the member-token caches (api.security.revocation).
    db.member_events = Revocations(
        settings.redis_url, ttl_seconds=settings.member_token_minutes * 60 + 120
    )
    return Runtime(settings=settings, db=db, keyring=keyring, counters=counters)
