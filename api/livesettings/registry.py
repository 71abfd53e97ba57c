"""The settings staff may change live: key, type, default and bounds. Domains add theirs here.

Only keys listed here can be stored; the admin screen is generated from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingDef:
    key: str
    type: str  # string | text | int | bool | email | choice
    default: Any
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    public: bool = False  # readable without staff login (e.g. by the site's scripts)


SETTINGS: tuple[SettingDef, ...] = (
    SettingDef("site.name", "string", "Kizuna", max_length=200, public=True),
    SettingDef("mail.sender_name", "string", "Kizuna", max_length=200),
    SettingDef("mail.sender_address", "email", "no-reply@example.jp"),
    SettingDef(
        "mail.footer",
        "text",
        "このメールは Kizuna から送信されています。\nThis message was sent by Kizuna.",
        max_length=4000,
    ),
    SettingDef("password.min_length", "int", 12, min=8, max=128),
    SettingDef("password.require_lowercase", "bool", False),
    SettingDef("password.require_uppercase", "bool", False),
    SettingDef("password.require_digit", "bool", False),
    SettingDef("password.require_symbol", "bool", False),
)

BY_KEY: dict[str, SettingDef] = {s.key: s for s in SETTINGS}
