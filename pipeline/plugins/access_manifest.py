"""Write `<meta>/access.json`: every file of the output with the rule that guards it.

The format is CONTRACT17 section 1 (pipeline/README.md shows it): `entries` keyed by URL path
(a page by its URL `/about/`, any other file by `/` + its path), each with `Rule.as_dict()`,
its kind (page | article | index | file | asset | special) and, for pages and articles, source,
title and language; `folders` holds the folder defaults of `site.toml` in URL space.

Rules come from `pipeline.access`: `Access:` metadata over folder defaults; attachments take
their folder's rule, and the rule of a gated page whose URL folder they sit in. A rule that does
not parse is logged as an ERROR naming file, line and column (which fails the build). With the
member table's fields and groups (`KIZUNA_MEMBER_FIELDS` / `KIZUNA_GROUPS`, given by
`build_site(member_fields=…, groups=…)`), unknown names are logged as warnings.

Other plugins (listings, content index, nginx map, leak check) ask this module for the rule of
a content object (`access_of`) and for the finished manifest (`current_manifest`). Module state
holds the running build: safe because `pipeline.build` runs each build in a fresh process.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pelican import signals

from api.access.rules import PUBLIC, Rule, check, parse
from pipeline.access import (
    AccessError,
    ContentAccess,
    FolderRules,
    both,
    content_access,
    site_path,
    union,
)
from pipeline.config import MEMBER_PAGE_DEFAULTS
from pipeline.jsonfmt import dumps
from pipeline.plugins.build_record import output_files, save_as_of, source_rel

logger = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]+>")

MANIFEST_NAME = "access.json"
MANIFEST_VERSION = 1
THEME_PAGES = {"login": "login/index.html", "forbidden": "forbidden/index.html"}
# The member site's pages (issue 18), written from the theme template of the same name; public
# (their data comes from the API, for the member who is logged in). Also in "pages". These are
# the defaults: `[pages]` of site.toml moves them (settings KIZUNA_MEMBER_PAGES, member_pages()).
MEMBER_PAGES = {k: v.lstrip("/") + "index.html" for k, v in MEMBER_PAGE_DEFAULTS.items()}
NOT_FOUND = "404.html"
# Languages other than the default get the same pages under /<lang>/ (see special_pages).
SPECIAL_LANGS = ("en",)


@dataclass
class _State:
    output_path: Path
    content_path: Path
    meta_path: Path
    settings: dict[str, Any]
    folders: FolderRules | None
    member_fields: Any = None
    groups: list[str] | None = None
    contents: dict[int, tuple[Any, str, ContentAccess]] = field(default_factory=dict)
    statics: list[Any] = field(default_factory=list)
    warned: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    manifest: dict[str, Any] | None = None
    written: list[tuple[Any, str, ContentAccess, str]] | None = None


_state: _State | None = None


def start(pelican: Any) -> None:
    """Compile the folder defaults when Pelican starts (`initialized`)."""
    global _state  # one build per process (module docstring)
    settings = pelican.settings
    config_path = str(settings.get("KIZUNA_CONFIG_PATH", "site.toml"))
    folders: FolderRules | None
    try:
        folders = FolderRules(settings.get("KIZUNA_ACCESS_DEFAULTS", {}), source=config_path)
    except AccessError as exc:
        logger.error("%s", exc)
        folders = None
    _state = _State(
        output_path=Path(settings["OUTPUT_PATH"]).resolve(),
        content_path=Path(settings["PATH"]).resolve(),
        meta_path=Path(settings["KIZUNA_META_PATH"]),
        settings=settings,
        folders=folders,
        member_fields=settings.get("KIZUNA_MEMBER_FIELDS"),
        groups=settings.get("KIZUNA_GROUPS"),
    )
    if folders is not None:
        for folder in folders.rules:
            _warn_about(folder.rule)


def _source_rel(content: Any, content_path: Path) -> str:
    """The source's path below content/ (no file system calls)."""
    return source_rel(content.source_path, content_path)


def _folder_rule(path: str) -> Rule:
    if _state is None or _state.folders is None:
        return PUBLIC
    return _state.folders.rule_for(path)


