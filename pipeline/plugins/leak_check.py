"""Fail the build if a gated page's body text appears in any public file.

After everything is written (`finalized`, after the manifest), the body of every gated page and
article is cut into sentences (at block tags, line breaks and 。．！？.!?); a sentence of at
least `MIN_CHARS` characters is *distinctive* unless it is public anyway: in a public page's
body, title or text metadata, in the site's name, description or menus, or what a gated
page's teaser lets listings show (its title; its summary with `Teaser: summary`). Every
public text file of the output (HTML, XML, JSON, text, JavaScript, CSS, SVG) is cut the same
way (a public page's own body skipped: public by definition), and a public sentence that equals
a distinctive sentence, or of at least `PREFIX_CHARS` characters that is the beginning of one
(a summary cut short, with or without "…"), is a leak: logged as an ERROR naming the public
file and the gated source, which fails the build. It costs one or two dictionary lookups per
sentence of public text.

For speed: a public file is cut line by line, and a line whose sentences were all found clean
in an earlier file is not cut again (most of a page's template repeats from page to page; a
file whose lines are all known passes in C-level set operations); the new lines of many files
are cut together (a group with a leak is checked again file by file). Lines are cut on their
own only when that gives the same sentences as cutting the whole file (`line_sentences`: no
tag or shown attribute value runs on to the next line); otherwise the file is cut as a whole.
The public bodies are split only when a public file shows a sentence that a gated page has too
(to tell whether it is public anyway). Every public file is read back from the output: what
ends up there is what is checked.

Text that starts in the middle of a gated sentence is not caught; quoting a fragment on
purpose is not what this check is for (it catches listings, feeds and templates that show
more than they should).
"""

from __future__ import annotations

import html
import logging
import os
import re
from pathlib import Path
from typing import Any

from pelican import signals

from pipeline.plugins.access_manifest import current_manifest, settings, written_contents

logger = logging.getLogger(__name__)

MIN_CHARS = 16
PREFIX_CHARS = 24
TEXT_SUFFIXES = (".html", ".htm", ".xml", ".json", ".txt", ".js", ".css", ".svg", ".atom", ".rss")
_BLOCK = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|nav|main|"
    r"blockquote|pre|dd|dt|dl|br|hr|figure|figcaption|title|meta|option|span)\b[^>]*>"
)
_TAG = re.compile(r"<[^>]+>")
# Attribute values a page shows (meta description, title, alt…) count as text too. One
# pattern per attribute: a literal start lets the regular expression engine jump to it (an
# alternation of names cannot), and a name not in the file is not searched at all.
_SHOWN_ATTRIBUTES = tuple(
    (f'{name}="', re.compile(f'{name}="([^"]*)"'))
    for name in ("content", "title", "alt", "aria-label", "placeholder", "value")
)
# A line is cut the same on its own as within its file when no tag or attribute value on it runs
# on to the next line. Checked conservatively (a line flagged here is cut with its whole file):
# every "<" must be followed by a ">" on the line before any other "<" (so tags, block tags cut
# out first, never span lines), and every `="` by a closing quote on the line.
_RUNS_ON = (
    re.compile(r"<[^<>\n]*+(?:<|$)", re.MULTILINE),
    re.compile(r'="[^"\n]*+$', re.MULTILINE),
)
# Sentence ends keep their mark; quotes and brackets are breaks of their own. (A chain of
# str.replace is several times faster here than str.translate or one regular expression.)
_BREAKS = (
    ("。", "。\n"),
    ("．", "．\n"),
    ("！", "！\n"),
    ("？", "？\n"),
    ("!", "!\n"),
    ("?", "?\n"),
    (". ", ".\n"),
    ('"', "\n"),
    ("“", "\n"),
    ("”", "\n"),
    ("「", "\n"),
    ("」", "\n"),
)


def sentences(markup: str) -> list[str]:
    """Normalised sentences of an HTML (or plain) text. Written for speed (it reads every
    public file): C-level passes over the whole text, one Python step per sentence."""
    cut = _cut(markup, by_line=False)
    assert cut is not None  # (only by_line=True gives None)
    return cut


def line_sentences(text: str) -> list[str] | None:
    """The sentences of `text` when each of its lines is cut the same on its own as within
    any text (no tag or shown attribute value runs on to the next line): then the sentences of
    a file are those of its lines, and a line seen before need not be cut again. None when a
    line runs on."""
    return _cut(text, by_line=True)


