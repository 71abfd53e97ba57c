"""Member log-in: accounts of member-table records, refresh sessions, staff actions. No HTTP.

- A **member** is a record of the member table (``is_member_table``); their log-in address is
  the field keyed ``email``, or else the table's first e-mail field, matched after the same
  normalisation every write applies (:func:`api.security.login.login_address`).
- The **account** (``member_account``) holds the argon2id hash and the state (active /
  suspended); a record without one cannot log in until staff set a password (self-service
  registration and reset come with the member-site issue).
- A **log-in** opens a refresh session (``member_session``): a random id and a secret whose
  SHA-256 is kept. The access token (:mod:`api.members.identity`) is renewed from it.
- Log-in goes through the shared throttle (:mod:`api.security.login`), scope
  ``member-login``, and gives one answer for an unknown address, a wrong password, an account
  without a password and a suspended one, after the same argon2 work (a dummy hash verify).
- Ending sessions and changing a member announce it to the token caches after the commit
  (:mod:`api.security.revocation`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.access.rules import Member
from api.audit import services as audit
from api.customers import records
from api.customers.models import CustomerTable
from api.customers.services import Design, delete_orphans
from api.customers.types import FieldType, column_name
from api.customers.values import to_json
from api.db import Database, utcnow
from api.errors import Conflict, FieldError, NotFound, Unauthenticated, ValidationFailed
from api.groups import services as groups
from api.members import rules
from api.members.models import MemberAccount, MemberEvent, MemberSession
from api.principal import Principal
from api.security import login as throttle
from api.security import revocation
from api.security.passwords import hash_password, verify_password
from api.security.throttle import CounterStore

log = logging.getLogger(__name__)

SCOPE = "member-login"
# last_used_at of a session is written at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID = "The e-mail address or password is not correct"


# ------------------------------------------------------------------ the member table


def member_design(session: Session) -> Design:
    """The member table's design (409 ``no_member_table`` without one)."""
    return groups.member_design(session)


def login_field(design: Design) -> str:
    """The key of the member table's log-in address: ``email``, or its first e-mail field."""
    active = [spec for _, spec in design.active()]
    for spec in active:
        if spec.key == "email":
            return spec.key
    for spec in active:
        if spec.type == FieldType.email:
            return spec.key
    raise Conflict(
        detail=f"The member table {design.key} has no e-mail field to log in with",
        code="no_login_field",
    )


def _find_record(session: Session, design: Design, address: str) -> int | None:
    table = design.sa_table()
    column = table.c[column_name(login_field(design))]
    row = session.connection().execute(sa.select(table.c.id).where(column == address)).first()
    return int(row[0]) if row else None


def _record(session: Session, design: Design, record_id: int) -> Any:
    table = design.sa_table()
    return session.connection().execute(sa.select(table).where(table.c.id == record_id)).first()


def _account(session: Session, table_id: int, record_id: int) -> MemberAccount | None:
    return session.exec(
        select(MemberAccount).where(
            MemberAccount.table_id == table_id, MemberAccount.record_id == record_id
        )
    ).first()


# ------------------------------------------------------------------ what a token carries


@dataclass(frozen=True)
class MemberClaims:
    """What an access token says about a member, read from the database."""

    record_id: int
    session_id: str
    groups: tuple[str, ...]
    fields: dict[str, Any]


def claims_of(
    session: Session,
    design: Design,
    record_id: int,
    session_id: str,
    fields: Sequence[str],
    row: Any = None,
) -> MemberClaims | None:
    """The member's groups and the values of ``fields`` (those some rule reads); None when the
    record is gone. A field the table does not have is carried as null. ``row``: the record's
    row when the caller has just read it in this session."""
    if row is None:
        row = _record(session, design, record_id)
    if row is None:
        return None
    keys = groups.groups_of(session, design.table.id or 0, [record_id]).get(record_id, [])
    return MemberClaims(record_id, session_id, tuple(keys), _values_of(design, row, fields))


def _values_of(design: Design, row: Any, fields: Sequence[str]) -> dict[str, Any]:
    data = row._mapping
    values: dict[str, Any] = {}
    for key in fields:
        spec = design.specs.get(key)
        if spec is None or design.field_row(key).retired_at is not None:
            values[key] = None
            continue
        values[key] = to_json(spec, data.get(column_name(key)))
    return values


