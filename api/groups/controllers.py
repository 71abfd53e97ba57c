"""Groups API: thin handlers over ``api.groups.services``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from api.errors import Conflict
from api.groups import bulk, services
from api.groups import permissions as perms
from api.groups.models import MemberGroup
from api.groups.schemas import (
    GroupBulkIn,
    GroupBulkReport,
    GroupBulkStarted,
    GroupIn,
    GroupList,
    GroupOut,
    GroupPatch,
    MemberOut,
    MembersChanged,
    MembersIn,
    MembersPage,
    RecordGroups,
    RecordGroupsIn,
)
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires

GroupKey = Annotated[str, PathParameter(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_-]*$")]
RecordIdPath = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]


def group_out(group: MemberGroup, members: int) -> GroupOut:
    return GroupOut(
        key=group.key,
        label=dict(group.label),
        description=group.description,
        members=members,
        rule=f"group:{group.key}",
        created_at=group.created_at,
        updated_at=group.updated_at,
    )


class GroupController(Controller):
    path = "/api/groups"
    tags = ["groups"]

    @get("/", guards=[requires(perms.GROUPS_READ)], sync_to_thread=True)
    def list_groups(
        self, principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> GroupList:
        """Every group with its number of members (those the caller may see)."""
        with runtime.db.read() as session:
            try:
                member_table: str | None = services.member_design(session).key
            except Conflict:
                member_table = None
            items = [
                group_out(i.group, i.members) for i in services.list_groups(session, principal)
            ]
            return GroupList(items=items, member_table=member_table)

    @post("/", guards=[requires(perms.GROUPS_WRITE)], status_code=201, sync_to_thread=True)
    def create_group(
        self,
        data: JSONBody[GroupIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> GroupOut:
        with runtime.db.transaction() as session:
            group = services.create_group(
                session, principal, data.key, data.label, data.description
            )
            return group_out(group, 0)

    @get("/{key:str}", guards=[requires(perms.GROUPS_READ)], sync_to_thread=True)
    def get_group(
        self,
        key: GroupKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> GroupOut:
        with runtime.db.read() as session:
            info = services.group_info(session, key, principal)
            return group_out(info.group, info.members)

    @patch("/{key:str}", guards=[requires(perms.GROUPS_WRITE)], sync_to_thread=True)
    def update_group(
        self,
        key: GroupKey,
        data: JSONBody[GroupPatch],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> GroupOut:
        """Rename (labels) or describe; the key cannot change (422 ``key_immutable``)."""
        with runtime.db.transaction() as session:
            services.update_group(
                session, principal, key, new_key=data.key, label=data.label,
                description=data.description,
            )  # fmt: skip
            info = services.group_info(session, key, principal)
            return group_out(info.group, info.members)

    @delete(
        "/{key:str}",
        guards=[requires(perms.GROUPS_WRITE)],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def delete_group(
        self,
        key: GroupKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        force: Annotated[bool, QueryParameter()] = False,
    ) -> None:
        """Delete a group; one with members only with ``?force=true`` (else 409
        ``group_not_empty`` with the count)."""
        with runtime.db.transaction() as session:
            services.delete_group(session, principal, key, force=force)

    @get("/{key:str}/members", guards=[requires(perms.GROUPS_READ)], sync_to_thread=True)
    def list_members(
        self,
        key: GroupKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> MembersPage:
        with runtime.db.read() as session:
            page = services.list_members(session, principal, key, offset=offset, limit=limit)
            return MembersPage(
                items=[MemberOut(**i) for i in page.items], total=page.total, offset=offset,
                limit=limit,
            )  # fmt: skip

    @post("/{key:str}/members", guards=[requires(perms.GROUPS_WRITE)], status_code=200,
          sync_to_thread=True)  # fmt: skip
    def add_members(
        self,
        key: GroupKey,
        data: JSONBody[MembersIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> MembersChanged:
        """Add member records by id (up to 1,000; more through ``…/bulk``)."""
        with runtime.db.transaction() as session:
            changed, unchanged = services.change_members(
                session, principal, key, list(data.record_ids), add=True
            )
        return MembersChanged(changed=changed, unchanged=unchanged)

    @post("/{key:str}/members/remove", guards=[requires(perms.GROUPS_WRITE)], status_code=200,
          sync_to_thread=True)  # fmt: skip
    def remove_members(
        self,
        key: GroupKey,
        data: JSONBody[MembersIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> MembersChanged:
        with runtime.db.transaction() as session:
            changed, unchanged = services.change_members(
                session, principal, key, list(data.record_ids), add=False
            )
        return MembersChanged(changed=changed, unchanged=unchanged)

    @post("/{key:str}/bulk", guards=[requires(perms.GROUPS_WRITE)],
          status_code=HTTP_202_ACCEPTED, sync_to_thread=True)  # fmt: skip
    def start_bulk(
        self,
        key: GroupKey,
        data: JSONBody[GroupBulkIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> GroupBulkStarted:
        """Add to / remove from the group a selection (``ids``) or every record of a view,
        filter or search of the member table, as a job."""
        with runtime.db.transaction() as session:
            job_id, count = bulk.start(
                session, principal, key, data.action, ids=data.ids, view=data.view,
                where=data.where, q=data.q,
            )  # fmt: skip
        return GroupBulkStarted(job_id=job_id, count=count)

    @get("/{key:str}/bulk/{job_id:int}", guards=[requires(perms.GROUPS_READ)],
         sync_to_thread=True)  # fmt: skip
    def bulk_report(
        self,
        key: GroupKey,
        job_id: Annotated[int, PathParameter(ge=1, le=2**63 - 1)],
        runtime: NamedDependency[Runtime],
    ) -> GroupBulkReport:
        with runtime.db.read() as session:
            return GroupBulkReport(job_id=job_id, **bulk.report(session, key, job_id))


class MemberGroupsController(Controller):
    """A member's groups (the record page)."""

    path = "/api/member-groups"
    tags = ["groups"]

    @get(
        "/{record_id:int}",
        guards=[requires(perms.GROUPS_READ)],
        sync_to_thread=True,
        problems=(409,),  # no member table
    )
    def record_groups(
        self,
        record_id: RecordIdPath,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> RecordGroups:
        with runtime.db.read() as session:
            design, groups = services.record_groups(session, principal, record_id)
            counts = services.member_counts(session, principal)
            return RecordGroups(
                table=design.key, record_id=record_id,
                groups=[group_out(g, counts.get(g.id or 0, 0)) for g in groups],
            )  # fmt: skip

    @put("/{record_id:int}", guards=[requires(perms.GROUPS_WRITE)], sync_to_thread=True)
    def set_record_groups(
        self,
        record_id: RecordIdPath,
        data: JSONBody[RecordGroupsIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> RecordGroups:
        """Make the member's groups exactly these keys."""
        with runtime.db.transaction() as session:
            services.set_record_groups(session, principal, record_id, list(data.groups))
            design, groups = services.record_groups(session, principal, record_id)
            counts = services.member_counts(session, principal)
            return RecordGroups(
                table=design.key, record_id=record_id,
                groups=[group_out(g, counts.get(g.id or 0, 0)) for g in groups],
            )  # fmt: skip
