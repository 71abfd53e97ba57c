"""My page without JavaScript (issue 18, part 6), on SQLite and PostgreSQL: the embedded gate
fills the built /mypage/ (and /en/mypage/) for the member who asks it — the address, the
member-editable fields for their types with the current values (escaped), labels and choices
in the page's language, the sessions each with a plain form that ends it — never cached;
anonymous visitors get the "please log in" message. Plain form posts go round trip."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.members import services as members
from api.principal import Principal
from api.runtime import Runtime
from tests.integration.access.test_gate_app import example_site  # noqa: F401 - a fixture
from tests.integration.members.conftest import (  # noqa: F401 - the members' fixtures
    PASSWORD,
    _fresh_data_tables,
    actor,
)
from tests.integration.members.site_helpers import FORM, configure

NAME = '<b>山田</b> & "太郎"'
EMAIL = "yamada@example.jp"
CHOICES = [
    {"value": "gold", "label": {"ja": "ゴールド", "en": "Gold"}},
    {"value": "free", "label": {"ja": "無料", "en": "Free"}},
]
TOPICS = [
    {"value": "onc", "label": {"ja": "腫瘍", "en": "Oncology"}},
    {"value": "card", "label": {"ja": "循環器", "en": "Cardiology"}},
    {"value": "x<y", "label": {"ja": "<script>x</script>", "en": "<i>x</i>"}},
]


@pytest.fixture
def member(runtime: Runtime, actor: Principal, example_site: Path) -> int:  # noqa: F811
    with runtime.db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "members", "is_member_table": True}),
            [
                parse_field({"key": "email", "type": "email", "unique": True}),
                parse_field({"key": "name", "type": "text", "required": True, "max_length": 40,
                             "label": {"ja": "お名前", "en": "Name"}}),
                parse_field({"key": "plan", "type": "select", "choices": CHOICES,
                             "label": {"ja": "プラン", "en": "Plan"}}),
                parse_field({"key": "topics", "type": "multi_select", "choices": TOPICS,
                             "label": {"ja": "関心", "en": "Topics"}}),
                parse_field({"key": "newsletter", "type": "boolean",
                             "label": {"ja": "ニュースレター", "en": "Newsletter"}}),
                parse_field({"key": "birthday", "type": "date"}),
                parse_field({"key": "seen_at", "type": "datetime"}),
                parse_field({"key": "visits", "type": "integer"}),
                parse_field({"key": "note", "type": "long_text"}),
                parse_field({"key": "specialty", "type": "text",
                             "label": {"ja": "専門", "en": "Specialty"}}),
                parse_field({"key": "staff_memo", "type": "text"}),
            ],
        )  # fmt: skip
        record = records.create_record(
            session,
            actor,
            "members",
            {"email": EMAIL, "name": NAME, "plan": "gold", "topics": ["onc", "x<y"],
             "newsletter": True, "birthday": "1980-04-01", "visits": 12,
             "seen_at": "2026-04-01T09:30:00+09:00",
             "note": "line 1\n</textarea><b>", "specialty": "腫瘍内科",
             "staff_memo": "VIP do-not-show"},
        )["id"]  # fmt: skip
        members.set_password(session, actor, record, PASSWORD)
    configure(
        runtime,
        **{
            "member.editable_fields": "name,plan,topics,newsletter,birthday,visits,note,seen_at",
            "member.registration_fields": "name,specialty",
        },
    )
    target = runtime.settings.site_dir
    shutil.rmtree(target / "meta", ignore_errors=True)
    shutil.copytree(example_site / "meta", target / "meta")
    shutil.copytree(example_site / "public", target / "public", dirs_exist_ok=True)
    runtime.member_auth.fields.refresh(force=True)
    return int(record)


def log_in(client: TestClient[Litestar]) -> None:
    response = client.post("/api/members/login", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200, response.text


def tag(html: str, name: str, attr: str) -> str:
    """The first ``<name …>`` tag whose attributes contain ``attr``."""
    found = re.search(r"<" + name + r"\b[^>]*" + re.escape(attr) + r"[^>]*>", html)
    assert found, (name, attr)
    return found.group(0)


def section(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def test_my_page_is_filled_for_the_member_escaped_and_never_cached(
    client: TestClient[Litestar], runtime: Runtime, member: int
) -> None:
    static = (runtime.settings.site_dir / "public" / "mypage" / "index.html").read_bytes()
    log_in(client)
    page = client.get("/mypage/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert "etag" not in page.headers
    html = page.text
    assert 'data-kizuna-filled="member" data-kizuna-time-zone="Asia/Tokyo"' in html
    assert (
        '<p class="auth-card__lead" data-kizuna-member-email>ログイン中: yamada@example.jp</p>'
        in (html)
    )
    # The header: the member's name (escaped) and "log out", no "log in".
    assert 'data-kizuna-member data-state="member"' in html
    assert " hidden" in tag(html, "a", 'class="member-nav__login"')
    assert " hidden" not in tag(html, "form", 'class="member-nav__logout"')
    assert (
        "data-kizuna-member-name>&lt;b&gt;山田&lt;/b&gt; &amp; &quot;太郎&quot; さん</span>" in html
    )
    fields = section(html, "<!--kizuna:profile-fields-->", "<!--/kizuna:profile-fields-->")
    # Only the editable fields are controls; the other registration field is shown, read-only.
    names = set(re.findall(r'\bname="([a-z_]+)"', fields))
    assert names == {"name", "plan", "topics", "newsletter", "birthday", "visits", "note",
                     "seen_at"}  # fmt: skip
    assert "staff_memo" not in html and "VIP do-not-show" not in html
    assert "<dt>専門</dt><dd>腫瘍内科</dd>" in fields
    # Values escaped, rules on the controls.
    assert "<b>" not in fields and "<script>" not in fields
    name = tag(fields, "input", 'name="name"')
    assert 'value="&lt;b&gt;山田&lt;/b&gt; &amp; &quot;太郎&quot;"' in name
    assert " required" in name and 'maxlength="40"' in name and 'type="text"' in name
    assert 'id="f-mypage-name"' in name and 'for="f-mypage-name"' in fields
    assert "line 1\n&lt;/textarea&gt;&lt;b&gt;</textarea>" in fields
    assert '<option value="gold" selected>ゴールド</option>' in fields
    assert '<option value="free">無料</option>' in fields
    assert " required" not in tag(fields, "select", 'name="plan"')
    assert 'value="onc" data-kizuna-multi checked> 腫瘍</label>' in fields
    assert 'value="card" data-kizuna-multi>' in fields
    assert 'value="x&lt;y" data-kizuna-multi checked> &lt;script&gt;x&lt;/script&gt;' in fields
    assert "checked" in tag(fields, "input", 'type="checkbox" id="f-mypage-newsletter"')
    assert 'type="date"' in tag(fields, "input", 'name="birthday"')
    assert 'value="1980-04-01"' in tag(fields, "input", 'name="birthday"')
    assert 'value="12"' in tag(fields, "input", 'name="visits"')
    # A date and time in the site's zone (JST), as it is read back when saved.
    seen = tag(fields, "input", 'name="seen_at"')
    assert 'type="datetime-local"' in seen and 'value="2026-04-01T09:30"' in seen
    assert 'type="number"' in tag(fields, "input", 'name="visits"')
    # Each field carries its (hidden) error texts, for the query's messages.
    assert (
        'data-kizuna-field-error="visits:invalid" hidden>正しい形式で入力してください。' in fields
    )
    # The session list: this device, with a plain form that ends it.
    sessions = section(html, "<!--kizuna:sessions-->", "<!--/kizuna:sessions-->")
    assert sessions.count('class="member-session"') == 1
    assert "data-kizuna-session-current>この端末" in sessions
    assert "最終利用: " in sessions and "IP <span data-kizuna-session-ip>" in sessions
    (sid,) = re.findall(r'action="/api/members/sessions/([^"/]+)/end"', sessions)
    assert f'data-session="{sid}"' in sessions
    assert '<ul class="member-sessions" data-kizuna-sessions>' in html
    # English: labels and choices in English, same values.
    english = client.get("/en/mypage/").text
    fields = section(english, "<!--kizuna:profile-fields-->", "<!--/kizuna:profile-fields-->")
    assert "Logged in as yamada@example.jp" in english
    assert '<option value="gold" selected>Gold</option>' in fields
    assert "&lt;i&gt;x&lt;/i&gt;" in fields and ">Plan<" in fields
    assert "<dt>Specialty</dt>" in fields and "data-kizuna-session-current>This device" in english
    # Nothing personal stuck in the gate's files: the next visitor gets the built page.
    client.cookies.clear()
    assert "yamada" not in client.get("/mypage/").text
    gate = client.app.state.gate
    assert gate.site.files["/mypage/"].body == static


def test_anonymous_visitors_are_asked_to_log_in(client: TestClient[Litestar], member: int) -> None:
    for path, words in (("/mypage/", "マイページを見るにはログインしてください。"),
                        ("/en/mypage/", "Please log in to see your page.")):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
        message = tag(page.text, "p", 'data-kizuna-when="anonymous"')
        assert " hidden" not in message and words in page.text
        assert page.text.count('<section class="member-section" hidden') == 3
        assert 'data-kizuna-filled="anonymous"' in page.text
        assert "data-kizuna-member-email hidden" in page.text
    # A form post of an anonymous visitor: the page says why.
    sent = client.post("/api/members/profile", data={"name": "x"}, headers=FORM,
                       follow_redirects=False)  # fmt: skip
    assert sent.headers["location"] == "/mypage/?error=not_logged_in"
    again = client.get(sent.headers["location"]).text
    assert " hidden" not in tag(again, "p", 'data-kizuna-message="error=not_logged_in"')


def test_a_plain_form_post_saves_and_the_page_shows_the_message_and_values(
    client: TestClient[Litestar], member: int
) -> None:
    log_in(client)
    form = [("lang", "en"), ("name", "Hanako"), ("plan", "free"), ("topics", "card"),
            ("topics", "onc"), ("topics", ""), ("newsletter", "false"), ("birthday", ""),
            ("visits", "3"), ("note", ""), ("seen_at", "2026-04-01T09:30")]  # fmt: skip
    body = "&".join(f"{k}={v}" for k, v in form)
    sent = client.post("/api/members/profile", content=body, headers=FORM, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/en/mypage/?done=saved"
    page = client.get(sent.headers["location"]).text
    assert " hidden" not in tag(page, "p", 'data-kizuna-message="done=saved"')
    fields = section(page, "<!--kizuna:profile-fields-->", "<!--/kizuna:profile-fields-->")
    assert 'value="Hanako"' in tag(fields, "input", 'name="name"')
    assert '<option value="free" selected>Free</option>' in fields
    assert 'value="onc" data-kizuna-multi checked>' in fields
    assert 'value="card" data-kizuna-multi checked>' in fields
    assert 'value="x&lt;y" data-kizuna-multi>' in fields
    assert "checked" not in tag(fields, "input", 'id="f-mypage-newsletter"')
    assert "value=" not in tag(fields, "input", 'name="birthday"')
    profile = client.get("/api/members/profile").json()["values"]
    assert profile["topics"] == ["onc", "card"] and profile["newsletter"] is False
    assert profile["visits"] == 3 and profile["birthday"] is None
    # The date and time the page showed, sent back as it was: the same moment.
    assert datetime.fromisoformat(profile["seen_at"]) == datetime.fromisoformat(
        "2026-04-01T09:30:00+09:00"
    )
    # Ticked again; a refused value comes back as the field's message, nothing saved.
    ticked = "lang=ja&newsletter=true&newsletter=false&visits=many"
    refused = client.post("/api/members/profile", content=ticked, headers=FORM,
                          follow_redirects=False)  # fmt: skip
    location = refused.headers["location"]
    assert urlsplit(location).path == "/mypage/" and "fields=visits" in location
    page = client.get(location).text
    assert " hidden" not in tag(page, "p", 'data-kizuna-message="error=validation_failed"')
    errors = section(page, 'data-kizuna-errors-for="visits">', "</span></div>")
    assert re.search(r'data-kizuna-field-error="visits:[a-z_*]+">', errors)
    ok = client.post("/api/members/profile", content="newsletter=true&newsletter=false",
                     headers=FORM, follow_redirects=False)  # fmt: skip
    assert ok.headers["location"] == "/mypage/?done=saved"
    assert client.get("/api/members/profile").json()["values"]["newsletter"] is True
    # A field the member may not edit: refused.
    sneaky = client.post("/api/members/profile", data={"staff_memo": "x"}, headers=FORM,
                         follow_redirects=False)  # fmt: skip
    assert "error=unknown_field" in sneaky.headers["location"]


def test_ending_another_session_by_a_plain_form(
    client: TestClient[Litestar], app: Litestar, member: int
) -> None:
    log_in(client)
    with TestClient(app, base_url="http://testserver.local") as elsewhere:
        elsewhere.headers["user-agent"] = (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/130.0 <script>"
        )
        log_in(elsewhere)
        page = client.get("/en/mypage/").text
        sessions = section(page, "<!--kizuna:sessions-->", "<!--/kizuna:sessions-->")
        items = re.findall(r'<li class="member-session" data-session="[^"]+">.*?</li>', sessions,
                           re.S)  # fmt: skip
        assert len(items) == 2
        (other,) = [i for i in items if "data-kizuna-session-current hidden" in i]
        assert "Firefox / Windows" in other and "<script>" not in sessions
        sid = re.search(r'data-session="([^"]+)"', other).group(1)  # type: ignore[union-attr]
        # Cross-site: refused.
        refused = client.post(f"/api/members/sessions/{sid}/end", data={"lang": "en"},
                              headers={**FORM, "origin": "https://evil.example"},
                              follow_redirects=False)  # fmt: skip
        assert refused.status_code == 403
        assert elsewhere.get("/api/members/me").json()["member"] is not None
        ended = client.post(f"/api/members/sessions/{sid}/end", data={"lang": "en"},
                            headers=FORM, follow_redirects=False)  # fmt: skip
        assert ended.status_code == 303
        assert ended.headers["location"] == "/en/mypage/?done=session_ended"
        assert elsewhere.get("/api/members/me").json()["member"] is None
        page = client.get(ended.headers["location"]).text
        assert " hidden" not in tag(page, "p", 'data-kizuna-message="done=session_ended"')
        left = section(page, "<!--kizuna:sessions-->", "<!--/kizuna:sessions-->")
        assert left.count('<li class="member-session"') == 1
        # Ending it again changes nothing; a session that is not the member's: the page says so.
        again = client.post(f"/api/members/sessions/{sid}/end", data={}, headers=FORM,
                            follow_redirects=False)  # fmt: skip
        assert again.headers["location"] == "/mypage/?done=session_ended"
        unknown = client.post("/api/members/sessions/no-such-session/end", data={},
                              headers=FORM, follow_redirects=False)  # fmt: skip
        assert unknown.headers["location"] == "/mypage/?error=session_not_found"
        assert " hidden" not in tag(
            client.get(unknown.headers["location"]).text,
            "p",
            'data-kizuna-message="error=session_not_found"',
        )
        # JSON (the script) gets the count, or the problem.
        assert client.post(f"/api/members/sessions/{sid}/end", json={}).json() == {"ended": 1}
        assert client.post("/api/members/sessions/nope/end", json={}).status_code == 404
    # This browser's own session: logged out, to the log-in page.
    mine = re.search(r'action="/api/members/sessions/([^"/]+)/end"', client.get("/mypage/").text)
    assert mine is not None
    own = client.post(f"/api/members/sessions/{mine.group(1)}/end", data={}, headers=FORM,
                      follow_redirects=False)  # fmt: skip
    assert own.headers["location"] == "/login/?done=logged_out"
    assert client.get("/api/members/me").json()["member"] is None


def test_the_login_page_says_why_in_its_own_language(
    client: TestClient[Litestar], member: int
) -> None:
    japanese = client.get("/login/?error=invalid").text
    english = client.get("/en/login/?error=invalid").text
    assert "ログインできませんでした。" in japanese
    assert "We could not log you in." in english and "ログインできませんでした" not in english
