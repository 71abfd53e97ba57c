"""What staff see of access (issue 17, part 8), without HTTP: the access matrix (every content
URL with its rule and how many members may read it), the last build's record and warnings, and
"view as" (a page as a member, a group or an anonymous visitor would get it).

- The manifest (``site/meta/access.json``, CONTRACT17 §1) is read by :func:`load_manifest`
  alone, so the gate's loader can take its place in one spot.
- Counts evaluate each *distinct* rule (not each URL) with the same compiled ``Rule`` the gate
  uses, over the member table's records read in keyset batches: only the columns the rules
  read, plus group memberships when a rule names a group. Cached per manifest and member data
  fingerprint.
- A member counts when :func:`inactive_members` says they can log in: an account with a
  password, active (not suspended or withdrawn).
- "View as" never makes a member session or cookie: it decides with a ``Member`` built here
  (a record's values and groups; a group preview is a synthetic member with that one group and
  no fields) and hands back the file the gate would send.
"""

from __future__ import annotations

import json
import mimetypes
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.access.manifest import MANIFEST_NAME, Entry, ManifestError
from api.access.manifest import Manifest as SiteManifest
from api.access.manifest import load_manifest as read_manifest
from api.access.pages import fill_next
from api.access.paths import PathError, normalise
from api.access.rules import (
    Compare,
    Contains,
    Group,
    In,
    Member,
    Members,
    Rule,
)
from api.customers import records
from api.customers.services import Design
from api.customers.types import FieldType, column_name
from api.customers.values import to_json
from api.errors import Conflict, FieldError, NotFound, ValidationFailed
from api.groups import services as groups
from api.groups.models import GroupMembership, MemberGroup
from api.principal import Principal
from api.security.keys import Keyring

BUILD_NAME = "build.json"
MATRIX_KINDS = ("page", "article", "index", "file", "special")  # every kind but theme assets
BATCH = 2_000  # member records read per query when counting
MEMO_MAX = 50_000  # kinds of member (groups and values read) whose answers are kept
COUNT_TTL = 600.0  # seconds a count is kept even when nothing seems to have changed
MAX_PATH = 2_000
WARNINGS_SHOWN = 1_000
MEMBERSHIP = GroupMembership.__table__  # type: ignore[attr-defined]


