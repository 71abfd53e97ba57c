"""What workers do for the mail domain: the job kinds and the work of each unit.

Every mail is one unit: claimed and committed before it is handed to the transport, its
outcome committed right after (see :mod:`api.jobs.runner`). A transport error that means
"not accepted, try later" retries; a refusal for good fails the unit; a connection that broke
after the message was sent makes it ``uncertain``: a person checks, nothing is sent twice.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from api.db import utcnow
from api.jobs.kinds import JobKind, RetryPolicy, UnitSpec
from api.jobs.runner import UnitContext
from api.livesettings import services as live
from api.mail.messages import build_message, parse_address, sender_address
from api.mail.transport import PermanentMailError, TemporaryMailError

MAIL_RETRY = RetryPolicy(
    max_attempts=5,
    retry_on=(TemporaryMailError,),
    fail_on=(PermanentMailError,),
    first_delay=timedelta(minutes=1),
    max_delay=timedelta(hours=1),
)


def _message_id(unit: UnitContext, sender: str) -> str:
    """One Message-ID per unit: should a mail ever be delivered twice, it is recognisable."""
    domain = parse_address(sender, "sender").domain.encode("idna").decode("ascii")
    return f"<kizuna.{unit.job.job.id}.{unit.id}@{domain}>"


# ------------------------------------------------------------------------------ test mail


def send_test_mail(unit: UnitContext) -> dict[str, Any]:
    """The staff test mail: checks the whole chain (job → worker → transport → SMTP/outbox)."""
    with unit.runtime.db.transaction() as session:
        values = live.get_many(session)
    site = str(values["site.name"])
    footer = str(values["mail.footer"])
    zone = ZoneInfo(str(values["site.time_zone"]))
    sent_at = utcnow().astimezone(zone).strftime(f"%Y-%m-%d %H:%M:%S ({zone.key})")
    requested_by = str(unit.job.payload.get("requested_by", ""))
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
    sender = sender_address(str(values["mail.sender_name"]), str(values["mail.sender_address"]))
    message = build_message(
        sender=sender,
        to=str(unit.payload["to"]),
        subject=subject,
        text=text,
        html=html,
        headers={"Message-ID": _message_id(unit, sender)},
    )
    result = unit.runtime.mail.send(message)
    return {"message_id": result.message_id}


TEST_MAIL = JobKind(
    name="mail.test",
    side_effects=True,
    per_unit=send_test_mail,
    plan=lambda payload: [UnitSpec(str(payload["to"]), {"to": payload["to"]})],
    queue="mail",
    retry=MAIL_RETRY,
    summary=lambda payload: f"→ {payload['to']}",
    label={"ja": "テストメール", "en": "Test mail"},
)


# ------------------------------------------------------------------------------ prepared mail


def send_prepared(unit: UnitContext) -> dict[str, Any]:
    """One prepared message (a notification, an auto-reply): built and handed over."""
    p = unit.payload
    message = build_message(
        sender=str(p["sender"]),
        to=str(p["to"]),
        subject=str(p["subject"]),
        text=str(p["text"]),
        html=p.get("html"),
        reply_to=p.get("reply_to"),
        headers={**(p.get("headers") or {}), "Message-ID": _message_id(unit, str(p["sender"]))},
    )
    result = unit.runtime.mail.send(message)
    refused = {rcpt: f"{code} {reply}" for rcpt, (code, reply) in result.refused.items()}
    return {"message_id": result.message_id, **({"refused": refused} if refused else {})}


def _describe_batch(payload: dict[str, Any]) -> str:
    count = int(payload.get("count", 0))
    first = str(payload.get("first", ""))
    about = str(payload.get("about", ""))
    return f"{about}: {count} → {first}{' …' if count > 1 else ''}".strip(": ")


SEND_MAIL = JobKind(
    name="mail.send",
    side_effects=True,
    per_unit=send_prepared,
    queue="mail",
    retry=MAIL_RETRY,
    time_limit=timedelta(hours=2),
    summary=_describe_batch,
    label={"ja": "メール送信", "en": "Mail delivery"},
)

KINDS = (TEST_MAIL, SEND_MAIL)
