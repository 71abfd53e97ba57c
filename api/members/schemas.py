"""Request and response bodies of the members API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LoginIn(Strict):
    email: Annotated[str, Meta(max_length=1000)]
    password: Annotated[str, Meta(max_length=4096)]
    next: Annotated[str, Meta(max_length=2000)] | None = None


class MemberProfile(msgspec.Struct, kw_only=True):
    id: str  # the record's random public id
    name: str
    email: str | None


class MeOut(msgspec.Struct, kw_only=True):
    member: MemberProfile | None
    groups: list[str] = msgspec.field(default_factory=list)


class LoginOut(msgspec.Struct, kw_only=True):
    member: MemberProfile | None
    next: str


class PasswordIn(Strict):
    password: Annotated[str, Meta(max_length=4096)]


class StatusIn(Strict):
    status: Literal["active", "suspended"]


class SessionOut(msgspec.Struct, kw_only=True):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None


class AccountOut(msgspec.Struct, kw_only=True):
    record_id: int
    table: str
    login_field: str | None  # the field members log in with (None: the table has no e-mail)
    email: str | None
    has_account: bool
    has_password: bool
    status: str  # active | suspended | none (no account yet)
    can_log_in: bool
    last_login_at: datetime | None
    failed_attempts: int
    last_failed_at: datetime | None
    password_changed_at: datetime | None
    suspended_at: datetime | None
    sessions: list[SessionOut]


class SessionsEnded(msgspec.Struct, kw_only=True):
    ended: int
