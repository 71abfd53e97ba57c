"""The filter builder's model (ui/filter-builder.js) and the record display helpers
(customers/display.js), run in Node: the operators it offers are exactly the API's, a nested
tree survives a round trip, values reach the API with their types, incomplete conditions are
caught before sending, and the API's errors land on the condition they point at."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from api.customers.query import OPERATORS
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
const types = JSON.parse(process.argv[2]);
const { initI18n } = await import(`${base}/js/i18n.js`);
const { ApiError } = await import(`${base}/js/api.js`);
const { createFilterBuilder, operatorsFor, countConditions } = await import(`${base}/js/ui/filter-builder.js`);
const { decimalText, dateText } = await import(`${base}/js/customers/display.js`);
await initI18n('ja');
const out = {};
out.operators = Object.fromEntries(types.map((t) => [t, operatorsFor(t)]));
const fields = [
  { key: 'name', label: '氏名', type: 'text' },
  { key: 'employees', label: '従業員数', type: 'integer' },
  { key: 'amount', label: '金額', type: 'decimal' },
  { key: 'newsletter', label: 'メルマガ', type: 'boolean' },
  { key: 'prefecture', label: '都道府県', type: 'select', options: [{ value: '東京都', label: '東京都' }] },
  { key: 'owner_id', label: '担当者', type: 'owner', options: [{ value: 7, label: '鈴木' }] },
  { key: 'company.name', label: '会社 › 会社名', type: 'text' },
];
const tree = { and: [
  { field: 'prefecture', op: 'in', value: ['東京都'] },
  { or: [
    { field: 'name', op: 'contains', value: '山田' },
    { field: 'company.name', op: 'starts_with', value: '絆' },
    { and: [{ field: 'employees', op: 'between', value: [10, 99] }, { field: 'amount', op: 'gte', value: '1000.50' }] },
  ] },
  { field: 'newsletter', op: 'eq', value: false },
  { field: 'owner_id', op: 'eq', value: 7 },
  { field: 'name', op: 'is_empty' },
] };
const b = createFilterBuilder({ fields, where: tree });
out.round_trip = b.toWhere();
out.count = b.count.value;
out.count_tree = countConditions(tree);
// typed values: an "in" list typed with commas, a number typed as text
const root = b.root.value;
const id = b.addCondition(root.id);
b.setField(id, 'employees');
b.setOp(id, 'in');
b.setValue(id, '10, 20、30');
out.typed = b.toWhere().and.at(-1);
// an incomplete condition is caught, and nothing is sent
const empty = b.addCondition(root.id);
b.setField(empty, 'name');
out.incomplete = b.toWhere() === undefined;
out.incomplete_errors = Object.values(b.errors.value);
b.remove(empty);
// the API's error at where.and[1].or[2].and[0].value[1] lands on the employees condition
b.toWhere();
const matched = b.setErrors(new ApiError(422, { errors: [
  { field: 'where.and[1].or[2].and[0].value[1]', code: 'type', message: 'must be a whole number' },
] }));
const nested = b.root.value.items[1].items[2].items[0];
out.error_matched = matched;
out.error_at_nested = b.errors.value[nested.id] || null;
out.errors_elsewhere = Object.keys(b.errors.value).filter((k) => k !== nested.id);
// an empty builder sends no filter; a single condition is wrapped in a group
b.clear();
out.cleared = b.toWhere();
b.setWhere({ field: 'name', op: 'eq', value: 'x' });
out.single = b.toWhere();
out.decimal = decimalText('1234567.50');
out.date = dateText('2026-12-10');
console.log(JSON.stringify(out));
"""


def run() -> dict[str, Any]:
    if NODE is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, STATIC.as_uri(), json.dumps(list(OPERATORS))],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_filter_builder_and_display_helpers() -> None:
    out = run()
    # Every operator the builder offers is one the API takes for the type, and vice versa.
    assert {t: set(ops) for t, ops in out["operators"].items()} == {
        t: set(ops) for t, ops in OPERATORS.items()
    }
    assert out["round_trip"] == {
        "and": [
            {"field": "prefecture", "op": "in", "value": ["東京都"]},
            {
                "or": [
                    {"field": "name", "op": "contains", "value": "山田"},
                    {"field": "company.name", "op": "starts_with", "value": "絆"},
                    {
                        "and": [
                            {"field": "employees", "op": "between", "value": [10, 99]},
                            {"field": "amount", "op": "gte", "value": "1000.50"},  # exact
                        ]
                    },
                ]
            },
            {"field": "newsletter", "op": "eq", "value": False},
            {"field": "owner_id", "op": "eq", "value": 7},
            {"field": "name", "op": "is_empty"},
        ]
    }
    assert out["count"] == out["count_tree"] == 8
    assert out["typed"] == {"field": "employees", "op": "in", "value": [10, 20, 30]}
    assert out["incomplete"] is True
    assert out["incomplete_errors"] == ["値を入力してください。"]
    assert out["error_matched"] is True
    assert out["error_at_nested"] == "値の形式が正しくありません。"
    assert out["errors_elsewhere"] == []
    assert out["cleared"] is None
    assert out["single"] == {"and": [{"field": "name", "op": "eq", "value": "x"}]}
    assert out["decimal"] == "1,234,567.50"
    assert out["date"] == "2026/12/10"
