"""The import's work on rows: cells → values (``api/fields`` through ``values.normalise``),
keys, duplicates in the file, matching against the table, and the bulk write of a chunk.

One path for the dry run and the run: :func:`classify` decides every row of a chunk (new,
updated, unchanged, invalid, duplicate) with the same rules; :func:`write` then writes a
chunk's decisions in a few statements (``executemany`` of INSERT … RETURNING and of UPDATE …
WHERE id, the history rows, the search data), in the caller's transaction.

Validation runs per row and column in Python, with one cache per column: a value seen before
(a prefecture, a status, "TRUE") is not cleaned twice. It calls the same ``normalise`` as every
other write path, so it cannot disagree with them (a test feeds hostile values through both).
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api import copyin
from api.customers import duplicates, search
from api.customers.definitions import FieldSpec
from api.customers.models import RecordHistory
from api.customers.services import Design
from api.customers.types import FieldType, column_name, table_name
from api.customers.values import json_ready, normalise, to_json
from api.db import new_id, utcnow
from api.errors import FieldError, ValidationFailed
from api.fields.types import phone_digits
from api.groups import imports as group_column
from api.imports.models import CustomerImportError
from api.imports.rows import Plan, Row, reason
from api.permissions import Role
from api.principal import Principal
from api.security import revocation

WORK_MEM = "64MB"  # per chunk's transaction, PostgreSQL
CACHE_LIMIT = 4_000  # distinct values remembered per column (25 columns: ~20 MB at most)


class _Refused(tuple[str, dict[str, Any] | None]):
    """A cell's cached refusal: (code, params)."""


_MISS = object()


