"""Audit log API (read-only)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from api.audit import services
from api.audit.schemas import AuditOut, AuditPage
from api.runtime import Runtime
from api.staff.permissions import Permission
from api.web.auth import requires
from api.web.pagination import Pagination, provide_pagination


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/", guards=[requires(Permission.audit_read)], sync_to_thread=True)
    def list_entries(
        self,
        runtime: NamedDependency[Runtime],
        pagination: NamedDependency[Pagination],
        action: FromQuery[str | None] = None,
        actor: FromQuery[str | None] = None,
        target_type: FromQuery[str | None] = None,
        target_id: FromQuery[str | None] = None,
    ) -> AuditPage:
        with runtime.db.transaction() as session:
            rows, total = services.list_entries(
                session,
                action=action,
                actor=actor,
                target_type=target_type,
                target_id=target_id,
                offset=pagination.offset,
                limit=pagination.per_page,
            )
            items = [AuditOut(**r.model_dump()) for r in rows]
        return AuditPage(
            items=items, total=total, page=pagination.page, per_page=pagination.per_page
        )
