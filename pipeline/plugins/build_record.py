"""Record what a build wrote into `<meta>/build.json`.

The record lists every output file and, for each HTML page, its URL, kind and source file. It
is what `pipeline.build` reports back, and the base the access manifest (a later issue) grows
from: the manifest needs exactly this map of output URL -> source file.

Pelican signals are process-global and this module keeps the record of the running build in a
module variable: that is safe only because `pipeline.build` runs each build in a fresh process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pelican import signals

from pipeline.jsonfmt import dumps

RECORD_NAME = "build.json"
RECORD_VERSION = 1


@dataclass
class _BuildRecord:
    output_path: Path
    content_path: Path
    meta_path: Path
    settings: dict[str, Any]
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved_as: dict[int, Any] = field(default_factory=dict)


_record: _BuildRecord | None = None


def start_record(pelican: Any) -> None:
    """Begin a fresh record when Pelican starts (`initialized`)."""
    global _record  # one build per process, see the module docstring
    settings = pelican.settings
    _record = _BuildRecord(
        output_path=Path(settings["OUTPUT_PATH"]).resolve(),
        content_path=Path(settings["PATH"]).resolve(),
        meta_path=Path(settings["KIZUNA_META_PATH"]),
        settings=settings,
    )


def record_written(path: str, context: dict[str, Any]) -> None:
    """Note one HTML file Pelican wrote (`content_written`), with its source if it has one."""
    if _record is None:
        return
    # relpath, not resolve(): this runs for every file written (no file system calls).
    rel = os.path.relpath(os.path.abspath(path), _record.output_path).replace(os.sep, "/")
    entry: dict[str, Any] = {"path": rel, "url": _url_of(rel), "kind": "template"}
    for kind in ("article", "page"):
        content = context.get(kind)
        if content is not None and _saved_as(content) == rel:
            entry.update(_describe(content, kind, _record.content_path))
            break
    _record.pages[rel] = entry


def _saved_as(content: Any) -> Any:
    """`content.save_as`, once per object (Pelican formats the URL settings on each access)."""
    assert _record is not None
    key = id(content)
    if key not in _record.saved_as:
        _record.saved_as[key] = getattr(content, "save_as", None)
    return _record.saved_as[key]


def write_record(pelican: Any) -> None:
    """Write `build.json` once everything is written (`finalized`)."""
    if _record is None:
        return
    files = sorted(
        Path(root, name).relative_to(_record.output_path).as_posix()
        for root, _dirs, names in os.walk(_record.output_path)
        for name in names
    )
    settings = _record.settings
    document = {
        "version": RECORD_VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "site_url": settings.get("KIZUNA_SITE_URL", ""),
        "default_lang": settings.get("DEFAULT_LANG"),
        # Recorded, not enforced: the gate and the rule parser arrive with the access issue.
        "access_defaults": settings.get("KIZUNA_ACCESS_DEFAULTS", {}),
        "pages": [_record.pages[key] for key in sorted(_record.pages)],
        "files": files,
    }
    _record.meta_path.mkdir(parents=True, exist_ok=True)
    target = _record.meta_path / RECORD_NAME
    target.write_text(dumps(document), encoding="utf-8")


def register() -> None:
    signals.initialized.connect(start_record)
    signals.content_written.connect(record_written)
    signals.finalized.connect(write_record)


def _url_of(rel: str) -> str:
    """Site path of an output file: "about/index.html" -> "/about/"."""
    if rel == "index.html":
        return "/"
    if rel.endswith("/index.html"):
        return "/" + rel[: -len("index.html")]
    return "/" + rel


def _describe(content: Any, kind: str, content_path: Path) -> dict[str, Any]:
    source = os.path.abspath(content.source_path)
    source_rel = Path(os.path.relpath(source, content_path)).as_posix()
    if source_rel.startswith("../"):
        source_rel = Path(source).as_posix()
    described: dict[str, Any] = {
        "kind": kind,
        "source": source_rel,
        "title": str(getattr(content, "title", "")),
        "lang": getattr(content, "lang", None),
    }
    date = getattr(content, "date", None)
    if date is not None and kind == "article":
        described["date"] = date.isoformat()
    return described
