"""Write the theme's pages that are not made from content: log-in, "not permitted", 404 and
the member site's pages (register, confirm, my page, e-mail, password, reset, withdraw).

For the default language at `/login/`, `/forbidden/`, `/404.html`, and for every other language
of `access_manifest.SPECIAL_LANGS` under `/<lang>/` (`/en/login/`…). Each template gets
`page_lang` (the language), `page_name` ("login", "forbidden", "404", "register"…),
`member_pages` (page name → URL path in that language), `other_lang_url` (the same page in
the other language) and `member_texts`, the member pages' words: the theme's
`partials/member_texts.json`, found like a template (data: nothing to compile each build). The
gate and nginx serve these pages (CONTRACT17 section 3), so they must work at any depth:
root-relative links only.
"""

from __future__ import annotations

import json
from typing import Any

from pelican import signals
from pelican.generators import ArticlesGenerator, Generator

from pipeline.plugins.access_manifest import (
    NOT_FOUND,
    SPECIAL_LANGS,
    THEME_PAGES,
    member_pages,
    url_of,
)

# Template name -> output file; the member pages' files come from the settings ([pages]).
TEMPLATES = {"login": THEME_PAGES["login"], "forbidden": THEME_PAGES["forbidden"], "404": NOT_FOUND}
# The member pages' words (messages, field errors, password rules), in the theme's templates.
MEMBER_TEXTS = "partials/member_texts.json"


class SpecialPagesGenerator(Generator):
    """A Pelican generator: one file per template and language, no content."""

    def generate_output(self, writer: Any) -> None:
        default_lang = self.settings.get("DEFAULT_LANG", "ja")
        langs = list(dict.fromkeys((default_lang, *SPECIAL_LANGS)))  # once each
        members = member_pages(self.settings)
        templates = {**TEMPLATES, **members}
        texts = json.loads(self.env.loader.get_source(self.env, MEMBER_TEXTS)[0])

        def prefix_of(lang: str) -> str:
            return "" if lang == default_lang else f"{lang}/"

        for lang in langs:
            prefix = prefix_of(lang)
            other = next((x for x in langs if x != lang), lang)
            pages = {
                name: url_of(prefix + save_as)
                for name, save_as in {**THEME_PAGES, **members}.items()
            }
            for name, save_as in templates.items():
                writer.write_file(
                    prefix + save_as,
                    self.get_template(name),
                    self.context,
                    relative_urls=False,
                    page_lang=lang,
                    page_name=name,
                    member_pages=pages,
                    other_lang_url=url_of(prefix_of(other) + save_as),
                    member_texts=texts,
                    url=prefix + save_as.removesuffix("index.html"),
                )


def get_generators(pelican: Any) -> type[Generator]:
    return SpecialPagesGenerator


def share_environment(generators: list[Any]) -> None:
    """Every generator renders with the articles generator's Jinja environment
    (`all_generators_finalized`, before any output). Each Pelican generator makes its own from
    the same settings (same loader, filters, globals and tests); sharing it compiles base.html
    and the partials once per build, not once per generator (pages, template pages, these
    special pages)."""
    donor = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    if donor is None:
        return
    for generator in generators:
        if generator is not donor and isinstance(getattr(generator, "env", None), type(donor.env)):
            generator.env = donor.env
            generator._templates = {}


def register() -> None:
    signals.get_generators.connect(get_generators)
    signals.all_generators_finalized.connect(share_environment)
