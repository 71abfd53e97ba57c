"""Records: the rows of the data tables, written through SQLAlchemy Core.

Every write validates each value with its field type (``api.customers.values``, the seam for
``api/fields``), keeps a version for optimistic concurrency and writes a history row (who,
when, from where, each field's before and after) in the same transaction. Unique and reference
constraints are the database's; a violation becomes a 409 naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.customers import search
from api.customers.definitions import FieldSpec
from api.customers.models import CustomerField, RecordHistory
from api.customers.permissions import CUSTOMERS_WRITE
from api.customers.services import Design, load_design
from api.customers.types import COLUMN_PREFIX, FieldType, column_name, table_name
from api.customers.values import is_empty, normalise, to_json
from api.db import (
    KeysetPage,
    Total,
    _beyond,
    decode_cursor,
    encode_cursor,
    estimate_total,
    new_id,
    utcnow,
)
from api.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from api.fields import error
from api.permissions import Role
from api.principal import Principal
from api.security import revocation
from api.staff.models import Staff

SOURCES = ("api", "admin", "import", "form", "member", "system", "bulk")
UNSET: Any = object()


@dataclass(frozen=True)
class RecordPage:
    items: list[dict[str, Any]]
    total: Total
    next_cursor: str | None
    prev_cursor: str | None


def _out(design: Design, row: Any) -> dict[str, Any]:
    data = row._mapping
    return {
        "id": int(data["id"]),
        "public_id": data["public_id"],
        "owner_id": data["owner_id"],
        "status": data["status"],
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "version": int(data["version"]),
        "values": {
            spec.key: to_json(spec, data[column_name(spec.key)]) for _, spec in design.active()
        },
    }


def _is_sales(actor: Principal) -> bool:
    return actor.role == Role.sales


def _owner_filter(design: Design, actor: Principal, table: sa.Table) -> Any:
    """Sales staff see only their own records in a table marked owner-only."""
    if _is_sales(actor) and design.table.owner_only:
        return table.c.owner_id == actor.staff_id
    return sa.true()


def _fetch(
    session: Session, design: Design, actor: Principal, record_id: int, *, lock: bool = False
) -> Any:
    table = design.sa_table()
    query = sa.select(table).where(table.c.id == record_id, _owner_filter(design, actor, table))
    if lock:
        query = query.with_for_update()
    row = session.connection().execute(query).first()
    if row is None:
        raise NotFound(detail=f"{design.key} has no record {record_id}", code="record_not_found")
    return row


def get_record(
    session: Session, actor: Principal, table_key: str, record_id: int
) -> dict[str, Any]:
    design = load_design(session, table_key)
    return _out(design, _fetch(session, design, actor, record_id))


def list_records(
    session: Session,
    actor: Principal,
    table_key: str,
    *,
    where: Any = None,
    q: str | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> RecordPage:
    """Records matching ``where`` (a condition tree, ``api.customers.query``) and the search
    ``q`` (every word in the record's text fields, ``api.customers.search``). Newest first,
    or sorted by a field (``sort="name"`` / ``"-name"``, empty values as the largest); paged
    by keyset (``cursor``: the sort value and the id of the row to continue from), or by
    ``offset`` when no cursor is given."""
    from api.customers.query import compile_where, sort_columns
    from api.customers.services import list_designs

    design = load_design(session, table_key)
    table = design.sa_table()
    conditions = [_owner_filter(design, actor, table)]
    if where is not None:
        designs = {d.key: d for d in list_designs(session)}
        conditions.append(compile_where(design, designs, where))
    if q is not None:
        terms = search.parse_query(q)
        if terms:
            conditions.append(search.matches(design, terms))
    base = sa.select(table).where(*conditions)
    column, descending = sort_columns(design, sort)[0] if sort else (table.c.id, True)
    page = _keyset(session, design, base, column, descending, cursor=cursor, offset=offset,
                   limit=limit)  # fmt: skip
    return RecordPage(
        items=[_out(design, r) for r in page.items],
        # Counted (or estimated) on the ids alone: less to compile, plan and read.
        total=estimate_total(
            session,
            base.with_only_columns(table.c.id),  # type: ignore[arg-type]
            estimate_first=True,
        ),
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


def _cursor_value(column: sa.ColumnElement[Any], value: Any) -> Any:
    """A sort value as a cursor carries it (JSON), and back (``_from_cursor``)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def _from_cursor(column: sa.ColumnElement[Any], value: Any) -> Any:
    kind = column.type
    try:
        if value is None:
            return None
        if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Integer | sa.Float):
            return Decimal(str(value))
        if isinstance(kind, sa.Date) and isinstance(value, str):
            return date.fromisoformat(value)
        if isinstance(kind, sa.Integer) and not isinstance(value, int):
            raise ValueError(value)
        if isinstance(kind, sa.Boolean) and not isinstance(value, bool):
            raise ValueError(value)
        if isinstance(kind, sa.Text | sa.String) and not isinstance(value, str):
            raise ValueError(value)
    except (ValueError, ArithmeticError):
        raise _bad_cursor() from None
    return value


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        errors=[FieldError("cursor", "is not a cursor this list gave out", "invalid_cursor")]
    )


