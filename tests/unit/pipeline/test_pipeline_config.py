"""`content/site.toml` parsing: what editors may write, and how mistakes are reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.config import ConfigError, load_site_config, parse_site_config

ROOT = Path(__file__).resolve().parents[3]
PATH = Path("/srv/kizuna/content/site.toml")


def minimal(**site: Any) -> dict[str, Any]:
    return {
        "site": {"name": "株式会社テスト", "name_en": "Test Inc.", "url": "https://a.jp/", **site}
    }


def test_example_site_settings_load() -> None:
    config = load_site_config(ROOT / "content" / "site.toml")
    assert config.name == "株式会社キズナ"
    assert config.name_en == "Kizuna Inc."
    assert config.url == "https://www.example.jp"
    assert (config.default_lang, config.timezone) == ("ja", "Asia/Tokyo")
    assert [item.url for item in config.menus["main"]][:2] == ["/", "/about/"]
    assert config.menus["main"][1].title_en == "About"
    assert config.access["members/**"] == "members"
    assert config.access["members/doctors/**"] == "group:doctors"


def test_defaults_and_trailing_slash() -> None:
    config = parse_site_config(minimal(), path=PATH)
    assert config.url == "https://a.jp"
    assert (config.default_lang, config.timezone, config.description) == ("ja", "Asia/Tokyo", "")
    assert config.menus == {}
    assert config.access == {}


def test_menu_items_and_external_links() -> None:
    data = minimal()
    data["menu"] = {
        "main": [
            {"title": "外部", "url": "https://example.com/"},
            {"title": "概要", "url": "/about/"},
        ]
    }
    items = parse_site_config(data, path=PATH).menus["main"]
    assert items[0].is_external
    assert not items[1].is_external
    assert items[1].title_en is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "missing the [site] table"),
        ({"site": {"name": "x", "url": "https://a.jp"}}, "missing site.name_en"),
        (minimal(name=""), "site.name must not be empty"),
        (minimal(url="www.example.jp"), "site.url = 'www.example.jp' is not a site address"),
        (minimal(url="https://a.jp/?x=1"), "is not a site address"),
        (minimal(default_lang="日本語"), "site.default_lang"),
        (minimal(timezone="Tokyo"), "site.timezone = 'Tokyo' is not a known time zone"),
        (minimal(color="red"), "unknown key site.color"),
        ({**minimal(), "theme": "x"}, "unknown key theme"),
        ({**minimal(), "menu": {"main": {"title": "x"}}}, "menu.main must be a list"),
        ({**minimal(), "menu": {"main": [{"title": "x"}]}}, "missing menu.main[1].url"),
        ({**minimal(), "menu": {"main": [{"title": "x", "url": "about"}]}}, "menu.main[1].url"),
        (
            {**minimal(), "menu": {"main": [{"title": "x", "url": "//evil.example"}]}},
            "menu.main[1].url",
        ),
        ({**minimal(), "menu": {"Main": []}}, "menu.Main"),
        ({**minimal(), "access": {"members": {"x": "y"}}}, "write the folder in quotes"),
        ({**minimal(), "access": {"members/**": ""}}, 'access."members/**" must be a rule'),
        ({**minimal(), "access": {"../x": "members"}}, "relative to content/"),
    ],
)
def test_mistakes_name_the_file_and_key(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_site_config(data, path=PATH)
    assert str(caught.value).startswith("content/site.toml: ")
    assert expected in str(caught.value)


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "content" / "site.toml"
    path.parent.mkdir()
    path.write_text('[site]\nname = "株式会社\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"content/site\.toml: not valid TOML: .*line 2"):
        load_site_config(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_bytes('[site]\nname = "株式会社"\n'.encode("cp932"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_site_config(path)
