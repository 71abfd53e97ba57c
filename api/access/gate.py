"""The embedded gate: the app serves ``site/public`` itself, every file behind its rule
(issue 17 part 5; CONTRACT17 sections 1–3).

A raw ASGI app (put in front of Litestar's router by ``api.web.site.install_gate``) so that
a request costs a dict lookup and a few header lines, not a framework's request object:

1. the raw path is normalised (``api.access.paths``): a malformed one gets 400, an overlong
   one 404, with the theme's 404 page;
2. the manifest (``api.access.manifest``) resolves it: an entry, a redirect to the path with
   a slash, or nothing — with the rules that guard it (a folder default guards unknown paths
   under it);
3. a gated path asks the member identity (``MemberAuth.identify(cookies)``; a public one never
   does) and decides: anonymous → 303 to the login page with ``next``, logged in but not
   allowed → 403 with the "not permitted" page, unknown → 404 with the 404 page;
4. an allowed file is sent from memory (hot files: up to ``HOT_FILE_MAX`` each and
   ``HOT_BUDGET`` in all, read when the build is taken, with their ETag and Last-Modified and a
   gzip copy made on first demand) or streamed from disk (larger files), with conditional
   requests, HEAD and single ranges handled the same way for both.

Gated answers carry ``Cache-Control: private, no-store``; public ones are cacheable. The
login page gets its hidden ``next`` filled in (HTML-escaped) when the query has a safe one;
every member page shows the messages its query names (``api.access.pages.fill``); the pages a
``personaliser`` names (my page: ``api.members.mypage.MyPage``) are filled for the visitor who
asks, sent ``private, no-store`` and never from the cached bytes.
The header's log-in state (``HeaderFiller``: ``api.members.header.MemberHeader``) is filled
for the member in a gated HTML page and the "not permitted" page (only the region between
``<!--kizuna:member-nav-->`` marks, sliced at offsets found when the build is read; the gzip
of the parts around it made once), and the log-in page says who is logged in to a member
(``private, no-store``; for anyone else it is sent ``no-cache``). Public pages never are.
A new build is noticed within a second (``ManifestWatcher``) and its files are read in a
worker thread while the previous build keeps being served.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

import anyio
import anyio.to_thread

from api.access import pages as theme_pages
from api.access.manifest import Entry, Manifest, ManifestWatcher, Resolution, Snapshot
from api.access.paths import PathError, is_safe_next, normalise
from api.access.rules import Decision, Member

log = logging.getLogger("kizuna.access.gate")

HOT_FILE_MAX = 1 << 20  # files up to 1 MiB are kept in memory…
HOT_BUDGET = 128 << 20  # …up to 128 MiB in all; the rest is streamed from disk
CHUNK = 64 << 10
GZIP_MIN = 1024
MEMBER_COOKIE = "kizuna_member"  # CONTRACT17 §2: the access cookie's name holds this (and the
# refresh cookie's, with or without the __Host- prefix); no such cookie → anonymous, no lookup
_MEMBER_COOKIE = MEMBER_COOKIE.encode()

GATED_CACHE = b"private, no-store"
PAGE_CACHE = b"public, max-age=300"
ASSET_CACHE = b"public, max-age=86400"
FILE_CACHE = b"public, max-age=3600"
NO_STORE = b"no-store"
NO_CACHE = b"no-cache"  # the log-in page: another for a logged-in member, so always revalidated
# The header's log-in state in a built HTML page (themes/default/templates/base.html): filled
# for the member on gated pages (HeaderFiller), by slicing at offsets found when it is loaded.
NAV_START = b"<!--kizuna:member-nav-->"
NAV_END = b"<!--/kizuna:member-nav-->"
# The site's Content-Security-Policy, as deploy/nginx/kizuna-http.conf sends it (the theme has
# no inline script or style); the app's other security headers come from its before_send.
SITE_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    b"connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'self'; "
    b"object-src 'none'"
)
_CSP = (b"content-security-policy", SITE_CSP)

_COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/xml",
    "application/atom+xml",
    "application/rss+xml",
    "image/svg+xml",
    "application/manifest+json",
)
_EXTRA_TYPES = {
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".json": "application/json",
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
}
LOGIN_MESSAGE_MARK = b"<!--kizuna:login-message-->"
LOGIN_MESSAGES = {  # by the ``error`` code the log-in answers with (api/members/controllers)
    "invalid": {
        "ja": "ログインできませんでした。メールアドレスとパスワードをご確認ください。",
        "en": "We could not log you in. Please check your e-mail address and password.",
    },
    "rate_limited": {
        "ja": "ログインの試行が続いたため、しばらく受け付けません。時間をおいてお試しください。",
        "en": "Too many log-in attempts. Please wait a little and try again.",
    },
}
NOT_BUILT = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>Kizuna</title>'
    '<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;'
    'line-height:1.7"><h1>サイトはまだビルドされていません / The site is not built yet</h1>'
    "<p><code>kizuna build</code> を実行してください。 Run <code>kizuna build</code>, then "
    'reload.</p><p><a href="/admin/">管理画面 / Admin</a></p></body></html>'
).encode()
NO_MANIFEST = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>Kizuna</title>'
    '<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;'
    'line-height:1.7"><h1>サイトを公開できません / The site cannot be served</h1>'
    "<p>アクセス制御の情報（site/meta/access.json）がありません。<code>kizuna build</code> を"
    "実行してください。 The access manifest is missing or unreadable: run <code>kizuna "
    "build</code> again.</p></body></html>"
).encode()


# --------------------------------------------------------------------------------------------
# Member identity: CONTRACT17 section 2 (api.members.identity.MemberAuth). Only what the gate
# uses, so that a test can pass a small stand-in.


class IdentityLike(Protocol):
    @property
    def member(self) -> Member | None: ...

    @property
    def set_cookies(self) -> Sequence[Any]: ...  # litestar Cookie: .to_encoded_header()


class Identifier(Protocol):
    async def identify(self, cookies: Mapping[str, str]) -> IdentityLike: ...


IdentifierSource = Callable[[], Identifier | None]


class PersonalLike(Protocol):
    @property
    def body(self) -> bytes: ...

    @property
    def set_cookies(self) -> Sequence[Any]: ...


class Personaliser(Protocol):
    """Fills theme pages for the visitor who asks (api.members.mypage.MyPage: my page)."""

    @property
    def pages(self) -> frozenset[str]: ...  # the manifest's page names it fills

    async def personalise(
        self, name: str, body: bytes, cookies: Mapping[str, str]
    ) -> PersonalLike: ...


PersonaliserSource = Callable[[], Sequence[Personaliser]]


class HeaderFiller(Protocol):
    """Writes a member's log-in state into pages (api.members.header.MemberHeader): the marked
    header region of a gated page, and the theme pages of ``member_pages`` (the log-in page)."""

    @property
    def member_pages(self) -> frozenset[str]: ...

    async def member_header(self, region: bytes, member: Member) -> bytes | None: ...

    async def member_page(self, name: str, body: bytes, member: Member) -> bytes | None: ...


def parse_cookies(header: bytes) -> dict[str, str]:
    """``Cookie:`` header → name → value (the first of a name wins, as browsers send the most
    specific first)."""
    cookies: dict[str, str] = {}
    for part in header.decode("latin-1").split(";"):
        name, sep, value = part.partition("=")
        if not sep:
            continue
        name = name.strip()
        if name and name not in cookies:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            cookies[name] = value
    return cookies


# --------------------------------------------------------------------------------------------
# Files


def content_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    kind = _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    textual = kind.startswith("text/") or kind.endswith(("+xml", "/xml", "/json", "+json"))
    if textual or kind in ("application/javascript", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind


def http_date(seconds: float) -> bytes:
    return formatdate(seconds, usegmt=True).encode()


def _cache_control(entry: Entry) -> bytes:
    if not entry.public:
        return GATED_CACHE
    if entry.kind == "asset":
        return ASSET_CACHE
    if entry.kind == "file":
        return FILE_CACHE
    return PAGE_CACHE


@dataclass(eq=False, slots=True)
class Served:
    """One file of a build as the gate sends it."""

    entry: Entry
    disk: str  # absolute path (for streaming)
    size: int
    mtime: float
    etag: bytes
    last_modified: bytes
    content_type: bytes
    cache_control: bytes
    body: bytes | None  # None: streamed from disk
    compressible: bool
    gzipped: bytes | None = None
    base_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    # The marked header region (an HTML page in memory): its bytes and where it ends, and the
    # gzip pieces around it (made on first demand, :func:`gzip_spliced`).
    nav: bytes | None = None
    nav_at: tuple[int, int] = (0, 0)
    gzip_parts: tuple[bytes, bytes, int, int] | None = None

    def gzip_body(self) -> bytes | None:
        if not self.compressible or self.body is None:
            return None
        if self.gzipped is None:
            self.gzipped = gzip.compress(self.body, 6, mtime=0)
        return self.gzipped


@dataclass(eq=False)
class Site:
    """A build: its manifest and its files, ready to send."""

    manifest: Manifest
    public_dir: Path
    files: dict[str, Served]
    hot_bytes: int
    pages: dict[str, Served]  # login / forbidden / not_found, and "login@en" for /en/login/

    def page(self, name: str, path: str) -> Served | None:
        """The theme page ``name`` in the language of ``path`` (``/en/…``), else the default."""
        prefix = path[1:3]
        if path[3:4] == "/":
            found = self.pages.get(f"{name}@{prefix}")
            if found is not None:
                return found
        return self.pages.get(name)


def _load_site(manifest: Manifest, public_dir: Path, hot_max: int, budget: int) -> Site:
    files: dict[str, Served] = {}
    used = 0
    root = os.path.realpath(public_dir)
    for entry in manifest.entries.values():
        disk = os.path.join(root, entry.file)
        try:
            st = os.stat(disk)
        except OSError:
            log.warning("%s: in the manifest but not in %s", entry.file, public_dir)
            continue
        body = None
        if st.st_size <= hot_max and used + st.st_size <= budget:
            try:
                with open(disk, "rb") as handle:
                    body = handle.read()
            except OSError:
                continue
            used += len(body)
            tag = hashlib.blake2b(body, digest_size=10).hexdigest()
        else:
            tag = f"{st.st_size:x}-{st.st_mtime_ns:x}"
        kind = content_type(entry.file)
        served = Served(
            entry=entry,
            disk=disk,
            size=len(body) if body is not None else st.st_size,
            mtime=st.st_mtime,
            etag=f'"{tag}"'.encode(),
            last_modified=http_date(st.st_mtime),
            content_type=kind.encode(),
            cache_control=_cache_control(entry),
            body=body,
            compressible=kind.startswith(_COMPRESSIBLE),
        )
        served.base_headers = [
            (b"content-type", served.content_type),
            (b"etag", served.etag),
            (b"last-modified", served.last_modified),
            (b"cache-control", served.cache_control),
            (b"accept-ranges", b"bytes"),
        ]
        if served.compressible:
            served.base_headers.append((b"vary", b"Accept-Encoding"))
        if body is not None and kind.startswith("text/html"):
            start = body.find(NAV_START)
            end = body.find(NAV_END, start) if start >= 0 else -1
            if end > start >= 0:
                start += len(NAV_START)
                served.nav, served.nav_at = body[start:end], (start, end)
        files[entry.path] = served
    pages = {name: files[path] for name, path in manifest.pages.items() if path in files}
    # A theme page of another language sits under its prefix (/en/login/ beside /login/).
    for name, path in manifest.pages.items():
        for served in files.values():
            prefix, _, rest = served.entry.path[1:].partition("/")
            if served.entry.kind == "special" and "/" + rest == path and len(prefix) == 2:
                pages[f"{name}@{prefix}"] = served
    # The log-in page says who is logged in to a member (HeaderFiller): never reused unasked.
    for name, served in pages.items():
        if name.partition("@")[0] == "login" and served.entry.public:
            served.cache_control = NO_CACHE
            served.base_headers = [
                (k, NO_CACHE if k == b"cache-control" else v) for k, v in served.base_headers
            ]
    return Site(manifest, public_dir, files, used, pages)


def gzip_spliced(served: Served, middle: bytes) -> bytes:
    """The gzip of ``served.body`` with its header region replaced by ``middle``, without
    compressing the page again: the parts before and after the region are compressed once
    (each ending on a byte boundary, the first with a full flush so the second does not refer
    back to it), ``middle`` goes between them as a stored block, and the CRC is taken."""
    import struct
    import zlib

    assert served.body is not None
    start, end = served.nav_at
    if len(middle) > 0xFFFF:  # more than one stored block holds: compress it all
        return gzip.compress(served.body[:start] + middle + served.body[end:], 6, mtime=0)
    if served.gzip_parts is None:
        head = zlib.compressobj(6, zlib.DEFLATED, -15)
        before = head.compress(served.body[:start]) + head.flush(zlib.Z_FULL_FLUSH)
        tail = zlib.compressobj(6, zlib.DEFLATED, -15)
        after = tail.compress(served.body[end:]) + tail.flush(zlib.Z_FINISH)
        served.gzip_parts = (before, after, zlib.crc32(served.body[:start]), len(served.body))
    before, after, crc, size = served.gzip_parts
    size += len(middle) - (end - start)
    crc = zlib.crc32(served.body[end:], zlib.crc32(middle, crc))
    stored = struct.pack("<BHH", 0, len(middle), len(middle) ^ 0xFFFF)  # not the last block
    return b"".join(
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", before, stored, middle, after,
         struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Conditional and range requests


def _etag_matches(header: bytes, etags: Iterable[bytes]) -> bool:
    """If-None-Match: weak comparison over a list (``*`` matches anything)."""
    if header.strip() == b"*":
        return True
    wanted = {t.strip().removeprefix(b"W/") for t in header.split(b",")}
    return any(tag in wanted for tag in etags)


def _not_modified_since(header: bytes, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header.decode("latin-1")).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return int(mtime) <= since


def parse_range(header: bytes, size: int) -> tuple[int, int] | bool | None:
    """A single ``bytes=`` range → (first, last) inclusive; ``None`` to ignore the header (not
    bytes, several ranges, malformed: the whole file is sent); ``False`` when unsatisfiable."""
    text = header.decode("latin-1").strip()
    unit, sep, spec = text.partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        length = int(last)
        if length == 0 or size == 0:
            return False
        return (max(0, size - length), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    end = int(last) if last else size - 1
    return (start, min(end, size - 1))


# --------------------------------------------------------------------------------------------
# The gate


Send = Callable[[dict[str, Any]], Awaitable[None]]
Header = tuple[bytes, bytes]
HTML = b"text/html; charset=utf-8"


@dataclass(slots=True)
class _Request:
    method: str
    query: bytes
    path: str = "/"  # normalised once known (the raw path before): picks the page language
    cookie: bytes = b""
    if_none_match: bytes | None = None
    if_modified_since: bytes | None = None
    range: bytes | None = None
    if_range: bytes | None = None
    gzip: bool = False


def _read_request(scope: Mapping[str, Any]) -> _Request:
    request = _Request(scope["method"], scope.get("query_string", b""))
    for name, value in scope["headers"]:
        if name == b"cookie":
            request.cookie = value if not request.cookie else request.cookie + b"; " + value
        elif name == b"accept-encoding":
            request.gzip = b"gzip" in value
        elif name == b"if-none-match":
            request.if_none_match = value
        elif name == b"if-modified-since":
            request.if_modified_since = value
        elif name == b"range":
            request.range = value
        elif name == b"if-range":
            request.if_range = value
    return request


CHECK_STATUS = {Decision.allow: 204, Decision.login: 401, Decision.forbidden: 403}
CHECK_PROBLEMS = {
    401: ("unauthenticated", "Authentication required", "Log in as a member to read this page"),
    403: ("permission_denied", "Not permitted", "This member may not read this page"),
    404: ("not_found", "Not found", "No such page or file"),
}


@dataclass(frozen=True, slots=True)
class CheckAnswer:
    """The check's answer for nginx: 204 allow, 401 login, 403 forbidden, 404 not found."""

    status: int
    decision: str
    cache: bytes
    cookies: list[Any] = field(default_factory=list)  # litestar Cookie objects to set

    def set_cookie_headers(self) -> list[Header]:
        return [cookie.to_encoded_header() for cookie in self.cookies]

    def problem(self) -> tuple[str, str, str]:
        return CHECK_PROBLEMS[self.status]

    def problem_body(self) -> bytes:
        import json

        code, title, detail = self.problem()
        return json.dumps(
            {
                "type": f"urn:kizuna:problem:{code}",
                "title": title,
                "status": self.status,
                "detail": detail,
                "code": code,
                "instance": "/api/access/check",
            }
        ).encode()


