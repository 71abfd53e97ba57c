"""Browsing the customer database in admin: the records list (columns, sort, a filter with a
nested group, a saved view reopened, paging with the total) and a record's page (its values, a
related tab with the add-related link, its history after an edit made through the API)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.customers import HOSTILE_NAME, CustomerData, api_token, seed_customers
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA: dict[str, str] = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))


def ja(key: str, **params: Any) -> str:
    value = JA[key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


@pytest.fixture
def data(live_server: LiveServer) -> CustomerData:
    return seed_customers(live_server)


@pytest.fixture
def token_api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The JSON API with an API token (a marketer's): integrations write through it."""
    secret = api_token(live_server, "CRM連携")
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as client:
        yield client


def count(client: httpx.Client, where: dict[str, Any] | None = None) -> int:
    query = {"per_page": 1, **({"where": json.dumps(where)} if where else {})}
    response = client.get("/api/customers/tables/customers/records", params=query)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


def url_query(page: Page) -> dict[str, str]:
    fragment = urlsplit(page.url).fragment
    return {k: v[0] for k, v in parse_qs(fragment.partition("?")[2]).items()}


def loaded(page: Page) -> None:
    expect(page.locator(".table__loading, .page-loading")).to_have_count(0)
    expect(page.locator(".table-card.is-loading")).to_have_count(0)


def body_rows(page: Page) -> Any:
    return page.locator(".table-card tbody tr:not(.table__message)")


def log_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_test_id("account-button")).to_be_visible()


