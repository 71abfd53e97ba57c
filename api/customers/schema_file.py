"""Schema as code: every table and field as TOML (``kizuna schema export``), and a plan that
brings the database to what a file says (``kizuna schema apply``).

Applying is idempotent: a second run plans nothing. A table or field the file leaves out is
retired (hidden, its data kept), never dropped. A step that would lose data — a type change
some stored values do not survive — is refused unless destructive changes are allowed, and
the plan names what would be lost.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any

from sqlmodel import Session, col, select

from api.audit import services as audit
from api.customers import services
from api.customers.definitions import FieldSpec, TableSpec, parse_field, parse_table
from api.customers.models import CustomerField
from api.db import utcnow
from api.errors import Conflict, FieldError, ValidationFailed
from api.principal import Principal


@dataclass(frozen=True)
class DesiredTable:
    spec: TableSpec
    fields: list[FieldSpec]


@dataclass
class Step:
    action: str  # create_table, update_table, restore_table, retire_table, add_field,
    # update_field, restore_field, retire_field, reorder_fields
    table: str
    field: str | None = None
    detail: str = ""
    loss: str = ""  # what would be lost: set on destructive steps only
    table_spec: TableSpec | None = None
    field_spec: FieldSpec | None = None
    order: list[str] = dc_field(default_factory=list)

    @property
    def destructive(self) -> bool:
        return bool(self.loss)

    def describe(self) -> str:
        sign = {
            "create_table": "+", "add_field": "+", "update_table": "~", "update_field": "~",
            "reorder_fields": "~", "restore_table": "+", "restore_field": "+",
            "retire_table": "-", "retire_field": "-",
        }[self.action]  # fmt: skip
        what = f"{self.table}.{self.field}" if self.field else self.table
        text = f"{sign} {self.action.replace('_', ' ')} {what}"
        if self.detail:
            text += f": {self.detail}"
        if self.loss:
            text += f"  [DESTRUCTIVE: {self.loss}]"
        return text


# ------------------------------------------------------------------ reading a file


def parse(text: str) -> list[DesiredTable]:
    """The tables of a schema file, in file order; a 422 naming every place at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(
            detail=f"The schema file is not valid TOML: {exc}",
            errors=[FieldError("file", str(exc), "toml")],
        ) from None
    unknown = set(data) - {"tables"}
    errors: list[FieldError] = [
        FieldError(k, "is not a schema file section (only [tables.<key>])", "unknown_field")
        for k in sorted(unknown)
    ]
    tables = data.get("tables", {})
    if not isinstance(tables, dict):
        errors.append(FieldError("tables", "must be a table of tables", "type"))
        tables = {}
    out: list[DesiredTable] = []
    for key, body in tables.items():
        where = f"tables.{key}"
        if not isinstance(body, dict):
            errors.append(FieldError(where, "must be a table", "type"))
            continue
        try:
            spec = parse_table({**{k: v for k, v in body.items() if k != "fields"}, "key": key},
                               prefix=f"{where}.")  # fmt: skip
        except ValidationFailed as exc:
            errors += exc.errors
            continue
        fields: list[FieldSpec] = []
        raw_fields = body.get("fields", [])
        if not isinstance(raw_fields, list):
            errors.append(FieldError(f"{where}.fields", "must be [[…fields]] entries", "type"))
            raw_fields = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_fields):
            prefix = f"{where}.fields[{i}]."
            if not isinstance(raw, dict):
                errors.append(FieldError(prefix.rstrip("."), "must be a table", "type"))
                continue
            try:
                spec_field = parse_field(raw, prefix=prefix)
            except ValidationFailed as exc:
                errors += exc.errors
                continue
            if spec_field.key in seen:
                errors.append(FieldError(f"{prefix}key", "is listed twice", "duplicate"))
                continue
            seen.add(spec_field.key)
            fields.append(spec_field)
        out.append(DesiredTable(spec, fields))
    keys = {t.spec.key for t in out}
    for table in out:
        for i, f in enumerate(table.fields):
            if f.references is not None and f.references not in keys:
                errors.append(
                    FieldError(
                        f"tables.{table.spec.key}.fields[{i}].references",
                        f"names {f.references}, which is not in the file",
                        "table_not_found",
                    )
                )
    if errors:
        raise ValidationFailed(
            detail="The schema file has problems:\n"
            + "\n".join(f"  {e.field}: {e.message}" for e in errors),
            errors=errors,
        )
    return out


