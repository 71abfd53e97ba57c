"""Mail use cases that are not campaigns: the staff test mail (checks the whole chain:
job table → worker → transport → SMTP or the dev outbox)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api import normalize
from api.audit import services as audit
from api.db import utcnow
from api.errors import ValidationFailed
from api.jobs import services as jobs
from api.jobs.models import Job
from api.livesettings import services as live
from api.mail import outbox
from api.mail.messages import build_message, sender_address
from api.mail.transport import MailTransport
from api.principal import Principal

TEST_MAIL = "mail.test"
JST = ZoneInfo("Asia/Tokyo")

jobs.register_summary(TEST_MAIL, lambda payload: f"→ {payload['to']}")


def queue_test_mail(session: Session, actor: Principal, to: str) -> Job:
    address = normalize.email(to)
    problem = normalize.check_email(address, "to")
    if problem:
        raise ValidationFailed(detail=f"to: {problem.message}", errors=[problem])
    job = jobs.create_job(
        session,
        TEST_MAIL,
        {"to": address, "requested_by": actor.label},
        created_by=actor.label,
        side_effects=True,
    )
    audit.record(
        session, actor, "mail.test", target_type="job", target_id=job.id, after={"to": address}
    )
    return job


def clear_outbox(session: Session, principal: Principal, directory: Path) -> int:
    """Delete every mail captured in the dev outbox; the audit log keeps who did it."""
    removed = outbox.clear(directory)
    audit.record(
        session, principal, "outbox.clear", target_type="outbox", after={"removed": removed}
    )
    return removed


def send_test_mail(
    session: Session, transport: MailTransport, payload: dict[str, Any]
) -> dict[str, Any]:
    values = live.get_many(session)
    site = str(values["site.name"])
    footer = str(values["mail.footer"])
    sent_at = utcnow().astimezone(JST).strftime("%Y-%m-%d %H:%M:%S JST")
    requested_by = str(payload.get("requested_by", ""))
    subject = f"[{site}] テストメール / Test message"
    text = (
        f"{site} からのテストメールです。\n"
        f"このメールが届いていれば、メール送信の設定は正しく動作しています。\n\n"
        f"This is a test message from {site}. If you can read it, sending mail works.\n\n"
        f"送信者 / Requested by: {requested_by}\n送信日時 / Sent at: {sent_at}\n\n"
        f"-- \n{footer}\n"
    )
    html = (
        f'<!doctype html><html lang="ja"><body style="font-family:sans-serif;line-height:1.7">'
        f'<h1 style="font-size:20px">{escape(site)} テストメール</h1>'
        f"<p>このメールが届いていれば、メール送信の設定は正しく動作しています。</p>"
        f'<p lang="en">This is a test message from {escape(site)}. If you can read it, '
        f"sending mail works.</p>"
        f'<p style="color:#555">送信者 / Requested by: {escape(requested_by)}<br>'
        f"送信日時 / Sent at: {escape(sent_at)}</p>"
        f'<hr><p style="color:#777;font-size:12px;white-space:pre-line">{escape(footer)}</p>'
        f"</body></html>"
    )
    message = build_message(
        sender=sender_address(str(values["mail.sender_name"]), str(values["mail.sender_address"])),
        to=str(payload["to"]),
        subject=subject,
        text=text,
        html=html,
    )
    result = transport.send(message)
    return {"message_id": result.message_id, "to": payload["to"]}