def _bad(field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(
        detail=f"{field_name}: {message}", errors=[FieldError(field_name, message, code)]
    )


# ------------------------------------------------------------------ the manifest


@dataclass(frozen=True)
class Manifest:
    """The gate's manifest (``api.access.manifest``: one reader, one resolution for the gate,
    nginx's check and staff) with when the build wrote it."""

    site: SiteManifest
    modified_at: datetime

    @property
    def build_id(self) -> str:
        return self.site.build_id

    @property
    def fields(self) -> list[str]:
        return self.site.fields

    @property
    def groups(self) -> list[str]:
        return self.site.groups

    @property
    def pages(self) -> dict[str, str]:
        return self.site.pages

    @property
    def entries(self) -> dict[str, Entry]:
        return self.site.entries


_manifest_cache: dict[Path, tuple[tuple[int, int], Manifest]] = {}
_manifest_lock = threading.Lock()


def load_manifest(meta_dir: Path) -> Manifest | None:
    """The access manifest in ``meta_dir``, or None when the site has none yet. Cached by the
    file's mtime and size (a build swaps in a new file). A file the gate could not use is 409
    ``manifest_invalid``."""
    path = meta_dir / MANIFEST_NAME
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _manifest_lock:
        cached = _manifest_cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        manifest = Manifest(read_manifest(path), datetime.fromtimestamp(stat.st_mtime, UTC))
    except (OSError, ManifestError) as exc:
        raise Conflict(
            detail=f"{path.name} cannot be read ({exc}): build the site again",
            code="manifest_invalid",
        ) from exc
    with _manifest_lock:
        _manifest_cache[path] = (stamp, manifest)
    return manifest


# ------------------------------------------------------------------ members


def inactive_members(session: Session, design: Design, record_ids: Sequence[int]) -> set[int]:
    """Which of these records of the member table cannot read a gated page: no account to log
    in with (no password set, never registered) or an account that is not active (suspended,
    withdrawn). Called once per batch of up to :data:`BATCH` ids, and for a preview's member."""
    from api.members.models import MemberAccount

    if not record_ids:
        return set()
    active = set(
        session.exec(
            select(MemberAccount.record_id).where(
                MemberAccount.table_id == design.table.id,
                col(MemberAccount.record_id).in_(list(record_ids)),
                MemberAccount.status == "active",
                col(MemberAccount.password_hash).is_not(None),
            )
        )
    )
    return {int(i) for i in record_ids} - {int(i) for i in active}


def _member_table(session: Session) -> Design | None:
    try:
        return groups.member_design(session)
    except Conflict:
        return None


def _field_columns(design: Design, keys: Iterable[str]) -> dict[str, sa.ColumnElement[Any]]:
    """The columns of the field keys that the member table has (a rule may read ``status``, a
    system column); keys it lacks are no value for everyone."""
    table = design.sa_table()
    active = {spec.key for _, spec in design.active()}
    out: dict[str, sa.ColumnElement[Any]] = {}
    for key in sorted(set(keys)):
        if key in active:
            out[key] = table.c[column_name(key)]
        elif key == "status":
            out[key] = table.c.status
    return out


def _reads_groups(rules: Iterable[Rule]) -> bool:
    return any(isinstance(node, Group) for rule in rules for node in rule.root.walk())


def _group_keys(session: Session) -> dict[int, str]:
    group_table = MemberGroup.__table__  # type: ignore[attr-defined]
    rows = session.connection().execute(sa.select(group_table.c.id, group_table.c.key))
    return {int(i): str(k) for i, k in rows}


def _memberships(
    conn: sa.Connection, table_id: int, first: int, last: int, keys: Mapping[int, str]
) -> dict[int, frozenset[str]]:
    """The groups of the member table's records ``first``..``last`` (one range query on the
    ``(table_id, record_id)`` index)."""
    found: dict[int, set[str]] = {}
    rows = conn.execute(
        sa.select(MEMBERSHIP.c.record_id, MEMBERSHIP.c.group_id).where(
            MEMBERSHIP.c.table_id == table_id,
            MEMBERSHIP.c.record_id >= first,
            MEMBERSHIP.c.record_id <= last,
        )
    )
    for record_id, group_id in rows:
        key = keys.get(int(group_id))
        if key is not None:
            found.setdefault(int(record_id), set()).add(key)
    return {k: frozenset(v) for k, v in found.items()}


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return repr(sorted(value.items()))
    return value


@dataclass(frozen=True)
class Counts:
    """How many members each rule admits (by canonical text), of ``members`` in all."""

    members: int
    by_rule: Mapping[str, int]
    member_table: str | None
    counted_at: datetime


_count_cache: dict[tuple[Any, ...], tuple[float, Counts]] = {}
_count_lock = threading.Lock()


def _fingerprint(session: Session, design: Design) -> tuple[Any, ...]:
    """What changes when members, their values or their groups change (cheap aggregates)."""
    table = design.sa_table()
    conn = session.connection()
    rows = conn.execute(
        sa.select(sa.func.count(), sa.func.max(table.c.id), sa.func.max(table.c.updated_at))
    ).one()
    links = conn.execute(
        sa.select(sa.func.count(), sa.func.max(MEMBERSHIP.c.added_at)).where(
            MEMBERSHIP.c.table_id == design.table.id
        )
    ).one()
    from api.members.models import MemberAccount

    accounts = conn.execute(
        sa.select(sa.func.count(), sa.func.max(col(MemberAccount.updated_at))).where(
            col(MemberAccount.table_id) == design.table.id
        )
    ).one()
    return (str(conn.engine.url), design.table.id, *map(str, rows), *map(str, links),
            *map(str, accounts))  # fmt: skip


def count_members(session: Session, rules: Iterable[Rule]) -> Counts:
    """How many members of the member table each rule admits, each distinct rule once.

    Reads the member table in keyset batches of :data:`BATCH` ids: the id, the columns of the
    fields the rules read, and (when a rule names a group) the batch's memberships. A public
    rule admits every member. Without a member table every count is 0."""
    distinct = {str(rule): rule for rule in rules}
    design = _member_table(session)
    now = datetime.now(UTC)
    if design is None:
        return Counts(0, dict.fromkeys(distinct, 0), None, now)
    key = (_fingerprint(session, design), tuple(sorted(distinct)))
    with _count_lock:
        cached = _count_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < COUNT_TTL:
            return cached[1]
    gated = [(text, rule) for text, rule in distinct.items() if not rule.is_public]
    columns = _field_columns(design, {f for _, rule in gated for f in rule.fields()})
    need_groups = _reads_groups(rule for _, rule in gated)
    group_keys = _group_keys(session) if need_groups else {}
    table = design.sa_table()
    conn = session.connection()
    hits = [0] * len(gated)
    total = 0
    last = 0
    select_columns = [table.c.id, *(c.label(f"f_{k}") for k, c in columns.items())]
    # Members alike (same groups, same values of the fields read) get the same answers: each
    # such kind is evaluated once (the memo is bounded; beyond it every member is evaluated).
    memo: dict[tuple[Any, ...], tuple[bool, ...]] = {}
    while True:
        rows = conn.execute(
            sa.select(*select_columns).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        first, last = int(rows[0][0]), int(rows[-1][0])
        member_groups = (
            _memberships(conn, design.table.id or 0, first, last, group_keys) if need_groups else {}
        )
        inactive = inactive_members(session, design, [int(r[0]) for r in rows])
        for row in rows:
            data = row._mapping
            total += 1
            record_id = int(data["id"])
            in_groups = member_groups.get(record_id, frozenset())
            active = record_id not in inactive
            values = tuple(data[f"f_{k}"] for k in columns)
            kind = (active, in_groups, tuple(_hashable(v) for v in values))
            answers = memo.get(kind)
            if answers is None:
                member = Member(
                    id=record_id,
                    active=active,
                    groups=in_groups,
                    fields=dict(zip(columns, values, strict=True)),
                )
                answers = tuple(rule.evaluate(member) for _, rule in gated)
                if len(memo) < MEMO_MAX:
                    memo[kind] = answers
            for i, allowed in enumerate(answers):
                if allowed:
                    hits[i] += 1
    tally = dict.fromkeys(distinct, total)  # a public rule admits every member
    for (text, _), n in zip(gated, hits, strict=True):
        tally[text] = n
    counts = Counts(total, tally, design.key, now)
    with _count_lock:
        if len(_count_cache) > 64:
            _count_cache.clear()
        _count_cache[key] = (time.monotonic(), counts)
    return counts


# ------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class MatrixRow:
    path: str
    kind: str
    title: str | None
    lang: str | None
    source: str | None
    rule: str
    fields: list[str]
    groups: list[str]
    public: bool
    members: int


@dataclass(frozen=True)
class RuleSummary:
    rule: str
    fields: list[str]
    groups: list[str]
    public: bool
    members: int
    urls: int


@dataclass(frozen=True)
class Matrix:
    build_id: str | None
    items: list[MatrixRow]
    total: int
    rules: list[RuleSummary]
    groups: list[str]
    kinds: list[str]
    members: int
    member_table: str | None
    counted_at: datetime | None
    manifest_at: datetime | None


def matrix(
    session: Session,
    manifest: Manifest | None,
    *,
    rule: str | None = None,
    group: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Matrix:
    """Every content URL of the manifest (theme assets left out), filtered by rule (canonical
    text), group (the rule names it), kind, and ``q`` (in the URL or the title, case-folded),
    by URL, a page at a time; with every distinct rule, its URLs and its count of members."""
    if manifest is None:
        return Matrix(None, [], 0, [], [], [], 0, None, None, None)
    content: list[tuple[str, Entry, Rule]] = [
        (path, entry, entry.rule)
        for path, entry in sorted(manifest.entries.items())
        if entry.kind != "asset"
    ]
    counts = count_members(session, (r for _, _, r in content))
    urls: dict[str, int] = {}
    by_text: dict[str, Rule] = {}
    for _, _, r in content:
        urls[str(r)] = urls.get(str(r), 0) + 1
        by_text[str(r)] = r
    summaries = [
        RuleSummary(
            rule=text,
            fields=sorted(r.fields()),
            groups=sorted(r.groups()),
            public=r.is_public,
            members=counts.by_rule.get(text, 0),
            urls=urls[text],
        )
        for text, r in sorted(by_text.items(), key=lambda kv: (not kv[1].is_public, kv[0]))
    ]
    needle = q.casefold().strip() if q else ""
    group_key = group.casefold() if group else None
    rows: list[MatrixRow] = []
    for path, entry, r in content:
        if rule is not None and str(r) != rule:
            continue
        if kind is not None and entry.kind != kind:
            continue
        if group_key is not None and group_key not in {g.casefold() for g in r.groups()}:
            continue
        title = entry.title
        if needle and needle not in path.casefold() and needle not in str(title or "").casefold():
            continue
        rows.append(
            MatrixRow(
                path=path,
                kind=entry.kind,
                title=title,
                lang=entry.lang or None,
                source=entry.source or None,
                rule=str(r),
                fields=sorted(r.fields()),
                groups=sorted(r.groups()),
                public=r.is_public,
                members=counts.by_rule.get(str(r), 0),
            )
        )
    all_groups = sorted({g for s in summaries for g in s.groups} | set(manifest.groups))
    kinds = sorted({e.kind for _, e, _ in content})
    return Matrix(
        build_id=manifest.build_id, items=rows[offset : offset + limit], total=len(rows),
        rules=summaries, groups=all_groups, kinds=kinds, members=counts.members,
        member_table=counts.member_table, counted_at=counts.counted_at,
        manifest_at=manifest.modified_at,
    )  # fmt: skip


# ------------------------------------------------------------------ the last build


@dataclass(frozen=True)
class BuildWarning:
    message: str
    source: str | None = None
    line: int | None = None
    code: str | None = None
    level: str = "warning"


@dataclass(frozen=True)
class LastBuild:
    built: bool
    built_at: str | None = None
    build_id: str | None = None
    pages: int = 0
    files: int = 0
    warnings: list[BuildWarning] = field(default_factory=list)
    warnings_total: int = 0
    manifest: bool = False


_PLACED = re.compile(
    r"^(?P<source>[^\n,:]+), line (?P<line>\d{1,9})(?:, column \d{1,9})?: (?P<message>.+)$", re.S
)


def _warning(item: Any) -> BuildWarning | None:
    if isinstance(item, str):
        if not item.strip():
            return None
        placed = _PLACED.match(item)  # "content/a.md, line 3, column 9: …" (RuleWarning's)
        if placed:
            return BuildWarning(
                message=placed["message"], source=placed["source"], line=int(placed["line"])
            )
        return BuildWarning(message=item)
    if not isinstance(item, Mapping):
        return None
    message = item.get("message") or item.get("text") or item.get("msg")
    if not isinstance(message, str) or not message:
        return None
    source = item.get("source") or item.get("file") or item.get("path")
    line = item.get("line")
    code = item.get("code")
    level = item.get("level")
    return BuildWarning(
        message=message,
        source=str(source) if source else None,
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        code=str(code) if code else None,
        level=str(level).lower() if isinstance(level, str) and level else "warning",
    )


def last_build(meta_dir: Path) -> LastBuild:
    """The last build's record (``meta/build.json``): when, how many pages and files, and the
    warnings it lists (each a text or an object with ``message`` and maybe ``source``,
    ``line``, ``code``, ``level``), the first :data:`WARNINGS_SHOWN` of them."""
    path = meta_dir / BUILD_NAME
    try:
        data = json.loads(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        return LastBuild(built=False, manifest=(meta_dir / MANIFEST_NAME).exists())
    except (OSError, ValueError) as exc:
        raise Conflict(
            detail=f"{path.name} cannot be read ({exc}): build the site again",
            code="build_record_invalid",
        ) from exc
    if not isinstance(data, dict):
        raise Conflict(detail=f"{path.name} is not a build record", code="build_record_invalid")
    raw = data.get("warnings") or []
    items = raw if isinstance(raw, list) else []
    found = [w for w in (_warning(i) for i in items) if w is not None]
    pages = data.get("pages")
    files = data.get("files")
    manifest_id = None
    try:
        manifest = load_manifest(meta_dir)
        manifest_id = manifest.build_id if manifest else None
    except Conflict:
        manifest = None
    built_at = data.get("built_at")
    return LastBuild(
        built=True,
        built_at=str(built_at) if built_at else None,
        build_id=str(data.get("build_id") or manifest_id or "") or None,
        pages=len(pages) if isinstance(pages, list) else pages if isinstance(pages, int) else 0,
        files=len(files) if isinstance(files, list) else 0,
        warnings=found[:WARNINGS_SHOWN],
        warnings_total=len(found),
        manifest=manifest is not None,
    )  # fmt: skip


# ------------------------------------------------------------------ view as: who


@dataclass(frozen=True)
class Subject:
    """Whom a preview is for: a member (a record of the member table), a group (a synthetic
    member with that one group and no fields) or an anonymous visitor."""

    kind: str  # member | group | anonymous
    member: Member | None
    label: str
    record_id: int | None = None
    group: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)  # the fields read, as JSON

    def spec(self) -> dict[str, Any]:
        """What a preview link carries to name this subject again."""
        if self.kind == "member":
            return {"member": self.record_id}
        if self.kind == "group":
            return {"group": self.group}
        return {"anonymous": True}


ANONYMOUS = Subject(kind="anonymous", member=None, label="anonymous")


def member_subject(
    session: Session, actor: Principal, record_id: int, fields: Iterable[str]
) -> Subject:
    """A record of the member table as the gate would know it: its groups and the ``fields``
    (those the manifest's rules read). 404 for a record the actor cannot see."""
    design = _member_table(session)
    if design is None:
        raise Conflict(detail="No table is the member table", code="no_member_table")
    row = records._fetch(session, design, actor, record_id)
    data = row._mapping
    columns = _field_columns(design, fields)
    specs = {spec.key: spec for _, spec in design.active()}
    values = {}
    shown: dict[str, Any] = {}
    for key in columns:
        name = column_name(key) if key in specs else "status"
        values[key] = data[name]
        shown[key] = to_json(specs[key], data[name]) if key in specs else data[name]
    keys = groups.groups_of(session, design.table.id or 0, [record_id]).get(record_id, [])
    member = Member(
        id=record_id,
        active=record_id not in inactive_members(session, design, [record_id]),
        groups=frozenset(keys),
        fields=values,
    )
    return Subject(
        kind="member", member=member, label=groups.record_label(design, row),
        record_id=record_id, values=shown,
    )  # fmt: skip


def group_subject(session: Session, key: str, manifest: Manifest | None) -> Subject:
    """A synthetic member in group ``key`` alone, with no fields: a group defined in the admin,
    or one the manifest's rules name."""
    found = session.exec(select(MemberGroup).where(MemberGroup.key == key)).first()
    named = manifest is not None and key in manifest.groups
    if found is None and not named:
        raise NotFound(detail=f"There is no group {key!r}", code="group_not_found")
    label = key
    if found is not None:
        label = str(found.label.get("ja") or found.label.get("en") or key)
    return Subject(
        kind="group", member=Member(id=None, groups=frozenset({key})), label=label, group=key
    )


def subject_of(
    session: Session,
    actor: Principal,
    manifest: Manifest | None,
    *,
    member: int | None = None,
    group: str | None = None,
    anonymous: bool = False,
) -> Subject:
    """Exactly one of member, group, anonymous."""
    chosen = [x for x in (member is not None, group is not None, anonymous) if x]
    if len(chosen) != 1:
        raise _bad("subject", "give one of member, group or anonymous", "subject_required")
    if member is not None:
        return member_subject(session, actor, member, manifest.fields if manifest else ())
    if group is not None:
        return group_subject(session, group, manifest)
    return ANONYMOUS


def search_subjects(
    session: Session, actor: Principal, q: str, *, record_id: int | None = None, limit: int = 10
) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """Members matching ``q`` (every word in their text fields: name, e-mail…), or the one
    member ``record_id`` (404 when the actor cannot see it), and groups whose key or label
    contains ``q``: (member table, members, groups)."""
    design = _member_table(session)
    members: list[dict[str, Any]] = []
    if design is not None and (q.strip() or record_id is not None):
        email = next((s.key for _, s in design.active() if s.type == FieldType.email), None)
        table = design.sa_table()
        if record_id is not None:
            rows = [records._fetch(session, design, actor, record_id)]
        else:
            found = records.list_records(session, actor, design.key, q=q, limit=limit)
            ids = [int(i["id"]) for i in found.items]
            by_id = {
                int(r._mapping["id"]): r
                for r in session.connection().execute(sa.select(table).where(table.c.id.in_(ids)))
            }
            rows = [by_id[i] for i in ids if i in by_id]
        for row in rows:
            data = row._mapping
            members.append(
                {
                    "id": int(data["id"]),
                    "label": groups.record_label(design, row),
                    "email": str(data[column_name(email)] or "") or None if email else None,
                }
            )
    needle = q.casefold().strip()
    group_rows = session.exec(select(MemberGroup).order_by(col(MemberGroup.key))).all()
    found_groups = [
        {"key": g.key, "label": dict(g.label)}
        for g in group_rows
        if not needle
        or needle in g.key
        or any(needle in str(v).casefold() for v in g.label.values())
    ]
    return (design.key if design else None), members, found_groups[:50]


# ------------------------------------------------------------------ view as: what


def normalize_path(raw: str) -> str:
    """A site path as the gate looks it up (``api.access.paths.normalise``), from what staff
    type: a path or an absolute URL, with or without its query and fragment. 422
    ``invalid_path`` for a path the gate refuses."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PATH:
        raise _bad("path", "give a path of the site, e.g. /about/", "invalid_path")
    text = raw.strip()
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        text = urlsplit(text).path or "/"
    text = text.split("#", 1)[0].split("?", 1)[0]
    if not text.startswith("/"):
        text = "/" + text
    try:
        return normalise(text)
    except PathError as exc:
        raise _bad("path", f"the gate refuses this path ({exc})", "invalid_path") from exc


@dataclass(frozen=True)
class Term:
    term: str
    holds: bool


@dataclass(frozen=True)
class Preview:
    """What the gate would do with ``path`` for the subject, and which file it would send."""

    path: str
    decision: str  # allow | login | forbidden | not_found
    status: int  # what the gate answers: 200, 303 (to the login page), 403, 404
    reason: str  # public | allowed | anonymous | inactive | denied | unknown | folder_*
    rule: dict[str, Any] | None
    rule_from: str | None  # entry | folder | None
    entry: Entry | None
    terms: list[Term]
    shown_path: str | None  # the URL of the page shown (the page, /login/, /forbidden/…)
    file: str | None  # relative to site/public
    location: str | None  # the redirect of a login decision


def _terms(rule: Rule, member: Member | None) -> list[Term]:
    if rule.is_public or member is None:
        return []
    leaves = (Members, Group, Compare, In, Contains)
    out: list[Term] = []
    seen: set[str] = set()
    for node in rule.root.walk():
        if isinstance(node, leaves) and str(node) not in seen:
            seen.add(str(node))
            out.append(Term(str(node), bool(member.active and node._eval(member))))
    return out


def _special(manifest: Manifest, name: str, default: str, for_path: str) -> tuple[str, str | None]:
    """The theme page ``name`` in the language of ``for_path`` (``/en/…`` → ``/en/login/``
    when the build made it, a page of kind ``special``), else the default one: as the gate
    picks it."""
    base = manifest.pages.get(name, default)
    candidates = [base]
    if for_path[3:4] == "/" and len(for_path) > 3:
        candidates.insert(0, for_path[:3] + base)
    for path in candidates:
        entry = manifest.entries.get(path)
        if entry is not None and (path == base or entry.kind == "special"):
            return path, entry.file
    return base, None


def preview(manifest: Manifest, path: str, subject: Subject) -> Preview:
    """The gate's decision for ``path`` (normalised) and the subject, with the reason, the
    rules' terms as they hold for the subject, and the file it would send."""
    found = manifest.site.resolve(normalize_path(path))
    if found.entry is None and found.redirect is not None:  # the folder's page, as a browser
        found = manifest.site.resolve(found.redirect)  # follows the gate's redirect to it
    entry = found.entry
    path = entry.path if entry is not None else found.path  # /x/index.html is /x/'s page
    member = subject.member
    rules = list(found.rules)
    rule = next((r for r in rules if not r.is_public), rules[0] if rules else None)
    rule_from = None if rule is None else "entry" if entry is not None else "folder"
    decision = found.decide(member).value
    if entry is None and decision == "allow":
        decision = "not_found"  # past the guards (if any), there is no such file
    if rule is None:
        reason = "unknown"
    elif entry is None and decision == "not_found":
        reason = "folder_unknown"
    elif rule.is_public:
        reason = "public"
    elif member is None:
        reason = "anonymous"
    elif not member.active:
        reason = "inactive"
    elif decision == "forbidden":
        reason = "denied"
    else:
        reason = "allowed"
    location = None
    file: str | None
    if decision == "allow":
        assert entry is not None
        shown_path, file = path, entry.file
        status = 200
    elif decision == "login":
        shown_path, file = _special(manifest, "login", "/login/", path)
        location = f"{shown_path}?next={quote(path, safe='/')}"
        status = 303
    elif decision == "forbidden":
        shown_path, file = _special(manifest, "forbidden", "/forbidden/", path)
        status = 403
    else:
        shown_path, file = _special(manifest, "not_found", "/404.html", path)
        status = 404
    return Preview(
        path=path, decision=decision, status=status, reason=reason,
        rule=rule.as_dict() if rule is not None else None, rule_from=rule_from, entry=entry,
        terms=[t for r in rules for t in _terms(r, member)], shown_path=shown_path,
        file=file, location=location,
    )  # fmt: skip


@dataclass(frozen=True)
class Served:
    body: bytes
    media_type: str


_URL_ATTRIBUTE = re.compile(
    rb"""(<(?:a|link|img|script|source|video|audio|iframe|embed|track|form|area)\b[^>]*?"""
    rb"""\s(?:href|src|action|poster)\s*=\s*)(["']?)/(?![/\\])""",
    re.IGNORECASE,
)


def served_file(public_dir: Path, result: Preview) -> Served | None:
    """The bytes the gate would send for ``result`` (None when the file is missing), as they
    are on disk but for the login page's ``next`` field, filled as the gate fills it."""
    if result.file is None:
        return None
    root = public_dir.resolve()
    target = (root / result.file).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    body = target.read_bytes()
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if media_type == "text/html":
        media_type = "text/html; charset=utf-8"
        if result.decision == "login":
            body = fill_next(body, result.path) or body
    return Served(body, media_type)


def link_into(body: bytes, prefix: str) -> bytes:
    """An HTML page's root-relative links (``href="/…"``, ``src="/…"``…) pointed under
    ``prefix``, so the pages, styles and images it loads are the ones the subject would get;
    relative links resolve there already."""
    encoded = prefix.rstrip("/").encode()
    return _URL_ATTRIBUTE.sub(lambda m: m.group(1) + m.group(2) + encoded + b"/", body)


def values_shown(subject: Subject, rule: Mapping[str, Any] | None) -> dict[str, Any]:
    """The subject's values of the fields the rule reads (JSON)."""
    if rule is None:
        return {}
    return {k: subject.values.get(k) for k in rule.get("fields", ()) if subject.kind == "member"}


def json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | list) or v is None else str(v)
            for k, v in values.items()}  # fmt: skip


# ------------------------------------------------------------------ view as: the frame's link

PREVIEW_AUDIENCE = "kizuna:access-preview"
PREVIEW_LIFETIME = timedelta(minutes=15)


def preview_token(keyring: Keyring, actor: Principal, subject: Subject) -> str | None:
    """A short-lived signed link key for the preview frame: the staff member's login session
    and the subject. The frame's own requests (its styles, images, links) carry no staff cookie
    (a sandboxed frame has an opaque origin and the cookie is SameSite=Strict), so the key is
    in the URL; it names no member cookie and dies with the staff session. None for callers
    without a login session (API tokens): they read the decision, not the frame."""
    if actor.kind != "staff" or actor.session_id is None or actor.staff_id is None:
        return None
    return keyring.encode_token(
        audience=PREVIEW_AUDIENCE,
        subject=str(actor.staff_id),
        token_id=actor.session_id,
        lifetime=PREVIEW_LIFETIME,
        claims={"as": subject.spec()},
    )


def preview_actor(
    session: Session, keyring: Keyring, token: str, *, idle: timedelta
) -> tuple[Principal, dict[str, Any]] | None:
    """The staff principal and subject of a preview link key, or None when the key is forged,
    expired, or its staff session has ended."""
    from api.staff import services as staff_services

    claims = keyring.decode_token(token, audience=PREVIEW_AUDIENCE)
    if claims is None or not isinstance(claims.get("as"), dict):
        return None
    found = staff_services.resolve_session(session, str(claims["jti"]), idle=idle)
    if found is None or str(found[0].id) != str(claims["sub"]):
        return None
    staff, login = found
    actor = staff_services.principal_for_staff(staff, session_id=login.id)
    spec = claims["as"]
    subject: dict[str, Any] = {}
    if isinstance(spec.get("member"), int) and not isinstance(spec.get("member"), bool):
        subject["member"] = spec["member"]
    elif isinstance(spec.get("group"), str):
        subject["group"] = spec["group"]
    elif spec.get("anonymous") is True:
        subject["anonymous"] = True
    else:
        return None
    return actor, subject
