"""The member site, registration (issue 18, parts 1, 2, 7, 9) on SQLite and PostgreSQL: the
password rules and their description, registration modes, the confirmation mail and its
link (one press, single use, expiring, forged), no enumeration, strict bodies, rate limits,
CSRF, form posts, funnel events."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from api.audit.models import AuditEntry
from api.customers import records, services
from api.customers.definitions import parse_field
from api.db import utcnow
from api.members import services as members
from api.members import site
from api.members.models import MemberEvent, MemberToken
from api.principal import Principal
from api.runtime import Runtime
from tests.fixtures.app import StaffClient
from tests.integration.members.conftest import PASSWORD, Members
from tests.integration.members.site_helpers import (
    FORM,
    configure,
    login,
    mails_to,
    me,
    record_of,
    register,
    token_in,
)

GOOD = "correct horse battery 77"


def test_password_rules_are_described_and_enforced(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    rules = client.get("/api/members/password-rules").json()
    assert rules["min_length"] == 8 and rules["max_length"] == 1024
    assert not any(rules[f"require_{k}"] for k in ("lowercase", "uppercase", "digit", "symbol"))
    codes = [r["code"] for r in rules["rules"]]
    assert codes == [
        "password_too_short", "password_too_long", "password_personal", "password_too_common",
    ]  # fmt: skip
    assert all(r["ja"] and r["en"] for r in rules["rules"])
    configure(runtime, **{"member.registration": "open"})

    def refused(password: str, email: str = "new@example.jp") -> list[str]:
        response = register(client, email=email, password=password, name="新 会員")
        assert response.status_code == 422, response.text
        return [e["code"] for e in response.json()["errors"]]

    assert refused("short12") == ["password_too_short"]
    assert "password_too_common" in refused("password1")
    assert refused("new@example.jp") == ["password_personal"]
    assert refused("x" * 1025) == ["password_too_long"]
    # 64+ characters are welcome and never truncated.
    long = "長いパスフレーズ " * 12
    assert len(long) > 64
    assert register(client, email="long@example.jp", password=long).status_code == 202
    # Composition rules, off by default, can be switched on.
    configure(runtime, **{"member.password_min_length": 12, "member.password_require_digit": True,
                          "member.password_require_uppercase": True,
                          "member.password_require_symbol": True,
                          "member.password_require_lowercase": True})  # fmt: skip
    rules = client.get("/api/members/password-rules").json()
    assert rules["min_length"] == 12 and rules["require_digit"]
    assert {"password_needs_digit", "password_needs_uppercase"} <= {
        r["code"] for r in rules["rules"]
    }
    assert set(refused("abcdefghijk")) == {
        "password_too_short", "password_needs_digit", "password_needs_uppercase",
        "password_needs_symbol",
    }  # fmt: skip
    assert register(client, email="ok@example.jp", password="Abcdefgh-123x").status_code == 202


def test_staff_set_member_passwords_follow_the_member_rules(
    admin: StaffClient, people: Members
) -> None:
    url = f"/api/members/accounts/{people.nobody}/password"
    response = admin.request("PUT", url, json={"password": "nobody@example.jp"})
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["password_personal"]
    # 8 characters are enough for members (the staff's own minimum is 12).
    assert admin.request("PUT", url, json={"password": "xq7!kd9z"}).status_code == 200


def test_registration_confirmed_by_one_press_then_log_in(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    assert client.get("/api/members/registration").json()["mode"] == "closed"
    closed = register(client, email="hana@example.jp", password=GOOD)
    assert closed.status_code == 403 and closed.json()["code"] == "registration_closed"
    configure(runtime, **{"member.registration": "open"})
    form = client.get("/api/members/registration").json()
    assert form["mode"] == "open" and [f["key"] for f in form["fields"]] == ["name"]
    response = register(client, email="Hana@Example.JP", password=GOOD, name="花 子", lang="en")
    assert response.status_code == 202 and response.json() == {"status": "sent"}
    # Provisional: no log-in before the confirmation.
    assert login(client, "hana@example.jp", GOOD).status_code == 401
    (mail,) = mails_to(runtime, "hana@example.jp")
    assert mail.subject.startswith("[Kizuna] Confirm your registration")
    assert "Dear 花 子" in mail.text and mail.html and "Complete registration" in mail.html
    token = token_in(mail)
    # Opening the link (a mail scanner, the browser) uses nothing up.
    for _ in range(2):
        checked = client.get(f"/api/members/links/{token}", headers={"accept": "application/json"})
        assert checked.status_code == 200 and checked.json() == {
            "purpose": "confirm",
            "valid": True,
        }
    opened = client.get(f"/api/members/links/{token}", follow_redirects=False)
    assert opened.status_code == 303
    # The page in the language the registration was made in (lang="en").
    assert opened.headers["location"] == "/en/register/confirm/?step=ready"
    assert (
        "HttpOnly" in opened.headers["set-cookie"]
        and "Path=/api/members/" in opened.headers["set-cookie"]
    )
    # The one press: a plain form post, the link in its cookie.
    pressed = client.post("/api/members/confirm", data={}, headers=FORM, follow_redirects=False)
    assert pressed.status_code == 303
    assert pressed.headers["location"] == "/login/?done=confirmed"
    again = client.post("/api/members/confirm", json={"token": token})
    assert again.status_code == 410 and again.json()["code"] == "link_used"
    (_, welcome) = mails_to(runtime, "hana@example.jp", 2)
    assert welcome.subject == "[Kizuna] Welcome"
    assert login(client, "hana@example.jp", GOOD).status_code == 200
    assert me(client)["email"] == "hana@example.jp"
    with runtime.db.read() as session:
        kinds = [e.kind for e in session.exec(select(MemberEvent).order_by(MemberEvent.id)).all()]
        assert kinds == ["registration_started", "confirmed", "logged_in"]
        assert site.funnel(session) == {"registration_started": 1, "confirmed": 1, "logged_in": 1}


def test_an_existing_address_gets_the_same_answer_and_its_owner_a_mail(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    new = register(client, email="fresh@example.jp", password=GOOD, name="新")
    known = register(client, email="doctor@example.jp", password=GOOD, name="新")
    assert (new.status_code, new.json()) == (known.status_code, known.json()) == (
        202, {"status": "sent"},
    )  # fmt: skip
    (owner,) = mails_to(runtime, "doctor@example.jp")
    assert "すでに登録されています" in owner.text and "/password/reset/" in owner.text
    # The member's password did not change.
    assert login(client, "doctor@example.jp", PASSWORD).status_code == 200
    assert login(client, "doctor@example.jp", GOOD).status_code == 401


def test_a_unique_value_held_by_another_member_gets_the_same_answer_and_a_mail(
    client: TestClient[Litestar], runtime: Runtime, actor: Principal, people: Members
) -> None:
    """A member number asked at registration and unique: typing one another member holds
    answers like any registration (no 409 telling the visitor it exists); only the mailbox of
    the address given learns which field, and nothing is written."""
    with runtime.db.transaction() as session:
        services.add_field(session, actor, "members", parse_field(
            {"key": "member_no", "type": "text", "unique": True,
             "label": {"ja": "会員番号", "en": "Member number"}}))  # fmt: skip
        records.update_record(
            session, actor, "members", people.doctor, {"member_no": "M-001"}, version=1
        )
    configure(runtime, **{"member.registration": "open",
                          "member.registration_fields": "name,member_no"})  # fmt: skip
    new = register(client, email="fresh@example.jp", password=GOOD, name="新", member_no="M-002")
    taken = register(client, email="other@example.jp", password=GOOD, name="他", member_no="M-001")
    english = register(client, email="en@example.jp", password=GOOD, member_no="M-001", lang="en")
    assert (new.status_code, new.json()) == (taken.status_code, taken.json()) == (
        english.status_code, english.json()) == (202, {"status": "sent"})  # fmt: skip
    (mail,) = mails_to(runtime, "other@example.jp")
    assert "「会員番号」はすでに別の会員の登録に使われている" in mail.text, mail.text
    assert "/login/" in mail.text and "M-001" not in mail.text
    (mail,) = mails_to(runtime, "en@example.jp")
    assert "the Member number entered is already used by another member" in mail.text
    with runtime.db.read() as session:
        found = members._find_record(session, members.member_design(session), "other@example.jp")
    assert found is None  # nothing written for the refused registration
    record_of(runtime, "fresh@example.jp")


def test_bodies_with_unknown_fields_are_refused(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    for extra in ({"groups": ["doctors"]}, {"plan": "gold"}, {"status": "active"}):
        response = register(client, email="x@example.jp", password=GOOD, **extra)
        assert response.status_code == 422 and response.json()["code"] == "unknown_field", extra
    response = client.post("/api/members/password/reset", json={"email": "a@b.jp", "admin": 1})
    assert response.status_code == 422 and response.json()["code"] == "unknown_field"
    response = client.post(
        "/api/members/register", data={"email": "x@example.jp", "password": GOOD, "plan": "gold"},
        headers=FORM, follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {"error": ["unknown_field"], "fields": ["plan:unknown_field"]}


def test_field_rules_of_the_table_apply(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    response = register(client, email="not an address", password=GOOD)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "email"
    response = register(client, email="y@example.jp", password=GOOD, name="x" * 5000)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "name"


def test_forged_expired_and_reused_links_get_a_clear_answer(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    register(client, email="late@example.jp", password=GOOD)
    token = token_in(mails_to(runtime, "late@example.jp")[0])
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    json = {"accept": "application/json"}
    for bad in (forged, "c.abc.def", "x", "r" + token[1:]):
        response = client.get(f"/api/members/links/{bad}", headers=json)
        assert response.status_code in (400, 404), bad
        response = client.post("/api/members/confirm", json={"token": bad})
        assert response.status_code == 400 and response.json()["code"] == "link_invalid", bad
    opened = client.get(f"/api/members/links/{forged}", follow_redirects=False)
    assert opened.headers["location"] == "/register/confirm/?error=link_invalid"
    with runtime.db.transaction() as session:
        for link in session.exec(select(MemberToken)).all():
            link.expires_at = utcnow() - timedelta(minutes=1)
            session.add(link)
    response = client.post("/api/members/confirm", json={"token": token})
    assert response.status_code == 410 and response.json()["code"] == "link_expired"
    opened = client.get(f"/api/members/links/{token}", follow_redirects=False)
    assert opened.headers["location"] == "/register/confirm/?error=link_expired"
    pressed = client.post("/api/members/confirm", data={"token": token}, headers=FORM,
                          follow_redirects=False)  # fmt: skip
    assert pressed.headers["location"] == "/register/confirm/?error=link_expired"
    # Registering again sends a new link (the old one stays dead).
    register(client, email="late@example.jp", password=GOOD)
    fresh = token_in(mails_to(runtime, "late@example.jp", 2)[1])
    assert client.post("/api/members/confirm", json={"token": fresh}).json() == {"status": "active"}


def test_approval_mode_waits_for_staff(
    client: TestClient[Litestar], admin: StaffClient, runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "approval"})
    register(client, email="wait@example.jp", password=GOOD, name="待 つ")
    token = token_in(mails_to(runtime, "wait@example.jp")[0])
    pressed = client.post("/api/members/confirm", data={"token": token}, headers=FORM,
                          follow_redirects=False)  # fmt: skip
    assert pressed.headers["location"] == "/register/confirm/?done=approval"
    assert login(client, "wait@example.jp", GOOD).status_code == 401
    rid = record_of(runtime, "wait@example.jp")
    state = admin.get(f"/api/members/accounts/{rid}").json()
    assert state["status"] == "approval" and not state["can_log_in"]
    assert admin.post(f"/api/members/accounts/{rid}/confirmation").status_code == 409
    approved = admin.post(f"/api/members/accounts/{rid}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert admin.post(f"/api/members/accounts/{rid}/approve").status_code == 409
    assert login(client, "wait@example.jp", GOOD).status_code == 200
    subjects = [m.subject for m in mails_to(runtime, "wait@example.jp", 3)]
    assert subjects[1].startswith("【Kizuna】会員登録を受け付けました") and "完了" in subjects[2]


def test_staff_resend_a_confirmation(
    client: TestClient[Litestar], admin: StaffClient, runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    register(client, email="again@example.jp", password=GOOD)
    first = token_in(mails_to(runtime, "again@example.jp")[0])
    rid = record_of(runtime, "again@example.jp")
    assert admin.post(f"/api/members/accounts/{rid}/confirmation").status_code == 200
    second = token_in(mails_to(runtime, "again@example.jp", 2)[1])
    assert client.post("/api/members/confirm", json={"token": first}).status_code == 410
    assert client.post("/api/members/confirm", json={"token": second}).status_code == 200
    with runtime.db.read() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "members.confirmation.resend")
        ).one()
        assert entry.target_id == str(rid)


def test_registration_rate_limits_say_try_again_later(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    for _ in range(3):
        assert register(client, email="spam@example.jp", password=GOOD).status_code == 202
    response = register(client, email="spam@example.jp", password=GOOD)
    assert response.status_code == 429 and "Try again later" in response.json()["detail"]
    assert response.headers["retry-after"] == "3600"
    # Per client address too.
    for n in range(6):
        register(client, email=f"other{n}@example.jp", password=GOOD)
    assert register(client, email="last@example.jp", password=GOOD).status_code == 429
    response = client.post("/api/members/register", data={"email": "z@example.jp", "password": GOOD},
                           headers=FORM, follow_redirects=False)  # fmt: skip
    assert response.headers["location"] == "/register/?error=rate_limited"


def test_cross_site_posts_are_refused(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    evil = {"origin": "https://evil.example"}
    for path in ("/api/members/register", "/api/members/confirm", "/api/members/password/reset",
                 "/api/members/password/reset/complete", "/api/members/profile",
                 "/api/members/password", "/api/members/email", "/api/members/email/confirm",
                 "/api/members/sessions/end", "/api/members/withdraw"):  # fmt: skip
        response = client.post(path, json={}, headers=evil)
        assert response.status_code == 403 and response.json()["code"] == "cross_site", path
    assert client.put("/api/members/profile", json={}, headers=evil).status_code == 403
    assert client.delete("/api/members/sessions/x", headers=evil).status_code == 403


def test_form_registration_goes_back_with_the_outcome(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    data = {"email": "form@example.jp", "password": GOOD, "name": "フォーム"}
    response = client.post("/api/members/register", data=data, headers=FORM,
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/register/?done=sent"
    response = client.post("/api/members/register", data={**data, "password": "short"},
                           headers=FORM, follow_redirects=False)  # fmt: skip
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {"error": ["password_rules"], "fields": ["password:password_too_short"]}


def test_without_a_member_table_registration_is_closed(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    configure(runtime, **{"member.registration": "open"})
    assert client.get("/api/members/registration").json()["mode"] == "closed"
    response = register(client, email="a@example.jp", password=GOOD)
    assert response.status_code == 403 and response.json()["code"] == "registration_closed"
    same = client.post("/api/members/password/reset", json={"email": "a@example.jp"})
    assert same.status_code == 202


def test_staff_edit_the_member_site_settings_and_mail_texts(
    client: TestClient[Litestar], admin: StaffClient, runtime: Runtime, people: Members
) -> None:
    bad = admin.patch("/api/settings", json={"values": {"member.registration": "maybe"}})
    assert bad.status_code == 422
    text = "[{site}] ようこそ <b>{name}</b>\n{name} さん、こちらを押してください。\n\n{link}"
    saved = admin.patch(
        "/api/settings",
        json={"values": {"member.registration": "open", "member.mail.confirm.ja": text}},
    )
    assert saved.status_code == 200, saved.text
    response = register(client, email="tag@example.jp", password=GOOD, name="<script>x</script>")
    assert response.status_code == 202
    (mail,) = mails_to(runtime, "tag@example.jp")
    assert mail.subject == "[Kizuna] ようこそ <b><script>x</script></b>"
    assert "<script>x</script> さん" in mail.text  # plain text as typed
    assert (
        mail.html and "<script>" not in mail.html and "&lt;script&gt;x&lt;/script&gt;" in mail.html
    )
    assert "登録を完了する" in mail.html  # the link became the layout's button


def test_a_link_pressed_many_times_at_once_works_once(
    served_app: str, runtime: Runtime, people: Members
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    configure(runtime, **{"member.registration": "open"})
    with httpx.Client(base_url=served_app, timeout=60) as client:
        body = {"email": "race@example.jp", "password": GOOD}
        assert client.post("/api/members/register", json=body).status_code == 202
    token = token_in(mails_to(runtime, "race@example.jp")[0])

    def press(_: int) -> int:
        with httpx.Client(base_url=served_app, timeout=60) as own:
            return own.post("/api/members/confirm", json={"token": token}).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(press, range(6)))
    assert statuses == [200, 410, 410, 410, 410, 410]
    with runtime.db.read() as session:
        events = session.exec(select(MemberEvent).where(MemberEvent.kind == "confirmed")).all()
        assert len(events) == 1
