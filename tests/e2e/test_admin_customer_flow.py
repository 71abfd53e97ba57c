"""The customer database from nothing to daily use, in one pass through the admin panel, as a
marketer meets it: design two tables (one referring to the other) with fields of several types,
create records through the generated forms (a server validation error shown at its field, fixed,
saved), filter the list, save the filter as a view and reopen it, then open the referred record's
related tab and its history."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))
PARTNERS, DEALS = "flow_partners", "flow_deals"


def ja(key: str, **params: Any) -> str:
    value: str = JA[key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def create_table(page: Page, label: str, key: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=ja("nav.customers")).click()
    page.locator("[data-testid=customer-table-add]").click()
    dialog = page.locator("dialog[data-testid=customer-table-create]")
    dialog.locator("input[name=label_ja]").fill(label)
    dialog.locator("input[name=key]").fill(key)
    dialog.locator("[data-testid=customer-table-create-submit]").click()
    expect(page).to_have_url(re.compile(rf"#/customers/{key}/design$"))


def add_field(page: Page, label: str, key: str, type_label: str, **extra: Any) -> None:
    page.locator("[data-testid=field-add]").click()
    box = page.locator("[data-testid=field-editor]")
    box.locator("input[name=label_ja]").fill(label)
    box.locator("input[name=key]").fill(key)
    box.locator("select[name=type]").select_option(label=type_label)
    for value in extra.get("choices", []):
        box.get_by_role("button", name=ja("customers.design.choice.add")).click()
        row = box.locator(".choices__row").last
        row.locator("input").nth(0).fill(value)
        row.locator("input").nth(1).fill(value)
    if extra.get("references"):
        box.locator("select[name=references]").select_option(label=extra["references"])
    if extra.get("required"):
        box.get_by_label(ja("customers.design.attr.required")).check()
    preview = page.locator("[data-testid=design-preview]")
    expect(preview.locator('[data-field$="__editing"]')).to_contain_text(label)
    box.locator("[data-testid=field-editor-save]").click()
    expect(page.locator(f"[data-field-row={key}]")).to_contain_text(label)


def save_record(page: Page, table: str) -> int:
    page.locator(".record-form [data-testid=record-save]").click()
    expect(page).to_have_url(re.compile(rf"#/customers/{table}/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def rows(page: Page) -> Any:
    return page.locator(".table tbody tr")


def test_design_fill_filter_save_a_view_and_follow_the_references(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    console.expect(lambda message, url: "/api/customers/" in url and "422" in message)
    page.goto(live_server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(live_server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(live_server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_role("navigation")).to_be_visible()

    # Two tables designed in the admin: partners, and deals that refer to a partner.
    create_table(page, "取引先", PARTNERS)
    add_field(page, "社名", "company_name", "テキスト", required=True)
    add_field(page, "業種", "industry", "選択肢", choices=["製造", "小売"])
    create_table(page, "商談", DEALS)
    add_field(page, "件名", "title", "テキスト", required=True)
    add_field(page, "金額", "amount", "整数")
    add_field(page, "受注予定日", "close_on", "日付")
    add_field(page, "連絡先電話", "contact_phone", "電話番号")
    add_field(page, "取引先", "partner", "参照", references=f"取引先 ({PARTNERS})")
    screenshot(page, "designer")

    # A partner, then deals through the generated form.
    page.goto(f"{live_server.url}/admin/#/customers/{PARTNERS}/new")
    form = page.locator(".record-form")
    form.locator("[data-field=company_name] input").fill("青葉商事株式会社")
    form.locator("[data-field=industry] select").select_option(label="製造")
    partner = save_record(page, PARTNERS)

    page.goto(f"{live_server.url}/admin/#/customers/{DEALS}/new")
    form.locator("[data-field=title] input").fill("年間保守契約")
    form.locator("[data-field=amount] input").fill("1200000")
    form.locator("[data-field=close_on] input").fill("2026-12-24")
    form.locator("[data-field=contact_phone] input").fill("折り返し希望")  # not a number
    picker = form.locator("[data-field=partner] input[role=combobox]")
    picker.fill("青葉")
    form.get_by_role("option", name=re.compile("青葉商事株式会社")).click()
    form.locator("[data-testid=record-save]").click()
    error = form.locator("[data-field=contact_phone] .field__error")
    expect(error).to_have_text(ja("error.invalid_phone"))  # the server's refusal, at its field
    screenshot(page, "validation-error")
    form.locator("[data-field=contact_phone] input").fill("０３－１２３４－５６７８")
    big_deal = save_record(page, DEALS)
    expect(page.get_by_role("heading", level=1)).to_contain_text("年間保守契約")
    expect(page.get_by_role("tabpanel")).to_contain_text("03-1234-5678")  # normalised

    page.goto(f"{live_server.url}/admin/#/customers/{DEALS}/new?partner={partner}")
    form.locator("[data-field=title] input").fill("スポット研修")
    form.locator("[data-field=amount] input").fill("30000")
    expect(form.locator("[data-field=partner] input[role=combobox]")).to_have_value(
        re.compile("青葉商事株式会社")
    )  # prefilled, as "add a related row" does
    save_record(page, DEALS)

    # The list: a filter on the amount, saved as a view, reopened.
    page.goto(f"{live_server.url}/admin/#/customers/{DEALS}")
    expect(rows(page)).to_have_count(2)
    page.get_by_test_id("filter-toggle").click()
    builder = page.get_by_test_id("filter-builder")
    builder.get_by_role("button", name=ja("customers.filter.add_condition")).last.click()
    condition = builder.get_by_test_id("filter-condition").nth(0)
    condition.get_by_label(ja("customers.filter.field"), exact=True).select_option(label="金額")
    condition.get_by_label(ja("customers.filter.operator"), exact=True).select_option(
        label=ja("customers.filter.op.gte")
    )
    condition.get_by_label(ja("customers.filter.value"), exact=True).fill("1000000")
    page.get_by_test_id("filter-apply").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("年間保守契約")
    page.get_by_test_id("view-menu").locator("summary").click()
    page.get_by_test_id("view-save-new").click()
    dialog = page.locator("dialog[data-testid=view-save]")
    dialog.get_by_label(ja("customers.views.name")).fill("大口案件")
    dialog.get_by_role("button", name=ja("customers.views.save")).click()
    expect(dialog).to_be_hidden()
    picker = page.get_by_test_id("view-picker")
    saved = ja("customers.views.option_private", name="大口案件")
    expect(picker.locator("option:checked")).to_have_text(saved)
    picker.select_option(label=ja("customers.views.none"))
    expect(rows(page)).to_have_count(2)
    picker.select_option(label=saved)
    expect(rows(page)).to_have_count(1)
    screenshot(page, "saved-view")

    # The deal's record links to its partner; the partner shows its deals and its history.
    rows(page).first.click()
    expect(page).to_have_url(re.compile(rf"#/customers/{DEALS}/{big_deal}$"))
    page.get_by_role("tabpanel").get_by_role("link", name="青葉商事株式会社").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("青葉商事株式会社")
    page.get_by_role("tab", name=re.compile("^商談")).click()
    related = page.get_by_test_id(f"related-{DEALS}-partner")
    expect(related.locator("tbody tr")).to_have_count(2)
    expect(related).to_contain_text("1,200,000")
    expect(related.get_by_role("link", name=ja("customers.record.related.add"))).to_have_attribute(
        "href", f"#/customers/{DEALS}/new?partner={partner}"
    )
    screenshot(page, "related")
    page.get_by_role("tab", name=ja("customers.record.tab.history")).click()
    entry = page.get_by_test_id("history-entry").first
    expect(entry).to_contain_text(ja("customers.record.history.create"))
    expect(entry).to_contain_text("青葉商事株式会社")
    expect(entry).to_contain_text("製造")
    screenshot(page, "history")
    assert console.problems == []