def _keyset(
    session: Session,
    design: Design,
    base: Any,
    column: sa.ColumnElement[Any],
    descending: bool,
    *,
    cursor: str | None,
    offset: int,
    limit: int,
) -> KeysetPage[Any]:
    """One page of ``base`` ordered by ``column`` (then the id, same direction), empty values
    as the largest. The order is walked as segments that an index on ``(column, id)`` serves
    without sorting on either database: the records with a value, then those without (the
    reverse when descending). The cursor is ``[value, id]`` of the row to continue from."""
    table = design.sa_table()
    ident = table.c.id
    if column is ident:
        segments: list[tuple[Any, list[tuple[Any, bool]]]] = [(None, [(ident, descending)])]
    elif not column.nullable:
        segments = [(None, [(column, descending), (ident, descending)])]
    else:
        with_value = (column.is_not(None), [(column, descending), (ident, descending)])
        # Ordered by (column, id) too, though the column is empty throughout: that lets the
        # column's index serve "is null" in id order instead of a walk of the whole table.
        empty = (column.is_(None), [(column, descending), (ident, descending)])
        segments = [empty, with_value] if descending else [with_value, empty]
    width = 1 if column is ident else 2
    conn = session.connection()

    def key_of(row: Any) -> list[Any]:
        values = (
            [row._mapping["id"]]
            if column is ident
            else [row._mapping[column.name], row._mapping["id"]]
        )
        return [_cursor_value(column, v) for v in values]

    if cursor is None and (offset or design.dialect == "postgresql"):
        # Page numbers (no cursor), and PostgreSQL's first page: one query with the whole
        # order (PostgreSQL's B-tree order is this one: empty values last ascending, first
        # descending), then cursors as usual.
        keys = [(column, descending), (ident, descending)][2 - width :]
        order = [
            (c.desc().nulls_first() if d else c.asc().nulls_last()) if c.nullable else
            (c.desc() if d else c.asc())
            for c, d in keys
        ]  # fmt: skip
        found = list(conn.execute(base.order_by(*order).offset(offset).limit(limit + 1)).all())
        more = len(found) > limit
        found = found[:limit]
        return KeysetPage(
            items=found,
            next_cursor=encode_cursor("after", key_of(found[-1])) if found and more else None,
            prev_cursor=encode_cursor("before", key_of(found[0])) if found and offset else None,
        )
    direction, values = ("after", []) if cursor is None else decode_cursor(cursor, width)
    backwards = direction == "before"
    values = [_from_cursor(column, values[0]), *values[1:]] if values and width == 2 else values
    if width == 1 and values and (not isinstance(values[0], int) or isinstance(values[0], bool)):
        raise _bad_cursor()
    if width == 2 and (values and (not isinstance(values[1], int) or isinstance(values[1], bool))):
        raise _bad_cursor()
    # Which segment the cursor's row is in.
    start = 0
    if values and len(segments) == 2:
        start = segments.index(empty if values[0] is None else with_value)
    walk = list(enumerate(segments))
    walk = list(reversed(walk[: start + 1])) if backwards else walk[start:]
    rows: list[Any] = []
    for number, (condition, keys) in walk:
        keys = [(c, not d) for c, d in keys] if backwards else keys
        query = base if condition is None else base.where(condition)
        if values and number == start:
            if values[0] is None:  # in the empty segment: only the id moves on
                query = query.where(_beyond(keys[1:], values[1:]))
            else:
                query = query.where(_beyond(keys, values))
        order = [c.desc() if d else c.asc() for c, d in keys]
        rows += conn.execute(query.order_by(*order).limit(limit + 1 - len(rows))).all()
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    has_next = (more and not backwards) or (backwards and bool(values))
    has_prev = (more and backwards) or (not backwards and bool(values or offset))
    return KeysetPage(
        items=rows,
        next_cursor=encode_cursor("after", key_of(rows[-1])) if rows and has_next else None,
        prev_cursor=encode_cursor("before", key_of(rows[0])) if rows and has_prev else None,
    )


