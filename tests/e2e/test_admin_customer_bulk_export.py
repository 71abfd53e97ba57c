"""Bulk actions and export on the records list, in the browser: select rows, change their
status as a job (with the outcome), export the list as CP932 CSV and read the downloaded file,
then meet a value CP932 cannot hold (listed by record and field) and replace it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.customers import CustomerData, api_token, seed_customers
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA: dict[str, str] = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))
BASE = "/api/customers/tables/customers"


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
    secret = api_token(live_server, "一括操作テスト")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as c:
        yield c


def loaded(page: Page) -> None:
    expect(page.locator(".table__loading, .page-loading")).to_have_count(0)
    expect(page.locator(".table-card.is-loading")).to_have_count(0)


def log_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_test_id("account-button")).to_be_visible()


def read_csv(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_select_rows_change_status_and_export_cp932(
    live_server: LiveServer,
    data: CustomerData,
    token_api: httpx.Client,
    page: Page,
    screenshot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    console.expect(lambda message, url: "/export" in url and "422" in message)  # the CP932 gaps
    log_in(page, live_server)
    where = {"field": "status", "op": "eq", "value": "lead"}
    page.goto(live_server.url + f"/admin/#/customers/customers?where={json.dumps(where)}")
    loaded(page)
    leads = token_api.get(f"{BASE}/records", params={"where": json.dumps(where), "per_page": 10})
    picked = [
        r["id"]
        for r in leads.json()["items"]
        if not r["values"].get("notes") and r["id"] != data.customer_id  # 山田 太郎 stays a lead
    ][:2]  # for the records test that shares this server
    for record_id in picked:
        page.get_by_test_id(f"select-{record_id}").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text(ja("customers.bulk.selected", count=2))
    screenshot(page, "bulk-selected")

    # Change their status: the confirmation says how many, the job runs, the outcome is shown.
    page.get_by_test_id("bulk-status").click()
    dialog = page.get_by_test_id("bulk-dialog")
    expect(dialog).to_contain_text(ja("customers.bulk.intro", count=2))
    dialog.get_by_label(ja("customers.bulk.status_field")).select_option(label="顧客")
    screenshot(page, "bulk-status-dialog")
    dialog.get_by_test_id("bulk-apply").click()
    done = page.locator(".dialog").get_by_role("button", name=ja("common.close"), exact=True).last
    expect(done).to_be_visible(timeout=15_000)
    expect(page.locator(".job")).to_contain_text(ja("job.done"), timeout=15_000)
    done.click()
    report = page.get_by_test_id("bulk-report")
    expect(report).to_contain_text(ja("customers.bulk.report", done=2, unchanged=0, skipped=0))
    screenshot(page, "bulk-report")
    page.get_by_role("button", name=ja("common.ok")).click()
    for record_id in picked:
        record = token_api.get(f"{BASE}/records/{record_id}").json()
        assert record["status"] == "customer"
        history = token_api.get(f"{BASE}/records/{record_id}/history").json()
        assert history[0]["source"] == "bulk"
    loaded(page)
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)

    # Export the list (the lead filter) as CP932 CSV, and read the downloaded file.
    page.get_by_test_id("export-open").click()
    dialog = page.get_by_test_id("export-dialog")
    dialog.get_by_label(ja("customers.export.encoding")).select_option(
        label=ja("customers.export.cp932")
    )
    dialog.get_by_label(ja("customers.export.columns")).select_option(
        label=ja("customers.export.columns_all")
    )
    screenshot(page, "export-dialog")
    with page.expect_download() as info:
        dialog.get_by_test_id("export-download").click()
    download = info.value
    assert download.suggested_filename.startswith("顧客_") and download.suggested_filename.endswith(
        ".csv"
    )
    path = tmp_path / "leads.csv"
    download.save_as(path)
    rows = read_csv(path, "cp932")
    head = rows[0]
    assert head[:2] == ["ID", "氏名"] and "ステータス" in head
    expected = token_api.get(f"{BASE}/records", params={"where": json.dumps(where)}).json()["total"]
    assert len(rows) - 1 == expected
    statuses = {r[head.index("ステータス")] for r in rows[1:]}
    assert statuses == {"見込み"}  # the label, and the two changed records are gone from it
    assert not {str(i) for i in picked} & {r[0] for r in rows[1:]}
    notes = [r[head.index("メモ")] for r in rows[1:] if r[head.index("メモ")].startswith("'")]
    assert "'=cmd|' /C calc'!A0" in notes, (head, [r for r in rows if "onerror" in ",".join(r)])

    # A value CP932 cannot hold: listed by record and field, replaced only when asked.
    sushi = token_api.post(f"{BASE}/records", json={"values": {"name": "寿司🍣", "email": "sushi@example.jp"}, "status": "lead"}).json()  # fmt: skip
    page.get_by_test_id("export-open").click()
    dialog = page.get_by_test_id("export-dialog")
    dialog.get_by_label(ja("customers.export.encoding")).select_option(
        label=ja("customers.export.cp932")
    )
    dialog.get_by_test_id("export-download").click()
    gaps = page.get_by_test_id("export-gaps")
    expect(gaps.get_by_test_id("export-gaps-list")).to_contain_text(f"#{sushi['id']}")
    expect(gaps.get_by_test_id("export-gaps-list")).to_contain_text("🍣")
    screenshot(page, "export-gaps")
    with page.expect_download() as info:
        gaps.get_by_test_id("export-replace").click()
    path = tmp_path / "replaced.csv"
    info.value.save_as(path)
    names = [r[1] for r in read_csv(path, "cp932")[1:]]
    assert "寿司〓" in names

    # The same export prepared in the background (an exports.run job): refused for the gap, listed
    # the same way, prepared again with 〓, the rows written shown, then the file downloaded.
    page.get_by_test_id("export-open").click()
    dialog = page.get_by_test_id("export-dialog")
    dialog.get_by_label(ja("customers.export.encoding")).select_option(
        label=ja("customers.export.cp932")
    )
    dialog.get_by_label(ja("customers.export.background")).check()
    dialog.get_by_test_id("export-download").click()
    gaps = page.get_by_test_id("export-gaps")
    expect(gaps.get_by_test_id("export-gaps-list")).to_contain_text("🍣", timeout=15_000)
    expect(gaps.get_by_test_id("export-replace")).to_have_text(
        ja("customers.export.replace_prepare")
    )
    gaps.get_by_test_id("export-replace").click()
    job = page.get_by_test_id("export-job-dialog")
    download_button = job.get_by_test_id("export-job-download")
    expect(download_button).to_be_visible(timeout=15_000)
    total = len(names)
    expect(job.get_by_test_id("export-job-rows")).to_have_text(
        ja("customers.export.job_rows", done=f"{total:,}", total=f"{total:,}")
    )
    screenshot(page, "export-job-ready")
    with page.expect_download() as info:
        download_button.click()
    assert info.value.suggested_filename.startswith("顧客_")
    path = tmp_path / "job.csv"
    info.value.save_as(path)
    assert [r[1] for r in read_csv(path, "cp932")[1:]] == names
    expect(job).to_have_count(0)
    assert console.problems == []
