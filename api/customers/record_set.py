"""A record set: "these records", "this view" or "this filter", resolved once for everyone who
acts on many records at a time (exports, bulk actions).

The rules are the list's (``records.list_records``): a sales rep sees only their own records in
an owner-only table, ``q`` searches the text fields, a saved view's filter is and-ed with any
``where`` and its sort applies. A selection (``ids``) is and-ed with the rest, so it never
reaches a record the list would not show.

Nothing here loads the whole set: :func:`iter_rows` walks it in the list's keyset order, a batch
at a time (``records._keyset``), and :func:`id_ranges` splits it into ranges of ids for jobs.
A job over a set (a bulk action on records, on a group's members) takes its units from
:func:`job_units` and says what it acts on with :func:`job_payload` and :func:`audit_summary`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from api.customers import records, search
from api.customers.services import Design, list_designs, load_design
from api.db import utcnow
from api.errors import FieldError, ValidationFailed
from api.jobs.kinds import UnitSpec
from api.principal import Principal

MAX_IDS = 100_000  # a selection named record by record; a whole view goes by its filter


@dataclass(frozen=True)
class RecordSet:
    design: Design
    condition: Any  # a SQL condition on design.sa_table()
    sort: str | None  # the view's (or the caller's) sort; None = newest first
    selection: dict[str, Any]  # what was asked, as plain values (for audit entries and jobs)
    key: str = ""  # the table's key (usable after the session that resolved the set closed)

    def query(self) -> Any:
        return sa.select(self.design.sa_table()).where(self.condition)

    def count(self, session: Session) -> int:
        table = self.design.sa_table()
        found = session.connection().execute(
            sa.select(sa.func.count()).select_from(table).where(self.condition)
        )
        return int(found.scalar_one())


def record_set(
    session: Session,
    actor: Principal,
    table_key: str,
    *,
    ids: Sequence[int] | None = None,
    view: int | None = None,
    where: Any = None,
    q: str | None = None,
    sort: str | None = None,
) -> RecordSet:
    """The records ``actor`` would see in the list with these parameters (and, when ``ids`` is
    given, only those of them). Bad input is a 422 naming the parameter, as in the list."""
    from api.customers import views
    from api.customers.query import compile_where, sort_columns

    design = load_design(session, table_key)
    table = design.sa_table()
    conditions = [records._owner_filter(design, actor, table)]
    condition = where
    if view is not None:
        saved = views.get_view(session, actor, table_key, view)
        if saved.conditions is not None:
            condition = saved.conditions if where is None else {"and": [saved.conditions, where]}
        sort = sort or saved.sort or None
    if condition is not None:
        conditions.append(
            compile_where(design, {d.key: d for d in list_designs(session)}, condition)
        )
    if q is not None:
        terms = search.parse_query(q)
        if terms:
            conditions.append(search.matches(design, terms))
    if ids is not None:
        if not ids:
            raise ValidationFailed(
                errors=[FieldError("ids", "select at least one record", "empty")]
            )
        if len(ids) > MAX_IDS:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "ids",
                        f"at most {MAX_IDS} records by id; use the view or filter instead",
                        "too_many",
                        params={"max": MAX_IDS},
                    )
                ]
            )
        conditions.append(table.c.id.in_(sorted({int(i) for i in ids})))
    if sort:
        sort_columns(design, sort)  # 422 at `sort` for an unknown or unsortable field
    selection = {
        "ids": sorted({int(i) for i in ids}) if ids is not None else None,
        "view": view,
        "where": where,
        "q": q,
        "sort": sort,
    }
    return RecordSet(design, sa.and_(*conditions), sort, selection, design.key)


def find_view(session: Session, actor: Principal, table_key: str, name: str) -> int:
    """A view the actor can see, by id or by name (the CLI's ``--view``)."""
    from api.customers import views

    for found in views.list_views(session, actor, table_key):
        if str(found.id) == name or found.name == name:
            assert found.id is not None
            return found.id
    raise ValidationFailed(
        errors=[FieldError("view", f"{table_key} has no view {name!r}", "view_not_found")]
    )


def iter_rows(session: Session, rs: RecordSet, *, batch: int = 2_000) -> Iterator[list[Any]]:
    """The set's rows in the list's order, ``batch`` at a time (keyset: each batch continues
    after the last row of the one before, so memory holds one batch whatever the size)."""
    from api.customers.query import sort_columns

    column, descending = sort_columns(rs.design, rs.sort)[0]
    cursor: str | None = None
    base = rs.query()
    while True:
        page = records._keyset(
            session, rs.design, base, column, descending, cursor=cursor, offset=0, limit=batch
        )
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def id_ranges(session: Session, rs: RecordSet, size: int) -> Iterator[tuple[int, int, int]]:
    """``(low, high, count)`` ranges of ids covering the set, about ``size`` records each, in
    id order (for a job's units): walks the ids alone, one batch of ``size`` at a time."""
    table = rs.design.sa_table()
    conn = session.connection()
    after = 0
    while True:
        found = [
            int(r[0])
            for r in conn.execute(
                sa.select(table.c.id)
                .where(rs.condition, table.c.id > after)
                .order_by(table.c.id)
                .limit(size)
            )
        ]
        if not found:
            return
        yield found[0], found[-1], len(found)
        after = found[-1]


def job_units(session: Session, rs: RecordSet, size: int) -> list[UnitSpec]:
    """A job's units over the set: about ``size`` records each, in id order. 422 ``empty``
    (on ``records``) when no record matches: there is nothing to do."""
    units = [
        UnitSpec(f"records {lo}–{hi}", {"lo": lo, "hi": hi})
        for lo, hi, _ in id_ranges(session, rs, size)
    ]
    if not units:
        message = "no record matches: nothing to do"
        raise ValidationFailed(
            detail=f"records: {message}", errors=[FieldError("records", message, "empty")]
        )
    return units


def job_payload(rs: RecordSet, count: int, actor: Principal) -> dict[str, Any]:
    """What a job over the set keeps of it: the selection (to resolve it again, unit by unit),
    how many records it held, when and by whom it was started."""
    return {
        "selection": {k: v for k, v in rs.selection.items() if k != "sort"},
        "count": count,
        "started_at": utcnow().isoformat(),
        "actor": actor.as_payload(),
    }


def audit_summary(rs: RecordSet) -> dict[str, Any]:
    """The selection as an audit entry says it: the view, filter and search given, and how many
    records were named one by one (not their ids)."""
    return {
        **{k: v for k, v in rs.selection.items() if v is not None and k not in ("ids", "sort")},
        "ids": len(rs.selection["ids"]) if rs.selection.get("ids") else None,
    }
