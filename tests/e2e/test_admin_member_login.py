"""A member's log-in on their record in the admin panel, as a marketer meets it: the "ログイン"
tab shows no password yet; set one; the member logs in on the site (JSON); the tab lists the
session; suspend (the member is logged out at once), reactivate."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.customers import records
from api.principal import cli_principal
from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.customers import live_database, seed_customers
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))
MEMBER_PASSWORD = "e2e member password 2026"


def ja(key: str, **params: Any) -> str:
    value: str = JA[key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def make_member(server: LiveServer) -> int:
    seed_customers(server)
    db = live_database(server)
    try:
        with db.transaction() as session:
            made = records.create_record(
                session, cli_principal("e2e"), "members",
                {"email": "login-e2e@example.jp", "name": "ログイン 花子"},
            )  # fmt: skip
    finally:
        db.dispose()
    return int(made["id"])


def test_set_a_password_see_the_session_suspend_and_reactivate(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    member = make_member(live_server)
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    page.goto(live_server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(live_server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(live_server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_role("navigation")).to_be_visible()

    page.goto(f"{live_server.url}/admin/#/customers/members/{member}?tab=login")
    panel = page.get_by_test_id("member-login")
    expect(panel.get_by_text(ja("members.login.status.none"))).to_be_visible()
    page.get_by_test_id("member-set-password").click()
    dialog = page.locator("dialog[data-testid=member-password-dialog]")
    dialog.locator("input[name=password]").fill(MEMBER_PASSWORD)
    dialog.get_by_role("button", name=ja("members.login.password_save")).click()
    expect(panel.get_by_text(ja("members.login.status.active"))).to_be_visible()

    with httpx.Client(base_url=live_server.url) as site:
        response = site.post(
            "/api/members/login",
            json={"email": "login-e2e@example.jp", "password": MEMBER_PASSWORD},
            headers={"user-agent": "E2E Member Browser"},
        )
        assert response.status_code == 200, response.text
        page.reload()
        expect(page.get_by_test_id("member-sessions")).to_contain_text("E2E Member Browser")
        screenshot(page, "member-login-panel")

        page.get_by_test_id("member-suspend").click()
        page.get_by_role("button", name=ja("members.login.suspend"), exact=True).last.click()
        expect(panel.get_by_text(ja("members.login.status.suspended"))).to_be_visible()
        expect(panel.get_by_text(ja("members.login.no_sessions"))).to_be_visible()
        assert site.get("/api/members/me").json()["member"] is None

    page.get_by_test_id("member-reactivate").click()
    page.get_by_role("button", name=ja("members.login.reactivate"), exact=True).last.click()
    expect(panel.get_by_text(ja("members.login.status.active"))).to_be_visible()
    assert console.problems == [], console.problems
