"""The access screen (#/access) as a marketer meets it, on a server of its own whose site is a
hand-written manifest and web root (tests.fixtures.access_staff_site.py): the matrix with the members
each rule admits, a filter by group, the last build's warnings, and "view as" — a member found
by name sees the "not permitted" page of another plan's page and reads their own, a group and
an anonymous visitor — in a sandboxed frame whose styles load, without any member cookie."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from api.customers import records
from api.groups import services as groups
from api.members import services as member_services
from api.principal import cli_principal
from tests.fixtures.access_staff_site import write_site
from tests.fixtures.app import PASSWORD
from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.customers import live_database, seed_customers
from tests.fixtures.live import LiveServer, kizuna, kizuna_env, start_server, stop_server
from tests.fixtures.services import free_port

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
CATALOGS = {
    lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    for lang in ("ja", "en")
}
WARNINGS = [
    {"message": "Unknown field speciality in the rule", "source": "content/pages/onc.md",
     "line": 3, "code": "rule_unknown_field"},
    "Skipping content/drafts/x.md: no title",
]  # fmt: skip


MEMBERS: dict[str, int] = {}  # the access server's members by e-mail


def text(lang: str, key: str, **params: Any) -> str:
    value: str = CATALOGS[lang][key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


@pytest.fixture(scope="module")
def access_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose site is the hand-written one, with the demo schema's member table and
    three members: 山田 (gold, oncology, doctors), 佐藤 (free, doctors), 鈴木 (platinum)."""
    base = tmp_path_factory.mktemp("access")
    var_dir, site = base / "var", base / "site"
    write_site(site, warnings=WARNINGS)
    env = kizuna_env(var_dir, KIZUNA_SITE_DIR=str(site), KIZUNA_LOGIN_RATE_LIMIT="600")
    kizuna(env, "migrate")
    kizuna(env, "createstaff", "--email", "admin@example.jp", "--name", "管理 太郎", "--role", "admin",
           "--password", PASSWORD)  # fmt: skip
    server = start_server(env, var_dir, free_port())
    seed_customers(server)
    actor = cli_principal("e2e")
    db = live_database(server)
    try:
        with db.transaction() as session:
            ids = [
                records.create_record(session, actor, "members", values)["id"]
                for values in (
                    {"email": "yamada@example.jp", "name": "山田 花子", "plan": "gold",
                     "specialty": "oncology"},
                    {"email": "sato@example.jp", "name": "佐藤 健", "plan": "free"},
                    {"email": "suzuki@example.jp", "name": "鈴木 美咲", "plan": "platinum"},
                )
            ]  # fmt: skip
            MEMBERS.update(zip(["yamada", "sato", "suzuki"], ids, strict=True))
            groups.create_group(session, actor, "doctors", {"ja": "医師", "en": "Doctors"})
            groups.change_members(session, actor, "doctors", ids[:2], add=True)
            for record_id in ids:  # members count when they can log in
                member_services.ensure_account(session, actor, record_id, PASSWORD, check=False)
    finally:
        db.dispose()
    yield server
    stop_server(server)