def _cut(markup: str, *, by_line: bool) -> list[str] | None:
    if by_line and any(pattern.search(markup) for pattern in _RUNS_ON):
        return None
    shown = [v for needle, p in _SHOWN_ATTRIBUTES if needle in markup for v in p.findall(markup)]
    text = _BLOCK.sub("\n", markup)
    text = _TAG.sub("", text)
    if shown:
        text += "\n" + "\n".join(shown)
    if "&" in text:
        text = html.unescape(text)
    for mark, replacement in _BREAKS:
        text = text.replace(mark, replacement)
    pieces = [piece for piece in map(str.strip, text.split("\n")) if piece]
    # Runs of any space (U+3000 too) as one; only the few pieces that have them are rebuilt.
    return [
        " ".join(p.split()) if ("  " in p or "\t" in p or "\u3000" in p or "\xa0" in p) else p
        for p in pieces
    ]


def _body(content: Any) -> str:
    try:
        return str(content.content)
    except Exception:  # a page that could not render has failed the build already
        return ""


def check_for_leaks(pelican: Any) -> None:
    manifest = current_manifest()
    if manifest is None:
        return
    # Text that is public anyway: the site's own texts (name, description, menus), of gated
    # pages what their teaser lets listings show, and (see _PublicText) public pages' bodies,
    # titles and other metadata text. None of it is distinctive.
    shown: set[str] = set(_site_texts(settings()))
    public_bodies: dict[str, str] = {}  # output file -> its own (public) body
    public_contents: list[Any] = []
    gated: list[tuple[str, Any]] = []
    for content, source, access, save_as in written_contents():
        if access.rule.is_public:
            public_bodies[save_as] = _body(content)
            public_contents.append(content)
        else:
            gated.append((source, content))
            shown.update(sentences(str(getattr(content, "title", ""))))
            if access.teaser == "summary":
                shown.update(sentences(str(getattr(content, "summary", ""))))

    # Gated sentences that may be distinctive: those in a public body are not, which is only
    # looked at for the few that a public file shows (_PublicText).
    candidates: dict[str, str] = {}
    prefixes: dict[str, list[tuple[str, str]]] = {}
    for source, content in gated:
        for sentence in sentences(_body(content)):
            if len(sentence) < MIN_CHARS or sentence in shown:
                continue
            if sentence not in candidates:
                candidates[sentence] = source
                if len(sentence) > PREFIX_CHARS:
                    prefixes.setdefault(sentence[:PREFIX_CHARS], []).append((sentence, source))
    if not candidates:
        return
    checker = _Checker(
        clean=shown,
        candidates=candidates,
        prefixes=prefixes,
        public=_PublicText(public_contents, public_bodies),
        content_root=Path(settings()["PATH"]),
    )
    output = settings()["OUTPUT_PATH"]
    for entry in manifest["entries"].values():
        if entry["rule"] != "public" or not entry["file"].endswith(TEXT_SUFFIXES):
            continue
        try:
            text = _read_text(os.path.join(output, entry["file"]))
        except OSError:
            continue
        checker.add(entry["file"], _around_body(text, public_bodies.get(entry["file"])))
    checker.check_waiting()


# Public files whose new lines are cut together (one pass for many files: most have only a few
# new lines, their titles, and no leak).
_GROUP = 32


class _Checker:
    """Checks public files. A line whose sentences are all clean is remembered
    (`clean_lines`): most of a page's template (head, menus, footer) repeats from file to file
    and is cut once. The new lines of up to `_GROUP` files are cut together; when they hold a
    leak, or a line that runs on, each file of the group is checked alone (which names the
    leak: the file's first leaking sentence)."""

    def __init__(
        self,
        *,
        clean: set[str],
        candidates: dict[str, str],
        prefixes: dict[str, list[tuple[str, str]]],
        public: _PublicText,
        content_root: Path,
    ) -> None:
        self.clean = clean  # sentences known not to leak (most repeat from file to file)
        self.candidates = candidates
        self.prefixes = prefixes
        self.public = public
        self.content_root = content_root
        self.clean_lines: set[str] = set()
        self.waiting: list[tuple[str, tuple[str, ...]]] = []
        self.waiting_lines: set[str] = set()

    def add(self, name: str, parts: tuple[str, ...]) -> None:
        """A public file: its text, or the parts around its own body."""
        new = _lines(parts).difference(self.clean_lines)  # C-level passes
        if new:
            self.waiting.append((name, parts))
            self.waiting_lines.update(new)
            if len(self.waiting) >= _GROUP:
                self.check_waiting()

    def check_waiting(self) -> None:
        found_in = line_sentences("\n".join(self.waiting_lines))
        if found_in is not None and self._leak_in(found_in) is None:
            self.clean_lines.update(self.waiting_lines)
        else:
            for name, parts in self.waiting:
                self._check_alone(name, parts)
        self.waiting.clear()
        self.waiting_lines.clear()

    def _check_alone(self, name: str, parts: tuple[str, ...]) -> None:
        new = _lines(parts).difference(self.clean_lines)
        if not new:
            return
        by_line = line_sentences("\n".join(new))
        found_in = _public_sentences(parts) if by_line is None else by_line
        leak = self._leak_in(found_in)
        if leak is not None:
            # Named as the file shows it: its first leaking sentence.
            sentence, source = self._leak_in(_public_sentences(parts)) or leak
            logger.error(
                "%s: gated text leaks into the public file %s: %r (a template or listing "
                "shows more of this gated page than its Teaser: allows)",
                str(self.content_root / source),
                name,
                sentence[:80],
            )
        elif by_line is not None:
            self.clean_lines.update(new)

    def _leak_in(self, found_in: list[str]) -> tuple[str, str] | None:
        """The first sentence of `found_in` that leaks, with its gated source; the sentences
        before it are remembered clean."""
        clean = self.clean
        if clean.issuperset(found_in):  # the common case, in one C-level pass
            return None
        for sentence in found_in:
            if sentence in clean:
                continue
            found = self.candidates.get(sentence)
            if found is not None:
                if sentence in self.public.sentences():
                    found = None  # in a public page's body or metadata: never distinctive
            elif sentence[:PREFIX_CHARS] in self.prefixes:  # (the only key _cut_short reads)
                found = _cut_short(sentence, self.prefixes, self.public)
            if found is None:
                clean.add(sentence)
                continue
            return sentence, found
        return None


