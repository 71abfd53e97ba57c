"""``GET /api/customers/tables/{table}/export``: a record set as a CSV or ``.xlsx`` download;
``…/exports``: the same file written by a job (``exports.run``) and downloaded later."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import File
from litestar.status_codes import HTTP_202_ACCEPTED

from api.customers import record_set
from api.customers.controllers import TableKey, _parse_where
from api.customers.files import content_disposition
from api.exports import jobs, services
from api.exports.permissions import CUSTOMERS_EXPORT
from api.exports.schemas import ExportIn, ExportState, GapOut
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires

MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _ids(value: str | None) -> list[int] | None:
    if value is None:
        return None
    from api.errors import invalid

    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise invalid("ids", "must be record ids separated by commas", "invalid") from None


class ExportController(Controller):
    path = "/api/customers/tables/{table:str}/export"
    tags = ["customers"]

    @get("/", guards=[requires(CUSTOMERS_EXPORT)], sync_to_thread=True)
    def export(
        self,
        table: TableKey,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        format: Annotated[str | None, QueryParameter(description="csv (default) or xlsx")] = None,
        encoding: Annotated[
            str | None, QueryParameter(description="CSV: utf-8 (default), utf-8-bom, cp932")
        ] = None,
        columns: Annotated[
            str | None,
            QueryParameter(max_length=8000, description="field keys and system columns, a,b,c"),
        ] = None,
        header_labels: Annotated[
            str | None, QueryParameter(name="labels", description="header: ja, en or keys")
        ] = None,
        values: Annotated[
            str | None,
            QueryParameter(description="display (labels, names; default) or stored (values, ids)"),
        ] = None,
        view: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
        where: Annotated[str | None, QueryParameter(max_length=8000)] = None,
        q: Annotated[str | None, QueryParameter(max_length=1000)] = None,
        sort: Annotated[
            str | None, QueryParameter(max_length=40, pattern=r"^-?[a-z][a-z0-9_]*$")
        ] = None,
        ids: Annotated[str | None, QueryParameter(max_length=1_000_000)] = None,
        replace: Annotated[
            bool, QueryParameter(description="CP932: write 〓 for characters it cannot hold")
        ] = False,
    ) -> File:
        """The records of the list with these parameters (a view, a filter, a search, or a
        selection of ids) as a file. CP932 that cannot hold a value is refused (422 listing
        each record and field) unless ``replace``. Audited."""
        options = services.parse_options(
            format=format, encoding=encoding, columns=columns, labels=header_labels, values=values,
            replace=replace,
        )  # fmt: skip
        directory = services.exports_dir(runtime.settings.var_dir)
        with runtime.db.read() as session:
            rs = record_set.record_set(
                session, principal, table, ids=_ids(ids), view=view, where=_parse_where(where),
                q=q, sort=sort,
            )  # fmt: skip
            path, result = services.export_file(session, rs, options, directory)
            name = services.file_name(rs.design, options, dt.date.today())
        try:
            with runtime.db.transaction() as session:
                services.record_export(session, principal, rs, options, result)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return File(
            path=path,
            media_type=MEDIA[options.format],
            headers={
                "content-disposition": content_disposition(name),
                "x-content-type-options": "nosniff",
                "cache-control": "private, no-store",
                "x-export-rows": str(result.rows),
            },
            background=BackgroundTask(path.unlink, missing_ok=True),
        )


def _state(data: dict[str, object]) -> ExportState:
    gaps = [GapOut(**g) for g in data.pop("gaps")]  # type: ignore[attr-defined]
    return ExportState(**data, gaps=gaps)  # type: ignore[arg-type]


JobId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]


class ExportJobController(Controller):
    path = "/api/customers/tables/{table:str}/exports"
    tags = ["customers"]

    @post(
        "/",
        guards=[requires(CUSTOMERS_EXPORT)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def start_export(
        self,
        table: TableKey,
        data: JSONBody[ExportIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> ExportState:
        """Export the set as a job: the options and the set are checked now (422 as the
        download), the file is written by a worker; follow it at ``…/exports/{job_id}`` and
        download it from ``…/exports/{job_id}/file`` until it expires."""
        options = {
            "format": data.format, "encoding": data.encoding, "columns": data.columns,
            "labels": data.header, "values": data.values, "replace": data.replace,
        }  # fmt: skip
        with runtime.db.transaction() as session:
            job, _ = jobs.start(
                session, principal, table, options, ids=data.ids, view=data.view,
                where=data.where, q=data.q, sort=data.sort,
            )  # fmt: skip
            out = jobs.state(session, job, services.exports_dir(runtime.settings.var_dir))
        return _state(out)

    @get("/{job_id:int}", guards=[requires(CUSTOMERS_EXPORT)], sync_to_thread=True)
    def export_state(
        self,
        table: TableKey,
        job_id: JobId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> ExportState:
        """Where an export job is: queued, running (rows written of the total), ready (until
        ``expires_at``), refused (the CP932 gaps), expired or failed. Only for the staff member
        who started it, or an admin."""
        with runtime.db.read() as session:
            job = jobs.get(session, principal, table, job_id)
            return _state(jobs.state(session, job, services.exports_dir(runtime.settings.var_dir)))

    @get("/{job_id:int}/file", guards=[requires(CUSTOMERS_EXPORT)], sync_to_thread=True)
    def download_export(
        self,
        table: TableKey,
        job_id: JobId,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> File:
        """The export's file (kept until ``expires_at``: 410 ``export_expired`` after; 409
        ``export_not_ready`` before it is written, ``export_refused`` for CP932 gaps)."""
        with runtime.db.read() as session:
            job = jobs.get(session, principal, table, job_id)
            path, state = jobs.ready_file(
                session, job, services.exports_dir(runtime.settings.var_dir)
            )
        return File(
            path=path,
            media_type=MEDIA[state["format"]],
            headers={
                "content-disposition": content_disposition(str(state["name"] or path.name)),
                "x-content-type-options": "nosniff",
                "cache-control": "private, no-store",
                "x-export-rows": str(state["rows_written"]),
            },
        )
