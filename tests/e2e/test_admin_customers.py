"""The customer database in the admin panel: a table designed from nothing (fields of several
types, the live preview following the editor, a type change with its conversion report), records
created through the generated form (a server validation error at its field, fixed, saved) and an
edit that meets a concurrent change (409 shown with who changed what, reloaded, saved)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))
TABLE = "e2e_leads"


def ja(key: str, **params: Any) -> str:
    value: str = JA[key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def log_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_role("navigation")).to_be_visible()


def editor(page: Page) -> Any:
    return page.locator("[data-testid=field-editor]")


def preview(page: Page) -> Any:
    return page.locator("[data-testid=design-preview]")


def add_field(page: Page, label: str, key: str, type_label: str, **extra: Any) -> None:
    page.locator("[data-testid=field-add]").click()
    box = editor(page)
    box.locator("input[name=label_ja]").fill(label)
    box.locator("input[name=key]").fill(key)
    box.locator("select[name=type]").select_option(label=type_label)
    for value, label_ja in extra.get("choices", []):
        box.get_by_role("button", name=ja("customers.design.choice.add")).click()
        row = box.locator(".choices__row").last
        row.locator("input").nth(0).fill(value)
        row.locator("input").nth(1).fill(label_ja)
    if extra.get("references"):
        box.locator("select[name=references]").select_option(label=extra["references"])
    if extra.get("required"):
        box.get_by_label(ja("customers.design.attr.required")).check()
    if extra.get("unique"):
        box.get_by_label(ja("customers.design.attr.unique")).check()
    # The preview follows the editor before anything is saved.
    expect(preview(page).locator('[data-field$="__editing"]')).to_contain_text(label)
    box.locator("[data-testid=field-editor-save]").click()
    expect(editor(page)).to_have_count(0)
    expect(page.locator(f"[data-field-row={key}]")).to_contain_text(label)


def after_save(page: Page, pattern: str) -> int:
    """Waits for the record's screen after a save; the record's id."""
    expect(page).to_have_url(re.compile(pattern))
    expect(page.locator(".record-form")).to_have_count(0)
    return int(page.url.rsplit("/", 1)[1])


def test_design_a_table_then_create_and_edit_records(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    # The refusals this test provokes on purpose (422 at a field, 409 for a concurrent change).
    console.expect(
        lambda message, url: "/api/customers/" in url and ("422" in message or "409" in message)
    )
    log_in(page, live_server)

    # A new table from the customer database screen.
    page.get_by_role("navigation").get_by_role("link", name=ja("nav.customers")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("nav.customers"))
    page.locator("[data-testid=customer-table-add]").click()
    dialog = page.locator("dialog[data-testid=customer-table-create]")
    dialog.locator("input[name=label_ja]").fill("見込み客")
    dialog.locator("input[name=key]").fill("Leads!")  # the server states the rule at the field
    dialog.locator("[data-testid=customer-table-create-submit]").click()
    expect(dialog.locator("[data-field=key] .field__error")).to_contain_text("英小文字で始め")
    dialog.locator("input[name=key]").fill(TABLE)
    dialog.locator("[data-testid=customer-table-create-submit]").click()
    expect(page).to_have_url(re.compile(rf"#/customers/{TABLE}/design$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        ja("customers.design.title", table="見込み客")
    )

    # Fields of several types; the preview shows each as the record form will.
    add_field(page, "氏名", "full_name", "テキスト", required=True)
    add_field(page, "メールアドレス", "email", "メールアドレス", unique=True)
    add_field(page, "電話番号", "phone", "電話番号")
    add_field(
        page, "ランク", "rank", "選択肢", choices=[("gold", "ゴールド"), ("silver", "シルバー")]
    )
    add_field(page, "管理コード", "code", "テキスト")
    add_field(page, "次回連絡", "next_contact", "日時")
    add_field(page, "紹介者", "referrer", "参照", references=f"見込み客 ({TABLE})")
    expect(preview(page).locator("[data-field^=rank] select option")).to_have_text(
        [ja("customers.fields.choose"), "ゴールド", "シルバー"]
    )
    expect(preview(page).locator("[data-field^=full_name] .field__required")).to_be_visible()

    # Editing a field changes the preview as it is typed, and the order can change by keyboard.
    page.locator("[data-field-row=phone] .designer__edit").click()
    editor(page).locator("input[name=label_ja]").fill("携帯電話")
    expect(preview(page).locator('[data-field$="__editing"] label')).to_contain_text("携帯電話")
    screenshot(page, "designer-editing")
    editor(page).get_by_role("button", name=ja("common.cancel")).click()
    expect(preview(page)).not_to_contain_text("携帯電話")
    page.get_by_role("button", name=ja("customers.design.move_up", name="電話番号")).click()
    expect(page.locator(".designer__list > li").nth(1)).to_have_attribute("data-field-row", "phone")

    # Retiring hides a field (its values stay); restoring brings it back.
    page.get_by_role("button", name=ja("customers.design.retire_named", name="ランク")).click()
    page.locator("dialog[open]").get_by_role("button", name=ja("customers.design.retire")).click()
    expect(page.locator(".designer__list [data-field-row=rank]")).to_have_count(0)
    expect(preview(page).locator("[data-field^=rank]")).to_have_count(0)
    page.get_by_role("button", name=ja("customers.design.retired_fields", count=1)).click()
    page.get_by_role("button", name=ja("customers.design.restore_named", name="ランク")).click()
    expect(preview(page).locator("[data-field^=rank]")).to_have_count(1)

    # A record: the server refuses the phone number at its field; fixed, it is saved.
    page.goto(f"{live_server.url}/admin/#/customers/{TABLE}/new")
    form = page.locator(".record-form")
    form.locator("[data-field=full_name] input").fill("山田 太郎")
    form.locator("[data-field=email] input").fill("yamada@example.jp")
    form.locator("[data-field=phone] input").fill("電話して")
    form.locator("[data-field=rank] select").select_option(label="ゴールド")
    form.locator("[data-field=code] input").fill("123")
    form.locator("[data-field=next_contact] input").fill("2026-04-01T09:30")  # in JST
    form.locator("[data-testid=record-save]").click()
    error = form.locator("[data-field=phone] .field__error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(form.locator(".form__summary")).to_contain_text("電話番号")
    screenshot(page, "record-error")
    form.locator("[data-field=phone] input").fill("03-1234-5678")
    form.locator("[data-testid=record-save]").click()
    first = after_save(page, rf"#/customers/{TABLE}/\d+$")

    # A second record whose code is not a number; the same e-mail is refused at its field.
    page.goto(f"{live_server.url}/admin/#/customers/{TABLE}/new")
    form.locator("[data-field=full_name] input").fill("佐藤 花子")
    form.locator("[data-field=email] input").fill("yamada@example.jp")
    form.locator("[data-field=code] input").fill("A-9")
    picker = form.locator("[data-field=referrer] input[role=combobox]")
    picker.fill("山田")
    form.get_by_role("option", name=re.compile("山田 太郎")).click()
    expect(picker).to_have_value(re.compile("山田 太郎"))
    form.locator("[data-testid=record-save]").click()
    expect(form.locator("[data-field=email] .field__error")).to_have_text(ja("error.taken"))
    form.locator("[data-field=email] input").fill("sato@example.jp")
    form.locator("[data-testid=record-save]").click()
    second = after_save(page, rf"#/customers/{TABLE}/\d+$")

    # A type change lists the record that would not convert and asks before emptying it.
    page.goto(f"{live_server.url}/admin/#/customers/{TABLE}/design")
    page.locator("[data-field-row=code] .designer__edit").click()
    editor(page).locator("select[name=type]").select_option(label="整数")
    expect(preview(page).locator('[data-field$="__editing"] input')).to_have_attribute(
        "inputmode", "numeric"
    )
    editor(page).locator("[data-testid=field-editor-save]").click()
    report = page.locator("dialog[data-testid=type-change-check]")
    expect(report).to_contain_text(ja("customers.design.check.lost_title", count=1))
    row = report.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"#{second}")
    expect(row).to_contain_text("A-9")
    screenshot(page, "type-change-report")
    report.locator("[data-testid=type-change-confirm]").click()
    expect(report).to_be_hidden()
    expect(page.locator("[data-field-row=code]")).to_contain_text("整数")

    # Two people edit the same record: the later save is refused and says what changed.
    edit_url = f"{live_server.url}/admin/#/customers/{TABLE}/{first}/edit"
    page.goto(edit_url)
    expect(form.locator("[data-field=full_name] input")).to_have_value("山田 太郎")
    expect(form.locator("[data-field=next_contact] input")).to_have_value("2026-04-01T09:30")
    other = page.context.new_page()
    other.goto(edit_url)
    other.locator(".record-form [data-field=full_name] input").fill("山田 一郎")
    other.locator(".record-form [data-testid=record-save]").click()
    after_save(other, rf"#/customers/{TABLE}/{first}$")
    other.close()
    form.locator("[data-field=full_name] input").fill("山田 次郎")
    form.locator("[data-field=phone] input").fill("03-9999-0000")
    form.locator("[data-testid=record-save]").click()
    conflict = page.locator("[data-testid=record-conflict]")
    expect(conflict).to_contain_text(ja("customers.form.conflict_title"))
    expect(conflict).to_contain_text("山田 一郎")
    expect(conflict).to_contain_text("管理 太郎")
    expect(form.locator("[data-field=full_name] .field__error")).to_contain_text("管理 太郎")
    screenshot(page, "record-conflict")
    page.locator("[data-testid=record-reload]").click()
    expect(conflict).to_have_count(0)
    expect(form.locator("[data-field=full_name] input")).to_have_value("山田 一郎")
    expect(form.locator("[data-field=phone] input")).to_have_value("03-9999-0000")  # kept
    form.locator("[data-testid=record-save]").click()
    after_save(page, rf"#/customers/{TABLE}/{first}$")

    saved = page.request.get(f"{live_server.url}/api/customers/tables/{TABLE}/records/{first}")
    assert saved.ok
    values = saved.json()["values"]
    assert values["full_name"] == "山田 一郎"
    assert re.sub(r"\D", "", values["phone"]) == "0399990000"  # as api/fields normalises it
    assert values["code"] == 123
    assert datetime.fromisoformat(values["next_contact"]) == datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
    referring = page.request.get(f"{live_server.url}/api/customers/tables/{TABLE}/records/{second}")
    assert referring.json()["values"]["referrer"] == first
    assert console.problems == []
