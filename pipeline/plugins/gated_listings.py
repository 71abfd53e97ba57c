"""Keep gated articles out of every public listing; show a teaser where their metadata allows.

At `article_generator_pretaxonomy` (before categories, tags, dates, archives and feeds are made
from `generator.articles`), each gated article and gated translation moves to Pelican's
*hidden* lists: still written as its own page (which the gate guards), never listed. In its
place in `articles` goes a `Teaser`, unless its `Teaser:` metadata is `none`: an object that
has only what a public listing may show — title, URL, date, language, category, tags — and a
summary only with `Teaser: summary`. Anything else a template asks of it (`content`,
`get_content`…) is undefined, so a theme cannot leak the body by mistake.

A Teaser is never written as a page: `generate_articles` is wrapped to skip them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pelican import signals

from pipeline.plugins.access_manifest import access_of


class Teaser:
    """What a public listing may show of a gated article."""

    kizuna_gated = True

    def __init__(self, article: Any, teaser: str) -> None:
        self.title = article.title
        self.url = article.url
        self.date = article.date
        self.locale_date = getattr(article, "locale_date", "")
        self.lang = getattr(article, "lang", None)
        # Pelican lists by category and tag only what has the attribute.
        for name in ("category", "tags"):
            if hasattr(article, name):
                setattr(self, name, getattr(article, name))
        self.authors: list[Any] = []
        self.status = "published"
        self.slug = getattr(article, "slug", "")
        self.translations: list[Any] = []
        self._article = article
        self.teaser = teaser
        self.save_as = ""  # never written

    @property
    def summary(self) -> str:
        """The summary only with `Teaser: summary` (read late: links resolve once all content
        is read)."""
        return str(self._article.summary) if self.teaser == "summary" else ""

    def __repr__(self) -> str:
        return f"<Teaser {self.url}>"


def hide_gated(generator: Any) -> None:
    """Move gated articles to the hidden lists, teasers in their place."""
    listed: list[Any] = []
    for article in generator.articles:
        access = access_of(article)
        if access.rule.is_public:
            listed.append(article)
            continue
        generator.hidden_articles.append(article)
        if access.teaser != "none":
            listed.append(Teaser(article, access.teaser))
    generator.articles = listed
    public_translations = []
    for translation in generator.translations:
        if access_of(translation).rule.is_public:
            public_translations.append(translation)
        else:
            generator.hidden_translations.append(translation)
    generator.translations = public_translations


def skip_teasers_when_writing(generator: Any) -> None:
    """Wrap `generate_articles` so that teasers are listed but never written as pages."""
    original: Callable[[Any], None] = generator.generate_articles

    def generate_articles(write: Any) -> None:
        listed = generator.articles
        generator.articles = [a for a in listed if not isinstance(a, Teaser)]
        try:
            original(write)
        finally:
            generator.articles = listed

    generator.generate_articles = generate_articles


def register() -> None:
    signals.article_generator_pretaxonomy.connect(hide_gated)
    signals.article_generator_finalized.connect(skip_teasers_when_writing)
