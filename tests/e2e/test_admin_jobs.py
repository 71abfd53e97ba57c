"""The jobs screen: a mail job whose worker vanished is found, checked and retried by an admin."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from api.db import Database, utcnow
from api.jobs import services as jobs
from api.jobs.kinds import UnitSpec
from api.jobs.models import Job, JobState
from api.mail.tasks import TEST_MAIL
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

REQUESTER = "ジョブ確認 花子 <e2e-jobs@example.jp>"


@pytest.fixture
def live_db(live_server: LiveServer) -> Iterator[Database]:
    """The live server's own SQLite database, opened from the test process."""
    db = Database(f"sqlite:///{live_server.var_dir / 'kizuna.db'}")
    yield db
    db.dispose()


def make_uncertain_mail_job(db: Database) -> int:
    """A test mail whose worker vanished while sending: the janitor marks the mail uncertain,
    and the live server's worker finishes the job as uncertain (nothing is sent again)."""
    with db.transaction() as session:
        job = jobs.create_job(
            session, TEST_MAIL, {"to": "e2e-jobs@example.jp", "requested_by": REQUESTER},
            created_by=REQUESTER, run_after=utcnow() + timedelta(hours=1),
            units=[UnitSpec("e2e-jobs@example.jp", {"to": "e2e-jobs@example.jp"})],
        )  # fmt: skip
        job_id = job.id
        assert job_id is not None
    with db.transaction() as session:
        session.execute(
            jobs._JOB.update().where(jobs._JOB.c.id == job_id).values(run_after=utcnow())
        )
    with db.transaction() as session:
        assert jobs.claim(session, job_id, "e2e:vanished-worker") is not None
        assert jobs.claim_unit(
            session, jobs.next_units(session, job_id)[0].id, "e2e:vanished-worker"
        )
        session.execute(  # its heartbeat stopped long ago
            jobs._JOB.update().where(jobs._JOB.c.id == job_id)
            .values(heartbeat_at=utcnow() - timedelta(days=1))
        )  # fmt: skip
    # The live server's janitor finds it, marks the mail uncertain, and its worker finishes it.
    deadline = time.monotonic() + 30
    while job_state(db, job_id) != JobState.uncertain and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job_state(db, job_id) == JobState.uncertain
    return job_id


def job_state(db: Database, job_id: int) -> str:
    with db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.state


def test_admin_retries_an_uncertain_mail_job(
    live_server: LiveServer, live_db: Database, page: Page, screenshot: Callable[..., Path]
) -> None:
    job_id = make_uncertain_mail_job(live_db)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(live_server.url + "/admin/")
    page.get_by_label("メールアドレス").fill(live_server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(live_server.password)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("navigation").get_by_role("link", name="ジョブ").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("ジョブ")
    notice = page.locator("[data-testid=jobs-uncertain-notice]")
    expect(notice).to_contain_text("実行中に処理が中断されたジョブがあります")
    row = page.get_by_role("row").filter(has_text="ジョブ確認 花子")
    state = row.get_by_role("cell").first
    expect(state).to_have_text("結果不明")
    expect(row).to_contain_text("テストメール")
    # Whom the mail was for, so the admin knows which mailbox to check.
    summary = row.locator("[data-testid=job-summary]")
    expect(summary).to_have_text("→ e2e-jobs@example.jp")
    expect(summary).to_be_visible()
    screenshot(page, "uncertain")

    # The details explain what happened and keep the worker's message.
    row.click()
    detail = page.locator("[data-testid=job-detail]")
    expect(detail).to_contain_text(str(job_id))
    expect(detail).to_contain_text("完了したかどうか分かりません")
    expect(detail.get_by_text("→ e2e-jobs@example.jp")).to_be_visible()
    # The recipient the worker was sending to when it vanished, listed to be checked.
    units = detail.locator("[data-testid=job-units]")
    expect(units).to_contain_text("確認が必要な宛先")
    expect(units.get_by_role("row").filter(has_text="e2e-jobs@example.jp")).to_contain_text(
        "結果不明"
    )
    screenshot(page, "detail")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    # Retrying warns that the mail may go out twice; then the job runs and is done.
    row.get_by_role("button", name="再実行").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("二重に送信")
    expect(confirm).to_contain_text("送信済みの宛先には送りません")
    screenshot(page, "confirm")
    confirm.get_by_role("button", name="再実行する").click()
    expect(state).to_have_text("完了", timeout=20_000)
    expect(page.get_by_text("再実行した「テストメール」が完了しました")).to_be_visible()
    expect(notice).to_be_hidden()
    screenshot(page, "done")

    assert job_state(live_db, job_id) == JobState.done
    assert errors == []
