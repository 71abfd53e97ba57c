"""Importing a CP932 CSV through the admin, as staff do it: a file Excel saved on Japanese
Windows (with ① ㈱ 髙, NEC/IBM extension characters), first refused as UTF-8 with the server's
suggestion, then read again as CP932 without sending it again, its columns mapped, a dry run,
the import, the error report downloaded, a row of it fixed and imported again as it is, the
first batch undone (a record changed since is listed and left alone), and the records exported
as CP932 CSV through the list's export dialog. Then: a file over the upload limit refused
before it is sent, and a UTF-8 file read as CP932 (garbled samples) read again as UTF-8 from
the mapping step."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.customers import api_token, seed_customers
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA: dict[str, str] = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))
IMPORTS = "/api/customers/tables/customers/imports"

# Headers Excel users write: the fields' Japanese labels (mapped by themselves), one column
# named like nothing (備考欄: mapped by hand to メモ), one column left out (社内コード).
HEADER = ["氏名", "メールアドレス", "電話番号", "都道府県", "備考欄", "社内コード"]
ROWS = [
    [
        "髙橋 一郎",
        "ｔａｋａｈａｓｈｉ＠ｅｘａｍｐｌｅ．ｊｐ",
        "03-1234-5678",
        "東京都",
        "㈱髙島屋 担当①",
        "A-1",
    ],
    [
        "﨑山 花子",
        "sakiyama@example.jp",
        "０６－１１１１－２２２２",
        "大阪府",
        "①〜⑳の番号付き",
        "A-2",
    ],
    ["佐藤 次郎", "not-an-email", "", "北海道", "", "A-3"],  # invalid e-mail: fixed later
    ["鈴木 三郎", "suzuki@example.jp", "", "火星", "", "A-4"],  # not a prefecture
    ["髙橋 一郎（重複）", " TAKAHASHI@example.jp ", "", "東京都", "", "A-5"],  # the key again
    ["山本 四郎", "yamamoto@example.jp", "", "福岡県", "=1+2", "A-6"],  # a formula stays text
]


def ja(key: str, **params: Any) -> str:
    value = JA[key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def cp932_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode("cp932")


@pytest.fixture
def token_api(live_server: LiveServer) -> Iterator[httpx.Client]:
    secret = api_token(live_server, "取り込み確認", role="admin")
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}
    ) as client:
        yield client


def find(client: httpx.Client, email: str) -> dict[str, Any] | None:
    where = {"field": "email", "op": "eq", "value": email}
    response = client.get(
        "/api/customers/tables/customers/records", params={"where": json.dumps(where)}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[0] if items else None


def log_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/admin/")
    page.get_by_label(ja("auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=ja("auth.login")).click()
    expect(page.get_by_test_id("account-button")).to_be_visible()


def upload(page: Page, name: str, data: bytes, encoding: str, drop: bool = False) -> None:
    if drop:  # dragged from the desktop onto the drop zone
        transfer = page.evaluate_handle(
            """([name, bytes]) => {
                const t = new DataTransfer();
                t.items.add(new File([new Uint8Array(bytes)], name, { type: 'text/csv' }));
                return t;
            }""",
            [name, list(data)],
        )
        page.locator(".dropzone").dispatch_event("drop", {"dataTransfer": transfer})
    else:
        page.get_by_test_id("import-file").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": data}
        )
    expect(page.get_by_test_id("import-upload")).to_contain_text(name)
    page.locator("select[name=encoding]").select_option(encoding)
    page.get_by_test_id("import-upload-submit").click()


def counts(page: Page, test_id: str) -> dict[str, int]:
    box = page.get_by_test_id(test_id)
    expect(box).to_be_visible()
    out = {}
    for item in box.locator("[data-count]").all():
        key = item.get_attribute("data-count")
        assert key
        out[key] = int(item.locator("dd").inner_text().replace(",", ""))
    return out


def run_import(page: Page) -> dict[str, int]:
    page.get_by_test_id("import-run").click()
    expect(page.get_by_test_id("import-result-counts")).to_be_visible(timeout=30_000)
    return counts(page, "import-result-counts")


def test_a_cp932_csv_through_the_wizard_report_fixed_reimported_and_undone(
    live_server: LiveServer,
    page: Page,
    token_api: httpx.Client,
    screenshot: Callable[..., Path],
) -> None:
    seed_customers(live_server)
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    console.expect(lambda message, url: "/imports?" in url and "422" in message)  # refused
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/#/customers/customers")
    page.get_by_role("link", name=ja("customers.list.import")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        ja("customers.import.title", table="顧客")
    )
    data = cp932_csv(HEADER, ROWS)

    # The limit the server set is told before choosing a file.
    expect(page.get_by_test_id("import-limit")).to_have_text(
        ja("customers.import.upload.limit", limit="4 MB")
    )
    uploads: list[str] = []
    page.on(
        "request",
        lambda r: uploads.append(r.url) if r.method == "POST" and "/imports" in r.url else None,
    )

    # Chosen as UTF-8, the file is refused with the line that does not decode and a suggestion.
    upload(page, "顧客リスト.csv", data, "utf-8", drop=True)
    refused = page.get_by_test_id("import-refused")
    expect(refused).to_contain_text(ja("customers.import.upload.refused"))
    expect(refused).to_contain_text("UTF-8")
    expect(refused).to_contain_text(ja("customers.import.suggest.cp932"))
    expect(refused).to_contain_text(ja("customers.import.reread.kept", file="顧客リスト.csv"))
    reread = refused.get_by_test_id("import-reread")
    expect(reread.locator("select")).to_have_value("cp932")  # the server's suggestion
    screenshot(page, "refused")

    # Read again as CP932, the same file kept on the server: not sent a second time.
    kept = re.search(r"batch=(\d+)", page.url)
    assert kept and len(uploads) == 1
    reread.get_by_test_id("import-reread-submit").click()
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping).to_contain_text("CP932")
    expect(mapping).to_contain_text("髙橋 一郎")  # the sample, not mojibake
    assert len(uploads) == 1 and f"batch={kept.group(1)}" in page.url
    row = mapping.locator("tr[data-column='1']")
    expect(row.locator("select")).to_have_value("email")
    expect(row).to_contain_text(ja("customers.import.mapping.auto"))
    expect(mapping.locator("tr[data-column='5'] select")).to_have_value("")
    # A field mapped twice is refused at its place; then 備考欄 → メモ.
    mapping.locator("tr[data-column='4'] select").select_option("name")
    page.get_by_test_id("import-check").click()
    expect(mapping.locator("tr[data-column='4'] .field__error")).to_contain_text("氏名")
    mapping.locator("tr[data-column='4'] select").select_option("notes")
    expect(mapping.locator("[data-mode=upsert]")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("import-key").locator("input[value=email]")).to_be_checked()
    screenshot(page, "mapping")

    # The dry run: nothing written, the counts and the first errors by row and column.
    page.get_by_test_id("import-check").click()
    check = counts(page, "import-check-counts")
    assert check == {"new": 3, "updated": 0, "unchanged": 0, "invalid": 2, "duplicate_keys": 1}
    errors = page.get_by_test_id("import-errors")
    expect(errors.locator("tbody tr")).to_have_count(3)
    expect(errors.locator("tbody tr").filter(has_text="メールアドレス")).to_contain_text("4")
    expect(errors.locator("tbody tr").filter(has_text="都道府県")).to_contain_text("5")
    expect(errors.locator("tbody tr").filter(has_text="6")).to_contain_text("2")  # first at row 2
    assert find(token_api, "takahashi@example.jp") is None
    screenshot(page, "check")

    # The import.
    result = run_import(page)
    assert result == {"created": 3, "updated": 0, "unchanged": 0, "invalid": 2, "duplicate_keys": 1}
    screenshot(page, "done")
    first_url = page.url
    first_id = re.search(r"batch=(\d+)", first_url)
    assert first_id
    takahashi = find(token_api, "takahashi@example.jp")
    assert takahashi and takahashi["values"]["name"] == "髙橋 一郎"
    assert takahashi["values"]["notes"] == "㈱髙島屋 担当①"
    yamamoto = find(token_api, "yamamoto@example.jp")
    assert yamamoto and yamamoto["values"]["notes"] == "=1+2"

    # The error report: the refused rows as they were, in CP932, with the reason last.
    with page.expect_download() as download:
        page.get_by_test_id("import-run-result").get_by_role(
            "link", name=ja("customers.import.errors.download")
        ).click()
    report = Path(download.value.path()).read_bytes()
    lines = list(csv.reader(io.StringIO(report.decode("cp932"))))
    assert lines[0][: len(HEADER)] == HEADER and len(lines[0]) == len(HEADER) + 1
    assert [line[0] for line in lines[1:]] == ["佐藤 次郎", "鈴木 三郎", "髙橋 一郎（重複）"]
    assert all(line[-1] for line in lines[1:])

    # Fixed in "Excel": the e-mail of row 1 corrected, the duplicate row deleted (the 火星 row is
    # left as it was); imported again as it is (the reason column is no field: left out).
    lines[1][1] = "sato@example.jp"
    del lines[3]
    page.get_by_role("button", name=ja("customers.import.another_file")).click()
    upload(page, "顧客リスト-errors.csv", cp932_csv(lines[0], lines[1:]), "auto")
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping.locator("tr[data-column='1'] select")).to_have_value("email")
    expect(mapping.locator("tr[data-column='6'] select")).to_have_value("")
    expect(mapping.locator("tr[data-column='4'] select")).to_have_value("notes")  # remembered
    page.get_by_test_id("import-check").click()
    assert counts(page, "import-check-counts")["new"] == 1
    second = run_import(page)
    assert second["created"] == 1 and second["invalid"] == 1
    assert find(token_api, "sato@example.jp") is not None

    # Changed since the first import: left alone by the undo, and listed.
    assert takahashi is not None
    response = token_api.patch(
        f"/api/customers/tables/customers/records/{takahashi['id']}",
        json={"version": takahashi["version"], "values": {"phone": "03-9999-0000"}},
    )
    assert response.status_code == 200, response.text

    # Undo the first batch from the history.
    history = page.get_by_test_id("import-history")
    expect(history.locator("tbody tr")).to_have_count(2)
    history.get_by_test_id(f"import-undo-{first_id.group(1)}").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text(ja("customers.import.undo.title"))
    dialog.get_by_role("button", name=ja("customers.import.undo.confirm")).click()
    outcome = page.get_by_test_id("import-undo-result")
    expect(outcome).to_be_visible(timeout=30_000)
    expect(outcome.get_by_test_id("import-undo-skipped").locator("tbody tr")).to_have_count(1)
    expect(outcome.get_by_test_id("import-undo-skipped")).to_contain_text(str(takahashi["id"]))
    screenshot(page, "undone")
    page.keyboard.press("Escape")
    expect(history.locator("tbody tr").first).to_contain_text(ja("customers.import.state.done"))
    expect(history.locator("tbody tr").last).to_contain_text(ja("customers.import.state.undone"))

    assert find(token_api, "sakiyama@example.jp") is None  # created by the batch: removed
    assert find(token_api, "yamamoto@example.jp") is None
    assert find(token_api, "takahashi@example.jp") is not None  # changed since: kept
    assert find(token_api, "sato@example.jp") is not None  # the second batch stays

    # Export what the imports left, through the records list's export dialog, as CP932.
    where = {"field": "email", "op": "in", "value": ["takahashi@example.jp", "sato@example.jp"]}
    page.goto(live_server.url + f"/admin/#/customers/customers?where={json.dumps(where)}")
    expect(page.locator(".table__loading, .page-loading")).to_have_count(0)
    page.get_by_test_id("export-open").click()
    dialog = page.get_by_test_id("export-dialog")
    expect(dialog).to_contain_text(ja("customers.export.intro", count=2))
    dialog.get_by_label(ja("customers.export.encoding")).select_option(
        label=ja("customers.export.cp932")
    )
    dialog.get_by_label(ja("customers.export.columns")).select_option(
        label=ja("customers.export.columns_all")
    )
    screenshot(page, "export")
    with page.expect_download() as exported:
        dialog.get_by_test_id("export-download").click()
    raw = Path(exported.value.path()).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # CP932 bytes, as Excel on Japanese Windows reads them
    table = list(csv.reader(io.StringIO(raw.decode("cp932"), newline="")))
    head, rows = table[0], {r[table[0].index("メールアドレス")]: r for r in table[1:]}
    assert set(rows) == {"takahashi@example.jp", "sato@example.jp"}
    takahashi_row = rows["takahashi@example.jp"]
    assert takahashi_row[head.index("氏名")] == "髙橋 一郎"
    assert takahashi_row[head.index("メモ")] == "㈱髙島屋 担当①"  # NEC/IBM characters intact
    assert takahashi_row[head.index("電話番号")] == "03-9999-0000"  # changed since the import
    assert rows["sato@example.jp"][head.index("氏名")] == "佐藤 次郎"
    assert console.problems == []


def test_a_file_over_the_limit_is_not_sent_and_a_garbled_one_is_read_again(
    live_server: LiveServer, page: Page, screenshot: Callable[..., Path]
) -> None:
    """The size limit the API tells stops a larger file before a byte is sent; a UTF-8 file
    read as CP932 shows garbled samples and is read again as UTF-8 from the mapping step
    (the header mapped afresh). Nothing is imported."""
    seed_customers(live_server)
    console = ConsoleWatch(page)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/#/customers/customers/import")
    uploads: list[str] = []
    page.on(
        "request",
        lambda r: uploads.append(r.url) if r.method == "POST" and "/imports" in r.url else None,
    )
    big = b"email\r\n" + b"someone@example.jp\r\n" * ((5 << 20) // 20)
    page.get_by_test_id("import-file").set_input_files(
        {"name": "大きい.csv", "mimeType": "text/csv", "buffer": big}
    )
    refused = page.get_by_test_id("import-refused")
    expect(refused).to_contain_text(
        ja("customers.import.upload.too_large", size="5 MB", limit="4 MB")
    )
    expect(page.get_by_test_id("import-upload-submit")).to_be_disabled()
    screenshot(page, "too-large")
    assert uploads == []

    data = "氏名,メールアドレス\r\n山田,garbled@example.jp\r\n".encode()  # decodes as CP932
    upload(page, "utf8.csv", data, "cp932")
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping).to_contain_text("螻ｱ逕ｰ")  # 山田 in UTF-8, read as CP932
    expect(mapping.locator("tr[data-column='0'] select")).to_have_value("")
    box = mapping.get_by_test_id("import-reread-mapping")
    expect(box.locator("select")).to_have_value("utf-8")
    screenshot(page, "garbled")
    box.get_by_test_id("import-reread-mapping-submit").click()
    expect(mapping.locator("tr[data-column='0']")).to_contain_text("山田")
    expect(mapping.locator("tr[data-column='0'] select")).to_have_value("name")
    expect(mapping.locator("tr[data-column='1'] select")).to_have_value("email")
    expect(mapping).to_contain_text(ja("customers.import.encoding.utf8_plain"))
    assert len(uploads) == 1
    screenshot(page, "read-again")
    assert find_none(live_server, "garbled@example.jp")
    assert console.problems == []


def find_none(server: LiveServer, email: str) -> bool:
    secret = api_token(server, "取り込み確認2", role="admin")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}) as c:
        return find(c, email) is None