class _Watcher(ManifestWatcher):
    def __init__(self, gate: Gate, meta_dir: Path, public_dir: Path) -> None:
        super().__init__(meta_dir, public_dir)
        self.gate = gate

    def on_load(self, snapshot: Snapshot) -> None:
        self.gate.site = _load_site(
            snapshot.manifest, self.public_dir, self.gate.hot_max, self.gate.hot_budget
        )
        # New tokens carry the fields the new rules read from now on (MemberAuth would notice
        # the file itself within a second).
        fields = getattr(self.gate.identifier(), "fields", None)
        if fields is not None and hasattr(fields, "set"):
            fields.set(snapshot.manifest.fields)
        log.info(
            "site build %s taken: %d files, %d KiB in memory",
            snapshot.manifest.build_id,
            len(self.gate.site.files),
            self.gate.site.hot_bytes >> 10,
        )


class Gate:
    """The embedded gate as an ASGI app. ``identifier()`` gives the app's ``MemberAuth`` (or
    ``None`` while there is none: everyone is anonymous)."""

    def __init__(
        self,
        public_dir: Path,
        meta_dir: Path,
        identifier: IdentifierSource = lambda: None,
        *,
        personalisers: PersonaliserSource = lambda: (),
        hot_max: int = HOT_FILE_MAX,
        hot_budget: int = HOT_BUDGET,
    ) -> None:
        self.public_dir = public_dir
        self.meta_dir = meta_dir
        self.identifier = identifier
        self.personalisers = personalisers
        self.hot_max = hot_max
        self.hot_budget = hot_budget
        self.site: Site | None = None
        self.watcher = _Watcher(self, meta_dir, public_dir)
        self._identifier: Identifier | None = None
        self._header_filler: tuple[HeaderFiller | None] | None = None

    def header_filler(self) -> HeaderFiller | None:
        """The page filler that writes a member's log-in state (found once among them)."""
        if self._header_filler is None:
            found: list[Any] = [p for p in self.personalisers() if hasattr(p, "member_header")]
            self._header_filler = (found[0] if found else None,)
        return self._header_filler[0]

    # ---------------------------------------------------------------- the current build

    def current(self) -> Site | None:
        """The current build, checking for a new one at most once a second (blocking)."""
        if self.watcher.due():
            self.watcher.refresh()
        return self.site

    async def current_async(self) -> Site | None:
        """As :meth:`current`, reading a new build's files in a worker thread."""
        if self.watcher.needs_load():
            await anyio.to_thread.run_sync(self.watcher.refresh)
        return self.site

    async def resolve(
        self, raw_path: bytes | str, *, decoded: bool = False
    ) -> Resolution | PathError:
        """For ``/api/access/check``: the resolution of a path under the current build."""
        site = await self.current_async()
        if site is None:
            return PathError(503, "site not built")
        try:
            return site.manifest.resolve(normalise(raw_path, decoded=decoded))
        except PathError as exc:
            return exc

    async def check(self, original_uri: bytes, cookie_header: bytes) -> CheckAnswer:
        """The decision for nginx (``GET /api/access/check``): ``original_uri`` is nginx's
        ``$uri`` (decoded, normalised: never decoded again)."""
        found = await self.resolve(original_uri, decoded=True) if original_uri else None
        if found is None or isinstance(found, PathError):
            return CheckAnswer(404, "not_found", GATED_CACHE)
        if found.public:
            if found.entry is None and found.redirect is None:
                return CheckAnswer(404, "not_found", PAGE_CACHE)
            return CheckAnswer(204, "allow", PAGE_CACHE)
        member, cookies = await self.identify(cookie_header)
        decision = found.decide(member)
        if decision is Decision.allow and found.entry is None and found.redirect is None:
            return CheckAnswer(404, "not_found", GATED_CACHE, cookies)
        return CheckAnswer(CHECK_STATUS[decision], decision.value, GATED_CACHE, cookies)

    async def check_asgi(self, scope: Mapping[str, Any], send: Send) -> None:
        """``GET /api/access/check`` answered without the framework (installed in front of the
        router by ``api.web.site.install_gate``; the Litestar route documents it and answers
        the same through :meth:`check` when the gate is not installed)."""
        uri = cookie = b""
        for name, value in scope["headers"]:
            if name == b"x-original-uri":
                uri = value
            elif name == b"cookie":
                cookie = value if not cookie else cookie + b"; " + value
        answer = await self.check(uri, cookie)
        headers = [
            (b"cache-control", answer.cache),
            (b"x-kizuna-decision", answer.decision.encode()),
        ]
        headers += answer.set_cookie_headers()
        body = b""
        if answer.status != 204:
            body = answer.problem_body()
            headers += [(b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def identify(self, cookie_header: bytes) -> tuple[Member | None, list[Any]]:
        """The member behind the request's cookies (``None``: anonymous) and the cookies the
        identity asks to set (a renewed token: litestar ``Cookie`` objects)."""
        if _MEMBER_COOKIE not in cookie_header:
            return None, []
        identifier = self._identifier or self.identifier()
        if identifier is None:
            return None, []
        self._identifier = identifier
        cookies = parse_cookies(cookie_header)
        peek = getattr(identifier, "peek", None)
        if peek is not None:  # the sync fast path: a verified token in memory, nothing to set
            member = peek(cookies)
            if member is not None:
                return member, []
        identity = await identifier.identify(cookies)
        return identity.member, list(identity.set_cookies or ())

    # ---------------------------------------------------------------- ASGI

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw: bytes | None = scope.get("raw_path")
        decoded = raw is None  # a server without raw_path: its path is decoded already
        if raw is None:
            raw = scope["path"].encode("utf-8")
        elif b"?" in raw:  # some clients' ASGI transports leave the query on raw_path
            raw = raw.partition(b"?")[0]
        if raw == b"/api" or raw.startswith(b"/api/"):
            await _api_not_found(send, raw)
            return
        site = await self.current_async() if self.watcher.due() else self.site
        if site is None:
            built = (self.public_dir / "index.html").exists()
            await _simple(send, 503, NO_MANIFEST if built else NOT_BUILT, HTML)
            return
        request = _read_request(scope)
        request.path = raw.decode("latin-1")
        try:
            path = request.path = normalise(raw, decoded=decoded)
        except PathError as exc:
            await self._page(send, site, "not_found", exc.status, request, NO_STORE, [])
            return
        resolution = site.manifest.resolve(path)
        cookies: list[tuple[bytes, bytes]] = []
        decision = Decision.allow
        member: Member | None = None
        if not resolution.public:
            member, to_set = await self.identify(request.cookie)
            cookies = [cookie.to_encoded_header() for cookie in to_set]
            decision = resolution.decide(member)
        if decision is Decision.login:
            await self._login_redirect(send, site, path, request, cookies)
            return
        cache = NO_STORE if resolution.public else GATED_CACHE
        if decision is Decision.forbidden:
            await self._page(send, site, "forbidden", 403, request, GATED_CACHE, cookies, member)
            return
        if request.method not in ("GET", "HEAD"):
            headers = [
                (b"allow", b"GET, HEAD"),
                (b"content-length", b"0"),
                (b"cache-control", cache),
            ]
            await _start(send, 405, headers + cookies)
            await send({"type": "http.response.body", "body": b""})
            return
        if resolution.entry is None:
            if resolution.redirect is not None:
                location = quote(resolution.redirect, safe="/")
                if request.query:
                    location += "?" + request.query.decode("latin-1")
                await _redirect(send, 301, location, cache, cookies)
                return
            await self._page(send, site, "not_found", 404, request, cache, cookies, member)
            return
        served = site.files.get(resolution.entry.path)
        if served is None:
            await self._page(send, site, "not_found", 404, request, cache, cookies, member)
            return
        if served.entry.kind == "special" and served.body is not None:
            name = _page_name(site, served)
            for personaliser in self.personalisers():
                if name is not None and name in getattr(personaliser, "pages", ()):
                    await self._personal(send, personaliser, name, served, request, cookies)
                    return
            filler = self.header_filler()
            if (
                filler is not None
                and name in filler.member_pages
                and resolution.public
                and await self._member_page(send, filler, name, served, request)
            ):
                return
        if member is not None and served.nav is not None:  # a gated page: the member's header
            filler = self.header_filler()
            region = await filler.member_header(served.nav, member) if filler else None
            if region is not None:
                await self._filled(send, served, region, request, cookies)
                return
        if served.entry.kind == "special" and request.query:
            body = personal_page(_page_name(site, served), served, request.query)
            if body is not None:
                headers = [
                    (b"content-type", served.content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", GATED_CACHE),
                ]
                await _start(send, 200, headers + cookies)
                await _body(send, b"" if request.method == "HEAD" else body)
                return
        handle = None
        if served.body is None and request.method == "GET":
            try:
                handle = await anyio.open_file(served.disk, "rb")
            except OSError:  # swapped away by a new build a moment ago
                await self._page(send, site, "not_found", 404, request, cache, cookies, member)
                return
        try:
            await self._file(send, served, request, cookies, handle)
        finally:
            if handle is not None:
                await handle.aclose()

    # ---------------------------------------------------------------- answers

    async def _personal(
        self,
        send: Send,
        personaliser: Personaliser,
        name: str,
        served: Served,
        request: _Request,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        """A page filled for this visitor (my page): never cached, here or on the way
        (``private, no-store``), then the query's messages as on every member page."""
        assert served.body is not None
        found = await personaliser.personalise(name, served.body, parse_cookies(request.cookie))
        body = found.body
        if request.query:
            body = theme_pages.fill(body, request.query) or body
        headers = [
            (b"content-type", served.content_type),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", GATED_CACHE),
        ]
        headers += extra + [cookie.to_encoded_header() for cookie in found.set_cookies]
        await _start(send, 200, headers)
        await _body(send, b"" if request.method == "HEAD" else body)

    async def _member_page(
        self, send: Send, filler: HeaderFiller, name: str, served: Served, request: _Request
    ) -> bool:
        """A theme page of ``filler.member_pages`` (the log-in page) for a visitor whose
        cookies name a member: filled for them, ``private, no-store``. False: not a member
        (the page is sent as for anyone)."""
        if _MEMBER_COOKIE not in request.cookie or request.method not in ("GET", "HEAD"):
            return False
        assert served.body is not None
        member, to_set = await self.identify(request.cookie)
        body = await filler.member_page(name, served.body, member) if member else None
        if body is None:
            if not to_set:
                return False
            body = served.body  # cookies to clear: sent with the page, never stored
        if request.query:
            body = theme_pages.fill(body, request.query) or body
        headers = [
            (b"content-type", served.content_type),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", GATED_CACHE),
        ]
        headers += [cookie.to_encoded_header() for cookie in to_set]
        await _start(send, 200, headers)
        await _body(send, b"" if request.method == "HEAD" else body)
        return True

    async def _filled(
        self,
        send: Send,
        served: Served,
        region: bytes,
        request: _Request,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        """A gated page with its header region filled for the member (``private, no-store``:
        no validators; a single range of the filled page is answered, as for any file)."""
        assert served.body is not None
        start, end = served.nav_at
        headers = [(b"content-type", served.content_type), (b"cache-control", GATED_CACHE)]
        status = 200
        if served.compressible:
            headers.append((b"vary", b"Accept-Encoding"))
        span = None
        if request.range is not None and request.if_range is None:
            span = parse_range(request.range, len(served.body) - (end - start) + len(region))
        if span is False:
            size = len(served.body) - (end - start) + len(region)
            headers = [(b"content-range", f"bytes */{size}".encode()),
                       (b"cache-control", GATED_CACHE)]  # fmt: skip
            body, status = b"", 416
        elif isinstance(span, tuple):
            whole = b"".join((served.body[:start], region, served.body[end:]))
            first, last = span
            body, status = whole[first : last + 1], 206
            headers.append((b"content-range", f"bytes {first}-{last}/{len(whole)}".encode()))
        elif request.gzip and served.size >= GZIP_MIN and served.compressible:
            body = gzip_spliced(served, region)
            headers.append((b"content-encoding", b"gzip"))
        else:
            body = b"".join((served.body[:start], region, served.body[end:]))
        headers.append((b"content-length", str(len(body)).encode()))
        await _start(send, status, headers + extra if extra else headers)
        await _body(send, b"" if request.method == "HEAD" else body)

    async def _file(
        self,
        send: Send,
        served: Served,
        request: _Request,
        extra: list[tuple[bytes, bytes]],
        handle: Any = None,
    ) -> None:
        head = request.method == "HEAD"
        etag = served.etag
        if request.if_none_match is not None:
            if _etag_matches(request.if_none_match, (etag, etag[:-1] + b'-gz"')):
                await self._not_modified(send, served, extra)
                return
        elif request.if_modified_since is not None and _not_modified_since(
            request.if_modified_since, served.mtime
        ):
            await self._not_modified(send, served, extra)
            return
        span = None
        if request.range is not None and (
            request.if_range is None or request.if_range.strip() in (etag, served.last_modified)
        ):
            span = parse_range(request.range, served.size)
            if span is False:
                headers = [
                    (b"content-range", f"bytes */{served.size}".encode()),
                    (b"content-length", b"0"),
                    (b"cache-control", served.cache_control),
                ]
                await _start(send, 416, headers + extra)
                await send({"type": "http.response.body", "body": b""})
                return
        if span is None and request.gzip and served.compressible and served.size >= GZIP_MIN:
            body = served.gzip_body()
            if body is not None:
                headers = [
                    (b"content-type", served.content_type),
                    (b"etag", etag[:-1] + b'-gz"'),
                    (b"last-modified", served.last_modified),
                    (b"cache-control", served.cache_control),
                    (b"vary", b"Accept-Encoding"),
                    (b"content-encoding", b"gzip"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await _start(send, 200, headers + extra)
                await send({"type": "http.response.body", "body": b"" if head else body})
                return
        if isinstance(span, tuple):
            first, last = span
            length = last - first + 1
            headers = [
                *served.base_headers,
                (b"content-length", str(length).encode()),
                (b"content-range", f"bytes {first}-{last}/{served.size}".encode()),
            ]
            await _start(send, 206, headers + extra)
            if head:
                await send({"type": "http.response.body", "body": b""})
            elif served.body is not None:
                await send({"type": "http.response.body", "body": served.body[first : last + 1]})
            else:
                await _stream(send, handle, first, length)
            return
        headers = [*served.base_headers, (b"content-length", str(served.size).encode())]
        await _start(send, 200, headers + extra if extra else headers)
        if head:
            await send({"type": "http.response.body", "body": b""})
        elif served.body is not None:
            await send({"type": "http.response.body", "body": served.body})
        else:
            await _stream(send, handle, 0, served.size)

    async def _not_modified(
        self, send: Send, served: Served, extra: list[tuple[bytes, bytes]]
    ) -> None:
        headers = [
            (b"etag", served.etag),
            (b"last-modified", served.last_modified),
            (b"cache-control", served.cache_control),
        ]
        await _start(send, 304, headers + extra)
        await send({"type": "http.response.body", "body": b""})

    async def _page(
        self,
        send: Send,
        site: Site,
        name: str,
        status: int,
        request: _Request,
        cache: bytes,
        extra: list[tuple[bytes, bytes]],
        member: Member | None = None,
    ) -> None:
        page = site.page(name, request.path)
        body = page.body if page is not None and page.body is not None else None
        if body is None:
            body = {403: b"Forbidden", 404: b"Not found"}.get(status, b"Bad request")
            kind = b"text/plain; charset=utf-8"
        else:
            kind = page.content_type  # type: ignore[union-attr]
            filler = self.header_filler() if member is not None else None
            if filler is not None and page is not None and page.nav is not None:
                assert member is not None
                region = await filler.member_header(page.nav, member)
                if region is not None:  # "not permitted", and who is logged in
                    start, end = page.nav_at
                    body = b"".join((body[:start], region, body[end:]))
        headers = [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache),
        ]
        await _start(send, status, headers + extra)
        await _body(send, b"" if request.method == "HEAD" else body)

    async def _login_redirect(
        self,
        send: Send,
        site: Site,
        path: str,
        request: _Request,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        page = site.page("login", path)
        login = page.entry.path if page is not None else "/login/"
        target = path
        if request.query and len(request.query) < 1024:
            target += "?" + request.query.decode("latin-1")
        location = login + "?next=" + quote(target, safe="/") if is_safe_next(target) else login
        await _redirect(send, 303, location, GATED_CACHE, extra)


def _page_name(site: Site, served: Served) -> str | None:
    """Which of the manifest's theme pages this is (``login``, ``register``…), if any."""
    for name, page in site.pages.items():
        if page is served:
            return name.partition("@")[0]
    return None


def personal_page(name: str | None, served: Served, query: bytes) -> bytes | None:
    """A theme page as this request's query makes it (no JavaScript needed): the login page's
    ``next`` and error message (:func:`login_page`), and on every member page the messages and
    the step's form that the query names (:func:`api.access.pages.fill`). The forbidden and
    404 pages take nothing from the query. ``None``: send the cached bytes."""
    if name is None or name in ("forbidden", "not_found") or served.body is None:
        return None
    body = served.body
    if name == "login":
        body = login_page(served, query) or body
    body = theme_pages.fill(body, query) or body
    return None if body is served.body else body


def login_page(served: Served, query: bytes) -> bytes | None:
    """The login page with ``next`` (when safe) filled into its hidden input, and a message
    where ``<!--kizuna:login-message-->`` sits when the query has ``error``; ``None`` when the
    query asks for neither (the cached page is sent as it is)."""
    if served.body is None:
        return None
    params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    target = params.get("next")
    error = params.get("error")
    body = served.body
    changed = False
    if target and is_safe_next(target):
        filled = theme_pages.fill_next(body, target)
        if filled is not None:
            body, changed = filled, True
    if error and LOGIN_MESSAGE_MARK in body:
        # A theme page has no language in the manifest: its <html lang> says it.
        page_lang = served.entry.lang or _html_lang(body)
        lang = "en" if page_lang.startswith("en") else "ja"
        text = LOGIN_MESSAGES.get(error, LOGIN_MESSAGES["invalid"])[lang]
        note = f'<p class="kizuna-login-message" role="alert">{text}</p>'.encode()
        body = body.replace(LOGIN_MESSAGE_MARK, note, 1)
        changed = True
    return body if changed else None


_HTML_LANG = re.compile(rb"<html\b[^>]*\blang=\"([A-Za-z-]{2,10})\"")


def _html_lang(body: bytes) -> str:
    found = _HTML_LANG.search(body[:2048])
    return found.group(1).decode().lower() if found else ""


async def _redirect(
    send: Send, status: int, location: str, cache: bytes, extra: list[tuple[bytes, bytes]]
) -> None:
    """An empty redirect (``location`` already percent-encoded)."""
    headers = [
        (b"location", location.encode("latin-1")),
        (b"content-length", b"0"),
        (b"cache-control", cache),
    ]
    await _start(send, status, headers + extra)
    await send({"type": "http.response.body", "body": b""})


async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    headers.append(_CSP)  # every list passed here is the answer's own
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _body(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body})


async def _simple(send: Send, status: int, body: bytes, kind: bytes) -> None:
    headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", NO_STORE),
    ]
    await _start(send, status, headers)
    await send({"type": "http.response.body", "body": body})


async def _api_not_found(send: Send, raw: bytes) -> None:
    """An unknown ``/api/…`` path: problem details, as the API's own 404s."""
    import json

    instance = raw.decode("latin-1")
    body = json.dumps(
        {
            "type": "urn:kizuna:problem:not_found",
            "title": "Not found",
            "status": 404,
            "detail": "No such API endpoint",
            "code": "not_found",
            "instance": instance,
        }
    ).encode()
    await _simple(send, 404, body, b"application/problem+json")


async def _stream(send: Send, handle: Any, offset: int, length: int) -> None:
    """Send ``length`` bytes of an open file from ``offset``, read in a worker thread."""
    await handle.seek(offset)
    remaining = length
    while remaining > 0:
        chunk = await handle.read(min(CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    if remaining > 0:  # the file shrank under us (a new build): end the response
        await send({"type": "http.response.body", "body": b"", "more_body": False})
