"""The match keys duplicates are found by (api.customers.duplicates): e-mail as stored, phone
by digits, name + company folded by search_key; and the score of shared keys."""

from __future__ import annotations

from api.customers import duplicates
from api.customers.definitions import parse_field, parse_table
from api.customers.models import CustomerField, CustomerTable
from api.customers.services import Design
from api.customers.types import column_name


def design(*fields: dict[str, object]) -> Design:
    specs = {f["key"]: parse_field(f) for f in fields}
    rows = [
        CustomerField(table_id=1, key=str(f["key"]), type=str(f["type"]), position=i)
        for i, f in enumerate(fields)
    ]
    table = CustomerTable(id=1, key="customers")
    assert parse_table({"key": "customers"})
    return Design(table=table, fields=rows, specs=specs, dialect="sqlite")  # type: ignore[arg-type]


CUSTOMERS = design(
    {"key": "name", "type": "text"},
    {"key": "email", "type": "email"},
    {"key": "phone", "type": "phone"},
    {"key": "company", "type": "reference", "references": "companies"},
)


def keys(**values: object) -> set[tuple[str, str]]:
    row = {column_name(k): v for k, v in values.items()}
    return duplicates.record_keys(CUSTOMERS, duplicates.rule(CUSTOMERS), row)


def test_the_rule_picks_fields_by_type_and_name() -> None:
    rule = duplicates.rule(CUSTOMERS)
    assert (rule.emails, rule.phones, rule.name, rule.company) == (
        ("email",),
        ("phone",),
        "name",
        "company",
    )
    texts = design({"key": "full_name", "type": "text"}, {"key": "company_name", "type": "text"})
    assert duplicates.rule(texts).name == "full_name"
    assert duplicates.rule(texts).company == "company_name"
    alone = design({"key": "name", "type": "text"})
    assert duplicates.rule(alone).company is None  # a name alone forms no group


def test_keys_fold_width_kana_variants_and_phone_grouping() -> None:
    assert keys(phone="03-1234-5678") == keys(phone="0312345678")
    assert keys(email="taro@example.com") == {(duplicates.EMAIL, "taro@example.com")}
    assert keys(name="髙橋 一郎", company=7) == keys(name="高橋一郎", company=7)
    assert keys(name="ﾔﾏﾀﾞ", company=7) == keys(name="やまだ", company=7)
    assert keys(name="ＴＡＲＯ", company=7) == keys(name="taro", company=7)
    assert keys(name="高橋一郎", company=7) != keys(name="高橋一郎", company=8)
    assert keys(name="高橋一郎") == set()
    assert keys(phone="12345") == set()  # too short to mean anything


def test_scores_combine() -> None:
    assert duplicates.score([duplicates.EMAIL]) == 90
    assert duplicates.score([duplicates.PHONE]) == 70
    assert duplicates.score([duplicates.NAME]) == 80
    assert duplicates.score([duplicates.EMAIL, duplicates.PHONE]) == 97
    assert duplicates.score([duplicates.PHONE, duplicates.NAME]) == 94