def member_of(
    session: Session, record_id: int, fields: Sequence[str] | None = None
) -> Member | None:
    """The rule's view of a member read from the database ("view as" in the admin, tools):
    their groups and the values of ``fields`` (default: every active field); ``active`` is
    false for a suspended account. None when the record is not in the member table."""
    design = member_design(session)
    keys = list(fields) if fields is not None else [spec.key for _, spec in design.active()]
    claims = claims_of(session, design, record_id, "", keys)
    if claims is None:
        return None
    account = _account(session, design.table.id or 0, record_id)
    active = account is None or account.status == "active"
    groups = frozenset(claims.groups)
    return Member(id=record_id, active=active, groups=groups, fields=claims.fields)


def profile(session: Session, record_id: int) -> dict[str, Any] | None:
    """``{id, name, email}`` of a member for ``GET /api/members/me`` (id: the record's
    random ``public_id``)."""
    design = member_design(session)
    row = _record(session, design, record_id)
    return None if row is None else _profile_of(design, row)


def _profile_of(design: Design, row: Any) -> dict[str, Any]:
    data = row._mapping
    email = data.get(column_name(login_field(design)))
    return {
        "id": str(data["public_id"]),
        "name": groups.record_label(design, row),
        "email": email,
    }


# ------------------------------------------------------------------ log-in


def begin_login(
    counters: CounterStore, *, email: str, ip: str | None, ip_limit: int = 10
) -> throttle.LoginAttempt:
    return throttle.begin_login(counters, email=email, ip=ip, ip_limit=ip_limit, scope=SCOPE)


@dataclass(frozen=True)
class Login:
    claims: MemberClaims
    session_id: str
    refresh: str  # the refresh cookie's value: "<session id>.<secret>", given out once
    profile: dict[str, Any] | None = None  # what profile() says, read in the same transaction


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class _Candidate:
    """What the read before the password check found for an address: the member's record (row
    and groups, for the token's claims and the profile) and their account."""

    design: Design
    record_id: int
    account_id: int
    password_hash: str | None
    row: Any
    groups: tuple[str, ...]
    still: sa.Update  # the write that opens the session (_login_statements)


ACCOUNT = MemberAccount.__table__  # type: ignore[attr-defined]
SESSION = MemberSession.__table__  # type: ignore[attr-defined]
EVENT = MemberEvent.__table__  # type: ignore[attr-defined]
TABLE = CustomerTable.__table__  # type: ignore[attr-defined]
INSERT_SESSION = sa.insert(SESSION)
INSERT_EVENT = sa.insert(EVENT)


@functools.lru_cache(maxsize=64)
def _login_statements(table: sa.Table, address: str) -> tuple[sa.Select[Any], sa.Update]:
    """The log-in's two statements for a member table (its Core table is shared while its
    columns stay the same) and its address column: built once, so SQLAlchemy neither builds
    nor compiles them per log-in.

    - find: the record with that address, its account, and its groups (one row per group,
      in key order; one row with a null group when it is in none);
    - open: the account's last log-in, only while it is still active with the hash that was
      checked, its record still there and its table still the member table.
    """
    membership, group = groups.MEMBERSHIP, groups.GROUP
    find = (
        sa.select(
            table,
            ACCOUNT.c.id.label("_account_id"),
            ACCOUNT.c.password_hash.label("_hash"),
            group.c.key.label("_group"),
        )
        .join(ACCOUNT, ACCOUNT.c.record_id == table.c.id)
        .outerjoin(
            membership,
            sa.and_(
                membership.c.table_id == ACCOUNT.c.table_id,
                membership.c.record_id == table.c.id,
            ),
        )
        .outerjoin(group, group.c.id == membership.c.group_id)
        .where(
            table.c[address] == sa.bindparam("address"),
            ACCOUNT.c.table_id == sa.bindparam("table_id"),
        )
        .order_by(table.c.id, group.c.key)
    )
    still = (
        sa.update(ACCOUNT)
        .where(
            ACCOUNT.c.id == sa.bindparam("b_account"),
            ACCOUNT.c.status == "active",
            ACCOUNT.c.password_hash == sa.bindparam("b_hash"),
            ACCOUNT.c.table_id == sa.bindparam("b_table"),
            sa.exists().where(table.c.id == sa.bindparam("b_record")),
            sa.exists().where(
                TABLE.c.id == sa.bindparam("b_table"),
                TABLE.c.is_member_table.is_(True),
                TABLE.c.retired_at.is_(None),
            ),
        )
        .values(
            last_login_at=sa.bindparam("b_at"),
            failed_attempts=0,
            updated_at=sa.bindparam("b_at"),
        )
    )
    return find, still


