"""The member forms' live settings without JavaScript (issue 18, parts 1, 2 and 6), on SQLite
and PostgreSQL: the embedded gate fills /register/ with the fields the site asks (for their
types, labels escaped, in the page's language) and every new-password field with the site's
password rules; a setting changed in the admin shows at the next request; a plain form
registration with those fields (a multi-select's checkboxes, a boolean) goes in."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from api.customers import records
from api.principal import Principal
from api.runtime import Runtime
from tests.integration.access.test_gate_app import example_site  # noqa: F401 - a fixture
from tests.integration.access.test_mypage_fill import log_in, member, section, tag  # noqa: F401
from tests.integration.members.conftest import (  # noqa: F401 - the members' fixtures
    _fresh_data_tables,
    actor,
)
from tests.integration.members.site_helpers import FORM, configure, mails_to, record_of

FIELDS = ("<!--kizuna:register-fields-->", "<!--/kizuna:register-fields-->")


def test_the_registration_page_asks_the_sites_fields_for_their_types(
    client: TestClient[Litestar],
    runtime: Runtime,
    member: int,  # noqa: F811
) -> None:
    static = (runtime.settings.site_dir / "public" / "register" / "index.html").read_bytes()
    configure(runtime, **{"member.registration_fields": "name,plan,topics,newsletter,visits"})
    page = client.get("/register/")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    fields = section(page.text, *FIELDS)
    names = re.findall(r'<(?:input|select)\b[^>]*\bname="([a-z_]+)"', fields)
    assert list(dict.fromkeys(names)) == ["name", "plan", "topics", "newsletter", "visits"]
    name = tag(fields, "input", 'name="name"')
    assert " required" in name and 'maxlength="40"' in name and 'id="f-register-name"' in name
    assert "value=" not in name  # nothing of anyone in a registration form
    assert '<option value="gold">ゴールド</option>' in fields and "selected" not in fields
    assert 'value="x&lt;y" data-kizuna-multi> &lt;script&gt;x&lt;/script&gt;' in fields
    assert "<script>" not in fields
    assert 'type="number"' in tag(fields, "input", 'name="visits"')
    assert 'type="hidden" name="newsletter" value="false"' in fields
    # Each field carries the page's hidden error texts, for the query's messages.
    assert (
        'data-kizuna-field-error="visits:invalid" hidden>正しい形式で入力してください。' in fields
    )
    english = section(client.get("/en/register/").text, *FIELDS)
    assert '<option value="gold">Gold</option>' in english and ">Topics<" in english
    assert "&lt;i&gt;x&lt;/i&gt;" in english
    # A refused post: the page names the field (the query's messages, as on every page).
    refused = client.get("/register/?error=validation_failed&fields=visits:invalid").text
    errors = section(refused, 'data-kizuna-errors-for="visits">', "</span></div>")
    assert 'data-kizuna-field-error="visits:invalid">' in errors
    # The settings of now: a field taken out is gone at the next request.
    configure(runtime, **{"member.registration_fields": "name"})
    fields = section(client.get("/register/").text, *FIELDS)
    assert re.findall(r'\bname="([a-z_]+)"', fields) == ["name"]
    # The gate's own bytes stay as built.
    assert client.app.state.gate.site.files["/register/"].body == static


def test_a_plain_form_registration_with_the_asked_fields(
    client: TestClient[Litestar],
    runtime: Runtime,
    member: int,  # noqa: F811
    actor: Principal,  # noqa: F811
) -> None:
    configure(runtime, **{"member.registration": "open",
                          "member.registration_fields": "name,plan,topics,newsletter"})  # fmt: skip
    form = [("lang", "en"), ("email", "new@example.jp"), ("password", "a long passphrase 77"),
            ("name", "Hanako"), ("plan", "free"), ("topics", "card"), ("topics", "onc"),
            ("topics", ""), ("newsletter", "true"), ("newsletter", "false")]  # fmt: skip
    body = "&".join(f"{k}={v}" for k, v in form)
    sent = client.post("/api/members/register", content=body, headers=FORM,
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303 and sent.headers["location"] == "/en/register/?done=sent"
    mails_to(runtime, "new@example.jp")
    with runtime.db.read() as session:
        values = records.get_record(session, actor, "members", record_of(runtime, "new@example.jp"))
    got = values["values"]
    assert got["topics"] == ["onc", "card"]  # in the choices' order and got["newsletter"] is True
    assert got["plan"] == "free" and got["name"] == "Hanako"
    # A field the site does not ask is refused by name, nothing written.
    sneaky = "email=other@example.jp&password=a+long+passphrase+77&staff_memo=x"
    refused = client.post("/api/members/register", content=sneaky, headers=FORM,
                          follow_redirects=False)  # fmt: skip
    assert "error=unknown_field" in refused.headers["location"]


def test_closed_registration_says_so_and_hides_the_form(
    client: TestClient[Litestar],
    runtime: Runtime,
    member: int,  # noqa: F811
) -> None:
    configure(runtime, **{"member.registration": "closed"})
    html = client.get("/en/register/").text
    # The page says so before anyone types (the post is refused anyway).
    message = tag(html, "p", 'data-kizuna-message="error=registration_closed"')
    assert " hidden" not in message
    assert " hidden" in tag(html, "form", 'data-kizuna-form="register"')
    # Marked for member-forms.js, which keeps the server's markup and shows the same.
    page = tag(html, "section", "data-kizuna-page=")
    assert 'data-kizuna-filled="settings"' in page and 'data-kizuna-registration="closed"' in page
    configure(runtime, **{"member.registration": "open"})
    html = client.get("/en/register/").text
    assert " hidden" in tag(html, "p", 'data-kizuna-message="error=registration_closed"')
    assert " hidden" not in tag(html, "form", 'data-kizuna-form="register"')
    assert 'data-kizuna-filled="settings"' in html and "data-kizuna-registration" not in html


def test_every_new_password_field_shows_the_sites_rules(
    client: TestClient[Litestar],
    runtime: Runtime,
    member: int,  # noqa: F811
    actor: Principal,  # noqa: F811
) -> None:
    configure(runtime, **{"member.password_require_digit": True,
                          "member.password_min_length": 12})  # fmt: skip
    pages = {"/register/": "password", "/password/reset/?step=ready": "new_password"}
    for path, field in pages.items():
        html = client.get(path).text
        rules = section(html, "data-kizuna-password-rules>", "</ul>")
        assert '<li data-code="password_needs_digit">' in rules, path
        assert "12 文字以上" in rules and 'minlength="12"' in tag(html, "input", f'name="{field}"')
    english = client.get("/en/password/reset/?step=ready").text
    assert "At least 12 characters" in section(english, "data-kizuna-password-rules>", "</ul>")
    # My page's password form (behind a rule): the rules, and the member's header as on every
    # gated page.
    log_in(client)
    html = client.get("/mypage/password/").text
    assert '<li data-code="password_needs_digit">' in html
    assert 'data-kizuna-member data-state="member"' in html
    assert "data-kizuna-member-name>&lt;b&gt;山田&lt;/b&gt;" in html
    # Off again: the always-on rules only, at the next request.
    configure(runtime, **{"member.password_require_digit": False,
                          "member.password_min_length": 8})  # fmt: skip
    html = client.get("/mypage/password/").text
    rules = section(html, "data-kizuna-password-rules>", "</ul>")
    assert "password_needs_digit" not in rules and 'minlength="8"' in html


def test_built_page_keeps_the_marks(example_site: Path) -> None:  # noqa: F811
    html = (example_site / "public" / "register" / "index.html").read_text(encoding="utf-8")
    assert html.count(FIELDS[0]) == 1 and html.count(FIELDS[1]) == 1
    assert "data-kizuna-field-error-texts" in html
