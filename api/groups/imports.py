"""The import's ``groups`` column (member table only): which groups each imported member is
in. Called by the import engine (``api/imports/engine.py``) at two points and nowhere else:
:func:`check` when a chunk is classified (dry run and run), :func:`apply` after a chunk's
records are written, in the chunk's transaction.

- The column is mapped to the pseudo-field ``groups`` (auto-mapped from a header ``groups``,
  ``group`` or ``グループ``), offered only when the table is the member table and has no field
  of that key.
- A cell holds group keys or labels (ja/en, compared like the mapping's names: width, case,
  kana and spaces do not matter), separated by ``;`` ``,`` ``、`` or ``；``.
- An unknown name refuses the row (``import_unknown_group``, naming the column and the names).
- The column **replaces** the member's groups: an empty cell takes the member out of all of
  them; a file without the column leaves groups alone. Changes are history rows with source
  ``import`` and the batch id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from api.customers.services import Design
from api.fields.chars import match_key
from api.groups import services
from api.groups.models import MemberGroup
from api.principal import Principal

if TYPE_CHECKING:
    from api.imports.rows import Plan, Row

KEY = "groups"  # the mapping's pseudo-field
HEADERS = ("groups", "group", "グループ")
SEPARATORS = re.compile(r"[;,、；，]")


def allowed(design: Design) -> bool:
    """Whether this table's imports may map a column to ``groups``."""
    return bool(design.table.is_member_table) and KEY not in design.specs


def _known(session: Session) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in session.exec(select(MemberGroup)).all():
        out.setdefault(match_key(group.key), group.key)
    for group in session.exec(select(MemberGroup)).all():
        for label in (group.label or {}).values():
            if label:
                out.setdefault(match_key(label), group.key)
    return out


def check(session: Session, plan: Plan, rows: Sequence[Row]) -> None:
    """Read each valid row's groups cell into ``row.groups``; unknown names refuse the row."""
    from api.imports.rows import reason

    index = plan.groups_column
    assert index is not None
    known = _known(session)
    for row in rows:
        if row.outcome or not row.cells:
            continue
        names = [n.strip() for n in SEPARATORS.split(row.cells[index]) if n.strip()]
        keys = [known.get(match_key(n)) for n in names]
        unknown = [n for n, k in zip(names, keys, strict=True) if k is None]
        if unknown:
            row.reasons.append(
                reason(index, None, "import_unknown_group", {"groups": ", ".join(unknown)})
            )
            row.outcome = "invalid"
            continue
        row.groups = sorted({k for k in keys if k is not None})


def apply(
    session: Session, plan: Plan, rows: Sequence[Row], actor: Principal, batch_id: int
) -> None:
    """Make each written member's groups what its cell says (after the chunk is written)."""
    wanted: dict[int, list[str]] = {}
    created: set[int] = set()  # their create history row lists their groups already
    for row in rows:
        if row.outcome not in ("new", "updated", "unchanged") or row.groups is None:
            continue
        record_id = row.record_id
        if record_id is not None and row.outcome == "new":
            created.add(record_id)
        if record_id is None and row.record is not None:
            record_id = int(row.record._mapping["id"])
        if record_id is not None:
            wanted[record_id] = row.groups
    if not wanted:
        return
    table_id = plan.design.table.id
    assert table_id is not None
    before = services.groups_of(session, table_id, wanted)
    adds: dict[str, list[int]] = {}
    removes: dict[str, list[int]] = {}
    for record_id, keys in wanted.items():
        now = set(before.get(record_id, []))
        for key in set(keys) - now:
            adds.setdefault(key, []).append(record_id)
        for key in now - set(keys):
            removes.setdefault(key, []).append(record_id)
    for changes, add in ((adds, True), (removes, False)):
        for key, ids in sorted(changes.items()):
            for part, history in (([i for i in ids if i not in created], True),
                                  ([i for i in ids if i in created], False)):  # fmt: skip
                if part:
                    services.change_members(
                        session, actor, key, sorted(part), add=add, source="import",
                        batch_id=batch_id, checked=True, history=history,
                    )  # fmt: skip


def undo(
    session: Session,
    actor: Principal,
    changes: Sequence[tuple[int, list[str], list[str]]],
    skip: Callable[[int, str | None, str, Any], None],
) -> int:
    """Undo an import's group changes: ``(record id, before, after)`` of its history rows, each
    one key added or removed (``apply`` changes one group at a time). A key whose membership is
    no longer what the import left is skipped as ``changed_since`` (with the member's groups
    now), as a field is; a group deleted since, ``cannot_restore``. Order-free, so the undo's
    chunks may split a member's rows. Returns how many were restored."""
    todo: list[tuple[int, str, bool]] = []
    for record_id, before, after in changes:
        diff = set(before) ^ set(after)
        if len(diff) != 1:
            skip(record_id, KEY, "cannot_restore", after)
            continue
        key = diff.pop()
        todo.append((record_id, key, key in after))
    if not todo:
        return 0
    design = services.member_design(session)
    now = services.groups_of(session, design.table.id or 0, {r for r, _, _ in todo})
    known = {g.key for g in session.exec(select(MemberGroup)).all()}
    restored = 0
    for record_id, key, joined in todo:
        current = now.get(record_id, [])
        if key not in known:
            skip(record_id, KEY, "cannot_restore", current)
        elif (key in current) != joined:
            skip(record_id, KEY, "changed_since", current)
        else:
            services.change_members(
                session, actor, key, [record_id], add=not joined, source="import", checked=True
            )
            restored += 1
    return restored