def _candidate(session: Session, address: str) -> _Candidate | None:
    """The member record whose log-in address is ``address`` and its account, in one query;
    None when there is no such record, it has no account, or there is no member table."""
    try:
        design = member_design(session)
        key = login_field(design)
    except Conflict:  # no member table or no e-mail field: nobody can log in
        return None
    find, still = _login_statements(design.sa_table(), column_name(key))
    rows = session.connection().execute(find, {"address": address, "table_id": design.table.id})
    found = rows.fetchall()
    if not found:
        return None
    data = found[0]._mapping
    record_id = int(data["id"])
    keys = tuple(
        str(r._mapping["_group"])
        for r in found
        if r._mapping["id"] == record_id and r._mapping["_group"] is not None
    )
    return _Candidate(
        design, record_id, int(data["_account_id"]), data["_hash"], found[0], keys, still
    )


def authenticate(
    db: Database,
    counters: CounterStore,
    attempt: throttle.LoginAttempt,
    *,
    password: str,
    user_agent: str | None,
    lifetime: timedelta,
    fields: Sequence[str],
) -> Login:
    """Check the password of an attempt and open a session. The same error for every failure.

    As for staff: the password is checked outside the write transaction (argon2 must not hold
    SQLite's write lock), against the hash a read found (a dummy one when there is none); the
    write transaction opens the session only when the account is still active, with that same
    hash, its record still there and its table still the member table (suspended, the password
    changed, the record deleted meanwhile: refused). The token's claims and the profile come
    from the read: a change to the member committed after it stamps the member, and the token,
    dated before the read (``issued_ms``), is then stale and renewed.
    """
    with db.read() as session:
        found = _candidate(session, attempt.email)
    ok, needs_rehash = verify_password(found.password_hash if found else None, password)
    login = None
    if ok and found is not None:
        with db.transaction() as session:
            login = _open_session(session, found, attempt, password, needs_rehash, user_agent,
                                  lifetime, fields)  # fmt: skip
    if login is None:
        attempt.failed(counters)
        with db.transaction() as session:
            # The same statement whether or not there is an account (it then matches nothing).
            session.execute(
                sa.update(MemberAccount)
                .where(col(MemberAccount.id) == (found.account_id if found else -1))
                .values(
                    failed_attempts=col(MemberAccount.failed_attempts) + 1, last_failed_at=utcnow()
                )
            )
        log.warning("member login failed (account %s…, ip %s)", attempt.account[:12], attempt.ip)
        raise Unauthenticated(detail=INVALID, code="invalid_credentials")
    attempt.succeeded(counters)
    return login


def _open_session(
    session: Session,
    found: _Candidate,
    attempt: throttle.LoginAttempt,
    password: str,
    needs_rehash: bool,
    user_agent: str | None,
    lifetime: timedelta,
    fields: Sequence[str],
) -> Login | None:
    """Open the session of a checked log-in (last log-in, rehash): None when the account, its
    record or the member table changed since the read. A few Core statements: no ORM objects."""
    design, conn, now = found.design, session.connection(), utcnow()
    table_id = design.table.id
    changed = conn.execute(
        found.still,
        {
            "b_account": found.account_id,
            "b_hash": found.password_hash,
            "b_table": table_id,
            "b_record": found.record_id,
            "b_at": now,
        },
    )
    if changed.rowcount != 1:
        return None
    if needs_rehash:  # the hashing parameters changed since this hash was made
        conn.execute(
            sa.update(ACCOUNT)
            .where(ACCOUNT.c.id == found.account_id)
            .values(password_hash=hash_password(password))
        )
    secret, session_id = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    conn.execute(
        INSERT_SESSION,
        {
            "id": session_id,
            "account_id": found.account_id,
            "secret_hash": _secret_hash(secret),
            "created_at": now,
            "last_used_at": now,
            "expires_at": now + lifetime,
            "revoked_at": None,
            "ip": attempt.ip,
            "user_agent": (user_agent or "")[:300] or None,
        },
    )
    # The funnel's "logged in" (api.members.site.funnel).
    conn.execute(
        INSERT_EVENT,
        {"kind": "logged_in", "table_id": table_id, "record_id": found.record_id, "at": now},
    )
    values = _values_of(design, found.row, fields)
    claims = MemberClaims(found.record_id, session_id, found.groups, values)
    return Login(claims, session_id, f"{session_id}.{secret}", _profile_of(design, found.row))


