"""The admin's fetch wrapper (js/api.js), run in Node: a response aborted while its body is read
(the staff member left the screen) is an abort, never an empty answer the screen would read."""

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
const base = process.argv[1];
const headers = { get: () => 'application/json' };
let body = null;
globalThis.fetch = async () => ({ ok: true, status: 200, headers, json: body });
const { api, isAbort } = await import(`${base}/js/api.js`);
const out = {};
body = async () => { throw new DOMException('The operation was aborted.', 'AbortError'); };
try { out.aborted = await api.get('/api/jobs'); } catch (e) { out.aborted = { isAbort: isAbort(e) }; }
body = async () => { throw new SyntaxError('Unexpected end of JSON input'); };
out.not_json = await api.get('/api/jobs');
body = async () => ({ items: [], total: 0 });
out.ok = await api.get('/api/jobs');
console.log(JSON.stringify(out));
"""


def run() -> dict[str, Any]:
    if NODE is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, STATIC.as_uri()],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_an_abort_while_reading_the_body_is_an_abort() -> None:
    out = run()
    assert out["aborted"] == {"isAbort": True}
    assert out["not_json"] is None  # a broken body stays an empty answer
    assert out["ok"] == {"items": [], "total": 0}
