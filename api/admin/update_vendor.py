"""Vendor the admin panel's component library (Preact, htm, @preact/signals) from the npm registry.

    python -m api.admin.update_vendor            # re-create static/vendor/ from the pins below
    python -m api.admin.update_vendor --check    # exit 1 if static/vendor/ differs from the pins

To update: change a version in PACKAGES (look at `npm view preact version` …), run the script,
read the packages' changelogs, run the admin tests (tests/unit/admin, tests/e2e), commit.

For each package `npm pack NAME@VERSION` downloads the tarball (npm checks the registry's
integrity hash); the ES-module build is extracted, the bare specifiers between the packages
(`preact`, `preact/hooks`, `@preact/signals-core`) are rewritten to relative paths (the admin's
CSP forbids inline import maps), the source-map comment is dropped, and a header names the
package, version and licence. The licence files are copied beside the code and MANIFEST.json
records the tarballs' integrity and each file's SHA-256. Nothing is loaded from a CDN at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    folder: str
    files: dict[str, str]  # path in the tarball (under package/) → file name in vendor/<folder>/
    license: str = "LICENSE"


PACKAGES = [
    Package(
        "preact",
        "11.2.0",
        "preact",
        {"dist/preact.mjs": "preact.js", "hooks/dist/hooks.mjs": "hooks.js"},
    ),
    Package("htm", "3.1.1", "htm", {"dist/htm.mjs": "htm.js"}),
    Package(
        "@preact/signals-core",
        "1.14.5",
        "signals-core",
        {"dist/signals-core.mjs": "signals-core.js"},
    ),
    Package("@preact/signals", "2.11.4", "signals", {"dist/signals.mjs": "signals.js"}),
]

# Bare specifier → path from vendor/ (rewritten relative to the importing file).
SPECIFIERS = {
    "preact": "preact/preact.js",
    "preact/hooks": "preact/hooks.js",
    "@preact/signals-core": "signals-core/signals-core.js",
}
IMPORT = re.compile(
    r"""(?P<lead>\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)(?P<q>["'])(?P<spec>[^"'\s]+)(?P=q)"""
)
SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S+\s*$")


def rewrite(code: str, target: str) -> str:
    """Rewrites the bare specifiers of `code` (the file vendor/<target>) to relative paths."""
    depth = target.count("/")

    def replace(m: re.Match[str]) -> str:
        spec = m.group("spec")
        if spec.startswith(("./", "../")):
            return m.group(0)
        if spec not in SPECIFIERS:
            raise SystemExit(f"{target}: unknown bare import {spec!r}: add it to SPECIFIERS")
        path = SPECIFIERS[spec]
        here = target.rsplit("/", 1)[0]
        relative = (
            "./" + path.split("/", 1)[1] if path.startswith(here + "/") else "../" * depth + path
        )
        return f"{m.group('lead')}{m.group('q')}{relative}{m.group('q')}"

    return IMPORT.sub(replace, SOURCE_MAP.sub("", code)).rstrip("\n") + "\n"


def npm(*args: str, cwd: Path) -> str:
    executable = shutil.which("npm")
    if executable is None:
        raise SystemExit("npm is needed (it downloads and checks the tarballs)")
    done = subprocess.run(  # noqa: S603 (fixed arguments: npm pack of the pinned packages)
        [executable, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout


def build(into: Path) -> None:
    """Writes the vendored files and MANIFEST.json into `into`."""
    manifest: dict[str, object] = {
        "generated_by": "python -m api.admin.update_vendor",
        "packages": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for pkg in PACKAGES:
            spec = f"{pkg.name}@{pkg.version}"
            packed = json.loads(
                npm("pack", spec, "--json", "--pack-destination", str(work), cwd=work)
            )[0]
            tarball = work / packed["filename"]
            folder = into / pkg.folder
            folder.mkdir(parents=True, exist_ok=True)
            files: dict[str, str] = {}
            with tarfile.open(tarball, "r:gz") as tar:
                meta = json.load(_member(tar, "package/package.json"))
                if meta.get("version") != pkg.version:
                    raise SystemExit(f"{spec}: the tarball says {meta.get('version')}")
                licence = meta.get("license", "?")
                for source, name in pkg.files.items():
                    target = f"{pkg.folder}/{name}"
                    code = _member(tar, f"package/{source}").read().decode("utf-8")
                    header = (
                        f"/* {pkg.name} {pkg.version} ({licence}): {source}, "
                        "vendored by api/admin/update_vendor.py. Do not edit. */\n"
                    )
                    (into / target).write_text(header + rewrite(code, target), encoding="utf-8")
                (folder / "LICENSE").write_bytes(_member(tar, f"package/{pkg.license}").read())
            for path in sorted(folder.iterdir()):
                files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
            packages = manifest["packages"]
            assert isinstance(packages, list)
            packages.append(
                {
                    "name": pkg.name,
                    "version": pkg.version,
                    "license": licence,
                    "integrity": packed.get("integrity"),
                    "folder": pkg.folder,
                    "files": files,
                }
            )
    (into / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _member(tar: tarfile.TarFile, name: str) -> io.BufferedReader:
    extracted = tar.extractfile(name)
    if extracted is None:
        raise SystemExit(f"{name} is not a file in the tarball")
    return extracted  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with static/vendor/ instead of writing"
    )
    args = parser.parse_args(argv)
    if shutil.which("npm") is None:
        print("npm is needed (it downloads and checks the tarballs)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "vendor"
        fresh.mkdir()
        build(fresh)
        ours = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        if args.check:
            theirs = {
                p.relative_to(VENDOR)
                for p in VENDOR.rglob("*")
                if p.is_file() and p.name != "README.md"
            }
            differ = sorted(str(p) for p in ours | theirs if p not in ours or p not in theirs
                            or (fresh / p).read_bytes() != (VENDOR / p).read_bytes())  # fmt: skip
            if differ:
                print("static/vendor/ differs from the pins: " + ", ".join(differ), file=sys.stderr)
                return 1
            print("static/vendor/ matches the pins")
            return 0
        for old in VENDOR.iterdir() if VENDOR.exists() else []:
            if old.is_dir():
                shutil.rmtree(old)
            elif old.name != "README.md":
                old.unlink()
        VENDOR.mkdir(parents=True, exist_ok=True)
        for rel in sorted(ours):
            (VENDOR / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / rel, VENDOR / rel)
            print(f"wrote static/vendor/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
