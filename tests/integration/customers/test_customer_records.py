"""Records: validation per field, optimistic concurrency, history in its own table, owners and
statuses, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.errors import Conflict, PermissionDenied, ValidationFailed
from api.principal import Principal
from api.staff.models import Staff
from api.staff.services import principal_for_staff


@pytest.fixture
def customers(db: Database, actor: Principal) -> str:
    with db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table(
                {
                    "key": "customers",
                    "statuses": ["lead", "customer", "lost"],
                    "transitions": {"lead": ["customer", "lost"], "customer": ["lost"]},
                    "owner_only": True,
                }
            ),
            [
                parse_field({"key": "name", "type": "text", "required": True, "max_length": 20}),
                parse_field({"key": "email", "type": "email", "unique": True}),
                parse_field(
                    {
                        "key": "plan",
                        "type": "select",
                        "choices": ["free", "gold"],
                        "default": "free",
                    }
                ),
                parse_field({"key": "score", "type": "integer", "min": 0, "max": 100}),
            ],
        )
    return "customers"


def test_values_are_validated_per_field_and_all_errors_are_listed(
    db: Database, actor: Principal, customers: str
) -> None:
    with pytest.raises(ValidationFailed) as refused, db.transaction() as session:
        records.create_record(
            session,
            actor,
            customers,
            {
                "name": "x" * 21,
                "email": "not-an-address",
                "plan": "platinum",
                "score": 101,
                "nope": 1,
            },
        )
    codes = {e.field: e.code for e in refused.value.errors}
    assert codes == {
        "values.nope": "unknown_field",
        "values.name": "too_long",
        "values.email": "invalid_email",
        "values.plan": "invalid_choice",
        "values.score": "too_large",
    }
    with pytest.raises(ValidationFailed) as required, db.transaction() as session:
        records.create_record(session, actor, customers, {"email": "a@example.jp"})
    assert [(e.field, e.code) for e in required.value.errors] == [("values.name", "required")]
    with db.transaction() as session:
        created = records.create_record(session, actor, customers, {"name": "A"})
    assert created["values"]["plan"] == "free"  # the field's default
    assert created["status"] == "lead" and created["version"] == 1
    assert len(created["public_id"]) == 32


def test_an_edit_of_an_old_version_is_a_409_saying_what_changed(
    db: Database, actor: Principal, customers: str, make_staff: Callable[..., Staff]
) -> None:
    marketer = principal_for_staff(make_staff("marketer", name="Hanako"))
    with db.transaction() as session:
        record = records.create_record(session, actor, customers, {"name": "A", "score": 1})
    with db.transaction() as session:  # someone else saves first
        records.update_record(
            session, marketer, customers, record["id"], {"score": 2, "name": "B"}, version=1
        )
    with pytest.raises(Conflict) as stale, db.transaction() as session:
        records.update_record(session, actor, customers, record["id"], {"score": 3}, version=1)
    error = stale.value
    assert error.code == "record_changed" and "version 1, now 2" in error.detail
    changed = {e.field: e.params for e in error.errors}
    assert set(changed) == {"values.score", "values.name"}
    assert changed["values.score"]["current"] == 2  # type: ignore[index]
    assert "Hanako" in changed["values.name"]["by"]  # type: ignore[index]
    with db.read() as session:  # nothing was overwritten
        assert records.get_record(session, actor, customers, record["id"])["values"]["score"] == 2
    with db.transaction() as session:  # with the current version it goes through
        done = records.update_record(
            session, actor, customers, record["id"], {"score": 3}, version=2
        )
    assert done["version"] == 3
    with pytest.raises(Conflict), db.transaction() as session:
        records.delete_record(session, actor, customers, record["id"], version=2)


def test_every_change_is_kept_in_the_record_history(
    db: Database, actor: Principal, customers: str, make_staff: Callable[..., Staff]
) -> None:
    staff = principal_for_staff(make_staff("marketer", name="Hanako"))
    with db.transaction() as session:
        record = records.create_record(
            session, staff, customers, {"name": "A", "email": "a@example.jp"}, source="admin"
        )
        records.update_record(
            session,
            actor,
            customers,
            record["id"],
            {"name": "B", "email": "a@example.jp"},
            version=1,
            source="import",
        )
        records.update_record(
            session, actor, customers, record["id"], {"name": "B"}, version=2
        )  # no change
        records.update_record(
            session,
            staff,
            customers,
            record["id"],
            {},
            version=2,
            status="customer",
            source="admin",
        )
        records.delete_record(session, staff, customers, record["id"], source="admin")
    with db.read() as session:
        history = records.list_history(session, customers, record["id"])
        for entry in history:
            session.expunge(entry)  # read as they are, after the read-only transaction ends
    assert [(h.action, h.source, h.version) for h in history] == [
        ("delete", "admin", 4),
        ("update", "admin", 3),
        ("update", "import", 2),
        ("create", "admin", 1),
    ]
    delete, status, rename, create = history
    assert create.actor_type == "staff" and "Hanako" in create.actor_label
    assert create.changes["name"] == {"before": None, "after": "A"}
    assert create.changes["status"] == {"before": None, "after": "lead"}
    assert rename.changes == {"name": {"before": "A", "after": "B"}}  # e-mail unchanged: not listed
    assert rename.actor_label == "tests"
    assert status.changes == {"status": {"before": "lead", "after": "customer"}}
    assert delete.changes["name"] == {"before": "B", "after": None}
    # Its own 64-bit-keyed table, not the audit log.
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customer_history")).scalar_one() == 4
        logged = conn.execute(
            sa.text("SELECT count(*) FROM audit_log WHERE action LIKE 'customers.record%'")
        )
        assert logged.scalar_one() == 0


def test_statuses_and_their_transitions(db: Database, actor: Principal, customers: str) -> None:
    with db.transaction() as session:
        record = records.create_record(session, actor, customers, {"name": "A"}, status="customer")
        with pytest.raises(ValidationFailed) as back:
            records.update_record(
                session, actor, customers, record["id"], {}, version=1, status="lead"
            )
        assert back.value.errors[0].code == "transition_not_allowed"
        with pytest.raises(ValidationFailed) as unknown:
            records.create_record(session, actor, customers, {"name": "B"}, status="vip")
        assert unknown.value.errors[0].code == "invalid_choice"


def test_sales_edit_only_their_own_records_and_see_only_them_in_owner_only_tables(
    db: Database, actor: Principal, customers: str, make_staff: Callable[..., Staff]
) -> None:
    rep = make_staff("sales")
    other = make_staff("sales")
    sales = principal_for_staff(rep)
    with db.transaction() as session:
        mine = records.create_record(session, sales, customers, {"name": "Mine"})
        theirs = records.create_record(
            session, actor, customers, {"name": "Theirs"}, owner_id=other.id
        )
    assert mine["owner_id"] == rep.id  # a sales rep's new record is theirs
    with db.transaction() as session:
        listed = records.list_records(session, sales, customers)
        assert [r["id"] for r in listed.items] == [mine["id"]]
        assert len(records.list_records(session, actor, customers).items) == 2
        records.update_record(session, sales, customers, mine["id"], {"name": "Mine 2"}, version=1)
    with pytest.raises(PermissionDenied), db.transaction() as session:
        records.create_record(session, sales, customers, {"name": "X"}, owner_id=other.id)
    with pytest.raises(ValidationFailed) as inactive, db.transaction() as session:
        records.create_record(session, actor, customers, {"name": "X"}, owner_id=99999)
    assert inactive.value.errors[0].field == "owner_id"
    # Not owner-only: they see every record but still edit only their own.
    with db.transaction() as session:
        design = services.load_design(session, customers)
        services.update_table(
            session,
            actor,
            customers,
            type(design.spec)(**{**design.spec.__dict__, "owner_only": False}),
        )
        assert len(records.list_records(session, sales, customers).items) == 2
    with pytest.raises(PermissionDenied), db.transaction() as session:
        records.update_record(session, sales, customers, theirs["id"], {"name": "Y"}, version=1)


def test_keyset_pages_walk_every_record_once(
    db: Database, actor: Principal, customers: str
) -> None:
    with db.transaction() as session:
        made = [
            records.create_record(session, actor, customers, {"name": f"n{i}"})["id"]
            for i in range(7)
        ]
    seen: list[int] = []
    cursor = None
    with db.read() as session:
        while True:
            page = records.list_records(session, actor, customers, cursor=cursor, limit=3)
            seen += [r["id"] for r in page.items]
            assert page.total.value == 7 and page.total.exact
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        back = records.list_records(session, actor, customers, cursor=page.prev_cursor, limit=3)
    assert seen == sorted(made, reverse=True)
    assert [r["id"] for r in back.items] == seen[3:6]


def _at_once(count: int, work: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)
    results: list[str] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results.append(work(n))
        except Conflict as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_concurrent_writes_end_in_one_success_and_409s_never_a_500(
    db: Database, actor: Principal, customers: str
) -> None:
    with db.transaction() as session:
        record = records.create_record(session, actor, customers, {"name": "A"})

    def edit(n: int) -> str:
        with db.transaction() as session:
            records.update_record(session, actor, customers, record["id"], {"score": n}, version=1)
        return "ok"

    assert _at_once(4, edit) == ["ok", "record_changed", "record_changed", "record_changed"]

    def create(n: int) -> str:
        with db.transaction() as session:
            records.create_record(
                session, actor, customers, {"name": f"n{n}", "email": "same@example.jp"}
            )
        return "ok"

    assert _at_once(8, create) == ["email_taken"] * 7 + ["ok"]
