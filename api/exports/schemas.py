"""Bodies and answers of the export job API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class ExportIn(Strict):
    """An export job: the set (a selection ``ids``, or a view / filter / search, in the list's
    ``sort``) and the file's options (as the download's query parameters)."""

    format: Annotated[str, Meta(max_length=10)] | None = None
    encoding: Annotated[str, Meta(max_length=20)] | None = None
    columns: Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(max_length=500)] | None = (
        None
    )
    # The header: ja, en or keys (the download's ``labels``; "labels" is taken by a dependency)
    header: Annotated[str, Meta(max_length=10)] | None = None
    values: Annotated[str, Meta(max_length=10)] | None = None
    replace: bool = False
    ids: Annotated[list[Annotated[int, Meta(ge=1)]], Meta(max_length=100_000)] | None = None
    view: Annotated[int, Meta(ge=1, le=2_147_483_647)] | None = None
    where: Any = None
    q: Annotated[str, Meta(max_length=1000)] | None = None
    sort: Annotated[str, Meta(max_length=40, pattern=r"^-?[a-z][a-z0-9_]*$")] | None = None


class GapOut(msgspec.Struct, kw_only=True):
    record_id: int
    field: str
    chars: str


class ExportState(msgspec.Struct, kw_only=True):
    job_id: int
    # queued | running | ready | refused (CP932 gaps, no file) | expired | failed
    state: str
    rows_total: int  # records in the set when the export was started
    rows_written: int
    format: str
    name: str | None  # the file's name for the download (顧客_20261129.csv)
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None  # when the file is removed (ready exports)
    error: str | None
    gap_count: int
    gaps: list[GapOut]
