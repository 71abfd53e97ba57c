"""The audit log table. Rows are only ever inserted, and it grows without bound: a 64-bit key,
server-side defaults for bulk writers, and an (at, id) index for keyset paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.db import BigIntKey, JSONType, UTCDateTime, server_now, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at_id", "at", "id"),  # the list's order and its keyset
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_action", "action"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": server_now()},
    )
    actor_type: str = Field(max_length=20)  # staff | token | system | member
    actor_id: str | None = Field(default=None, max_length=64)
    actor_label: str = Field(
        default="", max_length=300, sa_column_kwargs={"server_default": sa.text("''")}
    )
    action: str = Field(max_length=100)  # e.g. staff.create, token.revoke
    target_type: str = Field(
        default="", max_length=50, sa_column_kwargs={"server_default": sa.text("''")}
    )
    target_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    ip: str | None = Field(default=None, max_length=64)
