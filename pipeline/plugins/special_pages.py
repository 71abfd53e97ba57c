"""Write the theme's pages that are not made from content: log-in, "not permitted" and 404.

For the default language at `/login/`, `/forbidden/`, `/404.html`, and for every other language
of `access_manifest.SPECIAL_LANGS` under `/<lang>/` (`/en/login/`…). Each template gets
`page_lang` (the language) and `page_name` ("login", "forbidden", "404"); the gate and nginx
serve them (CONTRACT17 section 3), so they must work at any depth: root-relative links only.
"""

from __future__ import annotations

from typing import Any

from pelican import signals
from pelican.generators import Generator

from pipeline.plugins.access_manifest import NOT_FOUND, SPECIAL_LANGS, THEME_PAGES

TEMPLATES = {"login": THEME_PAGES["login"], "forbidden": THEME_PAGES["forbidden"], "404": NOT_FOUND}


class SpecialPagesGenerator(Generator):
    """A Pelican generator: one file per template and language, no content."""

    def generate_output(self, writer: Any) -> None:
        default_lang = self.settings.get("DEFAULT_LANG", "ja")
        for lang in dict.fromkeys((default_lang, *SPECIAL_LANGS)):  # once each
            prefix = "" if lang == default_lang else f"{lang}/"
            for name, save_as in TEMPLATES.items():
                writer.write_file(
                    prefix + save_as,
                    self.get_template(name),
                    self.context,
                    relative_urls=False,
                    page_lang=lang,
                    page_name=name,
                    url=prefix + save_as.removesuffix("index.html"),
                )


def get_generators(pelican: Any) -> type[Generator]:
    return SpecialPagesGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
