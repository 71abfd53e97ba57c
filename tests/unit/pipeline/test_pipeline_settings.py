"""The Pelican settings: what is written, what never is, and the URL scheme."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import load_site_config
from pipeline.pelican_settings import FEED_SETTINGS, pelican_settings, site_path_prefix

ROOT = Path(__file__).resolve().parents[3]


def settings(site_url: str | None = None) -> dict[str, object]:
    return pelican_settings(
        load_site_config(ROOT / "content" / "site.toml"),
        content_dir=Path("/c"),
        theme_dir=Path("/t"),
        output_dir=Path("/o"),
        meta_dir=Path("/m"),
        site_url=site_url,
    )


def test_core_settings_come_from_site_toml() -> None:
    s = settings()
    assert (s["PATH"], s["THEME"], s["OUTPUT_PATH"], s["KIZUNA_META_PATH"]) == (
        "/c",
        "/t",
        "/o",
        "/m",
    )
    assert s["SITENAME"] == "株式会社キズナ"
    assert s["SITENAME_EN"] == "Kizuna Inc."
    assert (s["TIMEZONE"], s["DEFAULT_LANG"]) == ("Asia/Tokyo", "ja")
    assert s["SITEURL"] == ""
    assert s["KIZUNA_SITE_URL"] == "https://www.example.jp"
    assert s["RELATIVE_URLS"] is False
    assert s["DELETE_OUTPUT_DIRECTORY"] is True
    assert s["CACHE_CONTENT"] is False
    assert s["LOAD_CONTENT_CACHE"] is False
    assert s["KIZUNA_ACCESS_DEFAULTS"]["members/**"] == "members"
    assert s["KIZUNA_MEMBER_FIELDS"] is None


def test_reader_cache_when_a_cache_folder_is_given() -> None:
    s = pelican_settings(
        load_site_config(ROOT / "content" / "site.toml"),
        content_dir=Path("/c"),
        theme_dir=Path("/t"),
        output_dir=Path("/o"),
        meta_dir=Path("/m"),
        cache_dir=Path("/var/cache"),
    )
    assert (s["CACHE_CONTENT"], s["LOAD_CONTENT_CACHE"]) == (True, True)
    assert s["CONTENT_CACHING_LAYER"] == "reader"
    assert s["CACHE_PATH"] == "/var/cache"


def test_every_feed_is_off() -> None:
    s = settings()
    assert "TRANSLATION_FEED_ATOM" in FEED_SETTINGS
    assert "FEED_ALL_ATOM" in FEED_SETTINGS
    assert all(s[key] is None for key in FEED_SETTINGS)


def test_drafts_and_taxonomy_pages_are_never_written() -> None:
    s = settings()
    for key in ("DRAFT", "DRAFT_PAGE", "TAG", "CATEGORY", "AUTHOR"):
        assert s[f"{key}_SAVE_AS"] == "", key
    assert s["DIRECT_TEMPLATES"] == ["index"]  # 404, login, forbidden: plugins/special_pages


def test_markdown_extensions() -> None:
    extensions = settings()["MARKDOWN"]["extension_configs"]  # type: ignore[index]
    for name in ("toc", "tables", "fenced_code", "meta"):
        assert f"markdown.extensions.{name}" in extensions


def test_site_url_override_and_path_prefix() -> None:
    s = settings("https://staging.example.jp/corp/")
    assert s["SITEURL"] == "/corp"
    assert s["KIZUNA_SITE_URL"] == "https://staging.example.jp/corp"
    menu = s["KIZUNA_MENUS"]["main"]  # type: ignore[index]
    assert menu[0]["url"] == "/corp/"
    assert settings("")["KIZUNA_SITE_URL"] == ""
    assert site_path_prefix("https://a.jp") == ""
    assert site_path_prefix("https://a.jp/x/") == "/x"
