"""Production wiring: the API enqueues on Redis, separate `kizuna worker` processes (started
as an operator would) run the job against PostgreSQL and deliver over SMTP."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.db import utcnow
from api.jobs import services as jobs
from api.mail.tasks import TEST_MAIL
from api.runtime import Runtime
from tests.fixtures.app import StaffClient
from tests.fixtures.live import KIZUNA, ROOT, kizuna_env
from tests.fixtures.smtp import SmtpSink
from tests.integration.workers.conftest import wait_for_job

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def settings_overrides(redis_url: str, smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"redis_url": redis_url, "smtp_url": smtp_sink.url}


@pytest.fixture
def worker_process(
    tmp_path: Path, database_url: str, redis_url: str, smtp_sink: SmtpSink
) -> Iterator[subprocess.Popen[bytes]]:
    env = kizuna_env(
        tmp_path / "worker-var",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SMTP_URL=smtp_sink.url,
        KIZUNA_JANITOR_INTERVAL_SECONDS="0.5",
    )
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [KIZUNA, "worker", "--processes", "1", "--threads", "2"], env=env, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    assert process.returncode is not None


def test_worker_process_sends_the_test_mail(
    admin: StaffClient, worker_process: Any, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    response = admin.post("/api/mail/test", json={"to": "hanako@example.jp"})
    assert response.status_code == 202, response.text
    job = wait_for_job(admin.get, response.json()["job"]["id"], timeout=60)
    assert job["state"] == "done", (job, (tmp_path / "worker.log").read_text())
    (received,) = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ["hanako@example.jp"]
    assert "テストメール" in str(received.message["Subject"])


def test_worker_janitor_recovers_a_job_whose_message_was_lost(
    runtime: Runtime, worker_process: Any, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    from datetime import timedelta

    with runtime.db.transaction() as s:
        job = jobs.create_job(s, TEST_MAIL, {"to": "lost@example.jp"},
                              run_after=utcnow() + timedelta(hours=1))  # fmt: skip
        job.run_after = utcnow()  # due now, but no message was ever sent (a Redis restart)
        s.add(job)
        job_id = job.id
    deadline = time.monotonic() + 60
    state = ""
    while time.monotonic() < deadline and state != "done":
        with runtime.db.transaction() as s:
            state = jobs.get_job(s, job_id).state
        time.sleep(0.2)
    assert state == "done", (tmp_path / "worker.log").read_text()
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ["lost@example.jp"]


def test_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    result = subprocess.run(
        [KIZUNA, "worker"], env=kizuna_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_worker_fails_fast_on_unreachable_redis(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    result = subprocess.run([KIZUNA, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "REDIS_URL" in result.stderr and "127.0.0.1:1" in result.stderr


def test_redis_down_after_start_does_not_fail_the_request(
    admin: StaffClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """The job row is committed; the janitor wakes a worker later. The user gets a 202."""
    from api.domain import job_registry
    from api.domains import DOMAINS
    from api.workers.broker import make_broker
    from api.workers.queue import JobQueue

    JobQueue(make_broker("redis://127.0.0.1:1/0"), runtime, job_registry(DOMAINS)).attach()
    response = admin.post("/api/mail/test", json={"to": "later@example.jp"})
    assert response.status_code == 202, response.text
    with runtime.db.transaction() as s:
        assert jobs.get_job(s, response.json()["job"]["id"]).state == "queued"
    assert "after-commit callback" in caplog.text  # the enqueue really failed, and was logged