class _PublicText:
    """The sentences of public pages' bodies, titles and text metadata, split when first asked
    for: only a public sentence that equals (or begins) a gated one needs them, and a build
    without such a sentence (most builds) never splits the public bodies."""

    def __init__(self, contents: list[Any], bodies: dict[str, str]) -> None:
        self._contents = contents
        self._bodies = bodies
        self._sentences: set[str] | None = None

    def sentences(self) -> set[str]:
        if self._sentences is None:
            found: set[str] = set()
            for body in self._bodies.values():
                found.update(sentences(body))
            for content in self._contents:
                for text in _metadata_texts(content):
                    found.update(sentences(text))
            self._sentences = found
        return self._sentences


def _site_texts(values: dict[str, Any]) -> list[str]:
    """Sentences of the site's own texts (site.toml): name, description, menu titles."""
    texts = [str(values.get(k) or "") for k in ("SITENAME", "SITENAME_EN", "SITE_DESCRIPTION")]
    for items in (values.get("KIZUNA_MENUS") or {}).values():
        texts += [f"{item.get('title', '')}\n{item.get('title_en', '')}" for item in items]
    return [sentence for text in texts for sentence in sentences(text)]


def _metadata_texts(content: Any) -> list[str]:
    """A public page's title, summary and other text metadata (lead, heading…)."""
    texts = [str(getattr(content, "title", ""))]
    if "summary" in content.metadata:
        texts.append(str(content.metadata["summary"]))
    texts += [v for k, v in content.metadata.items() if isinstance(v, str) and k != "access"]
    return texts


def _read_text(path: str) -> str:
    """A file's text as `open(path, encoding="utf-8", errors="replace").read()` gives it (line
    ends made "\n"), without a text wrapper: one decoding of the whole file."""
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _around_body(text: str, body: str | None) -> tuple[str, ...]:
    """A public page's own body is public text by definition (its sentences are never
    distinctive): what is around it, when the file holds it; else the whole text."""
    if not body:
        return (text,)
    # text.find(body), found by its beginning: a long needle costs a pass over it first.
    head = body[:64]
    at = text.find(head)
    while at >= 0 and not text.startswith(body, at):
        at = text.find(head, at + 1)
    if at < 0:
        return (text,)
    return text[:at], text[at + len(body) :]


def _lines(parts: tuple[str, ...]) -> set[str]:
    found = set(parts[0].split("\n"))
    for part in parts[1:]:
        found.update(part.split("\n"))
    return found


def _public_sentences(parts: tuple[str, ...]) -> list[str]:
    """Sentences of a public file, or of the template around a public page's body, in order."""
    return [sentence for part in parts for sentence in sentences(part)]


def _cut_short(
    sentence: str, prefixes: dict[str, list[tuple[str, str]]], public: _PublicText
) -> str | None:
    """The source of a distinctive gated sentence that `sentence` (not public text itself) is
    the beginning of (ellipsis removed)."""
    start = sentence.rstrip("…‥.。． ")
    if len(start) < PREFIX_CHARS:
        return None
    for gated, source in prefixes.get(start[:PREFIX_CHARS], ()):
        if gated.startswith(start):
            if sentence in public.sentences():
                return None
            if gated not in public.sentences():
                return source
    return None


def register() -> None:
    signals.finalized.connect(check_for_leaks)
