"""Staff API: login/logout/me, staff accounts, roles and API tokens. Handlers stay thin:
open a transaction, call a service, shape the response."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import Session

from api.livesettings import services as live
from api.permissions import PermissionRegistry
from api.principal import Principal
from api.runtime import Runtime
from api.staff import permissions as perms
from api.staff import services
from api.staff.models import ApiToken, Staff
from api.staff.schemas import (
    LoginRequest,
    OwnAccountUpdate,
    PasswordPolicyOut,
    PrincipalOut,
    RoleOut,
    RolesOut,
    SessionOut,
    StaffCreate,
    StaffOut,
    StaffRef,
    StaffUpdate,
    TokenCreate,
    TokenCreated,
    TokenOut,
)
from api.web.auth import (
    clear_login_cookie,
    client_ip,
    csrf_token,
    login_cookie,
    requires,
    same_origin_json,
    self_service,
    session_lifetime,
)
from api.web.params import Page, Pagination, RowId, provide_pagination


def staff_out(staff: Staff) -> StaffOut:
    return StaffOut(
        id=staff.id,  # type: ignore[arg-type]
        email=staff.email,
        name=staff.name,
        role=staff.role,
        locale=staff.locale,
        is_active=staff.is_active,
        created_at=staff.created_at,
        last_login_at=staff.last_login_at,
    )


def token_out(token: ApiToken, creator: Staff | None) -> TokenOut:
    return TokenOut(
        id=token.id,  # type: ignore[arg-type]
        name=token.name,
        prefix=token.prefix,
        role=token.role,
        created_at=token.created_at,
        created_by=StaffRef(id=creator.id, name=creator.name) if creator and creator.id else None,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


def session_out(
    runtime: Runtime,
    session: Session,
    principal: Principal,
    staff: Staff | None,
    permissions: PermissionRegistry,
    labels: dict[str, dict[str, str]],
) -> SessionOut:
    """Who is logged in, what they may do, and the CSRF token their writes must carry."""
    policy = live.password_policy(session)
    return SessionOut(
        password_policy=PasswordPolicyOut(**dataclasses.asdict(policy)),
        staff=staff_out(staff) if staff else None,
        principal=PrincipalOut(
            kind=principal.kind, label=staff.name if staff else principal.label, role=principal.role
        ),
        permissions=sorted(p.value for p in principal.allowed(permissions)),
        csrf_token=csrf_token(runtime, principal.session_id) if principal.session_id else None,
        labels=labels,
        time_zone=str(live.get(session, "site.time_zone")),
    )


class StaffAuthController(Controller):
    path = "/api/staff/auth"
    tags = ["staff"]

    @post("/login", status_code=200, guards=[same_origin_json], opt={"problems": (401, 429)})
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        runtime: NamedDependency[Runtime],
        permissions: NamedDependency[PermissionRegistry],
        labels: NamedDependency[dict[str, dict[str, str]]],
    ) -> Response[SessionOut]:
        """Log a staff member in; sets the HttpOnly session cookie."""
        attempt = await sync_to_thread(
            services.begin_login,
            runtime.counters,
            email=data.email,
            ip=client_ip(request),
            ip_limit=runtime.settings.login_rate_limit,
        )
        if attempt.delay:  # the account's slow-down, waited without holding a thread
            await asyncio.sleep(attempt.delay)
        return await sync_to_thread(
            self._open_session, runtime, attempt, data, request, permissions, labels
        )

    @staticmethod
    def _open_session(
        runtime: Runtime,
        attempt: services.LoginAttempt,
        data: LoginRequest,
        request: Request[Any, Any, Any],
        permissions: PermissionRegistry,
        labels: dict[str, dict[str, str]],
    ) -> Response[SessionOut]:
        result = services.authenticate(
            runtime.db,
            runtime.counters,
            attempt,
            password=data.password,
            user_agent=request.headers.get("user-agent"),
            lifetime=session_lifetime(runtime.settings),
        )
        principal = services.principal_for_staff(result.staff, session_id=result.session.id)
        with runtime.db.read() as session:
            body = session_out(runtime, session, principal, result.staff, permissions, labels)
        return Response(body, cookies=[login_cookie(runtime, result.staff, result.session)])

    @post("/logout", status_code=HTTP_204_NO_CONTENT, guards=[self_service()], sync_to_thread=True)
    def logout(
        self, principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> Response[None]:
        with runtime.db.transaction() as session:
            services.logout(session, principal)
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        clear_login_cookie(response, runtime.settings)
        return response

    @get("/me", guards=[self_service()], sync_to_thread=True)
    def me(
        self,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        permissions: NamedDependency[PermissionRegistry],
        labels: NamedDependency[dict[str, dict[str, str]]],
    ) -> SessionOut:
        """Who is calling: the staff member (cookie) or the API token (bearer)."""
        with runtime.db.transaction() as session:
            staff = None
            if principal.kind == "staff" and principal.staff_id is not None:
                staff = services.get_staff(session, principal.staff_id)
            return session_out(runtime, session, principal, staff, permissions, labels)

    @patch("/me", guards=[self_service()], sync_to_thread=True)
    def update_me(
        self,
        data: JSONBody[OwnAccountUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        permissions: NamedDependency[PermissionRegistry],
        labels: NamedDependency[dict[str, dict[str, str]]],
    ) -> SessionOut:
        """Change your own name, language or password (the current password is required)."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        with runtime.db.transaction() as session:
            staff = services.update_own_account(session, principal, **changes)
            return session_out(runtime, session, principal, staff, permissions, labels)


