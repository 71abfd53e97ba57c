"""The job table on both databases: atomic claim, settle, retry, recovery, units."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from api.db import Database, utcnow
from api.jobs import services
from api.jobs.kinds import JobKind, JobRegistry, RetryPolicy, UnitSpec
from api.jobs.models import Job, JobState, UnitState


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


PURE = JobKind(name="test.pure", side_effects=False, run=lambda ctx: None)
RETRIED = JobKind(name="test.retried", side_effects=False, run=lambda ctx: None,
                  retry=RetryPolicy(max_attempts=2))  # fmt: skip
MAIL = JobKind(name="test.mail", side_effects=True, per_unit=lambda unit: None)
REGISTRY = JobRegistry([PURE, RETRIED, MAIL])


@pytest.fixture
def dispatched(db: Database) -> list[tuple[int, str]]:
    sent: list[tuple[int, str]] = []
    db.dispatcher = lambda job_id, kind: sent.append((job_id, kind))
    return sent


def make(db: Database, kind: JobKind = PURE, **kw: Any) -> int:
    with db.transaction() as s:
        job_id = services.create_job(s, kind, {"n": 1}, **kw).id
    assert job_id is not None
    return job_id


def test_enqueued_only_after_commit(db: Database, dispatched: list[tuple[int, str]]) -> None:
    def failing_request() -> None:
        with db.transaction() as s:
            services.create_job(s, PURE, {})
            raise RuntimeError("request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert dispatched == []
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Job)).one() == 0
    job_id = make(db)
    assert dispatched == [(job_id, "test.pure")]


def test_without_a_queue_the_job_waits_for_a_worker(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """No queue in this process (a CLI command): the job is saved and the log says who runs it."""
    import logging

    caplog.set_level(logging.INFO, logger="api.db")
    job_id = make(db)
    assert f"job {job_id} (test.pure) saved; no queue in this process" in caplog.text


def test_ids_are_64_bit_and_increase(db: Database, dispatched: list[tuple[int, str]]) -> None:
    first, second = make(db), make(db)
    assert isinstance(first, int) and second > first
    with db.transaction() as s:  # room for more than 2**31 rows
        s.execute(
            services._JOB.insert().values(id=2**40, kind="test.pure", payload={}, created_by="")
        )
        assert services.get_job(s, 2**40).state == JobState.queued  # server-side defaults


def test_only_one_of_many_concurrent_claimers_wins(
    db: Database, dispatched: list[tuple[int, str]]
) -> None:
    job_id = make(db)
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        with db.transaction() as s:
            if services.claim(s, job_id, f"worker-{n}") is not None:
                winners.append(f"worker-{n}")

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    with db.transaction() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.state == JobState.running
        assert job.claimed_by == winners[0] and job.attempts == 1


def test_complete_only_by_owner(db: Database, dispatched: list[tuple[int, str]]) -> None:
    job_id = make(db)
    with db.transaction() as s:
        services.claim(s, job_id, "w1")
    with db.transaction() as s:
        assert not services.complete(s, job_id, "intruder", {"x": 1})
        assert services.complete(s, job_id, "w1", {"x": 1})
    with db.transaction() as s:
        job = services.get_job(s, job_id)
        assert job.state == JobState.done and job.result == {"x": 1} and job.finished_at


def test_fail_with_retry_goes_back_to_queue_until_attempts_run_out(
    db: Database, dispatched: list[tuple[int, str]]
) -> None:
    job_id = make(db, RETRIED)
    with db.transaction() as s:
        services.claim(s, job_id, "w")
        assert services.fail(s, job_id, "w", "SMTP 421", retry_in=timedelta(seconds=0)) == "queued"
    with db.transaction() as s:
        services.claim(s, job_id, "w")
        assert (
            services.fail(s, job_id, "w", "SMTP 421 again", retry_in=timedelta(seconds=0))
            == "failed"
        )
    with db.transaction() as s:
        job = services.get_job(s, job_id)
        assert job.state == JobState.failed and job.error == "SMTP 421 again" and job.attempts == 2


def test_not_claimed_before_run_after(db: Database, dispatched: list[tuple[int, str]]) -> None:
    job_id = make(db, run_after=utcnow() + timedelta(hours=1))
    assert dispatched == []  # not due: the janitor enqueues it later
    with db.transaction() as s:
        assert services.claim(s, job_id, "w") is None


def test_units_are_created_with_the_job_and_claimed_only_by_its_owner(
    db: Database, dispatched: list[tuple[int, str]]
) -> None:
    units = [UnitSpec(f"user{n}@example.jp", {"n": n}) for n in range(2500)]
    job_id = make(db, MAIL, units=units)
    with db.transaction() as s:
        job = services.get_job(s, job_id)
        assert job.units_total == 2500 and job.planned and job.units_finished == 0
        assert services.unit_counts(s, job_id) == {"pending": 2500}
        first = services.next_units(s, job_id, 3)
    assert [u.key for u in first] == ["user0@example.jp", "user1@example.jp", "user2@example.jp"]
    with db.transaction() as s:  # the job is not claimed: nobody may take its units
        assert not services.claim_unit(s, first[0].id, "w1")
    with db.transaction() as s:
        services.claim(s, job_id, "w1")
    with db.transaction() as s:
        assert not services.claim_unit(s, first[0].id, "intruder")
        assert services.claim_unit(s, first[0].id, "w1")
        assert not services.claim_unit(s, first[0].id, "w1")  # once
    with db.transaction() as s:
        assert not services.record_unit(s, first[0].id, "intruder", UnitState.done)
        assert services.record_unit(s, first[0].id, "w1", UnitState.done, result={"ok": 1})
    with db.transaction() as s:
        assert services.get_job(s, job_id).units_finished == 1
        assert services.unit_counts(s, job_id) == {"pending": 2499, "done": 1}


def test_recovery(db: Database, dispatched: list[tuple[int, str]]) -> None:
    """A vanished worker: the unit it had in flight becomes uncertain (never sent again), its
    job goes back to the queue to finish the other units; work without units is redone."""
    mail = make(db, MAIL, units=[UnitSpec("a@example.jp"), UnitSpec("b@example.jp")])
    pure = make(db)
    lost = make(db)
    orphan = make(db)
    with db.transaction() as s:
        s.get(Job, orphan).kind = "gone.kind"  # type: ignore[union-attr]
    with db.transaction() as s:
        services.claim(s, mail, "dead-worker")
        services.claim(s, pure, "dead-worker")
    with db.transaction() as s:
        in_flight = services.next_units(s, mail, 1)[0]
        assert services.claim_unit(s, in_flight.id, "dead-worker")
    later = utcnow() + timedelta(minutes=10)
    with db.transaction() as s:
        recovery = services.recover(s, REGISTRY, lease=timedelta(minutes=5), now=later)
    assert recovery.uncertain_units == {mail: 1}
    assert recovery.failed == [orphan]
    assert sorted(j for j, _ in recovery.requeued) == sorted([mail, pure, lost])
    with db.transaction() as s:
        assert services.get_job(s, mail).state == JobState.queued
        assert services.get_job(s, mail).units_finished == 1
        assert services.unit_counts(s, mail) == {"uncertain": 1, "pending": 1}
        (unit,), _ = services.list_units(s, mail, state="uncertain")
        assert unit.key == "a@example.jp" and "may or may not" in (unit.error or "")
        assert services.get_job(s, pure).state == JobState.queued
        assert services.get_job(s, orphan).state == JobState.failed
        # The dead worker, should it wake up, can no longer record or claim anything.
        assert not services.claim_unit(s, services.next_units(s, mail, 1)[0].id, "dead-worker")
    # Just re-enqueued: a second sweep right away does not enqueue them again.
    with db.transaction() as s:
        again = services.recover(s, REGISTRY, lease=timedelta(minutes=5), now=later)
    assert again.requeued == [] and again.uncertain_units == {} and again.failed == []


def test_get_unknown_job(db: Database) -> None:
    from api.errors import NotFound

    with db.transaction() as s, pytest.raises(NotFound):
        services.get_job(s, 12345)


def test_a_kind_with_side_effects_must_work_in_units() -> None:
    with pytest.raises(ValueError, match="must do them in per_unit"):
        JobKind(name="test.bad", side_effects=True, run=lambda ctx: None)
    with pytest.raises(ValueError, match="exactly one"):
        JobKind(name="test.bad", side_effects=False)
    with pytest.raises(ValueError, match=r"domain\.what"):
        JobKind(name="Bad Name", side_effects=False, run=lambda ctx: None)
    with pytest.raises(ValueError, match="declared twice"):
        JobRegistry([PURE, PURE])
