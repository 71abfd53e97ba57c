"""SmtpTransport against real aiosmtpd servers on loopback (plain, STARTTLS + AUTH, SMTPS)."""

from __future__ import annotations

import socket
import threading
from email.message import EmailMessage
from urllib.parse import quote

import pytest

from api.mail import transport as transport_module
from api.mail.messages import build_message, sender_address
from api.mail.transport import (
    MailConfigError,
    PermanentMailError,
    SmtpTransport,
    TemporaryMailError,
    check_smtp,
)
from tests.fixtures.smtp import SINK_PASSWORD, SINK_USER, SmtpSink


def message(n: int = 1, to: str | list[str] | None = None, **kwargs: object) -> EmailMessage:
    args: dict[str, object] = {
        "sender": sender_address("山田 太郎", "taro@example.jp"),
        "to": to or f"顧客 {n} <customer{n}@example.jp>",
        "subject": f"【ご案内】新製品のお知らせ {n}",
        "text": f"お客様各位\n本文 {n}\n",
        "html": f"<p>お客様各位</p><p>本文 {n}</p>",
    }
    args.update(kwargs)
    return build_message(**args)  # type: ignore[arg-type]


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------- delivery


def test_plain_delivery_round_trips_japanese(smtp_sink: SmtpSink) -> None:
    with SmtpTransport(smtp_sink.url) as transport:
        result = transport.send(message())
    (got,) = smtp_sink.wait_for(1)
    assert result.ok
    assert result.accepted == ("customer1@example.jp",)
    assert result.refused == {}
    assert got.mail_from == "taro@example.jp"
    assert got.rcpt_tos == ["customer1@example.jp"]
    assert got.message["Subject"] == "【ご案内】新製品のお知らせ 1"
    assert got.message["From"].addresses[0].display_name == "山田 太郎"
    assert got.message["Message-ID"] == result.message_id
    body = got.message.get_body(("plain",))
    assert body is not None
    assert "本文 1" in body.get_content()
    assert not got.tls


def test_bcc_is_delivered_but_not_shown(smtp_sink: SmtpSink) -> None:
    mail = message(cc=["cc@example.jp"])
    mail["Bcc"] = "secret@example.jp"
    with SmtpTransport(smtp_sink.url) as transport:
        result = transport.send(mail)
    (got,) = smtp_sink.wait_for(1)
    assert set(got.rcpt_tos) == {"customer1@example.jp", "cc@example.jp", "secret@example.jp"}
    assert b"secret@example.jp" not in got.raw
    assert "Bcc" in mail  # the caller's message is left alone
    assert len(result.accepted) == 3


def test_non_ascii_local_part_uses_smtputf8(smtp_sink: SmtpSink) -> None:
    with SmtpTransport(smtp_sink.url) as transport:
        transport.send(message(to="はなこ@example.jp"))
    (got,) = smtp_sink.wait_for(1)
    assert got.rcpt_tos == ["はなこ@example.jp"]
    assert "SMTPUTF8" in got.mail_options


def test_starttls_and_auth(smtp_tls_sink: SmtpSink) -> None:
    assert smtp_tls_sink.url.startswith("smtp+starttls://")
    with SmtpTransport(smtp_tls_sink.url, ca_file=smtp_tls_sink.ca_file) as transport:
        transport.send(message())
    (got,) = smtp_tls_sink.wait_for(1)
    assert got.tls
    assert got.login == SINK_USER
    assert smtp_tls_sink.logins == [(SINK_USER, True)]  # percent-decoded password matched


def test_plain_smtp_url_upgrades_when_starttls_is_offered(smtp_tls_sink: SmtpSink) -> None:
    url = smtp_tls_sink.url.replace("smtp+starttls://", "smtp://")
    with SmtpTransport(url, ca_file=smtp_tls_sink.ca_file) as transport:
        transport.send(message())
    assert smtp_tls_sink.wait_for(1)[0].tls


def test_wrong_password_is_a_clear_config_error(smtp_tls_sink: SmtpSink) -> None:
    url = (
        f"smtp+starttls://{SINK_USER}:{quote('wrong pass', safe='')}@127.0.0.1:{smtp_tls_sink.port}"
    )
    transport = SmtpTransport(url, ca_file=smtp_tls_sink.ca_file)
    with pytest.raises(MailConfigError) as caught:
        transport.send(message())
    error = caught.value
    assert error.code == "smtp_auth_failed"
    assert error.smtp_code == 535
    assert f"127.0.0.1:{smtp_tls_sink.port}" in error.detail
    assert repr(SINK_USER) in error.detail
    assert "wrong" not in error.detail
    assert isinstance(error, TemporaryMailError)  # fix the settings, and the retry works
    assert smtp_tls_sink.messages == []