# ------------------------------------------------------------------ the plan


def plan(
    session: Session, desired: list[DesiredTable], *, keep_other_tables: bool = False
) -> list[Step]:
    """What applying ``desired`` would do, in the order it would do it. Tables the file
    leaves out are retired, unless ``keep_other_tables`` (the demo data adds its tables
    beside the ones staff made)."""
    current = {d.key: d for d in services.list_designs(session, retired=True)}
    tables: list[Step] = []
    fields: list[Step] = []
    settings: list[Step] = []  # the name/company fields, once the fields they name exist
    retires: list[Step] = []
    wanted = {t.spec.key for t in desired}
    for table in desired:
        key = table.spec.key
        design = current.get(key)
        now = design.spec if design is not None else None
        early = replace(
            table.spec,
            name_field=now.name_field if now else None,
            company_field=now.company_field if now else None,
        )
        later = [
            name
            for name in ("name_field", "company_field")
            if getattr(table.spec, name) != getattr(early, name)
        ]
        if later:
            settings.append(
                Step("update_table", key, detail=", ".join(later), table_spec=table.spec)
            )
        if design is None:
            tables.append(Step("create_table", key, table_spec=early))
            fields += [
                Step("add_field", key, f.key, str(f.type), field_spec=f) for f in table.fields
            ]
            continue
        if design.table.retired_at is not None:
            tables.append(Step("restore_table", key))
        merged = _merged_table(design.spec, early)
        diff = merged.differences(design.spec)
        if diff:
            tables.append(Step("update_table", key, detail=", ".join(diff), table_spec=early))
        fields += _field_steps(session, design, table)
    for key, design in current.items():
        if key not in wanted and design.table.retired_at is None and not keep_other_tables:
            retires.append(Step("retire_table", key, detail="hidden; its records are kept"))
    return tables + fields + settings + retires


def _merged_table(old: TableSpec, new: TableSpec) -> TableSpec:
    return replace(new, statuses=services.merge_choices(old.statuses, new.statuses))


def _field_steps(session: Session, design: services.Design, table: DesiredTable) -> list[Step]:
    steps: list[Step] = []
    key = design.key
    rows = {f.key: f for f in design.fields}
    for spec in table.fields:
        row = rows.get(spec.key)
        if row is None:
            steps.append(Step("add_field", key, spec.key, str(spec.type), field_spec=spec))
            continue
        if row.retired_at is not None:
            steps.append(Step("restore_field", key, spec.key))
        change = services.check_field_change(session, key, spec.key, spec)
        if change.changed:
            loss = ""
            old = design.specs[spec.key]
            if change.problem_count and (old.type != spec.type or old.storage() != spec.storage()):
                first = change.problems[0]
                loss = (
                    f"{change.problem_count} value(s) would be emptied, e.g. record "
                    f"{first.record_id}: {first.value!r} ({first.message})"
                )
            detail = ", ".join(change.changed)
            if "type" in change.changed:
                detail += f" ({design.specs[spec.key].type} → {spec.type})"
            steps.append(Step("update_field", key, spec.key, detail, loss=loss, field_spec=spec))
    wanted = [f.key for f in table.fields]
    for row in design.fields:
        if row.retired_at is None and row.key not in wanted:
            count = services.count_values(session, design, row.key)
            steps.append(
                Step("retire_field", key, row.key, f"hidden; its {count} value(s) are kept")
            )
    active_order = [f.key for f in design.fields if f.retired_at is None and f.key in wanted]
    restored = [f.key for f in design.fields if f.retired_at is not None and f.key in wanted]
    after = active_order + restored + [k for k in wanted if k not in rows]
    if after != wanted:
        steps.append(Step("reorder_fields", key, detail=", ".join(wanted), order=wanted))
    return steps


# ------------------------------------------------------------------ applying


def apply(
    session: Session,
    actor: Principal,
    desired: list[DesiredTable],
    *,
    allow_destructive: bool = False,
    keep_other_tables: bool = False,
) -> list[Step]:
    """Apply the plan in the caller's transaction (all or nothing on both databases)."""
    steps = plan(session, desired, keep_other_tables=keep_other_tables)
    destructive = [s for s in steps if s.destructive]
    if destructive and not allow_destructive:
        raise Conflict(
            detail="The plan would lose data; nothing was changed. Allow destructive changes "
            "to apply it:\n" + "\n".join(f"  {s.describe()}" for s in destructive),
            code="destructive_change",
            errors=[
                FieldError(f"{s.table}.{s.field}" if s.field else s.table, s.loss, "destructive")
                for s in destructive
            ],
        )
    for step in steps:
        _run(session, actor, step)
    return steps


