"""Schema as code: the TOML format (the issue's example), plans, idempotent apply, refusal of
changes that lose data, and `kizuna schema export/apply` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.customers import records, schema_file, services
from api.db import Database
from api.demo import DEMO_SCHEMA
from api.errors import Conflict, ValidationFailed
from api.principal import Principal
from tests.fixtures.live import kizuna, kizuna_env

ISSUE_EXAMPLE = """
[tables.customers]
label = { ja = "顧客", en = "Customers" }
[[tables.customers.fields]]
key = "email"
type = "email"
label = { ja = "メールアドレス", en = "Email" }
required = true
unique = true
[[tables.customers.fields]]
key = "prefecture"
type = "select"
label = { ja = "都道府県", en = "Prefecture" }
choices = ["北海道", "東京都", "大阪府"]
"""


def apply(db: Database, actor: Principal, text: str, **kwargs: bool) -> list[str]:
    with db.transaction() as session:
        steps = schema_file.apply(session, actor, schema_file.parse(text), **kwargs)
    return [s.describe() for s in steps]


def planned(db: Database, text: str) -> list[str]:
    with db.read() as session:
        return [s.describe() for s in schema_file.plan(session, schema_file.parse(text))]


def test_the_issue_example_applies_and_applying_again_changes_nothing(
    db: Database, actor: Principal
) -> None:
    assert planned(db, ISSUE_EXAMPLE) == [
        "+ create table customers",
        "+ add field customers.email: email",
        "+ add field customers.prefecture: select",
    ]
    apply(db, actor, ISSUE_EXAMPLE)
    assert planned(db, ISSUE_EXAMPLE) == []
    assert apply(db, actor, ISSUE_EXAMPLE) == []
    with db.read() as session:
        design = services.load_design(session, "customers")
        email = design.specs["email"]
        assert (email.required, email.unique, email.label["ja"]) == (True, True, "メールアドレス")
        assert [c.value for c in design.specs["prefecture"].choices] == [
            "北海道",
            "東京都",
            "大阪府",
        ]
        exported = schema_file.export(session)
    assert planned(db, exported) == []  # export → apply reproduces the database exactly


def test_the_demo_schema_round_trips(db: Database, actor: Principal) -> None:
    text = DEMO_SCHEMA.read_text("utf-8")
    steps = apply(db, actor, text)
    assert (
        "+ create table members" in steps and "+ add field purchases.customer: reference" in steps
    )
    with db.read() as session:
        exported = schema_file.export(session)
        assert services.load_design(session, "members").table.is_member_table
    assert planned(db, text) == [] and planned(db, exported) == []


def test_a_lossy_type_change_is_refused_naming_what_would_be_lost(
    db: Database, actor: Principal
) -> None:
    v1 = ISSUE_EXAMPLE + '[[tables.customers.fields]]\nkey = "age"\ntype = "text"\n'
    apply(db, actor, v1)
    with db.transaction() as session:
        records.create_record(session, actor, "customers", {"email": "a@example.jp", "age": "42"})
        bad = records.create_record(
            session, actor, "customers", {"email": "b@example.jp", "age": "forty"}
        )
    v2 = v1.replace('key = "age"\ntype = "text"', 'key = "age"\ntype = "integer"')
    [step] = planned(db, v2)
    assert step.startswith("~ update field customers.age: type (text → integer)")
    assert f"DESTRUCTIVE: 1 value(s) would be emptied, e.g. record {bad['id']}: 'forty'" in step
    with pytest.raises(Conflict) as refused:
        apply(db, actor, v2)
    assert refused.value.code == "destructive_change" and "forty" in refused.value.detail
    with db.read() as session:  # nothing changed
        assert services.load_design(session, "customers").specs["age"].type == "text"
    assert apply(db, actor, v2, allow_destructive=True) == [step]
    assert planned(db, v2) == []
    with db.read() as session:
        values = [
            r["values"]["age"] for r in records.list_records(session, actor, "customers").items
        ]
    assert sorted(values, key=str) == [42, None]


def test_what_the_file_leaves_out_is_retired_and_comes_back(db: Database, actor: Principal) -> None:
    two = (
        ISSUE_EXAMPLE
        + '[tables.companies]\n[[tables.companies.fields]]\nkey = "name"\ntype = "text"\n'
    )
    apply(db, actor, two)
    with db.transaction() as session:
        records.create_record(
            session, actor, "customers", {"email": "a@example.jp", "prefecture": "東京都"}
        )
    fewer = ISSUE_EXAMPLE.replace(
        'choices = ["北海道", "東京都", "大阪府"]', 'choices = ["北海道"]'
    )
    fewer = fewer.split('[[tables.customers.fields]]\nkey = "prefecture"')[0] + (
        '[[tables.customers.fields]]\nkey = "prefecture"\ntype = "select"\n'
        'label = { ja = "都道府県", en = "Prefecture" }\nchoices = ["北海道"]\n'
    )
    steps = planned(db, fewer)
    assert steps == [
        "~ update field customers.prefecture: choices",
        "- retire table companies: hidden; its records are kept",
    ]
    apply(db, actor, fewer)
    assert planned(db, fewer) == []  # removed choices stay, retired: no change next time
    with db.read() as session:
        design = services.load_design(session, "customers")
        retired = {c.value for c in design.specs["prefecture"].choices if c.retired}
        assert retired == {"東京都", "大阪府"}
        record = records.list_records(session, actor, "customers").items[0]
        assert record["values"]["prefecture"] == "東京都"  # the value in use is kept
    no_prefecture = ISSUE_EXAMPLE.split('[[tables.customers.fields]]\nkey = "prefecture"')[0]
    assert planned(db, no_prefecture) == [
        "- retire field customers.prefecture: hidden; its 1 value(s) are kept"
    ]
    apply(db, actor, no_prefecture)
    assert planned(db, two)[:2] == [
        "+ restore table companies",
        "+ restore field customers.prefecture",
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[tables.customers]\ncolour = 1\n", "tables.customers.colour"),
        ("[tables.Customers]\n", "tables.Customers.key"),
        ('[tables.x]\n[[tables.x.fields]]\nkey = "a"\ntype = "money"\n', "tables.x.fields[0].type"),
        ('[tables.x]\n[[tables.x.fields]]\nkey = "select"\ntype = "text"\n', "tables.x.fields[0].key"),
        ('[tables.x]\n[[tables.x.fields]]\nkey = "a"\ntype = "reference"\nreferences = "nowhere"\n',
         "tables.x.fields[0].references"),
        ('[tables.x]\n[[tables.x.fields]]\nkey = "a"\ntype = "select"\n', "tables.x.fields[0].choices"),
        ("[tables.x\n", "file"),
        ("[views.x]\n", "views"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_pointing_at_the_place(text: str, where: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        schema_file.parse(text)
    assert where in [e.field for e in refused.value.errors], refused.value.errors


def test_kizuna_schema_commands(tmp_path: Path, database_url: str, actor: Principal) -> None:
    env = kizuna_env(tmp_path / "var", DATABASE_URL=database_url)
    path = tmp_path / "schema.toml"
    path.write_text(
        ISSUE_EXAMPLE + '[[tables.customers.fields]]\nkey = "age"\ntype = "text"\n', "utf-8"
    )
    dry = kizuna(env, "schema", "apply", str(path), "--dry-run").stdout
    assert "+ create table customers" in dry and "Dry run: 4 change(s) planned" in dry
    assert "Nothing to change" not in kizuna(env, "schema", "apply", str(path)).stdout
    assert "Nothing to change" in kizuna(env, "schema", "apply", str(path)).stdout
    exported = kizuna(env, "schema", "export").stdout
    assert "[tables.customers]" in exported and 'key = "age"' in exported
    # A value that would not survive a type change: refused, named, exit 1.
    db = Database(database_url)
    try:
        with db.transaction() as session:
            records.create_record(
                session, actor, "customers", {"email": "a@example.jp", "age": "forty"}
            )
    finally:
        db.dispose()
    path.write_text(path.read_text("utf-8").replace('type = "text"', 'type = "integer"'), "utf-8")
    refused = kizuna(env, "schema", "apply", str(path), check=False)
    assert refused.returncode == 1
    assert "DESTRUCTIVE" in refused.stdout and "'forty'" in refused.stdout
    assert "--allow-destructive" in refused.stderr
    forced = kizuna(env, "schema", "apply", str(path), "--allow-destructive").stdout
    assert "Applied 1 change(s)." in forced


def test_one_member_table_and_a_bad_file_from_the_command_line(
    tmp_path: Path, database_url: str, db: Database, actor: Principal
) -> None:
    apply(db, actor, "[tables.members]\nis_member_table = true\n")
    with pytest.raises(Conflict) as second:
        apply(
            db, actor, "[tables.members]\nis_member_table = true\n[tables.others]\nmember = true\n"
        )
    assert second.value.code == "member_table_taken"
    env = kizuna_env(tmp_path / "var", DATABASE_URL=database_url)
    path = tmp_path / "bad.toml"
    path.write_text('[tables.x]\n[[tables.x.fields]]\nkey = "Bad Key"\ntype = "text"\n', "utf-8")
    refused = kizuna(env, "schema", "apply", str(path), check=False)
    assert refused.returncode == 1
    assert "tables.x.fields[0].key" in refused.stderr and "lower-case letter" in refused.stderr


def test_the_duplicates_name_and_company_fields_are_set_after_the_fields_they_name(
    db: Database, actor: Principal
) -> None:
    text = """
[tables.people]
label = "人"
name_field = "contact"
company_field = "employer"
[[tables.people.fields]]
key = "contact"
type = "text"
[[tables.people.fields]]
key = "employer"
type = "text"
"""
    assert planned(db, text) == [
        "+ create table people",
        "+ add field people.contact: text",
        "+ add field people.employer: text",
        "~ update table people: name_field, company_field",
    ]
    apply(db, actor, text)
    assert planned(db, text) == []
    with db.read() as session:
        spec = services.load_design(session, "people").spec
        assert (spec.name_field, spec.company_field) == ("contact", "employer")
        exported = schema_file.export(session)
    assert 'name_field = "contact"' in exported and planned(db, exported) == []
    wrong = text.replace('name_field = "contact"', 'name_field = "missing"')
    with pytest.raises(ValidationFailed) as refused:
        apply(db, actor, wrong)
    assert refused.value.errors[0].field == "name_field"
