"""Hostile characters through the API: every single-line field refuses NUL, the other control
characters, line separators and bidi overrides with a 422 naming the field (never a 500, on
PostgreSQL too); log-in answers the ordinary 401; typed values arrive normalised."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.runtime import Runtime
from tests.fixtures.app import PASSWORD, StaffClient, login

HOSTILE = {
    "\x00": "control_chars",
    "\x1b": "control_chars",
    "\x9b": "control_chars",
    "\t": "control_chars",
    "\n": "single_line",
    "\u2028": "single_line",
    "\u2029": "single_line",
    "\x85": "single_line",
    "\u202e": "bidi_control",
    "\u2066": "bidi_control",
}


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def field_error(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert field in errors, errors
    return errors[field]


def test_staff_names_refuse_hostile_characters(admin: StaffClient) -> None:
    for n, (char, code) in enumerate(HOSTILE.items()):
        body = {
            "email": f"h{n}@example.jp",
            "name": f"山田{char}太郎",
            "role": "viewer",
            "password": PASSWORD,
        }
        error = field_error(admin.post("/api/staff/users", json=body), "name")
        assert error["code"] == code, (repr(char), error)
        assert error["message"]
    target = admin.staff.id
    error = field_error(
        admin.patch(f"/api/staff/users/{target}", json={"name": "a\u202eb"}), "name"
    )
    assert error["code"] == "bidi_control"
    error = field_error(admin.patch("/api/staff/auth/me", json={"name": "a\u2028b"}), "name")
    assert error["code"] == "single_line"
    error = field_error(
        admin.post("/api/staff/tokens", json={"name": "gpj.exe\u202e", "role": "viewer"}), "name"
    )
    assert error["code"] == "bidi_control"
    assert admin.get("/api/staff/users").json()["total"] == 1  # nothing was written


def test_staff_emails_refuse_hostile_characters(admin: StaffClient) -> None:
    for n, (char, code) in enumerate(HOSTILE.items()):
        body = {
            "email": f"h{n}{char}@example.jp",
            "name": "N",
            "role": "viewer",
            "password": PASSWORD,
        }
        error = field_error(admin.post("/api/staff/users", json=body), "email")
        assert error["code"] == code, (repr(char), error)
    body = {"email": "nul@example.jp\x00", "name": "N", "role": "viewer", "password": PASSWORD}
    assert (
        field_error(admin.post("/api/staff/users", json=body), "email")["code"] == "control_chars"
    )


def test_free_text_is_kept_and_typed_values_are_normalised(admin: StaffClient) -> None:
    body = {
        "email": "ＨＡＮＡＫＯ．ＳＡＴＯ＠ＥＸＡＭＰＬＥ．ＪＰ",
        "name": "\u3000㈱絆①　髙橋 ｶﾀｶﾅ 😀\u3000",
        "role": "Marketer",
        "password": PASSWORD,
    }
    created = admin.post("/api/staff/users", json=body)
    assert created.status_code == 201, created.text
    staff = created.json()
    assert staff["email"] == "hanako.sato@example.jp"
    assert staff["name"] == "㈱絆①　髙橋 ｶﾀｶﾅ 😀"
    assert staff["role"] == "marketer"
    for q in ("㈱絆", "髙橋", "ｶﾀｶﾅ", "ＨＡＮＡＫＯ", "hanako.sato@"):
        found = admin.get("/api/staff/users", params={"q": q}).json()
        assert [s["id"] for s in found["items"]] == [staff["id"]], q


def test_login_with_hostile_emails_is_the_ordinary_401(
    client: TestClient[Litestar], admin: StaffClient
) -> None:
    client.cookies.clear()
    for email in ("\x00", f"{admin.staff.email}\x00", "a\u202e@example.jp", "a@example.jp\r\nX: y"):
        response = login(client, email)
        assert response.status_code == 401, (repr(email), response.text)
        assert response.json()["code"] == "invalid_credentials"
    wide = admin.staff.email.upper().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert (
        login(client, f"\u3000{wide}\u3000").status_code == 200
    )  # full width, as typed on a phone


def test_live_settings_refuse_hostile_characters(admin: StaffClient) -> None:
    for char, code in HOSTILE.items():
        for key in ("mail.sender_name", "site.name", "mail.sender_address"):
            value = f"Kizuna{char}x" if key != "mail.sender_address" else f"a{char}@example.jp"
            response = admin.patch("/api/settings", json={"values": {key: value}})
            assert field_error(response, key)["code"] == code, (key, repr(char))
    error = field_error(
        admin.patch("/api/settings", json={"values": {"mail.footer": "a\x00"}}), "mail.footer"
    )
    assert error["code"] == "control_chars"
    error = field_error(
        admin.patch("/api/settings", json={"values": {"mail.footer": "\u202e"}}), "mail.footer"
    )
    assert error["code"] == "bidi_control"
    ok = admin.patch(
        "/api/settings",
        json={"values": {"mail.footer": "一行目\u2028二行目\r\n\tタブ", "mail.sender_name": " ㈱絆 事務局\u3000",
                         "mail.sender_address": "ＩＮＦＯ＠ＥＸＡＭＰＬＥ．ＪＰ", "password.min_length": "１６"}},
    )  # fmt: skip
    assert ok.status_code == 200, ok.text
    values = {i["key"]: i["value"] for i in ok.json()["items"]}
    assert values["mail.footer"] == "一行目\n二行目\n\tタブ"
    assert values["mail.sender_name"] == "㈱絆 事務局"
    assert values["mail.sender_address"] == "info@example.jp"
    assert values["password.min_length"] == 16


def test_test_mail_recipient_refuses_hostile_characters(admin: StaffClient) -> None:
    for char, code in HOSTILE.items():
        response = admin.post("/api/mail/test", json={"to": f"a{char}@example.jp"})
        assert field_error(response, "to")["code"] == code, repr(char)


def test_a_stored_value_that_breaks_the_rules_gives_way_to_the_default(
    runtime: Runtime, admin: StaffClient
) -> None:
    """A sender name with U+2028 stored before the rule existed no longer stops every mail."""
    from api.livesettings import services as live
    from api.livesettings.models import Setting
    from api.mail.messages import sender_address

    with runtime.db.transaction() as session:
        session.add(Setting(key="mail.sender_name", value="絆\u2028Bcc: x@example.com"))
    with runtime.db.transaction() as session:
        values = live.get_many(session, "mail.")
        assert values["mail.sender_name"] == "Kizuna"
        assert live.get(session, "mail.sender_name") == "Kizuna"
        sender = sender_address(values["mail.sender_name"], values["mail.sender_address"])
    assert sender == "Kizuna <no-reply@example.jp>"
    response = admin.post("/api/mail/test", json={"to": "taro@example.jp"})
    assert response.status_code in (200, 201, 202), response.text