class StaffController(Controller):
    path = "/api/staff"
    tags = ["staff"]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/roles", guards=[requires(perms.STAFF_READ)], sync_to_thread=False)
    def roles(self, permissions: NamedDependency[PermissionRegistry]) -> RolesOut:
        """Each role and the permissions it holds in the installed domains."""
        return RolesOut(
            roles=[
                RoleOut(name=role.value, permissions=sorted(p.value for p in held))
                for role, held in permissions.roles().items()
            ]
        )

    @get("/users", guards=[requires(perms.STAFF_READ)], sync_to_thread=True)
    def list_users(
        self,
        runtime: NamedDependency[Runtime],
        pagination: NamedDependency[Pagination],
        q: Annotated[
            str | None, QueryParameter(max_length=200, description="name or e-mail")
        ] = None,
        role: FromQuery[str | None] = None,
    ) -> Page[StaffOut]:
        with runtime.db.transaction() as session:
            rows, total = services.list_staff(
                session, q=q, role=role, offset=pagination.offset, limit=pagination.per_page
            )
            return pagination.of([staff_out(s) for s in rows], total)

    @post(
        "/users",
        guards=[requires(perms.STAFF_WRITE)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def create_user(
        self,
        data: JSONBody[StaffCreate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> StaffOut:
        with runtime.db.transaction() as session:
            staff = services.create_staff(session, principal, **msgspec.structs.asdict(data))
            return staff_out(staff)

    @get("/users/{staff_id:int}", guards=[requires(perms.STAFF_READ)], sync_to_thread=True)
    def get_user(self, staff_id: RowId, runtime: NamedDependency[Runtime]) -> StaffOut:
        with runtime.db.transaction() as session:
            return staff_out(services.get_staff(session, staff_id))

    @patch("/users/{staff_id:int}", guards=[requires(perms.STAFF_WRITE)], sync_to_thread=True)
    def update_user(
        self,
        staff_id: RowId,
        data: JSONBody[StaffUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> StaffOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        with runtime.db.transaction() as session:
            return staff_out(services.update_staff(session, principal, staff_id, changes))


class TokenController(Controller):
    path = "/api/staff/tokens"
    tags = ["staff"]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/", guards=[requires(perms.TOKENS_READ)], sync_to_thread=True)
    def list_tokens(
        self, runtime: NamedDependency[Runtime], pagination: NamedDependency[Pagination]
    ) -> Page[TokenOut]:
        with runtime.db.transaction() as session:
            rows, total = services.list_tokens(
                session, offset=pagination.offset, limit=pagination.per_page
            )
            return pagination.of([token_out(t, s) for t, s in rows], total)

    @post(
        "/",
        guards=[requires(perms.TOKENS_WRITE)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def create_token(
        self,
        data: JSONBody[TokenCreate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        permissions: NamedDependency[PermissionRegistry],
    ) -> TokenCreated:
        """Create an API token. The secret is in this response only; it cannot be shown again."""
        with runtime.db.transaction() as session:
            token, secret = services.create_token(
                session,
                principal,
                name=data.name,
                role=data.role,
                expires_in_days=data.expires_in_days,
                permissions=permissions,
            )
            creator = session.get(Staff, token.created_by_id) if token.created_by_id else None
            return TokenCreated(token=token_out(token, creator), secret=secret)

    @delete("/{token_id:int}", guards=[requires(perms.TOKENS_WRITE)], sync_to_thread=True)
    def revoke_token(
        self,
        token_id: RowId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> None:
        with runtime.db.transaction() as session:
            services.revoke_token(session, principal, token_id)