# ------------------------------------------------------------------ validation


def _values(
    session: Session, design: Design, values: dict[str, Any], *, creating: bool
) -> dict[str, Any]:
    """Stored values by field key; a 422 listing every field at fault."""
    if not isinstance(values, dict):
        raise ValidationFailed(errors=[FieldError("values", "must be an object", "type")])
    errors: list[FieldError] = []
    active = {spec.key: spec for _, spec in design.active()}
    out: dict[str, Any] = {}
    for key in values:
        if key not in active:
            retired = key in design.specs
            errors.append(
                FieldError(
                    f"values.{str(key)[:40]}",
                    "is a retired field" if retired else f"is not a field of {design.key}",
                    "retired_field" if retired else "unknown_field",
                )
            )
    for key, spec in active.items():
        if spec.type == FieldType.file:  # written by the upload endpoints (api.customers.files)
            if values.get(key) is not None:
                errors.append(error(f"values.{key}", "file_upload_only"))
            continue
        if key in values:
            given = values[key]
        elif creating and spec.default is not None:
            given = spec.default
        elif creating:
            given = None
        else:
            continue
        try:
            value = normalise(spec, given)
        except ValidationFailed as exc:
            errors += [replace_field(e, f"values.{key}") for e in exc.errors]
            continue
        if value is None and spec.required:
            errors.append(FieldError(f"values.{key}", "is required", "required"))
            continue
        out[key] = value
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )
    _check_references(session, design, out)
    return out


def replace_field(error: FieldError, name: str) -> FieldError:
    return FieldError(name, error.message, error.code, error.row, error.params)


def _check_references(session: Session, design: Design, values: dict[str, Any]) -> None:
    """A reference names an existing record of its table (the foreign key enforces it too;
    this gives the field its message). In the write's transaction: SQLite holds the write lock,
    and on PostgreSQL the key's own check still catches a record deleted meanwhile."""
    errors: list[FieldError] = []
    for key, value in values.items():
        spec = design.specs[key]
        if spec.type != FieldType.reference or value is None or spec.references is None:
            continue
        target = sa.table(table_name(spec.references), sa.column("id"))
        found = (
            session.connection().execute(sa.select(target.c.id).where(target.c.id == value)).first()
        )
        if found is None:
            errors.append(
                FieldError(
                    f"values.{key}",
                    f"there is no record {value} in {spec.references}",
                    "not_found",
                    params={"table": spec.references},
                )
            )
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )


def _check_owner(session: Session, actor: Principal, owner_id: int | None) -> int | None:
    if _is_sales(actor) and owner_id != actor.staff_id:
        raise PermissionDenied(
            detail="Sales staff own the records they create and cannot give them away",
            code="not_owner",
        )
    if owner_id is None:
        return None
    staff = session.get(Staff, owner_id)
    if staff is None or not staff.is_active:
        raise ValidationFailed(
            detail="owner_id: is not an active staff member",
            errors=[FieldError("owner_id", "is not an active staff member", "not_found")],
        )
    return owner_id


def owner_choices(session: Session) -> list[dict[str, Any]]:
    """Every staff member as an owner: id, name, and whether they may own records now (active,
    in a role that writes records); former owners stay listed so their records show a name."""
    rows = session.exec(select(Staff).order_by(col(Staff.name), col(Staff.id))).all()
    return [
        {
            "id": s.id,
            "name": s.name,
            "active": bool(s.is_active) and CUSTOMERS_WRITE.held_by(s.role),
        }
        for s in rows
    ]


def _check_status(design: Design, current: str | None, status: str) -> str:
    statuses = design.spec.statuses
    if not statuses:
        if status:
            raise ValidationFailed(
                detail=f"status: {design.key} has no statuses",
                errors=[FieldError("status", "this table has no statuses", "no_statuses")],
            )
        return ""
    active = {s.value for s in statuses if not s.retired}
    if status not in active and status != current:
        raise ValidationFailed(
            detail=f"status: is not a status of {design.key}",
            errors=[error("status", "invalid_choice", {"choices": ", ".join(sorted(active))})],
        )
    allowed = design.spec.transitions.get(current or "")
    if current is not None and status != current and allowed is not None and status not in allowed:
        raise ValidationFailed(
            detail=f"status: cannot change from {current} to {status}",
            errors=[
                FieldError(
                    "status",
                    f"cannot change from {current} to {status}",
                    "transition_not_allowed",
                    params={"from": current, "allowed": list(allowed)},
                )
            ],
        )
    return status