class Validator:
    """Cells → stored values of the mapped fields, with a cache per column."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._columns: list[tuple[int, str, FieldSpec, dict[str, Any]]] = [
            (index, spec.key, spec, {}) for index, spec in plan.columns
        ]

    @staticmethod
    def _clean(spec: FieldSpec, cell: str, cache: dict[str, Any]) -> Any:
        try:
            value = normalise(spec, cell)
        except ValidationFailed as exc:
            first = exc.errors[0]
            value = _Refused((first.code, first.params))
        if len(cache) < CACHE_LIMIT:
            cache[cell] = value
        return value

    def row(self, number: int, cells: list[str], problem: FieldError | None = None) -> Row:
        out = Row(number, cells)
        if problem is not None:
            out.reasons.append(reason(None, None, problem.code, problem.params))
            out.outcome = "invalid"
            return out
        values = out.values
        for index, key, spec, cache in self._columns:
            cell = cells[index]
            value = cache.get(cell, _MISS)
            if value is _MISS:
                value = self._clean(spec, cell, cache)
            if value.__class__ is _Refused:
                out.reasons.append(reason(index, spec, value[0], value[1]))
            else:
                values[key] = value
        if self.plan.key and not out.reasons:
            parts = []
            for spec in self.plan.key:
                value = values.get(spec.key)
                if value is None:
                    out.reasons.append(reason(self._index(spec), spec, "import_key_empty"))
                    break
                parts.append(key_part(spec, value))
            else:
                out.key = tuple(parts)
        if out.reasons:
            out.outcome = "invalid"
        return out

    def _index(self, spec: FieldSpec) -> int | None:
        return next((i for i, s in self.plan.columns if s.key == spec.key), None)


def key_part(spec: FieldSpec, value: Any) -> Any:
    """What a key field is compared by: its stored value (cleaned by ``api/fields``: e-mail
    addresses are NFKC'd, trimmed and lower-cased), phones by their digits."""
    if spec.type == FieldType.phone and isinstance(value, str):
        return phone_digits(value)
    return value


def _phone_candidates(design: Design, digits: list[str]) -> sa.Select[Any]:
    keys = duplicates.keys_table(design.key)
    return sa.select(keys.c.id).where(keys.c.kind == duplicates.PHONE, keys.c.key.in_(digits))


class Seen:
    """Keys of earlier rows of the file → the first row's number. Each key is kept as its
    64-bit hash in an open-addressing table of two arrays (12 bytes a slot, at most half full):
    a million keys take ~24 MB, where a dict took ~115 MB. Two keys with the same hash count
    as repeated (about one chance in 10^7 at a million keys)."""

    def __init__(self) -> None:
        self._size = 1 << 12
        self._hashes = array("q", bytes(8 * self._size))
        self._rows = array("i", bytes(4 * self._size))
        self._count = 0

    def _slot(self, digest: int) -> int:
        mask = self._size - 1
        hashes = self._hashes
        i = digest & mask
        while True:
            found = hashes[i]
            if found == 0 or found == digest:
                return i
            i = (i + 1) & mask

    def _grow(self) -> None:
        old_hashes, old_rows = self._hashes, self._rows
        self._size *= 2
        self._hashes = array("q", bytes(8 * self._size))
        self._rows = array("i", bytes(4 * self._size))
        for digest, number in zip(old_hashes, old_rows, strict=True):
            if not digest:
                continue
            i = self._slot(digest)
            self._hashes[i] = digest
            self._rows[i] = number

    def check(self, row: Row) -> None:
        if row.key is None or row.outcome == "invalid":
            return
        digest = hash(row.key) or 1  # 0 marks an empty slot
        i = self._slot(digest)
        if self._hashes[i] == digest:
            first = self._rows[i]
            row.reasons.append(reason(None, None, "import_duplicate_key", {"first": first}))
            row.outcome = "duplicate"
            return
        self._hashes[i] = digest
        self._rows[i] = row.number
        self._count += 1
        if self._count * 2 > self._size:
            self._grow()


def _is_sales(actor: Principal) -> bool:
    return actor.role == Role.sales


def classify(
    session: Session, plan: Plan, rows: Sequence[Row], actor: Principal, *, lock: bool = False
) -> None:
    """Decide each row of a chunk (rows already validated and checked for repeated keys):
    new, updated, unchanged or invalid, with the reason. ``lock`` (the run) locks the matched
    records until the chunk's transaction ends, so nobody changes them in between."""
    if plan.groups_column is not None:
        group_column.check(session, plan, rows)
    design = plan.design
    table = design.sa_table()
    conn = session.connection()
    keyed = [r for r in rows if r.outcome == "" and r.key is not None]
    found: dict[tuple[Any, ...], list[Any]] = {}
    if keyed and plan.key:
        keys = list({r.key for r in keyed if r.key is not None})
        phone = next((i for i, s in enumerate(plan.key) if s.type == FieldType.phone), None)
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            if phone is not None:
                # A phone is compared by its digits, which the data table has no index for;
                # the duplicates' match keys hold every phone field's digits, indexed: they
                # give the candidates, and the key is checked on each record below.
                condition = table.c.id.in_(_phone_candidates(design, [k[phone] for k in part]))
            elif len(plan.key) == 1:
                condition = table.c[column_name(plan.key[0].key)].in_([k[0] for k in part])
            else:
                exprs = [table.c[column_name(s.key)] for s in plan.key]
                condition = sa.tuple_(*exprs).in_(part)
            query = sa.select(table).where(condition)
            if lock and design.dialect == "postgresql":
                query = query.with_for_update()
            for record in conn.execute(query):
                data = record._mapping
                got = tuple(key_part(s, data[column_name(s.key)]) for s in plan.key)
                found.setdefault(got, []).append(record)
    mapped = {spec.key for _, spec in plan.columns}
    active = [spec for _, spec in design.active()]
    defaults: dict[str, Any] = {}
    for spec in active:
        if spec.key not in mapped and spec.default is not None and spec.type != FieldType.file:
            with contextlib.suppress(ValidationFailed):
                defaults[spec.key] = normalise(spec, spec.default)
    required = [s.key for s in active if s.required]
    for row in rows:
        if row.outcome:
            continue
        matches = found.get(row.key, []) if row.key is not None else []
        if len(matches) > 1:
            _refuse(row, plan, "import_key_ambiguous", {"count": len(matches)})
            continue
        if matches:
            if plan.mode == "insert":
                _refuse(row, plan, "import_exists", {"id": int(matches[0]._mapping["id"])})
                continue
            record = matches[0]
            data = record._mapping
            if _is_sales(actor) and data["owner_id"] != actor.staff_id:
                _refuse(row, plan, "import_not_owner", {"id": int(data["id"])})
                continue
            missing = [k for k in mapped if row.values.get(k) is None and design.specs[k].required]
            if missing:
                _required(row, plan, missing)
                continue
            changes: dict[str, Any] = {}
            for key, value in row.values.items():
                spec = design.specs[key]
                before = to_json(spec, data[column_name(key)])
                after = to_json(spec, value)
                if before != after:
                    changes[key] = {"before": before, "after": after}
            row.record = record
            row.changes = changes
            row.outcome = "updated" if changes else "unchanged"
            continue
        if plan.mode == "update":
            _refuse(row, plan, "import_not_found")
            continue
        row.values.update(defaults)
        missing = [k for k in required if row.values.get(k) is None]
        if missing:
            _required(row, plan, missing)
            continue
        row.outcome = "new"
    _check_references(session, plan, rows)


def _refuse(row: Row, plan: Plan, code: str, params: dict[str, Any] | None = None) -> None:
    spec = plan.key[0] if plan.key else None
    index = next((i for i, s in plan.columns if spec and s.key == spec.key), None)
    row.reasons.append(reason(index, spec, code, params))
    row.outcome = "invalid"


def _required(row: Row, plan: Plan, missing: list[str]) -> None:
    for key in missing:
        spec = plan.design.specs[key]
        index = next((i for i, s in plan.columns if s.key == key), None)
        row.reasons.append(reason(index, spec, "required"))
    row.outcome = "invalid"


def _check_references(session: Session, plan: Plan, rows: Sequence[Row]) -> None:
    refs = [(i, s) for i, s in plan.columns if s.type == FieldType.reference and s.references]
    for index, spec in refs:
        wanted = {
            r.values[spec.key]
            for r in rows
            if r.outcome in ("new", "updated") and r.values.get(spec.key) is not None
        }
        if not wanted:
            continue
        target = sa.table(table_name(spec.references or ""), sa.column("id"))
        existing: set[Any] = set()
        ids = list(wanted)
        for start in range(0, len(ids), 500):
            existing |= set(
                session.connection()
                .execute(sa.select(target.c.id).where(target.c.id.in_(ids[start : start + 500])))
                .scalars()
            )
        for r in rows:
            value = r.values.get(spec.key)
            if r.outcome in ("new", "updated") and value is not None and value not in existing:
                r.reasons.append(reason(index, spec, "not_found", {"table": spec.references}))
                r.outcome = "invalid"


# ------------------------------------------------------------------ write


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    duplicate_keys: int = 0

    def add(self, other: Written) -> None:
        for name in ("created", "updated", "unchanged", "invalid", "duplicate_keys"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
            "duplicate_keys": self.duplicate_keys,
        }


def count(rows: Iterable[Row]) -> Written:
    out = Written()
    for r in rows:
        if r.outcome == "new":
            out.created += 1
        elif r.outcome == "updated":
            out.updated += 1
        elif r.outcome == "unchanged":
            out.unchanged += 1
        elif r.outcome == "duplicate":
            out.duplicate_keys += 1
        else:
            out.invalid += 1
    return out


def write(
    session: Session, plan: Plan, rows: list[Row], actor: Principal, batch_id: int
) -> Written:
    """Write a classified chunk in the caller's transaction: its new records, its changes,
    their history (source ``import``, the batch id), search data and the refused rows. A
    unique constraint broken by some row (a unique field other than the key) refuses that row
    only: the chunk is retried row by row, each in a savepoint."""
    if plan.design.dialect == "postgresql":
        # The search index (GIN) takes new entries into its pending list and merges them in
        # batches sized by work_mem: the 4 MB default merges ~25% slower (bench/README.md).
        session.connection().exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
    try:
        with session.begin_nested():
            _write_bulk(session, plan, [r for r in rows if r.outcome in ("new", "updated")],
                        actor, batch_id)  # fmt: skip
    except IntegrityError:
        for row in rows:
            if row.outcome not in ("new", "updated"):
                continue
            try:
                with session.begin_nested():
                    _write_bulk(session, plan, [row], actor, batch_id)
            except IntegrityError as exc:
                spec = _violated(plan, exc)
                index = next((i for i, s in plan.columns if spec and s.key == spec.key), None)
                row.reasons.append(reason(index, spec, "taken"))
                row.outcome = "invalid"
    refused = [r for r in rows if r.outcome in ("invalid", "duplicate")]
    if refused:
        session.connection().execute(
            sa.insert(CustomerImportError.__table__),  # type: ignore[attr-defined]
            [
                {"batch_id": batch_id, "row": r.number, "cells": r.cells, "reasons": r.reasons}
                for r in refused
            ],
        )
    if plan.groups_column is not None:
        group_column.apply(session, plan, rows, actor, batch_id)
    return count(rows)


def _violated(plan: Plan, exc: IntegrityError) -> FieldSpec | None:
    text = str(exc.orig)
    for _, spec in plan.design.active():
        if column_name(spec.key) in text:
            return spec
    return None


def _write_bulk(
    session: Session, plan: Plan, rows: list[Row], actor: Principal, batch_id: int
) -> None:
    if not rows:
        return
    design = plan.design
    table = design.sa_table()
    conn = session.connection()
    now = utcnow()
    history: list[dict[str, Any]] = []
    base = {
        "table_id": design.table.id,
        "source": "import",
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "at": now,
        "batch_id": batch_id,
    }
    new = [r for r in rows if r.outcome == "new"]
    if new:
        owner = actor.staff_id if _is_sales(actor) else None
        statuses = [s.value for s in design.spec.statuses if not s.retired]
        status = statuses[0] if statuses else ""
        columns = [column_name(s.key) for _, s in design.active() if s.type != FieldType.file]
        blank = {"owner_id": owner, "status": status, "created_at": now, "updated_at": now,
                 "version": 1, **dict.fromkeys(columns)}  # fmt: skip
        names = {s.key: column_name(s.key) for s in design.specs.values()}
        inserts = []
        for r in new:
            item = {**blank, "public_id": new_id()}
            for key, value in r.values.items():
                item[names[key]] = value
            inserts.append(item)
        ids = _insert_records(conn, design, table, inserts)
        ready = {k: json_ready(s) for k, s in design.specs.items()}
        for r, item, record_id in zip(new, inserts, ids, strict=True):
            item["id"] = record_id
            r.record_id = record_id
            changes = {
                k: {"before": None, "after": v if ready[k] else to_json(design.specs[k], v)}
                for k, v in r.values.items()
                if v is not None
            }
            if owner is not None:
                changes["owner_id"] = {"before": None, "after": owner}
            if status:
                changes["status"] = {"before": None, "after": status}
            if r.groups:  # in the create row, so undo still sees it as the import's last
                changes["groups"] = {"before": [], "after": r.groups}
            history.append(
                {**base, "record_id": record_id, "version": 1, "action": "create",
                 "changes": changes}
            )  # fmt: skip
        search.index_rows(session, design, inserts, fresh=True)  # ids just taken
    changed = [r for r in rows if r.outcome == "updated"]
    if changed:
        by_columns: dict[tuple[str, ...], list[Row]] = {}
        for r in changed:
            by_columns.setdefault(tuple(sorted(r.changes)), []).append(r)
        for keys, group in by_columns.items():
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("_id"), table.c.version == sa.bindparam("_v"))
                .values(
                    {
                        **{column_name(k): sa.bindparam(f"_c_{k}") for k in keys},
                        "version": table.c.version + 1,
                        "updated_at": now,
                    }
                )
            )
            params = []
            for r in group:
                data = r.record._mapping
                params.append(
                    {
                        "_id": int(data["id"]),
                        "_v": int(data["version"]),
                        **{f"_c_{k}": r.values[k] for k in keys},
                    }
                )
            result = conn.execute(statement, params)
            if 0 <= result.rowcount != len(params):
                # A record changed between the lookup and this write (another writer): this
                # chunk is tried again from the start by the job (nothing of it is kept).
                raise RecordsMoved
        for r in changed:
            data = r.record._mapping
            history.append(
                {**base, "record_id": int(data["id"]), "version": int(data["version"]) + 1,
                 "action": "update", "changes": r.changes}
            )  # fmt: skip
        if search.feeds_search(design, [column_name(k) for r in changed for k in r.changes]):
            search.index_records(session, design, [int(r.record._mapping["id"]) for r in changed])
    if history:
        _insert_history(conn, design, history)
        # Members' cached access tokens are stale (api.security.revocation).
        revocation.records_changed(session, design, [int(h["record_id"]) for h in history])


