"""Reading and changing live settings. Values are validated against the registry and every
change goes to the audit log."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from api import fields
from api.audit import services as audit
from api.db import utcnow
from api.errors import FieldError
from api.livesettings.models import Setting
from api.livesettings.registry import BY_KEY, SETTINGS, SettingDef
from api.principal import Principal
from api.security.passwords import PasswordPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingValue:
    definition: SettingDef
    value: Any
    updated_at: datetime | None
    updated_by: str | None


def _effective(definition: SettingDef, stored: Any) -> Any:
    """The value in force. One stored before its rule existed (a sender name with U+2028 would
    stop every mail) and now refused by the field gives way to the default."""
    result = definition.field.clean(stored, name=definition.key)
    if result.ok:
        return result.value
    log.warning(
        "setting %s: the stored value is not valid (%s); the default is used until it is changed",
        definition.key,
        result.errors[0].code,
    )
    return definition.default


def get(session: Session, key: str) -> Any:
    definition = BY_KEY[key]
    row = session.get(Setting, key)
    return definition.default if row is None else _effective(definition, row.value)


def get_many(session: Session, prefix: str = "") -> dict[str, Any]:
    rows = {r.key: r.value for r in session.exec(select(Setting)).all()}
    return {
        s.key: _effective(s, rows[s.key]) if s.key in rows else s.default
        for s in SETTINGS
        if s.key.startswith(prefix)
    }


def list_all(session: Session) -> list[SettingValue]:
    rows = {r.key: r for r in session.exec(select(Setting)).all()}
    out = []
    for definition in SETTINGS:
        row = rows.get(definition.key)
        out.append(
            SettingValue(
                definition,
                definition.default if row is None else _effective(definition, row.value),
                row.updated_at if row else None,
                row.updated_by if row else None,
            )
        )
    return out


def password_policy(session: Session) -> PasswordPolicy:
    values = get_many(session, "password.")
    return PasswordPolicy(
        min_length=int(values["password.min_length"]),
        require_lowercase=bool(values["password.require_lowercase"]),
        require_uppercase=bool(values["password.require_uppercase"]),
        require_digit=bool(values["password.require_digit"]),
        require_symbol=bool(values["password.require_symbol"]),
    )


def site_time_zone(session: Session) -> ZoneInfo:
    """The zone dates and times are typed and shown in (``site.time_zone``, JST by default)."""
    return ZoneInfo(str(get(session, "site.time_zone")))


def _coerce(definition: SettingDef, raw: Any) -> tuple[Any, FieldError | None]:
    result = definition.field.clean(raw, name=definition.key)
    return (result.value, None) if result.ok else (None, result.errors[0])


def update(session: Session, actor: Principal, values: Mapping[str, Any]) -> list[SettingValue]:
    """Validate all values first; write all or nothing."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for key, raw in values.items():
        definition = BY_KEY.get(key)
        if definition is None:
            errors.append(FieldError(key, "is not a known setting", "unknown_setting"))
            continue
        value, problem = _coerce(definition, raw)
        if problem:
            errors.append(problem)
        else:
            cleaned[key] = value
    fields.raise_for(errors, "Some settings are not valid")
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    now = utcnow()
    for key, value in cleaned.items():
        row = session.get(Setting, key)
        old = BY_KEY[key].default if row is None else row.value
        if old == value:
            continue
        before[key], after[key] = old, value
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=now, updated_by=actor.label))
        else:
            row.value, row.updated_at, row.updated_by = value, now, actor.label
            session.add(row)
    if after:
        audit.record(
            session, actor, "settings.update", target_type="settings", before=before, after=after
        )
        session.flush()
    return list_all(session)