def split_refresh(value: str | None) -> tuple[str, str] | None:
    if not value or len(value) > 200 or "." not in value:
        return None
    session_id, _, secret = value.partition(".")
    if not session_id or not secret:
        return None
    return session_id, secret


def renew(db: Database, refresh: str, fields: Sequence[str]) -> MemberClaims | None:
    """The member behind a refresh cookie, read afresh (groups, fields), or None when the
    session is unknown, revoked, expired, or its member suspended or gone."""
    parts = split_refresh(refresh)
    if parts is None:
        return None
    session_id, secret = parts
    with db.transaction() as session:
        login = session.get(MemberSession, session_id)
        if login is None or not hmac.compare_digest(login.secret_hash, _secret_hash(secret)):
            return None
        now = utcnow()
        if login.revoked_at is not None or login.expires_at <= now:
            return None
        account = session.get(MemberAccount, login.account_id)
        if account is None or account.status != "active":
            return None
        try:
            design = member_design(session)
        except Conflict:
            return None
        if design.table.id != account.table_id:
            return None
        claims = claims_of(session, design, account.record_id, login.id, fields)
        if claims is None:
            return None
        if now - login.last_used_at > LAST_USED_RESOLUTION:
            login.last_used_at = now
            session.add(login)
        return claims


def logout(session: Session, refresh: str | None, session_id: str | None = None) -> bool:
    """End a member's own session: the one its refresh cookie proves, else the one its
    verified access token names (``session_id``). False when there was none to end."""
    sid = None
    parts = split_refresh(refresh)
    if parts is not None:
        login = session.get(MemberSession, parts[0])
        if login is not None and hmac.compare_digest(login.secret_hash, _secret_hash(parts[1])):
            sid = login.id
    sid = sid or session_id
    login = session.get(MemberSession, sid) if sid else None
    if login is None or login.revoked_at is not None:
        return False
    login.revoked_at = utcnow()
    session.add(login)
    revocation.sessions_revoked(session, [login.id])
    return True


