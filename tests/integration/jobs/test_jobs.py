"""The job table on both databases: atomic claim, settle, retry, recovery."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from api.db import Database, utcnow
from api.jobs import services
from api.jobs.models import Job, JobState


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(services, "_dispatcher", lambda job_id, kind: sent.append((job_id, kind)))
    return sent


def make(db: Database, **kw: object) -> str:
    with db.transaction() as s:
        return services.create_job(s, "test.kind", {"n": 1}, **kw).id  # type: ignore[arg-type]


def test_enqueued_only_after_commit(db: Database, dispatched: list[tuple[str, str]]) -> None:
    def failing_request() -> None:
        with db.transaction() as s:
            services.create_job(s, "test.kind", {})
            raise RuntimeError("request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert dispatched == []
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Job)).one() == 0
    job_id = make(db)
    assert dispatched == [(job_id, "test.kind")]


def test_only_one_of_many_concurrent_claimers_wins(
    db: Database, dispatched: list[tuple[str, str]]
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


def test_complete_only_by_owner(db: Database, dispatched: list[tuple[str, str]]) -> None:
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
    db: Database, dispatched: list[tuple[str, str]]
) -> None:
    job_id = make(db, max_attempts=2)
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


def test_not_claimed_before_run_after(db: Database, dispatched: list[tuple[str, str]]) -> None:
    job_id = make(db, run_after=utcnow() + timedelta(hours=1))
    assert dispatched == []  # not due: the janitor enqueues it later
    with db.transaction() as s:
        assert services.claim(s, job_id, "w") is None


def test_recovery(db: Database, dispatched: list[tuple[str, str]]) -> None:
    mail = make(db, side_effects=True)
    pure = make(db)
    lost = make(db)
    with db.transaction() as s:
        services.claim(s, mail, "dead-worker")
        services.claim(s, pure, "dead-worker")
    later = utcnow() + timedelta(minutes=10)
    with db.transaction() as s:
        recovery = services.recover(s, lease=timedelta(minutes=5), now=later)
    assert recovery.uncertain == [mail]
    assert sorted(j for j, _ in recovery.requeued) == sorted([pure, lost])
    with db.transaction() as s:
        assert services.get_job(s, mail).state == JobState.uncertain
        assert "may or may not" in (services.get_job(s, mail).error or "")
        assert services.get_job(s, pure).state == JobState.queued
    # Just re-enqueued: a second sweep right away does not enqueue them again.
    with db.transaction() as s:
        again = services.recover(s, lease=timedelta(minutes=5), now=later)
    assert again.requeued == [] and again.uncertain == []


def test_get_unknown_job(db: Database) -> None:
    from api.errors import NotFound

    with db.transaction() as s, pytest.raises(NotFound):
        services.get_job(s, "nope")
