"""Mail transports: one interface, SMTP for production and the dev outbox for everything else.

Callers (workers, mostly) hand over ready ``EmailMessage`` objects and get a ``SendResult`` back.
Failures are split by what the caller should do about them:

* ``TemporaryMailError`` — try again later: 4xx replies, refused connections, timeouts,
  dropped connections. ``MailConfigError`` is the temporary kind caused by the configuration
  (DNS, TLS, login): retrying works once someone fixes ``SMTP_URL``, which ``kizuna check``
  (``check_smtp``) explains.
* ``PermanentMailError`` — do not retry this message: 5xx replies, every recipient refused.

``MailError.uncertain`` is set when the connection broke after the message body was sent: the
server may have accepted it, so a job should not blindly send it again (DESIGN.md "Jobs").
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import logging
import os
import secrets
import smtplib
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import getaddresses
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Protocol, Self, runtime_checkable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from api.errors import ServiceUnavailable

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = [
    "MailConfigError",
    "MailError",
    "MailTransport",
    "OutboxTransport",
    "PermanentMailError",
    "SendResult",
    "SmtpTransport",
    "TemporaryMailError",
    "check_smtp",
    "transport_from_settings",
]

log = logging.getLogger(__name__)

CA_FILE_VARIABLE = "KIZUNA_SMTP_CA_FILE"
IDLE_CHECK_SECONDS = 5.0  # a reused connection idle longer than this is checked with NOOP


# ------------------------------------------------------------------------------------ errors


@dataclass
class MailError(ServiceUnavailable):
    """A message could not be handed to the mail server; ``detail`` says why and what to do."""

    smtp_code: int | None = None
    smtp_reply: str = ""
    uncertain: bool = False

    title: ClassVar[str] = "Mail could not be sent"
    default_code: ClassVar[str] = "mail_failed"


@dataclass
class TemporaryMailError(MailError):
    """Worth retrying later (4xx, network trouble, server restarts)."""

    default_code: ClassVar[str] = "mail_temporary"


@dataclass
class MailConfigError(TemporaryMailError):
    """The SMTP configuration is wrong or unusable (URL, DNS, TLS, login, STARTTLS)."""

    title: ClassVar[str] = "The SMTP settings do not work"
    default_code: ClassVar[str] = "mail_config"


@dataclass
class PermanentMailError(MailError):
    """The server refused this message for good (5xx); do not retry it."""

    status: ClassVar[int] = 502
    default_code: ClassVar[str] = "mail_permanent"


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened to one message.

    ``refused`` maps recipients the server refused (while accepting others) to its reply.
    ``error`` is only ever set by ``send_many``, which reports each message's failure here
    instead of raising, so one bad address does not hide what happened to the rest.
    """

    message_id: str
    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    error: MailError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class MailTransport(Protocol):
    """Hands messages over for delivery. Implementations are safe to share between threads."""

    def send(self, message: EmailMessage) -> SendResult:
        """Deliver one message; raise ``MailError`` if it was not accepted."""
        ...

    def send_many(self, messages: Iterable[EmailMessage]) -> list[SendResult]:
        """Deliver several over one connection; one result per message, failures included."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


# ------------------------------------------------------------------------------ envelope


@dataclass(frozen=True, slots=True)
class _Envelope:
    sender: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str
    smtputf8: bool


def _addresses(message: Message, *names: str) -> list[str]:
    values: list[str] = []
    for name in names:
        values.extend(str(v) for v in message.get_all(name, []))
    return [addr for _, addr in getaddresses(values) if addr]


def _envelope(message: Message, *, keep_bcc: bool = False) -> _Envelope:
    """Envelope and wire bytes as smtplib's ``send_message`` makes them (Bcc removed)."""
    senders = _addresses(message, "Sender") or _addresses(message, "From")
    if not senders:
        raise PermanentMailError(detail="The message has no From address.", code="mail_no_sender")
    recipients = list(dict.fromkeys(_addresses(message, "To", "Cc", "Bcc")))
    if not recipients:
        raise PermanentMailError(detail="The message has no recipients.", code="mail_no_recipients")
    smtputf8 = bool(getattr(message.policy, "utf8", False)) or not all(
        a.isascii() for a in (senders[0], *recipients)
    )
    if "Bcc" in message and not keep_bcc:
        message = copy.copy(message)  # shallow; del rebinds the header list, sparing the original
        del message["Bcc"]
    policy = message.policy
    if isinstance(policy, EmailPolicy) and (policy.linesep != "\r\n" or policy.utf8 != smtputf8):
        policy = policy.clone(linesep="\r\n", utf8=smtputf8)
    data = message.as_bytes(policy=policy)
    message_id = str(message.get("Message-ID", "")).strip()
    return _Envelope(senders[0], tuple(recipients), data, message_id, smtputf8)


