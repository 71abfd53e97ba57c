"""Staff services on both databases: accounts, sessions, tokens, audit, live settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.audit import services as audit
from api.db import Database
from api.domain import permission_registry
from api.domains import DOMAINS
from api.errors import Conflict, PermissionDenied, RateLimited, Unauthenticated, ValidationFailed
from api.livesettings import services as live
from api.principal import cli_principal
from api.security.throttle import MemoryCounterStore
from api.staff import services
from api.staff.models import Staff

ADMIN = cli_principal("tests")
PW = "a long enough passphrase"

INSTALLED = permission_registry(DOMAINS)  # the permissions of the installed domains


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def create(db: Database, email: str = "Hanako.Sato@Example.JP", role: str = "marketer") -> Staff:
    with db.transaction() as s:
        return services.create_staff(
            s, ADMIN, email=email, name=" 佐藤　花子 ", role=role, password=PW
        )


def test_create_normalises_and_audits(db: Database) -> None:
    staff = create(db)
    assert staff.email == "hanako.sato@example.jp"
    assert staff.name == "佐藤\u3000花子"  # free text as typed: only the ends are trimmed
    with db.transaction() as s:
        entries, total = audit.list_entries(s, action="staff.create")
    assert total == 1 and entries[0].after and entries[0].after["email"] == staff.email
    assert "password_hash" not in (entries[0].after or {})


def test_duplicate_email_conflicts_case_insensitively(db: Database) -> None:
    create(db)
    with pytest.raises(Conflict) as info:
        create(db, email="HANAKO.SATO@example.jp")
    assert info.value.code == "email_taken"


def test_validation_reports_every_field_and_writes_nothing(db: Database) -> None:
    with pytest.raises(ValidationFailed) as info, db.transaction() as s:
        services.create_staff(
            s, ADMIN, email="not-an-email", name="", role="owner", password="123456"
        )
    fields = {e.field: e.code for e in info.value.errors}
    assert fields["email"] == "invalid_email"
    assert fields["name"] == "required"
    assert fields["role"] == "invalid_choice"
    assert "password" in fields
    with db.transaction() as s:
        assert services.list_staff(s)[1] == 0


def test_password_rules_follow_live_settings(db: Database) -> None:
    with db.transaction() as s:
        live.update(s, ADMIN, {"password.min_length": 30, "password.require_digit": True})
    with pytest.raises(ValidationFailed) as info, db.transaction() as s:
        services.create_staff(s, ADMIN, email="a@example.jp", name="A", role="viewer", password=PW)
    assert {e.code for e in info.value.errors} == {"password_too_short", "password_needs_digit"}


def login(
    db: Database, email: str, password: str = PW, counters: MemoryCounterStore | None = None
) -> services.Login:
    counters = counters or MemoryCounterStore()
    attempt = services.begin_login(counters, email=email, ip="192.0.2.1", ip_limit=1000)
    return services.authenticate(
        db, counters, attempt, password=password, user_agent="pytest", lifetime=timedelta(hours=1)
    )


def test_login_resolve_logout(db: Database) -> None:
    staff = create(db)
    result = login(db, "  HANAKO.SATO@example.jp ")
    with db.transaction() as s:
        found = services.resolve_session(s, result.session.id)
        assert found is not None and found[0].id == staff.id
        services.logout(s, services.principal_for_staff(staff, session_id=result.session.id))
    with db.transaction() as s:
        assert services.resolve_session(s, result.session.id) is None


def test_wrong_password_unknown_email_and_inactive_look_the_same(db: Database) -> None:
    staff = create(db)
    codes = set()
    for email, pw in (("hanako.sato@example.jp", "wrong password!"), ("nobody@example.jp", PW)):
        with pytest.raises(Unauthenticated) as info:
            login(db, email, pw)
        codes.add((info.value.code, info.value.detail))
    with db.transaction() as s:
        services.update_staff(s, ADMIN, staff.id, {"is_active": False})  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated) as info:
        login(db, staff.email)
    codes.add((info.value.code, info.value.detail))
    assert len(codes) == 1


def test_login_is_rate_limited_per_account_and_address(db: Database) -> None:
    create(db)
    counters = MemoryCounterStore()
    for _ in range(services.PAIR_FAILURE_LIMIT):
        with pytest.raises(Unauthenticated):
            login(db, "hanako.sato@example.jp", "nope nope nope", counters=counters)
    with pytest.raises(RateLimited):
        login(db, "hanako.sato@example.jp", counters=counters)


def test_password_change_role_change_and_deactivation_end_sessions_at_once(db: Database) -> None:
    staff = create(db)
    for change in (
        {"password": "another fine passphrase"},
        {"role": "viewer"},
        {"is_active": False},
    ):
        with db.transaction() as s:
            services.update_staff(s, ADMIN, staff.id, {"is_active": True})  # type: ignore[arg-type]
        password = "another fine passphrase" if "password" not in change else PW
        try:
            result = login(db, staff.email, password)
        except Unauthenticated:
            result = login(db, staff.email, "another fine passphrase")
        with db.transaction() as s:
            services.update_staff(s, ADMIN, staff.id, dict(change))  # type: ignore[arg-type]
        with db.transaction() as s:
            assert services.resolve_session(s, result.session.id) is None, change


def test_staff_cannot_demote_or_deactivate_themselves(db: Database) -> None:
    staff = create(db, role="admin")
    me = services.principal_for_staff(staff)
    for change in ({"role": "viewer"}, {"is_active": False}):
        with pytest.raises(Conflict), db.transaction() as s:
            services.update_staff(s, me, staff.id, change)  # type: ignore[arg-type]


def test_tokens(db: Database) -> None:
    creator = create(db, role="admin")
    actor = services.principal_for_staff(creator)
    with db.transaction() as s:
        token, secret = services.create_token(
            s, actor, name="BI export", role="viewer", expires_in_days=30, permissions=INSTALLED
        )
    assert secret.startswith("kz_") and token.prefix in secret and secret not in token.token_hash
    with db.transaction() as s:
        principal = services.resolve_token(s, secret)
    assert principal is not None and principal.kind == "token" and principal.role == "viewer"
    with db.transaction() as s:
        assert services.resolve_token(s, secret + "x") is None
        services.revoke_token(s, actor, token.id)  # type: ignore[arg-type]
    with db.transaction() as s:
        assert services.resolve_token(s, secret) is None
        entries, _ = audit.list_entries(s, action="token.")
    assert [e.action for e in entries] == ["token.revoke", "token.create"]


def test_token_cannot_exceed_its_creator(db: Database) -> None:
    marketer = services.principal_for_staff(create(db, role="marketer"))
    with pytest.raises(PermissionDenied), db.transaction() as s:
        services.create_token(
            s, marketer, name="x", role="admin", expires_in_days=None, permissions=INSTALLED
        )


def test_expired_token_is_refused(db: Database) -> None:
    from api.db import utcnow

    actor = services.principal_for_staff(create(db, role="admin"))
    with db.transaction() as s:
        token, secret = services.create_token(
            s, actor, name="t", role="viewer", expires_in_days=1, permissions=INSTALLED
        )
        token.expires_at = utcnow() - timedelta(seconds=1)
        s.add(token)
    with db.transaction() as s:
        assert services.resolve_token(s, secret) is None


def test_live_settings_validate_all_or_nothing(db: Database) -> None:
    with pytest.raises(ValidationFailed) as info, db.transaction() as s:
        live.update(s, ADMIN, {"mail.sender_name": "営業部", "password.min_length": 3, "nope": 1,
                               "mail.sender_address": "bad"})  # fmt: skip
    assert {e.field for e in info.value.errors} == {
        "password.min_length",
        "nope",
        "mail.sender_address",
    }
    with db.transaction() as s:
        assert live.get(s, "mail.sender_name") == "Kizuna"
        live.update(
            s, ADMIN, {"mail.sender_name": "ｷｽﾞﾅ 営業部", "mail.sender_address": "Sales@Example.JP"}
        )
    with db.transaction() as s:
        assert live.get(s, "mail.sender_name") == "ｷｽﾞﾅ 営業部"  # free text: stored as typed
        assert live.get(s, "mail.sender_address") == "sales@example.jp"
        entries, _ = audit.list_entries(s, action="settings.update")
    assert entries[0].before == {
        "mail.sender_name": "Kizuna",
        "mail.sender_address": "no-reply@example.jp",
    }


def test_idle_sessions_end(db: Database) -> None:
    from api.db import utcnow
    from api.staff.models import StaffSession

    create(db)
    result = login(db, "hanako.sato@example.jp")
    with db.transaction() as s:
        assert services.resolve_session(s, result.session.id, idle=timedelta(hours=2)) is not None
        row = s.get(StaffSession, result.session.id)
        assert row is not None
        row.last_seen_at = utcnow() - timedelta(hours=3)
        s.add(row)
    with db.transaction() as s:
        assert services.resolve_session(s, result.session.id, idle=timedelta(hours=2)) is None
        assert services.resolve_session(s, result.session.id, idle=timedelta(hours=4)) is not None


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db: Database) -> None:
    only = create(db, email="only@example.jp", role="admin")
    token_actor = cli_principal("an API token")  # not the admin themself
    for change in ({"role": "viewer"}, {"is_active": False}):
        with pytest.raises(Conflict) as info, db.transaction() as s:
            services.update_staff(s, token_actor, only.id, change)  # type: ignore[arg-type]
        assert info.value.code == "last_admin"
    create(db, email="second@example.jp", role="admin")
    with db.transaction() as s:
        services.update_staff(s, token_actor, only.id, {"role": "viewer"})  # type: ignore[arg-type]


def test_housekeeping_purges_long_ended_sessions(db: Database, runtime: object) -> None:
    from api.db import utcnow
    from api.staff.models import StaffSession
    from api.workers.janitor import housekeeping

    create(db)
    old, live_one = login(db, "hanako.sato@example.jp"), login(db, "hanako.sato@example.jp")
    with db.transaction() as s:
        row = s.get(StaffSession, old.session.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(days=31)
        s.add(row)
    from api.staff.domain import DOMAIN

    removed = housekeeping(runtime, DOMAIN.housekeeping)  # type: ignore[arg-type]
    assert removed["expired staff sessions"] == 1
    with db.transaction() as s:
        assert s.get(StaffSession, old.session.id) is None
        assert s.get(StaffSession, live_one.session.id) is not None
