"""Members API: log-in, log-out and "who am I" for the site; the member's log-in state for
staff. Thin: parse, call a service (in a thread), shape the response and cookies."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.errors import RateLimited, Unauthenticated, ValidationFailed
from api.members import permissions as perms
from api.members import services
from api.members.identity import safe_next
from api.members.schemas import (
    AccountOut,
    LoginIn,
    LoginOut,
    MemberProfile,
    MeOut,
    PasswordIn,
    SessionOut,
    SessionsEnded,
    StatusIn,
)
from api.principal import Principal
from api.runtime import Runtime
from api.security.login import LoginAttempt
from api.security.revocation import now_ms
from api.web.auth import client_ip, requires, same_origin

RecordIdPath = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]
SessionIdPath = Annotated[str, PathParameter(min_length=1, max_length=64)]
NO_STORE = {"Cache-Control": "no-store"}
FORM_REDIRECT = ResponseSpec(
    data_container=None,
    description="A plain form post (no JavaScript): sent on with 'Location' (a safe same-site "
    "'next', '/', or back to '/login/?error=…&next=…')",
)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _is_form(request: Request[Any, Any, Any]) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media in FORM_TYPES


async def _login_input(request: Request[Any, Any, Any]) -> tuple[bool, LoginIn]:
    """The log-in fields from a JSON body or a plain HTML form."""
    if _is_form(request):
        form = await request.form()

        def text(name: str, limit: int) -> str:
            value = form.get(name)
            return value[:limit] if isinstance(value, str) else ""

        return True, LoginIn(
            email=text("email", 1000), password=text("password", 4096), next=text("next", 2000)
        )
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise HTTPException(
            status_code=415, detail="Send a form or JSON (Content-Type: application/json)"
        )
    try:
        return False, msgspec.json.decode(await request.body(), type=LoginIn)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(detail=f"body: {exc}") from None
    except msgspec.DecodeError:
        raise ValidationFailed(detail="body: not valid JSON") from None


def _end_session(runtime: Runtime, refresh: str | None, session_id: str | None = None) -> None:
    with runtime.db.transaction() as session:
        services.logout(session, refresh, session_id)


def _profile_out(data: dict[str, Any] | None) -> MemberProfile | None:
    return MemberProfile(**data) if data else None


def account_out(state: services.AccountState) -> AccountOut:
    account = state.account
    return AccountOut(
        record_id=state.record_id,
        table=state.table,
        login_field=state.login_field,
        email=state.email,
        has_account=account is not None,
        has_password=bool(account and account.password_hash),
        status=account.status if account else "none",
        can_log_in=bool(
            account and account.password_hash and account.status == "active" and state.email
        ),
        last_login_at=account.last_login_at if account else None,
        failed_attempts=account.failed_attempts if account else 0,
        last_failed_at=account.last_failed_at if account else None,
        password_changed_at=account.password_changed_at if account else None,
        suspended_at=account.suspended_at if account else None,
        sessions=[
            SessionOut(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                expires_at=s.expires_at,
                ip=s.ip,
                user_agent=s.user_agent,
            )
            for s in state.sessions
        ],
    )


class MemberAuthController(Controller):
    """The site's member log-in (public: a member is not staff)."""

    path = "/api/members"
    tags = ["members"]

    @post("/login", guards=[same_origin], status_code=200, problems=(401, 415, 422, 429),
          responses={303: FORM_REDIRECT})  # fmt: skip
    async def login(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Log a member in by e-mail and password (JSON, or a plain form post: 303 to a safe
        ``next``, or back to ``/login/?error=…&next=…``). Sets the HttpOnly member cookies."""
        form, data = await _login_input(request)
        auth = runtime.member_auth
        target = safe_next(data.next) or "/"
        ip, agent = client_ip(request), request.headers.get("user-agent")

        def check(
            attempt: LoginAttempt | None,
        ) -> tuple[LoginAttempt, int, services.Login | None]:
            """In one thread hop: the throttle, then the password unless the throttle slows
            this attempt down (None: wait ``attempt.delay``, then call again with it)."""
            if attempt is None:
                attempt = services.begin_login(
                    runtime.counters, email=data.email, ip=ip,
                    ip_limit=runtime.settings.login_rate_limit,
                )  # fmt: skip
                if attempt.delay:
                    return attempt, 0, None
            issued = now_ms()  # before the read: a change committed after it leaves it stale
            login = services.authenticate(
                runtime.db, runtime.counters, attempt, password=data.password,
                user_agent=agent, lifetime=auth.session_lifetime, fields=auth.fields.refresh(),
            )  # fmt: skip
            return attempt, issued, login

        try:
            attempt, issued, login = await sync_to_thread(check, None)
            if login is None:  # the account's slow-down, waited without holding a thread
                await asyncio.sleep(attempt.delay)
                attempt, issued, login = await sync_to_thread(check, attempt)
        except (Unauthenticated, RateLimited) as exc:
            if not form:
                raise
            error = "rate_limited" if isinstance(exc, RateLimited) else "invalid"
            return Redirect(
                f"/login/?error={error}&next={quote(target, safe='/')}",
                status_code=303,
                headers=NO_STORE,
            )
        assert login is not None  # authenticate answers or raises
        token = auth.remember_login(login, issued)
        cookies = auth.login_cookies(token, login.refresh)
        previous = request.cookies.get(auth.refresh_name)
        if previous:  # a log-in over another one: the replaced session ends, not lingers
            await sync_to_thread(_end_session, runtime, previous)
        if form:
            return Redirect(target, status_code=303, cookies=cookies, headers=NO_STORE)
        profile = await auth.profile(login.claims.record_id, issued)
        return Response(
            LoginOut(member=_profile_out(profile), next=target), cookies=cookies, headers=NO_STORE
        )

    @post("/logout", guards=[same_origin], status_code=HTTP_204_NO_CONTENT,
          responses={303: FORM_REDIRECT})  # fmt: skip
    async def logout(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[None]:
        """End this log-in (its session is revoked everywhere at once) and clear the cookies;
        a form post is sent on to ``/``."""
        auth = runtime.member_auth
        refresh = request.cookies.get(auth.refresh_name)
        session_id = auth.session_of(request.cookies)

        if refresh or session_id:
            await sync_to_thread(_end_session, runtime, refresh, session_id)
        auth.forget(request.cookies.get(auth.access_name))
        if _is_form(request):
            return Redirect("/", status_code=303, cookies=auth.clear_cookies(), headers=NO_STORE)
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, cookies=auth.clear_cookies(), headers=NO_STORE
        )

    @get("/me")
    async def me(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[MeOut]:
        """The logged-in member (``{"member": null}`` when anonymous); never cached."""
        auth = runtime.member_auth
        identity = await auth.identify(request.cookies)
        body = MeOut(member=None)
        if identity.member is not None and identity.member.id is not None:
            profile = await auth.profile(identity.member.id)
            if profile is not None:
                body = MeOut(member=MemberProfile(**profile), groups=sorted(identity.member.groups))
        return Response(body, cookies=identity.set_cookies, headers=NO_STORE)


class MemberAccountController(Controller):
    """A member's log-in as staff see and change it, from the member's record."""

    path = "/api/members/accounts"
    tags = ["members"]

    @get("/{record_id:int}", guards=[requires(perms.MEMBERS_READ)], sync_to_thread=True,
         problems=(409,))  # fmt: skip
    def get_account(
        self,
        record_id: RecordIdPath,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> AccountOut:
        """Log-in state, last log-in, failed attempts and live sessions of a member."""
        with runtime.db.read() as session:
            return account_out(services.account_state(session, principal, record_id))

    @put("/{record_id:int}/password", guards=[requires(perms.MEMBERS_WRITE)],
         sync_to_thread=True, problems=(409,))  # fmt: skip
    def set_password(
        self,
        record_id: RecordIdPath,
        data: JSONBody[PasswordIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> AccountOut:
        """Set the member's password (the password policy applies); every session ends."""
        with runtime.db.transaction() as session:
            return account_out(services.set_password(session, principal, record_id, data.password))

    @put("/{record_id:int}/status", guards=[requires(perms.MEMBERS_WRITE)],
         sync_to_thread=True, problems=(409,))  # fmt: skip
    def set_status(
        self,
        record_id: RecordIdPath,
        data: JSONBody[StatusIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> AccountOut:
        """Suspend (sessions end, tokens stop working at once) or reactivate the member."""
        with runtime.db.transaction() as session:
            return account_out(services.set_status(session, principal, record_id, data.status))

    @delete("/{record_id:int}/sessions/{session_id:str}", guards=[requires(perms.MEMBERS_WRITE)],
            sync_to_thread=True, status_code=HTTP_204_NO_CONTENT)  # fmt: skip
    def end_session(
        self,
        record_id: RecordIdPath,
        session_id: SessionIdPath,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> None:
        """Log the member out on one device."""
        with runtime.db.transaction() as session:
            services.end_session(session, principal, record_id, session_id)

    @post("/{record_id:int}/sessions/end", guards=[requires(perms.MEMBERS_WRITE)],
          sync_to_thread=True, status_code=200)  # fmt: skip
    def end_sessions(
        self,
        record_id: RecordIdPath,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> SessionsEnded:
        """Log the member out everywhere."""
        with runtime.db.transaction() as session:
            return SessionsEnded(ended=services.end_all_sessions(session, principal, record_id))