def test_browse_filter_save_a_view_page_and_open_a_record(
    live_server: LiveServer,
    data: CustomerData,
    token_api: httpx.Client,
    page: Page,
    screenshot: Callable[..., Path],
) -> None:
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    # the filter with a wrong operator, below, is refused by the API: an expected 422
    console.expect(lambda message, url: "/records" in url and "422" in message)
    console.expect(lambda message, url: "/records/" in url and "409" in message)  # the delete
    console.expect(lambda message, url: "/tables/other" in url and "404" in message)
    console.expect(lambda message, url: "There is no table other" in message)  # the error page
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/#/customers/customers")
    expect(page.get_by_role("heading", level=1)).to_have_text("顧客")
    loaded(page)
    total = count(token_api)
    expect(page.locator(".pager__range")).to_have_text(ja("table.loaded", total=total))
    # The fields shown in lists, the status and the owner; the owner by name.
    header = page.locator(".table-card thead")
    for label in ("氏名", "メールアドレス", "都道府県", "会社", "ステータス", "担当者"):
        expect(header.get_by_role("columnheader", name=label)).to_be_visible()
    expect(header.get_by_role("columnheader", name="郵便番号")).to_have_count(0)
    yamada_row = body_rows(page).filter(has_text="山田 太郎")
    expect(yamada_row).to_contain_text(data.owner_name)
    expect(yamada_row).to_contain_text("株式会社絆商事")  # a reference shows the company's name
    hostile = body_rows(page).filter(has_text=HOSTILE_NAME)  # shown as text, never parsed
    expect(hostile).to_have_count(1)
    expect(hostile.locator("img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "records-list")

    # Columns: hide the furigana, show the postal code.
    page.get_by_text(ja("table.columns"), exact=True).click()
    page.get_by_role("checkbox", name="フリガナ").uncheck()
    page.get_by_role("checkbox", name="郵便番号").check()
    page.keyboard.press("Escape")
    expect(header.get_by_role("columnheader", name="フリガナ")).to_have_count(0)
    expect(header.get_by_role("columnheader", name="郵便番号")).to_be_visible()

    # Sort by a click on a header: ascending, then descending.
    first_by_email = token_api.get(
        "/api/customers/tables/customers/records", params={"sort": "email", "per_page": 1}
    ).json()["items"][0]["values"]["email"]
    header.get_by_role("button", name=re.compile("^メールアドレス")).click()
    loaded(page)
    expect(header.get_by_role("columnheader", name="メールアドレス")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(body_rows(page).first).to_contain_text(first_by_email)
    assert url_query(page)["sort"] == "email"
    header.get_by_role("button", name=re.compile("^メールアドレス")).click()
    loaded(page)
    assert url_query(page)["sort"] == "-email"
    expect(body_rows(page).first).not_to_contain_text(first_by_email)

    # A filter: prefecture is one of 東京都/大阪府 AND (name contains 山田 OR company name
    # starts with 青葉) — a nested group, a reference's field.
    page.get_by_test_id("filter-toggle").click()
    builder = page.get_by_test_id("filter-builder")
    builder.get_by_role("button", name=ja("customers.filter.add_condition")).last.click()
    first = builder.get_by_test_id("filter-condition").nth(0)
    first.get_by_label(ja("customers.filter.field"), exact=True).select_option(label="都道府県")
    first.get_by_label(ja("customers.filter.operator"), exact=True).select_option(
        label=ja("customers.filter.op.in")
    )
    first.get_by_role("checkbox", name="東京都").check()
    first.get_by_role("checkbox", name="大阪府").check()
    builder.get_by_role("button", name=ja("customers.filter.add_group")).last.click()
    group = builder.get_by_test_id("filter-group").nth(1)
    expect(group).to_have_attribute("data-join", "or")
    second = group.get_by_test_id("filter-condition").nth(0)
    second.get_by_label(ja("customers.filter.field"), exact=True).select_option(label="氏名")
    second.get_by_label(ja("customers.filter.operator"), exact=True).select_option(
        label=ja("customers.filter.op.contains")
    )
    second.get_by_label(ja("customers.filter.value"), exact=True).fill("山田")
    group.get_by_role("button", name=ja("customers.filter.add_condition")).click()
    third = group.get_by_test_id("filter-condition").nth(1)
    third.get_by_label(ja("customers.filter.field"), exact=True).select_option(
        label="会社 › 会社名"
    )
    third.get_by_label(ja("customers.filter.operator"), exact=True).select_option(
        label=ja("customers.filter.op.starts_with")
    )
    third.get_by_label(ja("customers.filter.value"), exact=True).fill("青葉")
    screenshot(page, "records-filter")
    page.get_by_test_id("filter-apply").click()
    loaded(page)
    where = {
        "and": [
            {"field": "prefecture", "op": "in", "value": ["東京都", "大阪府"]},
            {
                "or": [
                    {"field": "name", "op": "contains", "value": "山田"},
                    {"field": "company.name", "op": "starts_with", "value": "青葉"},
                ]
            },
        ]
    }
    assert json.loads(unquote(url_query(page)["where"])) == where
    matching = count(token_api, where)
    assert 1 < matching < total
    expect(body_rows(page)).to_have_count(matching)
    expect(page.locator(".pager__range")).to_have_text(ja("table.loaded", total=matching))
    expect(page.get_by_test_id("filter-toggle")).to_have_text(
        ja("customers.filter.button_count", count=3)
    )

    # Save it as a shared view; go back to all records; reopen the view.
    page.get_by_test_id("view-menu").locator("summary").click()
    page.get_by_test_id("view-save-new").click()
    dialog = page.locator("dialog[data-testid=view-save]")
    dialog.get_by_label(ja("customers.views.name")).fill("東京・大阪の山田さんと青葉")
    dialog.get_by_label(ja("customers.views.shared")).check()
    dialog.get_by_role("button", name=ja("customers.views.save")).click()
    expect(dialog).to_be_hidden()
    picker = page.get_by_test_id("view-picker")
    expect(picker).to_have_accessible_name(ja("customers.views.label"))
    option = ja("customers.views.option_shared", name="東京・大阪の山田さんと青葉")
    expect(picker.locator("option:checked")).to_have_text(option)
    view_id = url_query(page)["view"]
    picker.select_option(label=ja("customers.views.none"))
    loaded(page)
    expect(page.locator(".pager__range")).to_have_text(ja("table.loaded", total=total))
    expect(header.get_by_role("columnheader", name="フリガナ")).to_be_visible()  # the plain list
    picker.select_option(label=option)
    loaded(page)
    expect(body_rows(page)).to_have_count(matching)
    expect(header.get_by_role("columnheader", name="郵便番号")).to_be_visible()
    expect(header.get_by_role("columnheader", name="フリガナ")).to_have_count(0)
    expect(header.get_by_role("columnheader", name="メールアドレス")).to_have_attribute(
        "aria-sort", "descending"
    )
    # A link to the view opens it too.
    page.goto(live_server.url + f"/admin/#/customers/customers?view={view_id}")
    loaded(page)
    expect(body_rows(page)).to_have_count(matching)
    screenshot(page, "records-view")
    # A designer makes it the table's default: the plain list opens with it.
    page.get_by_test_id("view-menu").locator("summary").click()
    page.get_by_test_id("view-default").click()
    default = ja("customers.views.option_default", name="東京・大阪の山田さんと青葉")
    expect(picker.locator("option:checked")).to_have_text(default)
    page.goto(live_server.url + "/admin/#/customers/other")  # a table that does not exist
    expect(page.get_by_text(ja("error.table_not_found"))).to_be_visible()
    page.goto(live_server.url + "/admin/#/customers/customers")
    loaded(page)
    expect(picker.locator("option:checked")).to_have_text(default)
    expect(body_rows(page)).to_have_count(matching)
    page.get_by_test_id("view-menu").locator("summary").click()
    page.get_by_role("button", name=ja("customers.views.unset_default")).click()
    expect(picker.locator("option:checked")).to_have_text(option)

    # An operator the field does not take (a hand-made link): the API's error at the condition.
    bad = json.dumps({"and": [{"field": "name", "op": "gt", "value": "あ"}]})
    page.goto(live_server.url + f"/admin/#/customers/customers?view=0&where={bad}")
    condition = page.get_by_test_id("filter-condition")
    expect(condition.locator(".filter-cond__error")).to_have_text(ja("error.invalid_operator"))
    expect(page.locator(".table__error")).to_contain_text(ja("error.filter_invalid"))

    # Paging: 25 a page, keyset cursors, the total shown all along.
    page.goto(live_server.url + "/admin/#/customers/customers?view=0")
    loaded(page)
    page.get_by_label(ja("table.per_page")).select_option("25")
    loaded(page)
    expect(body_rows(page)).to_have_count(25)
    first_page = body_rows(page).first.locator("td:not(.cell--select)").first.inner_text()
    page.get_by_role("button", name=ja("table.next")).click()
    loaded(page)
    expect(body_rows(page).first.locator("td:not(.cell--select)").first).not_to_have_text(
        first_page
    )
    assert url_query(page).get("cursor")
    expect(page.locator(".pager__range")).to_have_text(ja("table.loaded", total=total))
    page.get_by_role("button", name=ja("table.next")).click()
    loaded(page)
    expect(body_rows(page)).to_have_count(total - 50)
    expect(page.get_by_role("button", name=ja("table.next"))).to_be_disabled()
    page.get_by_role("button", name=ja("table.prev")).click()
    loaded(page)
    expect(body_rows(page)).to_have_count(25)
    page.get_by_role("button", name=ja("table.prev")).click()
    loaded(page)
    expect(body_rows(page).first.locator("td:not(.cell--select)").first).to_have_text(first_page)
    expect(page.get_by_role("button", name=ja("table.prev"))).to_be_disabled()

    # A row opens the record.
    body_rows(page).filter(has_text="山田 太郎").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("山田 太郎")
    summary = page.get_by_test_id("record-summary")
    expect(summary).to_contain_text(data.owner_name)
    expect(summary).to_contain_text("見込み")
    values = page.get_by_role("tabpanel")
    expect(values).to_contain_text("yamada@example.jp")
    expect(values.get_by_role("link", name="株式会社絆商事")).to_have_attribute(
        "href", f"#/customers/companies/{data.company_id}"
    )
    screenshot(page, "record-values")

    # The purchases tab: its rows, the add-related link, the full filtered list.
    page.get_by_role("tab", name=re.compile("^購入履歴")).click()
    related = page.get_by_test_id("related-purchases-customer")
    expect(related.locator("tbody tr")).to_have_count(2)
    expect(related).to_contain_text(ja("customers.record.related.total", count=2))
    expect(related).to_contain_text("198,000")
    expect(related.get_by_role("link", name=ja("customers.record.related.add"))).to_have_attribute(
        "href", f"#/customers/purchases/new?customer={data.customer_id}"
    )
    screenshot(page, "record-related")
    related.get_by_role("link", name=ja("customers.record.related.all")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("購入履歴")
    loaded(page)
    expect(body_rows(page)).to_have_count(2)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("山田 太郎")

    # Deleting a record that purchases refer to is refused, and says by what.
    page.get_by_test_id("record-delete").click()
    confirm = page.locator("dialog[open]")
    confirm.get_by_role("button", name=ja("customers.record.delete")).click()
    refused = page.locator("dialog[open]")
    expect(refused).to_contain_text(ja("customers.record.delete_refused"))
    expect(refused).to_contain_text(
        ja("customers.record.in_use_item", table="購入履歴", field="顧客", count=2)
    )
    expect(refused).to_contain_text(
        ja("customers.record.in_use_item", table="セミナー申込", field="顧客", count=1)
    )
    screenshot(page, "record-delete-refused")
    refused.get_by_role("button").last.click()
    expect(page.locator("dialog[open]")).to_have_count(0)

    # An edit through the API, with an API token: the history shows who, from where, before → after.
    url = f"/api/customers/tables/customers/records/{data.customer_id}"
    version = token_api.get(url).json()["version"]
    response = token_api.patch(
        url,
        json={
            "version": version,
            "values": {"prefecture": "大阪府", "company": data.other_company_id},
            "status": "customer",
        },
    )
    assert response.status_code == 200, response.text
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("山田 太郎")
    page.get_by_role("tab", name=ja("customers.record.tab.history")).click()
    entries = page.get_by_test_id("history-entry")
    expect(entries).to_have_count(2)
    newest = entries.first
    expect(newest).to_contain_text(ja("customers.record.history.update"))
    expect(newest).to_contain_text("CRM連携")
    expect(newest).to_contain_text("API")
    for field, before, after in (
        ("都道府県", "東京都", "大阪府"),
        ("会社", "株式会社絆商事", "青葉システム株式会社"),
        ("ステータス", "見込み", "顧客"),
    ):
        change = newest.locator(".history__change").filter(has_text=field)
        expect(change.locator(".history__before")).to_have_text(before)
        expect(change.locator(".history__after")).to_have_text(after)
    expect(entries.nth(1)).to_contain_text(ja("customers.record.history.create"))
    screenshot(page, "record-history")

    # A long history comes 50 entries at a time, the older ones on request.
    version = response.json()["version"]
    for i in range(50):
        response = token_api.patch(
            url, json={"version": version, "values": {"phone": f"03-0000-{i:04d}"}}
        )
        assert response.status_code == 200, response.text
        version = response.json()["version"]
    page.reload()
    page.get_by_role("tab", name=ja("customers.record.tab.history")).click()
    expect(entries).to_have_count(50)
    expect(entries.first.locator(".history__after")).to_have_text("03-0000-0049")
    page.get_by_test_id("history-more").click()
    expect(entries).to_have_count(52)
    expect(entries.last).to_contain_text(ja("customers.record.history.create"))
    expect(page.get_by_test_id("history-more")).to_have_count(0)
    assert console.problems == []
