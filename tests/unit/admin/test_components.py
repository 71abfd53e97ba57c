"""The admin's component library keeps the old toolkit's guarantees, and its form model works.

Runs the ES modules in Node (skipped on a laptop without it; a failure under CI=true) with the
vendored Preact and the real catalogs; rendering itself is covered by the browser tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.services import unavailable

STATIC = Path(__file__).resolve().parents[3] / "api" / "admin" / "static"
NODE = shutil.which("node")

PRELUDE = """
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
globalThis.fetch = async (url) => ({ ok: true, json: async () => JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) });
console.warn = () => {};
const base = process.argv[1];
const out = {};
const attempt = (name, fn) => { try { out[name] = { ok: fn() }; } catch (e) { out[name] = { error: e.message }; } };
"""

GUARD = """
const { html, signal } = await import(`${base}/js/lib.js`);
attempt('inner_html', () => html`<div dangerouslySetInnerHTML=${{ __html: '<img src=x onerror=alert(1)>' }} />`.type);
attempt('inner_html_prop', () => html`<div innerHTML=${'<b>x</b>'} />`.type);
attempt('srcdoc', () => html`<iframe srcdoc=${'<script>alert(1)</script>'} />`.type);
attempt('string_handler', () => html`<button onClick=${'alert(1)'}>x</button>`.type);
attempt('string_style', () => html`<p style=${'color: red'}>x</p>`.type);
attempt('signal_href', () => html`<a href=${signal('/x')}>x</a>`.type);
attempt('javascript_href', () => html`<a href=${'javascript:alert(1)'}>x</a>`.props.href);
attempt('data_src', () => html`<img src=${' data:text/html,x'} />`.props.src);
attempt('relative_href', () => html`<a href=${'#/staff?q=1'}>x</a>`.props.href);
attempt('https_href', () => html`<a href=${'https://example.jp/a'}>x</a>`.props.href);
attempt('text_child', () => html`<p>${'<b>bold</b>'}</p>`.props.children);
attempt('object_style', () => html`<p style=${{ width: '3em' }}>x</p>`.props.style.width);
attempt('handler', () => typeof html`<button onClick=${() => 1}>x</button>`.props.onClick);
console.log(JSON.stringify(out));
"""

FORM = """
const { initI18n } = await import(`${base}/js/i18n.js`);
const { ApiError } = await import(`${base}/js/api.js`);
const { createForm, registerFieldType } = await import(`${base}/js/ui/form.js`);
await initI18n(process.argv[2]);
const errors = (form) => Object.fromEntries(['name', 'email', 'age', 'role', 'note', 'tags', 'password']
  .filter((n) => form.field(n)?.error.value).map((n) => [n, form.field(n).error.value]));
