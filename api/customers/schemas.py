"""Request and response bodies of the customer database API. Strict: unknown fields are
refused. Field definitions are checked further by ``definitions.parse_field`` and record
values by each field's type (``values.py``), which answer per-field errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

Key = Annotated[str, Meta(min_length=1, max_length=30)]
Text200 = Annotated[str, Meta(min_length=1, max_length=200)]
StaffId = Annotated[int, Meta(ge=1, le=2_147_483_647)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class Label(Strict):
    ja: Text200 | UnsetType = UNSET
    en: Text200 | UnsetType = UNSET


class ChoiceIn(Strict):
    value: Text200
    label: Label | UnsetType = UNSET
    retired: bool = False


Choice = ChoiceIn | Text200


class FieldIn(Strict):
    key: Key
    type: Annotated[str, Meta(max_length=20)]
    label: Label | UnsetType = UNSET
    required: bool = False
    unique: bool = False
    indexed: bool = False
    shown_in_list: bool = True
    max_length: int | UnsetType = UNSET
    min: int | float | UnsetType = UNSET
    max: int | float | UnsetType = UNSET
    pattern: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    decimal_places: int | UnsetType = UNSET
    scale: int | UnsetType = UNSET  # the same as decimal_places (older name)
    max_size: int | UnsetType = UNSET
    file_types: Annotated[list[Text200], Meta(max_length=20)] | UnsetType = UNSET
    choices: Annotated[list[Choice], Meta(max_length=1000)] | UnsetType = UNSET
    default: Any = UNSET
    help: Label | UnsetType = UNSET
    references: Key | UnsetType = UNSET
    on_delete: Annotated[str, Meta(max_length=20)] | UnsetType = UNSET


class FieldUpdate(Strict):
    """Only the attributes to change; ``allow_loss`` confirms a type change that empties the
    values listed by the check."""

    type: Annotated[str, Meta(max_length=20)] | UnsetType = UNSET
    label: Label | UnsetType = UNSET
    required: bool | UnsetType = UNSET
    unique: bool | UnsetType = UNSET
    indexed: bool | UnsetType = UNSET
    shown_in_list: bool | UnsetType = UNSET
    max_length: int | UnsetType | None = UNSET
    min: int | float | UnsetType | None = UNSET
    max: int | float | UnsetType | None = UNSET
    pattern: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    decimal_places: int | UnsetType | None = UNSET
    scale: int | UnsetType | None = UNSET  # the same as decimal_places (older name)
    max_size: int | UnsetType | None = UNSET
    file_types: Annotated[list[Text200], Meta(max_length=20)] | UnsetType | None = UNSET
    choices: Annotated[list[Choice], Meta(max_length=1000)] | UnsetType = UNSET
    default: Any = UNSET
    help: Label | UnsetType | None = UNSET
    position: Annotated[int, Meta(ge=0, le=10_000)] | UnsetType = UNSET
    allow_loss: bool = False


class TableIn(Strict):
    key: Key
    label: Label | UnsetType = UNSET
    statuses: Annotated[list[Choice], Meta(max_length=100)] | UnsetType = UNSET
    transitions: dict[str, list[str]] | UnsetType = UNSET
    is_member_table: bool = False
    owner_only: bool = False
    # The duplicates' name + company fields; null: chosen automatically.
    name_field: Key | UnsetType | None = UNSET
    company_field: Key | UnsetType | None = UNSET
    fields: Annotated[list[FieldIn], Meta(max_length=500)] = []


class TableUpdate(Strict):
    label: Label | UnsetType = UNSET
    statuses: Annotated[list[Choice], Meta(max_length=100)] | UnsetType = UNSET
    transitions: dict[str, list[str]] | UnsetType = UNSET
    is_member_table: bool | UnsetType = UNSET
    owner_only: bool | UnsetType = UNSET
    name_field: Key | UnsetType | None = UNSET
    company_field: Key | UnsetType | None = UNSET


class RowProblemOut(msgspec.Struct, kw_only=True):
    record_id: int
    value: Any
    code: str
    message: str


class FieldChangeOut(msgspec.Struct, kw_only=True):
    field: str
    changed: list[str]
    applied: bool
    problem_count: int  # records whose value does not survive (all of them, not only listed)
    problems: list[RowProblemOut]  # the first 100: record id, value, reason
    converted: int
    lost: int
    # A large table's type change runs as this job (the answer is then 202): follow it at
    # /api/jobs/{job_id}; ``applied`` becomes true when it has finished.
    job_id: int | None = None


class RecordIn(Strict):
    values: dict[str, Any] = {}
    owner_id: StaffId | UnsetType | None = UNSET
    status: Annotated[str, Meta(max_length=50)] | UnsetType = UNSET


class RecordUpdate(Strict):
    version: Annotated[int, Meta(ge=1, le=2_147_483_647)]  # the version the change is based on
    values: dict[str, Any] = {}
    owner_id: StaffId | UnsetType | None = UNSET
    status: Annotated[str, Meta(max_length=50)] | UnsetType = UNSET


class RecordOut(msgspec.Struct, kw_only=True):
    id: int
    public_id: str
    owner_id: int | None
    status: str
    created_at: datetime
    updated_at: datetime
    version: int
    values: dict[str, Any]


class OwnerOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    active: bool  # may own records now (an active staff member whose role writes records)


class HistoryOut(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    version: int
    action: str
    source: str
    actor_type: str
    actor_label: str
    changes: dict[str, Any]


def plain(struct: msgspec.Struct) -> dict[str, Any]:
    """A struct as the plain dict the definition parsers read (unset attributes left out)."""
    data: dict[str, Any] = msgspec.to_builtins(struct)
    return data


class RelatedTabOut(msgspec.Struct, kw_only=True):
    table: str
    label: dict[str, str]
    field: str  # the reference field of ``table`` that points at the record
    total: int
    total_exact: bool
    items: list[RecordOut]  # the newest 20


SortKey = Annotated[str, Meta(max_length=40, pattern=r"^(-?[a-z][a-z0-9_]*)?$")]


class ViewIn(Strict):
    name: Text200
    where: dict[str, Any] | None = None  # a condition tree (see the records list)
    columns: Annotated[list[Key], Meta(max_length=300)] | UnsetType = UNSET  # default: the list's
    sort: SortKey = ""
    shared: bool = False
    is_default: bool = False  # designers only; a default view is shared


class ViewUpdate(Strict):
    name: Text200 | UnsetType = UNSET
    where: dict[str, Any] | UnsetType | None = UNSET
    columns: Annotated[list[Key], Meta(max_length=300)] | UnsetType = UNSET
    sort: SortKey | UnsetType = UNSET
    shared: bool | UnsetType = UNSET
    is_default: bool | UnsetType = UNSET


class ViewOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    owner_id: int | None
    shared: bool
    is_default: bool
    where: dict[str, Any] | None
    columns: list[str]
    sort: str
    updated_at: datetime


class FieldOrder(Strict):
    fields: Annotated[list[Key], Meta(max_length=1500)]  # every active field, in display order


RecordKey = Annotated[int, Meta(ge=1, le=2**63 - 1)]


class MergeIn(Strict):
    """Merge ``sources`` into ``survivor``: per field, the record whose value is kept
    (default: the survivor's, else the first non-empty source's); ``versions`` maps each
    record's id (as a string) to the version the merge screen saw (409 if one changed)."""

    survivor: RecordKey
    sources: Annotated[list[RecordKey], Meta(min_length=1, max_length=19)]
    values: dict[Annotated[str, Meta(max_length=40)], RecordKey] = {}
    versions: dict[Annotated[str, Meta(max_length=20, pattern=r"^[0-9]+$")], RecordKey] = {}


