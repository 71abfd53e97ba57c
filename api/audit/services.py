"""Recording and reading the audit log. Writers call :func:`record` in their own transaction,
so a change and its audit entry are committed together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.audit.models import AuditEntry
from api.db import paged
from api.principal import Principal

# Values never written to the audit log, whatever the caller passes.
REDACTED_KEYS = frozenset({"password", "password_hash", "token_hash", "secret"})


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in REDACTED_KEYS:
            out[key] = "[redacted]"
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, for compact before/after records."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    target_type: str = "",
    target_id: str | int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=_clean(before),
        after=_clean(after),
        ip=actor.ip,
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if action:
        query = query.where(col(AuditEntry.action).startswith(action, autoescape=True))
    if actor:
        query = query.where(col(AuditEntry.actor_label).contains(actor, autoescape=True))
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    order = (col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    return paged(session, query, *order, offset=offset, limit=limit)