registerFieldType('tags', { Control: () => null, empty: [], read: (raw) => raw || [] });
const submitted = [];
const fields = [
  { name: 'name', type: 'text', label: 'Name', required: true, maxlength: 5 },
  { name: 'email', type: 'email', label: 'Email' },
  { name: 'age', type: 'number', label: 'Age', min: 18, max: 99, step: 1 },
  { name: 'role', type: 'select', label: 'Role', options: [{ value: 30, label: '30' }, { value: null, label: 'never' }] },
  { type: 'section', label: 'More' },
  { name: 'active', type: 'checkbox', label: 'Active' },
  { name: 'note', type: 'textarea', label: 'Note', required: true, visible: (v) => v.active },
  { name: 'tags', type: 'tags', label: 'Tags', required: true },
  { name: 'password', type: 'password', label: 'Password' },
];
const form = createForm({
  fields,
  values: { name: 'Sato', role: 30, active: false, tags: ['a'] },
  submitLabel: 'Save',
  errorFieldByCode: { email_taken: 'email' },
  onSubmit: async (values, { changed }) => { submitted.push({ values, changed }); return 'saved'; },
});
out.initial = form.values();
form.field('name').value.value = '  Sato Hanako  ';
form.field('email').value.value = 'not an address';
form.field('age').value.value = '12.5';
form.field('tags').value.value = [];
out.first_submit = (await form.submit()) ?? null;
out.first_errors = errors(form);
out.first_summary = form.summary.value;
form.field('name').value.value = ' 佐藤 ';
form.field('email').value.value = 'sato@example.jp';
form.field('age').value.value = '120';
out.second_submit = (await form.submit()) ?? null;
out.second_errors = errors(form);
form.field('age').value.value = '';
form.field('role').value.value = null;
form.field('tags').value.value = ['vip'];
out.third_submit = await form.submit();
out.submitted = submitted;
form.field('active').value.value = true;
out.note_now_required = (await form.submit(), errors(form));
form.setErrors(new ApiError(422, { code: 'validation_failed', errors: [
  { field: 'password', code: 'password_too_short', message: 'too short', params: { min: 1200 } },
  { field: 'body.name', code: 'too_long', message: 'too long' },
  { field: 'nickname', code: 'required', message: 'Required' },
]}));
out.server_errors = errors(form);
out.server_summary = form.summary.value;
form.setErrors(new ApiError(409, { code: 'email_taken', detail: 'taken' }));
out.by_code = errors(form);
form.setErrors(new ApiError(500, { code: 'internal_error', reference: 'ab12' }));
out.other = [errors(form), form.summary.value];
console.log(JSON.stringify(out));
"""


def run(script: str, *args: str) -> dict[str, Any]:
    if NODE is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", PRELUDE + script, STATIC.as_uri(), *args],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_no_html_from_strings_and_no_unsafe_urls() -> None:
    out = run(GUARD)
    for refused in (
        "inner_html",
        "inner_html_prop",
        "srcdoc",
        "string_handler",
        "string_style",
        "signal_href",
    ):
        assert "error" in out[refused], f"{refused} was accepted: {out[refused]}"
    assert out["javascript_href"] == {"ok": "about:blank"}
    assert out["data_src"] == {"ok": "about:blank"}
    assert out["relative_href"] == {"ok": "#/staff?q=1"}
    assert out["https_href"] == {"ok": "https://example.jp/a"}
    assert out["text_child"] == {"ok": "<b>bold</b>"}  # a string child: Preact makes a text node
    assert out["object_style"] == {"ok": "3em"}
    assert out["handler"] == {"ok": "function"}


CATALOGS = {
    lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    for lang in ("ja", "en")
}


def msg(lang: str, key: str, **params: object) -> str:
    text: str = CATALOGS[lang][key]
    for name, value in params.items():
        text = text.replace("{" + name + "}", str(value))
    return text


@pytest.fixture(scope="module", params=["ja", "en"])
def form(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, run(FORM, request.param)


def test_values_keep_their_types_and_hidden_fields_are_left_out(
    form: tuple[str, dict[str, Any]],
) -> None:
    _, out = form
    assert out["initial"] == {
        "name": "Sato", "email": "", "age": None, "role": 30, "active": False, "tags": ["a"],
        "password": "",
    }  # fmt: skip


def test_built_in_checks_speak_the_catalog(form: tuple[str, dict[str, Any]]) -> None:
    lang, out = form
    assert out["first_submit"] is None
    assert out["first_errors"] == {
        "name": msg(lang, "form.error.maxlength", max=5),
        "email": msg(lang, "form.error.email"),
        "age": msg(lang, "form.error.number"),
        "tags": msg(lang, "form.error.required"),
    }
    summary = out["first_summary"]
    assert summary["message"] == msg(lang, "form.summary", count=4)
    assert [name for name, _ in summary["items"]] == ["name", "email", "age", "tags"]
    assert out["second_submit"] is None
    assert out["second_errors"] == {
        "age": msg(lang, "form.error.max", max=99),
        "tags": msg(lang, "form.error.required"),
    }


def test_submit_sends_trimmed_typed_values_and_what_changed(
    form: tuple[str, dict[str, Any]],
) -> None:
    lang, out = form
    assert out["third_submit"] == "saved"
    [sent] = out["submitted"]
    assert sent["values"] == {
        "name": "佐藤", "email": "sato@example.jp", "age": None, "role": None, "active": False,
        "tags": ["vip"], "password": "",
    }  # fmt: skip
    assert sent["changed"] == {
        "name": "佐藤", "email": "sato@example.jp", "role": None, "tags": ["vip"],
    }  # fmt: skip
    # A conditional field counts once it is shown.
    assert out["note_now_required"] == {"note": msg(lang, "form.error.required")}


def test_server_errors_are_shown_at_their_fields_with_params(
    form: tuple[str, dict[str, Any]],
) -> None:
    lang, out = form
    too_short = msg(lang, "error.password_too_short", min="1,200")
    too_long = msg(lang, "error.too_long.plain")  # no params came: the plain wording
    assert out["server_errors"] == {"password": too_short, "name": too_long}
    items = out["server_summary"]["items"]
    assert items[:2] == [["password", too_short], ["name", too_long]]
    assert items[2] == [None, f"nickname: {msg(lang, 'error.required')}"]
    assert out["by_code"] == {"email": msg(lang, "error.email_taken")}
    errors, summary = out["other"]
    assert errors == {}
    assert summary["message"] == msg(lang, "error.internal_error", reference="ab12")


TABLE = """
const { initI18n } = await import(`${base}/js/i18n.js`);
const { createTable } = await import(`${base}/js/ui/table.js`);
await initI18n('ja');
const settle = () => new Promise((r) => setTimeout(r, 10));
const rows = Array.from({ length: 120 }, (_, i) => ({ id: i + 1 }));
const snap = (tb) => ({ page: tb.page.value, ids: tb.items.value.map((r) => r.id).slice(0, 3), count: tb.items.value.length,
  total: tb.total.value, exact: tb.totalExact.value, prev: tb.hasPrev.value, next: tb.hasNext.value, status: tb.status.value });

