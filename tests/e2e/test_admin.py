"""A staff member uses the admin panel in Chromium against a real `kizuna run` server."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.live import LiveServer, kizuna

pytestmark = pytest.mark.browser


def log_in(page: Page, server: LiveServer, password: str | None = None) -> None:
    page.goto(server.url + "/admin/")
    page.get_by_label("メールアドレス").fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(password or server.password)
    page.get_by_role("button", name="ログイン").click()


def test_site_home_and_api_schema_are_served(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    expect(page).to_have_title(re.compile("キズナ"))
    screenshot(page, "home")
    with urllib.request.urlopen(live_server.url + "/api/schema") as schema:
        assert json.load(schema)["openapi"].startswith("3.")


def test_wrong_password_is_explained(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    log_in(page, live_server, password="wrong password")
    expect(page.get_by_role("alert")).to_contain_text("メールアドレスまたはパスワード")
    screenshot(page, "login-error")


def test_staff_logs_in_sends_a_test_mail_and_reads_it_in_the_outbox(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="スタッフ")).to_be_visible()
    screenshot(page, "after-login")

    nav.get_by_role("link", name="送信箱（開発用）").click()
    page.get_by_role("button", name="テストメール送信").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("宛先")).to_have_value(live_server.admin_email)
    dialog.get_by_label("宛先").fill("山田@example.jp".replace("山田", "yamada"))
    dialog.get_by_role("button", name="送信").click()
    expect(page.get_by_role("dialog")).to_contain_text(
        "yamada@example.jp 宛てに送信しました", timeout=20_000
    )
    page.keyboard.press("Escape")

    row = page.get_by_role("row").filter(has_text="yamada@example.jp")
    expect(row).to_be_visible()
    expect(row).to_contain_text("テストメール")
    screenshot(page, "outbox")
    row.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("テストメール")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_text("メール送信の設定は正しく動作しています")).to_be_visible()
    screenshot(page, "outbox-html")
    page.get_by_role("tab", name="テキスト").click()
    expect(page.get_by_text("This is a test message from")).to_be_visible()
    assert errors == []


def test_language_switch_and_staff_screen(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    log_in(page, live_server)
    page.get_by_role("navigation").get_by_role("link", name="スタッフ").click()
    expect(page.get_by_role("row").filter(has_text=live_server.admin_email)).to_be_visible()
    with page.expect_response(
        lambda r: r.url.endswith("/api/staff/auth/me") and r.request.method == "PATCH"
    ):
        page.get_by_role("button", name="English").first.click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Staff")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "staff-en")
    # The choice is saved to the account: put it back so other tests find a Japanese UI.
    with page.expect_response(
        lambda r: r.url.endswith("/api/staff/auth/me") and r.request.method == "PATCH"
    ):
        page.get_by_role("button", name="日本語").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_a_language_picked_on_the_login_page_wins_over_the_accounts(
    live_server: LiveServer, page: Page
) -> None:
    def patch_me() -> Any:
        return page.expect_response(
            lambda r: r.url.endswith("/api/staff/auth/me") and r.request.method == "PATCH"
        )

    log_in(page, live_server)
    expect(page.get_by_role("navigation").get_by_role("link", name="スタッフ")).to_be_visible()
    with patch_me():  # the account's language becomes English
        page.get_by_role("button", name="English").first.click()
    page.get_by_role("button", name="Log out").first.click()
    page.evaluate("localStorage.clear()")
    page.reload()  # a new visit: no language remembered in this browser
    expect(page.get_by_label("メールアドレス")).to_be_visible()  # the browser's language
    page.get_by_role("button", name="日本語").click()  # already shown, and still a choice
    log_in(page, live_server)
    expect(page.get_by_role("navigation").get_by_role("link", name="スタッフ")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_role("button", name="English").first.click()  # the account's already
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with patch_me():  # put the account back to Japanese for the other tests
        page.get_by_role("button", name="日本語").first.click()


def test_anonymous_api_calls_from_the_page_are_refused(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url + "/admin/")
    status: Any = page.evaluate("fetch('/api/staff/users').then(r => r.status)")
    assert status == 401


def test_staff_changes_their_own_password(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    email = "e2e-account@example.jp"
    kizuna(live_server.env, "createstaff", "--email", email, "--name", "佐藤 花子", "--role", "marketer",
           "--password", live_server.password)  # fmt: skip
    page.goto(live_server.url + "/admin/")
    page.get_by_label("メールアドレス").fill(email)
    page.locator("input[autocomplete=current-password]").fill(live_server.password)
    page.get_by_role("button", name="ログイン").click()
    page.locator("[data-testid=account-button]").click()
    dialog = page.locator("[data-testid=account-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=current_password]").fill("not my password")
    dialog.locator("input[name=new_password]").fill("桜の季節 2026 spring")
    dialog.locator("input[name=confirm_password]").fill("桜の季節 2026 spring")
    dialog.locator("[data-testid=account-save]").click()
    expect(dialog).to_contain_text("現在のパスワードが正しくありません")
    screenshot(page, "wrong-current-password")
    dialog.locator("input[name=current_password]").fill(live_server.password)
    dialog.locator("[data-testid=account-save]").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="ログアウト").click()
    page.get_by_label("メールアドレス").fill(email)
    page.locator("input[autocomplete=current-password]").fill("桜の季節 2026 spring")
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("[data-testid=account-button]")).to_contain_text("佐藤 花子")