def purge_sessions(session: Session, *, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete sessions that ended (expired or revoked) more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    result = session.execute(
        sa.delete(MemberSession).where(
            sa.or_(col(MemberSession.expires_at) < cutoff, col(MemberSession.revoked_at) < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0))


def sweep_accounts(session: Session) -> int:
    """Housekeeping: delete the accounts (and so the sessions) of records that are gone."""
    return delete_orphans(session, MemberAccount.__table__)  # type: ignore[attr-defined]


def end_sessions(session: Session, account_id: int, *, keep: str | None = None) -> list[str]:
    """Revoke every live session of an account (but ``keep``, the caller's own), announced to
    the token caches after the commit; returns the ids ended. The one place sessions end in
    bulk: log-out everywhere, password change or reset, suspension, withdrawal, merge."""
    ids = [
        s
        for s in session.exec(
            select(MemberSession.id).where(
                MemberSession.account_id == account_id,
                col(MemberSession.revoked_at).is_(None),
            )
        ).all()
        if s != keep
    ]
    if ids:
        session.execute(
            sa.update(MemberSession)
            .where(col(MemberSession.id).in_(ids))
            .values(revoked_at=utcnow())
        )
        revocation.sessions_revoked(session, ids)
    return ids


# ------------------------------------------------------------------ staff, on the record


@dataclass(frozen=True)
class AccountState:
    record_id: int
    table: str
    login_field: str | None
    email: str | None
    account: MemberAccount | None
    sessions: list[MemberSession]


def _target(
    session: Session, actor: Principal, record_id: int, *, lock: bool = False
) -> tuple[Design, Any]:
    design = member_design(session)
    row = records._fetch(session, design, actor, record_id, lock=lock)
    return design, row


def account_state(session: Session, actor: Principal, record_id: int) -> AccountState:
    """A member's log-in state for the record screen (404 for a record the actor cannot see)."""
    design, row = _target(session, actor, record_id)
    try:
        key: str | None = login_field(design)
    except Conflict:
        key = None
    account = _account(session, design.table.id or 0, record_id)
    sessions: list[MemberSession] = []
    if account is not None:
        now = utcnow()
        sessions = list(
            session.exec(
                select(MemberSession)
                .where(
                    MemberSession.account_id == account.id,
                    col(MemberSession.revoked_at).is_(None),
                    col(MemberSession.expires_at) > now,
                )
                .order_by(col(MemberSession.last_used_at).desc())
            ).all()
        )
    email = row._mapping.get(column_name(key)) if key else None
    return AccountState(record_id, design.key, key, email, account, sessions)


def _account_for_change(
    session: Session, actor: Principal, record_id: int
) -> tuple[Design, Any, MemberAccount]:
    design, row = _target(session, actor, record_id, lock=True)
    records._can_write(design, actor, row)
    account = session.exec(
        select(MemberAccount)
        .where(MemberAccount.table_id == design.table.id, MemberAccount.record_id == record_id)
        .with_for_update()
    ).first()
    if account is None:
        account = MemberAccount(table_id=design.table.id or 0, record_id=record_id)
        session.add(account)
        session.flush()
    return design, row, account


def set_password(session: Session, actor: Principal, record_id: int, password: str) -> AccountState:
    """Staff set a member's password: every session of the member ends."""
    design, row, account = _account_for_change(session, actor, record_id)
    key = login_field(design)
    email = row._mapping.get(column_name(key))
    name = groups.record_label(design, row)
    # The members' password rules (api.members.rules), not the staff's.
    rules.check(session, password, personal=(str(email or ""), name))
    now = utcnow()
    account.password_hash = hash_password(password)
    account.password_changed_at = now
    account.failed_attempts = 0
    account.updated_at = now
    session.add(account)
    ended = end_sessions(session, account.id or 0)
    revocation.members_changed(session, [record_id])
    audit.record(
        session, actor, "members.password.set", target_type="member", target_id=record_id,
        after={"table": design.key, "sessions_ended": len(ended)},
    )  # fmt: skip
    session.flush()
    return account_state(session, actor, record_id)


def set_status(session: Session, actor: Principal, record_id: int, status: str) -> AccountState:
    """Suspend (every session ends, cached tokens stop working) or reactivate a member."""
    if status not in ("active", "suspended"):
        raise ValidationFailed(
            detail="status: must be active or suspended",
            errors=[FieldError("status", "must be active or suspended", "invalid_choice")],
        )
    _, _, account = _account_for_change(session, actor, record_id)
    before = account.status
    if before == status:
        return account_state(session, actor, record_id)
    now = utcnow()
    account.status = status
    account.suspended_at = now if status == "suspended" else None
    account.updated_at = now
    session.add(account)
    ended = end_sessions(session, account.id or 0) if status == "suspended" else []
    revocation.members_changed(session, [record_id])
    audit.record(
        session, actor, "members.suspend" if status == "suspended" else "members.reactivate",
        target_type="member", target_id=record_id,
        before={"status": before}, after={"status": status, "sessions_ended": len(ended)},
    )  # fmt: skip
    session.flush()
    return account_state(session, actor, record_id)


def end_session(session: Session, actor: Principal, record_id: int, session_id: str) -> None:
    """Staff end one of a member's sessions (log them out on that device)."""
    design, _, account = _account_for_change(session, actor, record_id)
    login = session.get(MemberSession, session_id)
    if login is None or login.account_id != account.id:
        raise NotFound(detail="The member has no such session", code="session_not_found")
    if login.revoked_at is None:
        login.revoked_at = utcnow()
        session.add(login)
        revocation.sessions_revoked(session, [login.id])
        audit.record(
            session, actor, "members.session.end", target_type="member", target_id=record_id,
            after={"table": design.key, "session_created_at": login.created_at.isoformat()},
        )  # fmt: skip


def end_all_sessions(session: Session, actor: Principal, record_id: int) -> int:
    design, _, account = _account_for_change(session, actor, record_id)
    ended = end_sessions(session, account.id or 0)
    if ended:
        audit.record(
            session, actor, "members.session.end_all", target_type="member",
            target_id=record_id, after={"table": design.key, "count": len(ended)},
        )  # fmt: skip
    return len(ended)


def ensure_account(
    session: Session, actor: Principal, record_id: int, password: str, *, check: bool = True
) -> MemberAccount:
    """The demo's and tests' way to give a record a password without the policy's checks
    (``check=False``) or with them."""
    if check:
        set_password(session, actor, record_id, password)
        design = member_design(session)
        found = _account(session, design.table.id or 0, record_id)
        assert found is not None
        return found
    _, _, account = _account_for_change(session, actor, record_id)
    account.password_hash = hash_password(password)
    account.password_changed_at = utcnow()
    session.add(account)
    session.flush()
    return account
