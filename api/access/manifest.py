"""The build's access manifest, ``site/meta/access.json`` (CONTRACT17 section 1), as the gate
reads it: loaded and checked whole, looked up by normalised path with folder defaults, and
reloaded when a build switches the site.

- :func:`load_manifest` reads and validates the file (:class:`ManifestError` names what is
  wrong). Every rule is parsed again with :meth:`Rule.from_dict`.
- :meth:`Manifest.resolve` answers for a normalised path (``api.access.paths.normalise``):
  the entry (exact, or ``/dir/index.html`` for the page ``/dir/``), a redirect (``/about`` →
  ``/about/``), or nothing — with the rules that guard it. An unknown path under a gated folder,
  or one that a lenient file system would take for a gated entry (``/MEMBERS/guide.PDF``), still
  carries that rule: the visitor must pass it before learning that there is nothing (default
  deny).
- :class:`ManifestWatcher` keeps the current manifest and notices a new build: at most once a
  second it stats ``access.json`` (inode, mtime, size); a build swaps ``site/meta`` and then
  ``site/public`` by rename (``pipeline/build.py``), so a changed manifest is taken only once
  ``site/public`` is a new folder too (its inode changed), or after ``SWAP_WAIT`` seconds —
  never new rules over the old files, nor old rules over new files for long.

Plain Python (no Litestar): the admin's access matrix can use it too.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.access.paths import PathError, fold, normalise
from api.access.rules import PUBLIC, Decision, Member, Rule, RuleError

log = logging.getLogger("kizuna.access")

MANIFEST_NAME = "access.json"
VERSION = 1
KINDS = frozenset({"page", "article", "index", "file", "asset", "special"})
CHECK_INTERVAL = 1.0  # seconds between two stats of access.json
SWAP_WAIT = 3.0  # seconds a new manifest waits for its site/public before being taken anyway
_RESOLVE_CACHE = 4096  # resolutions kept per manifest (unknown paths are the visitor's choice)


class ManifestError(ValueError):
    """The manifest cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of ``site/public`` with its rule."""

    path: str  # URL path, the manifest's key ("/about/", "/files/a.pdf")
    file: str  # relative to site/public ("about/index.html")
    kind: str
    rule: Rule
    title: str | None = None
    lang: str | None = None
    source: str | None = None

    @property
    def public(self) -> bool:
        return self.rule.is_public


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a normalised path is: ``entry`` to serve (or ``None``), ``redirect`` (the path with
    a slash added) and the ``rules`` the visitor must pass first (empty or all public: none)."""

    path: str
    entry: Entry | None
    rules: tuple[Rule, ...]
    redirect: str | None = None

    @property
    def public(self) -> bool:
        return all(rule.is_public for rule in self.rules)

    def decide(self, member: Member | None) -> Decision:
        """Allow, login (anonymous or inactive) or forbidden, over every guarding rule."""
        outcome = Decision.allow
        for rule in self.rules:
            decision = rule.decide(member)
            if decision is Decision.login:
                return decision
            if decision is Decision.forbidden:
                outcome = decision
        return outcome


