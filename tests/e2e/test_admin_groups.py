"""Groups in the admin panel, as a marketer meets them: create a group, add a member to it by
record id, see the member in the group's list and the group on the member's record, take the
member out of it from the record, and find the change in the record's history."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def ja(key: str, **params: Any) -> str:
    value: str = JA[key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def make_member(server: LiveServer) -> int:
    """A member of the demo schema's member table, made for this test alone."""
    seed_customers(server)
    db = live_database(server)
    try:
        with db.transaction() as session:
            made = records.create_record(
                session, cli_principal("e2e"), "members",
                {"email": "groups-e2e@example.jp", "name": "群 花子"},
            )  # fmt: skip
    finally:
        db.dispose()
    return int(made["id"])


def test_create_a_group_add_a_member_see_it_on_the_record(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    member = make_member(live_server)
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    console.expect(lambda message, url: "/api/groups" in url and "422" in message)
    page.goto(live_server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(live_server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(live_server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_role("navigation")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name=ja("nav.groups"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("nav.groups"))
    page.get_by_test_id("group-new").click()
    dialog = page.locator("dialog[data-testid=group-create]")
    dialog.locator("input[name=key]").fill("Doctors")  # refused: upper case
    dialog.locator("input[name=label_ja]").fill("医師")
    dialog.locator("input[name=label_en]").fill("Doctors")
    dialog.get_by_test_id("group-create-submit").click()
    expect(dialog.locator("[data-field=key] .field__error")).to_have_text(
        ja("error.invalid_group_key")
    )
    dialog.locator("input[name=key]").fill("e2e-doctors")
    dialog.get_by_test_id("group-create-submit").click()
    expect(page).to_have_url(re.compile(r"#/groups/e2e-doctors$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("医師")
    expect(page.get_by_text("group:e2e-doctors")).to_be_visible()
    expect(page.get_by_text(ja("groups.members.empty"))).to_be_visible()

    page.get_by_test_id("group-add-open").click()
    dialog = page.locator("dialog[data-testid=group-add-members]")
    dialog.locator("input[name=ids]").fill("999999999")  # no such member: named at the field
    dialog.get_by_test_id("group-add-members-submit").click()
    expect(dialog.locator("[data-field=ids] .field__error")).to_contain_text("999999999")
    dialog.locator("input[name=ids]").fill(str(member))
    dialog.get_by_test_id("group-add-members-submit").click()
    expect(dialog).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="群 花子")
    expect(row).to_be_visible()
    expect(page.get_by_test_id("group-member-count")).to_have_text("1")
    screenshot(page, "group-members")

    row.get_by_role("link", name="群 花子").click()
    expect(page).to_have_url(re.compile(rf"#/customers/members/{member}$"))
    groups = page.get_by_test_id("record-groups")
    expect(groups).to_contain_text("医師")
    screenshot(page, "record-groups")

    groups.get_by_test_id("record-groups-edit").click()
    dialog = page.locator("dialog[data-testid=record-groups-dialog]")
    box = dialog.get_by_label("医師 (e2e-doctors)")
    expect(box).to_be_checked()
    box.uncheck()
    dialog.get_by_test_id("record-groups-save").click()
    expect(dialog).to_be_hidden()
    expect(groups).to_contain_text(ja("groups.record.none"))

    page.get_by_role("tab", name=ja("customers.record.tab.history")).click()
    panel = page.get_by_role("tabpanel")
    expect(panel).to_contain_text(ja("groups.record.label"))
    expect(panel).to_contain_text("e2e-doctors")
    screenshot(page, "record-groups-history")

    page.goto(live_server.url + "/admin/#/groups/e2e-doctors")
    expect(page.get_by_text(ja("groups.members.empty"))).to_be_visible()

    # Back in by the members list's bulk bar: the selection, "Groups", add, the job.
    page.goto(live_server.url + "/admin/#/customers/members")
    expect(page.locator(".table__loading, .page-loading")).to_have_count(0)
    page.get_by_test_id(f"select-{member}").check()
    page.get_by_test_id("bulk-groups").click()
    dialog = page.get_by_test_id("bulk-groups-dialog")
    expect(dialog).to_contain_text(ja("groups.bulk.intro", count=1))
    dialog.locator("select[name=action]").select_option(label=ja("groups.bulk.add"))
    dialog.locator("select[name=group]").select_option(label="医師 (e2e-doctors)")
    screenshot(page, "bulk-groups-dialog")
    dialog.get_by_test_id("bulk-groups-apply").click()
    done = page.locator(".dialog").get_by_role("button", name=ja("common.close"), exact=True).last
    expect(done).to_be_visible(timeout=15_000)
    expect(page.locator(".job")).to_contain_text(ja("job.done"), timeout=15_000)
    done.click()
    expect(page.get_by_text(ja("groups.bulk.report", done=1, unchanged=0))).to_be_visible()
    page.goto(live_server.url + "/admin/#/groups/e2e-doctors")
    expect(page.get_by_role("row").filter(has_text="群 花子")).to_be_visible()
    assert console.problems == [], console.problems
