"""The member site's API (issue 18): registration, confirmation and reset links, my page,
withdrawal; and the staff's approve / resend confirmation.

Every write accepts JSON or a plain HTML form post (the theme's pages work without
JavaScript): JSON gets a JSON answer or a problem; a form gets a 303 back to its page with the
outcome in the query (``?done=…`` or ``?error=<code>&fields=<field>:<code>,…``), or on to a
safe ``next``. Every write is behind the ``same_origin`` guard (CSRF: no cross-site form or
script can post here with the member's cookies). Bodies with fields the member may not send
are refused (422 ``unknown_field``).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.concurrency import sync_to_thread
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.errors import KizunaError, Unauthenticated, ValidationFailed
from api.members import permissions as perms
from api.members import rules, site
from api.members import services as members
from api.members.controllers import account_out
from api.members.identity import safe_next
from api.members.schemas import (
    Accepted,
    AccountOut,
    ChangePasswordIn,
    EmailChanged,
    EmailChangeIn,
    FieldOut,
    LinkIn,
    LinkOut,
    MySessionOut,
    NewPasswordIn,
    PasswordChanged,
    PasswordRulesOut,
    ProfileOut,
    RegistrationOut,
    ResetIn,
    SessionsEnded,
    StatusOut,
    WithdrawIn,
)
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import client_ip, requires, same_origin

T = TypeVar("T")
NO_STORE = {"Cache-Control": "no-store"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_REDIRECT = ResponseSpec(
    data_container=None,
    description="A plain form post (no JavaScript): 303 back to the page with `?done=…` or "
    "`?error=<code>&fields=<field>:<code>,…`, or on to a safe `next`",
)
FORM = {303: FORM_REDIRECT}
# The theme's pages (issue 18, part 6: these are the default URLs).
PAGES = {
    "register": "/register/",
    "confirm": "/register/confirm/",
    "login": "/login/",
    "mypage": "/mypage/",
    "email": "/mypage/email/",
    "password": "/mypage/password/",
    "reset": "/password/reset/",
    "withdraw": "/withdraw/",
}
# The manifest's names of those pages: the build may move them (`[pages]` of site.toml) and
# writes every one in each language (`pages_by_lang`), so a form's `lang` goes back to its own.
MANIFEST_NAMES = {
    "register": "register",
    "confirm": "register_confirm",
    "login": "login",
    "mypage": "mypage",
    "email": "mypage_email",
    "password": "mypage_password",
    "reset": "password_reset",
    "withdraw": "withdraw",
}
PAGE_LANGS = ("ja", "en")
LINK_PAGES = {"confirm": "confirm", "reset": "reset", "email": "email"}  # link purpose -> page
LINK_COOKIE_AGE = 3600
SessionIdPath = Annotated[str, PathParameter(min_length=1, max_length=64)]
RecordIdPath = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]
TokenPath = Annotated[str, PathParameter(min_length=1, max_length=300)]


def context(runtime: Runtime) -> site.SiteContext:
    return site.SiteContext(
        db=runtime.db,
        keyring=runtime.keyring,
        counters=runtime.counters,
        theme_dir=runtime.settings.theme_dir,
        base_url=runtime.settings.effective_base_url,
    )


# ------------------------------------------------------------------ bodies and answers


def _is_form(request: Request[Any, Any, Any]) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media in FORM_TYPES


async def read_body(request: Request[Any, Any, Any]) -> tuple[bool, dict[str, Any]]:
    """``(is_form, fields)`` of a JSON object or a plain form (text fields only)."""
    if _is_form(request):
        form = await request.form()
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, str) and key not in data:
                data[str(key)[:100]] = value[:4096]
        return True, data
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise HTTPException(
            status_code=415, detail="Send a form or JSON (Content-Type: application/json)"
        )
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        raise ValidationFailed(detail="body: not valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationFailed(detail="body: must be a JSON object")
    return False, body


def convert(data: dict[str, Any], kind: type[T]) -> T:
    """``data`` as ``kind`` (unknown fields refused: 422 ``unknown_field``)."""
    allowed = set(getattr(kind, "__struct_fields__", ()))
    site.unknown_fields(data, allowed)
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(detail=f"body: {exc}") from None


def page_url(runtime: Runtime, page: str, data: dict[str, Any] | None = None) -> str:
    """The URL of the theme's ``page`` (a key of PAGES) in the language of the form that was
    sent (its ``lang``), as the last build wrote it (``site/meta/access.json``); the default
    URLs (``/en/…`` for English) without a build."""
    lang = (data or {}).get("lang")
    lang = lang if lang in PAGE_LANGS else ""
    built = runtime.member_auth.fields
    built.refresh()
    found = built.pages.get(lang, {}).get(MANIFEST_NAMES[page])
    if found:
        return found
    return f"/{lang}{PAGES[page]}" if lang and lang != "ja" else PAGES[page]


def _target(page: str, data: dict[str, Any], params: dict[str, str]) -> str:
    nxt = safe_next(data.get("next")) if isinstance(data.get("next"), str) else None
    base = nxt or page
    if not params:
        return base
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


def done(
    form: bool,
    page: str,
    data: dict[str, Any],
    body: Any,
    *,
    params: dict[str, str] | None = None,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Response[Any]:
    if form:
        return Redirect(
            _target(page, data, params or {}), status_code=303, cookies=cookies or [],
            headers=NO_STORE,
        )  # fmt: skip
    return Response(body, status_code=status, cookies=cookies or [], headers=NO_STORE)


def failed(form: bool, page: str, exc: KizunaError) -> Response[Any]:
    """A form post that failed goes back to its page with the codes; JSON gets the problem."""
    if not form:
        raise exc
    params = {"error": exc.code}
    if exc.errors:
        params["fields"] = ",".join(f"{e.field}:{e.code}" for e in exc.errors[:20])
    return Redirect(f"{page}{'&' if '?' in page else '?'}{urlencode(params)}", status_code=303,
                    headers=NO_STORE)  # fmt: skip


async def who(
    request: Request[Any, Any, Any], runtime: Runtime
) -> tuple[int, str | None, list[Cookie]]:
    """The logged-in member: ``(record id, session id, cookies to set)``; 401 otherwise."""
    identity = await runtime.member_auth.identify(request.cookies)
    if identity.member is None or identity.member.id is None:
        raise Unauthenticated(detail="Log in first.", code="not_logged_in")
    return identity.member.id, identity.session_id, identity.set_cookies


def link_cookie_name(runtime: Runtime) -> str:
    secure = runtime.settings.secure_cookies
    return "__Secure-kizuna_member_link" if secure else "kizuna_member_link"


def link_cookie(runtime: Runtime, value: str, max_age: int = LINK_COOKIE_AGE) -> Cookie:
    return Cookie(
        key=link_cookie_name(runtime),
        value=value,
        path="/api/members/",
        httponly=True,
        secure=runtime.settings.secure_cookies,
        samesite="strict",
        max_age=max_age,
    )


def _token(request: Request[Any, Any, Any], runtime: Runtime, given: str | None) -> str | None:
    return given or request.cookies.get(link_cookie_name(runtime))


def _lang(request: Request[Any, Any, Any], given: str | None) -> str:
    if given in ("ja", "en"):
        return given
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "ja"


def _fields(items: list[site.FieldOut]) -> list[FieldOut]:
    return [FieldOut(**vars(f)) for f in items]


def _rules(data: dict[str, Any]) -> PasswordRulesOut:
    return msgspec.convert(data, PasswordRulesOut)


# ------------------------------------------------------------------ controllers


class MemberSiteController(Controller):
    """Registration, links, reset (public) and my page (the logged-in member)."""

    path = "/api/members"
    tags = ["member site"]

    # ---------------------------------------------------------------- public

    @get("/password-rules", sync_to_thread=True)
    def password_rules(self, runtime: NamedDependency[Runtime]) -> PasswordRulesOut:
        """The password rules, to show next to every new-password field (ja/en)."""
        with runtime.db.read() as session:
            return _rules(rules.describe(rules.member_policy(session)))

    @get("/registration", sync_to_thread=True)
    def registration(self, runtime: NamedDependency[Runtime]) -> RegistrationOut:
        """What the registration page asks: mode (open, closed, approval), the fields besides
        e-mail and password, and the password rules."""
        with runtime.db.read() as session:
            form = site.registration_form(session)
        return RegistrationOut(
            mode=form["mode"], fields=_fields(form["fields"]), password=_rules(form["password"])
        )

    @post("/register", guards=[same_origin], status_code=202,
          problems=(403, 409, 415, 422, 429),
          responses=FORM)  # fmt: skip
    async def register(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Register (``email``, ``password``, the asked field keys, ``lang``): 202 whatever
        the address (a confirmation mail, or a note to the owner of an address already
        registered); a form: 303 to ``/register/?done=sent``."""
        form, data = await read_body(request)
        # A plain form: a multi-select's checkboxes repeat their key (site.form_values).
        pairs = list((await request.form()).multi_items()) if form else None
        ctx = context(runtime)
        try:
            site.limit(ctx.counters, f"register:ip:{client_ip(request)}", most=10, window=3600,
                       what="registrations from your address")  # fmt: skip
            email = str(data.get("email") or "")[:1000].strip().lower()
            key = f"register:account:{site.account_key(email)}"
            site.limit_reached(ctx.counters, key, most=3, window=3600,
                               what="registrations for this address")  # fmt: skip
            values = {**data, "lang": _lang(request, data.get("lang"))}
            await sync_to_thread(site.register, ctx, values, pairs)
            site.count(ctx.counters, key, 3600)
        except KizunaError as exc:
            return failed(form, page_url(runtime, "register", data), exc)
        return done(form, page_url(runtime, "register", data), data,
                    Accepted(), params={"done": "sent"},
                    status=202)  # fmt: skip

    @get("/links/{token:str}", problems=(400, 410, 429), responses={303: FORM_REDIRECT})
    async def open_link(
        self, request: Request[Any, Any, Any], token: TokenPath, runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """A mailed link, opened: nothing is used up (mail scanners prefetch links). A browser
        is sent to the link's page (``/register/confirm/``, ``/password/reset/``,
        ``/mypage/email/``) with ``?step=ready`` and the link kept in an HttpOnly cookie for
        the page's one press (POST), or with ``?error=link_invalid|link_expired|link_used``;
        ``Accept: application/json`` gets ``{purpose, valid}`` or the problem."""
        wants_json = "application/json" in request.headers.get("accept", "")
        parsed = site.parse_link(runtime.keyring, token)
        page = page_url(runtime, LINK_PAGES.get(parsed[0] if parsed else "confirm", "confirm"))
        try:
            site.limit(runtime.counters, f"link:ip:{client_ip(request)}", most=60, window=600)
            purpose, lang = await sync_to_thread(
                site.link_purpose_and_lang, runtime.db, runtime.keyring, token
            )
        except KizunaError as exc:
            if wants_json:
                raise
            return Redirect(f"{page}?{urlencode({'error': exc.code})}", status_code=303,
                            headers=NO_STORE)  # fmt: skip
        if wants_json:
            return Response(LinkOut(purpose=purpose), headers=NO_STORE)
        # The page in the language the link was asked in (the mail's language).
        landing = page_url(runtime, LINK_PAGES[purpose], {"lang": lang})
        return Redirect(
            f"{landing}?step=ready", status_code=303, headers=NO_STORE,
            cookies=[link_cookie(runtime, token)],
        )  # fmt: skip

    @post("/confirm", guards=[same_origin], status_code=200, problems=(400, 410, 415, 422, 429),
          responses=FORM)  # fmt: skip
    async def confirm(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Activate the account of a confirmation link (``token``, or the link cookie):
        ``{status: active|approval}``; a form: 303 to ``/login/?done=confirmed`` or
        ``/register/confirm/?done=approval``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, LinkIn)
            site.limit(ctx.counters, f"confirm:ip:{client_ip(request)}", most=30, window=600)
            status = await sync_to_thread(site.confirm, ctx, _token(request, runtime, body.token))
        except KizunaError as exc:
            return failed(form, page_url(runtime, "confirm", data), exc)
        clear = [link_cookie(runtime, "", 0)]
        if status == "approval":
            return done(form, page_url(runtime, "confirm", data), data, StatusOut(status=status),
                        params={"done": "approval"}, cookies=clear)  # fmt: skip
        return done(form, page_url(runtime, "login", data), data, StatusOut(status=status),
                    params={"done": "confirmed"}, cookies=clear)  # fmt: skip

    @post("/password/reset", guards=[same_origin], status_code=202, problems=(415, 422, 429),
          responses=FORM)  # fmt: skip
    async def request_reset(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Ask for a reset link (``email``): 202 whether or not the address is a member's; a
        form: 303 to ``/password/reset/?done=sent``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, ResetIn)
            site.limit(ctx.counters, f"reset:ip:{client_ip(request)}", most=10, window=3600,
                       what="reset requests from your address")  # fmt: skip
            key = f"reset:account:{site.account_key(body.email.strip().lower())}"
            site.limit_reached(ctx.counters, key, most=3, window=3600,
                               what="reset requests for this address")  # fmt: skip
            await sync_to_thread(site.request_reset, ctx, body.email, _lang(request, body.lang))
            site.count(ctx.counters, key, 3600)
        except KizunaError as exc:
            return failed(form, page_url(runtime, "reset", data), exc)
        return done(
            form,
            page_url(runtime, "reset", data),
            data,
            Accepted(),
            params={"done": "sent"},
            status=202,
        )

    @post("/password/reset/complete", guards=[same_origin], status_code=200,
          problems=(400, 410, 415, 422, 429), responses=FORM)  # fmt: skip
    async def complete_reset(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Set a new password from a reset link (``new_password``; ``token`` or the link
        cookie): every session of the member ends; a form: 303 to ``/login/?done=reset``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, NewPasswordIn)
            site.limit(ctx.counters, f"confirm:ip:{client_ip(request)}", most=30, window=600)
            token = _token(request, runtime, body.token)
            await sync_to_thread(site.complete_reset, ctx, token, body.new_password)
        except KizunaError as exc:
            # A refused password: back to the form, the link kept.
            page = page_url(runtime, "reset", data)
            page += "?step=ready" if isinstance(exc, ValidationFailed) else ""
            return failed(form, page, exc)
        auth = runtime.member_auth
        cookies = [link_cookie(runtime, "", 0), *auth.clear_cookies()]
        return done(form, page_url(runtime, "login", data), data, StatusOut(status="reset"),
                    params={"done": "reset"}, cookies=cookies)  # fmt: skip

    @post("/email/confirm", guards=[same_origin], status_code=200,
          problems=(400, 409, 410, 415, 422, 429), responses=FORM)  # fmt: skip
    async def confirm_email(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Make the new address of an e-mail change link the log-in address (``token`` or the
        link cookie); the old address is told; a form: 303 to ``/mypage/email/?done=changed``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, LinkIn)
            site.limit(ctx.counters, f"confirm:ip:{client_ip(request)}", most=30, window=600)
            email = await sync_to_thread(
                site.confirm_email, ctx, _token(request, runtime, body.token)
            )
        except KizunaError as exc:
            return failed(form, page_url(runtime, "email", data), exc)
        return done(form, page_url(runtime, "email", data), data, EmailChanged(email=email),
                    params={"done": "changed"}, cookies=[link_cookie(runtime, "", 0)])  # fmt: skip

    # ---------------------------------------------------------------- my page

    @get("/profile", problems=(401,))
    async def profile(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[ProfileOut]:
        """The member's own profile: address, fields (which are editable) and values."""
        record_id, _, cookies = await who(request, runtime)

        def read() -> dict[str, Any]:
            with runtime.db.read() as session:
                return site.my_profile(session, record_id)

        return Response(_profile(await sync_to_thread(read)), cookies=cookies, headers=NO_STORE)

    @put("/profile", guards=[same_origin], problems=(401, 409, 415, 422), responses=FORM)
    async def update_profile(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Change the editable fields (JSON ``{key: value}``); any other field is refused."""
        return await self._save_profile(request, runtime)

    @post("/profile", guards=[same_origin], status_code=200, problems=(401, 409, 415, 422),
          responses=FORM)  # fmt: skip
    async def post_profile(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """The same as ``PUT`` (for plain forms): 303 to ``/mypage/?done=saved``."""
        return await self._save_profile(request, runtime)

    async def _save_profile(
        self, request: Request[Any, Any, Any], runtime: Runtime
    ) -> Response[Any]:
        form, data = await read_body(request)
        # A plain form: a multi-select's checkboxes repeat their key (site.form_values).
        pairs = list((await request.form()).multi_items()) if form else []
        try:
            record_id, _, cookies = await who(request, runtime)

            def write() -> dict[str, Any]:
                with runtime.db.transaction() as session:
                    values = (
                        site.form_values(site.editable_fields(session), pairs) if form else data
                    )
                    return site.update_profile(session, record_id, values)

            out = await sync_to_thread(write)
        except KizunaError as exc:
            return failed(form, page_url(runtime, "mypage", data), exc)
        return done(form, page_url(runtime, "mypage", data), data,
                    _profile(out), params={"done": "saved"},
                    cookies=cookies)  # fmt: skip

    @post("/password", guards=[same_origin], status_code=200, problems=(401, 409, 415, 422, 429),
          responses=FORM)  # fmt: skip
    async def change_password(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Change the password (``current_password``, ``new_password``); every other session
        ends; a form: 303 to ``/mypage/password/?done=changed``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, ChangePasswordIn)
            record_id, session_id, cookies = await who(request, runtime)
            ended = await sync_to_thread(
                site.change_password, ctx, record_id, session_id, body.current_password,
                body.new_password,
            )  # fmt: skip
        except KizunaError as exc:
            return failed(form, page_url(runtime, "password", data), exc)
        return done(form, page_url(runtime, "password", data), data,
                    PasswordChanged(sessions_ended=ended),
                    params={"done": "changed"}, cookies=cookies)  # fmt: skip

    @post("/email", guards=[same_origin], status_code=202, problems=(401, 415, 422, 429),
          responses=FORM)  # fmt: skip
    async def change_email(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Ask to change the log-in address (``email``, ``current_password``): a link goes to
        the new address (or, when it is taken, a note to its owner: the same answer); a form:
        303 to ``/mypage/email/?done=sent``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, EmailChangeIn)
            record_id, _, cookies = await who(request, runtime)
            site.limit(ctx.counters, f"email:member:{record_id}", most=5, window=3600,
                       what="address changes")  # fmt: skip
            await sync_to_thread(site.request_email_change, ctx, record_id, body.email,
                                 body.current_password, _lang(request, body.lang))  # fmt: skip
        except KizunaError as exc:
            return failed(form, page_url(runtime, "email", data), exc)
        return done(form, page_url(runtime, "email", data), data,
                    Accepted(), params={"done": "sent"},
                    status=202, cookies=cookies)  # fmt: skip

    @get("/sessions", problems=(401,))
    async def sessions(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[list[MySessionOut]]:
        """The member's live sessions (``current``: this browser)."""
        record_id, session_id, cookies = await who(request, runtime)

        def read() -> list[dict[str, Any]]:
            with runtime.db.read() as session:
                return site.my_sessions(session, record_id, session_id)

        rows = await sync_to_thread(read)
        return Response([MySessionOut(**r) for r in rows], cookies=cookies, headers=NO_STORE)

    @delete("/sessions/{session_id:str}", guards=[same_origin], status_code=HTTP_204_NO_CONTENT,
            problems=(401, 404))  # fmt: skip
    async def end_session(
        self,
        request: Request[Any, Any, Any],
        session_id: SessionIdPath,
        runtime: NamedDependency[Runtime],
    ) -> Response[None]:
        """Log out one of the member's sessions."""
        record_id, _, cookies = await who(request, runtime)

        def write() -> None:
            with runtime.db.transaction() as session:
                site.end_my_session(session, record_id, session_id)

        await sync_to_thread(write)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=cookies)

    @post("/sessions/{session_id:str}/end", guards=[same_origin], status_code=200,
          problems=(401, 404, 415), responses=FORM)  # fmt: skip
    async def end_session_form(
        self,
        request: Request[Any, Any, Any],
        session_id: SessionIdPath,
        runtime: NamedDependency[Runtime],
    ) -> Response[Any]:
        """Log out one of the member's sessions, for a plain form (my page without
        JavaScript): 303 to ``/mypage/?done=session_ended`` — or, for this browser's own
        session, to ``/login/?done=logged_out`` with the cookies cleared; JSON: ``{ended}``."""
        form = _is_form(request)
        data = {"lang": (await read_body(request))[1].get("lang")} if form else {}
        try:
            record_id, current, cookies = await who(request, runtime)

            def write() -> None:
                with runtime.db.transaction() as session:
                    site.end_my_session(session, record_id, session_id)

            await sync_to_thread(write)
        except KizunaError as exc:
            return failed(form, page_url(runtime, "mypage", data), exc)
        if session_id == current:
            auth = runtime.member_auth
            auth.forget(request.cookies.get(auth.access_name))
            return done(form, page_url(runtime, "login", data), data, SessionsEnded(ended=1),
                        params={"done": "logged_out"}, cookies=auth.clear_cookies())  # fmt: skip
        return done(form, page_url(runtime, "mypage", data), data, SessionsEnded(ended=1),
                    params={"done": "session_ended"}, cookies=cookies)  # fmt: skip

    @post("/sessions/end", guards=[same_origin], status_code=200, problems=(401,),
          responses=FORM)  # fmt: skip
    async def end_sessions(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Log out everywhere (this browser too): ``{ended}``; a form: 303 to
        ``/login/?done=logged_out``."""
        form = _is_form(request)
        # A form's `lang` says which log-in page to go back to; nothing else is read.
        data = {"lang": (await read_body(request))[1].get("lang")} if form else {}
        try:
            record_id, _, _ = await who(request, runtime)

            def write() -> int:
                with runtime.db.transaction() as session:
                    return site.end_my_sessions(session, record_id)

            ended = await sync_to_thread(write)
        except KizunaError as exc:
            return failed(form, page_url(runtime, "mypage", data), exc)
        auth = runtime.member_auth
        auth.forget(request.cookies.get(auth.access_name))
        return done(form, page_url(runtime, "login", data), data, SessionsEnded(ended=ended),
                    params={"done": "logged_out"}, cookies=auth.clear_cookies())  # fmt: skip

    @post("/withdraw", guards=[same_origin], status_code=200, problems=(401, 415, 422, 429),
          responses=FORM)  # fmt: skip
    async def withdraw(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        """Leave (``current_password``): access ends at once, the record is kept, deactivated
        or anonymised as configured, a confirmation mail is sent; a form: 303 to
        ``/withdraw/?done=withdrawn``."""
        form, data = await read_body(request)
        ctx = context(runtime)
        try:
            body = convert(data, WithdrawIn)
            record_id, _, _ = await who(request, runtime)
            await sync_to_thread(site.withdraw, ctx, record_id, body.current_password,
                                 _lang(request, body.lang))  # fmt: skip
        except KizunaError as exc:
            return failed(form, page_url(runtime, "withdraw", data), exc)
        auth = runtime.member_auth
        auth.forget(request.cookies.get(auth.access_name))
        return done(form, page_url(runtime, "withdraw", data), data, StatusOut(status="withdrawn"),
                    params={"done": "withdrawn"}, cookies=auth.clear_cookies())  # fmt: skip


def _profile(data: dict[str, Any]) -> ProfileOut:
    return ProfileOut(**{**data, "fields": _fields(data["fields"])})


class MemberStaffSiteController(Controller):
    """The staff's actions on a registration, from the member's record."""

    path = "/api/members/accounts"
    tags = ["members"]

    @post("/{record_id:int}/approve", guards=[requires(perms.MEMBERS_WRITE)],
          sync_to_thread=True, status_code=200, problems=(409,))  # fmt: skip
    def approve(
        self,
        record_id: RecordIdPath,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> AccountOut:
        """Approve a registration waiting for staff: the member can log in (welcome mail)."""
        with runtime.db.transaction() as session:
            site.approve(session, principal, context(runtime), record_id)
            return account_out(members.account_state(session, principal, record_id))

    @post("/{record_id:int}/confirmation", guards=[requires(perms.MEMBERS_WRITE)],
          sync_to_thread=True, status_code=200, problems=(409,))  # fmt: skip
    def resend_confirmation(
        self,
        record_id: RecordIdPath,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> AccountOut:
        """Send a pending member a new confirmation link (earlier ones stop working)."""
        with runtime.db.transaction() as session:
            site.resend_confirmation(session, principal, context(runtime), record_id)
            return account_out(members.account_state(session, principal, record_id))