@dataclass(eq=False)
class Manifest:
    build_id: str
    entries: dict[str, Entry]
    folders: list[tuple[str, Rule]]  # (URL prefix ending in "/", rule), longest first
    fields: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)  # login / forbidden / not_found → path
    _by_fold: dict[str, tuple[Rule, ...]] = field(default_factory=dict, repr=False)
    _folded_folders: list[tuple[str, Rule]] = field(default_factory=list, repr=False)
    _cache: OrderedDict[str, Resolution] = field(default_factory=OrderedDict, repr=False)

    def __post_init__(self) -> None:
        by_fold: dict[str, list[Rule]] = {}
        for entry in self.entries.values():
            if not entry.public:
                keys = {fold(entry.path)}
                if entry.path.endswith("/"):
                    keys.add(fold(entry.path + "index.html"))
                for key in keys:
                    rules = by_fold.setdefault(key, [])
                    if entry.rule not in rules:
                        rules.append(entry.rule)
        self._by_fold = {k: tuple(v) for k, v in by_fold.items()}
        self._folded_folders = [(fold(p), r) for p, r in self.folders if not r.is_public]

    def page(self, name: str) -> Entry | None:
        """The theme page ``login`` / ``forbidden`` / ``not_found``, if the build made it."""
        path = self.pages.get(name)
        return self.entries.get(path) if path else None

    def resolve(self, path: str) -> Resolution:
        """The resolution of a path already normalised by ``api.access.paths.normalise``."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        found = self._resolve(path)
        self._cache[path] = found
        if len(self._cache) > _RESOLVE_CACHE:
            self._cache.popitem(last=False)
        return found

    def _resolve(self, path: str) -> Resolution:
        entry = self.entries.get(path)
        if entry is None and path.endswith("/index.html"):
            entry = self.entries.get(path[: -len("index.html")])
            if entry is not None and not entry.file.endswith("index.html"):
                entry = None
        if entry is not None:
            return Resolution(path, entry, (entry.rule,))
        if not path.endswith("/"):
            folder = self.entries.get(path + "/")
            if folder is not None:
                return Resolution(path, None, (folder.rule,), redirect=path + "/")
        return Resolution(path, None, self._guards(path))

    def _guards(self, path: str) -> tuple[Rule, ...]:
        """The rules over a path that has no entry: a folder default it is under, and any gated
        entry that a lenient file system would take it for."""
        key = fold(path)
        rules: list[Rule] = []
        for candidate in (key, key.rstrip("/") + "/", key + "/index.html"):
            for rule in self._by_fold.get(candidate, ()):
                if rule not in rules:
                    rules.append(rule)
        as_folder = key if key.endswith("/") else key + "/"
        for prefix, rule in self._folded_folders:
            if as_folder.startswith(prefix) and rule not in rules:
                rules.append(rule)
        return tuple(rules)


# --------------------------------------------------------------------------------------------
# Loading and validation


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}: expected a list of strings")
    return list(value)


def _rule(data: Any, where: str) -> Rule:
    if not isinstance(data, Mapping):
        raise ManifestError(f"{where}: expected an object with a rule")
    try:
        return Rule.from_dict(data, source=where)
    except RuleError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    except ValueError as exc:
        raise ManifestError(f"{where}: {exc}") from None


def _check_file(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise ManifestError(f'{where}: "file" must be a path under site/public')
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ManifestError(f"{where}: file {name!r} is not a plain path under site/public")
    return name


def _check_key(key: Any, where: str, *, folder: bool = False) -> str:
    if not isinstance(key, str):
        raise ManifestError(f"{where}: keys must be URL paths")
    try:
        canonical = normalise(key, decoded=True)
    except PathError as exc:
        raise ManifestError(f"{where}: {key!r} is not a URL path ({exc.reason})") from None
    if canonical != key or (folder and not key.endswith("/")):
        raise ManifestError(f"{where}: {key!r} is not a normalised URL path")
    return key


def parse_manifest(data: Any, source: str = MANIFEST_NAME) -> Manifest:
    """A :class:`Manifest` from the decoded JSON, or :class:`ManifestError`."""
    if not isinstance(data, Mapping):
        raise ManifestError(f"{source}: expected a JSON object")
    if data.get("version") != VERSION:
        raise ManifestError(f"{source}: version {data.get('version')!r}, expected {VERSION}")
    build_id = data.get("build_id")
    if not isinstance(build_id, str) or not build_id:
        raise ManifestError(f'{source}: "build_id" missing')
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, Mapping):
        raise ManifestError(f'{source}: "entries" must be an object')
    entries: dict[str, Entry] = {}
    for key, item in raw_entries.items():
        where = f"{source}: entries[{key!r}]"
        path = _check_key(key, where)
        if not isinstance(item, Mapping):
            raise ManifestError(f"{where}: expected an object")
        kind = item.get("kind")
        if kind not in KINDS:
            raise ManifestError(f"{where}: kind {kind!r} is not one of {sorted(KINDS)}")
        rule = _rule(item, where)
        if kind in ("index", "special") and not rule.is_public:
            raise ManifestError(f"{where}: a {kind} file must be public")
        title, lang, origin = item.get("title"), item.get("lang"), item.get("source")
        entries[path] = Entry(
            path=path,
            file=_check_file(item.get("file"), where),
            kind=kind,
            rule=rule,
            title=title if isinstance(title, str) else None,
            lang=lang if isinstance(lang, str) else None,
            source=origin if isinstance(origin, str) else None,
        )
    raw_folders = data.get("folders") or {}
    if not isinstance(raw_folders, Mapping):
        raise ManifestError(f'{source}: "folders" must be an object')
    folders = [
        (_check_key(k, f"{source}: folders", folder=True), _rule(v, f"{source}: folders[{k!r}]"))
        for k, v in raw_folders.items()
    ]
    folders.sort(key=lambda item: len(item[0]), reverse=True)
    raw_pages = data.get("pages") or {}
    if not isinstance(raw_pages, Mapping):
        raise ManifestError(f'{source}: "pages" must be an object')
    pages: dict[str, str] = {}
    for name, path in raw_pages.items():
        if not isinstance(path, str):
            raise ManifestError(f"{source}: pages[{name!r}] must be a URL path")
        entry = entries.get(path)
        if entry is None:
            raise ManifestError(f"{source}: pages[{name!r}] = {path!r} has no entry")
        if not entry.public:
            raise ManifestError(f"{source}: pages[{name!r}] = {path!r} must be public")
        pages[str(name)] = path
    return Manifest(
        build_id=build_id,
        entries=entries,
        folders=folders,
        fields=_str_list(data.get("fields"), f"{source}: fields"),
        groups=_str_list(data.get("groups"), f"{source}: groups"),
        pages=pages,
    )


def load_manifest(path: Path) -> Manifest:
    """Read and check ``access.json``; :class:`ManifestError` (or ``OSError``) when unusable."""
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path.name}: not JSON ({exc})") from None
    return parse_manifest(data, path.name)


# --------------------------------------------------------------------------------------------
# Watching for a new build


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


@dataclass(frozen=True)
class Snapshot:
    """A manifest and the ``site/public`` folder it describes (by inode)."""

    manifest: Manifest
    stamp: tuple[int, int, int]
    public_inode: int | None
    loaded_at: float


class ManifestWatcher:
    """The current manifest of ``meta_dir``; :meth:`current` reloads it after a build.

    ``on_load(snapshot)`` runs (in the caller's thread) for each newly taken manifest, before
    it becomes current — the gate reads its hot files there. Thread-safe; a failed load keeps
    the previous manifest and logs why."""

    def __init__(
        self,
        meta_dir: Path,
        public_dir: Path,
        *,
        interval: float = CHECK_INTERVAL,
        swap_wait: float = SWAP_WAIT,
    ) -> None:
        self.path = meta_dir / MANIFEST_NAME
        self.public_dir = public_dir
        self.interval = interval
        self.swap_wait = swap_wait
        self.snapshot: Snapshot | None = None
        self.error: str | None = None
        self._next_check = 0.0
        self._pending: tuple[tuple[int, int, int], float] | None = None
        self._failed: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether :meth:`refresh` would stat the file now (cheap: one clock read)."""
        return time.monotonic() >= self._next_check

    def needs_load(self) -> bool:
        """Due for a check and ``access.json`` is not the current one's (one ``stat``): the
        caller then runs :meth:`refresh` — in a worker thread, as it reads files. When the
        file is unchanged, the next check is put off by ``interval``."""
        now = time.monotonic()
        if now < self._next_check:
            return False
        current = self.snapshot
        if current is not None and _stamp(self.path) == current.stamp:
            self._next_check = now + self.interval
            self._pending = None
            return False
        return True

    def refresh(self, *, force: bool = False) -> Snapshot | None:
        """Stat the manifest (at most once per ``interval`` unless ``force``) and take a new
        one when a build switched the site; return the current snapshot."""
        now = time.monotonic()
        if not force and now < self._next_check:
            return self.snapshot
        if not self._lock.acquire(blocking=self.snapshot is None):
            return self.snapshot  # another thread is loading: serve the current one meanwhile
        try:
            self._next_check = now + self.interval
            stamp = _stamp(self.path)
            current = self.snapshot
            if stamp is None:
                if current is not None:
                    return current  # between the two renames of a swap, or deleted: keep it
                self.error = f"{self.path} not found"
                return None
            if current is not None and stamp == current.stamp:
                self._pending = None
                return current
            if stamp == self._failed:
                return current
            public_inode = _inode(self.public_dir)
            if current is not None and public_inode == current.public_inode:
                # New rules, old files: wait for the build to swap site/public in too.
                if self._pending is None or self._pending[0] != stamp:
                    self._pending = (stamp, now)
                if now - self._pending[1] < self.swap_wait:
                    self._next_check = now + min(self.interval, 0.05)
                    return current
            try:
                manifest = load_manifest(self.path)
            except (ManifestError, OSError) as exc:
                self._failed = stamp
                self.error = str(exc)
                log.error("access manifest not loaded, keeping the previous one: %s", exc)
                return current
            snapshot = Snapshot(manifest, stamp, public_inode, time.time())
            self.on_load(snapshot)
            self.snapshot = snapshot
            self._pending = None
            self._failed = None
            self.error = None
            return snapshot
        finally:
            self._lock.release()

    def on_load(self, snapshot: Snapshot) -> None:
        """Hook for subclasses: prepare what depends on a new manifest."""


__all__ = [
    "PUBLIC",
    "Entry",
    "Manifest",
    "ManifestError",
    "ManifestWatcher",
    "Resolution",
    "Snapshot",
    "load_manifest",
    "parse_manifest",
]
