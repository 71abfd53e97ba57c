"""build_message / sender_address: Japanese round-trips, MIME shape, header injection."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from api.errors import ValidationFailed
from api.mail.messages import build_message, parse_address, sender_address

SENDER = sender_address("山田 太郎", "taro@example.jp")


def parse(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=email.policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def make(**kwargs: object) -> EmailMessage:
    args: dict[str, object] = {
        "sender": SENDER,
        "to": "佐藤 花子 <hanako@example.jp>",
        "subject": "【重要】年末年始の営業日のご案内",
        "text": "佐藤様\nいつもお世話になっております。\n",
    }
    args.update(kwargs)
    return build_message(**args)  # type: ignore[arg-type]


def test_japanese_subject_and_names_round_trip_through_a_parser() -> None:
    message = make(cc=["鈴木 一郎 <ichiro@example.jp>"], reply_to="営業部 <sales@example.jp>")
    raw = message.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers must be RFC 2047-encoded, not raw UTF-8"
    parsed = parse(message)
    assert parsed["Subject"] == "【重要】年末年始の営業日のご案内"
    assert parsed["From"].addresses[0].display_name == "山田 太郎"
    assert parsed["From"].addresses[0].addr_spec == "taro@example.jp"
    assert parsed["To"].addresses[0].display_name == "佐藤 花子"
    assert parsed["Cc"].addresses[0].display_name == "鈴木 一郎"
    assert parsed["Reply-To"].addresses[0].addr_spec == "sales@example.jp"


def test_long_japanese_subject_is_folded_and_survives() -> None:
    subject = "新製品「絆クラウド」のご紹介と、" * 8
    message = make(subject=subject)
    raw = message.as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    assert parse(message)["Subject"] == subject


def test_text_only_message_is_a_single_utf8_part() -> None:
    parsed = parse(make())
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed["Content-Transfer-Encoding"] == "base64"  # Japanese: base64 is shortest
    assert parsed.get_content().replace("\r\n", "\n") == "佐藤様\nいつもお世話になっております。\n"


def test_html_makes_multipart_alternative_with_text_first() -> None:
    parsed = parse(make(html="<p>佐藤様</p>"))
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert "佐藤様" in parts[1].get_content()
    assert all("MIME-Version" not in p for p in parts)
    assert parsed["MIME-Version"] == "1.0"


def test_transfer_encodings_are_7bit_safe() -> None:
    assert make(text="Hello\n")["Content-Transfer-Encoding"] == "7bit"
    mostly_ascii = make(text="Dear customer, see https://example.jp/a?b=c (日本)\n")
    assert mostly_ascii["Content-Transfer-Encoding"] == "quoted-printable"
    long_ascii = make(text="x" * 2000)
    assert long_ascii["Content-Transfer-Encoding"] != "7bit"
    for message in (mostly_ascii, long_ascii, make(html="<p>" + "あ" * 3000 + "</p>")):
        raw = message.as_bytes()
        assert raw.isascii()
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_message_id_and_date_are_set() -> None:
    message = make()
    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith("@example.jp>")
    assert message["Date"].datetime is not None
    other = make(domain="mail.example.com")
    assert other["Message-ID"].endswith("@mail.example.com>")
    assert make()["Message-ID"] != message["Message-ID"]


def test_extra_headers_and_message_id_override() -> None:
    message = make(
        headers={
            "List-Unsubscribe": "<https://example.jp/u/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": "<send-42@example.jp>",
        }
    )
    assert message["List-Unsubscribe"] == "<https://example.jp/u/abc>"
    assert message.get_all("Message-ID") == ["<send-42@example.jp>"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subject": "Hello\r\nBcc: victim@example.com"}, "subject"),
        ({"subject": "Hello\nX: y"}, "subject"),
        ({"subject": "Hello\x00"}, "subject"),
        ({"to": "a@example.jp\r\nBcc: b@example.com"}, "to"),
        ({"to": ["ok@example.jp", "Evil\n <b@example.com>"]}, "to[1]"),
        ({"sender": "Name\r\nBcc: x@example.com <a@example.jp>"}, "sender"),
        ({"reply_to": "r@example.jp\rX: y"}, "reply_to"),
        ({"cc": "c@example.jp\n"}, "cc"),
        ({"headers": {"X-Campaign": "1\r\nBcc: x@example.com"}}, "headers.X-Campaign"),
    ],
)
def test_header_injection_is_refused_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make(**kwargs)
    assert caught.value.errors[0].field == field
    assert caught.value.errors[0].code == "header_injection"


def test_sender_address_refuses_injection_in_the_name() -> None:
    with pytest.raises(ValidationFailed):
        sender_address("山田\r\nBcc: x@example.com", "taro@example.jp")


@pytest.mark.parametrize(
    "headers",
    [{"Bcc": "x@example.com"}, {"Subject": "x"}, {"Content-Type": "text/html"}, {"Bad Name": "x"}],
)
def test_managed_or_malformed_header_names_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        make(headers=headers)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "@example.jp",
        "taro@",
        "a b@example.jp",
        "taro@localhost",
        "<>",
        "a@b@c.jp",
    ],
)
def test_invalid_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make(to=address)
    assert caught.value.errors[0].field == "to"


def test_no_recipient_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        make(to=[])


def test_sender_address_quotes_specials_and_encodes_japanese() -> None:
    assert sender_address("Yamada, Taro", "taro@example.jp") == '"Yamada, Taro" <taro@example.jp>'
    assert sender_address("山田 太郎", "taro@example.jp") == "山田 太郎 <taro@example.jp>"
    assert sender_address(None, "taro@example.jp") == "taro@example.jp"
    parsed = parse(make(sender=sender_address('営業部 "東京"', "sales@example.jp")))
    assert parsed["From"].addresses[0].display_name == '営業部 "東京"'


def test_quoted_names_and_japanese_mobile_addresses_parse() -> None:
    address = parse_address('"Sato, Hanako" <hanako@example.jp>')
    assert (address.display_name, address.addr_spec) == ("Sato, Hanako", "hanako@example.jp")
    mobile = parse(make(to="taro..yamada.@docomo.ne.jp"))
    assert mobile["To"].addresses[0].domain == "docomo.ne.jp"


def test_international_domain_becomes_punycode() -> None:
    message = make(to="花子 <hanako@例え.jp>")
    assert message.as_bytes().isascii()
    assert parse(message)["To"].addresses[0].domain == "xn--r8jz45g.jp"


def test_non_ascii_local_part_switches_to_smtputf8() -> None:
    message = make(to="はなこ@example.jp")
    assert message.policy.utf8 is True  # type: ignore[attr-defined]
    assert "はなこ@example.jp".encode() in message.as_bytes()
    assert make().policy.utf8 is False  # type: ignore[attr-defined]
