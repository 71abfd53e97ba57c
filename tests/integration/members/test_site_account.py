"""The member site after registration (issue 18, parts 3, 4, 5) on SQLite and PostgreSQL:
password reset (same answer, single use, every session ends), my page (profile with only the
editable fields, password change, e-mail change confirmed from the new address and told to
the old one, sessions and log out everywhere), withdrawal in its three handlings, and form
posts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from api.customers import records
from api.groups import services as groups
from api.members.models import MemberAccount, MemberEvent
from api.principal import cli_principal
from api.runtime import Runtime
from tests.integration.members.conftest import PASSWORD, Members
from tests.integration.members.site_helpers import (
    FORM,
    NEW_PASSWORD,
    configure,
    login,
    mails_to,
    me,
    register,
    token_in,
)


def other_client(app: Litestar) -> TestClient[Litestar]:
    return TestClient(app, base_url="http://testserver.local")


def test_reset_gives_one_answer_and_ends_every_session(
    client: TestClient[Litestar], app: Litestar, runtime: Runtime, people: Members
) -> None:
    with other_client(app) as elsewhere:
        assert login(elsewhere, "doctor@example.jp", PASSWORD).status_code == 200
        known = client.post("/api/members/password/reset", json={"email": "doctor@example.jp"})
        unknown = client.post("/api/members/password/reset", json={"email": "who@example.jp"})
        no_password = client.post(
            "/api/members/password/reset", json={"email": "nobody@example.jp"}
        )
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        assert (no_password.status_code, no_password.json()) == (202, {"status": "sent"})
        (mail,) = mails_to(runtime, "doctor@example.jp")
        assert "パスワードの再設定" in mail.subject
        token = token_in(mail)
        opened = client.get(f"/api/members/links/{token}", follow_redirects=False)
        assert opened.headers["location"] == "/password/reset/?step=ready"
        # A new password that breaks the rules: back to the form, the link still usable.
        refused = client.post("/api/members/password/reset/complete",
                              data={"new_password": "short"}, headers=FORM,
                              follow_redirects=False)  # fmt: skip
        query = parse_qs(urlsplit(refused.headers["location"]).query)
        assert query["step"] == ["ready"] and query["fields"] == ["new_password:password_too_short"]
        done = client.post("/api/members/password/reset/complete",
                           data={"new_password": NEW_PASSWORD}, headers=FORM,
                           follow_redirects=False)  # fmt: skip
        assert done.headers["location"] == "/login/?done=reset"
        # Every session ended, at once.
        assert me(elsewhere) is None
        again = client.post(
            "/api/members/password/reset/complete",
            json={"token": token, "new_password": "yet another passphrase"},
        )
        assert again.status_code == 410 and again.json()["code"] == "link_used"
    assert login(client, "doctor@example.jp", PASSWORD).status_code == 401
    assert login(client, "doctor@example.jp", NEW_PASSWORD).status_code == 200
    # Nothing went to unknown addresses or to the record without a password.
    assert mails_to(runtime, "who@example.jp", 0) == []
    assert mails_to(runtime, "nobody@example.jp", 0) == []


def test_long_passwords_are_never_truncated(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    long = "".join(f"{n:03d}-word " for n in range(20))  # 180 characters
    assert register(client, email="long@example.jp", password=long).status_code == 202
    token = token_in(mails_to(runtime, "long@example.jp")[0])
    assert client.post("/api/members/confirm", json={"token": token}).status_code == 200
    assert login(client, "long@example.jp", long[:72]).status_code == 401
    assert login(client, "long@example.jp", long[:-1]).status_code == 401
    assert login(client, "long@example.jp", long).status_code == 200


def test_my_profile_edits_only_the_editable_fields(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    assert client.get("/api/members/profile").status_code == 401
    login(client, "doctor@example.jp", PASSWORD)
    profile = client.get("/api/members/profile").json()
    assert profile["email"] == "doctor@example.jp"
    assert profile["values"] == {"name": "医師 一郎"}
    assert [(f["key"], f["editable"]) for f in profile["fields"]] == [("name", True)]
    for refused in ({"plan": "platinum"}, {"groups": ["pharmacists"]}, {"email": "x@example.jp"},
                    {"status": "x"}):  # fmt: skip
        response = client.put("/api/members/profile", json=refused)
        assert response.status_code == 422 and response.json()["code"] == "unknown_field", refused
    saved = client.put("/api/members/profile", json={"name": "医師 二郎"})
    assert saved.status_code == 200 and saved.json()["values"]["name"] == "医師 二郎"
    configure(runtime, **{"member.editable_fields": "name, specialty"})
    form = client.post("/api/members/profile", data={"specialty": "surgery"}, headers=FORM,
                       follow_redirects=False)  # fmt: skip
    assert form.headers["location"] == "/mypage/?done=saved"
    form = client.post("/api/members/profile", data={"plan": "platinum"}, headers=FORM,
                       follow_redirects=False)  # fmt: skip
    assert parse_qs(urlsplit(form.headers["location"]).query)["error"] == ["unknown_field"]
    with runtime.db.read() as session:
        row = records.get_record(session, cli_principal(), "members", people.doctor)
        assert row["values"]["specialty"] == "surgery" and row["values"]["plan"] == "gold"
        assert groups.groups_of(session, _table_id(runtime), [people.doctor]) == {
            people.doctor: ["doctors"]
        }


def _table_id(runtime: Runtime) -> int:
    from api.members import services as members

    with runtime.db.read() as session:
        return members.member_design(session).table.id or 0


def test_password_change_needs_the_current_one_and_ends_other_sessions(
    client: TestClient[Litestar], app: Litestar, runtime: Runtime, people: Members
) -> None:
    with other_client(app) as elsewhere:
        login(elsewhere, "doctor@example.jp", PASSWORD)
        login(client, "doctor@example.jp", PASSWORD)
        wrong = client.post("/api/members/password",
                            json={"current_password": "nope", "new_password": NEW_PASSWORD})  # fmt: skip
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0] == {
            "field": "current_password", "message": "is not correct", "code": "password_incorrect",
        }  # fmt: skip
        weak = client.post("/api/members/password",
                           json={"current_password": PASSWORD, "new_password": "password"})  # fmt: skip
        assert weak.status_code == 422
        changed = client.post("/api/members/password",
                              json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})  # fmt: skip
        assert changed.status_code == 200 and changed.json() == {"sessions_ended": 1}
        assert me(client)["email"] == "doctor@example.jp"  # this session goes on
        assert me(elsewhere) is None  # the other one ended at once
    assert login(client, "doctor@example.jp", NEW_PASSWORD).status_code == 200


def test_wrong_current_passwords_are_rate_limited(
    client: TestClient[Litestar], people: Members
) -> None:
    login(client, "doctor@example.jp", PASSWORD)
    body = {"current_password": "wrong", "new_password": NEW_PASSWORD}
    for _ in range(5):
        assert client.post("/api/members/password", json=body).status_code == 422
    response = client.post("/api/members/password", json=body)
    assert response.status_code == 429 and "Try again later" in response.json()["detail"]


def test_email_change_is_confirmed_from_the_new_address_and_told_to_the_old(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    body = {"email": "new-doctor@example.jp", "current_password": PASSWORD}
    assert client.post("/api/members/email", json=body).status_code == 401  # logged in only
    login(client, "doctor@example.jp", PASSWORD)
    wrong = client.post("/api/members/email", json={**body, "current_password": "x"})
    assert wrong.status_code == 422
    taken = client.post("/api/members/email", json={**body, "email": "pharma@example.jp"})
    asked = client.post("/api/members/email", json=body)
    assert (taken.status_code, taken.json()) == (asked.status_code, asked.json()) == (
        202, {"status": "sent"},
    )  # fmt: skip
    (note,) = mails_to(runtime, "pharma@example.jp")
    assert "すでに登録されています" in note.text
    (mail,) = mails_to(runtime, "new-doctor@example.jp")
    token = token_in(mail)
    opened = client.get(f"/api/members/links/{token}", follow_redirects=False)
    assert opened.headers["location"] == "/mypage/email/?step=ready"
    pressed = client.post("/api/members/email/confirm", data={}, headers=FORM,
                          follow_redirects=False)  # fmt: skip
    assert pressed.headers["location"] == "/mypage/email/?done=changed"
    (old,) = mails_to(runtime, "doctor@example.jp")
    assert "new-doctor@example.jp" in old.text
    assert client.post("/api/members/email/confirm", json={"token": token}).status_code == 410
    client.cookies.clear()
    assert login(client, "doctor@example.jp", PASSWORD).status_code == 401
    assert login(client, "new-doctor@example.jp", PASSWORD).status_code == 200


def test_sessions_and_log_out_everywhere(
    client: TestClient[Litestar], app: Litestar, runtime: Runtime, people: Members
) -> None:
    with other_client(app) as elsewhere:
        login(elsewhere, "doctor@example.jp", PASSWORD)
        login(client, "doctor@example.jp", PASSWORD)
        sessions = client.get("/api/members/sessions").json()
        assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
        other = next(s for s in sessions if not s["current"])
        assert client.delete(f"/api/members/sessions/{other['id']}").status_code == 204
        assert me(elsewhere) is None
        assert client.delete("/api/members/sessions/unknown").status_code == 404
        login(elsewhere, "doctor@example.jp", PASSWORD)
        ended = client.post("/api/members/sessions/end", data={}, headers=FORM,
                            follow_redirects=False)  # fmt: skip
        assert ended.headers["location"] == "/login/?done=logged_out"
        assert me(elsewhere) is None and me(client) is None


@pytest.mark.parametrize("handling", ["keep", "deactivate", "anonymise"])
def test_withdrawal_ends_access_at_once(
    client: TestClient[Litestar], app: Litestar, runtime: Runtime, people: Members, handling: str
) -> None:
    configure(runtime, **{"member.withdrawal": handling})
    with other_client(app) as elsewhere:
        login(elsewhere, "doctor@example.jp", PASSWORD)
        assert me(elsewhere) is not None
        login(client, "doctor@example.jp", PASSWORD)
        wrong = client.post("/api/members/withdraw", json={"current_password": "x"})
        assert wrong.status_code == 422
        left = client.post("/api/members/withdraw", data={"current_password": PASSWORD},
                           headers=FORM, follow_redirects=False)  # fmt: skip
        assert left.headers["location"] == "/withdraw/?done=withdrawn"
        assert me(elsewhere) is None and me(client) is None
    (mail,) = mails_to(runtime, "doctor@example.jp")
    assert "退会" in mail.subject
    assert login(client, "doctor@example.jp", PASSWORD).status_code == 401
    with runtime.db.read() as session:
        account = session.exec(
            select(MemberAccount).where(MemberAccount.record_id == people.doctor)
        ).first()
        status = account.status if account else None
        row = records.get_record(session, cli_principal(), "members", people.doctor)
        kinds = [e.kind for e in session.exec(select(MemberEvent)).all()]
        assert kinds.count("withdrawn") == 1
        member_groups = groups.groups_of(session, _table_id(runtime), [people.doctor])
    if handling == "deactivate":
        assert status == "withdrawn"
    else:
        assert status is None
    if handling == "anonymise":
        assert row["values"]["email"].startswith("withdrawn-")
        assert row["values"]["name"] is None and row["values"]["plan"] is None
        assert member_groups == {}
    else:
        assert row["values"]["email"] == "doctor@example.jp"
        assert member_groups == {people.doctor: ["doctors"]}


def test_housekeeping_purges_old_links(runtime: Runtime, people: Members) -> None:
    from datetime import timedelta

    from api.db import utcnow
    from api.members import site
    from api.members.models import MemberToken

    with runtime.db.transaction() as session:
        for days, used in ((10, None), (1, None), (1, utcnow() - timedelta(days=8))):
            session.add(
                MemberToken(
                    purpose="reset", account_id=_account_id(session, people.doctor),
                    secret_hash=f"{days}-{used}"[:64], expires_at=utcnow() - timedelta(days=days),
                    used_at=used,
                )
            )  # fmt: skip
    with runtime.db.transaction() as session:
        assert site.purge_links(session) == 2
        assert len(session.exec(select(MemberToken)).all()) == 1


def _account_id(session: object, record_id: int) -> int:
    found = session.exec(  # type: ignore[attr-defined]
        select(MemberAccount).where(MemberAccount.record_id == record_id)
    ).one()
    return int(found.id)
