"""Add to a group / remove from a group, as a bulk action on a record set of the member table
(a selection, or every record of a view, filter or search: ``api/customers/record_set.py``).

A job (``groups.bulk``) whose units are ranges of ids of the set (``CHUNK`` records each);
each unit re-reads the set's filter within its range and writes its memberships and history
rows (source ``bulk``, the job's id as ``batch_id``) in one transaction, so an interrupted job
resumes at its first unfinished unit. The job's creation is in the audit log.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from api.audit import services as audit
from api.customers.record_set import audit_summary, job_payload, job_units, record_set
from api.errors import FieldError, ValidationFailed
from api.groups import services
from api.jobs import services as jobs
from api.jobs.context import UnitContext
from api.jobs.kinds import JobKind
from api.jobs.models import JobUnit
from api.principal import Principal

ACTIONS = ("add", "remove")
CHUNK = 1_000
KIND_NAME = "groups.bulk"


def start(
    session: Session,
    actor: Principal,
    key: str,
    action: str,
    *,
    ids: list[int] | None = None,
    view: int | None = None,
    where: Any = None,
    q: str | None = None,
) -> tuple[int, int]:
    """Check and create the job: ``(job_id, records in the set now)``."""
    if action not in ACTIONS:
        raise ValidationFailed(
            detail="action: must be add or remove",
            errors=[FieldError("action", "must be add or remove", "invalid_choice",
                               params={"choices": "add, remove"})],
        )  # fmt: skip
    group = services.get_group(session, key)
    design = services.member_design(session)
    rs = record_set(session, actor, design.key, ids=ids, view=view, where=where, q=q)
    units = job_units(session, rs, CHUNK)
    count = rs.count(session)
    payload = {"group": group.key, "table": design.key, "action": action,
               **job_payload(rs, count, actor)}  # fmt: skip
    job = jobs.create_job(session, KIND, payload, created_by=actor.label, units=units)
    assert job.id is not None
    audit.record(
        session, actor, f"groups.bulk.{action}", target_type="member_group", target_id=group.key,
        after={**audit_summary(rs), "records": count, "job_id": job.id},
    )  # fmt: skip
    return job.id, count


def run_unit(unit: UnitContext) -> dict[str, Any]:
    session = unit.session
    assert session is not None
    payload = unit.job.payload
    actor = Principal.from_payload(payload["actor"])
    selection = payload["selection"]
    design = services.member_design(session)
    if design.key != payload["table"]:
        return {"done": 0, "unchanged": 0, "skipped_count": 0, "stopped": "member_table_changed"}
    rs = record_set(
        session, actor, design.key, ids=selection.get("ids"), view=selection.get("view"),
        where=selection.get("where"), q=selection.get("q"),
    )  # fmt: skip
    table = design.sa_table()
    lo, hi = int(unit.payload["lo"]), int(unit.payload["hi"])
    ids = [
        int(i)
        for (i,) in session.connection().execute(
            sa.select(table.c.id).where(rs.condition, table.c.id.between(lo, hi))
        )
    ]
    if not ids:
        return {"done": 0, "unchanged": 0, "skipped_count": 0}
    done, unchanged = services.change_members(
        session, actor, payload["group"], ids, add=payload["action"] == "add",
        source="bulk", batch_id=unit.job.job.id, checked=True,
    )  # fmt: skip
    return {"done": done, "unchanged": unchanged, "skipped_count": 0}


def report(session: Session, group: str, job_id: int) -> dict[str, Any]:
    """The state and counts so far of the bulk action ``job_id`` on ``group``; 404 for any
    other job."""
    job = jobs.job_for(session, job_id, KIND_NAME, {"group": group},
                       f"bulk action {job_id} on {group}")  # fmt: skip
    counts = {"done": 0, "unchanged": 0}
    for result in session.exec(select(JobUnit.result).where(JobUnit.job_id == job_id)):
        for key in counts:
            counts[key] += int((result or {}).get(key, 0))
    return {"state": job.state, **counts}


KIND = JobKind(
    name=KIND_NAME,
    side_effects=False,
    per_unit=run_unit,
    summary=lambda p: f"{p.get('group', '')}: {p.get('action', '')} ({p.get('count', 0)})",
    label={"ja": "グループの一括変更", "en": "Bulk group change"},
)
