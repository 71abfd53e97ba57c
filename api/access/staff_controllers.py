"""Staff's access endpoints under ``/api/access``: the matrix, the last build, "view as".
Thin handlers over ``api.access.staff``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from api.access import permissions as perms
from api.access import staff
from api.errors import NotFound, PermissionDenied
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires

FRAME_PATH = "/api/access/preview/frame"
# The preview frame: the page's own styles and images load (same origin), nothing runs, no
# form is sent, and it is shown only inside the admin panel.
FRAME_CSP = (
    "sandbox; default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; frame-ancestors 'self'"
)
RulePath = Annotated[str, QueryParameter(min_length=1, max_length=staff.MAX_PATH)]


# ------------------------------------------------------------------ bodies


def _preview(
    runtime: Runtime, principal: Principal, path: str, member: int | None, group: str | None,
    anonymous: bool,
) -> tuple[staff.Subject, staff.Preview]:  # fmt: skip
    """The subject asked for and what the gate would do with ``path`` for it (both preview
    endpoints); 404 ``no_manifest`` before the first build."""
    manifest = staff.load_manifest(runtime.settings.meta_dir)
    if manifest is None:
        raise NotFound(detail="The site has no access manifest: build it", code="no_manifest")
    with runtime.db.read() as session:
        subject = staff.subject_of(
            session, principal, manifest, member=member, group=group, anonymous=anonymous
        )
    return subject, staff.preview(manifest, path, subject)


class MatrixRowOut(msgspec.Struct, kw_only=True):
    path: str
    kind: str
    title: str | None
    lang: str | None
    source: str | None
    rule: str
    fields: list[str]
    groups: list[str]
    public: bool
    members: int  # how many members may read it (every member for a public rule)


class RuleOut(msgspec.Struct, kw_only=True):
    rule: str
    fields: list[str]
    groups: list[str]
    public: bool
    members: int
    urls: int


class MatrixOut(msgspec.Struct, kw_only=True):
    manifest: bool  # false: the site has no access manifest yet (build it)
    build_id: str | None
    items: list[MatrixRowOut]
    total: int
    offset: int
    limit: int
    rules: list[RuleOut]
    groups: list[str]
    kinds: list[str]
    members: int  # members of the member table, all counted
    member_table: str | None
    counted_at: datetime | None
    manifest_at: datetime | None


class WarningOut(msgspec.Struct, kw_only=True):
    message: str
    source: str | None
    line: int | None
    code: str | None
    level: str


class BuildOut(msgspec.Struct, kw_only=True):
    built: bool
    built_at: str | None
    build_id: str | None
    pages: int
    files: int
    warnings: list[WarningOut]
    warnings_total: int
    manifest: bool


class SubjectOut(msgspec.Struct, kw_only=True):
    kind: str  # member | group | anonymous
    label: str
    id: int | None = None
    group: str | None = None
    groups: list[str] = msgspec.field(default_factory=list)


class TermOut(msgspec.Struct, kw_only=True):
    term: str
    holds: bool


class PreviewOut(msgspec.Struct, kw_only=True):
    path: str
    decision: str  # allow | login | forbidden | not_found
    status: int  # what the gate answers: 200, 303 (to the login page), 403, 404
    reason: str
    rule: str | None
    fields: list[str]
    groups: list[str]
    rule_from: str | None  # entry | folder
    kind: str | None
    title: str | None
    terms: list[TermOut]
    values: dict[str, Any]  # the member's values of the fields the rule reads
    subject: SubjectOut
    shown_path: str | None  # the page the visitor sees (the page, /login/, /forbidden/, 404)
    location: str | None  # the login redirect
    media_type: str | None
    size: int | None  # bytes of what is sent; None when the file is missing
    frame_url: str | None  # the sandboxed preview (staff login sessions only)


class MemberChoice(msgspec.Struct, kw_only=True):
    id: int
    label: str
    email: str | None


class GroupChoice(msgspec.Struct, kw_only=True):
    key: str
    label: dict[str, Any]


class SubjectsOut(msgspec.Struct, kw_only=True):
    member_table: str | None
    members: list[MemberChoice]
    groups: list[GroupChoice]


# ------------------------------------------------------------------ handlers


def _subject_out(subject: staff.Subject) -> SubjectOut:
    groups = sorted(subject.member.groups) if subject.member is not None else []
    return SubjectOut(
        kind=subject.kind, label=subject.label, id=subject.record_id, group=subject.group,
        groups=groups,
    )  # fmt: skip


class AccessController(Controller):
    path = "/api/access"
    tags = ["access"]

    @get(
        "/matrix",
        guards=[requires(perms.ACCESS_READ)],
        sync_to_thread=True,
        opt={"problems": (409,)},
    )
    def get_matrix(
        self,
        runtime: NamedDependency[Runtime],
        rule: Annotated[str | None, QueryParameter(max_length=2000)] = None,
        group: Annotated[str | None, QueryParameter(max_length=200)] = None,
        kind: Annotated[str | None, QueryParameter(max_length=20)] = None,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> MatrixOut:
        """Every content URL (theme assets left out) with its rule, the fields and groups it
        reads and how many members may read it; filters by rule (canonical text), group, kind
        and text in the URL or title. ``rules`` lists each distinct rule with its count."""
        manifest = staff.load_manifest(runtime.settings.meta_dir)
        with runtime.db.read() as session:
            found = staff.matrix(
                session, manifest, rule=rule or None, group=group or None, kind=kind or None,
                q=q or None, offset=offset, limit=limit,
            )  # fmt: skip
        return MatrixOut(
            manifest=manifest is not None,
            build_id=found.build_id,
            items=[MatrixRowOut(**vars(r)) for r in found.items],
            total=found.total,
            offset=offset,
            limit=limit,
            rules=[RuleOut(**vars(r)) for r in found.rules],
            groups=found.groups,
            kinds=found.kinds,
            members=found.members,
            member_table=found.member_table,
            counted_at=found.counted_at,
            manifest_at=found.manifest_at,
        )

    @get(
        "/build",
        guards=[requires(perms.ACCESS_READ)],
        sync_to_thread=True,
        opt={"problems": (409,)},
    )
    def get_build(self, runtime: NamedDependency[Runtime]) -> BuildOut:
        """The last build: when, how many pages and files, its warnings."""
        last = staff.last_build(runtime.settings.meta_dir)
        return BuildOut(
            built=last.built, built_at=last.built_at, build_id=last.build_id, pages=last.pages,
            files=last.files, warnings=[WarningOut(**vars(w)) for w in last.warnings],
            warnings_total=last.warnings_total, manifest=last.manifest,
        )  # fmt: skip

    @get(
        "/subjects",
        guards=[requires(perms.ACCESS_PREVIEW)],
        sync_to_thread=True,
        opt={"problems": (404, 409, 422)},
    )
    def get_subjects(
        self,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        q: Annotated[str, QueryParameter(max_length=200)] = "",
        member: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
    ) -> SubjectsOut:
        """Whom "view as" can pick: members found by ``q`` (name, e-mail… as the member list's
        search) or the one ``member`` (a record id), and groups whose key or label has it."""
        with runtime.db.read() as session:
            table, members, groups = staff.search_subjects(session, principal, q, record_id=member)
        return SubjectsOut(
            member_table=table,
            members=[MemberChoice(**m) for m in members],
            groups=[GroupChoice(**g) for g in groups],
        )

    @get(
        "/preview",
        guards=[requires(perms.ACCESS_PREVIEW)],
        sync_to_thread=True,
        opt={"problems": (404, 409, 422)},
    )
    def get_preview(
        self,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        path: RulePath,
        member: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        group: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
        anonymous: Annotated[bool, QueryParameter()] = False,
    ) -> PreviewOut:
        """What the gate would do with ``path`` for a member (record id), a group (a member of
        that group alone, no fields) or an anonymous visitor, and why; ``frame_url`` shows the
        page as served in a sandboxed frame. No member session or cookie is made."""
        subject, result = _preview(runtime, principal, path, member, group, anonymous)
        served = staff.served_file(runtime.settings.public_dir, result)
        token = staff.preview_token(runtime.keyring, principal, subject)
        frame_url = None
        if token is not None:
            frame_url = f"{FRAME_PATH}/{token}{quote(result.path, safe='/')}"
        rule = result.rule or {}
        entry = result.entry
        return PreviewOut(
            path=result.path,
            decision=result.decision,
            status=result.status,
            reason=result.reason,
            rule=rule.get("rule"),
            fields=list(rule.get("fields", [])),
            groups=list(rule.get("groups", [])),
            rule_from=result.rule_from,
            kind=entry.kind if entry is not None else None,
            title=entry.title if entry is not None else None,
            terms=[TermOut(term=x.term, holds=x.holds) for x in result.terms],
            values=staff.json_safe(staff.values_shown(subject, result.rule)),
            subject=_subject_out(subject),
            shown_path=result.shown_path,
            location=result.location,
            media_type=served.media_type if served else None,
            size=len(served.body) if served else None,
            frame_url=frame_url,
        )

    @get(
        "/preview/page",
        guards=[requires(perms.ACCESS_PREVIEW)],
        sync_to_thread=True,
        opt={"problems": (404, 409, 422)},
    )
    def get_preview_page(
        self,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        path: RulePath,
        member: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        group: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
        anonymous: Annotated[bool, QueryParameter()] = False,
        download: Annotated[bool, QueryParameter()] = False,
    ) -> Response[bytes]:
        """The bytes the gate would send for ``path`` to the subject, unchanged: the page or
        file, or the login page (its ``next`` filled), the "not permitted" page (403) or the
        404 page; ``X-Kizuna-Decision`` says which. For API clients; the admin shows
        ``frame_url``."""
        _, result = _preview(runtime, principal, path, member, group, anonymous)
        return serve(runtime, result, prefix=None, download=download)

    @get(
        "/preview/frame/{token:str}/{path:path}",
        sync_to_thread=True,
        include_in_schema=False,  # the preview frame's pages for the admin's browser, not API
        opt={"problems": (403, 404, 422)},
    )
    def get_frame(
        self,
        runtime: NamedDependency[Runtime],
        token: Annotated[str, PathParameter(min_length=1, max_length=4000)],
        path: Annotated[str, PathParameter()],
        download: Annotated[bool, QueryParameter()] = False,
    ) -> Response[bytes]:
        """The page (or file) at ``path`` as the preview link's subject would get it: the
        page itself, or the login, "not permitted" or 404 page. Authorised by the link's key
        (a preview made by ``GET /api/access/preview`` within its staff login session); the
        page's root-relative links point back into the preview. Never sets a cookie."""
        return frame(runtime, token, path, download=download)

    @get(
        "/preview/frame/{token:str}",
        sync_to_thread=True,
        include_in_schema=False,
        opt={"problems": (403, 404, 422)},
    )
    def get_frame_root(
        self,
        runtime: NamedDependency[Runtime],
        token: Annotated[str, PathParameter(min_length=1, max_length=4000)],
    ) -> Response[bytes]:
        """The site's home page in the preview (as ``…/{token}/``)."""
        return frame(runtime, token, "/")


