"""Write `<meta>/content.json`: one entry per page and article, for recommendations and the admin.

Each entry: URL, title, summary (plain text), language, tags, category, date, the rule
(`Rule.as_dict()`), the teaser a public listing may show, kind and source. Gated pages are
included with their summary: meta is never served, and readers of this index (the admin, the
recommendations) must check `rule` before showing more than `teaser` allows to a visitor.
"""

from __future__ import annotations

import html
import re
from typing import Any

from pelican import signals

from pipeline.plugins.access_manifest import settings, url_of, write_json, written_contents

INDEX_NAME = "content.json"
INDEX_VERSION = 1
_TAG = re.compile(r"<[^>]+>")
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)


def plain(value: Any) -> str:
    """HTML -> one line of text (runs of white space as one space, none at the ends)."""
    return " ".join(html.unescape(_TAG.sub(" ", str(value or ""))).split())


def summary_of(content: Any, is_article: bool) -> str:
    """`Summary:` metadata, else the first paragraph (SUMMARY_MAX_PARAGRAPHS = 1). Articles
    have theirs computed already for the listings; for pages a regular expression is much
    cheaper than Pelican's HTML truncation and gives the same paragraph."""
    if is_article or "summary" in content.metadata:
        return plain(getattr(content, "summary", ""))
    match = _FIRST_PARAGRAPH.search(str(content.content))
    return plain(match.group(1)) if match else ""


def build_index() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    prefix = str(settings().get("SITEURL", ""))
    for content, source, access, save_as in written_contents():
        is_article = type(content).__name__ == "Article"
        date = getattr(content, "date", None) if is_article or "date" in content.metadata else None
        category = getattr(content, "category", None) if is_article else None
        items.append(
            {
                "url": prefix + url_of(save_as),
                "title": plain(getattr(content, "title", "")),
                "summary": summary_of(content, is_article),
                "lang": getattr(content, "lang", None),
                "tags": sorted(str(t) for t in getattr(content, "tags", []) or []),
                "category": str(category) if category is not None else None,
                "date": date.isoformat() if date is not None else None,
                **access.rule.as_dict(),
                "teaser": "full" if access.rule.is_public else access.teaser,
                "kind": "article" if is_article else "page",
                "source": source,
                "status": getattr(content, "status", "published"),
            }
        )
    return sorted(items, key=lambda item: item["url"])


def write_index(pelican: Any) -> None:
    meta = settings().get("KIZUNA_META_PATH")
    if meta is None:
        return
    from pathlib import Path

    write_json(Path(meta) / INDEX_NAME, {"version": INDEX_VERSION, "items": build_index()})


def register() -> None:
    signals.finalized.connect(write_index)
