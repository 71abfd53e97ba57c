"""Recording and reading the audit log. Writers call :func:`record` in their own transaction,
so a change and its audit entry are committed together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.audit.models import AuditEntry
from api.db import COUNT_CAP, Total, encode_cursor, estimate_total, keyset_page
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


# The list's order, newest first; the id breaks ties between entries of the same instant.
ORDER = ((col(AuditEntry.at), True), (col(AuditEntry.id), True))


def _key(entry: AuditEntry) -> tuple[datetime, int | None]:
    return entry.at, entry.id


def _filtered(
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
) -> SelectOfScalar[AuditEntry]:
    """Entries matching the filters. Codes (action, target type) are lower-case, so the input
    is lower-cased; the actor is searched case-insensitively in its label on every database."""
    query = select(AuditEntry)
    if action:
        query = query.where(col(AuditEntry.action).startswith(action.lower(), autoescape=True))
    if actor:
        query = query.where(
            func.lower(AuditEntry.actor_label).contains(actor.lower(), autoescape=True)
        )
    if target_type:
        query = query.where(AuditEntry.target_type == target_type.lower())
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    return query


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    total: Total  # exact up to COUNT_CAP, estimated beyond (the log grows without bound)
    next_cursor: str | None
    prev_cursor: str | None


def page_entries(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    cursor: str | None = None,
    offset: int = 0,
    limit: int = 50,
    count_cap: int = COUNT_CAP,
) -> AuditPage:
    """One page of the log, newest first.

    With a ``cursor`` (from a previous page's ``next_cursor``/``prev_cursor``) the page is
    found by keyset, at the same cost however deep it is; without one, ``offset`` works as it
    always did (for page numbers), and the page still carries the cursors to continue from.
    """
    query = _filtered(action=action, actor=actor, target_type=target_type, target_id=target_id)
    total = estimate_total(session, query, cap=count_cap)
    if cursor is not None or offset == 0:
        found = keyset_page(session, query, ORDER, _key, cursor=cursor, limit=limit)
        return AuditPage(found.items, total, found.next_cursor, found.prev_cursor)
    order = [c.desc() for c, _ in ORDER]
    rows = list(session.exec(query.order_by(*order).offset(offset).limit(limit + 1)).all())
    more, rows = len(rows) > limit, rows[:limit]
    return AuditPage(
        rows,
        total,
        encode_cursor("after", _key(rows[-1])) if rows and more else None,
        encode_cursor("before", _key(rows[0])) if rows else None,
    )


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
    """One page by offset and the total (exact up to COUNT_CAP): for scripts and tests."""
    page = page_entries(
        session,
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        offset=offset,
        limit=limit,
    )
    return page.items, page.total.value
