"""The whole life of a member's account in a real browser, with its mails delivered over SMTP
(issue 18, "Done when"): sent to the log-in by a gated page, registers from there; confirms from
the mail the SMTP sink received, logs in and reads the page; edits the profile, changes the
e-mail address (the confirmation reaches the new address, the notice the old one) and the
password; resets the password by mail, withdraws, and is refused again.

Once with JavaScript (JSON, no reload) and once with JavaScript off (plain form posts and
303s). The server is a real `kizuna run` whose mail transport speaks SMTP to an aiosmtpd sink
on loopback: the links are parsed out of the messages as they arrived."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from api.livesettings import services as live
from api.livesettings.registry import MEMBER_MAILS
from api.principal import cli_principal
from tests.fixtures.browser import VIEWPORTS, ConsoleWatch
from tests.fixtures.customers import live_database, seed_customers
from tests.fixtures.live import LiveServer, kizuna, kizuna_env, start_server, stop_server
from tests.fixtures.services import free_port
from tests.fixtures.smtp import ReceivedMessage, SmtpSink

pytestmark = pytest.mark.browser

GATED = "/members/seminar-materials/"  # "members": any logged-in member (content/site.toml)
GATED_TITLE = "セミナー資料"
LINK = re.compile(r"https?://[^/\s]+(/api/members/links/[A-Za-z0-9_.\-]+)")
PASSWORD = "sakura fubuki 2026"
NEW_PASSWORD = "momiji no aki 2027"
RESET_PASSWORD = "yuki no yoru 2028"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink("plain") as server:
        yield server


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[LiveServer]:
    """The example site built and served, its mails sent over SMTP into ``sink``,
    registration open with the demo member table."""
    base = tmp_path_factory.mktemp("member-life")
    var_dir = base / "var"
    env = kizuna_env(
        var_dir,
        KIZUNA_SITE_DIR=str(base / "site"),
        KIZUNA_LOGIN_RATE_LIMIT="600",
        SMTP_URL=sink.url,
    )
    kizuna(env, "migrate")
    kizuna(env, "createstaff", "--email", "admin@example.jp", "--name", "管理 太郎", "--role", "admin",
           "--password", "staff password 2026")  # fmt: skip
    kizuna(env, "build")
    server = start_server(env, var_dir, free_port())
    try:
        seed_customers(server)  # the demo schema: the member table "members"
        db = live_database(server)
        try:
            with db.transaction() as session:
                live.update(session, cli_principal("e2e"), {
                    "member.registration": "open",
                    "member.registration_fields": "name",
                    "member.editable_fields": "name,specialty,plan",
                })  # fmt: skip
        finally:
            db.dispose()
        yield server
    finally:
        stop_server(server)
    assert not (var_dir / "outbox").exists(), "mail went to the dev outbox, not over SMTP"


# The structure of my page's profile fields (elements, classes, the attributes that matter,
# not the values): the server's fill and member-forms.js must build the same.
MARKUP = """() => Array.from(document.querySelectorAll("[data-kizuna-profile-fields] *")).map(el => {
  const keep = ["class", "id", "name", "type", "for", "maxlength", "required", "rows", "step",
    "autocomplete", "aria-describedby", "hidden", "data-kizuna-field", "data-kizuna-errors-for",
    "data-kizuna-field-error", "data-kizuna-nullable", "data-kizuna-multi",
    "data-kizuna-form-default"];
  const attrs = keep.filter(n => el.hasAttribute(n)).map(n => n + "=" + el.getAttribute(n));
  return el.tagName + " " + attrs.join(" ") + " | " + (el.children.length ? "" : el.textContent);
})"""


def subject(kind: str) -> str:
    """The default Japanese subject of a member mail, without the site's name."""
    return MEMBER_MAILS[kind]["ja"].partition("\n")[0].rpartition("】")[2]


def wait_mail(sink: SmtpSink, to: str, kind: str, timeout: float = 30) -> ReceivedMessage:
    """The latest mail of ``kind`` to ``to`` (waits on the sink, bounded, no sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        received = sink.messages
        found = [
            m for m in received if to in m.rcpt_tos and subject(kind) in str(m.message["subject"])
        ]
        if found:
            return found[-1]
        left = deadline - time.monotonic()
        assert left > 0, (to, kind, [(m.rcpt_tos, str(m.message["subject"])) for m in received])
        with contextlib.suppress(AssertionError):  # the loop's own assertion says what came
            sink.wait_for(len(received) + 1, timeout=left)


def text_of(message: ReceivedMessage) -> str:
    body = message.message.get_body(preferencelist=("plain",))
    assert body is not None, message.raw[:500]
    return str(body.get_content())


def link_in(message: ReceivedMessage) -> str:
    """The member link of a mail, as a path on the server."""
    match = LINK.search(text_of(message))
    assert match, text_of(message)
    html = message.message.get_body(preferencelist=("html",))
    assert html is not None and match.group(1) in str(html.get_content())
    return match.group(1)


def submit(page: Page, form: str) -> None:
    page.click(f"form[data-kizuna-form={form}] button[type=submit]")


def done(page: Page, path: str, code: str) -> None:
    """The form's answer: the page at ``path`` with ``?code``, its message shown."""
    expect(page).to_have_url(re.compile(re.escape(path) + r"\?" + re.escape(code) + "$"))
    expect(page.locator(f'[data-kizuna-message="{code}"]')).to_be_visible()


