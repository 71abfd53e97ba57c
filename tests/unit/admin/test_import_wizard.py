"""The import wizard's model (customers/import.js), run in Node: the mapping's own checks land
at their column or at the key before anything is sent, the API's 422 errors land at theirs
with field labels, a refused file is explained with the server's suggestion in both languages,
row reasons come in the staff's language, and the rows/s and ETA follow the job's progress."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

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
const { initI18n, setLanguage } = await import(`${base}/js/i18n.js`);
const { ApiError } = await import(`${base}/js/api.js`);
const m = await import(`${base}/js/customers/import.js`);
await initI18n('ja');
const out = {};
const design = { key: 'customers', label: { ja: '顧客', en: 'Customers' }, fields: [
  { key: 'name', type: 'text', label: { ja: '氏名', en: 'Name' } },
  { key: 'email', type: 'email', label: { ja: 'メールアドレス', en: 'Email' } },
  { key: 'photo', type: 'file', label: { ja: '写真', en: 'Photo' } },
  { key: 'old', type: 'text', label: { ja: '旧', en: 'Old' }, retired: true },
] };
const batch = { id: 3, state: 'uploaded', header: ['氏名', 'メール', '備考'], sample: [['髙橋', 'a@example.jp', '①']],
  mapping: { '0': 'name', '1': 'email', '2': null }, mapping_source: 'auto', mode: 'upsert', key: ['email'], rows_estimate: 1000 };
const ctx = { setQuery: () => {}, signal: new AbortController().signal };
const w = m.createImportWizard(ctx, { design, batch });
out.fields = w.fields.map((f) => f.key);
out.auto = [...w.auto.value].sort();
out.key = w.key.value;
w.setField('2', 'name');            // mapped twice
w.toggleKey('email', false);        // no key for an upsert
out.saved_with_errors = await w.saveMapping();
out.errors = w.errors.value;
w.setField('2', null);
w.toggleKey('name', true);
w.setField('0', null);              // the key field no longer mapped
out.saved_not_mapped = await w.saveMapping();
out.errors_not_mapped = w.errors.value;
out.auto_after = [...w.auto.value].sort();
w.setMode('insert');
out.errors_insert = w.errors.value;

const refused = new ApiError(422, { code: 'file_refused', errors: [{ field: 'file', code: 'file_not_utf8', message: 'x', params: { line: 3, offset: 120, suggest: 'cp932' } }] });
out.refused_ja = m.refusedText(refused);
const tooBig = new ApiError(413, { code: 'import_too_large', errors: [{ field: 'file', code: 'import_too_large', message: 'x', params: { limit: 1024 } }] });
out.too_big_ja = m.refusedText(tooBig);
// A file over the limit the API told is refused before anything is sent.
const small = m.createImportWizard(ctx, { design, settings: { max_bytes: 2048 } });
await small.upload({ name: 'big.csv', size: 3 * 1024 * 1024 }, 'auto');
out.before_sending = [small.uploadError.value, small.busy.value, small.step.value];
out.fits = small.tooLarge({ size: 2048 });
// A batch kept after a refusal of its encoding: the upload step, the refusal, the suggestion.
const kept = { id: 9, state: 'refused', filename: 'a.csv', header: [], refusal: { field: 'file', code: 'file_not_utf8', message: 'x', params: { line: 3, offset: 120, suggest: 'cp932', batch_id: 9 } } };
const again = m.createImportWizard(ctx, { design, batch: kept });
out.kept = [again.step.value, again.refused.value, again.uploadError.value];
out.kept_id = m.refusedBatchId(new ApiError(422, { code: 'file_refused', errors: [kept.refusal] }));
const row = { row: 7, column: 2, field: 'email', code: 'import_duplicate_key', params: { first: 2 }, message: 'repeats the key of row 2; only the first is imported', message_ja: '2 行目と同じキーです。最初の行だけを取り込みます' };
out.row_ja = m.rowErrorText(row);
out.column_ja = m.columnText(batch.header, 2);
out.undo_reason_ja = m.undoReason('changed_since');
await setLanguage('en', { remember: false });
out.refused_en = m.refusedText(refused);
out.row_en = m.rowErrorText(row);
out.row_en_code_only = m.rowErrorText({ code: 'import_duplicate_key', params: { first: 4 } });
out.column_en = m.columnText(batch.header, 9);

const rate = m.createRate();
rate.sample(0, 1000, 0);
out.rate = rate.sample(250, 1000, 5000);
out.rows = m.progressRows({ progress: { total: 4, finished: 1 } }, batch);
out.rows_none = m.progressRows({ progress: { total: 0, finished: 0 } }, batch);
out.durations = [m.durationText(45), m.durationText(200), m.durationText(7300)];
console.log(JSON.stringify(out));
"""


def run() -> dict[str, Any]:
    if NODE is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, STATIC.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_import_wizards_model() -> None:
    out = run()
    assert out["fields"] == ["name", "email"]  # no file field, no retired one
    assert out["auto"] == ["0", "1"] and out["key"] == ["email"]

    assert out["saved_with_errors"] is False
    assert (
        out["errors"]["mapping.2"]
        == "「氏名」は別の列にも対応付けられています。どちらか一方にしてください。"
    )
    assert "mapping.0" not in out["errors"]  # the first column keeps the field
    assert out["errors"]["key"] == "照合キーにする項目を選んでください。"

    assert out["saved_not_mapped"] is False
    assert out["errors_not_mapped"] == {
        "key": "キーの項目（氏名）がどの列にも対応付けられていません。"
    }
    assert out["auto_after"] == ["1"]  # a column changed by hand is no longer "auto"
    assert out["errors_insert"] == {}  # insert needs no key

    assert out["refused_ja"] == (
        "ファイルが UTF-8 ではありません：3 行目（120 バイト目）を読めません。"
        "CP932（Shift_JIS）を選んでもう一度読み込んでください。"
    )
    assert out["refused_en"] == (
        "The file is not UTF-8: line 3 (byte 120) does not decode. "
        "Choose CP932 (Shift_JIS) and read the file again."
    )
    assert "1,024 MB" in out["too_big_ja"]
    assert out["before_sending"] == [
        "ファイル（3 MB）が上限の 2 KB を超えているため送信しません。分割して取り込んでください。",
        False,
        "upload",
    ]
    assert out["fits"] is None
    assert out["kept"] == [
        "upload",
        {"id": 9, "filename": "a.csv", "suggest": "cp932"},
        "ファイルが UTF-8 ではありません：3 行目（120 バイト目）を読めません。"
        "CP932（Shift_JIS）を選んでもう一度読み込んでください。",
    ]
    assert out["kept_id"] == 9
    assert out["row_ja"] == "2 行目と同じキーです。最初の行だけを取り込みます"
    assert out["row_en"] == "Repeats the key of row 2; only the first is imported"
    assert out["row_en_code_only"] == "Repeats the key of row 4; only the first is imported."
    assert out["column_ja"] == "メール（2 列目）" and out["column_en"] == "column 9"
    assert out["undo_reason_ja"] == "取り込み後に変更されています"

    assert out["rate"] == {"done": 250, "total": 1000, "perSecond": 50, "left": 15}
    assert out["rows"] == {"done": 250, "total": 1000}  # units (chunks) scaled to the rows
    assert out["rows_none"] == {"done": 0, "total": 1000}
    assert out["durations"] == ["45 s", "3 min 20 s", "2 h 1 min"]
