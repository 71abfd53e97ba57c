"""Liveness/readiness for load balancers and `kizuna check`."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from api.runtime import Runtime


class Health(msgspec.Struct):
    status: str
    database: str


@get(
    "/api/health",
    sync_to_thread=True,
    tags=["health"],
    responses={503: ResponseSpec(data_container=Health, description="Database down")},
)
def health(runtime: NamedDependency[Runtime]) -> Response[Health]:
    """200 when the database answers, 503 otherwise."""
    try:
        with runtime.db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:
        return Response(Health("unavailable", "unreachable"), status_code=503)
    return Response(Health("ok", "ok"))
