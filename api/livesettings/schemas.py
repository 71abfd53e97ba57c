"""Request and response bodies of the live-settings API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class SettingOut(msgspec.Struct, kw_only=True):
    key: str
    value: Any
    default: Any
    type: str
    choices: list[str] | None
    min: int | None
    max: int | None
    updated_at: datetime | None
    updated_by: str | None


class SettingsOut(msgspec.Struct, kw_only=True):
    items: list[SettingOut]


class SettingsUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    values: dict[str, Any]