def access_of(content: Any) -> ContentAccess:
    """The rule and teaser of a page or article (computed once per build, never cached on the
    object: Pelican's content cache would carry it into the next build)."""
    assert _state is not None, "access_manifest is not registered"
    known = _state.contents.get(id(content))
    if known is not None:
        return known[2]
    rel = _source_rel(content, _state.content_path)
    label = f"{_state.content_path}/{rel}"
    try:
        access = content_access(
            getattr(content, "metadata", {}) or {},
            str(content.source_path),
            label,
            _folder_rule(site_path(rel)),
            located=_state.member_fields is not None or _state.groups is not None,
        )
    except AccessError as exc:
        if rel not in _state.failed:
            _state.failed.add(rel)
            logger.error("%s", exc)
        # Fails the build; until it stops, treat the page as readable by nobody listed.
        access = ContentAccess(both(_folder_rule(site_path(rel)), _NOBODY), "none", True)
    else:
        _warn_about(access.rule)
    _state.contents[id(content)] = (content, rel, access)
    return access


def _warn_about(rule: Rule) -> None:
    """Unknown fields and groups, when the build was told which exist."""
    if _state is None or (_state.member_fields is None and _state.groups is None):
        return
    fields = _state.member_fields if _state.member_fields is not None else rule.fields()
    for warning in check(rule, fields, groups=_state.groups):
        text = str(warning)
        if text not in _state.warned:
            _state.warned.add(text)
            logger.warning("%s", text)


def _collect_articles(generator: Any) -> None:
    for name in ("articles", "translations", "hidden_articles", "hidden_translations"):
        for article in getattr(generator, name, []):
            access_of(article)


def _collect_pages(generator: Any) -> None:
    for name in ("pages", "translations", "hidden_pages", "hidden_translations"):
        for page in getattr(generator, name, []):
            access_of(page)


def _collect_statics(generator: Any) -> None:
    if _state is not None:
        _state.statics = list(getattr(generator, "staticfiles", []))


def url_of(rel: str) -> str:
    """Site path of an output file: "about/index.html" -> "/about/"."""
    if rel == "index.html":
        return "/"
    if rel.endswith("/index.html"):
        return "/" + rel[: -len("index.html")]
    return "/" + rel


def member_pages(settings: dict[str, Any]) -> dict[str, str]:
    """The member pages of this build: name -> output file ("register/index.html")."""
    return dict(settings.get("KIZUNA_MEMBER_PAGES") or MEMBER_PAGES)


def _special_files(settings: dict[str, Any]) -> set[str]:
    pages = (NOT_FOUND, *THEME_PAGES.values(), *member_pages(settings).values())
    files = set(pages)
    for lang in SPECIAL_LANGS:
        if lang != settings.get("DEFAULT_LANG"):
            files |= {f"{lang}/{p}" for p in pages}
    return files


