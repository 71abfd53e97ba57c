"""Who a request's member cookies say it is: the gate's and the member API's one question.

Two cookies (HttpOnly, SameSite=Lax, Path=/, ``Secure`` and ``__Host-`` when
``settings.secure_cookies``, the rule of the staff cookie):

- **access** (``kizuna_member``): a short-lived JWT (``settings.member_token_minutes``),
  HS256 pinned, audience ``kizuna:member``, signed by the keyring's current key and naming
  it (``kid``), so keys rotate without logging anyone out. Claims: ``sub`` (the member's
  record id), ``sid`` (the refresh session), ``g`` (group keys), ``f`` (the values of exactly
  the fields ``site/meta/access.json`` lists under ``"fields"``), ``iatm`` (issued at, ms).
- **refresh** (``kizuna_member_refresh``): ``<session id>.<secret>``, valid for
  ``settings.member_session_days``; only a SHA-256 of the secret is stored.

:meth:`MemberAuth.identify`:

1. **fast path** — the access token's string is in the in-memory cache of verified tokens,
   not expired, its session not revoked, its member not changed since it was issued
   (:mod:`api.security.revocation`), and the manifest's fields unchanged: the cached
   :class:`~api.access.rules.Member`. Dictionary lookups only: no decode, no database, no
   thread hop.
2. otherwise the token is decoded (a forged, expired, wrong-audience, wrong-algorithm or
   ``none`` token is simply not a member) and cached;
3. when there is no usable token but a refresh cookie (expired, stale, fields changed), the
   member is read afresh from the database in a thread and a new token is set
   (``Identity.set_cookies``); a refresh that fails clears both cookies.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar.datastructures import Cookie

from api.access.rules import Member
from api.db import Database, utcnow
from api.members import services
from api.security.keys import Keyring
from api.security.revocation import Revocations, now_ms
from api.settings import Settings

AUDIENCE = "kizuna:member"
CACHE_LIMIT = 100_000
FIELDS_CHECK_SECONDS = 1.0


def access_cookie_name(settings: Settings) -> str:
    return "__Host-kizuna_member" if settings.secure_cookies else "kizuna_member"


def refresh_cookie_name(settings: Settings) -> str:
    return "__Host-kizuna_member_refresh" if settings.secure_cookies else "kizuna_member_refresh"


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a same-site path to send a visitor on to, else None: it starts
    with ``/`` but not ``//``, has no backslash (``/\\evil`` is ``//evil`` to browsers), no
    control characters (a tab inside ``/\t/evil`` is dropped by browsers), and is at most
    2,000 characters."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    return value  # a path of our own site (a scheme cannot follow a leading "/")


@dataclass(frozen=True)
class Identity:
    member: Member | None  # None = anonymous (no/forged/expired/revoked token)
    set_cookies: list[Cookie] = field(default_factory=list)
    session_id: str | None = None  # the refresh session behind the token


ANONYMOUS = Identity(None)


@dataclass(frozen=True, slots=True)
class _Entry:
    member: Member
    session_id: str
    expires: float  # epoch seconds
    issued_ms: int
    fields: tuple[str, ...]


def _pages_of(data: Any) -> dict[str, dict[str, str]]:
    if not isinstance(data, dict):
        return {}
    out: dict[str, dict[str, str]] = {}
    tables = {"": data.get("pages")}
    by_lang = data.get("pages_by_lang")
    if isinstance(by_lang, dict):
        tables.update({str(k): v for k, v in by_lang.items()})
    for lang, table in tables.items():
        if isinstance(table, dict):
            out[lang] = {
                str(k): v for k, v in table.items() if isinstance(v, str) and v.startswith("/")
            }
    return out


class ManifestFields:
    """The member fields some rule reads: ``"fields"`` of ``site/meta/access.json``, re-read
    when the file's mtime changes (checked at most once a second); empty without a build."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._checked = 0.0
        self.value: tuple[str, ...] = ()
        # The theme's pages of the same build: language -> page name -> URL path
        # ("pages_by_lang"; "" = the default language's "pages"). Empty without a build.
        self.pages: dict[str, dict[str, str]] = {}
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> tuple[str, ...]:
        now = time.monotonic()
        if not force and now - self._checked < FIELDS_CHECK_SECONDS:
            return self.value
        with self._lock:
            self._checked = now
            try:
                mtime = self.path.stat().st_mtime
            except OSError:
                self._mtime, self.value = None, ()
                return self.value
            if mtime != self._mtime:
                try:
                    data = json.loads(self.path.read_text("utf-8"))
                    found = data.get("fields", []) if isinstance(data, dict) else []
                    self.value = tuple(sorted({str(f) for f in found if isinstance(f, str)}))
                    self.pages = _pages_of(data)
                except (OSError, ValueError):
                    pass  # a half-written file: keep the last good value, look again soon
                else:
                    self._mtime = mtime
            return self.value

    def set(self, fields: Sequence[str]) -> None:
        """For the gate, when it has loaded a new manifest itself."""
        with self._lock:
            self.value = tuple(sorted(set(fields)))
            self._checked = time.monotonic()


