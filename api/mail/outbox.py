"""Reading the dev outbox back, for the admin panel's mail viewer.

The outbox is a folder of ``<UTC time>-<random hex>.eml`` files written by ``OutboxTransport``.
A message id is the file name without ``.eml``; ids are matched against a strict pattern
before any path is built, so an id can never reach outside the folder. Files are parsed
leniently: a corrupt or non-UTF-8 file shows up with what could be read, and never breaks
the listing.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from api.errors import NotFound, invalid

__all__ = [
    "OutboxMessage",
    "OutboxSummary",
    "clear",
    "list_messages",
    "raw_message",
    "read_message",
]

_ID = re.compile(r"^(?P<stamp>\d{8}T\d{12}Z)-[0-9a-f]{16}$")
_MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    id: str
    at: datetime
    sender: str
    to: list[str]
    subject: str
    size: int


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: str
    at: datetime
    sender: str
    to: list[str]
    cc: list[str]
    subject: str
    headers: list[tuple[str, str]]
    text: str
    html: str | None
    size: int


def _clean(value: str) -> str:
    """Make parser output safe to serialise: raw 8-bit bytes decoded as UTF-8, junk replaced."""
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
        return "" if value is None else _clean(str(value))
    except Exception:  # the email package can raise on pathological headers
        return "(unreadable)"


def _address_list(message: Message, name: str) -> list[str]:
    try:
        values = message.get_all(name) or []
        out: list[str] = []
        for value in values:
            addresses = getattr(value, "addresses", None)
            if addresses is None:
                out.append(_clean(str(value)))
            else:
                out.extend(_clean(str(address)) for address in addresses)
        return out
    except Exception:
        return ["(unreadable)"]


def _at(message_id: str) -> datetime:
    stamp = message_id.split("-", 1)[0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def _path(directory: Path, message_id: str) -> Path:
    if not isinstance(message_id, str) or not _ID.match(message_id):
        raise NotFound(detail="There is no such message in the outbox.", code="outbox_not_found")
    path = Path(directory) / f"{message_id}.eml"
    if not path.is_file():
        raise NotFound(detail="There is no such message in the outbox.", code="outbox_not_found")
    return path


def _ids(directory: Path) -> list[str]:
    """All message ids, newest first (names start with the UTC time, so names sort by time)."""
    try:
        names = [entry.name for entry in Path(directory).iterdir()]
    except FileNotFoundError:
        return []
    ids = [n[:-4] for n in names if n.endswith(".eml") and _ID.match(n[:-4])]
    ids.sort(reverse=True)
    return ids


def list_messages(
    directory: Path, *, offset: int = 0, limit: int = 50
) -> tuple[list[OutboxSummary], int]:
    """One page of the outbox, newest first, and the total number of messages."""
    if offset < 0:
        raise invalid("offset", "must be 0 or more")
    if not 1 <= limit <= _MAX_LIMIT:
        raise invalid("limit", f"must be between 1 and {_MAX_LIMIT}")
    ids = _ids(directory)
    page: list[OutboxSummary] = []
    parser = BytesHeaderParser(policy=email.policy.default)
    for message_id in ids[offset : offset + limit]:
        path = Path(directory) / f"{message_id}.eml"
        try:
            size = path.stat().st_size
            with path.open("rb") as file:
                head = parser.parse(file)
        except FileNotFoundError:  # cleared meanwhile
            continue
        except Exception:
            page.append(OutboxSummary(message_id, _at(message_id), "", [], "(unreadable)", 0))
            continue
        page.append(
            OutboxSummary(
                id=message_id,
                at=_at(message_id),
                sender=_header(head, "From"),
                to=_address_list(head, "To"),
                subject=_header(head, "Subject"),
                size=size,
            )
        )
    return page, len(ids)


def _body(message: EmailMessage, subtype: str) -> str | None:
    try:
        part = message.get_body(preferencelist=(subtype,))
    except Exception:
        return None
    if part is None or part.get_content_type() != f"text/{subtype}":
        return None
    try:
        payload = part.get_payload(decode=True)  # undoes base64/QP, leniently
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        return _clean(str(part.get_payload())).replace("\r\n", "\n")
    return _decode(payload, part.get_content_charset()).replace("\r\n", "\n")


# Labels mail software writes vs. the codec that actually decodes what they send.
_CHARSETS = {"us-ascii": "utf-8", "ascii": "utf-8", "shift_jis": "cp932", "x-sjis": "cp932"}


def _decode(data: bytes, charset: str | None) -> str:
    """Decode a body; unlabelled or "us-ascii" 8-bit text is almost always UTF-8."""
    codec = _CHARSETS.get((charset or "utf-8").lower(), charset or "utf-8")
    try:
        return data.decode(codec, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def read_message(directory: Path, message_id: str) -> OutboxMessage:
    """One message with its headers and bodies decoded (Japanese included)."""
    path = _path(directory, message_id)
    raw = path.read_bytes()
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    headers = [
        (_clean(name), _header_value(message, name, value)) for name, value in message.raw_items()
    ]
    return OutboxMessage(
        id=message_id,
        at=_at(message_id),
        sender=_header(message, "From"),
        to=_address_list(message, "To"),
        cc=_address_list(message, "Cc"),
        subject=_header(message, "Subject"),
        headers=headers,
        text=_body(message, "plain") or "",
        html=_body(message, "html"),
        size=len(raw),
    )


def _header_value(message: Message, name: str, raw: str) -> str:
    """One header's decoded value, or its raw text if it cannot be decoded."""
    try:
        return _clean(str(message.policy.header_fetch_parse(name, raw)))
    except Exception:
        return _clean(raw)


def raw_message(directory: Path, message_id: str) -> bytes:
    """The message exactly as it would have gone over SMTP (for download as .eml)."""
    return _path(directory, message_id).read_bytes()


def clear(directory: Path) -> int:
    """Delete every message; return how many were deleted."""
    count = 0
    for message_id in _ids(directory):
        try:
            (Path(directory) / f"{message_id}.eml").unlink()
            count += 1
        except FileNotFoundError:
            pass
    return count
