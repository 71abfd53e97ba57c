"""The settings staff may change live: each key is a typed field (``api.fields``). Domains add
theirs here.

Only keys listed here can be stored; the admin screen is generated from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.fields import Field

# The API's ``type`` of a setting (what the admin screen builds its input from) for each field
# type; a field type not listed here is sent under its own name.
API_TYPES = {
    "text": "string",
    "long_text": "text",
    "integer": "int",
    "boolean": "bool",
    "email": "email",
    "select": "choice",
}


@dataclass(frozen=True)
class SettingDef:
    key: str
    field: Field  # type, bounds and default: the one definition of what the value may be
    public: bool = False  # readable without staff login (e.g. by the site's scripts)

    @property
    def type(self) -> str:
        return API_TYPES.get(self.field.type, self.field.type)

    @property
    def default(self) -> Any:
        return self.field.default

    @property
    def min(self) -> int | None:
        return self.field.min if isinstance(self.field.min, int) else None

    @property
    def max(self) -> int | None:
        return self.field.max if isinstance(self.field.max, int) else None

    @property
    def max_length(self) -> int | None:
        return self.field.max_length

    @property
    def choices(self) -> tuple[str, ...] | None:
        return self.field.choices


# The site's time zone: dates and times typed without an offset are read in it, and the admin
# and mails show moments in it. The zones of the countries Kizuna's users work from; the IANA
# database has more, but a long list of every zone helps nobody choose.
TIME_ZONES = (
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Jakarta",
    "Asia/Manila",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "UTC",
)


def _flag(key: str) -> SettingDef:
    return SettingDef(key, Field("boolean", required=True, default=False))


SETTINGS: tuple[SettingDef, ...] = (
    SettingDef(
        "site.name", Field("text", required=True, max_length=200, default="Kizuna"), public=True
    ),
    SettingDef(
        "site.time_zone",
        Field("select", required=True, choices=TIME_ZONES, default="Asia/Tokyo"),
        public=True,
    ),
    SettingDef("mail.sender_name", Field("text", required=True, max_length=200, default="Kizuna")),
    SettingDef("mail.sender_address", Field("email", required=True, default="no-reply@example.jp")),
    SettingDef(
        "mail.footer",
        Field(
            "long_text",
            max_length=4000,
            default="このメールは Kizuna から送信されています。\nThis message was sent by Kizuna.",
        ),
    ),
    SettingDef("password.min_length", Field("integer", required=True, min=8, max=128, default=12)),
    _flag("password.require_lowercase"),
    _flag("password.require_uppercase"),
    _flag("password.require_digit"),
    _flag("password.require_symbol"),
)

BY_KEY: dict[str, SettingDef] = {s.key: s for s in SETTINGS}