class MemberAuth:
    """One per app (``runtime.member_auth``): issues, verifies and caches member tokens."""

    def __init__(
        self,
        settings: Settings,
        keyring: Keyring,
        db: Database,
        revocations: Revocations | None = None,
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.db = db
        self.revocations = revocations or db.member_events or Revocations()
        self.access_name = access_cookie_name(settings)
        self.refresh_name = refresh_cookie_name(settings)
        self.lifetime = timedelta(minutes=settings.member_token_minutes)
        self.session_lifetime = timedelta(days=settings.member_session_days)
        self.fields = ManifestFields(settings.meta_dir / "access.json")
        self._cache: dict[str, _Entry] = {}
        self._renewed: dict[str, tuple[str, _Entry]] = {}  # refresh cookie -> fresh token
        self._profiles: dict[int, tuple[int, dict[str, Any] | None]] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.revocations.start()

    def stop(self) -> None:
        self.revocations.stop()

    # ------------------------------------------------------------ tokens

    def issue(self, claims: services.MemberClaims, *, issued_ms: int | None = None) -> str:
        """A signed access token for ``claims``. ``issued_ms``: when its data was read (taken
        *before* the read, so a change committed meanwhile makes it stale, never fresh)."""
        return self._issue(claims, issued_ms)[0]

    def _issue(self, claims: services.MemberClaims, issued_ms: int | None) -> tuple[str, _Entry]:
        """The token and the cache entry its decoding would give (made from the same values,
        so a token just signed here is not decoded again)."""
        at = issued_ms or now_ms()
        now = utcnow()
        groups = list(claims.groups)
        token = self.keyring.encode_token(
            audience=AUDIENCE,
            subject=str(claims.record_id),
            token_id=secrets.token_urlsafe(12),
            lifetime=self.lifetime,
            claims={"sid": claims.session_id, "g": groups, "f": claims.fields, "iatm": at},
            now=now,
        )
        entry = _Entry(
            member=Member(
                id=claims.record_id,
                active=True,
                groups=frozenset(groups),
                fields=dict(claims.fields),
            ),
            session_id=claims.session_id,
            expires=float(int((now + self.lifetime).timestamp())),  # the token's "exp"
            issued_ms=at,
            fields=tuple(sorted(claims.fields)),
        )
        return token, entry

    def _entry(self, token: str) -> _Entry | None:
        claims = self.keyring.decode_token(token, audience=AUDIENCE)
        if claims is None:
            return None
        try:
            member_id = int(claims["sub"])
            groups = claims.get("g", [])
            values = claims.get("f", {})
            entry = _Entry(
                member=Member(
                    id=member_id,
                    active=True,
                    groups=frozenset(str(g) for g in groups),
                    fields=dict(values),
                ),
                session_id=str(claims["sid"]),
                expires=float(claims["exp"]),
                issued_ms=int(claims["iatm"]),
                fields=tuple(sorted(values)),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(groups, list) or not isinstance(values, dict):
            return None
        return entry

    def _usable(self, entry: _Entry, fields: tuple[str, ...], now: float) -> bool:
        return (
            entry.expires > now
            and not self.revocations.is_revoked(entry.session_id)
            and not self.revocations.is_stale(entry.member.id or 0, entry.issued_ms)
            and entry.fields == fields
        )

    def _remember(self, token: str, entry: _Entry) -> None:
        if len(self._cache) >= CACHE_LIMIT:
            now = time.time()
            self._cache = {k: v for k, v in self._cache.items() if v.expires > now}
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
        self._cache[token] = entry

    # ------------------------------------------------------------ identify

    def peek(self, cookies: Mapping[str, str]) -> Member | None:
        """The member when the fast path knows them (no decode, no database), else None —
        which means "anonymous *or* not known yet": call :meth:`identify` when a member
        cookie is present."""
        token = cookies.get(self.access_name)
        if not token:
            return None
        entry = self._cache.get(token)
        if entry is None or not self._usable(entry, self.fields.refresh(), time.time()):
            return None
        return entry.member

    async def identify(self, cookies: Mapping[str, str]) -> Identity:
        token = cookies.get(self.access_name)
        refresh = cookies.get(self.refresh_name)
        if not token and not refresh:
            return ANONYMOUS
        fields = self.fields.refresh()
        now = time.time()
        if token:
            entry = self._cache.get(token)
            if entry is None:
                entry = self._entry(token)
                if entry is not None and entry.expires > now:
                    self._remember(token, entry)
            if entry is not None:
                if self.revocations.is_revoked(entry.session_id):
                    return Identity(None, self.clear_cookies())
                if self._usable(entry, fields, now):
                    return Identity(entry.member, [], entry.session_id)
        if not refresh:
            return Identity(None, [self._clear(self.access_name)]) if token else ANONYMOUS
        renewed = self._renewed.get(refresh)
        if renewed is not None and self._usable(renewed[1], fields, now):
            fresh, entry = renewed
            return Identity(entry.member, [self.access_cookie(fresh)], entry.session_id)
        result = await anyio.to_thread.run_sync(self.renew, refresh, fields)
        if result is None:
            return Identity(None, self.clear_cookies())
        fresh, entry = result
        return Identity(entry.member, [self.access_cookie(fresh)], entry.session_id)

    def renew(self, refresh: str, fields: tuple[str, ...]) -> tuple[str, _Entry] | None:
        """A new access token from a refresh cookie (blocking: database)."""
        member_id: int | None = None
        claims = None
        for _ in range(3):
            # Taken before the read: a change committed meanwhile leaves the token stale. A
            # stamp known already (e.g. from a host whose clock runs ahead) is in the past of
            # this read, so the token may be dated just after it.
            issued = now_ms()
            if member_id is not None:
                issued = max(issued, self.revocations.stamp(member_id) + 1)
            claims = services.renew(self.db, refresh, fields)
            if claims is None:
                self._renewed.pop(refresh, None)
                return None
            member_id = claims.record_id
            if not self.revocations.is_stale(member_id, issued):
                break
        assert claims is not None
        if self.revocations.is_revoked(claims.session_id):
            return None
        token, entry = self._issue(claims, issued)
        self._remember(token, entry)
        if len(self._renewed) >= CACHE_LIMIT:
            self._renewed.clear()
        self._renewed[refresh] = (token, entry)
        return token, entry

    def remember_login(self, login: services.Login, issued_ms: int) -> str:
        """The access token of a fresh log-in (cached at once)."""
        token, entry = self._issue(login.claims, issued_ms)
        self._remember(token, entry)
        if login.profile is not None:  # read in the log-in's transaction: no second read
            self._remember_profile(login.claims.record_id, issued_ms, login.profile)
        return token

    async def profile(self, member_id: int, read_ms: int | None = None) -> dict[str, Any] | None:
        """``{id, name, email}`` of a member for ``/me``, cached until the member changes."""
        cached = self._profiles.get(member_id)
        if cached is not None and not self.revocations.is_stale(member_id, cached[0]):
            return cached[1]
        at = read_ms or now_ms()

        def read() -> dict[str, Any] | None:
            with self.db.read() as session:
                return services.profile(session, member_id)

        found = await anyio.to_thread.run_sync(read)
        self._remember_profile(member_id, at, found)
        return found

    def _remember_profile(self, member_id: int, at: int, found: dict[str, Any] | None) -> None:
        if len(self._profiles) >= CACHE_LIMIT:
            self._profiles.clear()
        self._profiles[member_id] = (at, found)

    # ------------------------------------------------------------ cookies

    def _cookie(self, key: str, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=key,
            value=value,
            path="/",
            httponly=True,
            secure=self.settings.secure_cookies,
            samesite="lax",
            max_age=max_age,
        )

    def access_cookie(self, token: str) -> Cookie:
        return self._cookie(self.access_name, token, int(self.lifetime.total_seconds()))

    def refresh_cookie(self, value: str) -> Cookie:
        return self._cookie(self.refresh_name, value, int(self.session_lifetime.total_seconds()))

    def _clear(self, key: str) -> Cookie:
        # A __Host- cookie is only replaced by one that is also Secure with Path=/.
        cookie = self._cookie(key, "", 0)
        cookie.expires = 0
        return cookie

    def clear_cookies(self) -> list[Cookie]:
        return [self._clear(self.access_name), self._clear(self.refresh_name)]

    def login_cookies(self, token: str, refresh: str) -> list[Cookie]:
        return [self.access_cookie(token), self.refresh_cookie(refresh)]

    def forget(self, token: str | None) -> None:
        if token:
            self._cache.pop(token, None)

    def session_of(self, cookies: Mapping[str, str]) -> str | None:
        """The session id a verified access token names (for log-out without refresh)."""
        token = cookies.get(self.access_name)
        if not token:
            return None
        entry = self._cache.get(token) or self._entry(token)
        return entry.session_id if entry else None


def any_member_cookie(cookies: Mapping[str, Any], settings: Settings) -> bool:
    return bool(
        cookies.get(access_cookie_name(settings)) or cookies.get(refresh_cookie_name(settings))
    )
