"""Request and response bodies of the import API (strict: unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.imports.models import CustomerImport

FieldKey = Annotated[str, Meta(min_length=1, max_length=30)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class BatchUpdate(Strict):
    mapping: dict[str, FieldKey | None] | UnsetType = UNSET
    mode: Annotated[str, Meta(max_length=10)] | UnsetType = UNSET
    key: Annotated[list[FieldKey], Meta(max_length=10)] | UnsetType = UNSET
    encoding: Annotated[str, Meta(max_length=10)] | UnsetType = UNSET


class RunIn(Strict):
    all_or_nothing: bool = False


class ImportSettingsOut(msgspec.Struct, kw_only=True):
    max_bytes: int  # the upload limit (a larger file is refused while it streams)
    encodings: list[str]
    formats: list[str]


class JobStarted(msgspec.Struct, kw_only=True):
    job_id: int


class BatchOut(msgspec.Struct, kw_only=True):
    id: int
    table: str
    state: str
    filename: str
    format: str
    encoding: str
    size: int
    header: list[str]
    sample: list[list[str]]
    rows_estimate: int
    mapping: dict[str, str | None]
    mapping_source: str
    mode: str
    key: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    all_or_nothing: bool
    job_id: int | None
    # the run as it goes: rows in so far (of rows_estimate, exact: every row is counted at upload)
    progress: dict[str, int]
    check: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    undo: dict[str, Any] | None = None
    # state "refused": why the file could not be read ({field, code, message, params}), until
    # it is read again in another encoding (PATCH encoding)
    refusal: dict[str, Any] | None = None
    # What happened, when it needs saying (a stopped run: how far it got, resume or undo).
    message: str = ""
    message_ja: str = ""
    # Housekeeping removed the uploaded file: no more dry run, run or resume.
    file_removed_at: datetime | None = None


def batch_out(batch: CustomerImport, table: str) -> BatchOut:
    assert batch.id is not None
    return BatchOut(
        id=batch.id,
        table=table,
        state=batch.state,
        filename=batch.filename,
        format=batch.format,
        encoding=batch.encoding,
        size=batch.size,
        header=list(batch.header),
        sample=[list(r) for r in batch.sample],
        rows_estimate=batch.rows_total,
        mapping=dict(batch.mapping),
        mapping_source=batch.mapping_source,
        mode=batch.mode,
        key=list(batch.key),
        created_by=batch.created_by,
        created_at=batch.created_at,
        updated_at=batch.updated_at,
        all_or_nothing=batch.all_or_nothing,
        job_id=batch.job_id,
        progress={
            "done": batch.rows_done,
            "total": batch.rows_total,
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "invalid": batch.invalid,
            "duplicate_keys": batch.duplicate_keys,
            # the dry run's and the undo's progress (their jobs' units say it too)
            "checked": int((batch.check or {}).get("rows", 0)) if batch.state != "refused" else 0,
            "undo_done": int((batch.undo or {}).get("done", 0)),
            "undo_total": int((batch.undo or {}).get("entries", 0)),
        },
        # the counts of a dry run, once it is through (until then they are partial)
        check=None if batch.state in ("refused", "checking") else batch.check,
        refusal=(batch.check or {}).get("refusal") if batch.state == "refused" else None,
        result=batch.result,
        undo=batch.undo if batch.state == "undone" else None,
        message=batch.message,
        message_ja=batch.message_ja,
        file_removed_at=batch.file_removed_at,
    )