def build_manifest() -> dict[str, Any]:
    """The manifest of the output as written (called at `finalized`)."""
    assert _state is not None
    output = _state.output_path
    prefix = theme_prefix(_state.settings)
    specials = _special_files(_state.settings)

    by_file: dict[str, dict[str, Any]] = {}
    gated_folders: list[tuple[str, Rule]] = []
    for content, rel, access, save_as in written_contents():
        kind = "article" if type(content).__name__ == "Article" else "page"
        entry: dict[str, Any] = {
            "file": save_as,
            "kind": kind,
            "_rule": access.rule,
            "source": rel,
            "title": _text(getattr(content, "title", "")),
            "lang": getattr(content, "lang", None),
        }
        by_file[save_as] = entry
        if not access.rule.is_public and save_as.endswith("index.html"):
            gated_folders.append((url_of(save_as), access.rule))

    for static in _state.statics:
        rel = _source_rel(static, _state.content_path)
        rule = _folder_rule(site_path(rel))
        saved = static.save_as
        by_file.setdefault(saved, {"file": saved, "kind": "file", "_rule": rule, "source": rel})

    entries: dict[str, dict[str, Any]] = {}
    for rel in output_files(output):
        known = by_file.get(rel)
        if known is not None:
            entry = known
        else:
            if rel.startswith(prefix):
                entry = {"file": rel, "kind": "asset", "_rule": PUBLIC}
            elif rel in specials:
                entry = {"file": rel, "kind": "special", "_rule": PUBLIC}
            elif rel.endswith((".html", ".xml")):
                entry = {"file": rel, "kind": "index", "_rule": PUBLIC}
            else:  # not from content, theme or a template: its URL folder decides
                entry = {"file": rel, "kind": "file", "_rule": _folder_rule(rel)}
        if entry["kind"] == "file":
            # A file under a gated page's URL ({attach}) also needs that page's rule.
            rule = entry["_rule"]
            for page_url, page_rule in gated_folders:
                if ("/" + rel).startswith(page_url):
                    rule = both(rule, page_rule)
            entry = {**entry, "_rule": rule}
        entries[url_of(rel) if rel.endswith(".html") else "/" + rel] = entry

    rules = [e["_rule"] for e in entries.values()]
    folders = _state.folders.url_folders() if _state.folders else {}
    fields, groups = union([*rules, *folders.values()])
    default_lang = _state.settings.get("DEFAULT_LANG", "ja")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return {
        "version": MANIFEST_VERSION,
        "build_id": f"{stamp}-{secrets.token_hex(3)}",
        "fields": fields,
        "groups": groups,
        "pages": _pages("", member_pages(_state.settings)),
        # The same pages in the other languages (an addition to the contract's keys).
        "pages_by_lang": {
            lang: _pages(f"/{lang}" if lang != default_lang else "", member_pages(_state.settings))
            for lang in dict.fromkeys((default_lang, *SPECIAL_LANGS))
        },
        "entries": {url: _public_entry(e) for url, e in sorted(entries.items())},
        "folders": {prefix_: rule.as_dict() for prefix_, rule in folders.items()},
    }


def _public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The contract's key order: file, kind, rule, fields, groups, then the rest."""
    rule: Rule = entry["_rule"]
    out = {"file": entry["file"], "kind": entry["kind"], **rule.as_dict()}
    out.update((k, v) for k, v in entry.items() if k not in out and k != "_rule")
    return out


def _pages(prefix: str, member: dict[str, str]) -> dict[str, str]:
    return {
        "login": f"{prefix}/login/",
        "forbidden": f"{prefix}/forbidden/",
        "not_found": f"{prefix}/{NOT_FOUND}",
        **{name: prefix + url_of(save_as) for name, save_as in member.items()},
    }


def _text(value: Any) -> str:
    """A title as plain text (titles may hold inline HTML or entities)."""
    return html.unescape(_TAG.sub("", str(value))).strip()


def write_manifest(pelican: Any) -> None:
    """Write access.json once every file is written (`finalized`)."""
    if _state is None:
        return
    manifest = build_manifest()
    _state.manifest = manifest
    write_json(_state.meta_path / MANIFEST_NAME, manifest)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(document), encoding="utf-8")


def current_manifest() -> dict[str, Any] | None:
    """The manifest of this build, once written."""
    return _state.manifest if _state else None


def written_contents() -> list[tuple[Any, str, ContentAccess, str]]:
    """Every page and article written by this build: (content, source path, access, save_as).
    Computed once (Pelican's `save_as` formats the URL settings on every access)."""
    if _state is None:
        return []
    if _state.written is None:
        _state.written = []
        for content, rel, access in _state.contents.values():
            if getattr(content, "status", "") == "draft":
                continue
            save_as = save_as_of(content)
            if save_as:
                _state.written.append((content, rel, access, save_as))
    return _state.written


def theme_prefix(values: dict[str, Any]) -> str:
    return str(values.get("THEME_STATIC_DIR", "theme")).strip("/") + "/"


def settings() -> dict[str, Any]:
    assert _state is not None
    return _state.settings


def register() -> None:
    signals.initialized.connect(start)
    signals.article_generator_pretaxonomy.connect(_collect_articles)
    signals.page_generator_finalized.connect(_collect_pages)
    signals.static_generator_finalized.connect(_collect_statics)
    signals.finalized.connect(write_manifest)


# Stands for "nobody" while a build that will fail runs on (a bad Access: line).
_NOBODY = parse("group:kizuna-build-error")
