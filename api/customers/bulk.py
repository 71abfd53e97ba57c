"""Bulk actions on a record set (a selection or a whole view): set a field, change the owner,
change the status, delete. Each is a job (``customers.bulk``) with progress.

- **Checked first, in the request**: the action, the value (through the field's ``api.fields``
  rule, as any write), the owner (sales staff cannot give records away), the status (one of
  the table's). Unique and file fields cannot be set in bulk (one value on many records would
  break the one, and files are uploaded one by one). Answered with the job and how many records
  the set has now (what the confirmation showed).
- **Units are ranges of ids** of the set (``CHUNK`` records each, walked by keyset when the job
  is created, never all ids at once), each written in one transaction with its history rows:
  a unit is in whole or not at all, so an interrupted job resumes at the first unfinished one.
- **Each record is re-checked when its unit runs** (locked: ``FOR UPDATE`` on PostgreSQL,
  SQLite's write lock): the set's filter again, so a record that no longer matches is left;
  a record **changed after the job was created** (``updated_at`` later than the job's start)
  is *skipped and reported* (``changed``), never overwritten blindly — the person confirmed
  what they saw, not what someone wrote since; a record a sales rep does not own is skipped
  (``not_owner``); a status change the table's transitions do not allow is skipped
  (``transition_not_allowed``); a record others refer to is not deleted (``in_use``); a
  selected record gone meanwhile is reported (``gone``).
- Every change is in the record's history with the source ``bulk``; the job's creation is in
  the audit log (who, what, which set, how many) and :func:`report` sums the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from api.audit import services as audit
from api.customers import records, search
from api.customers.models import CustomerField, RecordHistory
from api.customers.record_set import (
    RecordSet,
    audit_summary,
    job_payload,
    job_units,
    record_set,
)
from api.customers.services import Design
from api.customers.types import FieldType, column_name, table_name
from api.customers.values import is_empty, normalise, to_json
from api.db import utcnow
from api.errors import FieldError, ValidationFailed
from api.jobs import services as jobs
from api.jobs.context import UnitContext
from api.jobs.kinds import JobKind
from api.jobs.models import JobUnit
from api.principal import Principal
from api.security import revocation

ACTIONS = ("set_field", "owner", "status", "delete")
CHUNK = 1_000
MAX_SKIPPED = 200  # listed per unit; the counts are exact
KIND_NAME = "customers.bulk"


def _invalid(field: str, message: str, code: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        detail=f"{field}: {message}",
        errors=[FieldError(field, message, code, params=params or None)],
    )


def _check_value(session: Session, design: Design, field: str | None, value: Any) -> Any:
    if not field:
        raise _invalid("field", "name the field to set", "required")
    active = {s.key: s for _, s in design.active()}
    if field not in active:
        raise _invalid("field", f"is not a field of {design.key}", "unknown_field")
    spec = active[field]
    if spec.type == FieldType.file:
        raise _invalid("field", "files are uploaded record by record", "file_upload_only")
    if spec.unique:
        raise _invalid("field", "a unique field cannot take one value on many records", "unique")
    try:
        stored = normalise(spec, value)
    except ValidationFailed as exc:
        raise ValidationFailed(
            detail=exc.detail, errors=[records.replace_field(e, "value") for e in exc.errors]
        ) from None
    if stored is None and spec.required:
        raise _invalid("value", "is required", "required")
    try:
        records._check_references(session, design, {field: stored})
    except ValidationFailed as exc:
        raise ValidationFailed(
            detail=exc.detail, errors=[records.replace_field(e, "value") for e in exc.errors]
        ) from None
    return to_json(spec, stored)


def start(
    session: Session,
    actor: Principal,
    table_key: str,
    action: str,
    *,
    ids: list[int] | None = None,
    view: int | None = None,
    where: Any = None,
    q: str | None = None,
    field: str | None = None,
    value: Any = None,
    owner_id: int | None = None,
    status: str | None = None,
) -> tuple[int, int]:
    """Check the action and create its job; ``(job_id, records in the set now)``."""
    if action not in ACTIONS:
        raise _invalid("action", f"must be one of {', '.join(ACTIONS)}", "invalid_choice",
                       choices=", ".join(ACTIONS))  # fmt: skip
    rs = record_set(session, actor, table_key, ids=ids, view=view, where=where, q=q)
    design = rs.design
    params: dict[str, Any] = {}
    if action == "set_field":
        params = {"field": field, "value": _check_value(session, design, field, value)}
    elif action == "owner":
        params = {"owner_id": records._check_owner(session, actor, owner_id)}
    elif action == "status":
        active = {s.value for s in design.spec.statuses if not s.retired}
        if not status or status not in active:
            raise _invalid("status", f"is not a status of {design.key}", "invalid_choice",
                           choices=", ".join(sorted(active)))  # fmt: skip
        params = {"status": status}
    units = job_units(session, rs, CHUNK)
    count = rs.count(session)
    payload = {"table": design.key, "action": action, **params,
               **job_payload(rs, count, actor)}  # fmt: skip
    job = jobs.create_job(session, KIND, payload, created_by=actor.label, units=units)
    assert job.id is not None
    audit.record(
        session,
        actor,
        f"customers.bulk.{action}",
        target_type="customer_table",
        target_id=design.key,
        after={**params, **audit_summary(rs), "records": count, "job_id": job.id},
    )
    return job.id, count


# ------------------------------------------------------------------ one unit


def _referred(session: Session, design: Design, ids: list[int]) -> set[int]:
    """Which of ``ids`` records of other tables refer to through a restricting reference."""
    found: set[int] = set()
    rows = session.exec(
        select(CustomerField).where(CustomerField.ref_table_id == design.table.id)
    ).all()
    for field_row in rows:
        if (field_row.options or {}).get("on_delete", "restrict") != "restrict":
            continue
        owner = design.tables_by_id[field_row.table_id]
        column = column_name(field_row.key)
        t = sa.table(table_name(owner.key), sa.column(column))
        found |= {
            int(v)
            for (v,) in session.connection().execute(
                sa.select(t.c[column]).where(t.c[column].in_(ids)).distinct()
            )
        }
    return found


def run_unit(unit: UnitContext) -> dict[str, Any]:
    session = unit.session
    assert session is not None  # no side effects: the unit runs in a transaction
    payload = unit.job.payload
    actor = Principal.from_payload(payload["actor"])
    selection = payload["selection"]
    rs: RecordSet = record_set(
        session, actor, payload["table"], ids=selection.get("ids"), view=selection.get("view"),
        where=selection.get("where"), q=selection.get("q"),
    )  # fmt: skip
    design = rs.design
    table = design.sa_table()
    lo, hi = int(unit.payload["lo"]), int(unit.payload["hi"])
    started = datetime.fromisoformat(payload["started_at"])
    query = (
        sa.select(table, (table.c.updated_at > started).label("changed_since"))
        .where(rs.condition, table.c.id.between(lo, hi))
        .order_by(table.c.id)
        .with_for_update()
    )
    rows = list(session.connection().execute(query))
    action = payload["action"]
    skipped: list[dict[str, Any]] = []
    todo: list[Any] = []
    unchanged = 0
    sales = records._is_sales(actor)
    if selection.get("ids"):
        seen = {int(r._mapping["id"]) for r in rows}
        skipped += [
            {"record_id": i, "reason": "gone"}
            for i in selection["ids"]
            if lo <= i <= hi and i not in seen
        ]
    spec = design.specs.get(payload.get("field") or "")
    target: Any = None
    column: str | None = None
    if action == "set_field":
        assert spec is not None
        column = column_name(spec.key)
        target = normalise(spec, payload["value"])
    elif action == "owner":
        column, target = "owner_id", payload["owner_id"]
    elif action == "status":
        column, target = "status", payload["status"]
    for row in rows:
        data = row._mapping
        rid = int(data["id"])
        if data["changed_since"]:
            skipped.append({"record_id": rid, "reason": "changed"})
        elif sales and data["owner_id"] != actor.staff_id:
            skipped.append({"record_id": rid, "reason": "not_owner"})
        elif action == "delete":
            todo.append(row)
        elif column is not None and _same(
            spec if action == "set_field" else None, data[column], target
        ):
            unchanged += 1
        elif action == "status":
            try:
                records._check_status(design, data["status"], target)
            except ValidationFailed:
                skipped.append({"record_id": rid, "reason": "transition_not_allowed",
                                "from": data["status"]})  # fmt: skip
                continue
            todo.append(row)
        else:
            todo.append(row)
    if action == "delete" and todo:
        used = _referred(session, design, [int(r._mapping["id"]) for r in todo])
        skipped += [{"record_id": int(r._mapping["id"]), "reason": "in_use"} for r in todo
                    if int(r._mapping["id"]) in used]  # fmt: skip
        todo = [r for r in todo if int(r._mapping["id"]) not in used]
    done = _apply(unit, design, actor, action, todo, spec, column, target)
    return {
        "done": done,
        "unchanged": unchanged,
        "skipped_count": len(skipped),
        "skipped": skipped[:MAX_SKIPPED],
    }


def _same(spec: Any, current: Any, target: Any) -> bool:
    if spec is not None:
        return bool(to_json(spec, current) == to_json(spec, target))
    return bool(current == target)


def _apply(
    unit: UnitContext,
    design: Design,
    actor: Principal,
    action: str,
    rows: list[Any],
    spec: Any,
    column: str | None,
    target: Any,
) -> int:
    if not rows:
        return 0
    session = unit.session
    assert session is not None
    table = design.sa_table()
    ids = [int(r._mapping["id"]) for r in rows]
    now = utcnow()
    history: list[dict[str, Any]] = []
    base = {
        "table_id": design.table.id, "source": "bulk", "actor_type": actor.kind,
        "actor_id": actor.id, "actor_label": actor.label, "at": now,
    }  # fmt: skip
    if action == "delete":
        from api.customers import files

        has_files = any(s.type == FieldType.file for _, s in design.active())
        search.forget(session, design, ids)
        session.connection().execute(sa.delete(table).where(table.c.id.in_(ids)))
        for row in rows:
            out = records.record_out(design, row)
            changes = {k: {"before": v, "after": None} for k, v in out["values"].items()
                       if not is_empty(v)}  # fmt: skip
            history.append({**base, "record_id": out["id"], "version": out["version"] + 1,
                            "action": "delete", "changes": changes})  # fmt: skip
            if has_files:
                files.forget_record(
                    session, unit.runtime.settings.effective_files_dir, design.key, out["id"]
                )
    else:
        assert column is not None
        session.connection().execute(
            sa.update(table)
            .where(table.c.id.in_(ids))
            .values({column: target, "version": table.c.version + 1, "updated_at": now})
        )
        key = spec.key if spec is not None else column
        for row in rows:
            data = row._mapping
            before = to_json(spec, data[column]) if spec is not None else data[column]
            after = to_json(spec, target) if spec is not None else target
            history.append({**base, "record_id": int(data["id"]),
                            "version": int(data["version"]) + 1, "action": "update",
                            "changes": {key: {"before": before, "after": after}}})  # fmt: skip
        if spec is not None and search.feeds_search(design, [column]):
            fresh = session.connection().execute(sa.select(table).where(table.c.id.in_(ids)))
            search.index_rows(session, design, [r._mapping for r in fresh])
    session.connection().execute(sa.insert(RecordHistory.__table__), history)  # type: ignore[attr-defined]
    revocation.records_changed(session, design, ids)  # members' cached tokens are stale
    return len(rows)


def report(session: Session, table: str, job_id: int) -> dict[str, Any]:
    """The state and outcome so far of the bulk action ``job_id`` on ``table``: records changed
    (or deleted), unchanged, skipped (each with why). 404 for any other job."""
    job = jobs.job_for(session, job_id, KIND_NAME, {"table": table},
                       f"bulk action {job_id} on {table}")  # fmt: skip
    out: dict[str, Any] = {"state": job.state, "done": 0, "unchanged": 0, "skipped_count": 0,
                           "skipped": []}  # fmt: skip
    for result in session.exec(
        select(JobUnit.result).where(JobUnit.job_id == job_id).order_by(JobUnit.seq)  # type: ignore[arg-type]
    ):
        if not result:
            continue
        for key in ("done", "unchanged", "skipped_count"):
            out[key] += int(result.get(key, 0))
        out["skipped"] += result.get("skipped", [])[: max(0, 1_000 - len(out["skipped"]))]
    return out


KIND = JobKind(
    name=KIND_NAME,
    side_effects=False,
    per_unit=run_unit,
    summary=lambda p: f"{p.get('table', '')}: {p.get('action', '')} ({p.get('count', 0)})",
    label={"ja": "一括操作", "en": "Bulk action"},
)
