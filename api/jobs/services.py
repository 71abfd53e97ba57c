"""The job lifecycle: create, claim atomically, heartbeat, finish, fail, recover.

Every state change is a single conditional UPDATE, so two workers that receive the same
message (a redelivery, a recovery re-enqueue) cannot both run a job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, update
from sqlmodel import Session, col, select

from api.audit import services as audit
from api.db import paged, run_after_commit, utcnow
from api.errors import Conflict, NotFound
from api.jobs.models import Job, JobState
from api.principal import Principal

# Set by api.jobs.runner: how a job id reaches a worker (dramatiq), kept out of this module.
Dispatcher = Callable[[str, str], None]
_dispatcher: Dispatcher | None = None


def _rowcount(result: Any) -> int:
    """Rows matched by an UPDATE (how a conditional state change tells it won)."""
    return int(result.rowcount)


# Per job kind: a one-line, human description of a payload for the jobs screen (e.g. the
# recipient of a mail), so a person can check an uncertain job. Registered by each domain.
Summarizer = Callable[[dict[str, Any]], str]
_summarizers: dict[str, Summarizer] = {}


def register_summary(kind: str, summarize: Summarizer) -> None:
    _summarizers[kind] = summarize


def summary(job: Job) -> str | None:
    summarize = _summarizers.get(job.kind)
    if summarize is None:
        return None
    try:
        return summarize(job.payload)[:300]
    except Exception:  # a payload from an older version must not break the listing
        return None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def dispatch(job_id: str, kind: str) -> None:
    if _dispatcher is not None:
        _dispatcher(job_id, kind)


def create_job(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    created_by: str = "",
    side_effects: bool = False,
    max_attempts: int = 1,
    run_after: datetime | None = None,
) -> Job:
    """Insert the job; it is enqueued once the caller's transaction commits."""
    now = utcnow()
    job = Job(
        kind=kind,
        payload=payload,
        created_by=created_by,
        side_effects=side_effects,
        max_attempts=max_attempts,
        run_after=run_after or now,
        enqueued_at=now if run_after is None or run_after <= now else None,
    )
    session.add(job)  # the id is made in Python: no flush needed to know it
    if job.enqueued_at is not None:
        job_id = job.id
        run_after_commit(session, lambda: dispatch(job_id, kind))
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
    order = (col(Job.created_at).desc(), col(Job.id))
    return paged(session, query, *order, offset=offset, limit=limit)


def _settle_by_staff(
    session: Session,
    principal: Principal,
    job_id: str,
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
        session, principal, f"job.{action}", target_type="job", target_id=job_id,
        before=before, after={"state": values["state"]},
    )  # fmt: skip
    return job


def retry_job(session: Session, principal: Principal, job_id: str) -> Job:
    """Run a failed or uncertain job once more (for uncertain ones: after a person checked)."""
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
    kind = job.kind
    run_after_commit(session, lambda: dispatch(job_id, kind))
    return job


def cancel_job(session: Session, principal: Principal, job_id: str) -> Job:
    """Give up on a job that has not run, or close a failed/uncertain one as handled."""
    return _settle_by_staff(
        session,
        principal,
        job_id,
        allowed_from=frozenset({JobState.queued, JobState.failed, JobState.uncertain}),
        action="cancel",
        values={"state": JobState.cancelled.value, "finished_at": utcnow()},
    )


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(detail=f"No job with id {job_id}", code="job_not_found")
    return job


