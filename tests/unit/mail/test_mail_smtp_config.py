"""SmtpTransport's URL handling and secrecy; nothing here opens a connection."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from api.errors import KizunaError
from api.mail.transport import (
    MailConfigError,
    MailError,
    PermanentMailError,
    SmtpTransport,
    TemporaryMailError,
)


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("smtp://mail.example.jp", "mail.example.jp:25"),
        ("smtp+starttls://mail.example.jp", "mail.example.jp:587"),
        ("smtps://mail.example.jp", "mail.example.jp:465"),
        ("smtp://mail.example.jp:2525", "mail.example.jp:2525"),
        ("SMTP://[::1]:2525", "[::1]:2525"),
    ],
)
def test_default_ports(url: str, where: str) -> None:
    assert SmtpTransport(url).where == where


def test_password_is_masked_everywhere() -> None:
    transport = SmtpTransport("smtp+starttls://user%40example.jp:p%40ss%3Aw0rd%2F@mail.example.jp")
    text = repr(transport) + str(transport) + repr(vars(transport))
    assert "p@ss:w0rd/" not in text
    assert "p%40ss" not in text
    assert (
        repr(transport)
        == "SmtpTransport('smtp+starttls://user%40example.jp:***@mail.example.jp:587')"
    )
    # the percent-decoded password is what would be sent
    assert transport._config.password == "p@ss:w0rd/"
    assert transport._config.username == "user@example.jp"


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.jp",
        "smtp://",
        "smtp://mail.example.jp:99999",
        "smtp://mail.example.jp?tls=off",
        "mail.example.jp:25",
    ],
)
def test_bad_urls_fail_with_a_config_error(url: str) -> None:
    with pytest.raises(MailConfigError) as caught:
        SmtpTransport(url)
    assert caught.value.code == "smtp_url_invalid"
    assert "SMTP_URL" in caught.value.detail


def test_verification_is_only_off_when_asked(caplog: pytest.LogCaptureFixture) -> None:
    import ssl

    assert SmtpTransport("smtps://mail.example.jp")._tls.verify_mode == ssl.CERT_REQUIRED
    with caplog.at_level(logging.WARNING):
        transport = SmtpTransport("smtps://u:secret@mail.example.jp?verify=false")
    assert transport._tls.verify_mode == ssl.CERT_NONE
    assert "verification is OFF" in caplog.text
    assert "secret" not in caplog.text
    assert "verify=false" in repr(transport)


def test_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(MailConfigError) as caught:
        SmtpTransport("smtps://mail.example.jp", ca_file=bogus)
    assert "KIZUNA_SMTP_CA_FILE" in caught.value.detail


def test_error_hierarchy() -> None:
    assert issubclass(MailConfigError, TemporaryMailError)
    assert issubclass(TemporaryMailError, MailError)
    assert issubclass(PermanentMailError, MailError)
    assert issubclass(MailError, KizunaError)
    error = TemporaryMailError(detail="try later", smtp_code=451)
    assert (str(error), error.code, error.smtp_code) == ("try later", "mail_temporary", 451)
    assert PermanentMailError().code == "mail_permanent"
