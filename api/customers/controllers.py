"""Customer database API: tables and fields (admin: ``customers:design``) and records
(``customers:read`` / ``customers:write``). Handlers stay thin: a transaction, one service."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import File
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from api.customers import bulk, duplicates, files, merge, records, schema_file, services, views
from api.customers import permissions as perms
from api.customers.definitions import parse_field, parse_table
from api.customers.models import CustomerView
from api.customers.schemas import (
    BulkIn,
    BulkReport,
    BulkStarted,
    DuplicateGroupOut,
    DuplicateGroupPage,
    DuplicateOut,
    FieldChangeOut,
    FieldIn,
    FieldOrder,
    FieldUpdate,
    HistoryOut,
    MergeIn,
    MergeOut,
    MovedOut,
    OwnerOut,
    RecordIn,
    RecordOut,
    RecordUpdate,
    RelatedTabOut,
    RowProblemOut,
    TableIn,
    TableUpdate,
    ViewIn,
    ViewOut,
    ViewUpdate,
    plain,
)
from api.errors import NotFound, invalid
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires
from api.web.params import Cursor, Page

TableKey = Annotated[str, PathParameter(min_length=1, max_length=30, pattern=r"^[a-z][a-z0-9_]*$")]
FieldKey = Annotated[str, PathParameter(min_length=1, max_length=30, pattern=r"^[a-z][a-z0-9_]*$")]
RecordId = Annotated[int, PathParameter(ge=1, le=2**63 - 1, description="record id")]
PerPage = Annotated[int, QueryParameter(ge=1, le=500, description="records per page")]

Design = dict[str, Any]


def _change_out(change: services.FieldChange) -> FieldChangeOut:
    return FieldChangeOut(
        field=change.field,
        changed=change.changed,
        applied=change.applied,
        problem_count=change.problem_count,
        problems=[RowProblemOut(**vars(p)) for p in change.problems],
        converted=change.converted,
        lost=change.lost,
        job_id=change.job_id,
    )


def _updated_field(current: dict[str, Any], data: FieldUpdate) -> dict[str, Any]:
    body = plain(data)
    body.pop("allow_loss", None)
    body.pop("position", None)
    if "scale" in body:  # the older name of decimal_places
        body["decimal_places"] = body.pop("scale")
    merged = {**current, **body}
    return {k: v for k, v in merged.items() if v is not None and k != "retired"}


def _source(principal: Principal) -> str:
    return "admin" if principal.kind == "staff" else "api"


class CustomerTableController(Controller):
    path = "/api/customers/tables"
    tags = ["customers"]

    @get("/", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def list_tables(
        self,
        runtime: NamedDependency[Runtime],
        retired: Annotated[bool, QueryParameter(description="include retired tables")] = False,
    ) -> list[Design]:
        """Every table with its fields (retired ones with ``retired=true``)."""
        with runtime.db.read() as session:
            return [services.design_out(d) for d in services.list_designs(session, retired=retired)]

    @post(
        "/",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def create_table(
        self,
        data: JSONBody[TableIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Design:
        """Create a table (``CREATE TABLE ct_<key>``) and its fields."""
        body = plain(data)
        fields = body.pop("fields", [])
        spec = parse_table(body)
        specs = [parse_field(f, prefix=f"fields[{i}].") for i, f in enumerate(fields)]
        with runtime.db.transaction() as session:
            return services.design_out(services.create_table(session, principal, spec, specs))

    @get("/{table:str}", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def get_table(self, table: TableKey, runtime: NamedDependency[Runtime]) -> Design:
        with runtime.db.read() as session:
            return services.design_out(services.load_design(session, table))

    @patch("/{table:str}", guards=[requires(perms.CUSTOMERS_DESIGN)], sync_to_thread=True)
    def update_table(
        self,
        table: TableKey,
        data: JSONBody[TableUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Design:
        with runtime.db.transaction() as session:
            current = services.load_design(session, table).spec.as_dict()
            spec = parse_table({**current, **plain(data)})
            return services.design_out(services.update_table(session, principal, table, spec))

    @delete(
        "/{table:str}",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def retire_table(
        self,
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> None:
        """Retire the table: hidden, its records kept (``POST …/restore`` brings it back)."""
        with runtime.db.transaction() as session:
            services.retire_table(session, principal, table)

    @post(
        "/{table:str}/restore",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=200,
        sync_to_thread=True,
    )
    def restore_table(
        self,
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Design:
        with runtime.db.transaction() as session:
            services.retire_table(session, principal, table, restore=True)
            return services.design_out(services.load_design(session, table))

    @get("/{table:str}/owners", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def owners(self, table: TableKey, runtime: NamedDependency[Runtime]) -> list[OwnerOut]:
        """The staff who own records or may own them (the owner column, filter and picker):
        id, name and whether they may own records now. Names only, for every reader."""
        with runtime.db.read() as session:
            services.load_design(session, table)
            return [OwnerOut(**o) for o in records.owner_choices(session)]

    @post(
        "/{table:str}/fields",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def add_field(
        self,
        table: TableKey,
        data: JSONBody[FieldIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Design:
        """Add a field (``ALTER TABLE … ADD COLUMN``: instant, existing records stay as they
        are)."""
        spec = parse_field(plain(data))
        with runtime.db.transaction() as session:
            services.add_field(session, principal, table, spec)
            return services.design_out(services.load_design(session, table))

    @post(
        "/{table:str}/field-order",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=200,
        sync_to_thread=True,
    )
    def reorder_fields(
        self,
        table: TableKey,
        data: JSONBody[FieldOrder],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Design:
        """Set the display order: every active field, once."""
        with runtime.db.transaction() as session:
            schema_file.reorder_fields(session, principal, table, data.fields)
            return services.design_out(services.load_design(session, table))

    @patch(
        "/{table:str}/fields/{field:str}",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        sync_to_thread=True,
    )
    def update_field(
        self,
        table: TableKey,
        field: FieldKey,
        data: JSONBody[FieldUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Response[FieldChangeOut]:
        """Change a field. A type change whose values do not all convert is refused (409,
        each record's id, value and reason) unless ``allow_loss`` is true. On a large table
        the conversion runs as a job: 202 with its ``job_id``."""
        with runtime.db.transaction() as session:
            design = services.load_design(session, table)
            design.field_row(field)
            spec = parse_field(_updated_field(design.specs[field].as_dict(), data))
            change = services.update_field(
                session,
                principal,
                table,
                field,
                spec,
                allow_loss=data.allow_loss,
                position=data.position if isinstance(data.position, int) else None,
            )
        status = HTTP_202_ACCEPTED if change.job_id is not None else 200
        return Response(_change_out(change), status_code=status)

    @post(
        "/{table:str}/fields/{field:str}/check",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=200,
        sync_to_thread=True,
    )
    def check_field(
        self,
        table: TableKey,
        field: FieldKey,
        data: JSONBody[FieldUpdate],
        runtime: NamedDependency[Runtime],
    ) -> FieldChangeOut:
        """What the change would do, changing nothing: the records whose value would not
        convert (id, value, reason)."""
        with runtime.db.read() as session:
            design = services.load_design(session, table)
            design.field_row(field)
            spec = parse_field(_updated_field(design.specs[field].as_dict(), data))
            return _change_out(services.check_field_change(session, table, field, spec))

    @delete(
        "/{table:str}/fields/{field:str}",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def retire_field(
        self,
        table: TableKey,
        field: FieldKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> None:
        """Retire the field: hidden from records and lists, its values kept."""
        with runtime.db.transaction() as session:
            services.retire_field(session, principal, table, field)

    @post(
        "/{table:str}/fields/{field:str}/restore",
        guards=[requires(perms.CUSTOMERS_DESIGN)],
        status_code=200,
        sync_to_thread=True,
    )
    def restore_field(
        self,
        table: TableKey,
        field: FieldKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> Design:
        with runtime.db.transaction() as session:
            services.retire_field(session, principal, table, field, restore=True)
            return services.design_out(services.load_design(session, table))


def _parse_where(where: str | None) -> Any:
    if where is None:
        return None
    try:
        return json.loads(where)
    except (ValueError, RecursionError):
        raise invalid("where", "is not JSON", "invalid_json") from None


def _content_length(request: Request[Any, Any, Any]) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


def _record_out(data: dict[str, Any]) -> RecordOut:
    return RecordOut(**data)


class CustomerRecordController(Controller):
    path = "/api/customers/tables/{table:str}/records"
    tags = ["customers"]

    @get("/", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def list_records(
        self,
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        cursor: Cursor = None,
        per_page: PerPage = 50,
        page: Annotated[int, QueryParameter(ge=1, le=100_000, description="1-based page")] = 1,
        where: Annotated[
            str | None,
            QueryParameter(
                max_length=8000,
                description='a condition tree as JSON: {"and": [{"field": "name", "op": '
                '"contains", "value": "山田"}, …]} (and/or nest; "<reference>.<field>" tests '
                "the referenced record)",
            ),
        ] = None,
        sort: Annotated[
            str | None,
            QueryParameter(
                max_length=40, pattern=r"^-?[a-z][a-z0-9_]*$", description="field, -field"
            ),
        ] = None,
        view: Annotated[
            int | None,
            QueryParameter(
                ge=1, le=2_147_483_647, description="apply a saved view's filter and sort"
            ),
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=1000,
                description="full-text search: every word (at least one character) in the "
                "record's text fields, NFKC- and kana-folded (山田, ﾔﾏﾀﾞ = やまだ); at most "
                "200 characters and 10 words",
            ),
        ] = None,
    ) -> Page[RecordOut]:
        """Newest first or sorted by a field, paged by ``cursor`` (keyset; ``page`` also
        works); ``q`` searches the text fields. ``total`` is exact up to 10,000 records, the
        planner's estimate above (``total_exact`` false)."""
        condition = _parse_where(where)
        with runtime.db.read() as session:
            if view is not None:
                saved = views.get_view(session, principal, table, view)
                if saved.conditions is not None:
                    condition = (
                        saved.conditions
                        if condition is None
                        else {"and": [saved.conditions, condition]}
                    )
                sort = sort or saved.sort or None
            found = records.list_records(
                session,
                principal,
                table,
                where=condition,
                q=q,
                sort=sort,
                cursor=cursor,
                offset=(page - 1) * per_page,
                limit=per_page,
            )
        return Page(
            items=[_record_out(r) for r in found.items],
            total=found.total.value,
            page=page,
            per_page=per_page,
            total_exact=found.total.exact,
            next_cursor=found.next_cursor,
            prev_cursor=found.prev_cursor,
        )

    @post(
        "/",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def create_record(
        self,
        table: TableKey,
        data: JSONBody[RecordIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> RecordOut:
        body = plain(data)
        extra: dict[str, Any] = {k: body[k] for k in ("owner_id", "status") if k in body}
        with runtime.db.transaction() as session:
            return _record_out(
                records.create_record(
                    session, principal, table, data.values, source=_source(principal), **extra
                )
            )

    @get("/{record_id:int}", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def get_record(
        self,
        table: TableKey,
        record_id: RecordId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> RecordOut:
        with runtime.db.read() as session:
            return _record_out(records.get_record(session, principal, table, record_id))

    @patch("/{record_id:int}", guards=[requires(perms.CUSTOMERS_WRITE)], sync_to_thread=True)
    def update_record(
        self,
        table: TableKey,
        record_id: RecordId,
        data: JSONBody[RecordUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> RecordOut:
        """Change some values of the record opened at ``version``; 409 with what changed if
        someone changed it since."""
        body = plain(data)
        extra: dict[str, Any] = {k: body[k] for k in ("owner_id", "status") if k in body}
        with runtime.db.transaction() as session:
            return _record_out(
                records.update_record(
                    session,
                    principal,
                    table,
                    record_id,
                    data.values,
                    version=data.version,
                    source=_source(principal),
                    **extra,
                )
            )

    @delete(
        "/{record_id:int}",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def delete_record(
        self,
        table: TableKey,
        record_id: RecordId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> None:
        with runtime.db.transaction() as session:
            records.delete_record(
                session, principal, table, record_id, version=version, source=_source(principal)
            )
            files.forget_record(session, runtime.settings.effective_files_dir, table, record_id)

    @post(
        "/{record_id:int}/files/{field:str}",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=200,
        request_max_body_size=files.HARD_MAX_SIZE + files.MULTIPART_OVERHEAD,
    )
    async def upload_file(
        self,
        request: Request[Any, Any, Any],
        table: TableKey,
        record_id: RecordId,
        field: FieldKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
        filename: Annotated[str | None, QueryParameter(max_length=1000)] = None,
    ) -> RecordOut:
        """Upload the field's file (``multipart/form-data`` with a part named ``file``, or the
        bytes as the body and ``?filename=``), replacing any file it had. Refused before it is
        kept: over the field's size 413, a type the field does not accept (sniffed from the
        content) 415, empty 422. ``version``, when given, must be the record's current one."""
        files_dir = runtime.settings.effective_files_dir

        def target() -> Any:
            with runtime.db.read() as session:
                return records.file_target(session, principal, table, record_id, field, lock=False)[
                    2
                ]

        spec = await sync_to_thread(target)  # 404/403 before a byte of the body is read
        received = await files.receive(
            spec,
            files_dir,
            request.headers.get("content-type", ""),
            _content_length(request),
            request.stream(),
            filename=filename,
        )

        def keep() -> RecordOut:
            try:
                with runtime.db.transaction() as session:
                    return _record_out(
                        files.store(
                            session, principal, files_dir, table, record_id, field, received,
                            version=version, source=_source(principal),
                        )
                    )  # fmt: skip
            finally:
                files.cleanup_temp(files_dir, received)

        return await sync_to_thread(keep)

    @delete(
        "/{record_id:int}/files/{field:str}",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=200,
        sync_to_thread=True,
    )
    def delete_file(
        self,
        table: TableKey,
        record_id: RecordId,
        field: FieldKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> RecordOut:
        """Empty the field (the change is in the record's history)."""
        with runtime.db.transaction() as session:
            return _record_out(
                files.remove(
                    session, principal, runtime.settings.effective_files_dir, table, record_id,
                    field, version=version, source=_source(principal),
                )
            )  # fmt: skip

    @get(
        "/{record_id:int}/files/{field:str}",
        guards=[requires(perms.CUSTOMERS_READ)],
        sync_to_thread=True,
    )
    def download_file(
        self,
        table: TableKey,
        record_id: RecordId,
        field: FieldKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> File:
        """The field's file, always as an attachment (never rendered inline), to staff who
        may read the record."""
        with runtime.db.read() as session:
            path, row = files.open_download(
                session, principal, runtime.settings.effective_files_dir, table, record_id, field
            )
            media_type, name = row.media_type, row.name
        return File(
            path=path,
            media_type=media_type,
            headers={
                "content-disposition": files.content_disposition(name),
                "x-content-type-options": "nosniff",
                "content-security-policy": "default-src 'none'; sandbox",
                "cache-control": "private, no-store",
            },
        )

    @get(
        "/{record_id:int}/history",
        guards=[requires(perms.CUSTOMERS_READ)],
        sync_to_thread=True,
    )
    def history(
        self,
        table: TableKey,
        record_id: RecordId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        before: Annotated[
            int | None,
            QueryParameter(ge=1, le=2**63 - 1, description="entries older than this entry id"),
        ] = None,
        per_page: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[HistoryOut]:
        """Every change to the record, newest first: who, when, from where, before/after;
        ``per_page`` at a time, ``before=<the last entry's id>`` for the older ones."""
        with runtime.db.read() as session:
            try:
                records.get_record(session, principal, table, record_id)  # 404 / owner-only
            except NotFound:
                # A record merged into another keeps its timeline readable (統合履歴).
                if not merge.history_visible(session, principal, table, record_id):
                    raise
            return [
                HistoryOut(
                    id=h.id,  # type: ignore[arg-type]
                    at=h.at,
                    version=h.version,
                    action=h.action,
                    source=h.source,
                    actor_type=h.actor_type,
                    actor_label=h.actor_label,
                    changes=h.changes,
                )
                for h in records.list_history(
                    session, table, record_id, before=before, limit=per_page
                )
            ]

    @get(
        "/{record_id:int}/related",
        guards=[requires(perms.CUSTOMERS_READ)],
        sync_to_thread=True,
    )
    def related(
        self,
        table: TableKey,
        record_id: RecordId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> list[RelatedTabOut]:
        """One tab per table that refers to this record (purchases on a customer…)."""
        with runtime.db.read() as session:
            tabs = records.related(session, principal, table, record_id)
        return [
            RelatedTabOut(**{**tab, "items": [_record_out(r) for r in tab["items"]]})
            for tab in tabs
        ]


ViewId = Annotated[int, PathParameter(ge=1, le=2_147_483_647, description="view id")]


def _view_out(view: CustomerView) -> ViewOut:
    return ViewOut(
        id=view.id,  # type: ignore[arg-type]
        name=view.name,
        owner_id=view.owner_id,
        shared=view.shared,
        is_default=view.is_default,
        where=view.conditions,
        columns=list(view.columns),
        sort=view.sort,
        updated_at=view.updated_at,
    )


class CustomerViewController(Controller):
    path = "/api/customers/tables/{table:str}/views"
    tags = ["customers"]

    @get("/", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def list_views(
        self,
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> list[ViewOut]:
        """The table's shared views and the caller's own, the default first."""
        with runtime.db.read() as session:
            return [_view_out(v) for v in views.list_views(session, principal, table)]

    @post(
        "/",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def create_view(
        self,
        table: TableKey,
        data: JSONBody[ViewIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> ViewOut:
        with runtime.db.transaction() as session:
            view = views.create_view(
                session,
                principal,
                table,
                name=data.name,
                conditions=data.where,
                columns=data.columns if isinstance(data.columns, list) else None,
                sort=data.sort,
                shared=data.shared,
                is_default=data.is_default,
            )
            return _view_out(view)

    @patch("/{view_id:int}", guards=[requires(perms.CUSTOMERS_WRITE)], sync_to_thread=True)
    def update_view(
        self,
        table: TableKey,
        view_id: ViewId,
        data: JSONBody[ViewUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> ViewOut:
        changes = plain(data)
        if "where" in changes:
            changes["conditions"] = changes.pop("where")
        with runtime.db.transaction() as session:
            return _view_out(views.update_view(session, principal, table, view_id, changes))

    @delete(
        "/{view_id:int}",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def delete_view(
        self,
        table: TableKey,
        view_id: ViewId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> None:
        with runtime.db.transaction() as session:
            views.delete_view(session, principal, table, view_id)


DuplicateCursor = Annotated[
    str | None, QueryParameter(max_length=2000, description="from the previous page")
]


class CustomerDuplicateController(Controller):
    """Likely duplicates (blocking on stored match keys) and merging records."""

    path = "/api/customers/tables/{table:str}"
    tags = ["customers"]

    @get("/duplicates", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def list_groups(
        self,
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        cursor: DuplicateCursor = None,
        per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        reason: Annotated[
            str | None,
            QueryParameter(pattern=r"^(email|phone|name_company)$", description="one kind"),
        ] = None,
    ) -> DuplicateGroupPage:
        """Groups of records sharing a normalised e-mail, a phone number (digits) or a name
        at the same company (width, kana and 髙/高-style variants folded): e-mail groups
        first, then phone, then name + company; each with its reasons and a score."""
        kind = {v: k for k, v in duplicates.KINDS.items()}.get(reason or "")
        with runtime.db.read() as session:
            groups, next_cursor = duplicates.find_groups(
                session, principal, table, kind=kind, cursor=cursor, limit=per_page
            )
            the_rule = duplicates.rule(services.load_design(session, table))
            rule_out = the_rule.as_dict(services.load_design(session, table))
        return DuplicateGroupPage(
            items=[
                DuplicateGroupOut(
                    reason=duplicates.KINDS[g.kind],
                    reasons=g.reasons,
                    score=g.score,
                    count=g.count,
                    records=[_record_out(r) for r in g.records],
                )
                for g in groups
            ],
            next_cursor=next_cursor,
            rule=rule_out,
        )

    @get(
        "/records/{record_id:int}/duplicates",
        guards=[requires(perms.CUSTOMERS_READ)],
        sync_to_thread=True,
    )
    def record_duplicates(
        self,
        table: TableKey,
        record_id: RecordId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> list[DuplicateOut]:
        """Records that share a match key with this one, the likeliest first."""
        with runtime.db.read() as session:
            found = duplicates.record_duplicates(session, principal, table, record_id)
        return [
            DuplicateOut(record=_record_out(d["record"]), reasons=d["reasons"], score=d["score"])
            for d in found
        ]

    @post(
        "/merge",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def merge(
        self,
        table: TableKey,
        data: JSONBody[MergeIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> MergeOut:
        """Merge ``sources`` into ``survivor`` in one transaction: chosen values, related
        records re-pointed, sources removed (their values kept in the survivor's history);
        409 if any record changed since the versions given."""
        with runtime.db.transaction() as session:
            result = merge.merge_records(
                session,
                principal,
                table,
                survivor=data.survivor,
                sources=data.sources,
                values=dict(data.values),
                versions=dict(data.versions),
                source=_source(principal),
            )
        return MergeOut(
            record=_record_out(result["record"]),
            merged=result["merged"],
            moved=[MovedOut(**m) for m in result["moved"]],
        )


class CustomerBulkController(Controller):
    path = "/api/customers/tables/{table:str}/bulk"
    tags = ["customers"]

    @post(
        "/",
        guards=[requires(perms.CUSTOMERS_WRITE)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def start(
        self,
        table: TableKey,
        data: JSONBody[BulkIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> BulkStarted:
        """Set a field, change the owner or status, or delete, on a selection (``ids``) or
        on every record of a view / filter / search: checked now, run as a job (follow it at
        ``/api/jobs/{job_id}``; ``GET …/bulk/{job_id}`` gives what was done and skipped)."""
        with runtime.db.transaction() as session:
            job_id, count = bulk.start(
                session, principal, table, data.action, ids=data.ids, view=data.view,
                where=data.where, q=data.q, field=data.field, value=data.value,
                owner_id=data.owner_id, status=data.status,
            )  # fmt: skip
        return BulkStarted(job_id=job_id, count=count)

    @get("/{job_id:int}", guards=[requires(perms.CUSTOMERS_READ)], sync_to_thread=True)
    def report(
        self,
        table: TableKey,
        job_id: Annotated[int, PathParameter(ge=1, le=2**63 - 1)],
        runtime: NamedDependency[Runtime],
    ) -> BulkReport:
        """What a bulk action did so far: records changed, unchanged, skipped (and why)."""
        with runtime.db.read() as session:
            return BulkReport(job_id=job_id, **bulk.report(session, table, job_id))
