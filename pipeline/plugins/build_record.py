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
    # id(content) -> (content, its save_as): the object is kept so that its id is not reused.
    saved_as: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    files: list[str] | None = None  # the output's files, listed once at `finalized`
    writing: Any = None  # the page or article Pelican is writing now


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
    # String operations, not resolve(): this runs for every file written.
    rel = relative_to(path, str(_record.output_path))
    entry: dict[str, Any] = {"path": rel, "url": _url_of(rel), "kind": "template"}
    for kind in ("article", "page"):
        content = context.get(kind)
        if content is None:
            continue
        if content is _record.writing and id(content) not in _record.saved_as:
            # Pelican writes each page and article right after announcing it, under the name
            # `content.save_as` (its `output_file`): no need to format the URL settings again.
            _record.saved_as[id(content)] = (content, context.get("output_file"))
        if save_as_of(content) == rel:
            entry.update(_describe(content, kind, _record.content_path))
            break
    _record.pages[rel] = entry


def note_writing(generator: Any, content: Any) -> None:
    """Pelican is about to write a page or article (`article_generator_write_article`,
    `page_generator_write_page`)."""
    if _record is not None:
        _record.writing = content


def relative_to(path: str, folder: str) -> str:
    """`path` relative to the absolute, symlink-free `folder`, with "/" (like os.path.relpath
    of the absolute path, but a string cut when it lies inside: no file system calls)."""
    path = os.path.abspath(path)
    inside = folder.rstrip(os.sep) + os.sep
    if path.startswith(inside) and len(folder) > 1:
        rel = path[len(inside) :]
    else:
        rel = os.path.relpath(path, folder)
    return rel.replace(os.sep, "/")


def source_rel(source_path: str, content_path: Path) -> str:
    """A source's path below content/ ("pages/about.md"); its absolute path when outside."""
    rel = relative_to(source_path, str(content_path))
    return os.path.abspath(source_path).replace(os.sep, "/") if rel.startswith("../") else rel


def save_as_of(content: Any) -> Any:
    """`content.save_as`, once per object and build (Pelican formats the URL settings on each
    access); shared by the plugins that need it."""
    if _record is None:
        return getattr(content, "save_as", None)
    known = _record.saved_as.get(id(content))
    if known is None:
        known = _record.saved_as[id(content)] = (content, getattr(content, "save_as", None))
    return known[1]


def output_files(output_path: Path) -> list[str]:
    """Every file of the output, relative, sorted; listed once (at `finalized`, when all is
    written) for the build record and the access manifest."""
    if _record is not None and _record.output_path == output_path and _record.files is not None:
        return _record.files
    files: list[str] = []
    _list_files(str(output_path), "", files)
    files.sort()
    if _record is not None and _record.output_path == output_path:
        _record.files = files
    return files


def _list_files(folder: str, prefix: str, out: list[str]) -> None:
    """What os.walk lists as files (symbolic links to folders are neither listed nor
    followed; unreadable folders are skipped), without its per-folder lstat."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            out.append(prefix + entry.name)
        elif not entry.is_symlink():
            _list_files(entry.path, f"{prefix}{entry.name}/", out)


def write_record(pelican: Any) -> None:
    """Write `build.json` once everything is written (`finalized`)."""
    if _record is None:
        return
    files = output_files(_record.output_path)
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
    signals.article_generator_write_article.connect(note_writing)
    signals.page_generator_write_page.connect(note_writing)
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
    described: dict[str, Any] = {
        "kind": kind,
        "source": source_rel(content.source_path, content_path),
        "title": str(getattr(content, "title", "")),
        "lang": getattr(content, "lang", None),
    }
    date = getattr(content, "date", None)
    if date is not None and kind == "article":
        described["date"] = date.isoformat()
    return described