def frame(runtime: Runtime, token: str, path: str, *, download: bool = False) -> Response[bytes]:
    manifest = staff.load_manifest(runtime.settings.meta_dir)
    idle = timedelta(minutes=runtime.settings.staff_idle_minutes)
    with runtime.db.transaction() as session:
        found = staff.preview_actor(session, runtime.keyring, token, idle=idle)
        if found is None:
            raise PermissionDenied(
                detail="This preview link has expired: open the preview again",
                code="preview_expired",
            )
        actor, spec = found
        if not actor.can(perms.ACCESS_PREVIEW):
            raise PermissionDenied(
                detail="Your role does not allow this (needs access:preview)",
                code="permission_denied",
            )
        if manifest is None:
            raise NotFound(detail="The site has no access manifest: build it", code="no_manifest")
        subject = staff.subject_of(session, actor, manifest, **spec)
    result = staff.preview(manifest, path or "/", subject)
    return serve(runtime, result, prefix=f"{FRAME_PATH}/{token}", download=download)


def serve(
    runtime: Runtime, result: staff.Preview, *, prefix: str | None, download: bool
) -> Response[bytes]:
    """The bytes the gate would send for ``result``, with the preview's headers (sandboxed,
    never cached, no cookie); HTML pages' root-relative links under ``prefix`` if given."""
    served = staff.served_file(runtime.settings.public_dir, result)
    if served is None:
        raise NotFound(detail=f"No file for {result.path}", code="not_found")
    body = served.body
    if prefix is not None and served.media_type.startswith("text/html"):
        body = staff.link_into(body, prefix)
    headers: dict[str, str] = {
        "Content-Security-Policy": FRAME_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
        "X-Kizuna-Decision": result.decision,
    }
    if download:
        name = result.path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    status = 200 if result.status == 303 else result.status
    return Response(body, media_type=served.media_type, status_code=status, headers=headers)


CONTROLLERS: tuple[Any, ...] = (AccessController,)
