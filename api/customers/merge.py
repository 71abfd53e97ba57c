"""Merging duplicate records into one, field by field (the seed's 統合履歴).

One transaction: the records are locked in id order and their versions checked (409 if any
changed since the merge screen was opened); every reference field of any table (retired
ones too: their foreign keys still hold) that points at a source is re-pointed to the
survivor, each moved row getting a new version and a history entry; the sources are deleted
(their unique values are free before the survivor takes them); the survivor takes the chosen
values. Its history entry (action ``merge``) carries, under ``$merge``, the sources' ids and
everything they held, and each source's own timeline ends with a ``merged`` entry naming the
survivor — so what every source record held can still be seen, from either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.audit import services as audit
from api.customers import duplicates, search
from api.customers.models import CustomerField, CustomerFile, RecordHistory
from api.customers.records import (
    _can_write,
    _execute,
    _history,
    _out,
    _owner_filter,
)
from api.customers.services import load_design
from api.customers.types import FieldType, column_name, table_name
from api.customers.values import is_empty
from api.db import utcnow
from api.errors import Conflict, FieldError, NotFound, ValidationFailed
from api.principal import Principal
from api.security import revocation

MAX_RECORDS = 20
MERGE_KEY = "$merge"  # a key no field can have: the merge's own facts in a history entry


def _bad(field: str, message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    return ValidationFailed(
        detail=f"{field}: {message}", errors=[FieldError(field, message, code, params=params)]
    )


def merge_records(
    session: Session,
    actor: Principal,
    table_key: str,
    *,
    survivor: int,
    sources: Sequence[int],
    values: dict[str, int],
    versions: dict[str, int] | dict[int, int],
    source: str = "api",
) -> dict[str, Any]:
    """Merge ``sources`` into ``survivor``. ``values`` says, per field, which record's value
    to keep (default: the survivor's, or the first non-empty one in the order of
    ``sources``); ``versions`` gives each record's version as the merge screen saw it."""
    design = load_design(session, table_key)
    ids = [survivor, *sources]
    if not sources:
        raise _bad("sources", "name at least one record to merge into the survivor", "required")
    if len(set(ids)) != len(ids):
        raise _bad("sources", "names a record twice, or the survivor", "duplicate")
    if len(ids) > MAX_RECORDS:
        raise _bad("sources", f"at most {MAX_RECORDS} records at once", "too_many", max=MAX_RECORDS)
    seen = {str(k): v for k, v in versions.items()}
    missing = [i for i in ids if str(i) not in seen]
    if missing:
        raise _bad(f"versions.{missing[0]}", "give the version of every record", "required")
    active = {spec.key: spec for _, spec in design.active()}
    for key, chosen in values.items():
        if key not in active:
            raise _bad(f"values.{key[:40]}", f"is not a field of {design.key}", "unknown_field")
        if chosen not in ids:
            raise _bad(f"values.{key}", "must be one of the merged records", "invalid_choice")

    table = design.sa_table()
    conn = session.connection()
    locked = conn.execute(
        sa.select(table)
        .where(table.c.id.in_(ids), _owner_filter(design, actor, table))
        .order_by(table.c.id)
        .with_for_update()
    ).all()
    rows = {int(r._mapping["id"]): r for r in locked}
    for record_id in ids:
        if record_id not in rows:
            raise NotFound(
                detail=f"{design.key} has no record {record_id}", code="record_not_found"
            )
    for record_id in ids:
        _can_write(design, actor, rows[record_id])
    changed = [i for i in ids if int(rows[i]._mapping["version"]) != int(seen[str(i)])]
    if changed:
        raise Conflict(
            detail=f"Records {', '.join(map(str, changed))} changed since the merge screen was "
            "opened; reload it and choose again",
            code="records_changed",
            errors=[
                FieldError(
                    f"versions.{i}",
                    "was changed since you opened it",
                    "changed",
                    params={"current": int(rows[i]._mapping["version"])},
                )
                for i in changed
            ],
        )

    outs = {i: _out(design, rows[i]) for i in ids}
    keep = outs[survivor]
    # The values the survivor ends with: stored (column) values, never re-typed.
    updates: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    chosen_from: dict[str, int] = {}
    for key in active:
        if key in values:
            origin = values[key]
        elif not is_empty(keep["values"].get(key)):
            origin = survivor
        else:
            origin = next(
                (s for s in sources if not is_empty(outs[s]["values"].get(key))), survivor
            )
        chosen_from[key] = origin
        if origin == survivor:
            continue
        before = keep["values"].get(key)
        after = outs[origin]["values"].get(key)
        if before != after:
            updates[column_name(key)] = rows[origin]._mapping[column_name(key)]
            changes[key] = {"before": before, "after": after, "from": origin}

    moved = _repoint(session, actor, design, survivor, list(sources), source)
    joined: list[str] = []
    logins: dict[str, Any] | None = None
    if design.table.is_member_table:  # groups and members build on customers: imported here
        from api.groups import services as groups
        from api.members import merging

        joined = groups.carry_over(session, actor, survivor, list(sources))
        logins = merging.carry_over(session, design.table.id or 0, survivor, list(sources))

    # Files chosen from a source now belong to the survivor.
    for key, origin in chosen_from.items():
        meta = outs[origin]["values"].get(key)
        if active[key].type == FieldType.file and origin != survivor and isinstance(meta, dict):
            found = session.exec(
                select(CustomerFile).where(
                    CustomerFile.table_id == design.table.id,
                    CustomerFile.public_id == meta.get("id"),
                )
            ).first()
            if found is not None:
                found.record_id = survivor
                session.add(found)

    # The sources go first: their unique values are free before the survivor takes them.
    search.forget(session, design, list(sources))
    _execute(session, design, sa.delete(table).where(table.c.id.in_(list(sources))))
    for s in sources:
        gone = {
            k: {"before": v, "after": None} for k, v in outs[s]["values"].items() if not is_empty(v)
        }
        gone[MERGE_KEY] = {"survivor": survivor}
        _history(session, design, actor, s, outs[s]["version"] + 1, "merged", gone, source)

    version = keep["version"] + 1
    _execute(
        session,
        design,
        sa.update(table)
        .where(table.c.id == survivor)
        .values({**updates, "version": version, "updated_at": utcnow()}),
    )
    changes[MERGE_KEY] = {
        "survivor": survivor,
        "sources": [
            {
                k: outs[s][k]
                for k in ("id", "public_id", "version", "owner_id", "status", "created_at")
            }
            | {"values": outs[s]["values"]}
            for s in sources
        ],
        "moved": moved,
    }
    if joined:
        changes[MERGE_KEY]["groups"] = joined
    if logins:
        changes[MERGE_KEY]["logins"] = logins
    for entry in changes[MERGE_KEY]["sources"]:
        created = entry["created_at"]
        entry["created_at"] = created.isoformat() if hasattr(created, "isoformat") else created
    _history(session, design, actor, survivor, version, "merge", changes, source)
    after_row = conn.execute(sa.select(table).where(table.c.id == survivor)).first()
    search.index_rows(session, design, [after_row._mapping])  # type: ignore[union-attr]
    audit.record(
        session,
        actor,
        "customers.record.merge",
        target_type="customer_record",
        target_id=f"{design.key}/{survivor}",
        before={"sources": list(sources), "values": {str(s): outs[s]["values"] for s in sources}},
        after={
            "survivor": survivor,
            "chosen": {k: v for k, v in chosen_from.items() if v != survivor},
            "moved": moved,
            **({"logins": logins} if logins else {}),
        },
    )
    # Tokens of the sources name records that are gone; the survivor's carry stale fields.
    revocation.records_changed(session, design, [survivor, *sources])
    result = _out(design, after_row)
    return {"record": result, "merged": list(sources), "moved": moved}