def test_untrusted_certificate_is_refused_unless_verify_false(smtp_tls_sink: SmtpSink) -> None:
    with pytest.raises(MailConfigError) as caught:
        SmtpTransport(smtp_tls_sink.url).send(message())  # no ca_file: test CA unknown
    assert caught.value.code == "smtp_tls_unverified"
    assert "KIZUNA_SMTP_CA_FILE" in caught.value.detail
    with SmtpTransport(smtp_tls_sink.url + "?verify=false") as transport:
        transport.send(message())
    assert smtp_tls_sink.wait_for(1)[0].tls


def test_smtps(smtps_sink: SmtpSink) -> None:
    assert smtps_sink.url.startswith("smtps://")
    with SmtpTransport(smtps_sink.url, ca_file=smtps_sink.ca_file) as transport:
        results = transport.send_many([message(1), message(2)])
    assert [r.ok for r in results] == [True, True]
    got = smtps_sink.wait_for(2)
    assert all(m.tls and m.login == SINK_USER for m in got)
    assert smtps_sink.sessions == 1


def test_smtps_against_a_plain_server_explains_the_tls_mode(smtp_sink: SmtpSink) -> None:
    url = f"smtps://127.0.0.1:{smtp_sink.port}"
    with pytest.raises(MailConfigError) as caught:
        SmtpTransport(url, timeout=5).send(message())
    assert caught.value.code == "smtp_tls_failed"
    assert "smtps:// expects implicit TLS" in caught.value.detail


def test_starttls_required_but_not_offered(smtp_sink: SmtpSink) -> None:
    url = f"smtp+starttls://127.0.0.1:{smtp_sink.port}"
    with pytest.raises(MailConfigError) as caught:
        SmtpTransport(url).send(message())
    assert caught.value.code == "smtp_starttls_unavailable"
    assert f"127.0.0.1:{smtp_sink.port} does not offer STARTTLS" in caught.value.detail
    assert smtp_sink.messages == []


def test_login_without_auth_offered_is_explained(smtp_sink: SmtpSink) -> None:
    url = f"smtp://someone:pw@127.0.0.1:{smtp_sink.port}"
    with pytest.raises(MailConfigError) as caught:
        SmtpTransport(url).send(message())
    assert caught.value.code == "smtp_auth_unavailable"


# ------------------------------------------------------------------------- connections


def test_one_connection_is_reused(smtp_sink: SmtpSink) -> None:
    with SmtpTransport(smtp_sink.url) as transport:
        for n in range(3):
            transport.send(message(n))
        results = transport.send_many([message(n) for n in range(3, 10)])
    assert all(r.ok for r in results)
    got = smtp_sink.wait_for(10)
    assert smtp_sink.sessions == 1
    assert {m.session for m in got} == {1}