def log_in(page: Page, server: LiveServer, lang: str) -> None:
    page.goto(server.url + "/admin/")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_label(text(lang, "auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=text(lang, "auth.login")).click()
    expect(page.get_by_role("navigation")).to_be_visible()


def frame_excuses(console: ConsoleWatch) -> None:
    # The preview frame shows the "not permitted" (403) and 404 pages with their statuses.
    console.expect(lambda message, url: "/api/access/preview/frame/" in url)
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_matrix_warnings_and_view_as(
    access_server: LiveServer, make_page: Callable[..., Page], screenshot: Callable[..., Path],
    lang: str,
) -> None:  # fmt: skip
    page = make_page("desktop", "ja-JP" if lang == "ja" else "en-US")
    console = ConsoleWatch(page)
    frame_excuses(console)

    def t(key: str, **params: Any) -> str:
        return text(lang, key, **params)

    log_in(page, access_server, lang)
    page.get_by_role("navigation").get_by_role("link", name=t("nav.access"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("nav.access"))

    # The matrix: each rule with the members it admits (of 3), each URL with its count.
    rules = page.get_by_test_id("access-rules")
    expect(rules).to_contain_text(t("access.rules.members_total", count=3))
    gold = rules.locator("tr").filter(has_text='plan in ("gold", "platinum")')
    expect(gold.locator("td").nth(2)).to_contain_text("2")
    onc_row = page.locator(".table-card tbody tr").filter(has_text="/onc/")
    expect(onc_row).to_contain_text("Oncology")
    expect(onc_row.locator("td").nth(4)).to_have_text("1 / 3")
    expect(page.locator(".table-card tbody tr").filter(has_text="/theme/css")).to_have_count(0)
    screenshot(page, "matrix")

    # A filter by group.
    page.get_by_label(t("access.filter.group")).select_option("doctors")
    expect(page.locator(".table-card tbody tr")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"group=doctors"))
    screenshot(page, "matrix-doctors")
    page.get_by_label(t("access.filter.group")).select_option("")
    expect(page.locator(".table-card tbody tr")).to_have_count(11)

    # The last build's warnings.
    page.get_by_role("tab", name=t("access.tab.build_warnings", count=2)).click()
    warnings = page.get_by_test_id("access-warnings")
    expect(warnings).to_contain_text("Unknown field speciality in the rule")
    expect(warnings).to_contain_text("content/pages/onc.md:3")
    expect(warnings).to_contain_text("Skipping content/drafts/x.md: no title")
    screenshot(page, "build")

    # View as: from the matrix's row, a member found by name; another plan's page → 403 page.
    page.get_by_role("tab", name=t("access.tab.matrix")).click()
    onc_row = page.locator(".table-card tbody tr").filter(has_text="/gold/")
    onc_row.get_by_test_id("access-view-as-row").click()
    expect(page.get_by_role("tab", name=t("access.tab.preview"))).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page.locator("input[name=path]")).to_have_value("/gold/")
    page.get_by_test_id("access-member-search").locator("input").fill("佐藤")
    page.get_by_test_id("access-member-choice").filter(has_text="佐藤 健").click()
    expect(page.get_by_test_id("access-member-picked")).to_contain_text("sato@example.jp")
    page.get_by_test_id("access-preview-show").click()
    result = page.get_by_test_id("access-preview-result")
    expect(result).to_have_attribute("data-decision", "forbidden")
    expect(result).to_contain_text(t("access.reason.denied"))
    expect(result.get_by_test_id("access-terms")).to_contain_text('plan in ("gold", "platinum")')
    frame = page.frame_locator("[data-testid=access-frame]")
    expect(frame.locator("h1")).to_have_text("閲覧できません")
    expect(page.get_by_test_id("access-frame")).to_have_attribute("sandbox", "")
    page.get_by_test_id("access-frame").scroll_into_view_if_needed()
    screenshot(page, "view-as-forbidden")
    expect(page).to_have_url(re.compile(r"member=\d+"))
    page.reload()  # the link keeps whom and what
    expect(page.get_by_test_id("access-member-picked")).to_contain_text("佐藤 健")
    expect(page.locator("input[name=path]")).to_have_value("/gold/")

    # Another member, their own page: allowed, the page's own styles load inside the frame.
    page.get_by_role("button", name=t("access.preview.change")).click()
    page.locator("input[name=path]").fill("/onc/")
    page.get_by_test_id("access-member-search").locator("input").fill("yamada@example.jp")
    page.get_by_test_id("access-member-choice").first.click()
    page.get_by_test_id("access-preview-show").click()
    expect(result).to_have_attribute("data-decision", "allow")
    expect(result).to_contain_text("specialty")
    expect(frame.locator("h1")).to_have_text("Oncology")
    expect(frame.locator("p")).to_have_text("onc text")
    expect(frame.locator("h1")).to_have_css("color", "rgb(39, 64, 139)")
    page.get_by_test_id("access-frame").scroll_into_view_if_needed()
    screenshot(page, "view-as-allowed")

    # A group (a member of it alone, no fields), then a visitor who is not logged in.
    page.get_by_label(t("access.who.group")).check()
    page.locator("input[name=path]").fill("/doctors/")
    page.get_by_test_id("access-preview-show").click()
    expect(result).to_have_attribute("data-decision", "allow")
    expect(frame.locator("h1")).to_have_text("医師向け")
    page.get_by_label(t("access.who.anonymous")).check()
    page.locator("input[name=path]").fill("/members/seminar/")
    page.get_by_test_id("access-preview-show").click()
    expect(result).to_have_attribute("data-decision", "login")
    expect(result).to_contain_text("/login/?next=/members/seminar/")
    expect(frame.locator("input[name=next]")).to_have_value("/members/seminar/")
    page.get_by_test_id("access-frame").scroll_into_view_if_needed()
    screenshot(page, "view-as-anonymous")

    # A path that cannot be: the message at once.
    console.expect(lambda message, url: "/api/access/preview?" in url and "422" in message)
    page.locator("input[name=path]").fill("/../etc/passwd")
    page.get_by_test_id("access-preview-show").click()
    expect(page.get_by_test_id("access-preview-error")).to_contain_text(t("error.invalid_path"))

    # From a member's record: "view pages as this member".
    page.goto(f"{access_server.url}/admin/#/customers/members/{MEMBERS['suzuki']}")
    page.get_by_role("link", name=t("access.record.view_as")).click()
    expect(page.get_by_role("tab", name=t("access.tab.preview"))).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page.get_by_test_id("access-member-picked")).to_contain_text("鈴木 美咲")

    # No member cookie was ever set.
    names = [c["name"] for c in page.context.cookies()]
    assert not [n for n in names if "member" in n], names
    assert not console.problems, console.problems


def test_a_viewer_reads_the_matrix_but_cannot_view_as(
    access_server: LiveServer, make_page: Callable[..., Page]
) -> None:
    db = live_database(access_server)
    try:
        from api.staff import services as staff_services

        with db.transaction() as session:
            staff_services.create_staff(
                session, cli_principal("e2e"), email="viewer@example.jp", name="閲覧 花子",
                role="viewer", password=PASSWORD,
            )  # fmt: skip
    finally:
        db.dispose()
    page = make_page("desktop", "ja-JP")
    console = ConsoleWatch(page)
    frame_excuses(console)
    page.goto(access_server.url + "/admin/")
    page.get_by_label(text("ja", "auth.email")).fill("viewer@example.jp")
    page.locator("input[autocomplete=current-password]").fill(PASSWORD)
    page.get_by_role("button", name=text("ja", "auth.login")).click()
    page.get_by_role("navigation").get_by_role("link", name=text("ja", "nav.access")).click()
    expect(page.get_by_test_id("access-rules")).to_be_visible()
    expect(page.get_by_role("tab", name=text("ja", "access.tab.preview"))).to_have_count(0)
    expect(page.get_by_test_id("access-view-as-row")).to_have_count(0)
    assert not console.problems, console.problems
