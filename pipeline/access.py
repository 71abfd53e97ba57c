"""Which rule applies to a page, an article or a file: folder defaults and `Access:` metadata.

Plain Python on top of `api.access.rules` (the only thing from `api/` the pipeline uses), shared
by the plugins that write the access manifest, filter listings and check for leaks.

- **Folder defaults** (`[access]` of `content/site.toml`, glob -> rule) are matched against a
  source's *site path*: its path below `content/` with a leading `pages/` dropped, so that they
  mean the same thing as URLs (`pages/members/seminar.md` -> `members/seminar.md`, URL
  `/members/seminar/`; `news/members/x.md` stays `news/members/x.md`, URL `/news/members/x/`).
  `*` matches within one folder, `**` any number of folders, `?` one character. When several
  globs match, the most specific wins: the one with the longest fixed part before its first
  wildcard (then the longer glob, then the later one in the file).
- **Page metadata** `Access:` overrides the folder default. `Teaser:` says what public listings
  may show of a gated article: `title` (the default), `summary` or `none`.
- **Attachments** (PDF, ZIP…) take the rule of their folder; a file placed under a gated page's
  URL (`{attach}`) also needs that page's rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from api.access.rules import PUBLIC, Rule, RuleError, parse

PAGE_DIR = "pages"
TEASERS = ("title", "summary", "none")
DEFAULT_TEASER = "title"
_META_LINE = re.compile(r"^([ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]*)(.*)$")


class AccessError(Exception):
    """A rule or a `Teaser:` value that cannot be used; the message names file, line, column."""


def site_path(source_rel: str) -> str:
    """`pages/members/a.md` -> `members/a.md`; other content paths stay as they are."""
    prefix = PAGE_DIR + "/"
    return source_rel[len(prefix) :] if source_rel.startswith(prefix) else source_rel


def _glob_regex(glob: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _fixed_part(glob: str) -> str:
    """The part of a glob before its first wildcard: `members/doctors/**` -> `members/doctors/`."""
    cut = min((glob.find(c) for c in "*?" if c in glob), default=len(glob))
    return glob[:cut]


@dataclass(frozen=True)
class FolderRule:
    glob: str
    rule: Rule
    order: int
    pattern: re.Pattern[str]

    @property
    def specificity(self) -> tuple[int, int, int]:
        return (len(_fixed_part(self.glob)), len(self.glob), self.order)

    @property
    def url_prefix(self) -> str | None:
        """The URL folder this default covers (`members/**` -> `/members/`), when it is one."""
        fixed = _fixed_part(self.glob)
        rest = self.glob[len(fixed) :]
        if fixed.endswith("/") and rest in ("**", "**/*"):
            return "/" + fixed
        return None


class FolderRules:
    """The `[access]` table of site.toml, compiled."""

    def __init__(self, defaults: Mapping[str, str], *, source: str) -> None:
        self.rules: list[FolderRule] = []
        lines = _config_lines(source)
        for order, (glob, text) in enumerate(defaults.items()):
            line, column = _find_in_config(lines, glob)
            try:
                rule = parse(text, source=source, line=line, column=column)
            except RuleError as exc:
                raise AccessError(f'{exc} (folder default "{glob}")') from None
            self.rules.append(FolderRule(glob, rule, order, _glob_regex(glob)))

    def rule_for(self, path: str) -> Rule:
        """The folder default for a site path (`members/a.md`); public when none matches."""
        matching = [r for r in self.rules if r.pattern.match(path)]
        if not matching:
            return PUBLIC
        return max(matching, key=lambda r: r.specificity).rule

    def url_folders(self) -> dict[str, Rule]:
        """URL prefixes with their rule, for the manifest's `folders`."""
        folders: dict[str, tuple[tuple[int, int, int], Rule]] = {}
        for r in self.rules:
            prefix = r.url_prefix
            if prefix is None:
                continue
            if prefix not in folders or folders[prefix][0] < r.specificity:
                folders[prefix] = (r.specificity, r.rule)
        return {prefix: rule for prefix, (_, rule) in sorted(folders.items())}


