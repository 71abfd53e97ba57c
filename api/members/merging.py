"""Member records merged (``api.customers.merge``): what becomes of their log-ins. No HTTP.

The person keeps one way in:

- the survivor's account, when it has one, stays as it is;
- otherwise the best account of the sources moves to the survivor (``record_id`` changes):
  an active one before any other state, then the most recently used; a withdrawn account is
  never carried (the person left). Its password keeps working, under the survivor's log-in
  address;
- every other account of a source is deleted (with its sessions and links, by the foreign
  keys' cascade).

Every session of a moved or deleted account is revoked at once (the tokens name the source's
record id), and the funnel events of the sources count for the survivor. What happened is
returned for the merge's history entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.members.models import MemberAccount, MemberEvent
from api.members.services import end_sessions

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _rank(account: MemberAccount) -> tuple[bool, bool, datetime, datetime]:
    def aware(value: datetime | None) -> datetime:
        if value is None:
            return _EPOCH
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return (
        account.status == "active",
        account.password_hash is not None,
        aware(account.last_login_at),
        aware(account.created_at),
    )


def carry_over(
    session: Session, table_id: int, survivor: int, sources: Sequence[int]
) -> dict[str, Any] | None:
    """The accounts of ``sources`` after they merge into ``survivor`` (see the module);
    ``None`` when no record involved had an account."""
    accounts = {
        a.record_id: a
        for a in session.exec(
            select(MemberAccount).where(
                MemberAccount.table_id == table_id,
                col(MemberAccount.record_id).in_([survivor, *sources]),
            )
        ).all()
    }
    session.execute(
        sa.update(MemberEvent)
        .where(col(MemberEvent.table_id) == table_id, col(MemberEvent.record_id).in_(sources))
        .values(record_id=survivor)
    )
    from_sources = [accounts[s] for s in sources if s in accounts]
    if not from_sources:
        return None
    moved: MemberAccount | None = None
    if survivor not in accounts:
        candidates = [a for a in from_sources if a.status != "withdrawn"]
        if candidates:
            moved = max(candidates, key=_rank)
    ended = [s for a in from_sources for s in end_sessions(session, a.id or 0)]
    removed = [a for a in from_sources if a is not moved]
    for account in removed:
        session.delete(account)
    if moved is not None:
        session.flush()  # the deletions first: (table_id, record_id) is unique
        moved.record_id = survivor
        session.add(moved)
    session.flush()
    return {
        "kept": "survivor" if survivor in accounts else ("moved" if moved else "none"),
        "moved_from": moved and _source_of(moved, accounts),
        "removed_from": sorted(_source_of(a, accounts) for a in removed),
        "sessions_ended": len(ended),
    }


def _source_of(account: MemberAccount, accounts: dict[int, MemberAccount]) -> int:
    return next(record for record, a in accounts.items() if a is account)
