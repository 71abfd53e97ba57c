"""Likely duplicates: records that share a normalised e-mail, a phone number, or a name at the
same company — found by **blocking on stored match keys**, never by comparing all pairs.

Each record has up to a few *match keys* in ``ct_<key>$dupkeys (kind, key, id)``:

* ``1`` e-mail — the stored value of every e-mail field (already NFKC'd and lower-cased by
  ``api.fields``, so ``ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ`` and ``taro@example.com`` are one key);
* ``2`` phone — ``api.fields.types.phone_digits`` of every phone field (03-1234-5678 =
  0312345678 = (03)1234-5678);
* ``3`` name + company — ``search_key`` of the name field (NFKC, case-folded, katakana →
  hiragana, no whitespace, 髙→高 / 﨑→崎…, for matching only: the record keeps what was typed)
  joined with the company: the referenced record's id for a reference field (the same company
  record; stable when the company is renamed), or the ``search_key`` of a text field. A record
  without a company has no name key: the same name alone is not a duplicate.

The keys are written in the same transaction as the record, by the same calls that keep the
search data in step (``api.customers.search`` calls :func:`index_rows` / :func:`forget` /
:func:`rebuild`), so every write path — API, admin, imports, rebuilds — keeps them too.
A group is the records sharing one key: ``GROUP BY kind, key HAVING count(*) > 1`` walked in
key order over the primary key's index, so a page of groups costs the keys it passes over,
not the whole table. The fields that count: by type (every e-mail and phone field); the name
and company fields are the table's settings (``name_field``, ``company_field``, checked by
:func:`check_setting`), else chosen by :func:`rule` (the table's ``name``-like text field and
its first reference, or a ``company`` text field).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from api import copyin
from api.customers.definitions import FieldSpec
from api.customers.types import FieldType, column_name, table_name
from api.errors import FieldError, ValidationFailed
from api.fields.chars import search_key
from api.fields.types import phone_digits

EMAIL, PHONE, NAME = "1", "2", "3"
KINDS = {EMAIL: "email", PHONE: "phone", NAME: "name_company"}
# How much one shared key says on its own; several combine as 1 - Π(1 - w).
WEIGHTS = {EMAIL: 0.9, PHONE: 0.7, NAME: 0.8}
BATCH = 2_000
MAX_MEMBERS = 20  # records shown per group (the count says how many share the key)
MAX_KEY = 500  # characters of a key kept (a name of 1,000 characters is not a person's)
_SEP = "\x1f"

NAME_KEYS = ("name", "full_name", "fullname", "customer_name", "contact_name")
COMPANY_KEYS = ("company", "company_name", "organization", "organisation", "employer")


def keys_table_name(key: str) -> str:
    return f"{table_name(key)}$dupkeys"


@lru_cache(maxsize=1024)
def keys_table(key: str) -> sa.Table:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Table(
        keys_table_name(key),
        sa.MetaData(),
        sa.Column("kind", sa.String(1), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("id", big, primary_key=True),
        sa.Index(f"ix_{table_name(key)}$dupkeys_id", "id"),
    )


def create_objects(conn: Connection, key: str) -> None:
    keys_table(key).create(conn, checkfirst=True)


# ------------------------------------------------------------------ the rule


@dataclass(frozen=True)
class Rule:
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    name: str | None
    company: str | None  # a reference or a text field

    def fields(self) -> set[str]:
        return {*self.emails, *self.phones, *(k for k in (self.name, self.company) if k)}

    def as_dict(self, design: Any) -> dict[str, Any]:
        return {
            "email_fields": list(self.emails),
            "phone_fields": list(self.phones),
            "name_field": self.name,
            "company_field": self.company,
            "company_is_reference": bool(
                self.company and design.specs[self.company].type == FieldType.reference
            ),
            # chosen in the table's settings (else automatically)
            "name_field_set": bool(self.name and self.name == design.spec.name_field),
            "company_field_set": bool(self.company and self.company == design.spec.company_field),
        }


def _labels(spec: FieldSpec) -> str:
    return " ".join(str(v) for v in (spec.label or {}).values()).casefold()


# The types a person's name may be (text typed by people, one line) and a company field's.
NAME_TYPES = frozenset({FieldType.text, FieldType.furigana})
COMPANY_TYPES = frozenset({FieldType.text, FieldType.reference})


def fits(design: Any, role: str, key: str | None) -> bool:
    """Whether the field ``key`` may be the table's ``name`` or ``company`` field: active, of
    a name's type (text, furigana) or a company's (a reference to another table, or text)."""
    if not key or key not in design.specs:
        return False
    if any(row.key == key and row.retired_at is not None for row in design.fields):
        return False
    spec = design.specs[key]
    if role == "name":
        return spec.type in NAME_TYPES
    if spec.type == FieldType.reference:
        return spec.references != design.key
    return spec.type in COMPANY_TYPES


def check_setting(design: Any, name_field: str | None, company_field: str | None) -> None:
    """The table setting naming the name and company fields, checked against the design:
    422 at ``name_field`` / ``company_field`` saying what fits."""
    errors: list[FieldError] = []
    if name_field is not None and not fits(design, "name", name_field):
        errors.append(
            FieldError(
                "name_field",
                "must be an active text or furigana field of this table",
                "invalid_name_field",
                params={"field": name_field},
            )
        )
    if company_field is not None:
        if not fits(design, "company", company_field):
            errors.append(
                FieldError(
                    "company_field",
                    "must be an active reference to another table, or an active text field",
                    "invalid_company_field",
                    params={"field": company_field},
                )
            )
        elif company_field == name_field:
            errors.append(
                FieldError("company_field", "must be another field than the name", "same_as_name")
            )
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )


def rule(design: Any) -> Rule:
    """Which fields count: every active e-mail and phone field; the name and company fields
    the table's settings name (``name_field``, ``company_field``), each while it still fits
    (:func:`fits`), else chosen automatically: the name is the text field keyed ``name`` (or
    ``full_name``…, or labelled 氏名/名前/Name), else none; the company is a reference to a
    table whose key says company (会社), else the first reference, else a text field keyed
    ``company`` (or labelled 会社/勤務先/Company)."""
    active = [spec for _, spec in design.active()]
    emails = tuple(s.key for s in active if s.type == FieldType.email)
    phones = tuple(s.key for s in active if s.type == FieldType.phone)
    setting = design.spec
    name = setting.name_field if fits(design, "name", setting.name_field) else None
    company = setting.company_field if fits(design, "company", setting.company_field) else None
    name = name or _guess_name(active)
    company = company or _guess_company(design, active, name)
    if company == name:
        company = None
    return Rule(emails, phones, name, company if name else None)


def _guess_name(active: list[FieldSpec]) -> str | None:
    texts = [s for s in active if s.type == FieldType.text]
    name = next((s.key for k in NAME_KEYS for s in texts if s.key == k), None)
    if name is None:
        name = next(
            (
                s.key
                for s in texts
                if any(w in _labels(s) for w in ("氏名", "名前", "お名前"))
                or _labels(s).split() == ["name"]
            ),
            None,
        )
    return name


def _guess_company(design: Any, active: list[FieldSpec], name: str | None) -> str | None:
    texts = [s for s in active if s.type == FieldType.text]
    refs = [s for s in active if s.type == FieldType.reference and s.references != design.key]
    company = next((s.key for s in refs if "compan" in (s.references or "")), None)
    company = company or next((s.key for s in refs), None)
    if company is None:
        company = next((s.key for k in COMPANY_KEYS for s in texts if s.key == k), None)
    if company is None:
        company = next(
            (
                s.key
                for s in texts
                if s.key != name and any(w in _labels(s) for w in ("会社", "勤務先", "company"))
            ),
            None,
        )
    return company


def record_keys(design: Any, the_rule: Rule, row: Mapping[Any, Any]) -> set[tuple[str, str]]:
    """The match keys of one record (a mapping by column name)."""
    out: set[tuple[str, str]] = set()
    for key in the_rule.emails:
        value = row.get(column_name(key))
        if value:
            out.add((EMAIL, str(value).casefold()[:MAX_KEY]))
    for key in the_rule.phones:
        value = row.get(column_name(key))
        if value:
            digits = phone_digits(str(value))
            if len(digits.lstrip("+")) >= 6:
                out.add((PHONE, digits))
    if the_rule.name and the_rule.company:
        name = row.get(column_name(the_rule.name))
        company = row.get(column_name(the_rule.company))
        if name and company is not None and company != "":
            folded = search_key(str(name))[:MAX_KEY]
            if design.specs[the_rule.company].type == FieldType.reference:
                place = f"#{int(company)}"
            else:
                place = search_key(str(company))[:MAX_KEY]
            if folded and place:
                out.add((NAME, f"{folded}{_SEP}{place}"))
    return out


def feeds_keys(design: Any, changed_columns: Iterable[str]) -> bool:
    names = {column_name(k) for k in rule(design).fields()}
    return any(c in names for c in changed_columns)


# ------------------------------------------------------------------ writing


def _insert(conn: Connection, design: Any, entries: list[tuple[str, str, int]]) -> None:
    """Add keys: COPY on PostgreSQL (the transaction's own connection), else executemany."""
    if not entries:
        return
    table = keys_table(design.key)
    if conn.dialect.name == "postgresql":
        lines = (f"{copyin.text(k)}\t{copyin.text(v)}\t{i}\n" for k, v, i in entries)
        copyin.copy_lines(conn, table.name, ("kind", "key", "id"), lines)
    else:
        copyin.insert_many(conn, table, [{"kind": k, "key": v, "id": i} for k, v, i in entries])


def forget(conn: Connection, design: Any, ids: Sequence[int]) -> None:
    table = keys_table(design.key)
    for start in range(0, len(ids), BATCH):
        conn.execute(sa.delete(table).where(table.c.id.in_(list(ids[start : start + BATCH]))))


def index_rows(
    conn: Connection, design: Any, rows: Sequence[Mapping[Any, Any]], *, fresh: bool = False
) -> int:
    """Replace the match keys of these records (mappings by column name with ``id``);
    ``fresh``: records just made, with no keys to replace."""
    the_rule = rule(design)
    if not fresh:
        forget(conn, design, [int(r["id"]) for r in rows])
    entries = [
        (kind, key, int(r["id"])) for r in rows for kind, key in record_keys(design, the_rule, r)
    ]
    _insert(conn, design, entries)
    return len(entries)


def rebuild(
    conn: Connection, design: Any, *, start: int | None = None, end: int | None = None
) -> int:
    """Recompute the match keys of the whole table (or of the ids in ``[start, end)``) from the
    records as they are, in id order by batches."""
    create_objects(conn, design.key)
    table = keys_table(design.key)
    data = design.sa_table()
    where = []
    if start is not None:
        where += [table.c.id >= start, table.c.id < end]
    conn.execute(sa.delete(table).where(*where))
    the_rule = rule(design)
    columns = [data.c.id, *(data.c[column_name(k)] for k in sorted(the_rule.fields()))]
    last = (start - 1) if start is not None else 0
    count = 0
    while True:
        query = sa.select(*columns).where(data.c.id > last).order_by(data.c.id).limit(BATCH * 5)
        if end is not None:
            query = query.where(data.c.id < end)
        rows = conn.execute(query).mappings().all()
        if not rows:
            return count
        entries = [
            (kind, key, int(r["id"]))
            for r in rows
            for kind, key in record_keys(design, the_rule, r)
        ]
        _insert(conn, design, entries)
        count += len(entries)
        last = int(rows[-1]["id"])


def build_missing(session: Session) -> list[str]:
    """Build the match keys of every data table that has none (made before duplicates)."""
    from api.customers.services import list_designs

    conn = session.connection()
    existing = set(sa.inspect(conn).get_table_names())
    built = []
    for design in list_designs(session, retired=True):
        if keys_table_name(design.key) not in existing:
            rebuild(conn, design)
            built.append(design.key)
    return built


# ------------------------------------------------------------------ finding


def score(kinds: Iterable[str]) -> int:
    """0–100: 1 - Π(1 - w) over the kinds of key the records share."""
    miss = 1.0
    for kind in set(kinds):
        miss *= 1 - WEIGHTS[kind]
    return round((1 - miss) * 100)


@dataclass(frozen=True)
class Group:
    kind: str
    key: str
    count: int
    reasons: list[str]
    score: int
    records: list[dict[str, Any]]


def _encode(kind: str, key: str) -> str:
    raw = json.dumps([kind, key], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, key = json.loads(raw)
        if kind not in KINDS or not isinstance(key, str):
            raise ValueError(kind)
    except (ValueError, TypeError):
        raise ValidationFailed(
            errors=[FieldError("cursor", "is not a cursor this list gave out", "invalid_cursor")]
        ) from None
    return kind, key


def _visible(design: Any, actor: Any, keys: sa.Table) -> tuple[Any, list[Any]]:
    """The key table, joined to the records when the actor sees only their own."""
    from api.customers.records import _owner_filter

    data = design.sa_table()
    condition = _owner_filter(design, actor, data)
    if isinstance(condition, sa.sql.elements.True_):
        return keys, []
    return keys.join(data, data.c.id == keys.c.id), [condition]


def _shared(
    members: Sequence[int], entries: Iterable[tuple[int, str, str]]
) -> set[tuple[str, str]]:
    """The keys held by every member."""
    holders: dict[tuple[str, str], set[int]] = {}
    for record_id, kind, key in entries:
        holders.setdefault((kind, key), set()).add(record_id)
    need = set(members)
    return {pair for pair, ids in holders.items() if need <= ids}


def find_groups(
    session: Session,
    actor: Any,
    table_key: str,
    *,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> tuple[list[Group], str | None]:
    """A page of candidate groups: e-mail groups first, then phone, then name + company, each
    in key order. A group whose records also all share a key of an earlier kind is left out
    (the earlier group shows them, with both reasons)."""
    from api.customers.records import _out
    from api.customers.services import load_design

    design = load_design(session, table_key)
    conn = session.connection()
    create_objects(conn, design.key)
    keys = keys_table(design.key)
    source, conditions = _visible(design, actor, keys)
    if kind is not None:
        conditions.append(keys.c.kind == kind)
    after = _decode(cursor) if cursor else None
    groups: list[Group] = []
    exhausted = False
    while len(groups) < limit:
        query = (
            sa.select(keys.c.kind, keys.c.key, sa.func.count().label("n"))
            .select_from(source)
            .where(*conditions)
            .group_by(keys.c.kind, keys.c.key)
            .having(sa.func.count() > 1)
            .order_by(keys.c.kind, keys.c.key)
            .limit(limit * 2)
        )
        if after is not None:
            query = query.where(sa.tuple_(keys.c.kind, keys.c.key) > sa.tuple_(*after))
        found = conn.execute(query).all()
        made = _groups(conn, source, conditions, keys, [(r.kind, r.key, r.n) for r in found])
        for row, group in zip(found, made, strict=True):
            after = (row.kind, row.key)
            if group is not None:
                groups.append(group)
                if len(groups) >= limit:
                    break
        if len(found) < limit * 2 and (not found or after == (found[-1].kind, found[-1].key)):
            exhausted = True
            break
    data = design.sa_table()
    ids = sorted({r["id"] for g in groups for r in g.records})
    rows = {
        int(r._mapping["id"]): _out(design, r)
        for r in conn.execute(sa.select(data).where(data.c.id.in_(ids))).all()
    } if ids else {}  # fmt: skip
    out = [
        Group(g.kind, g.key, g.count, g.reasons, g.score, [rows[r["id"]] for r in g.records])
        for g in groups
    ]
    next_cursor = _encode(*after) if not exhausted and after is not None else None
    return out, next_cursor


def _groups(
    conn: Connection,
    source: Any,
    conditions: list[Any],
    keys: sa.Table,
    blocks: list[tuple[str, str, int]],
) -> list[Group | None]:
    """The groups of a page of blocks (kind, key, count), in two queries: the first members
    of every block, then every key those members hold (for the reasons)."""
    if not blocks:
        return []
    rank = (
        sa.func.row_number()
        .over(partition_by=(keys.c.kind, keys.c.key), order_by=keys.c.id)
        .label("rank")
    )
    wanted = sa.or_(*(sa.and_(keys.c.kind == k, keys.c.key == v) for k, v, _ in blocks))
    ranked = (
        sa.select(keys.c.kind, keys.c.key, keys.c.id, rank)
        .select_from(source)
        .where(*conditions, wanted)
        .subquery()
    )
    members: dict[tuple[str, str], list[int]] = {}
    for row in conn.execute(
        sa.select(ranked.c.kind, ranked.c.key, ranked.c.id)
        .where(ranked.c.rank <= MAX_MEMBERS)
        .order_by(ranked.c.kind, ranked.c.key, ranked.c.id)
    ):
        members.setdefault((row.kind, row.key), []).append(int(row.id))
    ids = sorted({i for found in members.values() for i in found})
    held: dict[int, list[tuple[int, str, str]]] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for e in conn.execute(
            sa.select(keys.c.id, keys.c.kind, keys.c.key).where(keys.c.id.in_(chunk))
        ):
            held.setdefault(int(e.id), []).append((int(e.id), e.kind, e.key))
    out: list[Group | None] = []
    for kind, key, count in blocks:
        ids_ = members.get((kind, key), [])
        if len(ids_) < 2:
            out.append(None)
            continue
        shared = _shared(ids_, (entry for i in ids_ for entry in held.get(i, [])))
        if any(other < (kind, key) for other in shared):
            out.append(None)  # shown in the group of the earlier key (with this reason too)
            continue
        reasons = sorted({k for k, _ in shared} | {kind})
        out.append(
            Group(
                kind,
                key,
                count,
                [KINDS[k] for k in reasons],
                score(reasons),
                [{"id": m} for m in ids_],
            )
        )
    return out


def record_duplicates(
    session: Session, actor: Any, table_key: str, record_id: int, *, limit: int = 50
) -> list[dict[str, Any]]:
    """Records sharing a match key with this one, the likeliest first: each with its reasons
    and score."""
    from api.customers.records import _fetch, _out
    from api.customers.services import load_design

    design = load_design(session, table_key)
    row = _fetch(session, design, actor, record_id)
    conn = session.connection()
    create_objects(conn, design.key)
    own = record_keys(design, rule(design), row._mapping)
    if not own:
        return []
    keys = keys_table(design.key)
    source, conditions = _visible(design, actor, keys)
    matches = conn.execute(
        sa.select(keys.c.id, keys.c.kind)
        .select_from(source)
        .where(
            *conditions,
            # One equality per key (each an index probe; a row-value IN is not on SQLite).
            sa.or_(*(sa.and_(keys.c.kind == k, keys.c.key == v) for k, v in sorted(own))),
            keys.c.id != record_id,
        )
        .limit(limit * 3)
    ).all()
    kinds: dict[int, set[str]] = {}
    for match in matches:
        kinds.setdefault(int(match.id), set()).add(match.kind)
    ranked = sorted(kinds.items(), key=lambda item: (-score(item[1]), item[0]))[:limit]
    data = design.sa_table()
    rows = {
        int(r._mapping["id"]): _out(design, r)
        for r in conn.execute(sa.select(data).where(data.c.id.in_([i for i, _ in ranked]))).all()
    }
    return [
        {
            "record": rows[i],
            "reasons": [KINDS[k] for k in sorted(found)],
            "score": score(found),
        }
        for i, found in ranked
        if i in rows
    ]