def profile(page: Page, base: str) -> dict[str, Any]:
    """The member's own profile as the API gives it to this browser's session."""
    answer = page.request.get(base + "/api/members/profile")
    assert answer.status == 200, answer.text()
    data: dict[str, Any] = answer.json()
    return data


def log_in_from_gate(page: Page, base: str, email: str, password: str) -> None:
    """Opens the gated page, is sent to the log-in (``next`` kept), logs in, reads it."""
    page.goto(base + GATED)
    assert urlsplit(page.url).path == "/login/"
    assert parse_qs(urlsplit(page.url).query)["next"] == [GATED]
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[data-kizuna-login] button[type=submit]")
    expect(page).to_have_url(base + GATED)
    expect(page.locator("main h1")).to_contain_text(GATED_TITLE)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_life_of_an_account(
    js: bool,
    mail_server: LiveServer,
    sink: SmtpSink,
    browser: Any,
    screenshot: Callable[..., Path],
) -> None:
    base = mail_server.url
    context = browser.new_context(
        locale="ja-JP", viewport=VIEWPORTS["desktop"], java_script_enabled=js
    )
    page = context.new_page()
    console = ConsoleWatch(page)
    # Logged out, the member navigation and my page ask who is there: a 401 is the answer.
    console.expect(lambda text, url: "401" in text)
    email = f"life-{'js' if js else 'nojs'}@example.jp"
    new_email = f"life-{'js' if js else 'nojs'}-new@example.jp"
    try:
        # My page asks a visitor who is not logged in to do so (no JavaScript needed).
        page.goto(base + "/mypage/")
        expect(page.locator('[data-kizuna-when="anonymous"]')).to_be_visible()
        expect(page.locator(".member-section").first).to_be_hidden()
        screenshot(page, "mypage-anonymous")
        # A gated page sends the visitor to the log-in; from there, to register.
        page.goto(base + GATED)
        assert urlsplit(page.url).path == "/login/"
        assert GATED_TITLE not in page.locator("main").inner_text()
        screenshot(page, "gated-login")
        with page.expect_navigation():
            page.click(".member-menu a[href$='/register/']")
        assert urlsplit(page.url).path == "/register/"
        page.fill("form[data-kizuna-form=register] input[name=email]", email)
        page.fill("form[data-kizuna-form=register] input[name=password]", PASSWORD)
        page.fill("form[data-kizuna-form=register] input[name=name]", "絆 一生")
        screenshot(page, "register")
        submit(page, "register")
        done(page, "/register/", "done=sent")
        screenshot(page, "register-sent")

        # The confirmation mail, over SMTP: its link opens a page with one button.
        confirm = wait_mail(sink, email, "confirm")
        assert confirm.rcpt_tos == [email]
        page.goto(base + link_in(confirm))
        expect(page).to_have_url(re.compile(r"/register/confirm/\?step=ready"))
        screenshot(page, "confirm")
        submit(page, "confirm")
        done(page, "/login/", "done=confirmed")
        wait_mail(sink, email, "welcome")

        # Log in from the gated page and read it.
        log_in_from_gate(page, base, email, PASSWORD)
        screenshot(page, "gated-read")

        # My page: edit the profile. The server fills every editable field with its value,
        # with or without JavaScript (the select in the page's language).
        page.goto(base + "/mypage/")
        fields = page.locator("[data-kizuna-profile-fields]")
        expect(page.locator("[data-kizuna-member-email]")).to_have_text(f"ログイン中: {email}")
        expect(fields.locator("input[name=name]")).to_have_value("絆 一生")
        expect(fields.locator("input[name=specialty]")).to_have_value("")
        page.fill("[data-kizuna-profile-fields] input[name=specialty]", "腫瘍内科")
        page.select_option("[data-kizuna-profile-fields] select[name=plan]", "gold")
        page.fill("[data-kizuna-profile-fields] input[name=name]", "絆 一世")
        served = page.evaluate(MARKUP) if js else None
        submit(page, "profile")
        done(page, "/mypage/", "done=saved")
        if js:  # the script rendered the saved profile itself: the same markup as the server's
            assert page.evaluate(MARKUP) == served
        if js:  # the header greets the member by the new name at once
            expect(page.locator("[data-kizuna-member-name]")).to_have_text("絆 一世 さん")
        screenshot(page, "mypage-saved")
        page.reload()
        expect(fields.locator("input[name=name]")).to_have_value("絆 一世")
        expect(fields.locator("input[name=specialty]")).to_have_value("腫瘍内科")
        expect(fields.locator("select[name=plan]")).to_have_value("gold")
        values = profile(page, base)["values"]
        assert (values["name"], values["specialty"], values["plan"]) == (
            "絆 一世",
            "腫瘍内科",
            "gold",
        )

        # Log in on another device; end that session from my page (one form per session).
        other = browser.new_context(locale="ja-JP", java_script_enabled=js)
        try:
            elsewhere = other.new_page()
            log_in_from_gate(elsewhere, base, email, PASSWORD)
            page.goto(base + "/mypage/")
            sessions = page.locator("[data-kizuna-sessions] [data-session]")
            expect(sessions).to_have_count(2)
            current = sessions.filter(has=page.locator("[data-kizuna-session-current]:visible"))
            expect(current).to_have_count(1)
            expect(current).to_contain_text("この端末")
            screenshot(page, "mypage-sessions")
            another = sessions.filter(has_not=page.locator("[data-kizuna-session-current]:visible"))
            another.locator("button[type=submit]").click()
            done(page, "/mypage/", "done=session_ended")
            expect(page.locator("[data-kizuna-sessions] [data-session]")).to_have_count(1)
            elsewhere.goto(base + GATED)
            assert urlsplit(elsewhere.url).path == "/login/"
        finally:
            other.close()
        page.goto(base + "/en/mypage/")
        expect(page.locator("[data-kizuna-member-email]")).to_have_text(f"Logged in as {email}")
        expect(page.locator("label[for=f-mypage-name]")).to_have_text("Name")
        screenshot(page, "mypage-en")

        # Change the e-mail address: confirmed from the new one, the old one told.
        page.goto(base + "/mypage/email/")
        page.fill("form[data-kizuna-form=email] input[name=email]", new_email)
        page.fill("form[data-kizuna-form=email] input[name=current_password]", PASSWORD)
        submit(page, "email")
        done(page, "/mypage/email/", "done=sent")
        page.goto(base + link_in(wait_mail(sink, new_email, "email_new")))
        expect(page).to_have_url(re.compile(r"/mypage/email/\?step=ready"))
        screenshot(page, "email-ready")
        submit(page, "email-confirm")
        done(page, "/mypage/email/", "done=changed")
        notice = wait_mail(sink, email, "email_old")
        assert notice.rcpt_tos == [email]
        assert profile(page, base)["email"] == new_email

        # Change the password (the current one is asked).
        page.goto(base + "/mypage/password/")
        expect(page.locator("[data-kizuna-password-rules] li").first).to_be_visible()
        page.fill("input[name=current_password]", PASSWORD)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        submit(page, "password")
        done(page, "/mypage/password/", "done=changed")
        screenshot(page, "password-changed")

        # Log out everywhere, then reset the password by mail.
        page.goto(base + "/mypage/")
        submit(page, "sessions-end")
        done(page, "/login/", "done=logged_out")
        page.goto(base + "/password/reset/")
        page.fill("form[data-kizuna-form=reset] input[name=email]", new_email)
        submit(page, "reset")
        done(page, "/password/reset/", "done=sent")
        page.goto(base + link_in(wait_mail(sink, new_email, "reset")))
        screenshot(page, "reset-ready")
        page.fill("form[data-kizuna-form=reset-complete] input[name=new_password]", RESET_PASSWORD)
        submit(page, "reset-complete")
        done(page, "/login/", "done=reset")

        # The old password no longer opens the door; the new one does.
        page.fill("input[name=email]", new_email)
        page.fill("input[name=password]", NEW_PASSWORD)
        page.click("form[data-kizuna-login] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/login/\?error=invalid"))
        log_in_from_gate(page, base, new_email, RESET_PASSWORD)

        # Withdraw: access ends at once, a mail says so, the log-in is refused.
        page.goto(base + "/withdraw/")
        page.fill("input[name=current_password]", RESET_PASSWORD)
        page.check("[data-kizuna-agree]")
        screenshot(page, "withdraw")
        submit(page, "withdraw")
        done(page, "/withdraw/", "done=withdrawn")
        screenshot(page, "withdrawn")
        wait_mail(sink, new_email, "withdrawn")
        page.goto(base + GATED)
        assert urlsplit(page.url).path == "/login/"
        page.fill("input[name=email]", new_email)
        page.fill("input[name=password]", RESET_PASSWORD)
        page.click("form[data-kizuna-login] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/login/\?error=invalid"))
        screenshot(page, "refused")
        page.goto(base + GATED)
        assert urlsplit(page.url).path == "/login/"
        assert console.problems == []
    finally:
        context.close()