# ------------------------------------------------------------------------------ SMTP


class _Secret(str):
    """A string that never shows itself in reprs, tracebacks with locals, or logs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True)
class _SmtpConfig:
    scheme: str
    host: str
    port: int
    username: str | None
    password: _Secret | None
    verify: bool
    helo: str | None

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def masked_url(self) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="") + (":***" if self.password else "") + "@"
        query = [] if self.verify else ["verify=false"]
        if self.helo:
            query.append(f"helo={self.helo}")
        return f"{self.scheme}://{auth}{self.where}" + ("?" + "&".join(query) if query else "")


_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def _url_error(message: str) -> MailConfigError:
    return MailConfigError(detail=f"SMTP_URL {message}", code="smtp_url_invalid")


def _parse_url(url: str) -> _SmtpConfig:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _url_error(
            "must start with smtp://, smtp+starttls:// (STARTTLS required) or smtps:// "
            "(implicit TLS), e.g. smtp+starttls://user:password@smtp.example.jp:587"
        )
    if not parts.hostname:
        raise _url_error("has no host name (expected e.g. smtp://smtp.example.jp:25)")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise _url_error("has an invalid port (expected a number from 1 to 65535)") from None
    verify, helo = True, None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "verify" and value.lower() in {"false", "0", "no", "off"}:
            verify = False
        elif key == "verify" and value.lower() in {"true", "1", "yes", "on"}:
            verify = True
        elif key == "helo" and value:
            helo = value
        else:
            raise _url_error(
                f"has an unknown option {key!r} (known: verify=false to skip certificate "
                "checks, helo=name for the EHLO greeting)"
            )
    username = unquote(parts.username) if parts.username is not None else None
    password = _Secret(unquote(parts.password)) if parts.password is not None else None
    return _SmtpConfig(scheme, parts.hostname, port, username, password, verify, helo)


@lru_cache(maxsize=1)
def _local_hostname() -> str:
    """The EHLO name, computed once per process (``socket.getfqdn`` may do slow DNS)."""
    name = socket.getfqdn()
    if "." in name:
        return name
    try:  # as smtplib does: an address literal rather than a bare host name
        return f"[{socket.gethostbyname(socket.gethostname())}]"
    except OSError:
        return "[127.0.0.1]"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _reply_error(where: str, code: int, reply: bytes | str, during: str) -> MailError:
    text = _text(reply).replace("\r", "").replace("\n", " ")
    detail = f"SMTP server {where} answered {during} with {code} {text}"
    if code < 500:  # 4xx, or something unexpected: a later attempt may well succeed
        return TemporaryMailError(
            detail=detail + " (a temporary refusal: try again later)",
            code="smtp_temporary_reply",
            smtp_code=code,
            smtp_reply=text,
        )
    return PermanentMailError(
        detail=detail, code="smtp_permanent_reply", smtp_code=code, smtp_reply=text
    )


def _session_error(where: str, code: int, reply: bytes | str, during: str) -> MailError:
    """A refusal while setting up the session: about us or our settings, never one message."""
    error = _reply_error(where, code, reply, during)
    if isinstance(error, TemporaryMailError):
        return error
    return MailConfigError(
        detail=error.detail + " (the server refuses this client; check SMTP_URL)",
        code="smtp_session_refused",
        smtp_code=error.smtp_code,
        smtp_reply=error.smtp_reply,
    )


def _close_quietly(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()


class _Connection:
    """One open SMTP session, owned by one thread."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self.pid = os.getpid()
        self.last_used = time.monotonic()
        self.closed = False
        self._finalizer = weakref.finalize(self, _close_quietly, smtp)

    def close(self, *, polite: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        if polite and self.pid == os.getpid():
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
        if self.pid == os.getpid():
            self._finalizer()
        else:
            self._finalizer.detach()  # the socket belongs to the parent process


class _Stale(Exception):
    """The connection died before anything of this message was accepted: safe to retry."""


class SmtpTransport:
    """SMTP delivery with one reusable connection per thread.

    ``url``: ``smtp://[user[:password]@]host[:port]`` (port 25; STARTTLS when offered),
    ``smtp+starttls://`` (587; STARTTLS required) or ``smtps://`` (465; implicit TLS).
    ``?verify=false`` turns certificate checks off, explicitly (a warning is logged);
    ``?helo=name`` sets the EHLO name. Certificates are checked against the system store
    plus ``ca_file``. A password is never sent over an unencrypted connection except to a
    loopback address.
    """

    def __init__(
        self,
        url: str,
        *,
        ca_file: Path | None = None,
        timeout: float = 30,
        local_hostname: str | None = None,
    ) -> None:
        self._config = _parse_url(url)
        self.ca_file = Path(ca_file) if ca_file else None
        self.timeout = timeout
        self._helo = self._config.helo or local_hostname
        self._tls = self._tls_context()
        self._local = threading.local()
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._lock = threading.Lock()
        if not self._config.verify:
            log.warning("SMTP certificate verification is OFF (%s)", self._config.masked_url())

    def __repr__(self) -> str:
        return f"SmtpTransport({self._config.masked_url()!r})"

    __str__ = __repr__

    @property
    def where(self) -> str:
        """``host:port``, as used in messages."""
        return self._config.where

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()  # system store, hostname checks, TLS >= 1.2
        if self.ca_file is not None:
            try:
                context.load_verify_locations(cafile=str(self.ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise MailConfigError(
                    detail=f"{CA_FILE_VARIABLE}={self.ca_file} cannot be used as a CA bundle "
                    f"({exc}); point it at a PEM file of CA certificates",
                    code="smtp_ca_file_invalid",
                ) from None
        if not self._config.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # ------------------------------------------------------------------ connections

    def _open(self) -> smtplib.SMTP:
        """Connect, greet, upgrade to TLS and log in as configured; classify every failure."""
        cfg, where = self._config, self._config.where
        helo = self._helo or _local_hostname()
        smtp: smtplib.SMTP | None = None
        try:
            # The host goes to the constructor: smtplib takes the TLS server name from there.
            if cfg.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, local_hostname=helo, timeout=self.timeout, context=self._tls
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, local_hostname=helo, timeout=self.timeout)
            self._greet(smtp)
            encrypted = cfg.scheme == "smtps"
            if not encrypted and smtp.has_extn("starttls"):
                code, reply = smtp.starttls(context=self._tls)
                if code != 220:
                    raise _session_error(where, code, reply, "STARTTLS")
                self._greet(smtp)
                encrypted = True
            elif not encrypted and cfg.scheme == "smtp+starttls":
                raise MailConfigError(
                    detail=f"SMTP server {where} does not offer STARTTLS, which smtp+starttls:// "
                    "requires. Use smtps:// if it expects implicit TLS (usually port 465), or "
                    "smtp:// to allow an unencrypted connection.",
                    code="smtp_starttls_unavailable",
                )
            if cfg.username is not None:
                self._login(smtp, encrypted)
        except BaseException as exc:
            if smtp is not None:
                _close_quietly(smtp)
            if isinstance(exc, MailError):
                raise
            raise self._connect_error(exc) from exc
        return smtp

    def _greet(self, smtp: smtplib.SMTP) -> None:
        code, reply = smtp.ehlo()
        if not 200 <= code < 300:
            code, reply = smtp.helo()
            if not 200 <= code < 300:
                raise _session_error(self.where, code, reply, "EHLO/HELO")

    def _login(self, smtp: smtplib.SMTP, encrypted: bool) -> None:
        cfg, where = self._config, self._config.where
        if not encrypted and not _is_loopback(cfg.host):
            raise MailConfigError(
                detail=f"Refusing to send the SMTP password to {where} unencrypted: the server "
                "does not offer STARTTLS. Use smtps:// (implicit TLS) or a server with STARTTLS.",
                code="smtp_plaintext_login_refused",
            )
        if not smtp.has_extn("auth"):
            raise MailConfigError(
                detail=f"SMTP server {where} does not offer AUTH"
                + ("" if encrypted else " over an unencrypted connection")
                + f", so user {cfg.username!r} cannot log in. Remove the user from SMTP_URL, "
                "or use smtp+starttls:// or smtps://.",
                code="smtp_auth_unavailable",
            )
        try:
            smtp.login(cfg.username or "", cfg.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailConfigError(
                detail=f"SMTP server {where} refused the login for user {cfg.username!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)} (check the user and password in "
                "SMTP_URL; special characters must be percent-encoded)",
                code="smtp_auth_failed",
                smtp_code=exc.smtp_code,
                smtp_reply=_text(exc.smtp_error),
            ) from None
        except UnicodeEncodeError:
            raise MailConfigError(
                detail="The SMTP user name and password must be ASCII (smtplib limitation).",
                code="smtp_auth_failed",
            ) from None
        except smtplib.SMTPException as exc:  # no common mechanism
            raise MailConfigError(
                detail=f"SMTP server {where} offers no login method Kizuna supports ({exc}).",
                code="smtp_auth_unavailable",
            ) from None

    def _connect_error(self, exc: BaseException) -> MailError:
        where, host = self.where, self._config.host
        if isinstance(exc, socket.gaierror):
            return MailConfigError(
                detail=f"Cannot resolve the SMTP host {host!r} ({exc.strerror}); "
                "check the host name in SMTP_URL and this machine's DNS.",
                code="smtp_dns_failed",
            )
        if isinstance(exc, ConnectionRefusedError):
            return TemporaryMailError(
                detail=f"SMTP server {where} refused the connection (is SMTP_URL right? "
                "is the server running?)",
                code="smtp_connection_refused",
            )
        if isinstance(exc, TimeoutError):
            return TemporaryMailError(
                detail=f"SMTP server {where} did not answer within {self.timeout:g} s "
                "(firewall, wrong port, or the server is overloaded)",
                code="smtp_timeout",
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return MailConfigError(
                detail=f"The TLS certificate of SMTP server {where} could not be verified: "
                f"{exc.verify_message}. If the server uses a private CA, set "
                f"{CA_FILE_VARIABLE} to that CA's PEM file.",
                code="smtp_tls_unverified",
            )
        if isinstance(exc, ssl.SSLError):
            return MailConfigError(
                detail=f"The TLS handshake with SMTP server {where} failed ({exc.reason}). "
                "smtps:// expects implicit TLS (usually port 465); smtp+starttls:// and "
                "smtp:// start in plain text (ports 587 and 25).",
                code="smtp_tls_failed",
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return TemporaryMailError(
                detail=f"SMTP server {where} closed the connection while greeting "
                f"({exc}); is it an SMTP server, and is the TLS mode right?",
                code="smtp_disconnected",
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return _session_error(where, exc.smtp_code, exc.smtp_error, "the connection")
        if isinstance(exc, OSError):
            return TemporaryMailError(
                detail=f"Cannot connect to SMTP server {where}: {exc.strerror or exc}",
                code="smtp_unreachable",
            )
        if isinstance(exc, smtplib.SMTPException):
            return TemporaryMailError(detail=f"SMTP server {where}: {exc}", code="smtp_failed")
        raise exc

    def _connection(self) -> _Connection:
        """This thread's connection, opened or checked (NOOP) as needed."""
        conn: _Connection | None = getattr(self._local, "connection", None)
        if conn is not None and (conn.closed or conn.pid != os.getpid()):
            conn.close(polite=False)
            conn = None
        if conn is not None and time.monotonic() - conn.last_used > IDLE_CHECK_SECONDS:
            try:
                alive = conn.smtp.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                alive = False
            if not alive:
                log.info("SMTP connection to %s went stale; reconnecting", self.where)
                conn.close(polite=False)
                conn = None
        if conn is None:
            conn = _Connection(self._open())
            with self._lock:
                self._connections.add(conn)
            self._local.connection = conn
            log.debug("connected to SMTP server %s", self.where)
        return conn

    def _discard(self, conn: _Connection) -> None:
        conn.close(polite=False)
        if getattr(self._local, "connection", None) is conn:
            self._local.connection = None

    def close(self) -> None:
        """QUIT every open connection (all threads'); the transport reconnects if used again."""
        with self._lock:
            connections = list(self._connections)
            self._connections = weakref.WeakSet()
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def check(self) -> None:
        """Connect, greet, STARTTLS and log in as configured, then QUIT (``kizuna check``)."""
        smtp = self._open()
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            _close_quietly(smtp)

    # ------------------------------------------------------------------ sending

    def send(self, message: EmailMessage) -> SendResult:
        try:
            return self._deliver(_envelope(message))
        except _ConnectFailed as exc:
            raise exc.error from None

    def send_many(self, messages: Iterable[EmailMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        broken: MailError | None = None  # once we cannot connect, do not try the rest
        for message in messages:
            message_id = str(message.get("Message-ID", "")).strip()
            if broken is not None:
                results.append(SendResult(message_id, (), error=broken))
                continue
            try:
                results.append(self._deliver(_envelope(message)))
            except _ConnectFailed as exc:
                broken = exc.error
                results.append(SendResult(message_id, (), error=broken))
            except MailError as exc:
                results.append(SendResult(message_id, (), error=exc))
        return results

    def _deliver(self, env: _Envelope) -> SendResult:
        for attempt in (1, 2):
            try:
                conn = self._connection()
            except MailError as exc:
                raise _ConnectFailed(exc) from None
            try:
                return self._transact(conn, env)
            except _Stale:
                self._discard(conn)
                if attempt == 2:
                    raise TemporaryMailError(
                        detail=f"SMTP server {self.where} closed the connection twice in a row",
                        code="smtp_disconnected",
                    ) from None
                log.info("SMTP connection to %s was closed by the server; reconnecting", self.where)
        raise AssertionError("unreachable")

    def _transact(self, conn: _Connection, env: _Envelope) -> SendResult:
        smtp, where = conn.smtp, self.where
        options: list[str] = []
        if env.smtputf8:
            if not smtp.has_extn("smtputf8"):
                raise PermanentMailError(
                    detail=f"SMTP server {where} does not support SMTPUTF8, which this message "
                    "needs for its non-ASCII address",
                    code="smtp_smtputf8_unsupported",
                )
            options += ["SMTPUTF8", "BODY=8BITMIME"]
        if smtp.has_extn("size"):
            options.append(f"SIZE={len(env.data)}")
        try:
            code, reply = smtp.mail(env.sender, options)
        except (smtplib.SMTPServerDisconnected, OSError):
            raise _Stale() from None
        if code == 421:  # "service closing": nothing accepted yet, reconnect
            raise _Stale()
        try:
            if code != 250:
                raise _reply_error(where, code, reply, f"MAIL FROM:<{env.sender}>")
            refused: dict[str, tuple[int, str]] = {}
            for recipient in env.recipients:
                code, reply = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, _text(reply))
            if len(refused) == len(env.recipients):
                raise _all_refused(where, refused)
            try:
                code, reply = smtp.data(env.data)
            except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing sent
                raise _reply_error(where, exc.smtp_code, exc.smtp_error, "DATA") from None
            except (smtplib.SMTPServerDisconnected, OSError):
                self._discard(conn)
                raise TemporaryMailError(
                    detail=f"The connection to SMTP server {where} broke while sending the "
                    "message; it may or may not have been delivered",
                    code="smtp_disconnected",
                    uncertain=True,
                ) from None
            if code != 250:
                raise _reply_error(where, code, reply, "the message")
        except MailError:
            self._reset(conn)
            raise
        except (smtplib.SMTPServerDisconnected, OSError):
            self._discard(conn)
            raise TemporaryMailError(
                detail=f"SMTP server {where} closed the connection before the message was sent",
                code="smtp_disconnected",
            ) from None
        conn.last_used = time.monotonic()
        accepted = tuple(r for r in env.recipients if r not in refused)
        return SendResult(env.message_id, accepted, refused)

    def _reset(self, conn: _Connection) -> None:
        """Make a connection usable after a refused transaction, or drop it."""
        try:
            if conn.smtp.rset()[0] == 250:
                conn.last_used = time.monotonic()
                return
        except (smtplib.SMTPException, OSError):
            pass
        self._discard(conn)


class _ConnectFailed(Exception):
    def __init__(self, error: MailError) -> None:
        super().__init__(str(error))
        self.error = error


def _all_refused(where: str, refused: dict[str, tuple[int, str]]) -> MailError:
    replies = "; ".join(f"{r}: {c} {t}" for r, (c, t) in refused.items())
    temporary = any(400 <= c < 500 for c, _ in refused.values())
    cls = TemporaryMailError if temporary else PermanentMailError
    first_code, first_text = next(iter(refused.values()))
    return cls(
        detail=f"SMTP server {where} refused every recipient ({replies})",
        code="smtp_recipients_refused",
        smtp_code=first_code,
        smtp_reply=first_text,
        extra={"refused": {r: [c, t] for r, (c, t) in refused.items()}},
    )


def check_smtp(url: str, ca_file: Path | None = None, timeout: float = 10) -> None:
    """Try the SMTP settings end to end; raise ``MailError`` with a precise message if they fail."""
    SmtpTransport(url, ca_file=ca_file, timeout=timeout).check()


# ------------------------------------------------------------------------------ outbox


class OutboxTransport:
    """The dev outbox: each message becomes ``<UTC time>-<random>.eml`` under ``directory``.

    Files appear atomically (written to a hidden temp file in the same directory, then renamed),
    so the admin viewer never sees half a message and any number of threads and processes may
    write at once: names are random, nothing is shared.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"OutboxTransport({str(self.directory)!r})"

    def send(self, message: EmailMessage) -> SendResult:
        env = _envelope(message, keep_bcc=True)  # Bcc kept: the viewer shows who got it
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{secrets.token_hex(8)}.eml"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            temp = self.directory / f".{name}.{secrets.token_hex(4)}.tmp"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(env.data)
                os.replace(temp, self.directory / name)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemporaryMailError(
                detail=f"Cannot write to the mail outbox {self.directory}: {exc.strerror or exc}",
                code="outbox_write_failed",
            ) from None
        return SendResult(env.message_id, env.recipients)

    def send_many(self, messages: Iterable[EmailMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for message in messages:
            try:
                results.append(self.send(message))
            except MailError as exc:
                results.append(
                    SendResult(str(message.get("Message-ID", "")).strip(), (), error=exc)
                )
        return results

    def close(self) -> None:
        """Nothing to release; present for the interface."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def transport_from_settings(settings: Settings) -> MailTransport:
    """The outbox when ``SMTP_URL`` is unset (dev, tests, demo), SMTP otherwise."""
    if settings.uses_outbox:
        return OutboxTransport(settings.outbox_dir)
    return SmtpTransport(settings.smtp_url, ca_file=settings.smtp_ca_file)
