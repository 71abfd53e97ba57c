"""The throttle in front of every password check, shared by staff and member log-in.

Three counters per log-in ``scope`` ("staff-login", "member-login"), in the process's
:class:`~api.security.throttle.CounterStore` (Redis when ``REDIS_URL`` is set):

- attempts per client address (``ip_limit`` a minute): refused past it;
- failures per account *and* address (``PAIR_FAILURE_LIMIT`` per 15 minutes): that address is
  refused for that account;
- failures per account from anywhere: past ``ACCOUNT_SLOWDOWN_AFTER`` every attempt on the
  account (the right password too) is slowed down (:func:`login_delay`), never refused, so a
  flood of wrong passwords never locks the owner out.

The caller waits the delay, not the service: the HTTP handler sleeps on the event loop, so a
flood of slowed-down attempts holds no worker thread and no database connection. The same
answer and comparable work for an unknown address and a wrong password come from
:func:`api.security.passwords.verify_password`, which verifies against a dummy hash when
there is no account.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from api import fields
from api.errors import RateLimited
from api.security.throttle import CounterStore

LOGIN_WINDOW_SECONDS = 60
PAIR_FAILURE_LIMIT = 5
ACCOUNT_WINDOW_SECONDS = 15 * 60
ACCOUNT_SLOWDOWN_AFTER = 10
MAX_LOGIN_DELAY_SECONDS = 3.0

EMAIL = fields.Field("email", required=True)


def login_address(email: str) -> str:
    """The address a log-in looks up: normalised; or, when it is not an e-mail address at all
    (NUL, a bidi override…), a stand-in no account can have (no "@"; plain ASCII, so safe to
    send to any database) and distinct per input, so such a log-in is throttled like any
    unknown address and answered with the ordinary "not correct"."""
    result = EMAIL.clean(email, name="email")
    if result.ok:
        return str(result.value)
    return "invalid:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()


def login_delay(account_failures: int) -> float:
    """Seconds to wait before checking a password, given the account's recent failures:
    nothing up to ``ACCOUNT_SLOWDOWN_AFTER``, then doubling from 0.25 s up to a few seconds."""
    over = account_failures - ACCOUNT_SLOWDOWN_AFTER
    if over < 0:
        return 0.0
    return float(min(MAX_LOGIN_DELAY_SECONDS, 0.25 * 2 ** min(over, 8)))


@dataclass(frozen=True)
class LoginAttempt:
    """A log-in let through the throttle (:func:`begin_login`); the domain's ``authenticate``
    takes it. ``delay`` is how long the caller must wait before checking the password."""

    email: str
    ip: str | None
    account: str  # a hash of the address: the throttle's keys and the log never hold it
    delay: float
    scope: str = "staff-login"

    @property
    def account_key(self) -> str:
        return f"{self.scope}:account:{self.account}"

    @property
    def pair_key(self) -> str:
        return f"{self.scope}:pair:{self.account}:{self.ip}"

    def failed(self, counters: CounterStore) -> None:
        """Count a failed password check (account, and account from this address)."""
        counters.hit(self.account_key, ACCOUNT_WINDOW_SECONDS)
        counters.hit(self.pair_key, ACCOUNT_WINDOW_SECONDS)

    def succeeded(self, counters: CounterStore) -> None:
        counters.reset(self.pair_key)


def begin_login(
    counters: CounterStore,
    *,
    email: str,
    ip: str | None,
    ip_limit: int = 10,
    scope: str = "staff-login",
) -> LoginAttempt:
    """Let a log-in through the throttle, or raise :class:`RateLimited` (429, "try again
    later", with ``retry_after``)."""
    email = login_address(email)
    account = hashlib.sha256(email.encode()).hexdigest()
    if counters.hit(f"{scope}:ip:{ip}", LOGIN_WINDOW_SECONDS) > ip_limit:
        raise RateLimited(
            detail="Too many login attempts. Wait a minute and try again.",
            extra={"retry_after": LOGIN_WINDOW_SECONDS},
        )
    attempt = LoginAttempt(email, ip, account, delay=0.0, scope=scope)
    if counters.peek(attempt.pair_key) >= PAIR_FAILURE_LIMIT:
        raise RateLimited(
            detail="Too many failed logins for this account from your address. "
            "Wait 15 minutes, or reset the password.",
            extra={"retry_after": ACCOUNT_WINDOW_SECONDS},
        )
    return dataclasses.replace(attempt, delay=login_delay(counters.peek(attempt.account_key)))
