"""The job lifecycle: create, claim atomically, heartbeat, finish, fail, recover; and units.

Every state change is a single conditional UPDATE, so two workers that receive the same
message (a redelivery, a recovery re-enqueue) cannot both run a job, and a worker that lost its
job (the janitor took it back) cannot claim or settle any of its units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from api.audit import services as audit
from api.db import paged, run_after_commit, utcnow
from api.errors import Conflict, NotFound
from api.jobs.kinds import JobKind, JobRegistry, UnitSpec
from api.jobs.models import Job, JobState, JobUnit, UnitState
from api.principal import Principal

_JOB = Job.__table__  # type: ignore[attr-defined]
_UNIT = JobUnit.__table__  # type: ignore[attr-defined]

# A queued job whose message was sent this long ago and still not claimed is sent again.
REDELIVER_AFTER = timedelta(minutes=2)
# How many uncertain or failed units a finished job names in its result.
REPORT_UNITS = 50


def _rowcount(result: Any) -> int:
    """Rows matched by an UPDATE (how a conditional state change tells it won)."""
    return int(result.rowcount)


def _dispatch_after_commit(session: Session, job_id: int, kind: str) -> None:
    database = session.info.get("database")
    if database is None:
        raise RuntimeError("jobs must be created in a session of api.db.Database")
    run_after_commit(session, lambda: database.dispatch(job_id, kind))


# ------------------------------------------------------------------------------ creating


def create_job(
    session: Session,
    kind: JobKind,
    payload: dict[str, Any],
    *,
    created_by: str = "",
    run_after: datetime | None = None,
    units: Iterable[UnitSpec] | None = None,
) -> Job:
    """Insert the job (and its units, if known now); it is enqueued once the caller's
    transaction commits. Side effects, retries and queue come from ``kind``."""
    now = utcnow()
    due = run_after is None or run_after <= now
    job = Job(
        kind=kind.name,
        payload=payload,
        created_by=created_by,
        max_attempts=kind.retry.max_attempts,
        run_after=run_after or now,
        enqueued_at=now if due else None,
    )
    session.add(job)
    session.flush()
    assert job.id is not None
    if units is not None:
        add_units(session, job.id, units)
        job.planned = True
        session.add(job)
    if due:
        _dispatch_after_commit(session, job.id, kind.name)
    return job


def add_units(session: Session, job_id: int, units: Iterable[UnitSpec], *, start: int = 0) -> int:
    """Add units to a job in bulk (one multi-row INSERT per thousand)."""
    count = 0
    batch: list[dict[str, Any]] = []
    for seq, unit in enumerate(units, start=start):
        batch.append(
            {
                "job_id": job_id,
                "seq": seq,
                "key": unit.key[:300],
                "payload": unit.payload,
                "state": UnitState.pending.value,
                "attempts": 0,
            }
        )
        if len(batch) == 1000:
            session.execute(insert(_UNIT), batch)
            count, batch = count + len(batch), []
    if batch:
        session.execute(insert(_UNIT), batch)
        count += len(batch)
    session.execute(
        update(_JOB)
        .where(_JOB.c.id == job_id)
        .values(units_total=_JOB.c.units_total + count, updated_at=utcnow())
    )
    return count


# ------------------------------------------------------------------------------ reading


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(detail=f"No job with id {job_id}", code="job_not_found")
    return job


def job_for(session: Session, job_id: int, kind: str, scope: Mapping[str, Any], what: str) -> Job:
    """A job of ``kind`` whose payload holds ``scope`` (a bulk action on this table…): one
    of another kind or scope is not found either (404 ``job_not_found``, ``what`` naming
    what was asked for)."""
    job = session.get(Job, job_id)
    if job is None or job.kind != kind or any(job.payload.get(k) != v for k, v in scope.items()):
        raise NotFound(detail=f"no {what}", code="job_not_found")
    return job


def list_jobs(
    session: Session,
    *,
    state: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Job], int]:
    query = select(Job)
    if state:
        query = query.where(Job.state == state)
    if kind:
        query = query.where(col(Job.kind).startswith(kind, autoescape=True))
    return paged(session, query, col(Job.id).desc(), offset=offset, limit=limit)


def list_units(
    session: Session, job_id: int, *, state: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[JobUnit], int]:
    get_job(session, job_id)
    query = select(JobUnit).where(JobUnit.job_id == job_id)
    if state:
        query = query.where(JobUnit.state == state)
    return paged(session, query, col(JobUnit.seq), offset=offset, limit=limit)


def unit_counts(session: Session, job_id: int) -> dict[str, int]:
    rows = session.execute(
        core_select(_UNIT.c.state, func.count())
        .where(_UNIT.c.job_id == job_id)
        .group_by(_UNIT.c.state)
    ).all()
    return {str(state): int(n) for state, n in rows}


# ------------------------------------------------------------------------------ staff actions


def _settle_by_staff(
    session: Session,
    principal: Principal,
    job_id: int,
    *,
    allowed_from: frozenset[JobState],
    action: str,
    values: dict[str, Any],
) -> Job:
    job = get_job(session, job_id)
    before = {"state": job.state}
    if job.state not in allowed_from:
        raise Conflict(
            detail=f"A {job.state} job cannot be {action}; only "
            + ", ".join(sorted(s.value for s in allowed_from))
            + " jobs can",
            code="job_state_conflict",
        )
    result = session.execute(
        update(_JOB)
        .where(_JOB.c.id == job_id, _JOB.c.state == job.state)
        .values(updated_at=utcnow(), **values)
    )
    if _rowcount(result) != 1:  # a worker changed it meanwhile
        raise Conflict(detail="The job changed meanwhile; reload and try again", code="job_changed")
    session.expire(job)
    audit.record(
        session,
        principal,
        f"job.{action}",
        target_type="job",
        target_id=job_id,
        before=before,
        after={"state": values["state"]},
    )
    return job


def retry_job(session: Session, principal: Principal, job_id: int) -> Job:
    """Run a failed or uncertain job once more, after a person checked it.

    Its failed and uncertain units are tried again; units that were done stay done.
    """
    job = _settle_by_staff(
        session,
        principal,
        job_id,
        allowed_from=frozenset({JobState.failed, JobState.uncertain}),
        action="retry",
        values={
            "state": JobState.queued.value,
            "run_after": utcnow(),
            "enqueued_at": utcnow(),
            "finished_at": None,
            "max_attempts": _JOB.c.attempts + 1,
        },
    )
    reopened = session.execute(
        update(_UNIT)
        .where(
            _UNIT.c.job_id == job_id,
            _UNIT.c.state.in_([UnitState.failed.value, UnitState.uncertain.value]),
        )
        .values(state=UnitState.pending.value, claimed_by=None, updated_at=utcnow())
    )
    if _rowcount(reopened):
        session.execute(
            update(_JOB)
            .where(_JOB.c.id == job_id)
            .values(units_finished=_JOB.c.units_finished - _rowcount(reopened))
        )
    _dispatch_after_commit(session, job_id, job.kind)
    return job


def cancel_job(
    session: Session, principal: Principal, job_id: int, registry: JobRegistry | None = None
) -> Job:
    """Give up on a job that has not run, or close a failed/uncertain one as handled. With
    the ``registry``, the job's kind hears of it (``on_stopped``) in the same transaction."""
    job = _settle_by_staff(
        session,
        principal,
        job_id,
        allowed_from=frozenset({JobState.queued, JobState.failed, JobState.uncertain}),
        action="cancel",
        values={"state": JobState.cancelled.value, "finished_at": utcnow()},
    )
    kind = registry.get(job.kind) if registry is not None else None
    if kind is not None:
        kind.stopped(session, job, JobState.cancelled.value, "cancelled by staff")
    return job


