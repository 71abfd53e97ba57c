"""Groups and their members, without HTTP.

- A group's ``key`` (``^[a-z][a-z0-9_-]*$``, at most 50) is what access rules name
  (``group:doctors``): it is fixed at creation. Renaming changes the labels (ja/en) and the
  description; a different key is refused (``key_immutable``): make a new group, move the
  members, delete the old one, and change the rules that named it.
- Members are records of **the member table** (``is_member_table``); without one, adding
  members is refused (``no_member_table``). A membership row carries the table's id, so
  marking another table as the member table never reads old rows as its records.
- Every change is in the audit log; each membership change is also a history row on the
  member's record (source ``groups``, ``{"groups": {"before": [...], "after": [...]}}``) with
  the record's version unchanged (a group is not a field: an edit form open meanwhile is
  not made stale).
- A group with members is deleted only with ``force`` (the count is in the refusal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.audit import services as audit
from api.customers import records
from api.customers.models import RecordHistory
from api.customers.services import Design, delete_orphans, list_designs
from api.customers.types import FieldType, column_name
from api.db import utcnow
from api.errors import Conflict, FieldError, NotFound, ValidationFailed
from api.groups.models import GroupMembership, MemberGroup
from api.principal import Principal
from api.security import revocation

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")
KEY_MAX = 50
DESCRIPTION_MAX = 2000
LANGUAGES = ("ja", "en")
MAX_IDS = 1_000  # records by id in one request; more go through the bulk action (a job)
SOURCE = "groups"  # the history rows' source

MEMBERSHIP = GroupMembership.__table__  # type: ignore[attr-defined]
GROUP = MemberGroup.__table__  # type: ignore[attr-defined]


def _invalid(field: str, message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    return ValidationFailed(
        detail=f"{field}: {message}",
        errors=[FieldError(field, message, code, params=params or None)],
    )


# ------------------------------------------------------------------ the member table


def member_design(session: Session) -> Design:
    """The member table's design; 409 ``no_member_table`` when no table is marked."""
    design = next((d for d in list_designs(session) if d.table.is_member_table), None)
    if design is None:
        raise Conflict(
            detail="No table is the member table: mark one in its design first",
            code="no_member_table",
        )
    return design


def record_label(design: Design, row: Any) -> str:
    """A record's display name, as the admin names it (``customers/design.js`` labelField):
    the field ``name`` if it is text-like, else the first text field, else the first text-like
    one; ``#id`` when that has no value."""
    text_like = {FieldType.text, FieldType.furigana, FieldType.email, FieldType.phone,
                 FieldType.postal_code, FieldType.url}  # fmt: skip
    specs = [s for _, s in design.active()]
    field = (
        next((s for s in specs if s.key == "name" and s.type in text_like), None)
        or next((s for s in specs if s.type == FieldType.text), None)
        or next((s for s in specs if s.type in text_like), None)
    )
    data = row._mapping
    value = data.get(column_name(field.key)) if field is not None else None
    return f"#{data['id']}" if value in (None, "") else str(value)


# ------------------------------------------------------------------ groups


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise _invalid("key", "is required", "required")
    if len(key) > KEY_MAX:
        raise _invalid("key", f"at most {KEY_MAX} characters", "too_long", max=KEY_MAX)
    if not KEY_PATTERN.match(key):
        raise _invalid(
            "key",
            "lower-case letters, digits, '_' and '-', starting with a letter",
            "invalid_group_key",
        )
    return key


