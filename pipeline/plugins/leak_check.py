"""Fail the build if a gated page's body text appears in any public file.

After everything is written (`finalized`, after the manifest), the body of every gated page and
article is cut into sentences (at block tags, line breaks and 。．！？.!?); a sentence of at
least `MIN_CHARS` characters is *distinctive* unless it also appears in a public page's body
(shared boilerplate is no leak) or is what its teaser lets listings show (the title; the
summary with `Teaser: summary`). Every public text file of the output (HTML, XML, JSON, text,
JavaScript, CSS, SVG) is cut the same way, and a public sentence that equals a distinctive
sentence, or starts with the first `PREFIX_CHARS` characters of one (a summary cut short with
"…"), is a leak: logged as an ERROR naming the public file and the gated source, which fails
the build. It costs one set lookup per sentence of public text.

Text that starts in the middle of a gated sentence is not caught; quoting a fragment on
purpose is not what this check is for (it catches listings, feeds and templates that show
more than they should).
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

from pelican import signals

from pipeline.plugins.access_manifest import contents, current_manifest, settings

logger = logging.getLogger(__name__)

MIN_CHARS = 16
PREFIX_CHARS = 24
TEXT_SUFFIXES = (".html", ".htm", ".xml", ".json", ".txt", ".js", ".css", ".svg", ".atom", ".rss")
_BLOCK = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|nav|main|"
    r"blockquote|pre|dd|dt|dl|br|hr|figure|figcaption|title|meta|option|span|a)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_SHOWN_ATTRIBUTE = re.compile(
    r"""\b(?:content|title|alt|aria-label|placeholder|value)\s*=\s*("[^"]*"|'[^']*')""",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[。．！？!?])|(?<=\.)(?=\s)|\n|[\"“”「」]")
_SPACE = re.compile(r"\s+")


def sentences(markup: str) -> list[str]:
    """Normalised sentences of an HTML (or plain) text."""
    # Attribute values a page shows (meta description, title, alt) count as text too.
    shown = "\n".join(m.group(1)[1:-1] for m in _SHOWN_ATTRIBUTE.finditer(markup))
    text = _BLOCK.sub("\n", markup) + "\n" + shown
    text = html.unescape(_TAG.sub("", text))
    out = []
    for piece in _SENTENCE_END.split(text):
        piece = _SPACE.sub(" ", piece).strip()
        if piece:
            out.append(piece)
    return out


def _body(content: Any) -> str:
    try:
        return str(content.content)
    except Exception:  # a page that could not render has failed the build already
        return ""


def check_for_leaks(pelican: Any) -> None:
    manifest = current_manifest()
    if manifest is None:
        return
    public_sentences: set[str] = set()
    gated: list[tuple[str, Any, str]] = []
    for content, source, access in contents():
        if not getattr(content, "save_as", "") or getattr(content, "status", "") == "draft":
            continue
        if access.rule.is_public:
            public_sentences.update(sentences(_body(content)))
        else:
            gated.append((source, content, access.teaser))

    distinctive: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for source, content, teaser in gated:
        allowed = set(sentences(str(getattr(content, "title", ""))))
        if teaser == "summary":
            allowed.update(sentences(str(getattr(content, "summary", ""))))
        for sentence in sentences(_body(content)):
            if len(sentence) < MIN_CHARS or sentence in public_sentences or sentence in allowed:
                continue
            distinctive.setdefault(sentence, source)
            prefixes.setdefault(sentence[:PREFIX_CHARS], source)
    if not distinctive:
        return
    # Prefixes that public pages also start sentences with are not distinctive.
    for sentence in public_sentences:
        prefixes.pop(sentence[:PREFIX_CHARS], None)

    output = Path(settings()["OUTPUT_PATH"])
    content_root = Path(settings()["PATH"])
    for entry in manifest["entries"].values():
        if entry["rule"] != "public" or not entry["file"].endswith(TEXT_SUFFIXES):
            continue
        try:
            text = (output / entry["file"]).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for sentence in sentences(text):
            found = distinctive.get(sentence)
            if found is None and len(sentence) >= PREFIX_CHARS:
                found = prefixes.get(sentence[:PREFIX_CHARS])
            if found is not None:
                logger.error(
                    "%s: gated text leaks into the public file %s: %r (a template or listing "
                    "shows more of this gated page than its Teaser: allows)",
                    str(content_root / found),
                    entry["file"],
                    sentence[:80],
                )
                break


def register() -> None:
    signals.finalized.connect(check_for_leaks)
