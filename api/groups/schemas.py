"""Request and response bodies of the groups API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

RecordId = Annotated[int, Meta(ge=1, le=2**63 - 1)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class GroupIn(Strict):
    key: Annotated[str, Meta(max_length=50)]
    label: dict[str, str | None] | str
    description: Annotated[str, Meta(max_length=2000)] | None = None


class GroupPatch(Strict):
    key: Annotated[str, Meta(max_length=50)] | None = None  # refused unless unchanged
    label: dict[str, str | None] | str | None = None
    description: Annotated[str, Meta(max_length=2000)] | None = None


class GroupOut(msgspec.Struct, kw_only=True):
    key: str
    label: dict[str, Any]
    description: str
    members: int
    rule: str  # how access rules name it: group:<key>
    created_at: datetime
    updated_at: datetime


class GroupList(msgspec.Struct, kw_only=True):
    items: list[GroupOut]
    member_table: str | None  # the member table's key (None: no table is marked)


class MembersIn(Strict):
    record_ids: Annotated[list[RecordId], Meta(min_length=1, max_length=1_000)]


class MembersChanged(msgspec.Struct, kw_only=True):
    changed: int
    unchanged: int


class MemberOut(msgspec.Struct, kw_only=True):
    id: int
    label: str
    table: str


class MembersPage(msgspec.Struct, kw_only=True):
    items: list[MemberOut]
    total: int
    offset: int
    limit: int


class RecordGroupsIn(Strict):
    groups: Annotated[list[Annotated[str, Meta(max_length=50)]], Meta(max_length=500)]


class RecordGroups(msgspec.Struct, kw_only=True):
    table: str
    record_id: int
    groups: list[GroupOut]


class GroupBulkIn(Strict):
    action: Annotated[str, Meta(max_length=20)]  # add | remove
    ids: Annotated[list[RecordId], Meta(max_length=100_000)] | None = None
    view: Annotated[int, Meta(ge=1, le=2_147_483_647)] | None = None
    where: Any = None
    q: Annotated[str, Meta(max_length=1000)] | None = None


class GroupBulkStarted(msgspec.Struct, kw_only=True):
    job_id: int
    count: int


class GroupBulkReport(msgspec.Struct, kw_only=True):
    job_id: int
    state: str
    done: int
    unchanged: int