def _check_label(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        value = dict.fromkeys(LANGUAGES, value)
    if not isinstance(value, dict):
        raise _invalid("label", "must be a text or {ja, en}")
    out: dict[str, str] = {}
    errors: list[FieldError] = []
    for lang, text in value.items():
        if lang not in LANGUAGES:
            errors.append(
                FieldError(f"label.{lang}", "is not a language (ja, en)", "unknown_field")
            )
        elif text is None or (isinstance(text, str) and not text.strip()):
            continue
        elif not isinstance(text, str) or len(text) > 200:
            errors.append(FieldError(f"label.{lang}", "must be a text of 1 to 200 characters"))
        elif any(ord(ch) < 32 for ch in text):
            errors.append(
                FieldError(f"label.{lang}", "must be one line without control characters")
            )
        else:
            out[lang] = text.strip()
    if errors:
        raise ValidationFailed(detail=f"{errors[0].field}: {errors[0].message}", errors=errors)
    if not out:
        raise _invalid("label", "give a name in Japanese or English", "required")
    return out


def _check_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > DESCRIPTION_MAX:
        raise _invalid(
            "description", f"at most {DESCRIPTION_MAX} characters", "too_long", max=DESCRIPTION_MAX
        )
    return value.strip()


def _snapshot(group: MemberGroup) -> dict[str, Any]:
    return {"key": group.key, "label": dict(group.label), "description": group.description}


def get_group(session: Session, key: str, *, lock: bool = False) -> MemberGroup:
    query = select(MemberGroup).where(MemberGroup.key == key)
    if lock:
        query = query.with_for_update()
    group = session.exec(query).first()
    if group is None:
        raise NotFound(detail=f"There is no group {key!r}", code="group_not_found")
    return group


def _members_query(session: Session, actor: Principal | None) -> tuple[Design | None, Any]:
    """(member design, a condition on the membership table: rows of live member records the
    actor may see); (None, false) without a member table."""
    try:
        design = member_design(session)
    except Conflict:
        return None, sa.false()
    table = design.sa_table()
    visible = sa.select(table.c.id).where(
        records._owner_filter(design, actor, table) if actor is not None else sa.true()
    )
    return design, sa.and_(
        MEMBERSHIP.c.table_id == design.table.id, MEMBERSHIP.c.record_id.in_(visible)
    )


def member_counts(session: Session, actor: Principal | None = None) -> dict[int, int]:
    _, condition = _members_query(session, actor)
    rows = session.connection().execute(
        sa.select(MEMBERSHIP.c.group_id, sa.func.count())
        .where(condition)
        .group_by(MEMBERSHIP.c.group_id)
    )
    return {int(g): int(n) for g, n in rows}


@dataclass(frozen=True)
class GroupInfo:
    group: MemberGroup
    members: int


def list_groups(session: Session, actor: Principal | None = None) -> list[GroupInfo]:
    counts = member_counts(session, actor)
    groups = session.exec(select(MemberGroup).order_by(col(MemberGroup.key))).all()
    return [GroupInfo(g, counts.get(g.id or 0, 0)) for g in groups]


def group_info(session: Session, key: str, actor: Principal | None = None) -> GroupInfo:
    group = get_group(session, key)
    return GroupInfo(group, member_counts(session, actor).get(group.id or 0, 0))


def create_group(
    session: Session, actor: Principal, key: Any, label: Any, description: Any = None
) -> MemberGroup:
    key = _check_key(key)
    group = MemberGroup(
        key=key, label=_check_label(label), description=_check_description(description)
    )
    if session.exec(select(MemberGroup.id).where(MemberGroup.key == key)).first() is not None:
        raise Conflict(
            detail=f"A group {key!r} exists already",
            code="group_key_taken",
            errors=[FieldError("key", "is taken by another group", "group_key_taken")],
        )
    session.add(group)
    session.flush()
    audit.record(
        session, actor, "groups.group.create", target_type="member_group", target_id=key,
        after=_snapshot(group),
    )  # fmt: skip
    return group


def update_group(
    session: Session,
    actor: Principal,
    key: str,
    *,
    new_key: Any = None,
    label: Any = None,
    description: Any = None,
) -> MemberGroup:
    """Rename (labels) and describe; the key stays (``key_immutable`` when another is given)."""
    group = get_group(session, key, lock=True)
    if new_key is not None and new_key != group.key:
        raise _invalid(
            "key",
            "a group's key cannot change: access rules name it; create a new group instead",
            "key_immutable",
        )
    before = _snapshot(group)
    if label is not None:
        group.label = _check_label(label)
    if description is not None:
        group.description = _check_description(description)
    after = _snapshot(group)
    if after != before:
        group.updated_at = utcnow()
        session.add(group)
        old, new = audit.changed(before, after)
        audit.record(
            session, actor, "groups.group.update", target_type="member_group", target_id=key,
            before=old, after=new,
        )  # fmt: skip
    return group


def delete_group(session: Session, actor: Principal, key: str, *, force: bool = False) -> int:
    """Delete a group; one with members only with ``force``. Each member's record gets a
    history row. Returns how many members it had."""
    group = get_group(session, key, lock=True)
    assert group.id is not None
    design, condition = _members_query(session, None)
    ids = [
        int(r)
        for (r,) in session.connection().execute(
            sa.select(MEMBERSHIP.c.record_id).where(MEMBERSHIP.c.group_id == group.id, condition)
        )
    ]
    if ids and not force:
        raise Conflict(
            detail=f"Group {key!r} has {len(ids)} members: remove them first, or confirm",
            code="group_not_empty",
            extra={"members": len(ids)},
        )
    if design is not None and ids:
        before = groups_of(session, design.table.id or 0, ids)
    session.connection().execute(sa.delete(MEMBERSHIP).where(MEMBERSHIP.c.group_id == group.id))
    revocation.members_changed(session, ids)
    if design is not None and ids:
        _history(session, design, actor, ids, before, groups_of(session, design.table.id or 0, ids))
    audit.record(
        session, actor, "groups.group.delete", target_type="member_group", target_id=key,
        before={**_snapshot(group), "members": len(ids)},
    )  # fmt: skip
    session.delete(group)
    session.flush()
    return len(ids)


# ------------------------------------------------------------------ members


# One statement object for every call: SQLAlchemy keys its compiled-statement cache on it, so
# a log-in or a token renewal neither builds nor compiles it again.
_GROUPS_OF = (
    sa.select(MEMBERSHIP.c.record_id, GROUP.c.key)
    .join(GROUP, GROUP.c.id == MEMBERSHIP.c.group_id)
    .where(
        MEMBERSHIP.c.table_id == sa.bindparam("table_id"),
        MEMBERSHIP.c.record_id.in_(sa.bindparam("ids", expanding=True)),
    )
    .order_by(MEMBERSHIP.c.record_id, GROUP.c.key)
)


def groups_of(session: Session, table_id: int, record_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each record's group keys (sorted; a record in none is absent)."""
    ids = sorted(set(record_ids))
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), 1_000):
        rows = session.connection().execute(
            _GROUPS_OF, {"table_id": table_id, "ids": ids[start : start + 1_000]}
        )
        for rid, gkey in rows:
            out.setdefault(int(rid), []).append(str(gkey))
    return out


