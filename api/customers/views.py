"""Saved views: a named filter + columns + sort on one table's list, private or shared.

Anyone who may write records saves views; a private view is its owner's alone, a shared one is
seen by everyone who reads the table and changed only by its owner or a designer. The default
view of a table (at most one, set by a designer) is what its list opens with; without one,
the list shows the fields marked "shown in lists", newest first. A view's filter, columns and
sort are checked against the table when saved (unknown fields are refused, pointing at them)
and again when used: a field retired since makes the view say so rather than show wrong rows.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, or_, select

from api.customers import permissions as perms
from api.customers.models import CustomerView
from api.customers.query import SYSTEM_FIELDS, compile_where, sort_columns
from api.customers.services import Design, list_designs, load_design
from api.db import utcnow
from api.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from api.principal import Principal

UNSET: Any = object()


def _check(session: Session, design: Design, conditions: Any, columns: Any, sort: str) -> None:
    if conditions is not None:
        compile_where(design, {d.key: d for d in list_designs(session)}, conditions)
    if not isinstance(columns, list):
        raise ValidationFailed(errors=[FieldError("columns", "must be a list of fields", "type")])
    active = {spec.key for _, spec in design.active()} | set(SYSTEM_FIELDS)
    errors = [
        FieldError(f"columns[{i}]", f"is not a field of {design.key}", "unknown_field")
        for i, key in enumerate(columns)
        if key not in active
    ]
    if len(set(columns)) != len(columns):
        errors.append(FieldError("columns", "lists a field twice", "duplicate"))
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )
    if sort:
        sort_columns(design, sort)


def default_columns(design: Design) -> list[str]:
    return [spec.key for _, spec in design.active() if spec.shown_in_list]


def list_views(session: Session, actor: Principal, table_key: str) -> list[CustomerView]:
    """The shared views of the table and the caller's own, the default first."""
    design = load_design(session, table_key)
    return list(
        session.exec(
            select(CustomerView)
            .where(
                CustomerView.table_id == design.table.id,
                or_(col(CustomerView.shared), CustomerView.owner_id == actor.staff_id),
            )
            .order_by(col(CustomerView.is_default).desc(), col(CustomerView.name))
        ).all()
    )


def get_view(session: Session, actor: Principal, table_key: str, view_id: int) -> CustomerView:
    design = load_design(session, table_key)
    view = session.get(CustomerView, view_id)
    if (
        view is None
        or view.table_id != design.table.id
        or not (view.shared or view.owner_id == actor.staff_id)
    ):
        raise NotFound(detail=f"{table_key} has no view {view_id}", code="view_not_found")
    return view


def _unset_default(session: Session, design: Design, keep: int | None) -> None:
    for other in session.exec(
        select(CustomerView).where(
            CustomerView.table_id == design.table.id, col(CustomerView.is_default)
        )
    ).all():
        if other.id != keep:
            other.is_default = False
            session.add(other)


def _may_change(actor: Principal, view: CustomerView) -> None:
    if view.owner_id != actor.staff_id and not actor.can(perms.CUSTOMERS_DESIGN):
        raise PermissionDenied(
            detail="Only its owner or a designer may change a shared view", code="not_owner"
        )


def _default_needs_design(actor: Principal, is_default: bool) -> None:
    if is_default and not actor.can(perms.CUSTOMERS_DESIGN):
        raise PermissionDenied(
            detail="Only a designer sets a table's default view", code="default_view"
        )


def create_view(
    session: Session,
    actor: Principal,
    table_key: str,
    *,
    name: str,
    conditions: dict[str, Any] | None = None,
    columns: list[str] | None = None,
    sort: str = "",
    shared: bool = False,
    is_default: bool = False,
) -> CustomerView:
    design = load_design(session, table_key)
    columns = default_columns(design) if columns is None else columns
    _check(session, design, conditions, columns, sort)
    _default_needs_design(actor, is_default)
    view = CustomerView(
        table_id=design.table.id,  # type: ignore[arg-type]
        name=name.strip(),
        owner_id=actor.staff_id,
        shared=shared or is_default,
        is_default=is_default,
        conditions=conditions,
        columns=columns,
        sort=sort,
    )
    session.add(view)
    session.flush()
    if is_default:
        _unset_default(session, design, view.id)
    return view


def update_view(
    session: Session,
    actor: Principal,
    table_key: str,
    view_id: int,
    changes: dict[str, Any],
) -> CustomerView:
    design = load_design(session, table_key)
    view = get_view(session, actor, table_key, view_id)
    _may_change(actor, view)
    conditions = changes.get("conditions", view.conditions)
    columns = changes.get("columns", view.columns)
    sort = changes.get("sort", view.sort)
    _check(session, design, conditions, columns, sort)
    if "is_default" in changes:
        _default_needs_design(actor, bool(changes["is_default"]))
        view.is_default = bool(changes["is_default"])
        if view.is_default:
            _unset_default(session, design, view.id)
            view.shared = True
    if "shared" in changes:
        view.shared = bool(changes["shared"]) or view.is_default
    if "name" in changes:
        view.name = str(changes["name"]).strip()
    view.conditions = conditions
    view.columns = list(columns)
    view.sort = sort
    view.updated_at = utcnow()
    session.add(view)
    return view


def delete_view(session: Session, actor: Principal, table_key: str, view_id: int) -> None:
    view = get_view(session, actor, table_key, view_id)
    _may_change(actor, view)
    session.delete(view)