def test_each_thread_has_its_own_connection(smtp_sink: SmtpSink) -> None:
    transport = SmtpTransport(smtp_sink.url)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(4):
                transport.send(message(worker * 10 + n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transport.close()
    assert errors == []
    assert len(smtp_sink.wait_for(12)) == 12
    assert smtp_sink.sessions == 3


def test_reconnects_once_after_the_server_hangs_up(smtp_sink: SmtpSink) -> None:
    with SmtpTransport(smtp_sink.url) as transport:
        transport.send(message(1))
        smtp_sink.wait_for(1)
        smtp_sink.drop_connections()
        result = transport.send(message(2))  # MAIL FROM hits the dead socket, then retries
    assert result.ok
    got = smtp_sink.wait_for(2)
    assert [m.session for m in got] == [1, 2]


def test_idle_connection_is_checked_with_noop(
    smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport_module, "IDLE_CHECK_SECONDS", 0.0)
    with SmtpTransport(smtp_sink.url) as transport:
        transport.send(message(1))
        transport.send(message(2))  # NOOP says the connection is fine: reused
        smtp_sink.drop_connections()
        transport.send(message(3))  # NOOP fails: a new connection before MAIL FROM
    assert [m.session for m in smtp_sink.wait_for(3)] == [1, 1, 2]


def test_close_then_send_again_reconnects(smtp_sink: SmtpSink) -> None:
    transport = SmtpTransport(smtp_sink.url)
    transport.send(message(1))
    transport.close()
    transport.send(message(2))
    transport.close()
    assert smtp_sink.sessions == 2


def test_broken_connection_after_data_is_marked_uncertain(smtp_sink: SmtpSink) -> None:
    smtp_sink.hang_up_after_data = True
    with pytest.raises(TemporaryMailError) as caught:
        SmtpTransport(smtp_sink.url).send(message())
    assert caught.value.uncertain
    assert len(smtp_sink.wait_for(1)) == 1  # it did arrive: a blind retry would duplicate it


# ------------------------------------------------------------------------- error classes


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_4xx_is_temporary(smtp_sink: SmtpSink, stage: str) -> None:
    smtp_sink.fail(stage, "451 4.3.0 Please try again later")  # type: ignore[arg-type]
    with SmtpTransport(smtp_sink.url) as transport:
        with pytest.raises(TemporaryMailError) as caught:
            transport.send(message(1))
        assert caught.value.smtp_code == 451
        assert "try again later" in caught.value.detail
        assert not isinstance(caught.value, MailConfigError)
        smtp_sink.reset_failures()
        assert transport.send(message(2)).ok  # the connection was reset and reused
    assert smtp_sink.sessions == 1


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_5xx_is_permanent(smtp_sink: SmtpSink, stage: str) -> None:
    smtp_sink.fail(stage, "550 5.7.1 Message rejected")  # type: ignore[arg-type]
    with pytest.raises(PermanentMailError) as caught:
        SmtpTransport(smtp_sink.url).send(message())
    assert caught.value.smtp_code == 550
    assert f"127.0.0.1:{smtp_sink.port}" in caught.value.detail
    assert smtp_sink.messages == []


def test_some_recipients_refused(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail("RCPT", "550 5.1.1 No such user", recipient="gone@example.jp")
    with SmtpTransport(smtp_sink.url) as transport:
        result = transport.send(message(to=["ok@example.jp", "gone@example.jp"]))
    assert result.accepted == ("ok@example.jp",)
    assert result.refused == {"gone@example.jp": (550, "5.1.1 No such user")}
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ["ok@example.jp"]


def test_all_recipients_refused(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail("RCPT", "550 5.1.1 No such user")
    with pytest.raises(PermanentMailError) as caught:
        SmtpTransport(smtp_sink.url).send(message(to=["a@example.jp", "b@example.jp"]))
    assert caught.value.code == "smtp_recipients_refused"
    assert "a@example.jp" in caught.value.detail


def test_send_many_reports_each_message(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail("RCPT", "550 5.1.1 No such user", recipient="gone@example.jp")
    messages = [message(1), message(to="gone@example.jp"), message(3)]
    with SmtpTransport(smtp_sink.url) as transport:
        results = transport.send_many(messages)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PermanentMailError)
    assert results[1].message_id == messages[1]["Message-ID"]
    assert len(smtp_sink.wait_for(2)) == 2
    assert smtp_sink.sessions == 1


def test_refused_connection_is_temporary_and_names_the_server() -> None:
    port = closed_port()
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
    with pytest.raises(TemporaryMailError) as caught:
        transport.send(message())
    assert caught.value.code == "smtp_connection_refused"
    assert f"SMTP server 127.0.0.1:{port} refused the connection" in caught.value.detail
    results = transport.send_many([message(1), message(2), message(3)])
    assert [r.error.code if r.error else None for r in results] == ["smtp_connection_refused"] * 3


def test_password_never_shows_in_errors(smtp_tls_sink: SmtpSink) -> None:
    transport = SmtpTransport(smtp_tls_sink.url)  # untrusted CA: fails after connecting
    assert SINK_PASSWORD not in repr(transport)
    assert quote(SINK_PASSWORD, safe="") not in repr(transport)
    with pytest.raises(MailConfigError) as caught:
        transport.send(message())
    assert SINK_PASSWORD not in str(caught.value)
    assert quote(SINK_PASSWORD, safe="") not in str(caught.value)


# ------------------------------------------------------------------------- check_smtp


def test_check_smtp_passes_on_good_settings(smtp_tls_sink: SmtpSink, smtps_sink: SmtpSink) -> None:
    check_smtp(smtp_tls_sink.url, smtp_tls_sink.ca_file, timeout=5)
    check_smtp(smtps_sink.url, smtps_sink.ca_file, timeout=5)
    assert smtp_tls_sink.logins == [(SINK_USER, True)]
    assert smtp_tls_sink.messages == []


def test_check_smtp_explains_each_failure(smtp_tls_sink: SmtpSink) -> None:
    cases = {
        "smtp_dns_failed": ("smtp://smtp.nonexistent.invalid:25", None),
        "smtp_connection_refused": (f"smtp://127.0.0.1:{closed_port()}", None),
        "smtp_tls_unverified": (smtp_tls_sink.url, None),
        "smtp_auth_failed": (
            f"smtp+starttls://{SINK_USER}:nope@127.0.0.1:{smtp_tls_sink.port}",
            smtp_tls_sink.ca_file,
        ),
    }
    for code, (url, ca_file) in cases.items():
        with pytest.raises(
            MailConfigError if code != "smtp_connection_refused" else Exception
        ) as c:
            check_smtp(url, ca_file, timeout=5)
        assert getattr(c.value, "code", None) == code, c.value