def _history(
    session: Session,
    design: Design,
    actor: Principal,
    ids: Sequence[int],
    before: dict[int, list[str]],
    after: dict[int, list[str]],
    *,
    source: str = SOURCE,
    batch_id: int | None = None,
) -> None:
    table = design.sa_table()
    versions = {
        int(i): int(v)
        for i, v in session.connection().execute(
            sa.select(table.c.id, table.c.version).where(table.c.id.in_(list(ids)))
        )
    }
    now = utcnow()
    rows = [
        {
            "table_id": design.table.id,
            "record_id": rid,
            "version": versions.get(rid, 1),
            "at": now,
            "action": "update",
            "source": source,
            "actor_type": actor.kind,
            "actor_id": actor.id,
            "actor_label": actor.label,
            "batch_id": batch_id,
            "changes": {"groups": {"before": before.get(rid, []), "after": after.get(rid, [])}},
        }
        for rid in ids
        if before.get(rid, []) != after.get(rid, [])
    ]
    if rows:
        session.connection().execute(sa.insert(RecordHistory.__table__), rows)  # type: ignore[attr-defined]


def _check_ids(record_ids: Any, field: str = "record_ids") -> list[int]:
    if not isinstance(record_ids, list) or not record_ids:
        raise _invalid(field, "give at least one record id", "empty")
    if len(record_ids) > MAX_IDS:
        raise _invalid(
            field, f"at most {MAX_IDS} records; use the bulk action for more", "too_many",
            max=MAX_IDS,
        )  # fmt: skip
    if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in record_ids):
        raise _invalid(field, "must be record ids (positive integers)")
    return sorted(set(record_ids))


