"""The settings table: one row per key that staff changed from its default."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.db import JSONType, UTCDateTime, server_now, utcnow


class Setting(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(sa_type=JSONType)
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": server_now()},
    )
    updated_by: str = Field(
        default="", max_length=300, sa_column_kwargs={"server_default": sa.text("''")}
    )
