"""Building mail messages with the stdlib ``email`` package, Japanese first-class.

Everything that ends up in a header is checked here, once, so no caller can smuggle a second
header (or a Bcc) in through a subject or a display name: CR, LF and NUL are refused with a
``ValidationFailed`` naming the field. Display names and subjects are RFC 2047-encoded by the
SMTP policy; bodies are UTF-8 in 7bit, quoted-printable or base64, whichever is shortest, so
they survive relays without 8BITMIME. Internationalised domains become punycode; a non-ASCII
local part switches the message to the SMTPUTF8 policy (the transport then requires the
server's SMTPUTF8 extension).
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from api.errors import invalid

__all__ = ["build_message", "parse_address", "sender_address"]

# Headers build_message writes itself; callers may not set them through ``headers``.
_MANAGED = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "date",
        "sender",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # printable ASCII without ":" (RFC 5322 2.2)
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_INJECTION = re.compile(r"[\r\n\x00]")
_NAME_AND_ADDRESS = re.compile(r"^(?P<name>.*?)\s*<(?P<addr>[^<>]*)>$", re.DOTALL)
# Unquoted local part: atext plus ".", leniently (Japanese mobile carriers issued addresses
# such as "taro..yamada.@docomo.ne.jp", which are not RFC dot-atoms but receive mail).
_LOCAL_FORBIDDEN = re.compile(r"[\s\"(),:;<>@\[\\\]\x00-\x1f\x7f]")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _check_header_value(field: str, value: str) -> None:
    if _INJECTION.search(value):
        raise invalid(
            field, "must be a single line (no CR, LF or NUL characters)", "header_injection"
        )


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def _ascii_domain(domain: str, field: str) -> str:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise invalid(field, f"the domain {domain!r} is not a valid domain name") from None
    labels = domain.rstrip(".").split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_DOMAIN_LABEL.match(x) for x in labels):
        raise invalid(field, f"the domain {domain!r} is not a valid domain name")
    return domain.rstrip(".").lower()


def parse_address(value: str | Address, field: str = "address") -> Address:
    """Parse ``addr`` or ``Name <addr>`` (quoted names allowed) into a validated ``Address``.

    Deliberately stricter than ``email.utils.parseaddr``: exactly one mailbox, no comments,
    no quoted local parts, so what we check is exactly what we send.
    """
    if isinstance(value, Address):
        value = str(value)
    _check_header_value(field, value)
    text = value.strip()
    match = _NAME_AND_ADDRESS.match(text)
    if match:
        name, addr = _unquote(match["name"].strip()), match["addr"].strip()
    else:
        name, addr = "", text
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        raise invalid(field, f"{addr!r} is not an e-mail address (expected name@example.jp)")
    if len(local.encode()) > 64 or _LOCAL_FORBIDDEN.search(local):
        raise invalid(field, f"{addr!r} is not an e-mail address (invalid part before @)")
    return Address(display_name=name, username=local, domain=_ascii_domain(domain, field))


def sender_address(name: str | None, email: str) -> str:
    """``"山田 太郎" <taro@example.jp>``-style text for a From/Reply-To, quoted as needed."""
    address = parse_address(email, "sender")
    display = (name or "").strip()
    _check_header_value("sender", display)
    return str(Address(display_name=display, username=address.username, domain=address.domain))


def _addresses(value: str | Iterable[str] | None, field: str) -> list[Address]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [
        parse_address(item, field if len(items) == 1 else f"{field}[{i}]")
        for i, item in enumerate(items)
    ]


def _cte(body: str) -> str:
    """The shortest transfer encoding that keeps ``body`` 7-bit safe."""
    lines = body.splitlines()
    if body.isascii() and all(len(line) <= 998 for line in lines):
        return "7bit"
    raw = body.encode("utf-8")
    non_ascii = sum(1 for byte in raw if byte > 0x7E or byte == 0x3D)
    qp_length = len(raw) + 2 * non_ascii
    base64_length = len(raw) * 4 // 3
    return "quoted-printable" if qp_length <= base64_length else "base64"


def build_message(
    *,
    sender: str,
    to: list[str] | str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: list[str] | str | None = None,
    cc: list[str] | str | None = None,
    headers: Mapping[str, str] | None = None,
    domain: str | None = None,
) -> EmailMessage:
    """One ready-to-send message (multipart/alternative when ``html`` is given).

    ``to`` as a string is one recipient (never split on commas: display names may contain
    them). ``headers`` adds extra headers such as ``List-Unsubscribe``; it may set
    ``Message-ID`` (e.g. one derived from a send id), but not the headers built here.
    ``domain`` is the Message-ID's right-hand side; by default the sender's domain.
    """
    from_address = parse_address(sender, "sender")
    to_addresses = _addresses(to, "to")
    if not to_addresses:
        raise invalid("to", "at least one recipient is needed", "required")
    cc_addresses = _addresses(cc, "cc")
    reply_addresses = _addresses(reply_to, "reply_to")
    _check_header_value("subject", subject)
    extra: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        field = f"headers.{name}"
        if not _HEADER_NAME.match(name):
            raise invalid(field, "is not a valid header name", "invalid_header_name")
        if name.lower() in _MANAGED:
            raise invalid(field, "is set by build_message; use its argument instead", "reserved")
        _check_header_value(field, value)
        if name.lower() == "message-id" and not _MESSAGE_ID.match(value.strip()):
            raise invalid(field, "must look like <unique-part@example.jp>")
        extra.append((name, value))

    everyone = [from_address, *to_addresses, *cc_addresses, *reply_addresses]
    utf8 = not all(address.username.isascii() for address in everyone)
    message = EmailMessage(policy=email.policy.SMTPUTF8 if utf8 else email.policy.SMTP)
    message["From"] = from_address
    message["To"] = to_addresses
    if cc_addresses:
        message["Cc"] = cc_addresses
    if reply_addresses:
        message["Reply-To"] = reply_addresses
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    if not any(name.lower() == "message-id" for name, _ in extra):
        id_domain = _ascii_domain(domain, "domain") if domain else from_address.domain
        message["Message-ID"] = make_msgid(domain=id_domain)
    for name, value in extra:
        message[name] = value

    message.set_content(text, subtype="plain", charset="utf-8", cte=_cte(text))
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte=_cte(html))
        for part in message.iter_parts():
            del part["MIME-Version"]  # only the top level carries it
    return message
