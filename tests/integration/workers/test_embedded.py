"""In-process workers (the embedded default): a staff test mail runs through the job table,
a dramatiq worker thread and the real transport (dev outbox, or SMTP into aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.db import utcnow
from api.domain import job_registry
from api.domains import DOMAINS
from api.jobs import services as jobs
from api.jobs.kinds import UnitSpec
from api.mail.outbox import list_messages, read_message
from api.mail.tasks import TEST_MAIL
from api.runtime import Runtime
from api.settings import Settings
from tests.fixtures.app import StaffClient
from tests.fixtures.smtp import SmtpSink
from tests.integration.workers.conftest import wait_for_job


def send_test_mail(who: StaffClient, to: str = "山田太郎 <taro@example.jp>") -> dict[str, Any]:
    response = who.post("/api/mail/test", json={"to": "taro@example.jp"})
    assert response.status_code == 202, response.text
    assert response.json()["job"]["state"] == "queued"
    return wait_for_job(who.get, response.json()["job"]["id"])


def test_test_mail_lands_in_the_dev_outbox(admin: StaffClient, settings: Settings) -> None:
    job = send_test_mail(admin)
    assert job["state"] == "done", job
    items, total = list_messages(settings.outbox_dir)
    assert total == 1 and items[0].to == ["taro@example.jp"]
    message = read_message(settings.outbox_dir, items[0].id)
    assert "テストメール" in message.subject
    assert "メール送信の設定は正しく動作しています" in message.text
    assert message.html and "<h1" in message.html
    listed = admin.get("/api/outbox").json()
    assert listed["enabled"] and listed["items"][0]["subject"] == message.subject
    detail = admin.get(f"/api/outbox/{items[0].id}").json()
    assert detail["has_html"] and "テストメール" in detail["subject"]
    html = admin.get(f"/api/outbox/{items[0].id}/html")
    assert html.headers["content-security-policy"].startswith("sandbox")
    raw = admin.get(f"/api/outbox/{items[0].id}/raw")
    assert raw.headers["content-type"].startswith("message/rfc822") and b"Subject:" in raw.content
    assert admin.get("/api/outbox/..%2Fsecrets").status_code == 404
    assert admin.delete("/api/outbox").status_code == 204
    assert admin.get("/api/outbox").json()["total"] == 0
    cleared = admin.get("/api/audit", params={"action": "outbox.clear"}).json()["items"]
    assert cleared[0]["after"] == {"removed": 1}


def test_invalid_recipient_is_refused_before_any_job(admin: StaffClient) -> None:
    response = admin.post("/api/mail/test", json={"to": "not an address"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"


class TestOverSmtp:
    @pytest.fixture
    def settings_overrides(self, smtp_sink: SmtpSink) -> dict[str, Any]:
        return {"smtp_url": smtp_sink.url}

    def test_test_mail_is_delivered_over_smtp_with_live_settings(
        self, admin: StaffClient, smtp_sink: SmtpSink
    ) -> None:
        admin.patch(
            "/api/settings",
            json={
                "values": {
                    "mail.sender_name": "絆 事務局",
                    "mail.sender_address": "office@example.jp",
                }
            },
        )
        job = send_test_mail(admin)
        assert job["state"] == "done", job
        (received,) = smtp_sink.wait_for(1)
        assert received.rcpt_tos == ["taro@example.jp"]
        assert received.mail_from == "office@example.jp"
        assert str(received.message["From"]) == "絆 事務局 <office@example.jp>"
        assert admin.get("/api/outbox").json()["enabled"] is False

    def test_smtp_refusal_is_reported_on_the_job(
        self, admin: StaffClient, smtp_sink: SmtpSink
    ) -> None:
        smtp_sink.fail("RCPT", "550 5.1.1 No such user")
        job = send_test_mail(admin)
        assert job["state"] == "failed"
        assert "550" in job["error"]

    def test_a_connection_lost_after_the_data_makes_the_mail_uncertain_not_resent(
        self, admin: StaffClient, smtp_sink: SmtpSink
    ) -> None:
        """The server kept the message but hung up before saying so: the transport cannot know,
        the job says so by recipient, and nothing is sent again."""
        smtp_sink.hang_up_after_data = True
        job = send_test_mail(admin)
        assert job["state"] == "uncertain", job
        assert job["result"]["uncertain"][0]["key"] == "taro@example.jp"
        assert "taro@example.jp" in job["error"]
        units = admin.get(f"/api/jobs/{job['id']}/units", params={"state": "uncertain"}).json()
        assert units["total"] == 1 and units["items"][0]["attempts"] == 1
        assert len(smtp_sink.messages) == 1


@pytest.fixture
def recovered_app(settings: Settings, runtime: Runtime) -> Iterator[tuple[TestClient[Any], int]]:
    """A job left queued with no message (the in-process queue died with the last process)."""
    with runtime.db.transaction() as s:
        # Due in the future, so nothing is enqueued now; then made due, as after a restart.
        job = jobs.create_job(s, TEST_MAIL, {"to": "taro@example.jp"},
                              run_after=utcnow() + timedelta(hours=1))  # fmt: skip
        job.run_after = utcnow()
        s.add(job)
        job_id = job.id
    with TestClient(create_app(settings, runtime=runtime)) as client:
        yield client, job_id


def test_janitor_runs_work_lost_by_a_restart(
    recovered_app: tuple[TestClient[Any], int], runtime: Runtime
) -> None:
    import time

    _, job_id = recovered_app
    deadline = time.monotonic() + 10
    state = ""
    while time.monotonic() < deadline:
        with runtime.db.transaction() as s:
            state = jobs.get_job(s, job_id).state
        if state == "done":
            break
        time.sleep(0.1)
    assert state == "done"
    assert list_messages(runtime.settings.outbox_dir)[1] == 1


def test_failed_job_is_listed_and_retried_by_an_admin(
    admin: StaffClient, runtime: Runtime, login_as: Any
) -> None:
    with runtime.db.transaction() as s:  # a mail job whose worker died while sending
        job = jobs.create_job(s, TEST_MAIL, {"to": "retry@example.jp"},
                              units=[UnitSpec("retry@example.jp", {"to": "retry@example.jp"})],
                              run_after=utcnow() + timedelta(hours=1))  # fmt: skip
        job_id = job.id
        assert job_id is not None
    with runtime.db.transaction() as s:
        s.get(jobs.Job, job_id).run_after = utcnow()  # type: ignore[union-attr]
    with runtime.db.transaction() as s:
        jobs.claim(s, job_id, "dead-worker")
        jobs.claim_unit(s, jobs.next_units(s, job_id)[0].id, "dead-worker")
    with runtime.db.transaction() as s:
        recovery = jobs.recover(s, job_registry(DOMAINS), lease=timedelta(seconds=0))
    assert recovery.uncertain_units == {job_id: 1}
    assert recovery.requeued == [(job_id, "mail.test")]
    runtime.db.dispatch(job_id, "mail.test")  # as the janitor's sweep does after recovering
    # A live worker takes the job back, finds nothing left to send, and reports the unit.
    assert wait_for_job(admin.get, job_id)["state"] == "uncertain"
    assert list_messages(runtime.settings.outbox_dir)[1] == 0  # nothing was sent twice

    listed = admin.get("/api/jobs", params={"state": "uncertain"}).json()
    assert [j["id"] for j in listed["items"]] == [job_id]
    assert "may or may not" in listed["items"][0]["error"]
    assert listed["items"][0]["summary"] == "→ retry@example.jp"  # what a person must check
    assert admin.get("/api/jobs", params={"state": "nonsense"}).status_code == 422

    marketer = login_as("marketer")
    assert marketer.post(f"/api/jobs/{job_id}/retry").status_code == 403
    admin.client.cookies.clear()
    again = login_as("admin")
    retried = again.post(f"/api/jobs/{job_id}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "queued"
    done = wait_for_job(again.get, job_id)
    assert done["state"] == "done" and done["attempts"] == 3
    assert done["result"]["units"] == {"total": 1, "done": 1, "failed": 0, "uncertain": 0}
    assert list_messages(runtime.settings.outbox_dir)[0][0].to == ["retry@example.jp"]
    conflict = again.post(f"/api/jobs/{job_id}/cancel")
    assert conflict.status_code == 409 and conflict.json()["code"] == "job_state_conflict"
    actions = [
        e["action"] for e in again.get("/api/audit", params={"target_type": "job"}).json()["items"]
    ]
    assert actions == ["job.retry"]


def test_queued_job_can_be_cancelled(admin: StaffClient, runtime: Runtime) -> None:
    with runtime.db.transaction() as s:
        job_id = jobs.create_job(s, TEST_MAIL, {"to": "later@example.jp"},
                                 run_after=utcnow() + timedelta(days=1)).id  # fmt: skip
        assert job_id is not None
    cancelled = admin.post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    with runtime.db.transaction() as s:
        assert jobs.claim(s, job_id, "w") is None
