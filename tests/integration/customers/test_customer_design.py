"""Designing tables and fields: real tables with one typed column per field, changed by the app
on SQLite and PostgreSQL, with the database enforcing unique and reference constraints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import select

import api.models
from api.audit.models import AuditEntry
from api.customers import physical, records, services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.errors import Conflict, NotFound, ValidationFailed
from api.principal import Principal

EVERY_TYPE: list[dict[str, Any]] = [
    {"key": "name", "type": "text", "required": True},
    {"key": "notes", "type": "long_text"},
    {"key": "visits", "type": "integer"},
    {"key": "spent", "type": "decimal", "scale": 2},
    {"key": "born", "type": "date"},
    {"key": "last_seen", "type": "datetime"},
    {"key": "vip", "type": "boolean"},
    {"key": "prefecture", "type": "select", "choices": ["東京都", "大阪府"]},
    {"key": "interests", "type": "multi_select", "choices": ["a", "b", "c"], "indexed": True},
    {"key": "email", "type": "email", "unique": True},
    {"key": "phone", "type": "phone"},
    {"key": "site", "type": "url"},
    {"key": "zip", "type": "postal_code"},
    {"key": "kana", "type": "furigana"},
    {"key": "company", "type": "reference", "references": "companies"},
]

# The column each type gets, as SQLAlchemy reflects it (generic type classes).
EXPECTED_COLUMN = {
    "name": sa.Text,
    "notes": sa.Text,
    "visits": sa.BigInteger,  # SQLite reflects BIGINT as BIGINT too
    "spent": sa.Numeric,
    "born": sa.Date,
    "last_seen": sa.DateTime,
    "vip": sa.Boolean,
    "prefecture": sa.Text,
    "email": sa.Text,
    "phone": sa.Text,
    "site": sa.Text,
    "zip": sa.Text,
    "kana": sa.Text,
}


def make_tables(db: Database, actor: Principal) -> None:
    with db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "companies", "label": {"ja": "会社", "en": "Companies"}}),
            [parse_field({"key": "name", "type": "text"})],
        )
        services.create_table(
            session,
            actor,
            parse_table({"key": "customers", "label": "顧客"}),
            [parse_field(f) for f in EVERY_TYPE],
        )


def columns(db: Database, table: str) -> dict[str, Any]:
    return {c["name"]: c for c in sa.inspect(db.engine).get_columns(table)}


def raw(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).all())


def test_every_field_type_gets_a_real_typed_column(db: Database, actor: Principal) -> None:
    make_tables(db, actor)
    cols = columns(db, "ct_customers")
    assert {"id", "public_id", "owner_id", "status", "created_at", "updated_at", "version"} <= set(
        cols
    )
    for key, expected in EXPECTED_COLUMN.items():
        assert isinstance(cols[f"c_{key}"]["type"], expected), (key, cols[f"c_{key}"]["type"])
        assert cols[f"c_{key}"]["nullable"]
    spent = cols["c_spent"]["type"]
    assert (spent.precision, spent.scale) == (18, 2)
    # multi-select: JSONB on PostgreSQL, JSON on SQLite; reference: a 64-bit key
    assert type(cols["c_interests"]["type"]).__name__ in {"JSONB", "JSON"}
    assert isinstance(cols["c_company"]["type"], sa.Integer)
    fks = sa.inspect(db.engine).get_foreign_keys("ct_customers")
    by_column = {tuple(fk["constrained_columns"]): fk for fk in fks}
    assert by_column[("c_company",)]["referred_table"] == "ct_companies"
    assert by_column[("owner_id",)]["referred_table"] == "staff"
    indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("ct_customers")}
    assert indexes["uq_ct_customers_email"]["unique"]
    assert "ix_ct_customers_company" in indexes  # references are always indexed
    if db.dialect == "postgresql":
        assert "ix_ct_customers_interests" in indexes  # GIN over the JSONB array

    with db.transaction() as session:
        company = records.create_record(session, actor, "companies", {"name": "絆商事"})
        created = records.create_record(
            session,
            actor,
            "customers",
            {
                "name": "  山田 太郎\u3000",
                "notes": "一行目\n二行目",
                "visits": "12",
                "spent": "1234.5",
                "born": "1990-04-01",
                "last_seen": "2026-11-29T09:00:00",  # no offset: JST
                "vip": True,
                "prefecture": "東京都",
                "interests": ["c", "a", "a"],
                "email": "Taro@Example.JP",
                "phone": "03-1234-5678",
                "site": "https://example.jp/a",
                "zip": "100-0001",
                "kana": "ヤマダ タロウ",
                "company": company["id"],
            },
        )
    values = created["values"]
    assert values["name"] == "山田 太郎"  # trimmed, ideographic space included
    assert values["visits"] == 12 and values["spent"] == "1234.50"
    assert values["born"] == "1990-04-01"
    assert values["last_seen"] == "2026-11-29T00:00:00+00:00"
    assert values["interests"] == ["a", "c"]  # choice order, no duplicates
    assert values["email"] == "taro@example.jp"
    assert values["company"] == company["id"]
    stored = raw(db, "SELECT c_spent, c_vip, c_visits FROM ct_customers")[0]
    assert Decimal(str(stored[0])) == Decimal("1234.50") and stored[1] in (True, 1)
    assert stored[2] == 12


def test_adding_a_field_alters_the_table_and_keeps_the_rows(db: Database, actor: Principal) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        record = records.create_record(session, actor, "companies", {"name": "A"})
    with db.transaction() as session:
        services.add_field(
            session,
            actor,
            "companies",
            parse_field({"key": "rank", "type": "integer", "indexed": True}),
        )
    assert "c_rank" in columns(db, "ct_companies")
    assert "ix_ct_companies_rank" in {
        i["name"] for i in sa.inspect(db.engine).get_indexes("ct_companies")
    }
    with db.transaction() as session:
        again = records.get_record(session, actor, "companies", record["id"])
        assert again["values"] == {"name": "A", "rank": None}
        with pytest.raises(Conflict) as taken:
            services.add_field(
                session, actor, "companies", parse_field({"key": "rank", "type": "text"})
            )
    assert taken.value.errors[0].code == "taken"
    with db.read() as session:
        actions = list(session.exec(select(AuditEntry.action)).all())
    assert actions.count("customers.field.create") == 1 + 1 + len(EVERY_TYPE)


def test_retiring_a_field_hides_it_and_keeps_its_data(db: Database, actor: Principal) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        record = records.create_record(
            session, actor, "customers", {"name": "A", "phone": "0312345678"}
        )
    with db.transaction() as session:
        services.retire_field(session, actor, "customers", "phone")
    with db.transaction() as session:
        shown = records.get_record(session, actor, "customers", record["id"])
        assert "phone" not in shown["values"]
        with pytest.raises(ValidationFailed) as refused:
            records.update_record(
                session, actor, "customers", record["id"], {"phone": "1"}, version=1
            )
    assert refused.value.errors[0].code == "retired_field"
    assert raw(db, "SELECT c_phone FROM ct_customers") == [("0312345678",)]
    with db.transaction() as session:
        services.retire_field(session, actor, "customers", "phone", restore=True)
        assert (
            records.get_record(session, actor, "customers", record["id"])["values"]["phone"]
            == "0312345678"
        )


def test_a_type_change_reports_the_rows_that_would_not_convert_first(
    db: Database, actor: Principal
) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        services.add_field(session, actor, "customers", parse_field({"key": "age", "type": "text"}))
        ok = records.create_record(session, actor, "customers", {"name": "A", "age": " 42 "})
        bad = records.create_record(session, actor, "customers", {"name": "B", "age": "forty"})
        records.create_record(session, actor, "customers", {"name": "C"})
    target = parse_field({"key": "age", "type": "integer", "indexed": True})
    with db.read() as session:
        check = services.check_field_change(session, "customers", "age", target)
    assert check.problem_count == 1
    [problem] = check.problems
    assert (problem.record_id, problem.value, problem.code) == (bad["id"], "forty", "not_integer")
    assert "whole number" in problem.message

    with pytest.raises(Conflict) as refused, db.transaction() as session:
        services.update_field(session, actor, "customers", "age", target)
    assert refused.value.code == "values_would_be_lost"
    error = refused.value.errors[0]
    assert (error.field, error.row, error.params) == ("age", bad["id"], {"value": "forty"})
    # Nothing changed: still a text column with both values.
    assert isinstance(columns(db, "ct_customers")["c_age"]["type"], sa.Text)
    assert sorted(
        r[0] for r in raw(db, "SELECT c_age FROM ct_customers WHERE c_age IS NOT NULL")
    ) == ["42", "forty"]

    with db.transaction() as session:
        change = services.update_field(session, actor, "customers", "age", target, allow_loss=True)
    assert (change.applied, change.lost, change.converted) == (True, 1, 1)
    assert isinstance(columns(db, "ct_customers")["c_age"]["type"], sa.BigInteger)
    assert "ix_ct_customers_age" in {
        i["name"] for i in sa.inspect(db.engine).get_indexes("ct_customers")
    }
    with db.transaction() as session:
        assert records.get_record(session, actor, "customers", ok["id"])["values"]["age"] == 42
        assert records.get_record(session, actor, "customers", bad["id"])["values"]["age"] is None
        # and back to text: every integer converts
        back = services.update_field(
            session, actor, "customers", "age", parse_field({"key": "age", "type": "text"})
        )
        assert back.problem_count == 0
        assert records.get_record(session, actor, "customers", ok["id"])["values"]["age"] == "42"


def test_a_type_change_within_text_storage_checks_and_normalises(
    db: Database, actor: Principal
) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        services.add_field(
            session, actor, "customers", parse_field({"key": "contact", "type": "text"})
        )
        good = records.create_record(
            session, actor, "customers", {"name": "A", "contact": "Ann@Example.jp"}
        )
        bad = records.create_record(
            session, actor, "customers", {"name": "B", "contact": "call me"}
        )
    target = parse_field({"key": "contact", "type": "email"})
    with db.read() as session:
        check = services.check_field_change(session, "customers", "contact", target)
    assert [(p.record_id, p.value, p.code) for p in check.problems] == [
        (bad["id"], "call me", "invalid_email")
    ]
    with db.transaction() as session:
        services.update_field(session, actor, "customers", "contact", target, allow_loss=True)
        assert (
            records.get_record(session, actor, "customers", good["id"])["values"]["contact"]
            == "ann@example.jp"
        )


def test_unique_is_a_real_unique_index_and_409_names_the_field(
    db: Database, actor: Principal
) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        records.create_record(session, actor, "customers", {"name": "A", "email": "a@example.jp"})
    with pytest.raises(Conflict) as taken, db.transaction() as session:
        records.create_record(session, actor, "customers", {"name": "B", "email": "A@EXAMPLE.JP"})
    assert taken.value.code == "email_taken"
    assert [(e.field, e.code) for e in taken.value.errors] == [("values.email", "taken")]
    # The database itself refuses a duplicate written behind the app's back.
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO ct_customers (public_id, c_email) VALUES ('x', 'a@example.jp')")
        )

    # Making a field unique while records share a value is refused, naming them.
    with db.transaction() as session:
        first = records.create_record(session, actor, "customers", {"name": "Same"})
        second = records.create_record(session, actor, "customers", {"name": "Same"})
    with pytest.raises(Conflict) as dups, db.transaction() as session:
        services.update_field(
            session,
            actor,
            "customers",
            "name",
            parse_field({"key": "name", "type": "text", "required": True, "unique": True}),
        )
    assert dups.value.code == "duplicate_values"
    assert sorted(e.row for e in dups.value.errors) == sorted([first["id"], second["id"]])


def test_references_are_foreign_keys_the_database_enforces(db: Database, actor: Principal) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        company = records.create_record(session, actor, "companies", {"name": "A"})
        customer = records.create_record(
            session, actor, "customers", {"name": "X", "company": company["id"]}
        )
    with pytest.raises(ValidationFailed) as missing, db.transaction() as session:
        records.create_record(session, actor, "customers", {"name": "Y", "company": 999})
    assert missing.value.errors[0].field == "values.company"
    assert missing.value.errors[0].code == "not_found"
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ct_customers (public_id, c_company) VALUES ('y', 999)"))
    # ON DELETE RESTRICT: the app says who refers to it; the database refuses too.
    with pytest.raises(Conflict) as in_use, db.transaction() as session:
        records.delete_record(session, actor, "companies", company["id"])
    assert in_use.value.code == "record_in_use" and "customers.company" in in_use.value.detail
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ct_companies"))
    # ON DELETE SET NULL, when the field says so.
    with db.transaction() as session:
        services.add_field(
            session,
            actor,
            "companies",
            parse_field(
                {
                    "key": "parent",
                    "type": "reference",
                    "references": "companies",
                    "on_delete": "set_null",
                }
            ),
        )
        child = records.create_record(session, actor, "companies", {"name": "child"})
        parent = records.create_record(session, actor, "companies", {"name": "parent"})
        records.update_record(
            session, actor, "companies", child["id"], {"parent": parent["id"]}, version=1
        )
        records.delete_record(session, actor, "companies", parent["id"])
        assert (
            records.get_record(session, actor, "companies", child["id"])["values"]["parent"] is None
        )
    with db.transaction() as session:
        with pytest.raises(ValidationFailed):  # a reference keeps its type and target
            services.update_field(
                session,
                actor,
                "customers",
                "company",
                parse_field({"key": "company", "type": "integer"}),
            )
        assert (
            records.get_record(session, actor, "customers", customer["id"])["values"]["company"]
            == company["id"]
        )


HOSTILE_KEYS = [
    "Robert'); DROP TABLE staff;--",
    'a"b',
    "1abc",
    "_abc",
    "Name",
    "ｎａｍｅ",  # full-width
    "名前",
    "a-b",
    "a b",
    "a" * 31,
    "",
    "select",
    "id",
    "version",
    "and",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_and_reserved_keys_are_refused_with_the_rule(key: str) -> None:
    for parse in (
        lambda: parse_table({"key": key}),
        lambda: parse_field({"key": key, "type": "text"}),
        lambda: parse_field({"key": "ok", "type": "reference", "references": key}),
    ):
        with pytest.raises(ValidationFailed) as refused:
            parse()
        message = refused.value.errors[0].message
        assert "a key starts with a lower-case letter" in message and "reserved" in message


def test_no_hostile_key_reaches_the_database(db: Database, actor: Principal) -> None:
    make_tables(db, actor)
    with db.transaction() as session:
        with pytest.raises(NotFound):
            services.load_design(session, "customers; DROP TABLE staff")
        with pytest.raises(ValidationFailed) as unknown:
            records.create_record(
                session, actor, "customers", {"name": "A", 'x"; DROP TABLE staff; --': 1}
            )
        assert unknown.value.errors[0].code == "unknown_field"
        hostile = records.create_record(
            session,
            actor,
            "customers",
            {"name": "<script>alert(1)</script>", "notes": '=HYPERLINK("x")'},
        )
    assert hostile["values"]["name"] == "<script>alert(1)</script>"  # stored as text
    assert raw(db, "SELECT count(*) FROM staff") is not None
    with pytest.raises(ValidationFailed) as nul, db.transaction() as session:
        records.create_record(session, actor, "customers", {"name": "a\x00b"})
    assert nul.value.errors[0].code == "control_chars"


def test_long_keys_keep_names_within_the_identifier_limit(db: Database, actor: Principal) -> None:
    table = "t" * 30
    field = "f" * 30
    with db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": table}),
            [parse_field({"key": field, "type": "text", "unique": True})],
        )
        services.add_field(
            session,
            actor,
            table,
            parse_field({"key": "g" * 30, "type": "reference", "references": table}),
        )
    names = {i["name"] for i in sa.inspect(db.engine).get_indexes(f"ct_{table}")}
    assert all(len(n) <= 63 for n in names) and len(names) >= 3
    with db.transaction() as session:
        records.create_record(session, actor, table, {field: "x"})
        with pytest.raises(Conflict) as taken:
            records.create_record(session, actor, table, {field: "x"})
    assert taken.value.errors[0].field == f"values.{field}"


def test_alembic_autogenerate_ignores_the_data_tables(db: Database, actor: Principal) -> None:
    make_tables(db, actor)
    with db.engine.connect() as conn:
        plain = MigrationContext.configure(conn, opts={"compare_type": True})
        unfiltered = compare_metadata(plain, api.models.metadata)
        assert any(d[0] == "remove_table" and d[1].name == "ct_customers" for d in unfiltered)
        filtered = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": physical.alembic_include_object,
            },
        )
        assert compare_metadata(filtered, api.models.metadata) == []


def test_tables_retire_and_restore_and_refuse_while_referred_to(
    db: Database, actor: Principal
) -> None:
    make_tables(db, actor)
    with pytest.raises(Conflict) as referred, db.transaction() as session:
        services.retire_table(session, actor, "companies")
    assert "customers.company" in referred.value.detail
    with db.transaction() as session:
        services.retire_table(session, actor, "customers")
        assert [d.key for d in services.list_designs(session)] == ["companies"]
        with pytest.raises(NotFound):
            records.list_records(session, actor, "customers")
        services.retire_table(session, actor, "customers", restore=True)
        assert records.list_records(session, actor, "customers").items == []
        with pytest.raises(Conflict):
            services.create_table(session, actor, parse_table({"key": "customers"}))


def test_reads_after_a_design_change_in_one_transaction_see_the_change(
    db: Database, actor: Principal
) -> None:
    with db.transaction() as session:
        services.create_table(session, actor, parse_table({"key": "notes"}))
        first = records.create_record(session, actor, "notes", {})
        services.add_field(session, actor, "notes", parse_field({"key": "body", "type": "text"}))
        second = records.create_record(session, actor, "notes", {"body": "x"})
        assert records.get_record(session, actor, "notes", first["id"])["values"] == {"body": None}
        services.retire_field(session, actor, "notes", "body")
        assert records.get_record(session, actor, "notes", second["id"])["values"] == {}
        services.retire_table(session, actor, "notes")
        with pytest.raises(NotFound):
            records.get_record(session, actor, "notes", second["id"])
