"""Filters on records: a condition tree (nested AND/OR) compiled to plain SQL over the data
table, with operators that suit each field type, and values normalised by the field's own type.

    {"and": [
        {"field": "prefecture", "op": "in", "value": ["東京都", "大阪府"]},
        {"or": [{"field": "name", "op": "contains", "value": "山田"},
                {"field": "company.name", "op": "starts_with", "value": "絆"}]}
    ]}

A condition on ``<reference>.<field>`` tests a field of the referenced record (a sub-select on
its table). An unknown field, or an operator wrong for the field's type, is refused with the
path of the condition (``where.and[1].or[0].op``). Values always travel as bound parameters.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from api.customers.definitions import FieldSpec
from api.customers.services import Design
from api.customers.types import TEXT_TYPES, FieldType, column_name
from api.customers.values import normalise
from api.errors import FieldError, ValidationFailed

MAX_DEPTH = 5
MAX_CONDITIONS = 50

_EMPTY = {"is_empty", "not_empty"}
_ORDERED = {"eq", "ne", "lt", "lte", "gt", "gte", "between", "in"} | _EMPTY
OPERATORS: dict[str, set[str]] = {
    **{str(t): {"eq", "ne", "contains", "starts_with", "in"} | _EMPTY for t in TEXT_TYPES},
    "integer": _ORDERED,
    "decimal": _ORDERED,
    "date": _ORDERED,
    "datetime": _ORDERED,
    "boolean": {"eq"} | _EMPTY,
    "select": {"eq", "ne", "in"} | _EMPTY,
    "multi_select": {"has", "has_any"} | _EMPTY,
    "reference": {"eq", "in"} | _EMPTY,
}
# The record's own columns, filterable like fields of these types.
SYSTEM_FIELDS: dict[str, FieldType] = {
    "id": FieldType.integer,
    "owner_id": FieldType.integer,
    "status": FieldType.text,
    "created_at": FieldType.datetime,
    "updated_at": FieldType.datetime,
}


class _Compiler:
    def __init__(self, design: Design, designs: dict[str, Design]) -> None:
        self.design = design
        self.designs = designs
        self.table = design.sa_table()
        self.count = 0

    def fail(self, path: str, message: str, code: str = "invalid_condition") -> ValidationFailed:
        return ValidationFailed(
            detail=f"{path}: {message}", errors=[FieldError(path, message, code)]
        )

    def node(self, node: Any, path: str, depth: int = 0) -> ColumnElement[bool]:
        self.count += 1
        if self.count > MAX_CONDITIONS or depth > MAX_DEPTH:
            raise self.fail(path, f"at most {MAX_CONDITIONS} conditions, {MAX_DEPTH} levels deep")
        if not isinstance(node, dict):
            raise self.fail(path, "must be a condition or an and/or group")
        for group, join in (("and", sa.and_), ("or", sa.or_)):
            if group in node:
                items = node[group]
                if set(node) != {group} or not isinstance(items, list) or not items:
                    raise self.fail(
                        path, f"an “{group}” group is a non-empty list and nothing else"
                    )
                return join(
                    *(self.node(n, f"{path}.{group}[{i}]", depth + 1) for i, n in enumerate(items))
                )
        extra = set(node) - {"field", "op", "value"}
        if extra or not isinstance(node.get("field"), str) or not isinstance(node.get("op"), str):
            raise self.fail(path, "a condition is {field, op, value}")
        return self.condition(node["field"], node["op"], node.get("value"), path)

    def spec_of(
        self, design: Design, key: str, path: str
    ) -> tuple[FieldSpec, sa.ColumnElement[Any]]:
        table = self.table if design is self.design else design.sa_table()
        if key in SYSTEM_FIELDS:
            return FieldSpec(key=key, type=SYSTEM_FIELDS[key]), table.c[key]
        active = {spec.key: spec for _, spec in design.active()}
        if key not in active:
            raise self.fail(
                f"{path}.field", f"{design.key} has no field “{key[:40]}”", "unknown_field"
            )
        return active[key], table.c[column_name(key)]

    def condition(self, field: str, op: str, value: Any, path: str) -> ColumnElement[bool]:
        if "." in field:
            ref_key, _, sub_key = field.partition(".")
            ref, column = self.spec_of(self.design, ref_key, path)
            if ref.type != FieldType.reference or ref.references not in self.designs:
                raise self.fail(
                    f"{path}.field", f"“{ref_key}” is not a reference field", "unknown_field"
                )
            target = self.designs[ref.references]
            inner = _Compiler(target, {})
            inner.count = self.count
            where = inner.condition(sub_key, op, value, path)
            self.count = inner.count
            target_table = inner.table
            return column.in_(sa.select(target_table.c.id).where(where))
        spec, column = self.spec_of(self.design, field, path)
        allowed = OPERATORS[str(spec.type)]
        if op not in allowed:
            raise self.fail(
                f"{path}.op",
                f"“{op[:20]}” does not apply to a {spec.type} field "
                f"(one of {', '.join(sorted(allowed))})",
                "invalid_operator",
            )
        if op == "is_empty":
            return (
                column.is_(None)
                if spec.type not in TEXT_TYPES
                else sa.or_(column.is_(None), column == "")
            )
        if op == "not_empty":
            return (
                column.is_not(None)
                if spec.type not in TEXT_TYPES
                else sa.and_(column.is_not(None), column != "")
            )
        if op in ("in", "has_any", "between"):
            if not isinstance(value, list) or not value or len(value) > 500:
                raise self.fail(f"{path}.value", "must be a list of 1 to 500 values")
            if op == "between" and len(value) != 2:
                raise self.fail(f"{path}.value", "must be [from, to]")
            values = [self.value(spec, v, f"{path}.value[{i}]") for i, v in enumerate(value)]
            if op == "between":
                return column.between(values[0], values[1])
            if op == "in":
                return column.in_(values)
            return sa.or_(*(self.has(column, v) for v in values))
        if op == "has":
            return self.has(column, self.value(spec, value, f"{path}.value"))
        if op in ("contains", "starts_with"):
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"{path}.value", "must be a text")
            needle = value.strip().lower()[:200]
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%" if op == "contains" else f"{escaped}%"
            return sa.func.lower(column).like(pattern, escape="\\")
        stored = self.value(spec, value, f"{path}.value")
        compare = {"eq": column.__eq__, "ne": column.__ne__, "lt": column.__lt__,
                   "lte": column.__le__, "gt": column.__gt__, "gte": column.__ge__}[op]  # fmt: skip
        result: ColumnElement[bool] = compare(stored)
        return result

    def value(self, spec: FieldSpec, value: Any, path: str) -> Any:
        if spec.type == FieldType.multi_select:  # one choice value
            spec = FieldSpec(key=spec.key, type=FieldType.select, choices=spec.choices)
        if spec.type == FieldType.select:  # retired choices are still searched for
            spec = FieldSpec(key=spec.key, type=FieldType.text, max_length=200)
        try:
            stored = normalise(spec, value)
        except ValidationFailed as exc:
            message = exc.errors[0].message if exc.errors else exc.detail
            raise self.fail(
                path, message, exc.errors[0].code if exc.errors else "invalid"
            ) from None
        if stored is None:
            raise self.fail(path, "is empty; use is_empty")
        return stored

    def has(self, column: Any, value: Any) -> ColumnElement[bool]:
        if self.design.dialect == "postgresql":  # GIN (jsonb_path_ops) answers @>
            return column.op("@>")(sa.cast(sa.literal(json.dumps([value])), JSONB))
        each = sa.func.json_each(column).table_valued("value")
        return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))


def compile_where(design: Design, designs: dict[str, Design], where: Any) -> ColumnElement[bool]:
    """The SQL condition of a condition tree on ``design``'s table; a 422 pointing at the
    condition at fault."""
    return _Compiler(design, designs).node(where, "where")


def sort_columns(design: Design, sort: str | None) -> list[tuple[sa.ColumnElement[Any], bool]]:
    """``name`` or ``-name`` (descending), any field or system column; the id breaks ties."""
    table = design.sa_table()
    if not sort:
        return [(table.c.id, True)]
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    active = {spec.key: spec for _, spec in design.active()}
    if key in SYSTEM_FIELDS:
        column = table.c[key]
    elif key in active and active[key].type == FieldType.multi_select:
        raise ValidationFailed(
            detail=f"sort: {key[:40]} is a multi-select field, which has no order",
            errors=[FieldError("sort", "a multi-select field cannot be sorted by", "not_sortable")],
        )
    elif key in active:
        column = table.c[column_name(key)]
    else:
        raise ValidationFailed(
            detail=f"sort: {design.key} has no field {key[:40]}",
            errors=[FieldError("sort", f"is not a field of {design.key}", "unknown_field")],
        )
    return [(column, descending), (table.c.id, descending)]


__all__ = ["OPERATORS", "SYSTEM_FIELDS", "compile_where", "sort_columns"]
