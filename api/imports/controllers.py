"""The import API: ``/api/customers/tables/{table}/imports`` (contract in ISSUE16_PLAN.md)."""

from __future__ import annotations

import tempfile
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from api.customers.permissions import CUSTOMERS_READ, CUSTOMERS_WRITE
from api.imports import services, tasks
from api.imports.schemas import (
    BatchOut,
    BatchUpdate,
    ImportSettingsOut,
    JobStarted,
    RunIn,
    batch_out,
)
from api.principal import Principal
from api.runtime import Runtime
from api.tabular.messages import FileRefused
from api.web.auth import requires

TableKey = Annotated[str, PathParameter(min_length=1, max_length=30, pattern=r"^[a-z][a-z0-9_]*$")]
BatchId = Annotated[int, PathParameter(ge=1, le=2**63 - 1, description="import id")]
HARD_MAX = 64 << 30


def _content_length(request: Request[Any, Any, Any]) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


class ImportController(Controller):
    path = "/api/customers/tables/{table:str}/imports"
    tags = ["imports"]

    @post(
        "/",
        guards=[requires(CUSTOMERS_WRITE)],
        status_code=HTTP_201_CREATED,
        request_max_body_size=HARD_MAX,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        encoding: Annotated[str | None, QueryParameter(max_length=10)] = None,
        filename: Annotated[str | None, QueryParameter(max_length=1000)] = None,
        keep_refused: Annotated[
            bool,
            QueryParameter(
                description="keep a file refused for its encoding, to be read again in "
                "another one (PATCH the batch named by the error's params.batch_id)"
            ),
        ] = False,
    ) -> BatchOut:
        """Upload a CSV or .xlsx (``multipart/form-data`` part ``file``, optional part
        ``encoding``: auto, utf-8 or cp932; or the bytes as the body). Streamed to
        ``var/imports``; over the size limit 413 while streaming; a file that cannot be read
        422 (nothing kept; with ``keep_refused``, a file refused for its encoding is kept as a
        batch in state ``refused`` whose id is the error's ``params.batch_id``)."""
        settings = runtime.settings

        def check_table() -> None:
            from api.customers.services import load_design

            with runtime.db.read() as session:
                load_design(session, table)

        await sync_to_thread(check_table)  # 404 before a byte of the body is read
        received, fields = await services.receive(
            settings.imports_dir,
            settings.import_max_bytes,
            request.headers.get("content-type", ""),
            _content_length(request),
            request.stream(),
            filename=filename,
        )

        chosen = encoding or fields.get("encoding") or "auto"

        def keep() -> BatchOut:
            try:
                with runtime.db.transaction() as session:
                    batch = services.create_batch(
                        session, principal, table, received,
                        encoding=chosen, keep_refused=keep_refused,
                    )  # fmt: skip
                    return batch_out(batch, table)
            except FileRefused as refused:
                if not (keep_refused and services.rereadable(refused)):
                    raise
                try:
                    with runtime.db.transaction() as session:
                        kept = services.refused_batch(
                            session, principal, table, received, encoding=chosen, refusal=refused
                        )
                        kept_id = kept.id
                except BaseException:
                    received.path.unlink(missing_ok=True)
                    raise
                assert kept_id is not None  # committed: the error names it
                raise services.with_batch(refused, kept_id) from None

        return await sync_to_thread(keep)

    @get("/settings", guards=[requires(CUSTOMERS_WRITE)])
    async def import_settings(
        self, table: TableKey, runtime: NamedDependency[Runtime]
    ) -> ImportSettingsOut:
        """What an upload may be: the size limit in bytes (``import_max_bytes``; a larger
        file is refused with 413 while it streams), the encodings and the formats."""

        def check_table() -> None:
            from api.customers.services import load_design

            with runtime.db.read() as session:
                load_design(session, table)

        await sync_to_thread(check_table)
        return ImportSettingsOut(
            max_bytes=runtime.settings.import_max_bytes,
            encodings=list(services.ENCODINGS),
            formats=["csv", "xlsx"],
        )

    @get("/", guards=[requires(CUSTOMERS_READ)], sync_to_thread=True)
    def list_batches(
        self,
        table: TableKey,
        runtime: NamedDependency[Runtime],
        before: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[BatchOut]:
        """The table's imports, newest first; ``before`` (the last id seen) pages on."""
        with runtime.db.read() as session:
            batches = services.list_batches(session, table, before=before, limit=limit)
            return [batch_out(b, table) for b in batches]

    @get("/{batch_id:int}", guards=[requires(CUSTOMERS_READ)], sync_to_thread=True)
    def get_batch(
        self, table: TableKey, batch_id: BatchId, runtime: NamedDependency[Runtime]
    ) -> BatchOut:
        with runtime.db.read() as session:
            return batch_out(services.get_batch(session, table, batch_id), table)

    @patch("/{batch_id:int}", guards=[requires(CUSTOMERS_WRITE)], sync_to_thread=True)
    def update_batch(
        self,
        table: TableKey,
        batch_id: BatchId,
        data: JSONBody[BatchUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> BatchOut:
        """Change the mapping (``{"<column index>": field key or null}``), mode, key or
        encoding; 422 at ``mapping.<column>`` or ``key`` when they do not fit the table."""
        with runtime.db.transaction() as session:
            batch = services.update_batch(
                session, principal, table, batch_id,
                imports_dir=runtime.settings.imports_dir,
                mapping=None if data.mapping is None or isinstance(data.mapping, type(None))
                else (data.mapping if isinstance(data.mapping, dict) else None),
                mode=data.mode if isinstance(data.mode, str) else None,
                key=data.key if isinstance(data.key, list) else None,
                encoding=data.encoding if isinstance(data.encoding, str) else None,
            )  # fmt: skip
            return batch_out(batch, table)

    @post(
        "/{batch_id:int}/check",
        guards=[requires(CUSTOMERS_WRITE)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def check(
        self,
        table: TableKey,
        batch_id: BatchId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> JobStarted:
        """The dry run, as a job: the batch's ``check`` holds the counts when it is done."""
        with runtime.db.transaction() as session:
            return JobStarted(
                job_id=services.start_check(
                    session, principal, table, batch_id, tasks.CHECK,
                    imports_dir=runtime.settings.imports_dir,
                )
            )  # fmt: skip

    @post(
        "/{batch_id:int}/run",
        guards=[requires(CUSTOMERS_WRITE)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def run(
        self,
        table: TableKey,
        batch_id: BatchId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        data: JSONBody[RunIn | None] = None,
    ) -> JobStarted:
        """Import, as a job in chunks (progress: the job's units, the batch's rows done)."""
        with runtime.db.transaction() as session:
            job_id = services.start_run(
                session, principal, table, batch_id, tasks.RUN,
                all_or_nothing=bool(data and data.all_or_nothing),
                imports_dir=runtime.settings.imports_dir,
            )  # fmt: skip
            return JobStarted(job_id=job_id)

    @post(
        "/{batch_id:int}/resume",
        guards=[requires(CUSTOMERS_WRITE)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def resume(
        self,
        table: TableKey,
        batch_id: BatchId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> JobStarted:
        """Go on with a stopped import (state ``interrupted``: from its first unfinished chunk,
        as the staff member who started it) or a stopped undo (``undo_interrupted``: where it
        stopped). 409 in any other state or when the file is no longer kept."""
        with runtime.db.transaction() as session:
            job_id = services.resume(
                session, principal, table, batch_id, tasks.RUN, tasks.UNDO,
                imports_dir=runtime.settings.imports_dir,
            )  # fmt: skip
            return JobStarted(job_id=job_id)

    @post(
        "/{batch_id:int}/undo",
        guards=[requires(CUSTOMERS_WRITE)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def undo(
        self,
        table: TableKey,
        batch_id: BatchId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> JobStarted:
        """Undo the batch (done, failed or interrupted), as a job in chunks: the batch's
        ``undo`` says what was deleted, restored and left because it changed since. A stopped
        undo (``undo_interrupted``) goes on where it stopped."""
        with runtime.db.transaction() as session:
            return JobStarted(
                job_id=services.start_undo(session, principal, table, batch_id, tasks.UNDO)
            )

    @get("/{batch_id:int}/errors.csv", guards=[requires(CUSTOMERS_READ)], sync_to_thread=True)
    def errors(
        self, table: TableKey, batch_id: BatchId, runtime: NamedDependency[Runtime]
    ) -> Response[bytes]:
        """The refused rows as they were, plus a last column with the reasons (the file's
        encoding), to fix and import again as it is."""
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as out:
            with runtime.db.read() as session:
                services.error_report(session, table, batch_id, out)  # type: ignore[arg-type]
            out.seek(0)
            body = out.read()
        return Response(
            body,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="import-{batch_id}-errors.csv"'},
        )
