"""The member site (issue 18): registration confirmed by mail, password reset, my page
(profile, password, e-mail, sessions), withdrawal, the staff's approve / resend, and the
funnel events. No HTTP: the controllers in :mod:`api.members.site_controllers` call these.

- **Links** mailed to members (confirmation, reset, new e-mail address) are
  ``<purpose>.<secret>.<signature>``: the signature (HMAC of the keyring, purpose-bound) refuses
  a forged link without a database read; only a SHA-256 of the 256-bit secret is stored
  (``member_token``), with its expiry (live setting ``member.link_hours``) and its use: a link
  works once. Opening one (GET) never uses it up — mail scanners prefetch links — the member
  presses a button (POST).
- **No enumeration**: registration and reset give the same answer whether or not the address
  is known; an address that is already registered gets a mail instead (its owner learns it,
  the visitor does not). A unique value another member holds (a member number…) gets the
  same answer too, and a mail to the address given says which field. The same work is done on
  both paths (the password is hashed, a mail
  is queued or not — a job row either way is not visible to the visitor).
- **Funnel**: ``member_event`` rows for registration started, confirmed, logged in (written by
  the log-in itself), withdrawn.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.audit import services as audit
from api.customers import records
from api.customers.services import Design
from api.customers.types import FieldType, column_name
from api.customers.values import to_json
from api.db import Database, utcnow
from api.errors import (
    Conflict,
    FieldError,
    Gone,
    KizunaError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from api.groups import services as groups
from api.livesettings import services as live
from api.members import mails, rules
from api.members import services as members
from api.members.models import MemberAccount, MemberEvent, MemberSession, MemberToken
from api.principal import Principal
from api.security import revocation
from api.security.keys import Keyring
from api.security.login import EMAIL
from api.security.passwords import hash_password, verify_password
from api.security.throttle import CounterStore

PREFIX = {"confirm": "c", "reset": "r", "email": "e"}
PURPOSE = {v: k for k, v in PREFIX.items()}
LINK_PATH = "/api/members/links/"
# Body fields every registration may send besides the asked field keys.
REGISTRATION_INPUTS = ("email", "password", "lang", "next")


class LinkInvalid(KizunaError):
    status = 400
    title = "The link is not valid"
    default_code = "link_invalid"


@dataclass(frozen=True)
class SiteContext:
    """What the member site's use cases need from the process."""

    db: Database
    keyring: Keyring
    counters: CounterStore
    theme_dir: Path
    base_url: str

    def link(self, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{LINK_PATH}{token}"

    def page(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"


def member_actor(record_id: int) -> Principal:
    """Who writes when a member changes their own record (history: source ``member``)."""
    return Principal(kind="member", id=str(record_id), label=f"member #{record_id}")


# ------------------------------------------------------------------ rate limits


def limit(
    counters: CounterStore, key: str, *, most: int, window: int, what: str = "requests"
) -> None:
    """Count one attempt under ``key``; past ``most`` in ``window`` seconds: 429, try later."""
    if counters.hit(f"member-site:{key}", window) > most:
        minutes = max(1, window // 60)
        raise RateLimited(
            detail=f"Too many {what}. Try again later (in {minutes} minutes).",
            extra={"retry_after": window},
        )


def limit_reached(
    counters: CounterStore, key: str, *, most: int, window: int, what: str = "requests"
) -> None:
    """Refuse (429) when ``key`` was counted ``most`` times already (:func:`count` counts):
    for limits on what was done (mails sent), not on attempts."""
    if counters.peek(f"member-site:{key}") >= most:
        minutes = max(1, window // 60)
        raise RateLimited(
            detail=f"Too many {what}. Try again later (in {minutes} minutes).",
            extra={"retry_after": window},
        )


def count(counters: CounterStore, key: str, window: int) -> None:
    counters.hit(f"member-site:{key}", window)


def account_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


# ------------------------------------------------------------------ funnel


def event(session: Session, kind: str, table_id: int | None, record_id: int | None) -> None:
    session.add(MemberEvent(kind=kind, table_id=table_id, record_id=record_id))


def funnel(session: Session, *, since: Any = None) -> dict[str, int]:
    """How many of each funnel event (since a moment, or ever)."""
    query = sa.select(MemberEvent.kind, sa.func.count()).group_by(MemberEvent.kind)  # type: ignore[call-overload]
    if since is not None:
        query = query.where(col(MemberEvent.at) >= since)
    return {str(kind): int(n) for kind, n in session.execute(query).all()}


# ------------------------------------------------------------------ links


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _signature(keyring: Keyring, purpose: str, secret: str) -> str:
    return keyring.sign(f"member-link:{purpose}", secret)


def new_link(
    session: Session,
    ctx: SiteContext,
    account: MemberAccount,
    purpose: str,
    data: dict[str, Any] | None = None,
) -> str:
    """A new link token for ``account`` (stored hashed); earlier unused links of the same
    purpose stop working (only the newest mail counts)."""
    _retire_links(session, account.id or 0, purpose)
    hours = int(live.get(session, "member.link_hours"))
    secret = secrets.token_urlsafe(32)
    session.add(
        MemberToken(
            purpose=purpose,
            account_id=account.id or 0,
            secret_hash=_hash(secret),
            data=dict(data or {}),
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    return f"{PREFIX[purpose]}.{secret}.{_signature(ctx.keyring, purpose, secret)}"


def _retire_links(session: Session, account_id: int, purpose: str) -> None:
    session.execute(
        sa.update(MemberToken)
        .where(
            col(MemberToken.account_id) == account_id,
            col(MemberToken.purpose) == purpose,
            col(MemberToken.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )


def parse_link(keyring: Keyring, token: str | None) -> tuple[str, str] | None:
    """``(purpose, secret)`` of a well-formed link with a valid signature, else None."""
    if not token or len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] not in PURPOSE or not parts[1] or not parts[2]:
        return None
    purpose, secret = PURPOSE[parts[0]], parts[1]
    if keyring.verify_signature(f"member-link:{purpose}", secret, parts[2]):
        return purpose, secret
    return None


def find_link(
    session: Session, keyring: Keyring, token: str | None, purpose: str | None = None,
    *, lock: bool = False,
) -> tuple[MemberToken, MemberAccount]:  # fmt: skip
    """The stored link behind ``token`` and its account, or a clear refusal: 400
    ``link_invalid`` (forged, unknown, another purpose), 410 ``link_expired`` or
    ``link_used``."""
    parsed = parse_link(keyring, token)
    if parsed is None or (purpose is not None and parsed[0] != purpose):
        raise LinkInvalid(detail="The link is not valid. Check that it was copied whole.")
    query = select(MemberToken).where(MemberToken.secret_hash == _hash(parsed[1]))
    if lock:
        query = query.with_for_update()
    link = session.exec(query).first()
    if link is None or link.purpose != parsed[0]:
        raise LinkInvalid(detail="The link is not valid. Check that it was copied whole.")
    if link.used_at is not None:
        raise Gone(detail="The link has already been used.", code="link_used")
    if link.expires_at <= utcnow():
        raise Gone(detail="The link has expired. Ask for a new one.", code="link_expired")
    account = session.get(MemberAccount, link.account_id)
    if account is None:
        raise LinkInvalid(detail="The link is not valid. Check that it was copied whole.")
    return link, account


def purge_links(session: Session, *, older_than: timedelta = timedelta(days=7)) -> int:
    """Housekeeping: delete links used or expired more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    result = session.execute(
        sa.delete(MemberToken).where(
            sa.or_(col(MemberToken.expires_at) < cutoff, col(MemberToken.used_at) < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0))


def check_link(db: Database, keyring: Keyring, token: str | None) -> str:
    """The purpose of a usable link (opening it uses nothing up), or the refusal."""
    return link_purpose_and_lang(db, keyring, token)[0]


def link_purpose_and_lang(db: Database, keyring: Keyring, token: str | None) -> tuple[str, str]:
    """The purpose of a usable link and the language it was asked in (its page's language)."""
    with db.read() as session:
        link, _ = find_link(session, keyring, token)
        return link.purpose, mails.lang_of(link.data.get("lang"))


# ------------------------------------------------------------------ the member table


@dataclass(frozen=True)
class FieldOut:
    key: str
    type: str
    label: dict[str, str]
    required: bool
    max_length: int | None
    choices: list[dict[str, Any]]
    editable: bool = False


def _keys(session: Session, setting: str, design: Design) -> list[str]:
    """Field keys listed in a live setting that the member table has (active, not files, not
    the log-in address)."""
    wanted = [k.strip() for k in str(live.get(session, setting) or "").split(",") if k.strip()]
    login = _login_field(design)
    active = {spec.key: spec for _, spec in design.active()}
    out: list[str] = []
    for key in wanted:
        spec = active.get(key)
        if spec is None or key == login or spec.type == FieldType.file or key in out:
            continue
        out.append(key)
    return out


def _login_field(design: Design) -> str | None:
    try:
        return members.login_field(design)
    except Conflict:
        return None


def _field_out(design: Design, key: str, editable: bool = False) -> FieldOut:
    spec = design.specs[key]
    return FieldOut(
        key=key,
        type=str(spec.type.value if hasattr(spec.type, "value") else spec.type),
        label=dict(spec.label) or {"ja": key, "en": key},
        required=bool(spec.required),
        max_length=spec.max_length,
        choices=[c.as_dict() for c in spec.choices if not c.retired],
        editable=editable,
    )


def _design(session: Session) -> tuple[Design, str]:
    design = members.member_design(session)
    return design, members.login_field(design)


def _clean_email(value: Any, field: str = "email") -> str:
    result = EMAIL.clean(value if isinstance(value, str) else None, name=field)
    if not result.ok:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in result.errors),
            errors=list(result.errors),
        )
    return str(result.value)


def _values(session: Session, design: Design, values: dict[str, Any], *, creating: bool) -> None:
    """The same field rules as every write of the table (``records._values``), errors named by
    the field key as the form sends it."""
    try:
        records._values(session, design, values, creating=creating)
    except ValidationFailed as exc:
        errors = [records.replace_field(e, e.field.removeprefix("values.")) for e in exc.errors]
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        ) from None


def unknown_fields(data: dict[str, Any], allowed: set[str] | tuple[str, ...]) -> None:
    """Refuse a body with fields the member may not send (422 ``unknown_field``)."""
    extra = sorted(str(k)[:40] for k in data if k not in allowed)
    if extra:
        raise ValidationFailed(
            detail="; ".join(f"{k}: is not a field you can send" for k in extra),
            code="unknown_field",
            errors=[FieldError(k, "is not a field you can send", "unknown_field") for k in extra],
        )


def form_values(fields: Iterable[FieldOut], pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A plain form post of a form of member fields (my page's profile, registration) as the
    values the services take: the checkboxes of a multi-select field of ``fields`` as a list
    (its hidden empty input dropped), every other key's first value (a ticked boolean's
    ``true`` comes before its hidden ``false``). Keys not in ``fields`` are kept, for the
    service to refuse."""
    multi = {f.key for f in fields if f.type == "multi_select"}
    data: dict[str, Any] = {}
    for key, value in pairs:
        if not isinstance(value, str):
            continue
        if key in multi:
            items = data.setdefault(key, [])
            if value != "":
                items.append(value)
        elif key not in data:
            data[key] = value
    return data


def _name(design: Design, row: Any) -> str:
    label = groups.record_label(design, row)
    return "" if label.startswith("#") else label


# ------------------------------------------------------------------ registration


def registration_form(session: Session) -> dict[str, Any]:
    """What the registration page asks: mode, the fields (besides e-mail and password) and
    the password rules."""
    mode = str(live.get(session, "member.registration"))
    fields: list[FieldOut] = []
    try:
        design, _ = _design(session)
        fields = [
            _field_out(design, k, True)
            for k in _keys(session, "member.registration_fields", design)
        ]
    except Conflict:
        mode = "closed"
    return {
        "mode": mode,
        "fields": fields,
        "password": rules.describe(rules.member_policy(session)),
    }


def register(
    ctx: SiteContext, data: dict[str, Any], pairs: Sequence[tuple[str, Any]] | None = None
) -> None:
    """Register a visitor (the same outcome whatever the address): a provisional account and
    a confirmation mail; an address already registered gets a mail telling its owner.
    ``pairs``: a plain form's fields, read by :func:`form_values` for the asked fields (``lang``
    is taken from ``data``)."""
    with ctx.db.read() as session:
        mode = str(live.get(session, "member.registration"))
        try:
            design, login = _design(session)
        except Conflict:  # no member table (or no e-mail field in it): nobody can register
            mode = "closed"
        if mode == "closed":
            raise PermissionDenied(detail="Registration is closed.", code="registration_closed")
        asked = _keys(session, "member.registration_fields", design)
        if pairs is not None:
            fields = [_field_out(design, k) for k in asked]
            data = {**form_values(fields, pairs), "lang": data.get("lang")}
        unknown_fields(data, {*REGISTRATION_INPUTS, *asked})
        email = _clean_email(data.get("email"))
        password = data.get("password")
        if not isinstance(password, str) or not password:
            raise ValidationFailed(
                detail="password: is required",
                errors=[FieldError("password", "is required", "required")],
            )
        values: dict[str, Any] = {k: data[k] for k in asked if k in data and data[k] != ""}
        values[login] = email
        _values(session, design, values, creating=True)
        name = str(values.get("name") or "")
        rules.check(session, password, personal=(email, name))
    lang = mails.lang_of(data.get("lang"))
    password_hash = hash_password(password)  # on every path: the same work
    try:
        _register(ctx, email, values, password_hash, lang)
    except Conflict as exc:
        taken = [e.field.removeprefix("values.") for e in exc.errors if e.code == "taken"]
        if not taken:
            raise
        # Another member holds a unique value the visitor typed (a member number…): the
        # answer stays the same, and only the mailbox of the address given learns why.
        with ctx.db.transaction() as session:
            design, login = _design(session)
            kind = "already" if login in taken else "taken"
            labels = [str((design.specs[k].label or {}).get(lang) or k) for k in taken]
            link = ctx.page("/password/reset/" if kind == "already" else "/login/")
            joined = ("・" if lang == "ja" else ", ").join(labels)
            mails.send(session, ctx.theme_dir, kind, lang, to=email, email=email, link=link,
                       fields=joined)  # fmt: skip


def _register(
    ctx: SiteContext, email: str, values: dict[str, Any], password_hash: str, lang: str
) -> None:
    with ctx.db.transaction() as session:
        design, _ = _design(session)
        table_id = design.table.id or 0
        record_id = members._find_record(session, design, email)
        account = members._account(session, table_id, record_id) if record_id else None
        if record_id is None:
            created = records.create_record(
                session, mails.SITE_ACTOR, design.key, values, source="member"
            )
            record_id = int(created["id"])
        if account is None:
            account = MemberAccount(
                table_id=table_id, record_id=record_id, password_hash=password_hash,
                status="pending",
            )  # fmt: skip
            session.add(account)
            session.flush()
            event(session, "registration_started", table_id, record_id)
        if account.status == "pending":
            _send_confirmation(session, ctx, design, account, lang)
        else:  # already registered: its owner is told, the visitor learns nothing
            hours = int(live.get(session, "member.link_hours"))
            mails.send(session, ctx.theme_dir, "already", lang, to=email,
                       link=ctx.page("/password/reset/"), email=email, hours=hours)  # fmt: skip


def _send_confirmation(
    session: Session, ctx: SiteContext, design: Design, account: MemberAccount, lang: str
) -> None:
    row = members._record(session, design, account.record_id)
    email = str(row._mapping[column_name(members.login_field(design))])
    token = new_link(session, ctx, account, "confirm", {"lang": lang})
    hours = int(live.get(session, "member.link_hours"))
    mails.send(session, ctx.theme_dir, "confirm", lang, to=email, name=_name(design, row),
               link=ctx.link(token), email=email, hours=hours)  # fmt: skip


def confirm(ctx: SiteContext, token: str | None) -> str:
    """Activate the account of a confirmation link (used once): ``active``, or ``approval``
    when registration waits for staff. A welcome (or "waiting") mail is sent."""
    with ctx.db.transaction() as session:
        link, account = find_link(session, ctx.keyring, token, "confirm", lock=True)
        if account.status != "pending":
            raise Gone(detail="The link has already been used.", code="link_used")
        mode = str(live.get(session, "member.registration"))
        now = utcnow()
        link.used_at = now
        session.add(link)
        account.status = "approval" if mode == "approval" else "active"
        account.updated_at = now
        session.add(account)
        event(session, "confirmed", account.table_id, account.record_id)
        revocation.members_changed(session, [account.record_id])
        design, login = _design(session)
        row = members._record(session, design, account.record_id)
        if row is not None:
            email = str(row._mapping[column_name(login)])
            kind = "approval" if account.status == "approval" else "welcome"
            mails.send(session, ctx.theme_dir, kind, mails.lang_of(link.data.get("lang")),
                       to=email, name=_name(design, row), link=ctx.page("/login/"))  # fmt: skip
        return account.status


# ------------------------------------------------------------------ password reset


def request_reset(ctx: SiteContext, email_input: str, lang: str) -> None:
    """Mail a reset link when the address is an active member's; nothing else either way."""
    try:
        email = _clean_email(email_input)
    except ValidationFailed:
        return
    with ctx.db.transaction() as session:
        try:
            design, _ = _design(session)
        except Conflict:
            return
        record_id = members._find_record(session, design, email)
        account = members._account(session, design.table.id or 0, record_id) if record_id else None
        if account is None or account.status != "active":
            return
        row = members._record(session, design, account.record_id)
        token = new_link(session, ctx, account, "reset", {"lang": lang})
        hours = int(live.get(session, "member.link_hours"))
        mails.send(session, ctx.theme_dir, "reset", lang, to=email, name=_name(design, row),
                   link=ctx.link(token), email=email, hours=hours)  # fmt: skip


def complete_reset(ctx: SiteContext, token: str | None, new_password: str) -> None:
    """Set the password of a reset link (used once); every session of the member ends."""
    with ctx.db.read() as session:
        _, account = find_link(session, ctx.keyring, token, "reset")
        email, name = _personal(session, account.record_id)
        rules.check(session, new_password, field="new_password", personal=(email, name))
    password_hash = hash_password(new_password)
    with ctx.db.transaction() as session:
        link, account = find_link(session, ctx.keyring, token, "reset", lock=True)
        if account.status != "active":
            raise Gone(detail="The link can no longer be used.", code="link_used")
        link.used_at = utcnow()
        session.add(link)
        _store_password(session, account, password_hash)
        members.end_sessions(session, account.id or 0)
        revocation.members_changed(session, [account.record_id])


def _personal(session: Session, record_id: int) -> tuple[str, str]:
    design, login = _design(session)
    row = members._record(session, design, record_id)
    if row is None:
        return "", ""
    return str(row._mapping[column_name(login)] or ""), _name(design, row)


def _store_password(session: Session, account: MemberAccount, password_hash: str) -> None:
    now = utcnow()
    account.password_hash = password_hash
    account.password_changed_at = now
    account.failed_attempts = 0
    account.updated_at = now
    session.add(account)


# ------------------------------------------------------------------ my page


def _my_account(session: Session, record_id: int) -> tuple[Design, Any, MemberAccount]:
    design = members.member_design(session)
    row = members._record(session, design, record_id)
    account = members._account(session, design.table.id or 0, record_id)
    if row is None or account is None or account.status != "active":
        raise Unauthenticated(detail="Log in again.", code="not_logged_in")
    return design, row, account


def my_profile(session: Session, record_id: int) -> dict[str, Any]:
    """The member's own profile: e-mail, the fields they registered with and those they may
    edit (with their descriptions), values as JSON."""
    design, row, account = _my_account(session, record_id)
    login = members.login_field(design)
    editable = _keys(session, "member.editable_fields", design)
    shown = [*editable, *(k for k in _keys(session, "member.registration_fields", design)
                          if k not in editable)]  # fmt: skip
    data = row._mapping
    return {
        "id": str(data["public_id"]),
        "email": data[column_name(login)],
        "values": {k: to_json(design.specs[k], data[column_name(k)]) for k in shown},
        "fields": [_field_out(design, k, k in editable) for k in shown],
        "last_login_at": account.last_login_at,
        "password_changed_at": account.password_changed_at,
    }


def editable_fields(session: Session) -> list[FieldOut]:
    """The fields a member may edit on my page (``member.editable_fields``), described."""
    design, _ = _design(session)
    return [_field_out(design, k, True) for k in _keys(session, "member.editable_fields", design)]


def update_profile(session: Session, record_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Change the member's editable fields (only those; never groups, never the address)."""
    design, row, _ = _my_account(session, record_id)
    editable = _keys(session, "member.editable_fields", design)
    unknown_fields(data, {*editable, "next", "lang"})
    values = {k: (None if v == "" else v) for k, v in data.items() if k in editable}
    _values(session, design, values, creating=False)
    records.update_record(
        session, member_actor(record_id), design.key, record_id, values,
        version=int(row._mapping["version"]), source="member",
    )  # fmt: skip
    return my_profile(session, record_id)


def check_current_password(
    ctx: SiteContext, record_id: int, password: str, field: str = "current_password"
) -> CheckedPassword:
    """The member's current password, checked (argon2 outside any transaction); a wrong one is
    422 on ``field``; five wrong ones in 15 minutes: 429."""
    key = f"current:{record_id}"
    if ctx.counters.peek(f"member-site:{key}") >= 5:
        raise RateLimited(
            detail="Too many wrong passwords. Try again later (in 15 minutes).",
            extra={"retry_after": 900},
        )
    with ctx.db.read() as session:
        _, _, account = _my_account(session, record_id)
        checked = CheckedPassword(account.id or 0, account.password_hash)
    ok, _ = verify_password(checked.password_hash, password or "")
    if not ok:
        ctx.counters.hit(f"member-site:{key}", 900)
        raise ValidationFailed(
            detail=f"{field}: is not correct",
            errors=[FieldError(field, "is not correct", "password_incorrect")],
        )
    return checked


@dataclass(frozen=True)
class CheckedPassword:
    account_id: int
    password_hash: str | None


def change_password(
    ctx: SiteContext, record_id: int, session_id: str | None, current: str, new: str
) -> int:
    """Change the password (the current one first); every other session ends: their count."""
    account = check_current_password(ctx, record_id, current)
    with ctx.db.read() as session:
        email, name = _personal(session, record_id)
        rules.check(session, new, field="new_password", personal=(email, name))
    password_hash = hash_password(new)
    with ctx.db.transaction() as session:
        current_account = session.get(MemberAccount, account.account_id)
        if current_account is None or current_account.password_hash != account.password_hash:
            raise Conflict(detail="The password changed meanwhile. Try again.", code="changed")
        _store_password(session, current_account, password_hash)
        ended = members.end_sessions(session, account.account_id, keep=session_id)
        return len(ended)


def request_email_change(
    ctx: SiteContext, record_id: int, new_email: Any, current: str, lang: str
) -> None:
    """Mail a confirmation link to the new address (after the current password). The same
    answer whether or not the new address is taken: when it is, its owner is told instead."""
    email = _clean_email(new_email)
    check_current_password(ctx, record_id, current)
    with ctx.db.transaction() as session:
        design, row, account = _my_account(session, record_id)
        login = members.login_field(design)
        if row._mapping[column_name(login)] == email:
            raise ValidationFailed(
                detail="email: is already your address",
                errors=[FieldError("email", "is already your address", "same_email")],
            )
        hours = int(live.get(session, "member.link_hours"))
        if members._find_record(session, design, email) is not None:
            mails.send(session, ctx.theme_dir, "already", lang, to=email,
                       link=ctx.page("/password/reset/"), email=email, hours=hours)  # fmt: skip
            return
        token = new_link(session, ctx, account, "email", {"email": email, "lang": lang})
        mails.send(session, ctx.theme_dir, "email_new", lang, to=email, name=_name(design, row),
                   link=ctx.link(token), email=email, hours=hours)  # fmt: skip


def confirm_email(ctx: SiteContext, token: str | None) -> str:
    """Make the link's address the member's log-in address (used once); the old address is
    told. 409 ``email_taken`` when someone took it meanwhile."""
    with ctx.db.transaction() as session:
        link, account = find_link(session, ctx.keyring, token, "email", lock=True)
        if account.status != "active":
            raise Gone(detail="The link can no longer be used.", code="link_used")
        design, login = _design(session)
        row = members._record(session, design, account.record_id)
        if row is None:
            raise LinkInvalid(detail="The link is not valid.")
        new = str(link.data.get("email", ""))
        old = str(row._mapping[column_name(login)] or "")
        if members._find_record(session, design, new) is not None:
            raise Conflict(detail="The address is already in use.", code="email_taken")
        link.used_at = utcnow()
        session.add(link)
        records.update_record(
            session, member_actor(account.record_id), design.key, account.record_id,
            {login: new}, version=int(row._mapping["version"]), source="member",
        )  # fmt: skip
        if old:
            mails.send(session, ctx.theme_dir, "email_old", mails.lang_of(link.data.get("lang")),
                       to=old, name=_name(design, row), email=new)  # fmt: skip
        return new


def my_sessions(session: Session, record_id: int, current: str | None) -> list[dict[str, Any]]:
    _, _, account = _my_account(session, record_id)
    now = utcnow()
    rows = session.exec(
        select(MemberSession)
        .where(
            MemberSession.account_id == account.id,
            col(MemberSession.revoked_at).is_(None),
            col(MemberSession.expires_at) > now,
        )
        .order_by(col(MemberSession.last_used_at).desc())
    ).all()
    return [
        {
            "id": s.id,
            "created_at": s.created_at,
            "last_used_at": s.last_used_at,
            "ip": s.ip,
            "user_agent": s.user_agent,
            "current": s.id == current,
        }
        for s in rows
    ]


def end_my_session(session: Session, record_id: int, session_id: str) -> None:
    _, _, account = _my_account(session, record_id)
    login = session.get(MemberSession, session_id)
    if login is None or login.account_id != account.id:
        raise NotFound(detail="You have no such session", code="session_not_found")
    if login.revoked_at is None:
        login.revoked_at = utcnow()
        session.add(login)
        revocation.sessions_revoked(session, [login.id])


def end_my_sessions(session: Session, record_id: int) -> int:
    """Log out everywhere (this browser too)."""
    _, _, account = _my_account(session, record_id)
    return len(members.end_sessions(session, account.id or 0))


# ------------------------------------------------------------------ withdrawal


def withdraw(ctx: SiteContext, record_id: int, current: str, lang: str) -> str:
    """Leave: access ends at once (every session, every cached token); the record is kept,
    the account deactivated, or the record anonymised, as ``member.withdrawal`` says. A
    confirmation mail goes to the address. Returns the handling applied."""
    check_current_password(ctx, record_id, current)
    with ctx.db.transaction() as session:
        design, row, account = _my_account(session, record_id)
        login = members.login_field(design)
        mode = str(live.get(session, "member.withdrawal"))
        email = str(row._mapping[column_name(login)] or "")
        name = _name(design, row)
        members.end_sessions(session, account.id or 0)
        revocation.members_changed(session, [record_id])
        event(session, "withdrawn", design.table.id, record_id)
        if email:
            mails.send(session, ctx.theme_dir, "withdrawn", lang, to=email, name=name,
                       email=email)  # fmt: skip
        if mode == "deactivate":
            account.status = "withdrawn"
            account.updated_at = utcnow()
            session.add(account)
            return mode
        session.delete(account)
        session.flush()
        if mode == "anonymise":
            _anonymise(session, design, login, row)
        return mode


def _anonymise(session: Session, design: Design, login: str, row: Any) -> None:
    """Clear the record's personal data: its groups, every optional field, the address (a
    stand-in no one can receive), required text fields replaced by a dash."""
    record_id = int(row._mapping["id"])
    actor = member_actor(record_id)
    for key in groups.groups_of(session, design.table.id or 0, [record_id]).get(record_id, []):
        groups.change_members(session, mails.SITE_ACTOR, key, [record_id], add=False)
    text = {FieldType.text, FieldType.long_text, FieldType.furigana}
    values: dict[str, Any] = {}
    for _, spec in design.active():
        if spec.type == FieldType.file:
            continue
        if spec.key == login:
            values[spec.key] = f"withdrawn-{row._mapping['public_id']}@example.invalid"
        elif not spec.required:
            values[spec.key] = None
        elif spec.type in text:
            values[spec.key] = "-"
    current = members._record(session, design, record_id)
    records.update_record(
        session, actor, design.key, record_id, values,
        version=int(current._mapping["version"]), source="member",
    )  # fmt: skip


# ------------------------------------------------------------------ staff


def approve(session: Session, actor: Principal, ctx: SiteContext, record_id: int) -> None:
    """Staff approve a registration waiting for them (``approval``): the member can log in; a
    welcome mail is sent."""
    design, row, account = members._account_for_change(session, actor, record_id)
    if account.status != "approval":
        raise Conflict(
            detail="The member is not waiting for approval", code="not_awaiting_approval"
        )
    account.status = "active"
    account.updated_at = utcnow()
    session.add(account)
    revocation.members_changed(session, [record_id])
    email = str(row._mapping[column_name(members.login_field(design))] or "")
    if email:
        mails.send(session, ctx.theme_dir, "welcome", _lang(session, account), to=email,
                   name=_name(design, row), link=ctx.page("/login/"))  # fmt: skip
    audit.record(session, actor, "members.approve", target_type="member", target_id=record_id)


def resend_confirmation(
    session: Session, actor: Principal, ctx: SiteContext, record_id: int
) -> None:
    """Staff send a pending member a new confirmation link (older ones stop working)."""
    design, _, account = members._account_for_change(session, actor, record_id)
    if account.status != "pending":
        raise Conflict(detail="The member has confirmed already", code="not_pending")
    _send_confirmation(session, ctx, design, account, _lang(session, account))
    audit.record(
        session, actor, "members.confirmation.resend", target_type="member", target_id=record_id
    )


def _lang(session: Session, account: MemberAccount) -> str:
    """The language of the member's last link (ja by default)."""
    last = session.exec(
        select(MemberToken)
        .where(MemberToken.account_id == account.id)
        .order_by(col(MemberToken.id).desc())
    ).first()
    return mails.lang_of(last.data.get("lang") if last else None)
