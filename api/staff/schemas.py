"""Request and response bodies of the staff API. Strict: unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

Email = Annotated[str, Meta(min_length=1, max_length=254)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Password = Annotated[str, Meta(min_length=1, max_length=4096)]
RoleName = Annotated[str, Meta(min_length=1, max_length=20)]
Locale = Annotated[str, Meta(min_length=2, max_length=10)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LoginRequest(Strict):
    email: Email
    password: Password


class StaffOut(msgspec.Struct, kw_only=True):
    id: int
    email: str
    name: str
    role: str
    locale: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class PrincipalOut(msgspec.Struct, kw_only=True):
    kind: str  # staff | token
    label: str
    role: str


class PasswordPolicyOut(msgspec.Struct, kw_only=True):
    min_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_digit: bool
    require_symbol: bool


class SessionOut(msgspec.Struct, kw_only=True):
    staff: StaffOut | None  # None when called with an API token
    principal: PrincipalOut
    permissions: list[str]
    csrf_token: str | None
    password_policy: PasswordPolicyOut  # so forms can say the rules before the server refuses
    # Display names the installed domains declare for their codes (permissions, job kinds,
    # audit actions…), by key and language: {"permission.outbox:write": {"ja": …, "en": …}}.
    labels: dict[str, dict[str, str]]
    time_zone: str  # the site's (live setting site.time_zone): the admin shows moments in it


class StaffCreate(Strict):
    email: Email
    name: Name
    role: RoleName
    password: Password
    locale: Locale = "ja"


class StaffUpdate(Strict):
    name: Name | UnsetType = UNSET
    role: RoleName | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    password: Password | UnsetType = UNSET


class OwnAccountUpdate(Strict):
    name: Name | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    current_password: Password | UnsetType = UNSET
    new_password: Password | UnsetType = UNSET


class RoleOut(msgspec.Struct, kw_only=True):
    name: str
    permissions: list[str]


class RolesOut(msgspec.Struct, kw_only=True):
    roles: list[RoleOut]


class StaffRef(msgspec.Struct, kw_only=True):
    id: int
    name: str


class TokenCreate(Strict):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    role: RoleName
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class TokenOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    prefix: str
    role: str
    created_at: datetime
    created_by: StaffRef | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(msgspec.Struct, kw_only=True):
    token: TokenOut
    secret: str