def _new_ids(conn: sa.Connection, design: Design, table: sa.Table, count: int) -> list[int]:
    """``count`` ids for new records, taken before the rows are written (so the rows, their
    history and their search data can go in by COPY / executemany without RETURNING)."""
    if design.dialect == "postgresql":
        sequence = conn.execute(
            sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar_one()
        found = conn.execute(
            sa.text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
            {"s": sequence, "n": count},
        ).scalars()
        return [int(i) for i in found]
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so the next ids are ours;
    # AUTOINCREMENT's counter follows the largest id written.
    seq = conn.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name}
    ).scalar()
    biggest = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
    last = max(int(seq or 0), int(biggest or 0))
    return list(range(int(last) + 1, int(last) + 1 + count))


def _insert_records(
    conn: sa.Connection, design: Design, table: sa.Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert new records (dicts by column name), ids taken first: PostgreSQL by ``COPY``,
    SQLite by ``executemany``. Returns their ids, in order."""
    ids = _new_ids(conn, design, table, len(rows))
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id
    if design.dialect != "postgresql":
        copyin.insert_many(conn, table, rows)
        return ids
    names = list(rows[0])
    formats = [
        copyin.jsonb if isinstance(table.c[n].type, sa.JSON) else copyin.field for n in names
    ]
    lines = (
        "\t".join([f(row[n]) for f, n in zip(formats, names, strict=True)]) + "\n" for row in rows
    )
    copyin.copy_lines(conn, table.name, names, lines)
    return ids


HISTORY_COLUMNS = (
    "table_id", "record_id", "version", "at", "action", "source", "actor_type", "actor_id",
    "actor_label", "changes", "batch_id",
)  # fmt: skip


def _insert_history(conn: sa.Connection, design: Design, rows: list[dict[str, Any]]) -> None:
    if design.dialect != "postgresql":
        copyin.insert_many(conn, RecordHistory.__table__, rows)  # type: ignore[attr-defined]
        return
    formats = [copyin.jsonb if c == "changes" else copyin.field for c in HISTORY_COLUMNS]
    lines = (
        "\t".join([f(row[c]) for f, c in zip(formats, HISTORY_COLUMNS, strict=True)]) + "\n"
        for row in rows
    )
    copyin.copy_lines(conn, "customer_history", HISTORY_COLUMNS, lines)


class RecordsMoved(Exception):
    """Records of a chunk changed while it was being written; the chunk is retried."""
