"""The import batch and the rows it refused.

A batch is one file imported into one customer table: its upload, mapping, mode and key, the
dry run's counts, the run's counters (written in each chunk's transaction, so they always say
how much is in), and its undo. Every history row the run writes carries the batch id
(``customer_history.batch_id``), which is what undo reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from api.db import EMPTY_LIST, EMPTY_OBJECT, BigIntKey, JSONType, UTCDateTime, server_now, utcnow

NOW = {"server_default": server_now()}
ZERO = {"server_default": "0"}
EMPTY_TEXT = {"server_default": sa.text("''")}


def _count() -> Column[int]:
    return Column(sa.BigInteger, nullable=False, server_default="0")


class CustomerImport(SQLModel, table=True):
    """One import batch (grows with every import: a 64-bit key)."""

    __tablename__ = "customer_import"
    __table_args__ = (Index("ix_customer_import_table_id_id", "table_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    table_id: int = Field(
        sa_column=Column(
            sa.Integer, ForeignKey("customer_table.id", ondelete="CASCADE"), nullable=False
        )
    )
    # uploaded | checking | checked | running | interrupted | done | failed | undoing
    # | undo_interrupted | undone | expired (abandoned: the file was removed before a run);
    # refused: a file kept after its encoding was refused, to be read again (``check`` holds
    # the refusal)
    state: str = Field(
        default="uploaded", max_length=20, sa_column_kwargs={"server_default": "uploaded"}
    )
    filename: str = Field(default="", max_length=255, sa_column_kwargs=EMPTY_TEXT)
    stored: str = Field(max_length=64)  # the file's name under var/imports
    format: str = Field(default="csv", max_length=10, sa_column_kwargs={"server_default": "csv"})
    encoding: str = Field(default="", max_length=20, sa_column_kwargs=EMPTY_TEXT)
    requested_encoding: str = Field(
        default="auto", max_length=20, sa_column_kwargs={"server_default": "auto"}
    )
    size: int = Field(default=0, sa_column=_count())
    header: list[str] = Field(default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST)
    sample: list[list[str]] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST
    )
    rows_total: int = Field(default=0, sa_column=_count())
    # {"<column index>": field key or null}
    mapping: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    mapping_source: str = Field(
        default="auto", max_length=20, sa_column_kwargs={"server_default": "auto"}
    )
    mode: str = Field(
        default="upsert", max_length=10, sa_column_kwargs={"server_default": "upsert"}
    )
    key: list[str] = Field(default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST)
    all_or_nothing: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    check: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    undo: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    job_id: int | None = Field(default=None, sa_column=Column(BigIntKey, nullable=True))
    # Counters of the run, advanced in each chunk's transaction.
    rows_done: int = Field(default=0, sa_column=_count())
    chunks_total: int = Field(default=0, sa_column_kwargs=ZERO)
    chunks_done: int = Field(default=0, sa_column_kwargs=ZERO)
    created: int = Field(default=0, sa_column=_count())
    updated: int = Field(default=0, sa_column=_count())
    unchanged: int = Field(default=0, sa_column=_count())
    invalid: int = Field(default=0, sa_column=_count())
    duplicate_keys: int = Field(default=0, sa_column=_count())
    # What happened, when it needs saying (an interrupted run: how far it got, what to do).
    message: str = Field(default="", max_length=2000, sa_column_kwargs=EMPTY_TEXT)
    message_ja: str = Field(default="", max_length=2000, sa_column_kwargs=EMPTY_TEXT)
    # Housekeeping removed the uploaded file (after the retention): no more check, run, resume.
    file_removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=300, sa_column_kwargs=EMPTY_TEXT)
    created_by_id: int | None = Field(default=None)  # the staff member (their role limits the run)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )


class CustomerImportError(SQLModel, table=True):
    """A row the run refused, as it was in the file, and why: the error report's lines.

    Written in the chunk's transaction, so a resumed run never lists a row twice."""

    __tablename__ = "customer_import_error"
    __table_args__ = (Index("ix_customer_import_error_batch_id_row", "batch_id", "row"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    batch_id: int = Field(
        sa_column=Column(
            BigIntKey, ForeignKey("customer_import.id", ondelete="CASCADE"), nullable=False
        )
    )
    row: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    cells: list[str] = Field(default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST)
    # [{"column": 3, "field": "email", "code": "invalid_email", "message": "…"}]
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST
    )
