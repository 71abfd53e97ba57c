"""Audit log API (read-only)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.audit import permissions as perms
from api.audit import services
from api.audit.schemas import AuditOut
from api.runtime import Runtime
from api.web.auth import requires
from api.web.params import Cursor, Page, Pagination, provide_pagination

Filter = Annotated[str | None, QueryParameter(max_length=200)]


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/", guards=[requires(perms.AUDIT_READ)], sync_to_thread=True)
    def list_entries(
        self,
        runtime: NamedDependency[Runtime],
        pagination: NamedDependency[Pagination],
        action: Filter = None,
        actor: Filter = None,
        target_type: Filter = None,
        target_id: Filter = None,
        cursor: Cursor = None,
    ) -> Page[AuditOut]:
        """Newest first. ``total`` is exact up to 10,000 entries and estimated beyond
        (``total_exact``); ``cursor`` pages at the same cost at any depth."""
        with runtime.db.read() as session:
            found = services.page_entries(
                session,
                action=action,
                actor=actor,
                target_type=target_type,
                target_id=target_id,
                cursor=cursor,
                offset=pagination.offset,
                limit=pagination.per_page,
            )
            return pagination.of(
                [AuditOut(**r.model_dump()) for r in found.items],
                found.total.value,
                total_exact=found.total.exact,
                next_cursor=found.next_cursor,
                prev_cursor=found.prev_cursor,
            )