# ------------------------------------------------------------------------------ the worker side
# The hot statements are built once: a worker runs them for every job and unit it touches.

_OWNED = and_(
    _JOB.c.id == bindparam("job_id"),
    _JOB.c.state == JobState.running.value,
    _JOB.c.claimed_by == bindparam("worker"),
)
_CLAIM = (
    update(_JOB)
    .where(
        _JOB.c.id == bindparam("job_id"),
        _JOB.c.state == JobState.queued.value,
        _JOB.c.run_after <= bindparam("now"),
    )
    .values(
        state=JobState.running.value,
        claimed_by=bindparam("worker"),
        claimed_at=bindparam("now"),
        heartbeat_at=bindparam("now"),
        updated_at=bindparam("now"),
        attempts=_JOB.c.attempts + 1,
    )
    .returning(_JOB.c.id, _JOB.c.kind, _JOB.c.attempts, _JOB.c.max_attempts, _JOB.c.planned)
)
_HEARTBEAT = (
    update(_JOB).where(_OWNED).values(heartbeat_at=bindparam("now"), updated_at=bindparam("now"))
)
_COMPLETE = (
    update(_JOB)
    .where(_OWNED)
    .values(
        state=bindparam("state"),
        result=bindparam("result", type_=_JOB.c.result.type),
        error=bindparam("error"),
        finished_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)
_JOB_IS_OURS = exists().where(
    _JOB.c.id == _UNIT.c.job_id,
    _JOB.c.state == JobState.running.value,
    _JOB.c.claimed_by == bindparam("worker"),
)
_NEXT_UNITS = (
    core_select(_UNIT.c.id, _UNIT.c.seq, _UNIT.c.key, _UNIT.c.payload, _UNIT.c.attempts)
    .where(_UNIT.c.job_id == bindparam("job_id"), _UNIT.c.state == UnitState.pending.value)
    .order_by(_UNIT.c.seq)
    .limit(bindparam("limit"))
)
_CLAIM_UNIT = (
    update(_UNIT)
    .where(
        _UNIT.c.id == bindparam("unit_id"),
        _UNIT.c.state == UnitState.pending.value,
        _JOB_IS_OURS,
    )
    .values(
        state=UnitState.running.value,
        claimed_by=bindparam("worker"),
        attempts=_UNIT.c.attempts + 1,
        updated_at=bindparam("now"),
    )
)
# The worker that claimed a unit records its outcome; it may also correct an "uncertain" that
# the janitor set meanwhile (it knows better: the call returned).
_RECORD_UNIT = (
    update(_UNIT)
    .where(
        _UNIT.c.id == bindparam("unit_id"),
        _UNIT.c.claimed_by == bindparam("worker"),
        _UNIT.c.state == bindparam("from_state"),
    )
    .values(
        state=bindparam("state"),
        result=bindparam("result", type_=_UNIT.c.result.type),
        error=bindparam("error"),
        updated_at=bindparam("now"),
    )
    .returning(_UNIT.c.job_id)
)
_COUNT_FINISHED = (
    update(_JOB)
    .where(_JOB.c.id == bindparam("job_id"))
    .values(units_finished=_JOB.c.units_finished + 1, updated_at=bindparam("now"))
)


@dataclass(frozen=True, slots=True)
class Claim:
    """What a worker learns when it wins a job (a snapshot, not a tracked row)."""

    id: int
    kind: str
    attempts: int
    max_attempts: int
    planned: bool


def claim(session: Session, job_id: int, worker: str) -> Claim | None:
    """Take a queued job for ``worker``; None if another worker has it or it is not due.

    One conditional UPDATE … RETURNING: the winner gets the row, everyone else gets nothing.
    """
    row = session.execute(_CLAIM, {"job_id": job_id, "worker": worker, "now": utcnow()}).first()
    if row is None:
        return None
    return Claim(row.id, row.kind, row.attempts, row.max_attempts, row.planned)


def heartbeat(session: Session, job_id: int, worker: str) -> bool:
    """Tell the janitor the job is alive. False means the job was taken away from us."""
    result = session.execute(_HEARTBEAT, {"job_id": job_id, "worker": worker, "now": utcnow()})
    return _rowcount(result) == 1


def complete(
    session: Session,
    job_id: int,
    worker: str,
    result: dict[str, Any] | None,
    *,
    state: JobState = JobState.done,
    error: str | None = None,
) -> bool:
    params = {
        "job_id": job_id,
        "worker": worker,
        "now": utcnow(),
        "result": result,
        "state": state.value,
        "error": error,
    }
    return _rowcount(session.execute(_COMPLETE, params)) == 1


def requeue(session: Session, job_id: int, worker: str, *, delay: timedelta, reason: str) -> bool:
    """Give our job back to the queue, due after ``delay`` (the janitor will enqueue it)."""
    now = utcnow()
    result = session.execute(
        update(_JOB)
        .where(_OWNED)
        .values(
            state=JobState.queued.value,
            run_after=now + delay,
            enqueued_at=None,
            claimed_by=None,
            error=reason[:4000],
            updated_at=now,
        ),
        {"job_id": job_id, "worker": worker},
    )
    return _rowcount(result) == 1


def fail(
    session: Session, job_id: int, worker: str, error: str, *, retry_in: timedelta | None = None
) -> str | None:
    """Record a failure. With ``retry_in`` and attempts left, the job goes back to queued."""
    job = session.get(Job, job_id)
    if job is None or job.state != JobState.running or job.claimed_by != worker:
        return None
    now = utcnow()
    retry = retry_in is not None and job.attempts < job.max_attempts
    values: dict[str, Any] = {"error": error[:4000], "updated_at": now}
    if retry:
        assert retry_in is not None
        values.update(state=JobState.queued, run_after=now + retry_in, enqueued_at=None)
    else:
        values.update(state=JobState.failed, finished_at=now)
    session.execute(
        update(_JOB).where(_OWNED).values(**values), {"job_id": job_id, "worker": worker}
    )
    return str(values["state"])


# ------------------------------------------------------------------------------ units


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    seq: int
    key: str
    payload: dict[str, Any]
    attempts: int


def plan_units(session: Session, job_id: int, units: Iterable[UnitSpec]) -> int:
    """Store the units a job made at its first run, once (``planned`` guards a second time)."""
    won = session.execute(
        update(_JOB).where(_JOB.c.id == job_id, _JOB.c.planned.is_(False)).values(planned=True)
    )
    if _rowcount(won) != 1:
        return 0
    return add_units(session, job_id, units)


def next_units(session: Session, job_id: int, limit: int = 100) -> list[UnitRow]:
    rows = session.execute(_NEXT_UNITS, {"job_id": job_id, "limit": limit}).all()
    return [UnitRow(r.id, r.seq, r.key, r.payload, r.attempts) for r in rows]


def claim_unit(session: Session, unit_id: int, worker: str) -> bool:
    """Take a pending unit, if its job is still ours. For side effects, commit this before
    the external call: from then on a crash leaves the unit ``running``, never forgotten."""
    params = {"unit_id": unit_id, "worker": worker, "now": utcnow()}
    return _rowcount(session.execute(_CLAIM_UNIT, params)) == 1


def unit_progress(session: Session, unit_id: int, worker: str, progress: dict[str, Any]) -> bool:
    """How far a running unit of ours got (its result until it finishes, e.g. rows written),
    for a progress bar; the unit's outcome replaces it."""
    done = session.execute(
        update(_UNIT)
        .where(
            _UNIT.c.id == unit_id,
            _UNIT.c.claimed_by == worker,
            _UNIT.c.state == UnitState.running.value,
        )
        .values(result=progress, updated_at=utcnow())
    )
    return _rowcount(done) == 1


def record_unit(
    session: Session,
    unit_id: int,
    worker: str,
    state: UnitState,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """The outcome of a unit we claimed; a final outcome counts towards the job's progress.

    If the janitor marked the unit uncertain meanwhile (it thought this worker dead), the
    worker's own outcome replaces that guess: it knows, since the call returned."""
    now = utcnow()
    params = {
        "unit_id": unit_id,
        "worker": worker,
        "state": state.value,
        "result": result,
        "error": error[:4000] if error else None,
        "now": now,
    }
    row = session.execute(_RECORD_UNIT, {**params, "from_state": UnitState.running.value}).first()
    if row is not None:
        if state in (UnitState.done, UnitState.failed, UnitState.uncertain):
            session.execute(_COUNT_FINISHED, {"job_id": row.job_id, "now": now})
        return True
    if state not in (UnitState.done, UnitState.failed):
        return False
    corrected = session.execute(_RECORD_UNIT, {**params, "from_state": UnitState.uncertain.value})
    return corrected.first() is not None


def settle_running_units(
    session: Session, job_id: int, *, worker: str | None = None, reason: str
) -> int:
    """Units caught in flight (claimed, outcome unknown) become ``uncertain``."""
    query = update(_UNIT).where(_UNIT.c.job_id == job_id, _UNIT.c.state == UnitState.running.value)
    if worker is not None:
        query = query.where(_UNIT.c.claimed_by == worker)
    now = utcnow()
    count = _rowcount(
        session.execute(query.values(state=UnitState.uncertain.value, error=reason, updated_at=now))
    )
    if count:
        session.execute(
            update(_JOB)
            .where(_JOB.c.id == job_id)
            .values(units_finished=_JOB.c.units_finished + count, updated_at=now)
        )
    return count


def reopen_retry_units(session: Session, job_id: int) -> int:
    """Units that failed for now go back to pending for the next attempt."""
    return _rowcount(
        session.execute(
            update(_UNIT)
            .where(_UNIT.c.job_id == job_id, _UNIT.c.state == UnitState.retry.value)
            .values(state=UnitState.pending.value, claimed_by=None, updated_at=utcnow())
        )
    )


def give_up_retry_units(session: Session, job_id: int, reason: str) -> int:
    return _give_up(session, job_id, UnitState.retry, reason)


def give_up_pending_units(session: Session, job_id: int, reason: str) -> int:
    return _give_up(session, job_id, UnitState.pending, reason)


def _give_up(session: Session, job_id: int, state: UnitState, reason: str) -> int:
    """Units in ``state`` fail for good (nothing happened to them, and nothing will)."""
    now = utcnow()
    count = _rowcount(
        session.execute(
            update(_UNIT)
            .where(_UNIT.c.job_id == job_id, _UNIT.c.state == state.value)
            .values(
                state=UnitState.failed.value,
                updated_at=now,
                error=func.coalesce(_UNIT.c.error, reason),
            )
        )
    )
    if count:
        session.execute(
            update(_JOB)
            .where(_JOB.c.id == job_id)
            .values(units_finished=_JOB.c.units_finished + count, updated_at=now)
        )
    return count


def unit_report(session: Session, job_id: int, state: UnitState) -> list[dict[str, Any]]:
    """The first units in ``state`` (recipient and reason), for the job's result."""
    rows = session.execute(
        core_select(_UNIT.c.key, _UNIT.c.error)
        .where(_UNIT.c.job_id == job_id, _UNIT.c.state == state.value)
        .order_by(_UNIT.c.seq)
        .limit(REPORT_UNITS)
    ).all()
    return [{"key": key, "error": error} for key, error in rows]


# ------------------------------------------------------------------------------ recovery


@dataclass(frozen=True)
class Recovery:
    requeued: list[tuple[int, str]]  # (job id, kind) to enqueue again
    uncertain_units: dict[int, int]  # job id → units caught in flight, now uncertain
    failed: list[int]  # jobs of a kind no installed domain declares


def recover(
    session: Session,
    registry: JobRegistry,
    *,
    lease: timedelta,
    redeliver_after: timedelta = REDELIVER_AFTER,
    now: datetime | None = None,
    limit: int = 500,
) -> Recovery:
    """Find work whose worker vanished and work whose wake-up message was lost.

    * running with a heartbeat older than ``lease``: the units it had in flight become
      ``uncertain`` (never silently repeat a mail), and the job goes back to queued so a live
      worker finishes its remaining units; work without units was rolled back with its worker;
    * queued, due, and not enqueued in the last ``redeliver_after``: enqueue again (the atomic
      claim makes a duplicate message harmless);
    * a job of a kind no installed domain declares fails, saying so.
    """
    now = now or utcnow()
    stale = now - lease
    lost = session.execute(
        core_select(_JOB.c.id, _JOB.c.kind)
        .where(_JOB.c.state == JobState.running.value, _JOB.c.heartbeat_at < stale)
        .limit(limit)
    ).all()
    uncertain_units: dict[int, int] = {}
    for job_id, _kind in lost:
        count = settle_running_units(
            session,
            job_id,
            reason="The worker sending this stopped before reporting; it may or may not have "
            "been delivered. Check before sending it again.",
        )
        if count:
            uncertain_units[job_id] = count
        session.execute(
            update(_JOB)
            .where(_JOB.c.id == job_id, _JOB.c.state == JobState.running.value)
            .values(
                state=JobState.queued.value,
                claimed_by=None,
                enqueued_at=None,
                run_after=now,
                updated_at=now,
            )
        )
    failed = [
        int(job_id)
        for (job_id,) in session.execute(
            core_select(_JOB.c.id)
            .where(
                _JOB.c.state == JobState.queued.value,
                _JOB.c.kind.not_in([kind.name for kind in registry]),
            )
            .limit(limit)
        ).all()
    ]
    if failed:
        session.execute(
            update(_JOB)
            .where(_JOB.c.id.in_(failed), _JOB.c.state == JobState.queued.value)
            .values(
                state=JobState.failed.value,
                finished_at=now,
                updated_at=now,
                error="No installed domain declares this kind of job any more",
            )
        )
    due = session.execute(
        core_select(_JOB.c.id, _JOB.c.kind)
        .where(
            _JOB.c.state == JobState.queued.value,
            _JOB.c.run_after <= now,
            or_(_JOB.c.enqueued_at.is_(None), _JOB.c.enqueued_at < now - redeliver_after),
        )
        .order_by(_JOB.c.run_after)
        .limit(limit)
    ).all()
    requeued = [(int(job_id), str(kind)) for job_id, kind in due]
    if requeued:
        session.execute(
            update(_JOB)
            .where(_JOB.c.id.in_([j for j, _ in requeued]))
            .values(enqueued_at=now, updated_at=now)
        )
    return Recovery(requeued=requeued, uncertain_units=uncertain_units, failed=failed)
