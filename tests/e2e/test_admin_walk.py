"""Every admin screen and dialog, in Japanese and English, on a desktop and a phone, without a
console error, a console warning (a missing catalog key warns) or an uncaught page error.

The walk finds its way by the catalogs' own wording, so it checks the translations are the ones
shown. Screenshots of each step go to test-artifacts/ (walk-<lang>-<viewport>-<step>.png).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import ConsoleWatch
from tests.fixtures.customers import seed_customers
from tests.fixtures.duplicates import seed_duplicates
from tests.fixtures.live import LiveServer

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "api" / "admin" / "static"
CATALOGS = {
    lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    for lang in ("ja", "en")
}
# The demo schema's labels (the customer database's tables are named by staff, not the catalogs).
TABLE = {"ja": "顧客", "en": "Customers"}
PURCHASES = {"ja": "購入履歴", "en": "Purchases"}
SCREENS = [
    "nav.customers",
    "nav.groups",
    "nav.access",
    "nav.outbox",
    "nav.staff",
    "nav.tokens",
    "nav.audit",
    "nav.jobs",
    "nav.settings",
]


def text(lang: str, key: str, **params: Any) -> str:
    value: str = CATALOGS[lang][key]
    for name, v in params.items():
        value = value.replace("{" + name + "}", str(v))
    return value


def exact(label: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(label)}\s*$")


class Walk:
    def __init__(self, page: Page, lang: str, viewport: str, shot: Callable[..., Path]) -> None:
        self.page, self.lang, self.viewport, self.shot = page, lang, viewport, shot

    def t(self, key: str, **params: Any) -> str:
        return text(self.lang, key, **params)

    def snap(self, step: str) -> None:
        self.shot(self.page, step)

    def loaded(self) -> None:
        expect(self.page.locator(".table__loading, .page-loading")).to_have_count(0)

    def open_screen(self, key: str) -> None:
        page = self.page
        if self.viewport == "mobile":
            page.get_by_role("button", name=self.t("nav.menu")).click()
            expect(page.get_by_role("navigation")).to_be_visible()
        page.get_by_role("navigation").get_by_role("link", name=self.t(key), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(self.t(key))
        self.loaded()

    def dialog(self, test_id: str | None = None) -> Any:
        locator = self.page.locator(f"dialog[data-testid={test_id}]" if test_id else "dialog[open]")
        expect(locator).to_be_visible()
        return locator

    def escape(self, dialog: Any) -> None:
        self.page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


def walk_everything(w: Walk, server: LiveServer) -> None:
    page, t = w.page, w.t
    page.goto(server.url + "/admin/")
    if w.lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name=t("auth.login"))).to_be_visible()
    w.snap("login")
    page.get_by_label(t("auth.email")).fill(server.admin_email)
    page.locator("input[autocomplete=current-password]").fill(server.password)
    page.get_by_role("button", name=t("auth.login")).click()
    expect(page.locator("html")).to_have_attribute("lang", w.lang)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # The drawer of a phone.
    if w.viewport == "mobile":
        page.get_by_role("button", name=t("nav.menu")).click()
        expect(page.locator("[data-testid=account-button-drawer]")).to_be_visible()
        w.snap("drawer")
        page.keyboard.press("Escape")

    # The customer database: a table created (the dialog), designed (a field added with the
    # preview beside it, the retire confirmation, the table settings), its generated record form
    # (required marks and our messages), a record saved and opened for editing.
    w.open_screen("nav.customers")
    w.snap("customers")
    page.locator("[data-testid=customer-table-add]").click()
    dialog = w.dialog("customer-table-create")
    key = f"walk_{w.lang}_{w.viewport}"
    label = {"ja": f"ウォーク {w.lang} {w.viewport}", "en": f"Walk {w.lang} {w.viewport}"}
    dialog.locator("input[name=label_ja]").fill(label["ja"])
    dialog.locator("input[name=label_en]").fill(label["en"])
    dialog.locator("input[name=key]").fill(key)
    w.snap("customer-table-create")
    dialog.locator("[data-testid=customer-table-create-submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("customers.design.title", table=label[w.lang])
    )
    page.locator("[data-testid=field-add]").click()
    editor = page.locator("[data-testid=field-editor]")
    editor.locator("input[name=label_ja]").fill("氏名")
    editor.locator("input[name=label_en]").fill("Name")
    editor.locator("input[name=key]").fill("full_name")
    editor.get_by_role("checkbox", name=t("customers.design.attr.required")).check()
    expect(page.locator("[data-testid=design-preview]")).to_contain_text(
        "氏名" if w.lang == "ja" else "Name"
    )
    w.snap("designer-add")
    editor.locator("[data-testid=field-editor-save]").click()
    expect(page.locator("[data-field-row=full_name]")).to_be_visible()
    w.snap("designer")
    page.locator("[data-field-row=full_name]").get_by_role(
        "button", name=t("customers.design.retire_named", name="氏名" if w.lang == "ja" else "Name")
    ).click()
    dialog = w.dialog()
    expect(dialog).to_contain_text(t("customers.design.retire_title"))
    w.snap("designer-retire")
    dialog.get_by_role("button", name=t("common.cancel")).click()
    expect(dialog).to_be_hidden()
    page.locator("[data-testid=table-settings-open]").click()
    dialog = w.dialog("table-settings")
    dialog.get_by_role("button", name=t("customers.design.settings.add_status")).click()
    w.snap("table-settings")
    w.escape(dialog)
    page.get_by_role("link", name=t("customers.tables.new_record")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("customers.form.new_title", table=label[w.lang])
    )
    page.locator("[data-testid=record-save]").click()
    expect(page.locator("[data-field=full_name] .field__error")).to_have_text(
        t("form.error.required")
    )
    w.snap("record-new")
    page.locator("[data-field=full_name] input").fill("山田 花子")
    page.locator("[data-testid=record-save]").click()
    expect(page).to_have_url(re.compile(rf"#/customers/{key}/\d+$"))
    expect(page.get_by_role("heading", level=1)).not_to_have_text(  # the record's screen
        t("customers.form.new_title", table=label[w.lang])
    )
    page.goto(page.url + "/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("customers.form.edit_title", table=label[w.lang])
    )
    expect(page.locator("[data-field=full_name] input")).to_have_value("山田 花子")
    w.snap("record-edit")

    # Outbox: send a test mail (form dialog, then the job dialog), open it, its three tabs.
    w.open_screen("nav.outbox")
    to = f"walk-{w.lang}-{w.viewport}@example.jp"
    page.get_by_role("button", name=t("testmail.button")).click()
    dialog = w.dialog("test-mail-dialog")
    dialog.get_by_label(t("testmail.to")).fill(to)
    w.snap("test-mail")
    dialog.get_by_role("button", name=t("testmail.send")).click()
    job = page.get_by_role("dialog")
    expect(job).to_contain_text(t("testmail.done_outbox", to=to), timeout=20_000)
    w.snap("test-mail-done")
    job.get_by_role("button", name=t("common.close")).last.click()
    expect(job).to_be_hidden()
    row = page.get_by_role("row").filter(has_text=to)
    expect(row).to_be_visible()
    w.snap("outbox")
    row.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test message")
    w.snap("outbox-detail")
    page.get_by_role("tab", name=t("outbox.tab.text")).click()
    expect(page.get_by_role("tabpanel")).to_contain_text("This is a test message from")
    page.get_by_role("tab", name=t("outbox.tab.headers")).click()
    expect(page.get_by_role("tabpanel")).to_contain_text("Subject")
    w.snap("outbox-headers")
    page.get_by_role("link", name=t("nav.outbox")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("nav.outbox"))

    # Staff: the add dialog (the password rules are stated), the edit dialog of oneself.
    w.open_screen("nav.staff")
    w.snap("staff")
    page.get_by_role("button", name=t("staff.add")).click()
    dialog = w.dialog()
    expect(dialog.locator("[data-field=password] .field__help")).not_to_be_empty()
    dialog.get_by_role("button", name=t("staff.add")).click()  # empty: our own messages
    expect(dialog.locator(".field__error").first).to_have_text(t("form.error.required"))
    w.snap("staff-add")
    dialog.get_by_role("button", name=t("common.cancel")).click()
    expect(dialog).to_be_hidden()
    page.get_by_role("row").filter(has_text=server.admin_email).click()
    dialog = w.dialog()
    expect(dialog.locator(".dialog__title")).to_have_text(t("staff.edit_title"))
    w.snap("staff-edit")
    w.escape(dialog)

    # API tokens: create one (the secret is shown once), then start revoking it.
    w.open_screen("nav.tokens")
    page.get_by_role("button", name=t("tokens.add")).click()
    dialog = w.dialog("token-create")
    name = f"walk {w.lang} {w.viewport}"
    dialog.get_by_label(t("tokens.field.name")).fill(name)
    w.snap("token-create")
    dialog.get_by_role("button", name=t("tokens.add")).click()
    secret = w.dialog("token-secret")
    expect(secret.locator("input.input--mono")).to_have_value(re.compile(r"\S{20,}"))
    w.snap("token-secret")
    page.keyboard.press("Escape")  # not dismissible: only the button closes it
    expect(secret).to_be_visible()
    secret.get_by_role("button", name=t("tokens.secret_done")).click()
    expect(secret).to_be_hidden()
    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_role("button", name=t("tokens.revoke")).click()
    dialog = w.dialog()
    expect(dialog).to_contain_text(t("tokens.revoke_message", name=name))
    w.snap("token-revoke")
    dialog.get_by_role("button", name=t("common.cancel")).click()
    expect(dialog).to_be_hidden()
    w.snap("tokens")

    # Audit log: the column chooser, then the creation of that token with its before/after table.
    w.open_screen("nav.audit")
    w.snap("audit")
    ip_header = page.get_by_role("columnheader", name=t("audit.col.ip"))
    expect(ip_header).to_be_visible()
    page.get_by_text(t("table.columns"), exact=True).click()
    page.get_by_role("checkbox", name=t("audit.col.ip")).uncheck()
    expect(ip_header).to_have_count(0)
    w.snap("audit-columns")
    page.get_by_role("checkbox", name=t("audit.col.ip")).check()
    expect(ip_header).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("checkbox", name=t("audit.col.ip"))).to_be_hidden()
    page.get_by_role("row").filter(has_text=t("audit.action.token.create")).first.click()
    dialog = w.dialog("audit-detail")
    expect(dialog.locator(".diff")).to_contain_text(name)
    w.snap("audit-detail")
    w.escape(dialog)

    # Jobs: the test mail's job, its details.
    w.open_screen("nav.jobs")
    w.snap("jobs")
    page.get_by_role("row").filter(has_text=to).first.click()
    dialog = w.dialog("job-detail")
    expect(dialog).to_contain_text(to)
    w.snap("job-detail")
    expect(page).to_have_url(re.compile(r"[?&]job="))
    link = page.url
    w.escape(dialog)
    expect(page).not_to_have_url(re.compile(r"[?&]job="))
    page.goto(link)  # a link to one job opens its details
    w.escape(w.dialog("job-detail"))
    page.locator("[data-state=failed]").click()
    w.loaded()
    expect(page).to_have_url(re.compile(r"state=failed"))

    # Customer records: the list with its filter builder, the view and column menus, a record
    # with its tabs (values, a related table, history) and the delete confirmation.
    seed_customers(server)
    page.goto(server.url + "/admin/#/customers/customers")
    expect(page.get_by_role("heading", level=1)).to_have_text(TABLE[w.lang])
    w.loaded()
    w.snap("customer-records")
    page.get_by_test_id("filter-toggle").click()
    page.get_by_role("button", name=t("customers.filter.add_condition")).last.click()
    page.get_by_role("button", name=t("customers.filter.add_group")).last.click()
    expect(page.get_by_test_id("filter-condition")).to_have_count(2)
    w.snap("customer-filter")
    page.get_by_test_id("filter-builder").locator("..").get_by_role(
        "button", name=t("common.close")
    ).click()
    page.get_by_test_id("view-menu").locator("summary").click()
    page.get_by_test_id("view-save-new").click()
    w.snap("customer-view-save")
    w.escape(w.dialog("view-save"))
    page.get_by_text(t("table.columns"), exact=True).click()
    w.snap("customer-columns")
    page.keyboard.press("Escape")
    # Export and bulk actions: the export dialog, a row selected, the bulk bar and its dialogs.
    page.get_by_test_id("export-open").click()
    w.snap("customer-export")
    w.escape(w.dialog("export-dialog"))
    page.get_by_test_id("select-page").check()
    expect(page.get_by_test_id("bulk-bar")).to_be_visible()
    w.snap("customer-bulk-bar")
    page.get_by_test_id("bulk-status").click()
    w.snap("customer-bulk-status")
    w.escape(w.dialog("bulk-dialog"))
    page.get_by_test_id("bulk-set-field").click()
    w.snap("customer-bulk-set-field")
    w.escape(w.dialog("bulk-dialog"))
    page.get_by_test_id("select-page").uncheck()
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)
    page.locator(".table-card tbody tr").filter(has_text="山田 太郎").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("山田 太郎")
    w.snap("customer-record")
    page.get_by_role("tab", name=re.compile("^" + re.escape(PURCHASES[w.lang]))).click()
    expect(page.get_by_test_id("related-purchases-customer").locator("tbody tr")).to_have_count(2)
    w.snap("customer-related")
    page.get_by_role("tab", name=t("customers.record.tab.history")).click()
    expect(page.get_by_test_id("history-entry").first).to_be_visible()
    w.snap("customer-history")
    page.get_by_test_id("record-delete").click()
    dialog = w.dialog()
    expect(dialog).to_contain_text("山田 太郎")
    w.snap("customer-delete")
    dialog.get_by_role("button", name=t("common.cancel")).click()
    expect(dialog).to_be_hidden()

    # The import wizard, from the records list: a small CSV read, its mapping, the dry run, the
    # import with its result, undone (the confirmation, then what it did); the history below.
    page.goto(server.url + "/admin/#/customers/customers")
    page.get_by_role("link", name=t("customers.list.import")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("customers.import.title", table=TABLE[w.lang])
    )
    expect(page.get_by_test_id("import-history")).to_be_visible()
    w.loaded()
    w.snap("import-upload")
    csv_text = (
        f"氏名,メールアドレス,都道府県\n髙橋 ①,walk-{w.lang}-{w.viewport}@example.jp,東京都\n"
    )
    page.get_by_test_id("import-file").set_input_files(
        {"name": "walk.csv", "mimeType": "text/csv", "buffer": csv_text.encode("utf-8")}
    )
    page.get_by_test_id("import-upload-submit").click()
    expect(page.get_by_test_id("import-mapping")).to_be_visible()
    w.snap("import-mapping")
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-check-counts")).to_be_visible(timeout=20_000)
    w.snap("import-check")
    page.get_by_test_id("import-run").click()
    expect(page.get_by_test_id("import-result-counts")).to_be_visible(timeout=20_000)
    w.loaded()
    w.snap("import-done")
    page.get_by_test_id("import-undo").click()
    dialog = w.dialog()
    expect(dialog).to_contain_text(t("customers.import.undo.title"))
    w.snap("import-undo")
    dialog.get_by_role("button", name=t("customers.import.undo.confirm")).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("import-undo-result")).to_contain_text(
        t("customers.import.undo.done", deleted=1, restored=0), timeout=20_000
    )
    w.snap("import-undone")
    # Duplicates: the groups with their score and reasons, the merge dialog (cancelled).
    seed_duplicates(server)
    page.goto(server.url + "/admin/#/customers/leads/duplicates")
    group = page.get_by_test_id("duplicate-group").first
    expect(group).to_contain_text(t("customers.duplicates.reason.email"))
    w.snap("customer-duplicates")
    group.get_by_test_id("duplicate-merge").click()
    dialog = w.dialog("merge-dialog")
    expect(dialog.get_by_test_id("merge-moves")).to_be_visible()
    w.snap("customer-merge")
    dialog.get_by_role("button", name=t("common.cancel")).click()
    expect(dialog).to_be_hidden()

    # Settings: the test mail dialog from there; a stricter password rule, saved.
    w.open_screen("nav.settings")
    w.snap("settings")
    page.get_by_role("button", name=t("testmail.button")).click()
    w.escape(w.dialog("test-mail-dialog"))
    min_length = page.locator("[data-field='password.min_length'] input")
    before = min_length.input_value()
    min_length.fill("14")
    with page.expect_response(
        lambda r: r.url.endswith("/api/settings") and r.request.method == "PATCH"
    ) as saved:
        page.get_by_role("button", name=t("common.save")).click()
    assert saved.value.ok
    expect(page.locator(".toast").filter(has_text=t("common.saved"))).to_be_visible()

    # My account (in the drawer on a phone): the new password's help states the new rule at once.
    if w.viewport == "mobile":
        page.get_by_role("button", name=t("nav.menu")).click()
        page.locator("[data-testid=account-button-drawer]").click()
    else:
        page.locator("[data-testid=account-button]").click()
    dialog = w.dialog("account-dialog")
    rules = t("password_rules.min_length", min=14)
    expect(dialog.locator("[data-field=new_password] .field__help")).to_contain_text(rules)
    w.snap("account")
    w.escape(dialog)
    if w.viewport == "mobile":  # the drawer closed when the dialog opened; focus is on its button
        menu = page.get_by_role("button", name=t("nav.menu"))
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()
    min_length.fill(before)  # as it was, for the other tests
    with page.expect_response(
        lambda r: r.url.endswith("/api/settings") and r.request.method == "PATCH"
    ) as saved:
        page.get_by_role("button", name=t("common.save")).click()
    assert saved.value.ok
    expect(min_length).to_have_value(before)

    # Groups: the list, a group created (the dialog), its screen with the "add members" and
    # "rename" dialogs, and deleted again (the confirmation).
    w.open_screen("nav.groups")
    w.snap("groups")
    page.locator("[data-testid=group-new]").click()
    dialog = w.dialog("group-create")
    group_key = f"walk-{w.lang}-{w.viewport}"
    dialog.locator("input[name=key]").fill(group_key)
    dialog.locator("input[name=label_ja]").fill(f"ウォーク {w.lang} {w.viewport}")
    dialog.locator("input[name=label_en]").fill(f"Walk {w.lang} {w.viewport}")
    w.snap("group-create")
    # The request may wait on the shared server's SQLite writer (jobs of earlier tests): wait
    # for its answer, not for a fixed 5 s, then for the group's screen.
    with page.expect_response(
        lambda r: r.url.endswith("/api/groups") and r.request.method == "POST", timeout=30_000
    ) as created:
        dialog.locator("[data-testid=group-create-submit]").click()
    assert created.value.status == 201, created.value.text()
    group_label = (
        f"ウォーク {w.lang} {w.viewport}" if w.lang == "ja" else f"Walk {w.lang} {w.viewport}"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(group_label, timeout=15_000)
    w.loaded()
    expect(page.get_by_text(f"group:{group_key}")).to_be_visible()
    w.snap("group")
    page.locator("[data-testid=group-add-open]").click()
    w.snap("group-add-members")
    w.escape(w.dialog("group-add-members"))
    page.locator("[data-testid=group-rename-open]").click()
    w.snap("group-rename")
    w.escape(w.dialog("group-rename"))
    page.locator("[data-testid=group-delete]").click()
    dialog = w.dialog()
    expect(dialog).to_contain_text(f"group:{group_key}")
    dialog.get_by_role("button", name=t("groups.delete"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("nav.groups"))
    expect(page.get_by_text(f"group:{group_key}")).to_have_count(0)

    # Access: the matrix (no manifest until the build writes one: a notice), the last build,
    # and "view as" with its three kinds of visitor.
    w.open_screen("nav.access")
    expect(page.get_by_role("tab", name=t("access.tab.matrix"))).to_have_attribute(
        "aria-selected", "true"
    )
    w.snap("access")
    page.get_by_role("tab", name=re.compile("^" + re.escape(t("access.tab.build")))).click()
    expect(page.locator("[data-testid=access-build]")).to_be_visible()
    w.snap("access-build")
    page.get_by_role("tab", name=t("access.tab.preview")).click()
    form = page.locator("[data-testid=access-preview-form]")
    expect(form.locator("[data-testid=access-member-search]")).to_be_visible()
    form.get_by_label(t("access.who.group")).check()
    form.get_by_label(t("access.who.anonymous")).check()
    expect(form.locator("[data-testid=access-preview-show]")).to_be_enabled()
    w.snap("access-view-as")

    # An unknown screen says so inside the shell.
    page.goto(server.url + "/admin/#/nowhere")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("error.not_found_title"))


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_screen_and_dialog_without_a_console_error(
    live_server: LiveServer,
    make_page: Callable[..., Page],
    screenshot: Callable[..., Path],
    lang: str,
    viewport: str,
) -> None:
    # A Japanese browser; the English walk picks English on the login page (saved in the browser,
    # so the account's Japanese does not take over after logging in).
    page = make_page(viewport=viewport, locale="ja-JP")
    console = ConsoleWatch(page)
    # Not logged in yet: "who am I" answers 401, which Chromium logs as a failed resource.
    console.expect(lambda message, url: url.endswith("/api/staff/auth/me") and "401" in message)
    walk = Walk(page, lang, viewport, lambda pg, step: screenshot(pg, f"walk-{step}"))
    try:
        walk_everything(walk, live_server)
    except Exception:
        walk.snap("failed")  # where it stopped, for the person reading the failure
        log = live_server.log.read_text(encoding="utf-8", errors="replace").splitlines()
        print("The server's last lines:", *log[-60:], sep="\n")
        raise
    assert console.problems == []


def test_the_library_is_served_from_the_app_under_the_strict_csp(
    live_server: LiveServer, make_page: Callable[..., Page]
) -> None:
    page = make_page()
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    response = page.goto(live_server.url + "/admin/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    expect(page.get_by_role("button", name=text("ja", "auth.login"))).to_be_visible()
    vendored = sorted({u.split("/admin/vendor/")[1] for u in loaded if "/admin/vendor/" in u})
    assert vendored == [
        "htm/htm.js",
        "preact/hooks.js",
        "preact/preact.js",
        "signals-core/signals-core.js",
        "signals/signals.js",
    ]
    assert all(u.startswith(live_server.url) for u in loaded), "nothing from another origin"
    for path in vendored:
        served = page.request.get(f"{live_server.url}/admin/vendor/{path}")
        assert served.ok and served.headers["content-type"].startswith("text/javascript")
        assert served.text() == (STATIC / "vendor" / path).read_text(encoding="utf-8")
