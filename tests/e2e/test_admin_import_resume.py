"""An import that stops part-way, in the admin: the run screen says (in Japanese) how many
rows are in and that the rest are not, offers Resume, and Resume finishes it. The app runs in
this process (``served_app``), so a chunk's write can be made to fail (fault injection)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from api.customers import services
from api.customers.definitions import parse_field, parse_table
from api.imports import engine
from api.imports import services as imports
from api.imports.models import CustomerImport
from api.principal import cli_principal
from api.runtime import Runtime
from tests.fixtures.app import PASSWORD
from tests.fixtures.browser import ConsoleWatch
from tests.integration.customers.conftest import drop_data_tables

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
JA: dict[str, str] = json.loads((STATIC / "i18n" / "ja.json").read_text(encoding="utf-8"))


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_a_stopped_import_says_how_far_it_got_and_resumes(
    served_app: str, runtime: Runtime, make_staff: Any, page: Page, screenshot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    drop_data_tables(runtime.settings.effective_database_url)
    with runtime.db.transaction() as session:
        services.create_table(
            session, cli_principal("tests"), parse_table({"key": "customers"}),
            [parse_field({"key": "email", "type": "email", "unique": True,
                          "label": {"ja": "メールアドレス", "en": "E-mail"}}),
             parse_field({"key": "name", "type": "text", "label": {"ja": "氏名", "en": "Name"}})],
        )  # fmt: skip
    staff = make_staff("admin")
    monkeypatch.setattr(imports, "CHUNK", 4)
    real = engine.write
    calls = {"n": 0}

    def disk_full_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("ディスクがいっぱいです")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "write", disk_full_once)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [["メールアドレス", "氏名"], *([f"u{n}@example.jp", f"顧客 {n}"] for n in range(10))]
    )
    page.goto(served_app + "/admin/")
    page.get_by_label(JA["auth.email"]).fill(staff.email)
    page.locator("input[autocomplete=current-password]").fill(PASSWORD)
    page.get_by_role("button", name=JA["auth.login"]).click()
    expect(page.get_by_test_id("account-button")).to_be_visible()
    console = ConsoleWatch(page)  # from here on: the 401 before the login is expected
    page.goto(served_app + "/admin/#/customers/customers/import")
    page.get_by_test_id("import-file").set_input_files(
        {"name": "顧客.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode("utf-8")}
    )
    page.get_by_test_id("import-upload-submit").click()
    page.get_by_test_id("import-check").click()
    page.get_by_test_id("import-run").click()
    stopped = page.get_by_test_id("import-stopped")
    expect(stopped).to_contain_text(JA["customers.import.run.interrupted"])
    expect(stopped).to_contain_text("10 行のうち 4 行")
    expect(stopped).to_contain_text("6 行目から")
    expect(stopped).to_contain_text("6〜9 行目: ディスクがいっぱいです")
    expect(page.get_by_test_id("import-history")).to_contain_text(
        JA["customers.import.state.interrupted"]
    )
    expect(page.get_by_test_id("import-result-counts")).to_be_visible()
    screenshot(page, "stopped")
    page.get_by_test_id("import-resume").click()
    expect(page.get_by_test_id("import-stopped")).to_have_count(0)
    expect(page.get_by_text(JA["customers.import.run.all_in"])).to_be_visible()
    screenshot(page, "resumed")
    with runtime.db.read() as session:
        batch = session.exec(select(CustomerImport)).one()
        assert (batch.state, batch.created, batch.rows_done) == ("done", 10, 10)
    assert console.problems == [], console.problems
