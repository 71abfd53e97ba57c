"""A field's type change on a large table, as a job with progress (``customers.type_change``).

``services.update_field`` checks every value first (the rows that would not convert, refused
unless ``allow_loss``) and, when the table has more than ``services.TYPE_CHANGE_JOB_ROWS``
records, starts this job instead of converting in the request. Its units, each in its own
transaction and without side effects (the runner records each one's outcome, so the jobs
screen shows the progress):

1. ``prepare`` — add the staging column ``c_<key>__new`` of the new type (dropping one a
   failed earlier run left behind);
2. ``records a–b`` — one unit per 10,000 ids: every value through the new type's normaliser
   (the same ``api.fields`` rule as a write), written into the staging column; the live column
   is untouched, so records stay readable and writable with the old type meanwhile;
3. ``swap`` — with writes to the table blocked (``LOCK TABLE … IN EXCLUSIVE MODE`` on
   PostgreSQL; SQLite's write transaction holds its lock anyway): convert again the records
   changed or created since the job began, count the values that would be lost (a value in the
   live column, none in the staging one) and refuse if there are some and the change was not
   confirmed, then drop the old column, rename the staging one, rebuild the indexes, save the
   field's definition and write the audit entry — all in one transaction;
4. ``cleanup`` — drop the staging column if the swap did not happen, and clear the mark that
   refused other changes of the field meanwhile.

A failure anywhere leaves the field as it was: its type, its values and its column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from api.customers import physical
from api.customers.definitions import FieldSpec, parse_field
from api.customers.models import CustomerField
from api.customers.types import column_name, table_name
from api.customers.values import normalise, to_json
from api.db import utcnow
from api.errors import Conflict, ValidationFailed
from api.jobs.context import UnitContext
from api.jobs.kinds import JobKind, RetryPolicy, UnitSpec
from api.principal import Principal

STAGING = "__new"
CHUNK_IDS = 10_000
KIND_NAME = "customers.type_change"


def start(
    session: Session,
    actor: Principal,
    design: Any,
    row: CustomerField,
    old: FieldSpec,
    new: FieldSpec,
    *,
    allow_loss: bool,
    position: int | None,
) -> int:
    """Create the job (enqueued when the caller commits) and mark the field as changing."""
    from api.jobs import services as jobs

    table = design.sa_table()
    low, high = (
        session.connection().execute(sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id)))
    ).one()
    units = [UnitSpec("prepare", {"step": "prepare"})]
    start_id = int(low or 1)
    end_id = int(high or 0)
    for lo in range(start_id, end_id + 1, CHUNK_IDS):
        hi = min(lo + CHUNK_IDS - 1, end_id)
        units.append(UnitSpec(f"records {lo}–{hi}", {"step": "convert", "lo": lo, "hi": hi}))
    units += [UnitSpec("swap", {"step": "swap"}), UnitSpec("cleanup", {"step": "cleanup"})]
    payload = {
        "table": design.key,
        "field": old.key,
        "old": old.as_dict(),
        "new": new.as_dict(),
        "allow_loss": allow_loss,
        "position": position,
        "max_id": end_id,
        "started_at": utcnow().isoformat(),
        "actor": actor.as_payload(),
    }  # fmt: skip
    job = jobs.create_job(session, KIND, payload, created_by=actor.label, units=units)
    row.options = {**(row.options or {}), _mark(): job.id}
    session.add(row)
    assert job.id is not None
    return job.id


def _mark() -> str:
    from api.customers.services import TYPE_CHANGE_MARK

    return TYPE_CHANGE_MARK


def _specs(payload: dict[str, Any]) -> tuple[FieldSpec, FieldSpec]:
    return parse_field(_definition(payload["old"])), parse_field(_definition(payload["new"]))


def _definition(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "retired"}


def _columns(session: Session, table_key: str) -> set[str]:
    return {c["name"] for c in sa.inspect(session.connection()).get_columns(table_name(table_key))}


def _staging(design: Any, new: FieldSpec) -> Any:
    """The design with the staging column as one more field (to write it through Core)."""
    from dataclasses import replace

    specs = dict(design.specs)
    specs[new.key + STAGING] = replace(new, key=new.key + STAGING)
    return replace(design, specs=specs)


def _convert_rows(
    session: Session, design: Any, old: FieldSpec, new: FieldSpec, where: Callable[[Any], Any]
) -> int:
    """Convert the records ``where(table)`` selects into the staging column; how many
    failed."""
    from api.customers.services import _conversion_input, _write_values

    table = design.sa_table()
    rows = session.connection().execute(
        sa.select(table.c.id, table.c[column_name(old.key)]).where(where(table))
    )
    values: list[tuple[int, Any]] = []
    failures = 0
    for record_id, stored in rows:
        value = None
        if stored is not None:
            try:
                value = normalise(new, _conversion_input(old, new, stored))
            except ValidationFailed:
                failures += 1
        values.append((int(record_id), value))
    _write_values(session, _staging(design, new), column_name(new.key) + STAGING, values)
    return failures


def run_unit(unit: UnitContext) -> dict[str, Any] | None:
    from api.customers import services

    session = unit.session
    assert session is not None
    payload = unit.job.payload
    step = unit.payload["step"]
    table_key, field_key = payload["table"], payload["field"]
    old, new = _specs(payload)
    staging = column_name(field_key) + STAGING
    if step == "cleanup":
        return _cleanup(session, table_key, field_key, staging, unit.job.job.id)
    design = services.load_design(session, table_key, lock=step != "convert", retired=True)
    current = design.specs.get(field_key)
    if current is None or current.as_dict() != payload["old"]:
        raise Conflict(
            detail=f"{table_key}.{field_key} changed since the job began; nothing was converted",
            code="field_changed",
        )
    if step == "prepare":
        if staging in _columns(session, table_key):
            physical.drop_column(session.connection(), table_key, staging)
        physical.add_column(session.connection(), table_key, new, temp=STAGING)
        return {"column": staging}
    if step == "convert":
        lo, hi = unit.payload["lo"], unit.payload["hi"]
        failures = _convert_rows(session, design, old, new, lambda t: t.c.id.between(lo, hi))
        return {"records": [lo, hi], "would_be_emptied": failures}
    if step == "swap":
        return _swap(session, design, old, new, payload, staging)
    raise ValueError(f"unknown step {step}")


def _swap(
    session: Session,
    design: Any,
    old: FieldSpec,
    new: FieldSpec,
    payload: dict[str, Any],
    staging: str,
) -> dict[str, Any]:
    from api.customers import services

    conn = session.connection()
    if conn.dialect.name == "postgresql":  # no record write slips between check and swap
        conn.exec_driver_sql(
            f"LOCK TABLE {conn.dialect.identifier_preparer.quote(table_name(design.key))} "
            "IN EXCLUSIVE MODE"
        )
    table = _staging(design, new).sa_table()
    since = datetime.fromisoformat(payload["started_at"])
    _convert_rows(
        session, design, old, new,
        lambda t: sa.or_(t.c.updated_at >= since, t.c.id > payload["max_id"]),
    )  # fmt: skip
    live = table.c[column_name(old.key)]
    lost_where = sa.and_(live.is_not(None), table.c[staging].is_(None))
    lost = int(
        conn.execute(sa.select(sa.func.count()).select_from(table).where(lost_where)).scalar_one()
    )
    if lost and not payload["allow_loss"]:
        examples = conn.execute(
            sa.select(table.c.id, live).where(lost_where).order_by(table.c.id).limit(5)
        ).all()
        shown = ", ".join(f"{int(r[0])} ({to_json(old, r[1])!r})" for r in examples)
        raise Conflict(
            detail=f"{lost} record(s) changed during the conversion no longer convert to "
            f"{new.type} (e.g. {shown}); nothing was changed",
            code="values_would_be_lost",
        )
    physical.drop_indexes(conn, design.key, old.key)
    physical.drop_column(conn, design.key, column_name(old.key))
    physical.rename_column(conn, design.key, staging, column_name(old.key))
    physical.create_indexes(conn, design.key, new)
    row = design.field_row(old.key)
    services.save_field_row(
        session, Principal.from_payload(payload["actor"]), design.key, row, old, new,
        position=payload.get("position"), lost=lost,
    )  # fmt: skip
    services.forget_designs(session)
    return {"swapped": True, "lost": lost}


def _cleanup(
    session: Session, table_key: str, field_key: str, staging: str, job_id: int | None
) -> dict[str, Any]:
    from api.customers import services

    design = services.load_design(session, table_key, lock=True, retired=True)
    dropped = staging in _columns(session, table_key)
    if dropped:  # the swap did not happen: the field stays as it was
        physical.drop_column(session.connection(), table_key, staging)
    field_row = next((f for f in design.fields if f.key == field_key), None)
    mark = services.TYPE_CHANGE_MARK
    if field_row is not None and (field_row.options or {}).get(mark) == job_id:
        field_row.options = {k: v for k, v in field_row.options.items() if k != mark}
        session.add(field_row)
    services.forget_designs(session)
    return {"staging_dropped": dropped}


def _summary(payload: dict[str, Any]) -> str:
    return (
        f"{payload['table']}.{payload['field']}: {payload['old']['type']} → "
        f"{payload['new']['type']}"
    )


KIND = JobKind(
    name=KIND_NAME,
    side_effects=False,
    per_unit=run_unit,
    retry=RetryPolicy(max_attempts=1),
    time_limit=timedelta(hours=2),
    summary=_summary,
    label={"ja": "項目の型変更", "en": "Field type change"},
)
