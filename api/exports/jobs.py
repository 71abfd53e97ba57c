"""Exports as a job (``exports.run``): the file is written by a worker under ``var/exports`` and
downloaded later, by the staff member who started it or an admin, until it expires.

- **Started** (:func:`start`) with the record set and options checked now, as the download
  checks them (a bad column is a 422 at once, not a failed job); the set is kept as it was
  asked (ids, view, filter, search, sort) and read again when the job runs, with the
  starter's rights (sales staff export what they see).
- **One unit** writes the whole file through :func:`api.exports.services.write` — the same
  bytes as the download, fast paths included — in one read (one snapshot on PostgreSQL: the
  file is consistent even if records change meanwhile). Writing a file is work outside the
  database, so the kind declares side effects: the unit runs outside any transaction (no
  write lock held on SQLite while the file is written) and an interrupted export is not
  silently retried (the job says it failed; the person starts again). Progress: the rows
  written so far, kept on the unit about once a second, against the count taken at start.
- **The file** is ``job-<id>.<csv|xlsx>`` (written as ``.part`` and renamed when complete, so a
  half-written file is never offered). CP932 gaps without ``replace``: the file is removed and
  the job's outcome lists the gaps (state ``refused``), as the download's 422 does.
- **Expiry**: :data:`KEEP` after the job finished the file is removed (when its state or file
  is asked for, and whenever another export job starts); the download then answers 410
  ``export_expired``, saying to start the export again.
- Audited (``customers.export``, with ``job``) when the file is written.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from api.customers.record_set import MAX_IDS, RecordSet, record_set
from api.db import utcnow
from api.errors import Conflict, Gone, NotFound, ValidationFailed
from api.exports import services
from api.jobs import services as jobs
from api.jobs.context import UnitContext
from api.jobs.kinds import JobKind, UnitSpec
from api.jobs.models import Job, JobState, JobUnit
from api.permissions import Role
from api.principal import Principal

KIND_NAME = "exports.run"
KEEP = dt.timedelta(hours=24)  # how long a finished export's file can be downloaded
PROGRESS_EVERY = 1.0  # seconds between two progress updates


def _options(data: dict[str, Any]) -> services.Options:
    return services.parse_options(**data)


def _rebuild(session: Session, payload: dict[str, Any]) -> RecordSet:
    sel = payload["selection"]
    return record_set(
        session, Principal.from_payload(payload["actor"]), payload["table"], ids=sel.get("ids"),
        view=sel.get("view"), where=sel.get("where"), q=sel.get("q"), sort=sel.get("sort"),
    )  # fmt: skip


def start(
    session: Session,
    actor: Principal,
    table: str,
    options: dict[str, Any],
    *,
    ids: list[int] | None = None,
    view: int | None = None,
    where: dict[str, Any] | None = None,
    q: str | None = None,
    sort: str | None = None,
) -> tuple[Job, int]:
    """Check the set and the options, and create the job; the job and how many records the set
    has now."""
    parsed = _options(options)
    if ids is not None and len(ids) > MAX_IDS:
        raise ValidationFailed(detail=f"ids: at most {MAX_IDS:,} records")
    rs = record_set(session, actor, table, ids=ids, view=view, where=where, q=q, sort=sort)
    services._check_columns(rs.design, parsed.columns or services.default_columns(rs.design))
    count = rs.count(session)
    payload = {
        "table": table,
        "selection": {"ids": ids, "view": view, "where": where, "q": q, "sort": sort},
        "options": {
            "format": parsed.format, "encoding": parsed.encoding,
            "columns": list(parsed.columns) if parsed.columns else None,
            "labels": parsed.labels, "values": parsed.values, "replace": parsed.replace,
        },
        "actor": actor.as_payload(),
        "count": count,
        "name": services.file_name(rs.design, parsed, dt.date.today()),
    }  # fmt: skip
    job = jobs.create_job(
        session, KIND, payload, created_by=actor.label, units=[UnitSpec(key="file")]
    )
    return job, count


def file_path(directory: Path, job_id: int, fmt: str) -> Path:
    return directory / f"job-{job_id}.{fmt}"


def run_unit(unit: UnitContext) -> dict[str, Any]:
    """Write the file in one read; the rows, the file and its name, or the refusal's gaps."""
    runtime = unit.runtime
    payload = unit.job.payload
    job_id = int(unit.job.job.id or 0)
    directory = services.exports_dir(runtime.settings.var_dir)
    with runtime.db.read() as session:
        sweep(session, directory)
    options = _options(payload["options"])
    final = file_path(directory, job_id, options.format)
    part = final.with_suffix(final.suffix + ".part")
    last = [time.monotonic()]

    def progress(rows: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        with runtime.db.transaction() as session:
            jobs.unit_progress(session, unit.id, unit.job.worker, {"rows_written": rows})

    try:
        with runtime.db.read() as session:
            rs = _rebuild(session, payload)
            with part.open("wb") as stream:
                result = services.write(session, rs, options, stream, progress=progress)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if result.gap_count and not options.replace:
        part.unlink(missing_ok=True)
        return {
            "refused": True,
            "rows_written": result.rows,
            "gap_count": result.gap_count,
            "gaps": [
                {"record_id": g.record_id, "field": g.field, "chars": g.chars} for g in result.gaps
            ],
        }
    part.replace(final)
    with runtime.db.transaction() as session:
        services.record_export(
            session, Principal.from_payload(payload["actor"]), rs, options, result, job=job_id
        )
    return {
        "rows_written": result.rows,
        "file": final.name,
        "bytes": final.stat().st_size,
        "replaced": result.gap_count if options.replace else 0,
    }


# ------------------------------------------------------------------ state, file, expiry


def _unit(session: Session, job_id: int) -> JobUnit | None:
    return session.exec(select(JobUnit).where(JobUnit.job_id == job_id)).first()


def may_see(principal: Principal, job: Job) -> bool:
    """Only the staff member who started the export, or an admin."""
    if principal.roles and all(r == Role.admin for r in principal.roles):
        return True
    started = job.payload.get("actor", {})
    return principal.staff_id is not None and principal.staff_id == started.get("staff_id")


def get(session: Session, principal: Principal, table: str, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if (
        job is None
        or job.kind != KIND_NAME
        or job.payload.get("table") != table
        or not may_see(principal, job)
    ):
        raise NotFound(detail=f"no export {job_id} of {table} of yours", code="export_not_found")
    return job


def expires_at(job: Job) -> dt.datetime | None:
    return job.finished_at + KEEP if job.finished_at is not None else None


def state(session: Session, job: Job, directory: Path) -> dict[str, Any]:
    """What the export is: queued, running (rows written of how many), ready (to download, until
    when), refused (the CP932 gaps), expired (the file was removed) or failed (why)."""
    unit = _unit(session, int(job.id or 0))
    result = (unit.result if unit is not None else None) or {}
    out: dict[str, Any] = {
        "job_id": job.id,
        "rows_total": int(job.payload.get("count", 0)),
        "rows_written": int(result.get("rows_written", 0)),
        "format": job.payload["options"]["format"],
        "name": job.payload.get("name"),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "expires_at": None,
        "error": None,
        "gap_count": 0,
        "gaps": [],
    }
    if job.state in (JobState.queued, JobState.running):
        out["state"] = job.state
    elif job.state != JobState.done or unit is None:
        out["state"] = "failed"
        out["error"] = job.error or (unit.error if unit is not None else None) or job.state
    elif result.get("refused"):
        out["state"] = "refused"
        out["gap_count"] = int(result.get("gap_count", 0))
        out["gaps"] = result.get("gaps", [])
    else:
        out["expires_at"] = expires_at(job)
        path = directory / str(result.get("file", ""))
        expired = out["expires_at"] is not None and out["expires_at"] <= utcnow()
        if expired:
            path.unlink(missing_ok=True)
        out["state"] = "expired" if expired or not path.is_file() else "ready"
    return out


def ready_file(session: Session, job: Job, directory: Path) -> tuple[Path, dict[str, Any]]:
    """The file to send, or why not: 409 not yet (or refused), 410 expired or failed."""
    now = state(session, job, directory)
    if now["state"] == "ready":
        return directory / f"job-{job.id}.{now['format']}", now
    if now["state"] == "expired":
        raise Gone(
            detail=(
                f"This export's file was removed {KEEP.total_seconds() / 3600:.0f} hours after "
                "it was written; start the export again."
            ),
            code="export_expired",
        )
    if now["state"] == "refused":
        raise Conflict(
            detail=f"{now['gap_count']} value(s) cannot be written in CP932; no file was kept. "
            "Export as UTF-8, or again with replacement (〓).",
            code="export_refused",
        )
    if now["state"] == "failed":
        raise Gone(detail=f"This export failed: {now['error']}", code="export_failed")
    raise Conflict(
        detail="This export is not written yet; try again when its state is ready.",
        code="export_not_ready",
    )


def expire_files(session: Session, settings: Any) -> int:
    """Housekeeping: the files of export jobs that expired (24 h after they finished)."""
    return sweep(session, services.exports_dir(settings.var_dir))


def sweep(session: Session, directory: Path) -> int:
    """Remove the files of exports that expired (and of jobs gone from the table); how many."""
    found: dict[int, list[Path]] = {}
    for path in directory.glob("job-*"):
        number = path.name.removeprefix("job-").split(".")[0]
        if number.isdigit() and not path.name.endswith(".part"):
            found.setdefault(int(number), []).append(path)
    if not found:
        return 0
    cutoff = utcnow() - KEEP
    alive = {
        int(i or 0)
        for i, finished in session.exec(
            select(Job.id, Job.finished_at).where(col(Job.id).in_(sorted(found)))
        ).all()
        if finished is None or finished > cutoff
    }
    removed = 0
    for job_id, paths in found.items():
        if job_id not in alive:
            for path in paths:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _summary(payload: dict[str, Any]) -> str:
    fmt = payload.get("options", {}).get("format", "")
    return f"{payload.get('table', '')}: {fmt} ({payload.get('count', 0)})"


KIND = JobKind(
    name=KIND_NAME,
    side_effects=True,
    per_unit=run_unit,
    time_limit=dt.timedelta(hours=1),
    summary=_summary,
    label={"ja": "エクスポート", "en": "Export"},
)
