"""Duplicates and merge in admin: the duplicates screen with its groups (score, reasons), a
group merged keeping one field from the second record, the related rows moved to the survivor
and the merge in its history with the merged record's values; the record page's "possible
duplicates"; screenshots in Japanese and English, on a desktop and a phone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.duplicates import seed_duplicates
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
CATALOGS = {
    lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    for lang in ("ja", "en")
}


def text(lang: str, key: str, **params: Any) -> str:
    value: str = CATALOGS[lang][key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def log_in(page: Page, server: LiveServer, lang: str = "ja") -> None:
    page.goto(server.url + "/admin/")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_label(text(lang, "auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=text(lang, "auth.login")).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    # The first screen after logging in, before going elsewhere.
    expect(page.get_by_role("heading", level=1)).to_have_text(text(lang, "nav.customers"))


def test_merge_a_group_from_the_duplicates_screen(
    live_server: LiveServer, make_page: Callable[..., Page], screenshot: Callable[..., Path]
) -> None:
    data = seed_duplicates(live_server)
    page = make_page(viewport="desktop", locale="ja-JP")
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    log_in(page, live_server)

    # From the records list to the duplicates screen.
    page.goto(live_server.url + "/admin/#/customers/leads")
    expect(page.get_by_role("heading", level=1)).to_have_text("見込み客")
    page.get_by_role("link", name=text("ja", "customers.duplicates.open")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text("ja", "customers.duplicates.title", table="見込み客")
    )
    groups = page.get_by_test_id("duplicate-group")
    expect(groups).to_have_count(2)
    email_group, merged_group = groups.nth(0), groups.nth(1)
    expect(email_group).to_contain_text(text("ja", "customers.duplicates.reason.email"))
    expect(merged_group).to_contain_text("髙橋 一郎")
    expect(merged_group).to_contain_text("高橋一郎")
    expect(merged_group).to_contain_text(text("ja", "customers.duplicates.reason.phone"))
    expect(merged_group).to_contain_text(text("ja", "customers.duplicates.reason.name_company"))
    expect(merged_group).to_contain_text(text("ja", "customers.duplicates.score", score=94))
    expect(page.get_by_test_id("duplicate-rule")).to_be_visible()
    screenshot(page, "duplicates")

    # The merge dialog: the first record kept, its e-mail taken from the second one.
    merged_group.get_by_test_id("duplicate-merge").click()
    dialog = page.locator("dialog[data-testid=merge-dialog]")
    expect(dialog).to_be_visible()
    moves = dialog.get_by_test_id("merge-moves")
    expect(moves).to_contain_text("商談")
    expect(moves).to_contain_text("来場記録")
    expect(dialog.get_by_test_id(f"merge-survivor-{data.survivor}")).to_be_checked()
    # Notes: empty on the survivor, so the second record's is kept unless chosen otherwise.
    expect(dialog.get_by_test_id(f"merge-pick-notes-{data.source}")).to_be_checked()
    dialog.get_by_test_id(f"merge-pick-email-{data.source}").check()
    screenshot(page, "merge-dialog")
    with page.expect_response(lambda r: r.url.endswith("/merge")) as answered:
        dialog.get_by_test_id("merge-confirm").click()
    assert answered.value.status == 200
    expect(dialog).to_be_hidden()
    expect(page.locator(".toast")).to_contain_text("髙橋 一郎")
    expect(page.get_by_test_id("duplicate-group")).to_have_count(1)  # the e-mail group stays

    # The survivor: the chosen e-mail, the related rows moved, the merge in its history.
    page.goto(live_server.url + f"/admin/#/customers/leads/{data.survivor}")
    expect(page.get_by_role("heading", level=1)).to_have_text("髙橋 一郎")
    expect(page.locator("[data-field=email] + dd")).to_have_text("takahashi@kizuna.example.jp")
    page.get_by_role("tab", name=re.compile("^商談")).click()
    expect(page.get_by_test_id("related-lead_deals-lead").locator("tbody tr")).to_have_count(3)
    page.get_by_role("tab", name=re.compile("^来場記録")).click()
    expect(page.get_by_test_id("related-lead_visits-lead").locator("tbody tr")).to_have_count(1)
    page.get_by_role("tab", name=text("ja", "customers.record.tab.history")).click()
    entry = page.get_by_test_id("history-entry").first
    expect(entry).to_contain_text(text("ja", "customers.merge.history.merge"))
    source = entry.get_by_test_id("history-merge").locator("details")
    expect(source).to_contain_text(text("ja", "customers.merge.history.source", id=data.source))
    source.locator("summary").click()
    expect(source).to_contain_text("展示会で名刺交換")
    expect(source).to_contain_text("高橋一郎")
    screenshot(page, "merge-history")
    assert page.evaluate("window.__pwned") is None
    assert console.problems == []


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_duplicates_screens_in_both_languages(
    live_server: LiveServer,
    make_page: Callable[..., Page],
    screenshot: Callable[..., Path],
    lang: str,
    viewport: str,
) -> None:
    data = seed_duplicates(live_server)
    page = make_page(viewport=viewport, locale="ja-JP")
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    log_in(page, live_server, lang)
    page.goto(live_server.url + "/admin/#/customers/leads/duplicates")
    group = page.get_by_test_id("duplicate-group").first
    expect(group).to_contain_text(text(lang, "customers.duplicates.reason.email"))
    screenshot(page, "duplicates")
    group.get_by_test_id("duplicate-merge").click()
    dialog = page.locator("dialog[data-testid=merge-dialog]")
    expect(dialog.get_by_test_id("merge-table")).to_be_visible()
    expect(dialog.get_by_test_id("merge-moves")).to_be_visible()
    screenshot(page, "merge-dialog")
    dialog.get_by_role("button", name=text(lang, "common.cancel")).click()
    expect(dialog).to_be_hidden()
    # The record page names its possible duplicates.
    first, second = data.walk_pair
    page.goto(live_server.url + f"/admin/#/customers/leads/{first}")
    notice = page.get_by_test_id("record-duplicates")
    expect(notice).to_contain_text("佐藤花子")
    expect(notice).to_contain_text(text(lang, "customers.duplicates.reason.email"))
    screenshot(page, "record-duplicates")
    notice.get_by_test_id("record-duplicates-merge").click()
    dialog = page.locator("dialog[data-testid=merge-dialog]")
    expect(dialog.get_by_test_id(f"merge-survivor-{second}")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert console.problems == []


def test_the_name_and_company_fields_are_a_table_setting(
    live_server: LiveServer, make_page: Callable[..., Page], screenshot: Callable[..., Path]
) -> None:
    """The designer's table settings name the fields the name + company key compares; a field
    that cannot be one is refused at its place; the duplicates screen says they are set. The
    fields chosen are the ones guessed (so the groups the other tests count stay as they are),
    and the setting is back to automatic at the end."""
    seed_duplicates(live_server)
    page = make_page(viewport="desktop", locale="ja-JP")
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    console.expect(lambda message, url: url.endswith("/tables/leads") and "422" in message)
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/#/customers/leads/duplicates")
    rule = page.get_by_test_id("duplicate-rule")
    expect(rule).to_contain_text(text("ja", "customers.duplicates.rule.automatic"))

    page.goto(live_server.url + "/admin/#/customers/leads/design")
    page.get_by_test_id("table-settings-open").click()
    dialog = page.locator("dialog[data-testid=table-settings]")
    name = dialog.get_by_label(text("ja", "customers.design.settings.name_field"), exact=True)
    company = dialog.get_by_label(text("ja", "customers.design.settings.company_field"), exact=True)
    automatic = text("ja", "customers.design.settings.automatic")
    expect(name.locator("option:checked")).to_have_text(automatic)
    # Only fields that can be a name (text) or a company (a reference, text) are offered.
    expect(name.locator("option")).to_have_text([automatic, "氏名 (name)", "メモ (notes)"])
    expect(company.locator("option")).to_have_text(
        [automatic, "氏名 (name)", "会社 (company)", "メモ (notes)"]
    )
    name.select_option(label="メモ (notes)")
    company.select_option(label="メモ (notes)")
    dialog.get_by_test_id("table-settings-save").click()
    expect(dialog).to_contain_text(text("ja", "error.same_as_name"))
    screenshot(page, "table-settings-duplicates-error")
    name.select_option(label="氏名 (name)")
    company.select_option(label="会社 (company)")
    dialog.get_by_test_id("table-settings-save").click()
    expect(dialog).to_be_hidden()

    page.goto(live_server.url + "/admin/#/customers/leads/duplicates")
    expect(rule).to_contain_text(text("ja", "customers.duplicates.rule.set"))
    expect(rule).to_contain_text(
        text("ja", "customers.duplicates.rule.name_company", name="氏名", company="会社")
    )
    expect(page.get_by_test_id("duplicate-group").first).to_be_visible()
    screenshot(page, "duplicates-rule-set")

    page.goto(live_server.url + "/admin/#/customers/leads/design")
    page.get_by_test_id("table-settings-open").click()
    name.select_option(label=automatic)
    company.select_option(label=automatic)
    dialog.get_by_test_id("table-settings-save").click()
    expect(dialog).to_be_hidden()
    page.goto(live_server.url + "/admin/#/customers/leads/duplicates")
    expect(rule).to_contain_text(text("ja", "customers.duplicates.rule.automatic"))
    assert console.problems == []
