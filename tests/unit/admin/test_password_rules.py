"""js/password-rules.js words the live password policy naturally in both languages.

Runs the ES module in Node (skipped on a laptop without it; a failure under CI=true) with the real catalogs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.services import unavailable

STATIC = Path(__file__).resolve().parents[3] / "api" / "admin" / "static"
NODE = shutil.which("node")

# Loads a catalog into i18n.js (fetch and document stubbed), then prints what each case gives.
SCRIPT = """
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
globalThis.fetch = async (url) => ({ ok: true, json: async () => JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) });
const static_ = process.argv[1];
const { initI18n } = await import(`${static_}/js/i18n.js`);
const { passwordRulesText, sentences } = await import(`${static_}/js/password-rules.js`);
const cases = JSON.parse(process.argv[2]);
const out = {};
for (const lang of ['ja', 'en']) {
  await initI18n(lang);
  out[lang] = cases.map(([policy, opts, note]) => sentences(passwordRulesText(policy, opts), note));
}
console.log(JSON.stringify(out));
"""

POLICY = {
    "min_length": 12,
    "require_lowercase": True,
    "require_uppercase": False,
    "require_digit": True,
    "require_symbol": False,
}
CASES = [
    (POLICY, {}, None),
    ({**POLICY, "require_lowercase": False, "require_digit": False}, {}, None),
    ({**POLICY, "require_uppercase": True, "require_symbol": True}, {"who": "staff"}, None),
    ({**POLICY, "min_length": 8, "require_digit": False}, {}, "Note."),
    (None, {}, None),
]


@pytest.fixture(scope="module")
def worded() -> dict[str, list[str]]:
    if NODE is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, STATIC.as_uri(), json.dumps(CASES)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_japanese(worded: dict[str, list[str]]) -> None:
    assert worded["ja"] == [
        "12文字以上で、英小文字・数字を含めてください。"
        "よく使われるパスワードや、メールアドレス・名前と同じものは使えません。",
        "12文字以上にしてください。よく使われるパスワードや、メールアドレス・名前と同じものは使えません。",
        "12文字以上で、英小文字・英大文字・数字・記号を含めてください。"
        "よく使われるパスワードや、そのスタッフのメールアドレス・名前と同じものは使えません。",
        "8文字以上で、英小文字を含めてください。"
        "よく使われるパスワードや、メールアドレス・名前と同じものは使えません。Note.",
        "よく使われるパスワードや、メールアドレス・名前と同じものは使えません。",
    ]


def test_english(worded: dict[str, list[str]]) -> None:
    assert worded["en"] == [
        "At least 12 characters, including a lowercase letter and a digit. "
        "Common passwords and your email address or name are not allowed.",
        "At least 12 characters. Common passwords and your email address or name are not allowed.",
        "At least 12 characters, including a lowercase letter, an uppercase letter, a digit and a "
        "symbol. Common passwords and the staff member's email address or name are not allowed.",
        "At least 8 characters, including a lowercase letter. "
        "Common passwords and your email address or name are not allowed. Note.",
        "Common passwords and your email address or name are not allowed.",
    ]
