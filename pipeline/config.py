"""Read and check `content/site.toml`, the site settings file that editors own.

Editors edit this file by hand, so every mistake is reported with the file, the key and what
to write instead; unknown keys are refused rather than ignored, because a misspelt key that is
silently ignored looks like a setting that "does not work".
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SITE_CONFIG_NAME = "site.toml"

_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_MENU_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SITE_KEYS = {"name", "name_en", "url", "default_lang", "timezone", "description"}
_MENU_ITEM_KEYS = {"title", "title_en", "url"}
_TOP_KEYS = {"site", "menu", "access"}


class ConfigError(Exception):
    """The site settings file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class MenuItem:
    """One link of a menu; `url` is a site path ("/about/") or an absolute http(s) URL."""

    title: str
    url: str
    title_en: str | None = None

    @property
    def is_external(self) -> bool:
        return self.url.startswith(("http://", "https://"))


@dataclass(frozen=True)
class SiteConfig:
    """The checked contents of `site.toml`."""

    path: Path
    name: str
    name_en: str
    url: str
    default_lang: str
    timezone: str
    description: str = ""
    menus: dict[str, tuple[MenuItem, ...]] = field(default_factory=dict)
    # Folder access defaults (glob -> rule), compiled by pipeline.access.FolderRules (a rule
    # that does not parse fails the build naming the line of site.toml).
    access: dict[str, str] = field(default_factory=dict)


def load_site_config(path: Path) -> SiteConfig:
    """Parse and check the site settings file at `path`; raise ConfigError if it is unusable."""
    label = _label(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found (every site needs one)") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line N, column M)".
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    return parse_site_config(data, path=path)


def parse_site_config(data: dict[str, Any], *, path: Path) -> SiteConfig:
    """Check already-parsed TOML data; split from `load_site_config` so tests can feed dicts."""
    label = _label(path)
    _refuse_unknown(data, _TOP_KEYS, label, where="")

    site = data.get("site")
    if not isinstance(site, dict):
        raise ConfigError(f"{label}: missing the [site] table (name, name_en, url, ...)")
    _refuse_unknown(site, _SITE_KEYS, label, where="site.")

    name = _required_text(site, "name", label, "site.")
    name_en = _required_text(site, "name_en", label, "site.")
    url = _site_url(site.get("url"), label)
    default_lang = _optional_text(site, "default_lang", label, "site.") or "ja"
    if not _LANG_RE.match(default_lang):
        raise ConfigError(
            f"{label}: site.default_lang = {default_lang!r} is not a language code "
            '(write e.g. "ja" or "en")'
        )
    timezone = _optional_text(site, "timezone", label, "site.") or "Asia/Tokyo"
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{label}: site.timezone = {timezone!r} is not a known time zone "
            '(write e.g. "Asia/Tokyo")'
        ) from None
    description = _optional_text(site, "description", label, "site.") or ""

    return SiteConfig(
        path=path,
        name=name,
        name_en=name_en,
        url=url,
        default_lang=default_lang,
        timezone=timezone,
        description=description,
        menus=_menus(data.get("menu", {}), label),
        access=_access(data.get("access", {}), label),
    )


def _label(path: Path) -> str:
    """Show the file as editors know it: `content/site.toml`, not a long absolute path."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _refuse_unknown(table: dict[str, Any], known: set[str], label: str, *, where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{label}: unknown key {where}{unknown[0]} "
            f"(known keys here: {', '.join(sorted(known))})"
        )


def _required_text(table: dict[str, Any], key: str, label: str, where: str) -> str:
    if key not in table:
        raise ConfigError(f"{label}: missing {where}{key}")
    value = _optional_text(table, key, label, where)
    if not value:
        raise ConfigError(f"{label}: {where}{key} must not be empty")
    return value


def _optional_text(table: dict[str, Any], key: str, label: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(
            f"{label}: {where}{key} must be text in quotes, not {type(value).__name__}"
        )
    return value.strip()


def _site_url(value: Any, label: str) -> str:
    if value is None:
        raise ConfigError(f'{label}: missing site.url (write e.g. "https://www.example.jp")')
    if not isinstance(value, str):
        raise ConfigError(f"{label}: site.url must be text in quotes")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"{label}: site.url = {value!r} is not a site address "
            '(write e.g. "https://www.example.jp" or "https://www.example.jp/corp")'
        )
    return url


def _menus(value: Any, label: str) -> dict[str, tuple[MenuItem, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{label}: menu must be a table of menus ([[menu.main]] ...)")
    menus: dict[str, tuple[MenuItem, ...]] = {}
    for name, items in value.items():
        if not _MENU_NAME_RE.match(name):
            raise ConfigError(
                f"{label}: menu.{name}: menu names use a-z, 0-9 and _ (e.g. main, footer)"
            )
        if not isinstance(items, list):
            raise ConfigError(f"{label}: menu.{name} must be a list of items ([[menu.{name}]])")
        menus[name] = tuple(
            _menu_item(item, f"menu.{name}[{i}]", label) for i, item in enumerate(items, start=1)
        )
    return menus


def _menu_item(item: Any, where: str, label: str) -> MenuItem:
    if not isinstance(item, dict):
        raise ConfigError(f"{label}: {where} must be a table with title and url")
    _refuse_unknown(item, _MENU_ITEM_KEYS, label, where=f"{where}.")
    title = _required_text(item, "title", label, f"{where}.")
    url = _required_text(item, "url", label, f"{where}.")
    if not (url.startswith("/") or url.startswith(("http://", "https://"))) or url.startswith("//"):
        raise ConfigError(
            f"{label}: {where}.url = {url!r} must be a site path starting with / "
            '(e.g. "/about/") or an http(s):// address'
        )
    return MenuItem(
        title=title, url=url, title_en=_optional_text(item, "title_en", label, f"{where}.")
    )


def _access(value: Any, label: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f'{label}: access must be a table of "folder glob" = "rule"')
    access: dict[str, str] = {}
    for glob, rule in value.items():
        if isinstance(rule, dict):
            raise ConfigError(
                f'{label}: access: write the folder in quotes, e.g. "members/**" = "members" '
                f"(got a table named {glob!r})"
            )
        if not isinstance(rule, str) or not rule.strip():
            raise ConfigError(f'{label}: access."{glob}" must be a rule in quotes, e.g. "members"')
        if glob.startswith("/") or ".." in glob.split("/"):
            raise ConfigError(
                f'{label}: access."{glob}": folders are relative to content/, without / or ..'
            )
        access[glob] = rule.strip()
    return access