def _config_lines(source: str) -> list[str]:
    try:
        return Path(source).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _find_in_config(lines: list[str], glob: str) -> tuple[int, int]:
    """Line and column of the rule of `"glob" = "rule"` in site.toml (1, 1 when not found)."""
    for number, text in enumerate(lines, start=1):
        stripped = text.lstrip()
        for quote in ('"', "'"):
            key = f"{quote}{glob}{quote}"
            if stripped.startswith(key):
                after = text.index(key) + len(key)
                eq = text.find("=", after)
                if eq < 0:
                    continue
                value_at = eq + 1
                while value_at < len(text) and text[value_at] in " \t":
                    value_at += 1
                # +1 for 1-based columns, +1 past the opening quote of the rule.
                return number, value_at + 2
    return 1, 1


@dataclass(frozen=True)
class MetaValue:
    text: str
    line: int
    column: int


def metadata_positions(source_path: str) -> dict[str, MetaValue]:
    """Where each metadata key of a Markdown file is written (lower-case key -> value, line,
    column of the value's first character). Only the header, up to the first blank line."""
    found: dict[str, MetaValue] = {}
    try:
        with open(source_path, encoding="utf-8-sig") as handle:
            for number, text in enumerate(handle, start=1):
                text = text.rstrip("\r\n")
                if not text.strip():
                    break
                match = _META_LINE.match(text)
                if match:
                    found.setdefault(
                        match.group(2).lower(),
                        MetaValue(match.group(3), number, len(match.group(1)) + 1),
                    )
    except OSError:
        pass
    return found


def _meta_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class ContentAccess:
    """The rule of one page or article, and what listings may show of it."""

    rule: Rule
    teaser: str
    from_metadata: bool


def content_access(
    metadata: Mapping[str, Any],
    source_path: str,
    label: str,
    folder_rule: Rule,
    *,
    located: bool = True,
) -> ContentAccess:
    """The rule of a page from its `Access:` metadata (or its folder default) and its teaser.

    `label` is how messages name the file (`content/pages/a.md`). With `located=False` (no
    warnings will be asked of the rule) a rule that parses carries no line and column: the
    file is read again for them only when the rule is wrong (its error names them)."""
    positions: dict[str, MetaValue] | None = None
    rule = folder_rule
    from_metadata = False
    if "access" in metadata:
        text = _meta_text(metadata["access"])
        found: Rule | None = None
        if not located:
            try:
                found = Rule.from_dict({"rule": text}, source=label)  # parsed once per text
            except RuleError:
                found = None
        if found is None:
            positions = metadata_positions(source_path)
            where = positions.get("access")
            try:
                found = parse(
                    text,
                    source=label,
                    line=where.line if where else 1,
                    column=where.column if where else 1,
                )
            except RuleError as exc:
                raise AccessError(str(exc)) from None
        rule = found
        from_metadata = True
    teaser = DEFAULT_TEASER
    if "teaser" in metadata:
        teaser = _meta_text(metadata["teaser"]).strip().lower()
        if teaser not in TEASERS:
            positions = positions or metadata_positions(source_path)
            where = positions.get("teaser")
            place = f", line {where.line}, column {where.column}" if where else ""
            raise AccessError(
                f"{label}{place}: Teaser: {teaser!r} is not one of "
                f"{', '.join(TEASERS)} (what public listings show of a gated page)"
            )
    return ContentAccess(rule, teaser, from_metadata)


@lru_cache(maxsize=256)
def _combined(first: Rule, second: Rule) -> Rule:
    return parse(f"({first}) and ({second})")


def both(first: Rule, second: Rule) -> Rule:
    """A rule that needs both (public is the neutral element)."""
    if first.is_public or first == second:
        return second
    if second.is_public:
        return first
    return _combined(first, second)


def union(rules: Iterable[Rule]) -> tuple[list[str], list[str]]:
    """Sorted fields and groups that any of `rules` reads."""
    fields: set[str] = set()
    groups: set[str] = set()
    for rule in rules:
        fields |= rule.fields()
        groups |= rule.groups()
    return sorted(fields), sorted(groups)
