"""The jobs API over HTTP: kinds with their labels, units by state, payloads from older
versions."""

from __future__ import annotations

from datetime import timedelta

from api.db import utcnow
from api.jobs import services as jobs
from api.jobs.kinds import UnitSpec
from api.mail.tasks import SEND_MAIL, TEST_MAIL
from api.runtime import Runtime
from tests.fixtures.app import StaffClient


def test_kinds_are_listed_with_their_labels(admin: StaffClient) -> None:
    kinds = {k["name"]: k for k in admin.get("/api/jobs/kinds").json()}
    assert kinds["mail.test"]["label"] == {"ja": "テストメール", "en": "Test mail"}
    assert kinds["mail.send"]["side_effects"] is True and kinds["mail.send"]["queue"] == "mail"


def test_a_payload_from_an_older_version_does_not_break_the_list(
    admin: StaffClient, runtime: Runtime
) -> None:
    later = utcnow() + timedelta(days=1)
    with runtime.db.transaction() as s:
        old = jobs.create_job(s, TEST_MAIL, {"recipient": "renamed key"}, run_after=later).id
        gone = jobs.create_job(s, TEST_MAIL, {}, run_after=later).id
        s.execute(jobs._JOB.update().where(jobs._JOB.c.id == gone).values(kind="retired.kind"))
    listed = {j["id"]: j for j in admin.get("/api/jobs").json()["items"]}
    assert listed[old]["summary"] is None and listed[old]["kind"] == "mail.test"
    assert listed[gone]["summary"] is None and listed[gone]["kind"] == "retired.kind"
    assert admin.get(f"/api/jobs/{gone}").status_code == 200


def test_units_are_listed_by_state_with_progress(admin: StaffClient, runtime: Runtime) -> None:
    units = [UnitSpec(f"member{n}@example.jp", {"to": f"member{n}@example.jp"}) for n in range(3)]
    with runtime.db.transaction() as s:
        job_id = jobs.create_job(
            s, SEND_MAIL, {"about": "newsletter", "count": 3, "first": "member0@example.jp"},
            units=units, run_after=utcnow() + timedelta(days=1),
        ).id  # fmt: skip
    body = admin.get(f"/api/jobs/{job_id}").json()
    assert body["progress"] == {"total": 3, "finished": 0}
    assert body["summary"] == "newsletter: 3 → member0@example.jp …"
    page = admin.get(f"/api/jobs/{job_id}/units", params={"state": "pending"}).json()
    assert [u["key"] for u in page["items"]] == [u.key for u in units]
    assert (
        admin.get(f"/api/jobs/{job_id}/units", params={"state": "uncertain"}).json()["total"] == 0
    )
    assert admin.get(f"/api/jobs/{job_id}/units", params={"state": "nope"}).status_code == 422
    assert admin.get("/api/jobs/999999/units").status_code == 404
    assert admin.get("/api/jobs/0").status_code in (400, 404, 422)


def test_the_admin_gets_the_domains_labels_with_the_session(admin: StaffClient) -> None:
    """Display names are declared by each domain (its permissions, job kinds, codes) and reach
    the admin panel with /me, in both languages: a new domain needs no catalog change."""
    labels = admin.get("/api/staff/auth/me").json()["labels"]
    assert labels["jobs.kind.mail.send"] == {"ja": "メール送信", "en": "Mail delivery"}
    assert labels["permission.outbox:write"]["ja"] == "送信箱（開発用）を空にする"
    assert all(set(v) == {"ja", "en"} for v in labels.values())
