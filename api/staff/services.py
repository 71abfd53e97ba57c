"""Staff accounts, logins and API tokens. Plain arguments and a session; no HTTP here."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from api import fields
from api.audit import services as audit
from api.db import Database, paged, utcnow
from api.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from api.livesettings import services as live
from api.permissions import Permission, Role
from api.principal import Principal
from api.security import login as login_throttle
from api.security.login import (  # noqa: F401 (the staff names of the shared throttle)
    ACCOUNT_SLOWDOWN_AFTER,
    ACCOUNT_WINDOW_SECONDS,
    LOGIN_WINDOW_SECONDS,
    MAX_LOGIN_DELAY_SECONDS,
    PAIR_FAILURE_LIMIT,
    LoginAttempt,
    login_address,
    login_delay,
)
from api.security.passwords import check_password, hash_password, verify_password
from api.security.throttle import CounterStore
from api.staff.models import ApiToken, Staff, StaffSession

log = logging.getLogger(__name__)

LOCALES = ("ja", "en")
TOKEN_PREFIX = "kz_"  # noqa: S105 (a prefix, not a secret)
# last_seen_at is written at most this often (a write per request would be wasteful).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def principal_for_staff(
    staff: Staff, *, ip: str | None = None, session_id: str | None = None
) -> Principal:
    return Principal(
        kind="staff",
        id=str(staff.id),
        label=f"{staff.name} <{staff.email}>",
        role=staff.role,
        roles=(staff.role,),
        ip=ip,
        staff_id=staff.id,
        session_id=session_id,
    )


def snapshot(staff: Staff) -> dict[str, Any]:
    return {
        "email": staff.email,
        "name": staff.name,
        "role": staff.role,
        "locale": staff.locale,
        "is_active": staff.is_active,
    }


# ------------------------------------------------------------------------- validation


EMAIL = fields.Field("email", required=True)
ROLE = fields.Field("select", required=True, choices=tuple(r.value for r in Role))
STAFF_FIELDS = fields.FieldSet(
    {
        "email": EMAIL,
        "name": fields.Field("text", required=True, max_length=200),
        "role": ROLE,
        "locale": fields.Field("select", required=True, choices=LOCALES),
    }
)
TOKEN_FIELDS = fields.FieldSet(
    {
        "name": fields.Field("text", required=True, max_length=100),
        "role": ROLE,
        "expires_in_days": fields.Field("integer", min=1, max=3650),
    }
)


def _validate_fields(
    errors: list[FieldError], field_set: fields.FieldSet = STAFF_FIELDS, **values: Any
) -> dict[str, Any]:
    """Clean the values given (``None`` = not given); add their errors to ``errors``."""
    given = {k: v for k, v in values.items() if v is not None}
    cleaned, problems = field_set.clean(given, partial=True)
    errors.extend(problems)
    return cleaned


def _login_address(email: str) -> str:
    return login_address(email)


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )


# ------------------------------------------------------------------------- accounts


def create_staff(
    session: Session,
    actor: Principal,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    locale: str = "ja",
) -> Staff:
    errors: list[FieldError] = []
    clean = _validate_fields(errors, email=email, name=name, role=role, locale=locale)
    email, name = clean.get("email", email), clean.get("name", name)
    role, locale = clean.get("role", role), clean.get("locale", locale)
    errors += check_password(password, live.password_policy(session), personal=(email, name))
    _raise(errors)
    if session.exec(select(Staff.id).where(Staff.email == email)).first() is not None:
        raise Conflict(
            detail=f"A staff account with {email} already exists",
            code="email_taken",
            errors=[FieldError("email", "is already used by another staff account", "email_taken")],
        )
    staff = Staff(
        email=email, name=name, role=role, locale=locale, password_hash=hash_password(password)
    )
    session.add(staff)
    session.flush()
    audit.record(
        session,
        actor,
        "staff.create",
        target_type="staff",
        target_id=staff.id,
        after=snapshot(staff),
    )
    return staff


def _lock_active_admins(session: Session) -> list[int]:
    """Lock the active admins' rows until the transaction ends, and return their ids.

    A demotion checks "is another admin left?" and then writes: two demotions at once must not
    both see the other admin. PostgreSQL: ``SELECT … FOR UPDATE`` makes the second wait, then
    re-read the rows the first changed; the rows are locked in id order, so two callers never
    deadlock. SQLite: the transaction holds the write lock already (``BEGIN IMMEDIATE``).
    """
    query = (
        select(Staff.id)
        .where(Staff.role == Role.admin, col(Staff.is_active))
        .order_by(col(Staff.id))
        .with_for_update()
    )
    return [int(i) for i in session.exec(query).all() if i is not None]


def get_staff(session: Session, staff_id: int, *, lock: bool = False) -> Staff:
    """The account; ``lock`` re-reads it ``FOR UPDATE`` (on PostgreSQL) to change it safely."""
    staff = session.get(Staff, staff_id, with_for_update=lock or None, populate_existing=lock)
    if staff is None:
        raise NotFound(detail=f"No staff account with id {staff_id}", code="staff_not_found")
    return staff


def find_staff(session: Session, email: str) -> Staff:
    address = _login_address(email)
    staff = session.exec(select(Staff).where(Staff.email == address)).first()
    if staff is None:
        raise NotFound(detail=f"No staff account with {email!r}", code="staff_not_found")
    return staff


def list_staff(
    session: Session,
    *,
    q: str | None = None,
    role: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Staff], int]:
    query = select(Staff)
    if q:
        # Names are stored as typed (㈱, ＡＢＣ), e-mails NFKC'd: look for both spellings.
        typed, needle = fields.trim(q).lower(), fields.nfkc(q).lower()
        query = query.where(
            or_(
                col(Staff.email).contains(needle, autoescape=True),
                func.lower(Staff.name).contains(needle, autoescape=True),
                func.lower(Staff.name).contains(typed, autoescape=True),
            )
        )
    if role:
        query = query.where(Staff.role == role)
    return paged(session, query, col(Staff.id), offset=offset, limit=limit)


def update_staff(
    session: Session, actor: Principal, staff_id: int, changes: dict[str, Any]
) -> Staff:
    # A change of role or activity may remove an admin: lock the admins first (see
    # _lock_active_admins), then read the account itself as it is now.
    admins = _lock_active_admins(session) if {"role", "is_active"} & changes.keys() else []
    staff = get_staff(session, staff_id, lock=True)
    if "password" in changes and actor.staff_id == staff.id:
        # Without the current password, a stolen session (or a token acting for this account)
        # could lock the real owner out: one's own password changes only through /me.
        raise ValidationFailed(
            detail="password: to change your own password, use PATCH /api/staff/auth/me "
            "with current_password and new_password",
            errors=[FieldError("password", "use PATCH /api/staff/auth/me with current_password "
                               "to change your own password", "own_password")],
        )  # fmt: skip
    before = snapshot(staff)
    errors: list[FieldError] = []
    changes.update(
        _validate_fields(
            errors, name=changes.get("name"), role=changes.get("role"), locale=changes.get("locale")
        )
    )
    if "password" in changes:
        errors += check_password(
            changes["password"], live.password_policy(session), personal=(staff.email, staff.name)
        )
    _raise(errors)
    is_self = actor.staff_id == staff.id and actor.kind == "staff"
    if is_self and (
        ("role" in changes and changes["role"] != staff.role)
        or ("is_active" in changes and not changes["is_active"])
    ):
        raise Conflict(
            detail="You cannot change your own role or deactivate yourself; ask another admin",
            code="cannot_change_self",
        )
    loses_admin = (
        staff.role == Role.admin
        and staff.is_active
        and (changes.get("role", staff.role) != Role.admin or not changes.get("is_active", True))
    )
    if loses_admin and len(admins) <= 1:
        raise Conflict(
            detail="This is the last active admin; make someone else an admin first",
            code="last_admin",
        )
    for key in ("name", "role", "locale", "is_active"):
        if key in changes:
            setattr(staff, key, changes[key])
    revoke = False
    if "password" in changes:
        staff.password_hash = hash_password(changes["password"])
        staff.password_changed_at = utcnow()
        revoke = True
    if not staff.is_active or staff.role != before["role"]:
        revoke = True
    staff.updated_at = utcnow()
    session.add(staff)
    if revoke:  # takes effect at once: every other session of this account ends
        revoke_sessions(session, staff.id, keep=actor.session_id if is_self else None)  # type: ignore[arg-type]
    old, new = audit.changed(before, snapshot(staff))
    if "password" in changes:
        new["password_changed"] = True
    if new:
        audit.record(
            session,
            actor,
            "staff.update",
            target_type="staff",
            target_id=staff.id,
            before=old,
            after=new,
        )
    session.flush()
    return staff


def update_own_account(
    session: Session,
    principal: Principal,
    *,
    name: str | None = None,
    locale: str | None = None,
    current_password: str | None = None,
    new_password: str | None = None,
) -> Staff:
    """A staff member changing their own name, language or password (no staff:write needed).

    A new password needs the current one; it then ends every other session of the account.
    """
    if principal.kind != "staff" or principal.staff_id is None:
        raise PermissionDenied(
            detail="Only a logged-in staff member can change their own account", code="not_staff"
        )
    staff = get_staff(session, principal.staff_id)
    before = snapshot(staff)
    errors: list[FieldError] = []
    clean = _validate_fields(errors, name=name, locale=locale)
    name, locale = clean.get("name", name), clean.get("locale", locale)
    if new_password is not None:
        if not current_password:
            errors.append(
                FieldError("current_password", "is required to set a new password", "required")
            )
        elif not verify_password(staff.password_hash, current_password)[0]:
            errors.append(FieldError("current_password", "is not correct", "wrong_password"))
        errors += check_password(
            new_password,
            live.password_policy(session),
            field="new_password",
            personal=(staff.email, name or staff.name),
        )
    _raise(errors)
    if name is not None:
        staff.name = name
    if locale is not None:
        staff.locale = locale
    if new_password is not None:
        staff.password_hash = hash_password(new_password)
        staff.password_changed_at = utcnow()
        revoke_sessions(session, staff.id, keep=principal.session_id)  # type: ignore[arg-type]
    staff.updated_at = utcnow()
    session.add(staff)
    old, new = audit.changed(before, snapshot(staff))
    if new_password is not None:
        new["password_changed"] = True
    if new:
        audit.record(
            session, principal, "staff.update_self", target_type="staff", target_id=staff.id,
            before=old, after=new,
        )  # fmt: skip
    session.flush()
    return staff


# ------------------------------------------------------------------------- login sessions


@dataclass(frozen=True)
class Login:
    staff: Staff
    session: StaffSession


def begin_login(
    counters: CounterStore, *, email: str, ip: str | None, ip_limit: int = 10
) -> LoginAttempt:
    """The throttle in front of every password check (:mod:`api.security.login`)."""
    return login_throttle.begin_login(
        counters, email=email, ip=ip, ip_limit=ip_limit, scope="staff-login"
    )


def authenticate(
    db: Database,
    counters: CounterStore,
    attempt: LoginAttempt,
    *,
    password: str,
    user_agent: str | None,
    lifetime: timedelta,
) -> Login:
    """Check the password of an attempt and open a session. The same error for every failure,
    whether the account exists or not (no enumeration).

    The password is checked in a read-only transaction: argon2 takes tens of milliseconds,
    which must not be spent holding SQLite's write lock. The session is then opened in a write
    transaction that reads the account again (deactivated in between: refused).
    """
    with db.read() as session:
        found = session.exec(
            select(Staff.id, Staff.password_hash).where(Staff.email == attempt.email)
        ).first()
    staff_id, checked_hash = found if found else (None, None)
    ok, needs_rehash = verify_password(checked_hash, password)
    with db.transaction() as session:
        current = session.get(Staff, staff_id) if ok and staff_id is not None else None
        # Read again: deactivated, or the password changed, while argon2 ran → refused.
        if current is None or not current.is_active or current.password_hash != checked_hash:
            attempt.failed(counters)
            log.warning("staff login failed (account %s…, ip %s)", attempt.account[:12], attempt.ip)
            raise Unauthenticated(
                detail="The e-mail address or password is not correct", code="invalid_credentials"
            )
        attempt.succeeded(counters)
        now = utcnow()
        if needs_rehash:
            current.password_hash = hash_password(password)
        current.last_login_at = now
        session.add(current)
        login = StaffSession(
            id=secrets.token_urlsafe(32),
            staff_id=current.id,  # type: ignore[arg-type]
            expires_at=now + lifetime,
            ip=attempt.ip,
            user_agent=(user_agent or "")[:300] or None,
        )
        session.add(login)
        audit.record(
            session,
            principal_for_staff(current, ip=attempt.ip),
            "staff.login",
            target_type="staff",
            target_id=current.id,
        )
        session.flush()
        return Login(current, login)


def resolve_session(
    session: Session, session_id: str, *, idle: timedelta = timedelta(hours=2)
) -> tuple[Staff, StaffSession] | None:
    """The staff member of a live session: not revoked, not expired, not idle too long."""
    row = session.exec(
        select(Staff, StaffSession)
        .join(StaffSession, col(StaffSession.staff_id) == col(Staff.id))
        .where(StaffSession.id == session_id)
    ).first()
    if row is None:
        return None
    staff, login = row
    now = utcnow()
    if login.revoked_at is not None or login.expires_at <= now or not staff.is_active:
        return None
    if now - login.last_seen_at > idle + LAST_SEEN_RESOLUTION:
        return None
    if now - login.last_seen_at > LAST_SEEN_RESOLUTION:
        login.last_seen_at = now
        session.add(login)
    return staff, login


def logout(session: Session, principal: Principal) -> None:
    """End the caller's own session (a cookie login; API tokens are revoked instead)."""
    if principal.session_id is None:
        return
    session.execute(
        update(StaffSession)
        .where(col(StaffSession.id) == principal.session_id, col(StaffSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record(
        session, principal, "staff.logout", target_type="staff", target_id=principal.staff_id
    )


def purge_sessions(session: Session, *, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete login sessions that ended (expired or revoked) more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(StaffSession).where(
            or_(col(StaffSession.expires_at) < cutoff, col(StaffSession.revoked_at) < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0))


def revoke_sessions(session: Session, staff_id: int, *, keep: str | None = None) -> None:
    query = update(StaffSession).where(
        col(StaffSession.staff_id) == staff_id, col(StaffSession.revoked_at).is_(None)
    )
    if keep:
        query = query.where(col(StaffSession.id) != keep)
    session.execute(query.values(revoked_at=utcnow()))


# ------------------------------------------------------------------------- API tokens


def _hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough (no brute force possible).
    return hashlib.sha256(secret.encode()).hexdigest()


def token_snapshot(token: ApiToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "expires_at": token.expires_at,
    }


def create_token(
    session: Session,
    actor: Principal,
    *,
    name: str,
    role: str,
    expires_in_days: int | None,
    permissions: Iterable[Permission],
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its hash is kept.

    ``permissions``: the installed ones; the token's role may hold none the actor lacks."""
    errors: list[FieldError] = []
    clean = _validate_fields(
        errors, TOKEN_FIELDS, name=name, role=role, expires_in_days=expires_in_days
    )
    _raise(errors)
    name, role = clean["name"], clean["role"]
    if not all(actor.can(p) for p in permissions if p.held_by(role)):
        raise PermissionDenied(
            detail="A token cannot have more permissions than the staff member creating it",
            code="role_too_high",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash_secret(secret),
        role=role,
        created_by_id=actor.staff_id,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "token.create",
        target_type="api_token",
        target_id=token.id,
        after=token_snapshot(token),
    )
    return token, secret


def list_tokens(
    session: Session, *, offset: int = 0, limit: int = 50
) -> tuple[list[tuple[ApiToken, Staff | None]], int]:
    total = session.exec(select(func.count()).select_from(ApiToken)).one()
    rows = session.exec(
        select(ApiToken, Staff)
        .join(Staff, col(Staff.id) == col(ApiToken.created_by_id), isouter=True)
        .order_by(col(ApiToken.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [(t, s) for t, s in rows], int(total)


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(detail=f"No API token with id {token_id}", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(
            session,
            actor,
            "token.revoke",
            target_type="api_token",
            target_id=token.id,
            before=token_snapshot(token),
        )
        session.flush()
    return token


def resolve_token(session: Session, secret: str, *, ip: str | None = None) -> Principal | None:
    """The principal of a live API token, or None.

    A token acts for the staff member who created it: its rights are its own role's
    intersected with the creator's *current* role, and it stops working once the creator is
    deactivated or deleted (``created_by_id`` then becomes NULL).
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = session.exec(
        select(ApiToken, Staff)
        .join(Staff, col(Staff.id) == col(ApiToken.created_by_id), isouter=True)
        .where(ApiToken.token_hash == _hash_secret(secret))
    ).first()
    if row is None:
        return None
    token, creator = row
    now = utcnow()
    if (
        token.revoked_at is not None
        or (token.expires_at and token.expires_at <= now)
        or creator is None
        or not creator.is_active
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return Principal(
        kind="token",
        id=str(token.id),
        label=f"API token {token.name} ({token.prefix}…)",
        role=token.role,
        roles=(token.role, creator.role),
        ip=ip,
        staff_id=token.created_by_id,
    )
