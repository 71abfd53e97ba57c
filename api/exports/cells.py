"""An export's cells: from a stored value to what people expect to see in the file (dates in
the site's time zone, choices by label, references by the referred record's label, files by
name). Shared by the general writer (:mod:`api.exports.services`) and the two fast paths
(:mod:`api.exports.copy`, :mod:`api.exports.sqlite`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from api.customers.services import Design, load_design
from api.customers.types import FieldType, column_name, table_name
from api.customers.values import to_json
from api.livesettings.services import site_time_zone
from api.staff.models import Staff
from api.tabular.writer import Cell

_TEXT_TYPES = frozenset(
    {FieldType.text, FieldType.long_text, FieldType.email, FieldType.phone, FieldType.url,
     FieldType.postal_code, FieldType.furigana}
)  # fmt: skip


Converter = Callable[[Any], Cell]


class References:
    """The labels of the records a batch refers to, read once per batch and target table."""

    def __init__(self, session: Session, design: Design) -> None:
        self.session = session
        self.design = design
        self.label_column: dict[str, str | None] = {}
        self.cache: dict[str, dict[int, str]] = {}

    def column_of(self, target: str) -> str | None:
        if target not in self.label_column:
            other = load_design(self.session, target, retired=True)
            texts = [s.key for _, s in other.active() if s.type in _TEXT_TYPES]
            self.label_column[target] = column_name(texts[0]) if texts else None
        return self.label_column[target]

    def load(self, target: str, ids: set[int]) -> None:
        column = self.column_of(target)
        self.cache[target] = {}
        if column is None or not ids:
            return
        t = sa.table(table_name(target), sa.column("id"), sa.column(column))
        rows = self.session.connection().execute(
            sa.select(t.c.id, t.c[column]).where(t.c.id.in_(sorted(ids)))
        )
        self.cache[target] = {int(i): v for i, v in rows if v is not None}


def _same(value: Any) -> Cell:
    return value


def _named(names: dict[Any, str]) -> Converter:
    def convert(value: Any) -> Cell:
        return None if value is None or value == "" else names.get(value, value)

    return convert


def _joined(names: dict[Any, str]) -> Converter:
    def convert(value: Any) -> Cell:
        return ", ".join(names.get(x, x) for x in value) if value else None

    return convert


def _decimal(spec: Any) -> Converter:
    def convert(value: Any) -> Cell:
        return None if value is None else Decimal(to_json(spec, value))

    return convert


def _file_name(value: Any) -> Cell:
    return value.get("name") if isinstance(value, dict) else None


def _referred(refs: References, target: str) -> Converter:
    def convert(value: Any) -> Cell:
        return None if value is None else refs.cache[target].get(value, value)

    return convert


def choice_labels(choices: Any, lang: str, display: bool = True) -> dict[str, str]:
    """value → label in ``lang`` (else ja, else the value); none when values are exported."""
    if not display:
        return {}
    return {c.value: c.label.get(lang) or c.label.get("ja") or c.value for c in choices}


def converters(
    session: Session, design: Design, columns: Sequence[str], lang: str, display: bool
) -> tuple[list[tuple[str, Converter]], References | None]:
    """One converter per column, from the stored value to the cell (the one place of the
    export's cell rules; the fast paths of :mod:`api.exports.copy` and
    :mod:`api.exports.sqlite` build the same cells in SQL)."""
    tz = site_time_zone(session)

    def when(value: Any) -> Cell:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(tz).replace(tzinfo=None, microsecond=0)

    def label_of(choices: Any) -> dict[str, str]:
        return choice_labels(choices, lang)

    refs = References(session, design)
    uses_refs = False
    out: list[tuple[str, Converter]] = []
    for key in columns:
        if key in ("id", "public_id"):
            out.append((key, _same))
        elif key in ("created_at", "updated_at"):
            out.append((key, when))
        elif key == "status":
            out.append((key, _named(label_of(design.spec.statuses) if display else {})))
        elif key == "owner_id":
            staff = {s.id: s.name for s in session.exec(select(Staff)).all()} if display else {}
            out.append((key, _named(staff)))
        else:
            spec = design.specs[key]
            kind = spec.type
            column = column_name(key)
            if kind == FieldType.datetime:
                out.append((column, when))
            elif kind == FieldType.decimal:
                out.append((column, _decimal(spec)))
            elif kind == FieldType.select:
                out.append((column, _named(label_of(spec.choices) if display else {})))
            elif kind == FieldType.multi_select:
                out.append((column, _joined(label_of(spec.choices) if display else {})))
            elif kind == FieldType.file:
                out.append((column, _file_name))
            elif kind == FieldType.reference and display and spec.references:
                uses_refs = True
                out.append((column, _referred(refs, spec.references)))
            else:
                out.append((column, _same))
    return out, refs if uses_refs else None
