"""Build the Pelican settings dict from the checked site settings.

All Pelican knobs live here, in one place, so the URL scheme, what gets written and what must
never be written (feeds, drafts, tag pages) can be read at a glance. Editors change the site
through `content/site.toml`, never through this module.

URL scheme ("pretty" URLs, one folder per page; the URL mirrors the file's place):
    page       content/pages/about.md                 -> /about/          (about/index.html)
    sub-page   content/pages/en/about.md              -> /en/about/
    home       content/pages/index.md (Save_as)       -> /                (index.html)
    article    content/news/2026-01-15-launch.md      -> /news/launch/    (date, slug from name)
    news list  -                                      -> /news/, /news/page/2/
    404        -                                      -> /404.html
Translations are pages with the same slug and another `Lang:`; where they live decides their
URL, so put them in a folder of their own (pages/en/). Because URLs mirror folders, folder
access defaults (`[access]` in site.toml) mean the same on content paths and on URLs.
Links are root-relative ("/about/"), so one build works on the demo server, staging and
production alike; the absolute site URL is kept as `KIZUNA_SITE_URL` for canonical links.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from markdown.extensions.toc import slugify_unicode

from pipeline.config import SiteConfig

# Order matters where plugins share a signal: the manifest is made before the plugins that read
# it (content index, nginx map, leak check), gated articles leave listings before taxonomies.
# Modules of pipeline/plugins/, imported when the settings of a build are made (`plugins()`):
# importing this module does not load the rule language and the plugins.
PLUGIN_NAMES = (
    "build_record",
    "access_manifest",
    "gated_listings",
    "special_pages",
    "content_index",
    "nginx_map",
    "leak_check",
)


def plugins() -> list[ModuleType]:
    """The plugin modules, in order."""
    return [import_module(f"pipeline.plugins.{name}") for name in PLUGIN_NAMES]


# Where content lives inside content/. README.md files are notes for editors, never pages.
ARTICLE_DIR = "news"
PAGE_DIR = "pages"
STATIC_DIRS = ("files", "images", ARTICLE_DIR, PAGE_DIR)
# Captures the sub-folder of a page or article ("members/" for pages/members/guide.md).
PATH_METADATA = rf"(?:{PAGE_DIR}|{ARTICLE_DIR})/(?P<folder>(?:[^/]+/)*)[^/]+$"

# Pelican writes a feed for every one of these that is set: all stay off (TECH_NOTES:
# FEED_ALL_ATOM=None alone still wrote one). Gated articles are out of `articles` before feeds
# are made (plugins/gated_listings), and the leak check reads .atom/.rss files too, so a feed
# could be turned on later; none is needed by the demo.
FEED_SETTINGS = (
    "FEED_ATOM",
    "FEED_RSS",
    "FEED_ALL_ATOM",
    "FEED_ALL_RSS",
    "CATEGORY_FEED_ATOM",
    "CATEGORY_FEED_RSS",
    "AUTHOR_FEED_ATOM",
    "AUTHOR_FEED_RSS",
    "TAG_FEED_ATOM",
    "TAG_FEED_RSS",
    "TRANSLATION_FEED_ATOM",
    "TRANSLATION_FEED_RSS",
)


def site_path_prefix(site_url: str) -> str:
    """Return the path part of the site URL ("" at a domain's root, "/corp" below it)."""
    return urlsplit(site_url).path.rstrip("/")


def pelican_settings(
    config: SiteConfig,
    *,
    content_dir: Path,
    theme_dir: Path,
    output_dir: Path,
    meta_dir: Path,
    site_url: str | None = None,
    cache_dir: Path | None = None,
    member_fields: Any = None,
    groups: list[str] | None = None,
    with_plugins: bool = True,
) -> dict[str, Any]:
    """Return the settings to pass as `override` to `pelican.settings.read_settings`.

    `site_url` overrides `site.url` from site.toml; "" means "no public address known" (links
    stay root-relative, canonical links are left out). `cache_dir` turns on Pelican's reader
    cache there (Markdown is parsed again only for files changed since the last build).
    `member_fields` (field keys, or key -> field type) and `groups` are the member table's, when
    known: rules naming others are warned about. `with_plugins=False` leaves out every Kizuna
    plugin (plain Pelican on the same settings, as bench/build.py compares with).
    """
    public_url = config.url if site_url is None else site_url.rstrip("/")
    prefix = site_path_prefix(public_url)
    settings: dict[str, Any] = {
        "PATH": str(content_dir),
        "THEME": str(theme_dir),
        "OUTPUT_PATH": str(output_dir),
        "SITENAME": config.name,
        "SITEURL": prefix,
        "RELATIVE_URLS": False,
        "TIMEZONE": config.timezone,
        "DEFAULT_LANG": config.default_lang,
        # A fixed C locale keeps month names and output the same on every machine.
        "LOCALE": ["C.UTF-8", "C"],
        "DEFAULT_DATE_FORMAT": "%Y年%-m月%-d日",
        "DATE_FORMATS": {"en": "%B %-d, %Y"},
        "DELETE_OUTPUT_DIRECTORY": True,
        # The reader cache (CONTENT_CACHING_LAYER "reader", Pelican's default) keeps what the
        # Markdown reader made of each file, keyed by path and mtime; content objects are made
        # afresh each build, so rules and links always come from this build's settings.
        "CACHE_CONTENT": cache_dir is not None,
        "LOAD_CONTENT_CACHE": cache_dir is not None,
        "CONTENT_CACHING_LAYER": "reader",
        "CACHE_PATH": str(cache_dir) if cache_dir is not None else "cache",
        "GZIP_CACHE": False,
        "WITH_FUTURE_DATES": True,
        # Where things are read from.
        "ARTICLE_PATHS": [ARTICLE_DIR],
        "PAGE_PATHS": [PAGE_DIR],
        "STATIC_PATHS": list(STATIC_DIRS),
        "STATIC_EXCLUDE_SOURCES": True,
        "IGNORE_FILES": ["**/.*", ".*", "README.md", "*~", "#*#"],
        # Slugs and dates come from file names: news/2026-01-15-launch.md -> date, slug "launch".
        "SLUGIFY_SOURCE": "basename",
        "FILENAME_METADATA": r"(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)",
        "USE_FOLDER_AS_CATEGORY": False,
        "DEFAULT_CATEGORY": "news",
        # URLs (see module docstring).
        # `folder` is the sub-folder below pages/ or news/ ("" or "en/"), see PATH_METADATA.
        "PATH_METADATA": PATH_METADATA,
        "PAGE_URL": "{folder}{slug}/",
        "PAGE_SAVE_AS": "{folder}{slug}/index.html",
        "PAGE_LANG_URL": "{folder}{slug}/",
        "PAGE_LANG_SAVE_AS": "{folder}{slug}/index.html",
        "ARTICLE_URL": f"{ARTICLE_DIR}/{{folder}}{{slug}}/",
        "ARTICLE_SAVE_AS": f"{ARTICLE_DIR}/{{folder}}{{slug}}/index.html",
        "ARTICLE_LANG_URL": f"{ARTICLE_DIR}/{{folder}}{{slug}}/",
        "ARTICLE_LANG_SAVE_AS": f"{ARTICLE_DIR}/{{folder}}{{slug}}/index.html",
        "INDEX_URL": f"{ARTICLE_DIR}/",
        "INDEX_SAVE_AS": f"{ARTICLE_DIR}/index.html",
        # login/, forbidden/ and 404.html (and /en/ versions) come from plugins/special_pages.
        "DIRECT_TEMPLATES": ["index"],
        "PAGINATED_TEMPLATES": {"index": None},
        "DEFAULT_PAGINATION": 10,
        "PAGINATION_PATTERNS": [
            (1, "{url}", "{save_as}"),
            (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
        ],
        # Never written: drafts (not public yet), taxonomy and archive pages (the theme does not
        # render them), feeds (see FEED_SETTINGS).
        **_not_written(
            "DRAFT",
            "DRAFT_LANG",
            "DRAFT_PAGE",
            "DRAFT_PAGE_LANG",
            "TAG",
            "TAGS",
            "CATEGORY",
            "CATEGORIES",
            "AUTHOR",
            "AUTHORS",
            "ARCHIVES",
            "YEAR_ARCHIVE",
            "MONTH_ARCHIVE",
            "DAY_ARCHIVE",
        ),
        **dict.fromkeys(FEED_SETTINGS),
        "DISPLAY_PAGES_ON_MENU": False,
        "DISPLAY_CATEGORIES_ON_MENU": False,
        "OUTPUT_SOURCES": False,
        "TYPOGRIFY": False,
        # Japanese has no spaces between words, so summaries are cut by paragraph, not words.
        "SUMMARY_MAX_PARAGRAPHS": 1,
        "SUMMARY_MAX_LENGTH": None,
        "MARKDOWN": {
            "extension_configs": {
                "markdown.extensions.meta": {},
                # slugify_unicode keeps Japanese headings as readable, distinct anchors.
                "markdown.extensions.toc": {"slugify": slugify_unicode, "permalink": False},
                "markdown.extensions.tables": {},
                "markdown.extensions.fenced_code": {},
                "markdown.extensions.attr_list": {},
                "markdown.extensions.sane_lists": {},
            },
            "output_format": "html5",
        },
        "PLUGINS": plugins() if with_plugins else [],
        # Kizuna's own values, visible to templates and plugins (Pelican passes upper-case
        # settings to both).
        "SITENAME_EN": config.name_en,
        "SITE_DESCRIPTION": config.description,
        "KIZUNA_SITE_URL": public_url,
        "KIZUNA_MENUS": {
            name: [
                {
                    "title": item.title,
                    "title_en": item.title_en or item.title,
                    "url": item.url if item.is_external else prefix + item.url,
                    "external": item.is_external,
                }
                for item in items
            ]
            for name, items in config.menus.items()
        },
        "KIZUNA_ACCESS_DEFAULTS": dict(config.access),
        # The member pages: name -> output file ("register/index.html"), see special_pages.
        "KIZUNA_MEMBER_PAGES": {
            name: url.lstrip("/") + "index.html" for name, url in config.pages.items()
        },
        "KIZUNA_META_PATH": str(meta_dir),
        "KIZUNA_CONFIG_PATH": str(config.path),
        "KIZUNA_MEMBER_FIELDS": member_fields,
        "KIZUNA_GROUPS": groups,
    }
    return settings


def _not_written(*names: str) -> dict[str, str]:
    """Empty URL and SAVE_AS settings: Pelican writes nothing for an empty SAVE_AS."""
    out: dict[str, str] = {}
    for name in names:
        out[f"{name}_URL"] = ""
        out[f"{name}_SAVE_AS"] = ""
    return out
