"""js/customers/fields.js: every customer field type has a form control, values travel to and
from the API unchanged in meaning (exact numbers, datetimes in the site's time zone with their
offset), and read-only display speaks the catalog. Runs the ES module in Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.services import unavailable

STATIC = Path(__file__).resolve().parents[3] / "api" / "admin" / "static"
NODE = shutil.which("node")

SCRIPT = """
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
globalThis.fetch = async (url) => ({ ok: true, json: async () => JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) });
console.warn = () => {};
const base = process.argv[1];
const { initI18n } = await import(`${base}/js/i18n.js`);
await initI18n(process.argv[2]);
const f = await import(`${base}/js/customers/fields.js`);
const { createForm, FIELD_TYPES: CONTROLS } = await import(`${base}/js/ui/form.js`);
const out = {};
const defs = Object.fromEntries(f.FIELD_TYPES.map((type) => [type, {
  key: `k_${type}`, type, label: { ja: `ラベル ${type}`, en: `Label ${type}` }, required: type === 'text',
  choices: type === 'select' || type === 'multi_select'
    ? [{ value: 'a', label: { ja: 'エー', en: 'A' } }, { value: 'b', label: { ja: 'ビー', en: 'B' } }, { value: 'old', label: { ja: '旧', en: 'Old' }, retired: true }]
    : undefined,
  scale: type === 'decimal' ? 2 : undefined, references: type === 'reference' ? 'companies' : undefined,
}]));
out.controls = Object.fromEntries(f.FIELD_TYPES.map((type) => {
  const field = f.formField(defs[type]);
  return [type, { control: field.type, known: field.type in CONTROLS, label: field.label, required: field.required }];
}));
out.select_options = f.formField(defs.select).options.map((o) => o.label);
out.select_options_with_retired = f.formField(defs.select, { current: 'old' }).options.map((o) => o.value);
out.tokyo = [f.wallToIso('2026-04-01T09:30', 'Asia/Tokyo'), f.isoToWall('2026-04-01T00:30:00+00:00', 'Asia/Tokyo')];
out.new_york = [f.wallToIso('2026-07-01T09:00', 'America/New_York'), f.wallToIso('2026-01-15T09:00', 'America/New_York')];
out.bad_wall = f.wallToIso('2026-04-01', 'Asia/Tokyo');
out.api = {
  integer: f.apiValue(defs.integer, '１２,３４５'),
  decimal: f.apiValue(defs.decimal, '1,234.50'),
  datetime: f.apiValue(defs.datetime, '2026-04-01T09:30'),
  reference: f.apiValue(defs.reference, '12'),
  empty_text: f.apiValue(defs.text, ''),
  empty_multi: f.apiValue(defs.multi_select, []),
  multi: f.apiValue(defs.multi_select, ['a', 'b']),
  boolean: f.apiValue(defs.boolean, false),
};
out.form_values = {
  datetime: f.formValue(defs.datetime, '2026-04-01T00:30:00+00:00'),
  decimal: f.formValue(defs.decimal, '12.50'),
  multi_null: f.formValue(defs.multi_select, null),
  select_null: f.formValue(defs.select, null),
};
out.shown = {
  select: f.formatValue(defs.select, 'a'),
  multi: f.formatValue(defs.multi_select, ['a', 'b']),
  retired: f.formatValue(defs.multi_select, ['old']),
  boolean: f.formatValue(defs.boolean, true),
  decimal: f.formatValue(defs.decimal, '1234567.50'),
  integer: f.formatValue(defs.integer, 1234567),
  date: f.formatValue(defs.date, '2026-04-01'),
  datetime: f.formatValue(defs.datetime, '2026-04-01T00:30:00+00:00'),
  reference: f.formatValue(defs.reference, 7),
  empty: f.formatValue(defs.text, null),
  script: f.formatValue(defs.text, '<script>alert(1)</script>'),
};
out.file = {
  empty: f.formValue(defs.file, null),
  shown: f.formatValue(defs.file, { name: '見積書.pdf', size: 12345, type: 'application/pdf' }),
  accept: f.formField({ ...defs.file, file_types: ['pdf', 'excel'] }).accept,
  places_new_api: f.formField({ ...defs.decimal, scale: undefined, decimal_places: 0 }).scale,
};
out.label = f.recordLabel({ fields: [defs.text, defs.email] }, { id: 3, values: { k_text: '山田', k_email: 'y@example.jp' } });
out.label_empty = f.recordLabel({ fields: [defs.text] }, { id: 3, values: {} });
const form = createForm({ fields: [f.formField(defs.integer), f.formField(defs.decimal), f.formField(defs.text)], onSubmit: async () => 'ok' });
form.field('k_integer').value.value = '12.5';
form.field('k_decimal').value.value = '1.234';
out.submit = (await form.submit()) ?? null;
out.errors = ['k_integer', 'k_decimal', 'k_text'].map((n) => form.field(n).error.value);
form.field('k_integer').value.value = '１２３';
form.field('k_decimal').value.value = '-0.5';
form.field('k_text').value.value = ' 山田 ';
out.second = (await form.submit()) ?? null;
out.values = form.values();
console.log(JSON.stringify(out));
"""


def run(lang: str) -> dict[str, Any]:
    if NODE is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, STATIC.as_uri(), lang],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def ja() -> dict[str, Any]:
    return run("ja")


def test_every_field_type_has_a_form_control(ja: dict[str, Any]) -> None:
    controls = ja["controls"]
    assert set(controls) == {
        "text", "long_text", "integer", "decimal", "date", "datetime", "boolean", "select",
        "multi_select", "email", "phone", "url", "postal_code", "furigana", "reference", "file",
    }  # fmt: skip
    assert all(c["known"] for c in controls.values()), controls
    assert controls["datetime"]["control"] == "cf-datetime"
    assert controls["reference"]["control"] == "cf-reference"
    assert controls["multi_select"]["control"] == "cf-multi"
    assert controls["long_text"]["control"] == "textarea"
    assert controls["file"]["control"] == "cf-file"
    assert controls["text"] == {
        "control": "cf-text",
        "known": True,
        "label": "ラベル text",
        "required": True,
    }
    # A retired choice is offered only to the record that still has it.
    assert ja["select_options"] == ["選択してください", "エー", "ビー"]
    assert ja["select_options_with_retired"] == [None, "a", "b", "old"]


def test_datetimes_are_typed_in_the_site_zone_and_sent_with_their_offset(
    ja: dict[str, Any],
) -> None:
    assert ja["tokyo"] == ["2026-04-01T09:30:00+09:00", "2026-04-01T09:30"]
    assert ja["new_york"] == ["2026-07-01T09:00:00-04:00", "2026-01-15T09:00:00-05:00"]
    assert ja["bad_wall"] is None
    assert ja["api"]["datetime"] == "2026-04-01T09:30:00+09:00"
    assert ja["form_values"]["datetime"] == "2026-04-01T09:30"


def test_values_travel_exactly(ja: dict[str, Any]) -> None:
    assert ja["api"] == {
        "integer": "12345",  # full width folded, separators dropped, as text (no float)
        "decimal": "1234.50",
        "datetime": "2026-04-01T09:30:00+09:00",
        "reference": 12,
        "empty_text": None,
        "empty_multi": None,
        "multi": ["a", "b"],
        "boolean": False,
    }
    assert ja["form_values"]["decimal"] == "12.50"
    assert ja["form_values"]["multi_null"] == [] and ja["form_values"]["select_null"] is None


def test_display_speaks_the_catalog(ja: dict[str, Any]) -> None:
    assert ja["shown"] == {
        "select": "エー",
        "multi": "エー、ビー",
        "retired": "旧",
        "boolean": "はい",
        "decimal": "1,234,567.50",
        "integer": "1,234,567",
        "date": "2026/04/01",
        "datetime": "2026/04/01 9:30",
        "reference": "#7",
        "empty": "—",
        "script": "<script>alert(1)</script>",  # text; html`` shows it as text
    }
    assert ja["label"] == "山田 · y@example.jp" and ja["label_empty"] == "#3"
    en = run("en")
    assert en["shown"]["multi"] == "A, B" and en["shown"]["boolean"] == "Yes"
    assert en["controls"]["text"]["label"] == "Label text"


def test_file_fields_and_the_newer_decimal_places(ja: dict[str, Any]) -> None:
    assert ja["file"] == {
        "empty": {"current": None, "pick": None, "remove": False},
        "shown": "見積書.pdf (12.1 KB)",
        "accept": ".pdf,application/pdf,.xlsx,.xlsm,.xls",
        "places_new_api": 0,
    }


def test_number_checks_in_the_browser(ja: dict[str, Any]) -> None:
    assert ja["submit"] is None
    assert ja["errors"] == [
        "整数で入力してください。",
        "小数点以下は 2桁までです。",
        "入力してください。",
    ]
    assert ja["second"] == "ok"
    assert ja["values"] == {"k_integer": "１２３", "k_decimal": "-0.5", "k_text": "山田"}
