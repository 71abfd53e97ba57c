"""The audit log table. Rows are only ever inserted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.db import JSONType, UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_action", "action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_type: str = Field(max_length=20)  # staff | token | system | member
    actor_id: str | None = Field(default=None, max_length=64)
    actor_label: str = Field(default="", max_length=300)
    action: str = Field(max_length=100)  # e.g. staff.create, token.revoke
    target_type: str = Field(default="", max_length=50)
    target_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    ip: str | None = Field(default=None, max_length=64)
