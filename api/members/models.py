"""Member accounts (the log-in of a record of the member table) and their refresh sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.db import EMPTY_OBJECT, BigIntKey, JSONType, UTCDateTime, server_now, utcnow

NOW = {"server_default": server_now()}

# active: can log in; suspended: by staff; pending: registered, the address not confirmed yet;
# approval: confirmed, waiting for staff (registration mode "approval"); withdrawn: left.
STATUSES = ("active", "suspended", "pending", "approval", "withdrawn")


class MemberAccount(SQLModel, table=True):
    """The log-in of one record of the member table: its password and state.

    ``record_id`` is not a foreign key (data tables are not models), like group memberships;
    ``table_id`` says which table was the member table when the account was made, so marking
    another table never reads these rows as its records.
    """

    __tablename__ = "member_account"
    __table_args__ = (sa.UniqueConstraint("table_id", "record_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    table_id: int = Field(foreign_key="customer_table.id", ondelete="CASCADE")
    record_id: int = Field(sa_type=sa.BigInteger)
    password_hash: str | None = Field(default=None, max_length=255)
    status: str = Field(
        default="active", max_length=20, sa_column_kwargs={"server_default": "active"}
    )
    failed_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )


class MemberSession(SQLModel, table=True):
    """One log-in of a member: the refresh session behind the short-lived access token.

    ``id`` is random (it travels in the refresh cookie together with a secret, of which only a
    SHA-256 is kept). Revoking it ends the log-in at once (the token caches learn it through
    :mod:`api.security.revocation`).
    """

    __tablename__ = "member_session"

    id: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(
        sa_type=sa.BigInteger, foreign_key="member_account.id", index=True, ondelete="CASCADE"
    )
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    last_used_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


TOKEN_PURPOSES = ("confirm", "reset", "email")


class MemberToken(SQLModel, table=True):
    """A link mailed to a member: confirm a registration, reset the password, confirm a new
    e-mail address. Only a SHA-256 of its secret is kept; it is used once (``used_at``) and
    expires (``expires_at``). ``data`` holds what the link carries (the new address)."""

    __tablename__ = "member_token"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    purpose: str = Field(max_length=20)
    account_id: int = Field(
        sa_type=sa.BigInteger, foreign_key="member_account.id", index=True, ondelete="CASCADE"
    )
    secret_hash: str = Field(max_length=64, unique=True)
    data: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs=EMPTY_OBJECT
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


EVENT_KINDS = ("registration_started", "confirmed", "logged_in", "withdrawn")


class MemberEvent(SQLModel, table=True):
    """The member funnel: one row per registration started, confirmation, log-in and
    withdrawal, with its time (the dashboard counts them)."""

    __tablename__ = "member_event"
    __table_args__ = (sa.Index("ix_member_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    kind: str = Field(max_length=30)
    table_id: int | None = Field(default=None)
    record_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs=NOW
    )