def _run(session: Session, actor: Principal, step: Step) -> None:
    match step.action:
        case "create_table":
            assert step.table_spec is not None
            services.create_table(session, actor, step.table_spec)
        case "restore_table":
            services.retire_table(session, actor, step.table, restore=True)
        case "update_table":
            assert step.table_spec is not None
            services.update_table(session, actor, step.table, step.table_spec)
        case "retire_table":
            services.retire_table(session, actor, step.table)
        case "add_field":
            assert step.field_spec is not None
            services.add_field(session, actor, step.table, step.field_spec)
        case "restore_field":
            assert step.field is not None
            services.retire_field(session, actor, step.table, step.field, restore=True)
        case "update_field":
            assert step.field is not None
            assert step.field_spec is not None
            services.update_field(
                session, actor, step.table, step.field, step.field_spec, allow_loss=True
            )
        case "retire_field":
            assert step.field is not None
            services.retire_field(session, actor, step.table, step.field)
        case "reorder_fields":
            reorder_fields(session, actor, step.table, step.order)
        case _:  # pragma: no cover
            raise AssertionError(step.action)


def reorder_fields(session: Session, actor: Principal, table_key: str, order: list[str]) -> None:
    """Fields in ``order`` first, the others (retired) after them, as they were. Every active
    field must be listed once, and nothing else."""
    design = services.load_design(session, table_key, lock=True)
    active = [f.key for f in design.fields if f.retired_at is None]
    if sorted(order) != sorted(active):
        raise ValidationFailed(
            detail=f"fields: list each active field of {table_key} once ({', '.join(active)})",
            errors=[FieldError("fields", "must list each active field once", "invalid_order")],
        )
    rank = {key: i for i, key in enumerate(order)}
    rows = sorted(design.fields, key=lambda f: (rank.get(f.key, len(order)), f.position, f.id))
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.updated_at = utcnow()
            session.add(row)
    audit.record(
        session,
        actor,
        "customers.field.reorder",
        target_type="customer_table",
        target_id=table_key,
        after={"order": order},
    )


# ------------------------------------------------------------------ export


def export(session: Session) -> str:
    """Every table that is not retired and its fields that are not, as a schema file that
    ``apply`` reproduces exactly."""
    lines = [
        "# Kizuna customer database schema: `kizuna schema apply FILE` makes the database match.",
        "# Tables and fields left out are retired (hidden, data kept), never dropped.",
    ]
    for design in services.list_designs(session):
        spec = design.spec.as_dict()
        lines.append("")
        lines.append(f"[tables.{design.key}]")
        for name in (
            "label", "statuses", "transitions", "is_member_table", "owner_only", "name_field",
            "company_field",
        ):  # fmt: skip
            if name in spec and spec[name] not in ({}, [], False, None):
                value = spec[name]
                text = _toml_choices(value) if name == "statuses" else _toml(value)
                lines.append(f"{name} = {text}")
        rows = session.exec(
            select(CustomerField)
            .where(CustomerField.table_id == design.table.id)
            .where(col(CustomerField.retired_at).is_(None))
            .order_by(col(CustomerField.position), col(CustomerField.id))
        ).all()
        for row in rows:
            lines.append("")
            lines.append(f"[[tables.{design.key}.fields]]")
            for name, value in design.specs[row.key].as_dict().items():
                if name in ("unique", "indexed", "required") and value is False:
                    continue
                if name == "shown_in_list" and value is True:
                    continue
                if name == "label" and not value:
                    continue
                text = _toml_choices(value) if name == "choices" else _toml(value)
                lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def _toml_choices(choices: list[dict[str, Any]]) -> str:
    """One choice a line; a choice whose label is its value in both languages as a string."""
    items = []
    for choice in choices:
        plain = choice.get("label") == {"ja": choice["value"], "en": choice["value"]}
        items.append(_toml(choice["value"]) if plain and len(choice) == 2 else _toml(choice))
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{k if _BARE.fullmatch(k) else _toml(k)} = {_toml(v)}" for k, v in value.items()
        )
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