def _existing(session: Session, design: Design, ids: Sequence[int], field: str) -> None:
    table = design.sa_table()
    found = {
        int(i)
        for (i,) in session.connection().execute(
            sa.select(table.c.id).where(table.c.id.in_(list(ids)))
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(str(i) for i in missing[:10])
        raise _invalid(
            field, f"{design.key} has no record {shown}", "member_not_found",
            ids=shown, count=len(missing),
        )  # fmt: skip


def change_members(
    session: Session,
    actor: Principal,
    key: str,
    record_ids: Any,
    *,
    add: bool,
    source: str = SOURCE,
    batch_id: int | None = None,
    checked: bool = False,
    history: bool = True,
) -> tuple[int, int]:
    """Add (or remove) records of the member table to (from) group ``key``:
    ``(changed, unchanged)``. Unknown record ids are refused as a whole (nothing written)."""
    design = member_design(session)
    group = get_group(session, key)
    ids = record_ids if checked else _check_ids(record_ids)
    if not checked:
        _existing(session, design, ids, "record_ids")
    table_id = design.table.id
    assert table_id is not None
    assert group.id is not None
    before = groups_of(session, table_id, ids)
    present = {rid for rid, keys in before.items() if key in keys}
    if add:
        todo = [i for i in ids if i not in present]
        if todo:
            session.connection().execute(
                sa.insert(MEMBERSHIP),
                [{"group_id": group.id, "table_id": table_id, "record_id": i} for i in todo],
            )
    else:
        todo = [i for i in ids if i in present]
        if todo:
            session.connection().execute(
                sa.delete(MEMBERSHIP).where(
                    MEMBERSHIP.c.group_id == group.id,
                    MEMBERSHIP.c.table_id == table_id,
                    MEMBERSHIP.c.record_id.in_(todo),
                )
            )
    if todo:
        # The members' cached access tokens carry their groups: stale after the commit
        # (api.security.revocation); each is renewed with the new groups on its next request.
        revocation.members_changed(session, todo)
        after = {i: sorted({*before.get(i, [])} ^ {key}) for i in todo}
        if history:  # False: the caller's own history row says it (an import's create)
            _history(session, design, actor, todo, before, after, source=source, batch_id=batch_id)
        if batch_id is None:
            audit.record(
                session, actor, f"groups.members.{'add' if add else 'remove'}",
                target_type="member_group", target_id=key,
                after={"record_ids": todo[:100], "count": len(todo)},
            )  # fmt: skip
    return len(todo), len(ids) - len(todo)


@dataclass(frozen=True)
class MembersPage:
    items: list[dict[str, Any]]
    total: int


def list_members(
    session: Session, actor: Principal, key: str, *, offset: int = 0, limit: int = 50
) -> MembersPage:
    """A group's members the actor may see, by record id, a page at a time."""
    group = get_group(session, key)
    design, condition = _members_query(session, actor)
    if design is None:
        return MembersPage([], 0)
    where = sa.and_(MEMBERSHIP.c.group_id == group.id, condition)
    conn = session.connection()
    total = int(
        conn.execute(sa.select(sa.func.count()).select_from(MEMBERSHIP).where(where)).scalar_one()
    )
    ids = [
        int(r)
        for (r,) in conn.execute(
            sa.select(MEMBERSHIP.c.record_id)
            .where(where)
            .order_by(MEMBERSHIP.c.record_id)
            .offset(offset)
            .limit(limit)
        )
    ]
    table = design.sa_table()
    rows = {
        int(r._mapping["id"]): r for r in conn.execute(sa.select(table).where(table.c.id.in_(ids)))
    }
    items = [
        {"id": i, "label": record_label(design, rows[i]), "table": design.key}
        for i in ids
        if i in rows
    ]
    return MembersPage(items, total)


def record_groups(
    session: Session, actor: Principal, record_id: int
) -> tuple[Design, list[MemberGroup]]:
    """The groups of one member (404 for a record the actor cannot see)."""
    design = member_design(session)
    records._fetch(session, design, actor, record_id)
    keys = groups_of(session, design.table.id or 0, [record_id]).get(record_id, [])
    groups = session.exec(
        select(MemberGroup).where(col(MemberGroup.key).in_(keys)).order_by(col(MemberGroup.key))
    ).all()
    return design, list(groups)


def set_record_groups(
    session: Session, actor: Principal, record_id: int, keys: Any
) -> list[MemberGroup]:
    """Make the member's groups exactly ``keys`` (unknown keys refused, naming them)."""
    design = member_design(session)
    records._fetch(session, design, actor, record_id, lock=True)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _invalid("groups", "must be a list of group keys")
    wanted = set(keys)
    known = {g.key: g for g in session.exec(select(MemberGroup)).all()}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise _invalid(
            "groups", f"no such group: {', '.join(unknown)}", "group_not_found",
            keys=", ".join(unknown),
        )  # fmt: skip
    table_id = design.table.id or 0
    before = groups_of(session, table_id, [record_id]).get(record_id, [])
    for gkey in sorted(wanted - set(before)):
        change_members(session, actor, gkey, [record_id], add=True, checked=True)
    for gkey in sorted(set(before) - wanted):
        change_members(session, actor, gkey, [record_id], add=False, checked=True)
    return [known[k] for k in sorted(wanted)]


def carry_over(
    session: Session, actor: Principal, survivor: int, sources: Sequence[int]
) -> list[str]:
    """Records of the member table merged (``api.customers.merge``): the survivor joins every
    group a source was in, so the person keeps what they could read. Returns the keys added
    (each with its history row and the survivor's tokens made stale)."""
    design = member_design(session)
    held = groups_of(session, design.table.id or 0, [survivor, *sources])
    wanted = sorted({k for s in sources for k in held.get(s, [])} - set(held.get(survivor, [])))
    for key in wanted:
        change_members(session, actor, key, [survivor], add=True, checked=True)
    return wanted


# ------------------------------------------------------------------ housekeeping


def sweep(session: Session) -> int:
    """Remove memberships whose record is gone."""
    return delete_orphans(session, MEMBERSHIP)