// Pages with an exact total; ?page=5 is past the end (rows were deleted): the last page.
const changes = [];
const paged = createTable({
  load: async ({ page, perPage }) => ({ items: rows.slice((page - 1) * perPage, page * perPage), total: rows.length, page, per_page: perPage }),
  page: 5, perPage: 50, onPageChange: (p) => changes.push(p),
});
await settle();
out.past_the_end = snap(paged);
paged.step(-1); await settle();
out.back_one = snap(paged);
out.changes = changes;

// An estimated total (a list of millions): "next" while pages come back full, no clamping.
const estimated = createTable({
  load: async ({ page, perPage }) => ({ items: rows.slice(0, perPage), total: 1000000, total_exact: false, page, per_page: perPage }),
  perPage: 25,
});
await settle();
estimated.go(30000); await settle();
out.estimated = snap(estimated);

// Keyset pages: the cursors of the answer drive the pager.
const seen = [];
const keyset = createTable({
  paging: 'cursor',
  perPage: 50,
  load: async ({ cursor, perPage }) => {
    seen.push(cursor);
    const start = cursor ? Number(cursor.split(':')[1]) : 0;
    const items = rows.slice(start, start + perPage);
    return { items, total: rows.length, page: 1, per_page: perPage,
      next_cursor: start + perPage < rows.length ? `after:${start + perPage}` : null,
      prev_cursor: start > 0 ? `after:${Math.max(0, start - perPage)}` : null };
  },
});
await settle();
out.keyset_first = snap(keyset);
keyset.step(1); await settle();
keyset.step(1); await settle();
out.keyset_last = snap(keyset);
keyset.step(-1); await settle();
out.keyset_back = snap(keyset);
keyset.setPerPage(25); await settle();
out.keyset_restart = snap(keyset);
out.cursors = seen;

// Leaving the screen aborts the request in flight; an error is kept for the view.
const leave = new AbortController();
let inflight = null;
createTable({ load: ({ signal }) => { inflight = signal; return new Promise(() => {}); }, signal: leave.signal });
leave.abort();
out.aborted = inflight.aborted;
const failing = createTable({ load: async () => { throw new Error('down'); } });
await settle();
out.failed = [failing.status.value, failing.error.value.message];
console.log(JSON.stringify(out));
"""


def test_table_model_pages_by_number_by_estimate_and_by_cursor() -> None:
    out = run(TABLE)
    assert out["past_the_end"] == {
        "page": 3, "ids": [101, 102, 103], "count": 20, "total": 120, "exact": True,
        "prev": True, "next": False, "status": "ready",
    }  # fmt: skip
    assert out["back_one"]["page"] == 2 and out["back_one"]["ids"] == [51, 52, 53]
    assert out["back_one"]["next"] is True
    assert out["changes"] == [{"page": 3, "perPage": 50}, {"page": 2, "perPage": 50}]
    assert out["estimated"]["page"] == 30000
    assert out["estimated"]["exact"] is False and out["estimated"]["next"] is True
    assert out["keyset_first"]["ids"] == [1, 2, 3] and out["keyset_first"]["prev"] is False
    assert out["keyset_last"]["ids"] == [101, 102, 103]
    assert out["keyset_last"]["next"] is False and out["keyset_last"]["prev"] is True
    assert out["keyset_back"]["ids"] == [51, 52, 53]
    assert out["keyset_restart"]["ids"] == [1, 2, 3] and out["keyset_restart"]["count"] == 25
    assert out["cursors"] == [None, "after:50", "after:100", "after:50", None]
    assert out["aborted"] is True
    assert out["failed"] == ["error", "down"]


UNSAFE_DOM = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|dangerouslySetInnerHTML|new Function|\beval\("
)
COMMENTS = re.compile(r"/\*.*?\*/|^\s*//.*$", re.DOTALL | re.MULTILINE)


def test_no_code_writes_html_from_strings() -> None:
    """Besides the guard at run time: nothing in the admin's own code even spells it."""
    for path in sorted((STATIC / "js").rglob("*.js")):
        code = COMMENTS.sub("", path.read_text(encoding="utf-8"))
        found = UNSAFE_DOM.findall(code)
        assert not found, f"{path.relative_to(STATIC)} uses {found}"
