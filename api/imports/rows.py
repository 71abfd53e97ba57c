"""What the import engine passes around, apart from it so that the domains it calls back
(``api/groups/imports.py``, the member table's ``groups`` column) can name them without
importing the engine: a batch's :class:`Plan`, one file :class:`Row`, and :func:`reason`, one
reason a row was refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.customers.definitions import FieldSpec
from api.customers.services import Design
from api.errors import FieldError
from api.fields.messages import MESSAGES as FIELD_MESSAGES
from api.fields.messages import localize
from api.imports.messages import message


@dataclass(frozen=True)
class Plan:
    """A batch's settings, checked against the table's design."""

    design: Design
    columns: list[tuple[int, FieldSpec]]  # (column index, field) of the mapped columns
    key: list[FieldSpec]
    mode: str  # insert | update | upsert
    groups_column: int | None = None  # the member table's `groups` column (api/groups/imports.py)


def reason(
    column: int | None, spec: FieldSpec | None, code: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One reason a row was refused: where (1-based column, field), the code and its message
    in both languages."""
    if code in FIELD_MESSAGES:
        text_en = localize(FieldError("", "", code, params=params), "en")
        text_ja = localize(FieldError("", "", code, params=params), "ja")
    else:
        text_en = message(code, params, "en")
        text_ja = message(code, params, "ja")
    return {
        "column": None if column is None else column + 1,
        "field": spec.key if spec is not None else None,
        "code": code,
        "params": params or {},
        "message": text_en,
        "message_ja": text_ja,
    }


@dataclass
class Row:
    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple[Any, ...] | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    # decided by classify: new | updated | unchanged | invalid | duplicate
    outcome: str = ""
    record: Any = None  # the matched record's row
    changes: dict[str, Any] = field(default_factory=dict)
    groups: list[str] | None = None  # the `groups` column's keys (api/groups/imports.py)
    record_id: int | None = None  # a new record's id, once written
