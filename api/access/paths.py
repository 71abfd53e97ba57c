"""One spelling per URL path, before the gate looks it up (issue 17, "The gate").

:func:`normalise` turns what a client sent into the path the manifest is keyed by:
percent-escapes decoded once (never twice: ``%252e`` stays ``%2e``), ``//`` and ``.``
collapsed, ``..`` resolved (above the root is refused), the trailing slash kept. What no
file name can hold is refused with :class:`PathError` — status 400 for a malformed request
(a bad escape, NUL and other control characters, a backslash, bytes that are not UTF-8, ``..``
above the root) and 404 for an overlong path. :func:`fold` is the key under which spellings
that a case-insensitive or Windows-like file system would treat as one name compare equal
(Unicode NFC, case-folded, trailing dots and spaces dropped): the gate never serves by that key,
it only applies the rule of the entry it finds there, so no spelling of a gated path slips
through.

The embedded gate passes the raw request path (``scope["raw_path"]``, still escaped);
``GET /api/access/check`` passes nginx's ``$uri``, which nginx has already decoded and
normalised the same way (``decoded=True``: decoding again would judge another file than the
one nginx serves).

Plain Python: no Litestar (``pipeline/`` may use it).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

MAX_PATH_BYTES = 2048  # of the raw path; longer → 404 (no file has such a name)
MAX_SEGMENT_BYTES = 255  # a file name's limit on Linux file systems
_HEX = frozenset(b"0123456789abcdefABCDEF")


class PathError(ValueError):
    """A path that names no file: ``status`` 400 (malformed) or 404 (overlong)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _unescape(raw: bytes) -> bytes:
    if b"%" not in raw:
        return raw
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25:  # %
            if i + 2 >= n:
                raise PathError(400, "incomplete percent-escape")
            a, b = raw[i + 1], raw[i + 2]
            if a not in _HEX or b not in _HEX:
                raise PathError(400, "bad percent-escape")
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _refused_char(text: str) -> str | None:
    for ch in text:
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
            return "control character"
        if ch == "\\":
            return "backslash"
    return None


@lru_cache(maxsize=8192)
def _normalise_cached(raw: bytes, decoded: bool) -> str:
    if len(raw) > MAX_PATH_BYTES:
        raise PathError(404, "path too long")
    if not raw.startswith(b"/"):
        raise PathError(400, "path does not start with /")
    data = raw if decoded else _unescape(raw)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PathError(400, "path is not UTF-8") from None
    bad = _refused_char(text)
    if bad:
        raise PathError(400, bad)
    segments: list[str] = []
    parts = text.split("/")
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not segments:
                raise PathError(400, "path goes above the root")
            segments.pop()
            continue
        if len(part.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise PathError(404, "name too long")
        segments.append(part)
    if not segments:
        return "/"
    # A trailing "/", "/." or "/.." keeps (or makes) it a folder, as nginx does.
    trailing = parts[-1] in ("", ".", "..")
    return "/" + "/".join(segments) + ("/" if trailing else "")


def normalise(raw: bytes | str, *, decoded: bool = False) -> str:
    """The canonical path for ``raw`` (bytes as sent, or a str of them), or :class:`PathError`.

    ``decoded``: the path is already percent-decoded (nginx's ``$uri``)."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8") if decoded else raw.encode("ascii")
        except UnicodeEncodeError:
            raise PathError(400, "unescaped non-ASCII character") from None
    return _normalise_cached(raw, decoded)


@lru_cache(maxsize=8192)
def fold(path: str) -> str:
    """The key two spellings of one name share on a lenient file system: NFC, case-folded,
    each segment without trailing dots and spaces. Only ever used to find a rule to apply."""
    text = unicodedata.normalize("NFC", path).casefold()
    return "/".join(seg.rstrip(". ") for seg in text.split("/"))


def is_safe_next(value: str | None) -> bool:
    """A ``next`` target the login may send the visitor to: a same-site path only — starts with
    ``/``, not ``//`` or ``/\\``, no backslash, no scheme, no control characters."""
    if not value or len(value) > MAX_PATH_BYTES or not value.startswith("/"):
        return False
    if value.startswith("//") or "\\" in value:
        return False
    return not any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in value)
