"""A worker killed with SIGKILL in the middle of a batch of mails: nothing is sent twice and
nothing is silently skipped (DESIGN.md "Jobs").

PostgreSQL, the Redis broker, real `kizuna worker` processes and an SMTP server: a batch job of
200 mails is queued, the worker process group is killed part-way, a new worker is started, and
every mail is then in the sink exactly once, or is reported uncertain by its recipient.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.domain import job_registry
from api.domains import DOMAINS
from api.jobs import services as jobs
from api.jobs.models import FINISHED_STATES, JobState, UnitState
from api.mail.services import OutgoingMail, queue_mail
from api.principal import cli_principal
from api.runtime import Runtime
from api.workers.broker import make_broker
from api.workers.queue import JobQueue
from tests.fixtures.live import KIZUNA, ROOT, kizuna_env
from tests.fixtures.smtp import SmtpSink

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

BATCH = 200
LEASE_SECONDS = 3


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def settings_overrides(redis_url: str, smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"redis_url": redis_url, "smtp_url": smtp_sink.url, "job_lease_seconds": LEASE_SECONDS}


@pytest.fixture
def start_worker(
    tmp_path: Path, database_url: str, redis_url: str, smtp_sink: SmtpSink
) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """`kizuna worker` as an operator starts it, in a process group of its own (dramatiq forks
    worker processes: SIGKILL goes to all of them at once, as when a machine dies)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        env = kizuna_env(
            tmp_path / f"{name}-var", DATABASE_URL=database_url, REDIS_URL=redis_url,
            SMTP_URL=smtp_sink.url, KIZUNA_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
            KIZUNA_JANITOR_INTERVAL_SECONDS="0.5",
        )  # fmt: skip
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [KIZUNA, "worker", "--processes", "1", "--threads", "2"], env=env, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    worker_logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs.glob("*.log"))
    raise AssertionError(f"{what} did not happen in {timeout}s\n{worker_logs}")


def test_sigkill_mid_batch_sends_each_mail_once_or_reports_it_uncertain(
    runtime: Runtime,
    smtp_sink: SmtpSink,
    start_worker: Callable[[str], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    smtp_sink.data_delay = 0.02  # each mail is in the sink a moment before the worker hears so
    queue = JobQueue(make_broker(runtime.settings.redis_url), runtime, job_registry(DOMAINS))
    queue.attach()
    recipients = [f"member{n:03d}@example.jp" for n in range(BATCH)]
    with runtime.db.transaction() as session:
        job = queue_mail(
            session, cli_principal("crash test"),
            [OutgoingMail(to=r, subject=f"お知らせ {r}", text=f"{r} 様\n本文です。") for r in recipients],
            about="crash test",
        )  # fmt: skip
        job_id = job.id
    assert job_id is not None

    first = start_worker("first")
    wait_until(lambda: len(smtp_sink.messages) >= 40, 90, "40 mails delivered", tmp_path)
    os.killpg(first.pid, signal.SIGKILL)  # no shutdown, no goodbye: the machine died
    first.wait(timeout=10)
    delivered_before_kill = len(smtp_sink.messages)
    assert delivered_before_kill < BATCH, "the worker finished before it could be killed"

    def job_state() -> str:
        with runtime.db.transaction() as session:
            return jobs.get_job(session, job_id).state

    assert job_state() == JobState.running  # the dead worker's claim is still there
    start_worker("second")
    wait_until(lambda: job_state() in FINISHED_STATES, 120, "the batch finished", tmp_path)

    with runtime.db.transaction() as session:
        finished = jobs.get_job(session, job_id)
        units, total = jobs.list_units(session, job_id, limit=BATCH)
    assert total == BATCH
    state_of = {u.key: u.state for u in units}
    sent = Counter(r for m in smtp_sink.messages for r in m.rcpt_tos)
    message_ids = Counter(str(m.message["Message-ID"]) for m in smtp_sink.messages)

    duplicates = {r: n for r, n in sent.items() if n > 1}
    assert duplicates == {}, f"sent twice: {duplicates}"
    assert max(message_ids.values()) == 1
    assert set(state_of.values()) <= {UnitState.done, UnitState.uncertain}, Counter(
        state_of.values()
    )
    skipped = [r for r in recipients if state_of[r] == UnitState.done and sent[r] != 1]
    assert skipped == [], f"marked done but never received: {skipped}"
    uncertain = sorted(r for r in recipients if state_of[r] == UnitState.uncertain)
    not_delivered = [r for r in recipients if sent[r] == 0]
    assert set(not_delivered) <= set(uncertain), "a mail was skipped without being reported"
    assert len(uncertain) <= 1  # one job runs in one thread: at most one mail in flight
    # The job says who a person must check, by recipient.
    if uncertain:
        assert finished.state == JobState.uncertain
        assert [u["key"] for u in finished.result["uncertain"]] == uncertain
        assert uncertain[0] in (finished.error or "")
    else:
        assert finished.state == JobState.done
    assert finished.units_finished == BATCH
    assert finished.result["units"]["done"] == BATCH - len(uncertain)
    queue.detach()
