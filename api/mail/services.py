"""Mail use cases that are not campaigns: the staff test mail (checks the whole chain:
job table → worker → transport → SMTP or the dev outbox) and prepared messages (notifications,
auto-replies) queued for delivery. What the workers do is in :mod:`api.mail.tasks`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from api.audit import services as audit
from api.errors import ValidationFailed
from api.fields import Field, raise_for
from api.jobs import services as jobs
from api.jobs.kinds import UnitSpec
from api.jobs.models import Job
from api.livesettings import services as live
from api.mail import outbox, tasks
from api.mail.messages import build_message, sender_address
from api.principal import Principal

RECIPIENT = Field("email", required=True)


def queue_test_mail(session: Session, actor: Principal, to: str) -> Job:
    result = RECIPIENT.clean(to, name="to")
    raise_for(result.errors)
    address = str(result.value)
    job = jobs.create_job(
        session, tasks.TEST_MAIL, {"to": address, "requested_by": actor.label},
        created_by=actor.label,
    )  # fmt: skip
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


@dataclass(frozen=True)
class OutgoingMail:
    """A message to deliver later, as plain values (it is stored with its unit)."""

    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def queue_mail(
    session: Session,
    actor: Principal,
    messages: Sequence[OutgoingMail],
    *,
    about: str = "",
    sender: str | None = None,
) -> Job:
    """Queue prepared messages for delivery, one unit each, in the caller's transaction.

    Each message is checked now (addresses, header injection), so a bad one is refused
    before anything is queued; the worker then only hands them over.
    """
    if not messages:
        raise ValidationFailed(detail="messages: nothing to send", code="nothing_to_send")
    if sender is None:
        values = live.get_many(session, "mail.")
        sender = sender_address(str(values["mail.sender_name"]), str(values["mail.sender_address"]))
    units: list[UnitSpec] = []
    for message in messages:
        fields: dict[str, Any] = {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "reply_to": message.reply_to,
            "headers": dict(message.headers),
        }
        build_message(sender=sender, **fields)  # refuses a bad address or header now
        units.append(UnitSpec(message.to, {"sender": sender, **fields}))
    payload = {"about": about, "count": len(units), "first": units[0].key}
    return jobs.create_job(session, tasks.SEND_MAIL, payload, created_by=actor.label, units=units)
