"""The vendored component library (static/vendor/) is what MANIFEST.json says, and loads as is.

The files come from the npm registry through `python -m api.admin.update_vendor` (see
static/vendor/README.md); these checks need no network.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.admin.update_vendor import PACKAGES, rewrite
from tests.fixtures.services import unavailable

STATIC = Path(__file__).resolve().parents[3] / "api" / "admin" / "static"
VENDOR = STATIC / "vendor"
JS = STATIC / "js"
IMPORT = re.compile(r"""\b(?:from|import)\s*\(?\s*["']([^"']+)["']""")


def manifest() -> dict[str, object]:
    data: dict[str, object] = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    return data


def test_every_vendored_file_matches_the_manifest_and_the_pins() -> None:
    packages = manifest()["packages"]
    assert isinstance(packages, list)
    assert [(p["name"], p["version"]) for p in packages] == [(p.name, p.version) for p in PACKAGES]
    listed = set()
    for pkg in packages:
        assert str(pkg["integrity"]).startswith("sha512-")
        assert "LICENSE" in pkg["files"], f"{pkg['name']}: no licence file"
        for name, digest in pkg["files"].items():
            path = VENDOR / pkg["folder"] / name
            listed.add(path)
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} was edited"
            if name.endswith(".js"):
                first = path.read_text(encoding="utf-8").splitlines()[0]
                assert f"{pkg['name']} {pkg['version']}" in first
    on_disk = {p for p in VENDOR.rglob("*") if p.is_file()} - {
        VENDOR / "MANIFEST.json",
        VENDOR / "README.md",
    }
    assert on_disk == listed, f"files not in MANIFEST.json: {sorted(map(str, on_disk - listed))}"


def test_no_bare_import_is_left_and_every_import_resolves() -> None:
    for path in VENDOR.rglob("*.js"):
        for spec in IMPORT.findall(path.read_text(encoding="utf-8")):
            assert spec.startswith(("./", "../")), f"{path.name}: bare import {spec!r}"
            assert (path.parent / spec).resolve().is_file(), f"{path.name}: {spec} does not exist"
        assert "sourceMappingURL" not in path.read_text(encoding="utf-8")


def test_the_app_imports_the_library_only_through_lib_js() -> None:
    """One place pins the paths (and installs the safety checks of js/lib.js)."""
    offenders = [
        str(p.relative_to(JS))
        for p in JS.rglob("*.js")
        if p.name != "lib.js" and "vendor/" in p.read_text(encoding="utf-8")
    ]
    assert not offenders, f"import the library from js/lib.js, not vendor/: {offenders}"


def test_rewrite_makes_specifiers_relative_and_refuses_unknown_ones() -> None:
    code = 'import{a}from"preact";import{b as c}from "preact/hooks";export{x}from"@preact/signals-core";\n//# sourceMappingURL=x.map'
    out = rewrite(code, "signals/signals.js")
    assert 'from"../preact/preact.js"' in out
    assert 'from "../preact/hooks.js"' in out
    assert 'from"../signals-core/signals-core.js"' in out
    assert "sourceMappingURL" not in out
    assert 'from"./preact.js"' in rewrite('import{a}from"preact";', "preact/hooks.js")
    with pytest.raises(SystemExit):
        rewrite('import x from "left-pad";', "htm/htm.js")


def test_the_modules_load_together_in_node() -> None:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js", "`node` is not on PATH (apt-get install nodejs)")
    script = """
    const base = process.argv[1];
    const p = await import(`${base}/preact/preact.js`);
    const s = await import(`${base}/signals/signals.js`);
    const core = await import(`${base}/signals-core/signals-core.js`);
    const htm = (await import(`${base}/htm/htm.js`)).default;
    const html = htm.bind(p.h);
    const vnode = html`<p class=${'x'}>${'<b>not html</b>'}</p>`;
    const n = s.signal(1);
    const double = core.computed(() => n.value * 2);
    n.value = 4;
    console.log(JSON.stringify([vnode.type, vnode.props.class, vnode.props.children, double.value, s.Signal === core.Signal]));
    """
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, VENDOR.as_uri()],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == ["p", "x", "<b>not html</b>", 8, True]