# The hot statements are built once: a worker runs them for every job it touches.
_JOB = Job.__table__  # type: ignore[attr-defined]
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
    .returning(_JOB.c.id, _JOB.c.kind, _JOB.c.attempts, _JOB.c.max_attempts, _JOB.c.side_effects)
)
_HEARTBEAT = (
    update(_JOB).where(_OWNED).values(heartbeat_at=bindparam("now"), updated_at=bindparam("now"))
)
_COMPLETE = (
    update(_JOB)
    .where(_OWNED)
    .values(
        state=JobState.done.value,
        result=bindparam("result", type_=_JOB.c.result.type),
        error=None,
        finished_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)


@dataclass(frozen=True, slots=True)
class Claim:
    """What a worker learns when it wins a job (a snapshot, not a tracked row)."""

    id: str
    kind: str
    attempts: int
    max_attempts: int
    side_effects: bool


def claim(session: Session, job_id: str, worker: str) -> Claim | None:
    """Take a queued job for ``worker``; None if another worker has it or it is not due.

    One conditional UPDATE … RETURNING: the winner gets the row, everyone else gets nothing.
    """
    row = session.execute(_CLAIM, {"job_id": job_id, "worker": worker, "now": utcnow()}).first()
    if row is None:
        return None
    return Claim(row.id, row.kind, row.attempts, row.max_attempts, row.side_effects)


def heartbeat(session: Session, job_id: str, worker: str) -> bool:
    """Tell the janitor the job is alive. False means the job was taken away from us."""
    result = session.execute(_HEARTBEAT, {"job_id": job_id, "worker": worker, "now": utcnow()})
    return _rowcount(result) == 1


def complete(session: Session, job_id: str, worker: str, result: dict[str, Any] | None) -> bool:
    params = {"job_id": job_id, "worker": worker, "now": utcnow(), "result": result}
    return _rowcount(session.execute(_COMPLETE, params)) == 1


def fail(
    session: Session, job_id: str, worker: str, error: str, *, retry_in: timedelta | None = None
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


# A queued job whose message was sent this long ago and still not claimed is sent again.
REDELIVER_AFTER = timedelta(minutes=2)


def interrupt(
    session: Session, job_id: str, worker: str, reason: str, *, requeue: bool
) -> str | None:
    """The worker was stopped mid-job (time limit, shutdown). A job with side effects becomes
    ``uncertain``; otherwise it is queued again (``requeue``) or failed."""
    job = session.get(Job, job_id)
    if job is None or job.state != JobState.running or job.claimed_by != worker:
        return None
    now = utcnow()
    extra: dict[str, datetime | None]
    if job.side_effects:
        state, extra = JobState.uncertain, {"finished_at": now}
        reason += "; it may or may not have completed. Check before running it again."
    elif requeue:
        state, extra = JobState.queued, {"run_after": now, "enqueued_at": None}
    else:
        state, extra = JobState.failed, {"finished_at": now}
    session.execute(
        update(_JOB).where(_OWNED).values(state=state.value, error=reason, updated_at=now, **extra),
        {"job_id": job_id, "worker": worker},
    )
    return state.value


@dataclass(frozen=True)
class Recovery:
    requeued: list[tuple[str, str]]  # (job id, kind) to enqueue again
    uncertain: list[str]  # job ids whose side effects may or may not have happened


def recover(
    session: Session,
    *,
    lease: timedelta,
    redeliver_after: timedelta = REDELIVER_AFTER,
    now: datetime | None = None,
    limit: int = 500,
) -> Recovery:
    """Find work whose worker vanished and work whose wake-up message was lost.

    * running with a heartbeat older than ``lease``: side-effect-free jobs go back to queued,
      the others become ``uncertain`` (never silently repeat a mail);
    * queued, due, and not enqueued in the last ``redeliver_after``: enqueue again (the atomic
      claim makes a duplicate message harmless).
    """
    now = now or utcnow()
    stale = now - lease
    uncertain_ids = list(
        session.exec(
            select(Job.id)
            .where(
                Job.state == JobState.running, col(Job.heartbeat_at) < stale, col(Job.side_effects)
            )
            .limit(limit)
        ).all()
    )
    if uncertain_ids:
        session.execute(
            update(Job)
            .where(col(Job.id).in_(uncertain_ids), col(Job.state) == JobState.running)
            .values(
                state=JobState.uncertain,
                finished_at=now,
                updated_at=now,
                error="The worker running this job stopped before reporting; it may or may not "
                "have completed. Check before running it again.",
            )
        )
    session.execute(
        update(Job)
        .where(
            col(Job.state) == JobState.running,
            col(Job.heartbeat_at) < stale,
            col(Job.side_effects).is_(False),
        )
        .values(state=JobState.queued, claimed_by=None, enqueued_at=None, updated_at=now)
    )
    due = session.exec(
        select(Job.id, Job.kind)
        .where(
            Job.state == JobState.queued,
            col(Job.run_after) <= now,
            or_(col(Job.enqueued_at).is_(None), col(Job.enqueued_at) < now - redeliver_after),
        )
        .order_by(col(Job.run_after))
        .limit(limit)
    ).all()
    requeued = [(job_id, kind) for job_id, kind in due]
    if requeued:
        session.execute(
            update(Job)
            .where(col(Job.id).in_([j for j, _ in requeued]))
            .values(enqueued_at=now, updated_at=now)
        )
    return Recovery(requeued=requeued, uncertain=uncertain_ids)
