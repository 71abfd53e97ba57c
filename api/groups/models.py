"""Groups: named sets of members (records of the member table), read by access rules as
``group:<key>``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from api.db import EMPTY_OBJECT, BigIntKey, JSONType, UTCDateTime, server_now, utcnow

NOW = {"server_default": server_now()}


class MemberGroup(SQLModel, table=True):
    """One group. ``key`` is what rules name (``group:doctors``) and never changes."""

    __tablename__ = "member_group"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=50, unique=True)
    label: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )  # {"ja": …, "en": …}
    description: str = Field(
        default="", max_length=2000, sa_column_kwargs={"server_default": sa.text("''")}
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )


class GroupMembership(SQLModel, table=True):
    """A record of the member table in a group. ``table_id`` is the member table the record
    belongs to (a membership of another table's record is never read as this one's).
    ``record_id`` is not a foreign key (data tables are not models): a deleted record's rows
    are removed by the housekeeping sweep and never listed meanwhile."""

    __tablename__ = "member_group_membership"
    __table_args__ = (
        Index("ix_member_group_membership_table_id_record_id", "table_id", "record_id"),
    )

    group_id: int = Field(
        sa_column=Column(
            sa.Integer,
            ForeignKey("member_group.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    table_id: int = Field(
        sa_column=Column(
            sa.Integer,
            ForeignKey("customer_table.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    record_id: int = Field(sa_column=Column(BigIntKey, primary_key=True))
    added_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
