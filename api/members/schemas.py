"""Request and response bodies of the members API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

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


# ------------------------------------------------------------------ the member site (issue 18)

Lang = Literal["ja", "en"]
Text = Annotated[str, Meta(max_length=1000)]
Secret = Annotated[str, Meta(max_length=4096)]
Token = Annotated[str, Meta(max_length=300)]
Next = Annotated[str, Meta(max_length=2000)]


class ResetIn(Strict):
    email: Text
    lang: Lang | None = None
    next: Next | None = None


class LinkIn(Strict):
    """A link's token: in the body (scripts, API clients), or else the link cookie that
    opening the link set (plain forms)."""

    token: Token | None = None
    lang: Lang | None = None
    next: Next | None = None


class NewPasswordIn(Strict):
    new_password: Secret
    token: Token | None = None
    lang: Lang | None = None
    next: Next | None = None


class ChangePasswordIn(Strict):
    current_password: Secret
    new_password: Secret
    lang: Lang | None = None
    next: Next | None = None


class EmailChangeIn(Strict):
    email: Text
    current_password: Secret
    lang: Lang | None = None
    next: Next | None = None


class WithdrawIn(Strict):
    current_password: Secret
    lang: Lang | None = None
    next: Next | None = None


class RuleOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    code: str
    ja: str
    en: str
    params: dict[str, int] | None = None


class PasswordRulesOut(msgspec.Struct, kw_only=True):
    min_length: int
    max_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_digit: bool
    require_symbol: bool
    rules: list[RuleOut]


class FieldOut(msgspec.Struct, kw_only=True):
    key: str
    type: str
    label: dict[str, str]
    required: bool
    max_length: int | None
    choices: list[dict[str, Any]]
    editable: bool


class RegistrationOut(msgspec.Struct, kw_only=True):
    mode: str  # open | closed | approval
    fields: list[FieldOut]
    password: PasswordRulesOut


class Accepted(msgspec.Struct, kw_only=True):
    """The one answer of registration, reset and e-mail change requests, whatever the
    address: a mail is on its way if it should be."""

    status: str = "sent"


class LinkOut(msgspec.Struct, kw_only=True):
    purpose: str  # confirm | reset | email
    valid: bool = True


class StatusOut(msgspec.Struct, kw_only=True):
    status: str


class ProfileOut(msgspec.Struct, kw_only=True):
    id: str
    email: str | None
    values: dict[str, Any]
    fields: list[FieldOut]
    last_login_at: datetime | None
    password_changed_at: datetime | None


class PasswordChanged(msgspec.Struct, kw_only=True):
    sessions_ended: int


class EmailChanged(msgspec.Struct, kw_only=True):
    email: str


class MySessionOut(msgspec.Struct, kw_only=True):
    id: str
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool
