"""The metadata tables that describe staff-designed tables, and the record history.

The data tables themselves (``ct_<key>``, one typed column ``c_<key>`` per field) are not
models: the app creates and alters them from these rows (``api/customers/physical.py``), and
Alembic ignores them (``include_object`` in ``api/migrations/env.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import EMPTY_LIST, EMPTY_OBJECT, BigIntKey, JSONType, UTCDateTime, server_now, utcnow

NOW = {"server_default": server_now()}


class CustomerTable(SQLModel, table=True):
    """One staff-designed table (customers, companies, purchases…)."""

    __tablename__ = "customer_table"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=30, unique=True)  # ct_<key> is the data table
    label: dict[str, str] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    # Record statuses: [{"value": "lead", "label": {"ja": …, "en": …}}, …]; the first is a new
    # record's. Transitions: {"lead": ["customer", "lost"], …}; empty means any change.
    statuses: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST
    )
    transitions: dict[str, list[str]] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    is_member_table: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Sales staff see only the records they own (they always edit only those).
    owner_only: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Settings beyond the columns: {"name_field": key, "company_field": key} (the fields the
    # duplicates' name + company key uses; absent: chosen automatically).
    options: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    position: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )


class CustomerField(SQLModel, table=True):
    """One field of a staff-designed table: the column ``c_<key>`` of ``ct_<table key>``."""

    __tablename__ = "customer_field"
    __table_args__ = (UniqueConstraint("table_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    table_id: int = Field(
        sa_column=Column(
            sa.Integer, ForeignKey("customer_table.id", ondelete="CASCADE"), nullable=False
        )
    )
    key: str = Field(max_length=30)
    type: str = Field(max_length=20)
    label: dict[str, str] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    required: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    unique: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    indexed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    shown_in_list: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    position: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A reference field's target table (its column is a foreign key to ct_<target>.id).
    ref_table_id: int | None = Field(
        default=None,
        sa_column=Column(
            sa.Integer, ForeignKey("customer_table.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    # The rest of the definition: max_length, min, max, pattern, scale, choices, default, help,
    # on_delete. Read through api.customers.definitions.FieldSpec, never directly.
    options: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )


class CustomerDesignStamp(SQLModel, table=True):
    """One row (``id`` 1) whose ``stamp`` changes, in the same transaction, with every change
    to ``customer_table`` or ``customer_field``: database triggers set it to a new random value
    (migration ``0012_design_stamp``), whoever writes — the services, a job, a migration, SQL by
    hand. Process-wide caches of the designs (``api.customers.services``) compare it with one
    indexed read; a value is never reused, so a rolled-back change cannot match a cache."""

    __tablename__ = "customer_design_stamp"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # always 1
    stamp: str = Field(max_length=40)


class RecordHistory(SQLModel, table=True):
    """One change to one record: who, when, from where, and each field's before and after.

    Grows without bound (every write of every record), so a 64-bit key, server defaults for
    bulk writers (imports), and the (table, record, id) index the record's timeline reads.
    ``record_id`` is not a foreign key: the history of a deleted record stays.
    """

    __tablename__ = "customer_history"
    __table_args__ = (
        Index("ix_customer_history_table_id_record_id_id", "table_id", "record_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    table_id: int = Field(
        sa_column=Column(
            sa.Integer, ForeignKey("customer_table.id", ondelete="CASCADE"), nullable=False
        )
    )
    record_id: int = Field(sa_column=Column(BigIntKey, nullable=False))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # after the change
    at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    action: str = Field(max_length=20)  # create | update | delete
    source: str = Field(
        default="api", max_length=20, sa_column_kwargs={"server_default": "api"}
    )  # api | admin | import | form | member | system
    actor_type: str = Field(max_length=20)  # staff | token | system | member
    actor_id: str | None = Field(default=None, max_length=64)
    actor_label: str = Field(
        default="", max_length=300, sa_column_kwargs={"server_default": sa.text("''")}
    )
    # {"field key": {"before": …, "after": …}}, JSON values as the API shows them.
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    # The import (or bulk action, or merge) that made the change: what undo reads.
    batch_id: int | None = Field(
        default=None, sa_column=Column(BigIntKey, nullable=True, index=True)
    )


class CustomerView(SQLModel, table=True):
    """A saved filter + columns + sort on one table's list screen, private to its owner or
    shared. A table's default view (at most one) is what its list opens with."""

    __tablename__ = "customer_view"

    id: int | None = Field(default=None, primary_key=True)
    table_id: int = Field(
        sa_column=Column(
            sa.Integer, ForeignKey("customer_table.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(max_length=200)
    # The staff member who saved it; their private views go with their account.
    owner_id: int | None = Field(
        default=None,
        sa_column=Column(sa.Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=True),
    )
    shared: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    conditions: dict[str, Any] | None = Field(default=None, sa_type=JSONType)  # api.customers.query
    columns: list[str] = Field(default_factory=list, sa_type=JSONType, sa_column_kwargs=EMPTY_LIST)
    sort: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": sa.text("''")})
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )


class CustomerFile(SQLModel, table=True):
    """One uploaded file of a file field (``api.customers.files``).

    The bytes live under ``settings.effective_files_dir`` (``var/files`` by default, never
    under the served site) as ``<stored[:2]>/<stored>``: a random name, never the one the
    person gave. The record's column holds a copy of the metadata (id, name, type, size) so
    lists show it without a join; this row is the authority for downloads, and it stays when
    the file is replaced or removed (``removed_at``; the bytes are then deleted), so the
    history's before/after can be told apart by id and checksum. ``record_id`` is not a
    foreign key (the data tables are the app's own; the history of a deleted record stays).
    """

    __tablename__ = "customer_file"
    __table_args__ = (
        Index("ix_customer_file_table_id_record_id", "table_id", "record_id"),
        Index("ix_customer_file_sha256", "sha256"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    public_id: str = Field(max_length=32, unique=True)  # also the stored name
    table_id: int = Field(
        sa_column=Column(
            sa.Integer, ForeignKey("customer_table.id", ondelete="CASCADE"), nullable=False
        )
    )
    field_key: str = Field(max_length=30)
    record_id: int | None = Field(default=None, sa_column=Column(BigIntKey, nullable=True))
    name: str = Field(max_length=255)  # the person's file name, sanitised
    media_type: str = Field(max_length=100)  # sniffed from the content, not the client's
    size: int = Field(sa_column=Column(sa.BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    uploaded_by_type: str = Field(max_length=20)  # staff | token | system
    uploaded_by_id: str | None = Field(default=None, max_length=64)
    uploaded_by_label: str = Field(
        default="", max_length=300, sa_column_kwargs={"server_default": sa.text("''")}
    )
    uploaded_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
