"""The member site's theme pages (issue 18, part 6) against a real server, as a visitor meets
them: register, confirm from the mail in the dev outbox, log in, my page (profile, sessions),
change the password, reset it by mail, withdraw — once with JavaScript (JSON, inline errors, no
reload) and once with JavaScript off (plain form posts and 303s, in English to check that the
server sends each form back to its own language)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from api.access.pages import fill
from api.livesettings import services as live
from api.mail.outbox import OutboxMessage, list_messages, read_message
from api.principal import cli_principal
from tests.fixtures.browser import VIEWPORTS, ConsoleWatch
from tests.fixtures.customers import live_database, seed_customers
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

LINK = re.compile(r"/api/members/links/([A-Za-z0-9_.\-]+)")
PASSWORD = "sakura fubuki 2026"
NEW_PASSWORD = "momiji no aki 2027"
RESET_PASSWORD = "yuki no yoru 2028"


def configure(server: LiveServer, **values: Any) -> None:
    seed_customers(server)  # the demo schema: the member table "members"
    db = live_database(server)
    try:
        with db.transaction() as session:
            live.update(session, cli_principal("e2e"), values)
    finally:
        db.dispose()


def mail_link(server: LiveServer, address: str, count: int, timeout: float = 30) -> str:
    """The link of the `count`-th mail to `address` in the dev outbox, as a path."""
    directory = server.var_dir / "outbox"
    deadline = time.monotonic() + timeout
    found: list[OutboxMessage] = []
    while time.monotonic() < deadline:
        if directory.exists():
            items, _ = list_messages(directory, limit=500)
            found = [read_message(directory, i.id) for i in reversed(items) if address in i.to]
            if len(found) >= count:
                break
        time.sleep(0.1)
    assert len(found) >= count, (address, [m.subject for m in found])
    match = LINK.search(found[count - 1].text)
    assert match, found[count - 1].text
    return "/api/members/links/" + match.group(1)


def mails_to(server: LiveServer, address: str) -> list[str]:
    directory = server.var_dir / "outbox"
    items, _ = list_messages(directory, limit=500)
    return [i.subject for i in items if address in i.to]


def visible_message(page: Page) -> str:
    return page.locator("[data-kizuna-message]:visible").inner_text()


def no_reload(page: Page) -> None:
    page.evaluate("window.__kizunaNoReload = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__kizunaNoReload === true"))


def log_in(page: Page, base: str, email: str, password: str, prefix: str = "") -> None:
    page.goto(f"{base}{prefix}/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[data-kizuna-login] button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


def test_the_life_of_an_account_with_javascript(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path], make_page: Any
) -> None:
    base = live_server.url
    configure(live_server, **{
        "member.registration": "open",
        "member.registration_fields": "name,specialty",
        "member.editable_fields": "name,specialty",
    })  # fmt: skip
    email = "js-member@example.jp"
    console = ConsoleWatch(page)
    # My page asks /profile when logged out (401); the wrong inputs below are provoked (422).
    console.expect(lambda text, url: "401" in text and url.endswith("/api/members/profile"))
    console.expect(lambda text, url: "422" in text)

    # Register: the fields come from GET /api/members/registration; errors inline.
    page.goto(base + "/register/")
    expect(page.locator("[data-kizuna-field=specialty] input")).to_be_visible()
    expect(page.locator("[data-kizuna-password-rules] li").first).to_be_visible()
    no_reload(page)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "password")
    page.fill("input[name=name]", "絆 花子")
    page.fill("input[name=specialty]", "腫瘍内科")
    page.click("form[data-kizuna-form=register] button[type=submit]")
    error = page.locator('[data-kizuna-field-error="password:password_too_common"]')
    expect(error).to_be_visible()
    assert page.locator("input[name=password]").get_attribute("aria-invalid") == "true"
    screenshot(page, "register-error")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-kizuna-form=register] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=sent"]')).to_be_visible()
    expect(page.locator("form[data-kizuna-form=register]")).to_be_hidden()
    assert not_reloaded(page) and "done=sent" in page.url
    screenshot(page, "register-sent")

    # The mail's link: a page with one button (opening it uses nothing up).
    page.goto(base + mail_link(live_server, email, 1))
    expect(page).to_have_url(re.compile(r"/register/confirm/\?step=ready"))
    screenshot(page, "confirm")
    page.click("form[data-kizuna-form=confirm] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/\?done=confirmed"))
    expect(page.locator('[data-kizuna-message="done=confirmed"]')).to_be_visible()
    screenshot(page, "login-confirmed")

    # Log in; my page shows the profile and this session.
    log_in(page, base, email, PASSWORD)
    page.goto(base + "/mypage/")
    name = page.locator("[data-kizuna-profile-fields] input[name=name]")
    expect(name).to_have_value("絆 花子")
    expect(page.locator("[data-kizuna-member-email]")).to_contain_text(email)
    expect(page.locator(".member-session")).to_have_count(1)
    expect(page.locator("[data-kizuna-session-current]")).to_be_visible()
    no_reload(page)
    page.fill("[data-kizuna-profile-fields] input[name=specialty]", "循環器内科")
    page.click("form[data-kizuna-form=profile] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=saved"]')).to_be_visible()
    assert not_reloaded(page)
    page.reload()
    expect(page.locator("input[name=specialty]")).to_have_value("循環器内科")
    screenshot(page, "mypage")
    phone = make_page("mobile")
    phone.context.add_cookies(page.context.cookies())
    phone.goto(base + "/mypage/")
    expect(phone.locator(".member-session")).to_have_count(1)
    screenshot(phone, "mypage-phone")

    # Change the password: the rules next to the field, a wrong current password inline.
    page.goto(base + "/mypage/password/")
    expect(page.locator("[data-kizuna-password-rules] li").first).to_be_visible()
    page.fill("input[name=current_password]", "not my password")
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.click("form[data-kizuna-form=password] button[type=submit]")
    expect(
        page.locator('[data-kizuna-field-error="current_password:password_incorrect"]')
    ).to_be_visible()
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.click("form[data-kizuna-form=password] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=changed"]')).to_be_visible()
    screenshot(page, "password-changed")

    # Change the e-mail address: confirmed from the new one, the old one told.
    old_mails = len(mails_to(live_server, email))
    new_email = "js-member-new@example.jp"
    page.goto(base + "/mypage/email/")
    expect(page.locator("form[data-kizuna-form=email-confirm]")).to_be_hidden()
    page.fill("form[data-kizuna-form=email] input[name=email]", new_email)
    page.fill("form[data-kizuna-form=email] input[name=current_password]", NEW_PASSWORD)
    page.click("form[data-kizuna-form=email] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=sent"]')).to_be_visible()
    page.goto(base + mail_link(live_server, new_email, 1))
    expect(page).to_have_url(re.compile(r"/mypage/email/\?step=ready"))
    expect(page.locator("form[data-kizuna-form=email]")).to_be_hidden()
    screenshot(page, "email-ready")
    page.click("form[data-kizuna-form=email-confirm] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=changed"]')).to_be_visible()
    deadline = time.monotonic() + 30
    while len(mails_to(live_server, email)) <= old_mails and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(mails_to(live_server, email)) == old_mails + 1  # the note to the old address
    email = new_email

    # Log out everywhere, then reset the password by mail.
    page.goto(base + "/mypage/")
    page.click("form[data-kizuna-form=sessions-end] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/\?done=logged_out"))
    page.goto(base + "/password/reset/")
    expect(page.locator("form[data-kizuna-form=reset-complete]")).to_be_hidden()
    page.fill("form[data-kizuna-form=reset] input[name=email]", email)
    page.click("form[data-kizuna-form=reset] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=sent"]')).to_be_visible()
    page.goto(base + mail_link(live_server, email, 2))  # the change's link, the reset
    expect(page.locator("form[data-kizuna-form=reset]")).to_be_hidden()
    page.fill("form[data-kizuna-form=reset-complete] input[name=new_password]", "short")
    page.evaluate("document.querySelector('[name=new_password]').removeAttribute('minlength')")
    page.click("form[data-kizuna-form=reset-complete] button[type=submit]")
    expect(
        page.locator('[data-kizuna-field-error="new_password:password_too_short"]')
    ).to_be_visible()
    screenshot(page, "reset-error")
    page.fill("form[data-kizuna-form=reset-complete] input[name=new_password]", RESET_PASSWORD)
    page.click("form[data-kizuna-form=reset-complete] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/\?done=reset"))

    # Withdraw; the account is refused afterwards.
    log_in(page, base, email, RESET_PASSWORD)
    page.goto(base + "/withdraw/")
    page.fill("input[name=current_password]", RESET_PASSWORD)
    page.check("[data-kizuna-agree]")
    screenshot(page, "withdraw")
    page.click("form[data-kizuna-form=withdraw] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=withdrawn"]')).to_be_visible()
    expect(page.locator(".member-nav[data-state=anonymous]")).to_be_attached()
    page.goto(base + "/mypage/")
    expect(page.locator('[data-kizuna-when="anonymous"]')).to_be_visible()
    page.goto(base + "/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", RESET_PASSWORD)
    page.click("form[data-kizuna-login] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/\?error=invalid"))
    assert console.problems == []


def test_a_form_from_another_site_is_refused(live_server: LiveServer, page: Page) -> None:
    """CSRF: the same-origin guard refuses a plain form posted from another origin (here a
    page of localhost, made by the test, while the site is 127.0.0.1), so the theme's forms
    need no token. (Our own pages could not even send it: the site's CSP has
    ``form-action 'self'``.)"""
    other = live_server.url.replace("127.0.0.1", "localhost") + "/attack"
    target = live_server.url + "/api/members/withdraw"
    page.route(
        other,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form method="post" action="{target}"><input name="current_password" '
            'value="anything"><button>go</button></form>',
        ),
    )
    page.goto(other)
    with page.expect_navigation():
        page.click("button")
    assert page.url.startswith(target)
    assert '"cross_site"' in page.content()


def test_the_key_steps_without_javascript_in_english(
    live_server: LiveServer, browser: Any, screenshot: Callable[..., Path]
) -> None:
    base = live_server.url
    configure(live_server, **{
        "member.registration": "open",
        "member.registration_fields": "name,plan,specialty",
        "member.password_require_digit": True,
    })  # fmt: skip
    context = browser.new_context(
        locale="en-GB", viewport=VIEWPORTS["desktop"], java_script_enabled=False
    )
    page = context.new_page()
    email = "nojs-member@example.jp"
    try:
        # Register with the fields the site asks (filled in by the gate) and the site's
        # password rules next to the password, a plain form post.
        page.goto(base + "/en/register/")
        expect(page.locator("[data-kizuna-password-rules] li[data-code=password_needs_digit]")
               ).to_have_text("A digit")  # fmt: skip
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=name]", "Hana Kizuna")
        page.select_option("select[name=plan]", "gold")
        page.fill("input[name=specialty]", "Oncology")
        screenshot(page, "register-nojs")
        page.click("form[data-kizuna-form=register] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/register/\?done=sent$"))
        # The message is in the page, for the server-side fill (api.access.pages.fill).
        filled = fill(page.request.get(page.url).body(), "done=sent")
        assert filled is not None and b'data-kizuna-message="done=sent" role="status">' in filled

        page.goto(base + mail_link(live_server, email, 1))
        page.click("form[data-kizuna-form=confirm] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/login/\?done=confirmed$"))

        # A refused password comes back to the English page with the field's code.
        log_in(page, base, email, PASSWORD, "/en")
        values = page.request.get(base + "/api/members/profile").json()["values"]
        assert values["plan"] == "gold" and values["specialty"] == "Oncology"
        page.goto(base + "/en/mypage/password/")
        page.fill("input[name=current_password]", "wrong password")
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.click("form[data-kizuna-form=password] button[type=submit]")
        expect(page).to_have_url(
            re.compile(r"/en/mypage/password/\?error=validation_failed&fields=current_password")
        )
        page.fill("input[name=current_password]", PASSWORD)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.click("form[data-kizuna-form=password] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/mypage/password/\?done=changed$"))

        # My page without JavaScript: the default field and log out everywhere.
        page.goto(base + "/en/mypage/")
        page.fill("[data-kizuna-profile-fields] input[name=name]", "Hana K.")
        page.click("form[data-kizuna-form=profile] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/mypage/\?done=saved$"))
        screenshot(page, "mypage-nojs")
        page.click("form[data-kizuna-form=sessions-end] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/login/\?done=logged_out$"))

        # Reset by mail: both forms are on the page without JavaScript.
        page.goto(base + "/en/password/reset/")
        page.fill("form[data-kizuna-form=reset] input[name=email]", email)
        page.click("form[data-kizuna-form=reset] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/password/reset/\?done=sent$"))
        page.goto(base + mail_link(live_server, email, 3))
        page.fill("form[data-kizuna-form=reset-complete] input[name=new_password]", RESET_PASSWORD)
        page.click("form[data-kizuna-form=reset-complete] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/login/\?done=reset$"))

        # Withdraw, then the log-in is refused.
        log_in(page, base, email, RESET_PASSWORD, "/en")
        page.goto(base + "/en/withdraw/")
        page.fill("input[name=current_password]", RESET_PASSWORD)
        page.check("[data-kizuna-agree]")
        page.click("form[data-kizuna-form=withdraw] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/en/withdraw/\?done=withdrawn$"))
        screenshot(page, "withdrawn-nojs")
        page.goto(base + "/en/login/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", RESET_PASSWORD)
        page.click("form[data-kizuna-login] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/login/\?error=invalid"))
    finally:
        context.close()
        configure(live_server, **{"member.password_require_digit": False})


def test_registration_closed_and_approved_by_staff(
    live_server: LiveServer, make_page: Any, screenshot: Callable[..., Path]
) -> None:
    base = live_server.url
    page = make_page("mobile", locale="en-GB")
    configure(live_server, **{"member.registration": "closed"})
    page.goto(base + "/en/register/")
    expect(page.locator('[data-kizuna-message="error=registration_closed"]')).to_be_visible()
    expect(page.locator("form[data-kizuna-form=register]")).to_be_hidden()
    screenshot(page, "closed")

    configure(live_server, **{"member.registration": "approval"})
    email = "approval-member@example.jp"
    page.goto(base + "/en/register/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=name]", "Aoi Kizuna")
    page.click("form[data-kizuna-form=register] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=sent"]')).to_be_visible()
    page.goto(base + mail_link(live_server, email, 1))
    expect(page).to_have_url(re.compile(r"/en/register/confirm/\?step=ready"))
    page.click("form[data-kizuna-form=confirm] button[type=submit]")
    expect(page.locator('[data-kizuna-message="done=approval"]')).to_be_visible()
    expect(page.locator("form[data-kizuna-form=confirm]")).to_be_hidden()
    screenshot(page, "approval")
    # The same link again: used up, said plainly.
    page.goto(base + mail_link(live_server, email, 1))
    expect(page.locator('[data-kizuna-message="error=link_used"]')).to_be_visible()
    configure(live_server, **{"member.registration": "open"})