# ------------------------------------------------------------------ constraint violations

_PG_KEY = re.compile(r"Key \(([\w, ]+)\)=")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+)")


def _violation(design: Design, exc: IntegrityError) -> Conflict:
    """The 409 for a constraint a record write broke, naming the field."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    column = None
    if sqlstate is not None:
        diag = getattr(orig, "diag", None)
        key = _PG_KEY.search(getattr(diag, "message_detail", None) or "")
        column = key.group(1).split(",")[0].strip() if key else None
        unique = sqlstate == "23505"
    else:
        match = _SQLITE_UNIQUE.search(str(orig))
        column = match.group(1).split(".")[-1] if match else None
        unique = match is not None
    field_key = column.removeprefix(COLUMN_PREFIX) if column else None
    if unique and field_key:
        return Conflict(
            detail=f"Another record of {design.key} already has this {field_key}",
            code=f"{field_key}_taken",
            errors=[
                FieldError(f"values.{field_key}", "is already used by another record", "taken")
            ],
        )
    if not unique:
        return Conflict(
            detail="Another record refers to this one, or a referred record is gone "
            "(it may have changed meanwhile); reload and try again",
            code="reference_violation",
        )
    return Conflict(detail="The change conflicts with another record", code="constraint_violation")


def _execute(session: Session, design: Design, statement: Any) -> Any:
    # No savepoint: a violation ends the whole write (transaction() rolls it back). Pending ORM
    # rows (an earlier history entry) are written first, so statements run in program order.
    session.flush()
    try:
        return session.connection().execute(statement)
    except IntegrityError as exc:
        raise _violation(design, exc) from exc


# ------------------------------------------------------------------ history


def _history(
    session: Session,
    design: Design,
    actor: Principal,
    record_id: int,
    version: int,
    action: str,
    changes: dict[str, Any],
    source: str,
) -> None:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source}")
    # A member's record changed: their cached access tokens are stale (api.security.revocation).
    revocation.records_changed(session, design, [record_id])
    session.add(
        RecordHistory(
            table_id=design.table.id,  # type: ignore[arg-type]
            record_id=record_id,
            version=version,
            action=action,
            source=source,
            actor_type=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            changes=changes,
        )
    )


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def list_history(
    session: Session,
    table_key: str,
    record_id: int,
    *,
    before: int | None = None,
    limit: int = 100,
) -> list[RecordHistory]:
    """The record's changes, newest first (its timeline); ``before`` (an entry's id) pages on to
    older ones."""
    design = load_design(session, table_key)
    query = select(RecordHistory).where(
        RecordHistory.table_id == design.table.id, RecordHistory.record_id == record_id
    )
    if before is not None:
        query = query.where(col(RecordHistory.id) < before)
    return list(session.exec(query.order_by(col(RecordHistory.id).desc()).limit(limit)).all())


# ------------------------------------------------------------------ writes


def create_record(
    session: Session,
    actor: Principal,
    table_key: str,
    values: dict[str, Any],
    *,
    owner_id: int | None = UNSET,
    status: str | None = None,
    source: str = "api",
) -> dict[str, Any]:
    design = load_design(session, table_key)
    if owner_id is UNSET:
        owner_id = actor.staff_id if _is_sales(actor) else None
    stored = _values(session, design, values, creating=True)
    owner = _check_owner(session, actor, owner_id)
    statuses = [s.value for s in design.spec.statuses if not s.retired]
    state = _check_status(design, None, status if status is not None else (statuses or [""])[0])
    table = design.sa_table()
    now = utcnow()
    row = {
        "public_id": new_id(),
        "owner_id": owner,
        "status": state,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **{column_name(k): v for k, v in stored.items()},
    }
    result = _execute(session, design, sa.insert(table).values(row).returning(table.c.id))
    record_id = int(result.scalar_one())
    search.index_rows(session, design, [{**row, "id": record_id}], fresh=True)
    changes = {
        k: {"before": None, "after": to_json(design.specs[k], v)}
        for k, v in stored.items()
        if v is not None
    }
    if owner is not None:
        changes["owner_id"] = {"before": None, "after": owner}
    if state:
        changes["status"] = {"before": None, "after": state}
    _history(session, design, actor, record_id, 1, "create", changes, source)
    return _out(design, _fetch(session, design, actor, record_id))


def _can_write(design: Design, actor: Principal, row: Any) -> None:
    if _is_sales(actor) and row._mapping["owner_id"] != actor.staff_id:
        raise PermissionDenied(
            detail="Sales staff edit only the records they own", code="not_owner"
        )


def _stale(session: Session, design: Design, row: Any, version: int) -> Conflict:
    """The 409 of an edit based on an old version: each field changed since, its value now,
    and who changed it last."""
    since = session.exec(
        select(RecordHistory)
        .where(
            RecordHistory.table_id == design.table.id,
            RecordHistory.record_id == int(row._mapping["id"]),
            col(RecordHistory.version) > version,
        )
        .order_by(col(RecordHistory.id))
    ).all()
    current = _out(design, row)
    changed: dict[str, RecordHistory] = {}
    for entry in since:
        for key in entry.changes:
            changed[key] = entry
    errors = []
    for key, entry in changed.items():
        now = current["values"].get(key, current.get(key))
        errors.append(
            FieldError(
                key if key in ("owner_id", "status") else f"values.{key}",
                f"was changed by {entry.actor_label or entry.actor_type} since you opened it",
                "changed",
                params={"current": _json(now), "by": entry.actor_label, "at": entry.at.isoformat()},
            )
        )
    return Conflict(
        detail=(
            f"Record {current['id']} changed since you opened it (version {version}, now "
            f"{current['version']}): {', '.join(changed) or 'see the record'}. Reload it, or "
            "send your change again with the current version."
        ),
        code="record_changed",
        errors=errors,
    )


def update_record(
    session: Session,
    actor: Principal,
    table_key: str,
    record_id: int,
    values: dict[str, Any],
    *,
    version: int,
    owner_id: int | None = UNSET,
    status: str | None = UNSET,
    source: str = "api",
) -> dict[str, Any]:
    """Change some fields of a record opened at ``version``. If it changed since, nothing is
    written: 409 with the fields that changed and their current values."""
    design = load_design(session, table_key)
    row = _fetch(session, design, actor, record_id, lock=True)
    _can_write(design, actor, row)
    data = row._mapping
    if int(data["version"]) != version:
        raise _stale(session, design, row, version)
    stored = _values(session, design, values, creating=False)
    updates: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for key, value in stored.items():
        spec = design.specs[key]
        before = to_json(spec, data[column_name(key)])
        after = to_json(spec, value)
        if before != after:
            updates[column_name(key)] = value
            changes[key] = {"before": before, "after": after}
    if owner_id is not UNSET and owner_id != data["owner_id"]:
        updates["owner_id"] = _check_owner(session, actor, owner_id)
        changes["owner_id"] = {"before": data["owner_id"], "after": owner_id}
    if status is not UNSET and status != data["status"]:
        updates["status"] = _check_status(design, data["status"], status or "")
        changes["status"] = {"before": data["status"], "after": status}
    if not updates:
        return _out(design, row)
    table = design.sa_table()
    updates["version"] = version + 1
    updates["updated_at"] = utcnow()
    result = _execute(
        session,
        design,
        sa.update(table).where(table.c.id == record_id, table.c.version == version).values(updates),
    )
    if result.rowcount != 1:  # the lock makes this unreachable; the guard stays cheap
        raise _stale(session, design, _fetch(session, design, actor, record_id), version)
    _history(session, design, actor, record_id, version + 1, "update", changes, source)
    after = _fetch(session, design, actor, record_id)
    if search.feeds_search(design, updates):
        search.index_rows(session, design, [after._mapping])  # and the match keys
    return _out(design, after)


def delete_record(
    session: Session,
    actor: Principal,
    table_key: str,
    record_id: int,
    *,
    version: int | None = None,
    source: str = "api",
) -> None:
    """Delete a record (its history stays). Refused while records of another table refer to
    it through a restricting reference; ``version``, when given, must be the current one."""
    design = load_design(session, table_key)
    row = _fetch(session, design, actor, record_id, lock=True)
    _can_write(design, actor, row)
    if version is not None and int(row._mapping["version"]) != version:
        raise _stale(session, design, row, version)
    _check_not_referenced(session, design, record_id)
    table = design.sa_table()
    before = _out(design, row)
    search.forget(session, design, [record_id])
    _execute(session, design, sa.delete(table).where(table.c.id == record_id))
    changes = {
        k: {"before": v, "after": None} for k, v in before["values"].items() if not is_empty(v)
    }
    _history(session, design, actor, record_id, before["version"] + 1, "delete", changes, source)


def _check_not_referenced(session: Session, design: Design, record_id: int) -> None:
    referring = session.exec(
        select(CustomerField).where(
            CustomerField.ref_table_id == design.table.id,
        )
    ).all()
    users: list[str] = []
    for field_row in referring:
        if (field_row.options or {}).get("on_delete", "restrict") != "restrict":
            continue
        owner_table = design.tables_by_id[field_row.table_id]
        t = sa.table(table_name(owner_table.key), sa.column(column_name(field_row.key)))
        count = (
            session.connection()
            .execute(
                sa.select(sa.func.count())
                .select_from(t)
                .where(t.c[column_name(field_row.key)] == record_id)
            )
            .scalar_one()
        )
        if count:
            users.append(f"{owner_table.key}.{field_row.key} ({count})")
    if users:
        raise Conflict(
            detail=f"Record {record_id} of {design.key} is referred to by {', '.join(users)}; "
            "delete or change those records first",
            code="record_in_use",
            errors=[FieldError("id", f"is referred to by {', '.join(users)}", "in_use")],
        )


def field_specs(design: Design) -> list[FieldSpec]:
    return [spec for _, spec in design.active()]


def related(
    session: Session, actor: Principal, table_key: str, record_id: int, *, limit: int = 20
) -> list[dict[str, Any]]:
    """A tab for every reference field (of any table) that points at this table: the records
    that refer to this one, the newest first, and how many there are. Generic: purchases and
    seminar applications on a customer, customers on a company."""
    from api.customers.services import list_designs

    design = load_design(session, table_key)
    _fetch(session, design, actor, record_id)  # 404, and owner-only tables stay private
    tabs: list[dict[str, Any]] = []
    for other in list_designs(session):
        for _, spec in other.active():
            if spec.type != FieldType.reference or spec.references != table_key:
                continue
            page = list_records(
                session,
                actor,
                other.key,
                where={"field": spec.key, "op": "eq", "value": record_id},
                limit=limit,
            )
            tabs.append(
                {
                    "table": other.key,
                    "label": dict(other.table.label or {}),
                    "field": spec.key,
                    "total": page.total.value,
                    "total_exact": page.total.exact,
                    "items": page.items,
                }
            )
    return tabs


# ------------------------------------------------------------------ file fields


def record_out(design: Design, row: Any) -> dict[str, Any]:
    return _out(design, row)


def file_target(
    session: Session,
    actor: Principal,
    table_key: str,
    record_id: int,
    field_key: str,
    *,
    writing: bool = True,
    lock: bool | None = None,
) -> tuple[Design, Any, FieldSpec]:
    """The design, the record's row (locked when ``writing``, unless ``lock=False``: the check
    before an upload is read) and the file field: 404 for a record the actor may not see, 403
    for one a sales rep may not edit."""
    from api.customers.files import file_spec

    design = load_design(session, table_key)
    spec = file_spec(design, field_key)
    row = _fetch(session, design, actor, record_id, lock=writing if lock is None else lock)
    if writing:
        _can_write(design, actor, row)
    return design, row, spec


def write_file_value(
    session: Session,
    actor: Principal,
    design: Design,
    row: Any,
    spec: FieldSpec,
    meta: dict[str, Any] | None,
    previous: dict[str, Any] | None,
    *,
    version: int | None,
    source: str,
) -> dict[str, Any]:
    """Set a file field's metadata (or empty it): a new version and a history entry with the
    file before and after, like any other change."""
    data = row._mapping
    current = int(data["version"])
    if version is not None and version != current:
        raise _stale(session, design, row, version)
    table = design.sa_table()
    _execute(
        session,
        design,
        sa.update(table)
        .where(table.c.id == data["id"], table.c.version == current)
        .values(
            {
                column_name(spec.key): sa.null() if meta is None else meta,
                "version": current + 1,
                "updated_at": utcnow(),
            }
        ),
    )
    changes = {spec.key: {"before": previous, "after": meta}}
    _history(session, design, actor, int(data["id"]), current + 1, "update", changes, source)
    return _out(design, _fetch(session, design, actor, int(data["id"])))