class MovedOut(msgspec.Struct, kw_only=True):
    table: str
    field: str
    count: int


class MergeOut(msgspec.Struct, kw_only=True):
    record: RecordOut  # the survivor as it is now
    merged: list[int]  # the sources' ids (deleted; their history stays)
    moved: list[MovedOut]  # related records re-pointed to the survivor


class DuplicateGroupOut(msgspec.Struct, kw_only=True):
    reason: str  # the key that formed the group: email | phone | name_company
    reasons: list[str]  # every kind of key all its records share
    score: int  # 0–100
    count: int  # records sharing the key (at most 20 are listed)
    records: list[RecordOut]


class DuplicateGroupPage(msgspec.Struct, kw_only=True):
    items: list[DuplicateGroupOut]
    next_cursor: str | None
    rule: dict[str, Any]  # which fields count (email, phone, name, company)


class DuplicateOut(msgspec.Struct, kw_only=True):
    record: RecordOut
    reasons: list[str]
    score: int


class BulkIn(Strict):
    """A bulk action on a selection (``ids``) or a whole view / filter / search."""

    action: Annotated[str, Meta(max_length=20)]  # set_field | owner | status | delete
    ids: Annotated[list[Annotated[int, Meta(ge=1)]], Meta(max_length=100_000)] | None = None
    view: Annotated[int, Meta(ge=1, le=2_147_483_647)] | None = None
    where: Any = None
    q: Annotated[str, Meta(max_length=1000)] | None = None
    field: Annotated[str, Meta(max_length=30)] | None = None
    value: Any = None
    owner_id: StaffId | None = None
    status: Annotated[str, Meta(max_length=50)] | None = None


class BulkStarted(msgspec.Struct, kw_only=True):
    job_id: int
    count: int  # records in the set when the job was created


class BulkReport(msgspec.Struct, kw_only=True):
    job_id: int
    state: str
    done: int  # records changed (or deleted)
    unchanged: int  # already had the value
    skipped_count: int
    skipped: list[dict[str, Any]]  # {record_id, reason[, from]}: changed, not_owner, gone…