def _repoint(
    session: Session,
    actor: Principal,
    design: Any,
    survivor: int,
    sources: list[int],
    source: str,
) -> list[dict[str, Any]]:
    """Every reference to a source, in any table and any field (retired ones too), now
    points at the survivor; each moved record gets a new version and a history entry."""
    from api.customers.services import list_designs

    conn = session.connection()
    designs = {d.table.id: d for d in list_designs(session, retired=True)}
    referring = session.exec(
        select(CustomerField).where(CustomerField.ref_table_id == design.table.id)
    ).all()
    moved: list[dict[str, Any]] = []
    for field_row in sorted(referring, key=lambda f: (f.table_id, f.key)):
        other = designs.get(field_row.table_id)
        if other is None:
            continue
        column = column_name(field_row.key)
        data = sa.table(
            table_name(other.key),
            sa.column("id"),
            sa.column(column),
            sa.column("version"),
            sa.column("updated_at"),
        )
        found = conn.execute(
            sa.select(data.c.id, data.c[column], data.c.version)
            .where(data.c[column].in_(sources))
            .order_by(data.c.id)
        ).all()
        if not found:
            continue
        _execute(
            session,
            other,
            sa.update(data)
            .where(data.c[column].in_(sources))
            .values({column: survivor, "version": data.c.version + 1, "updated_at": utcnow()}),
        )
        session.add_all(
            RecordHistory(
                table_id=other.table.id,  # type: ignore[arg-type]
                record_id=int(r.id),
                version=int(r.version) + 1,
                action="update",
                source=source,
                actor_type=actor.kind,
                actor_id=actor.id,
                actor_label=actor.label,
                changes={field_row.key: {"before": int(r[1]), "after": survivor}},
            )
            for r in found
        )
        if field_row.retired_at is None and duplicates.feeds_keys(other, [column]):
            # Their match keys name the company by id (customers of a merged company).
            search.index_records(session, other, [int(r.id) for r in found])
        moved.append({"table": other.key, "field": field_row.key, "count": len(found)})
    return moved


def merged_into(session: Session, table_key: str, record_id: int) -> int | None:
    """The survivor a deleted record was merged into (its timeline's last entry), or None."""
    design = load_design(session, table_key)
    last = session.exec(
        select(RecordHistory)
        .where(RecordHistory.table_id == design.table.id, RecordHistory.record_id == record_id)
        .order_by(col(RecordHistory.id).desc())
        .limit(1)
    ).first()
    if last is None or last.action != "merged":
        return None
    info = (last.changes or {}).get(MERGE_KEY) or {}
    survivor = info.get("survivor")
    return int(survivor) if isinstance(survivor, int) else None


def history_visible(session: Session, actor: Principal, table_key: str, record_id: int) -> bool:
    """Whether ``actor`` may read the timeline of a record merged away: it was merged, and a
    sales rep in an owner-only table sees it when they may see the survivor."""
    survivor = merged_into(session, table_key, record_id)
    if survivor is None:
        return False
    design = load_design(session, table_key)
    table = design.sa_table()
    found = session.connection().execute(
        sa.select(table.c.id).where(table.c.id == survivor, _owner_filter(design, actor, table))
    )
    return found.first() is not None
