"""Every customer field's value goes through api/fields: the same normalisation, codes and
ja/en messages as any other write path; staff patterns that could hang are refused at design
time. On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.customers.values import normalise
from api.db import Database
from api.errors import ValidationFailed
from api.fields import localize
from api.livesettings import services as live
from api.principal import Principal

FIELDS = [
    {"key": "name", "type": "text", "max_length": 20},
    {"key": "notes", "type": "long_text"},
    {"key": "email", "type": "email"},
    {"key": "tel", "type": "phone"},
    {"key": "site", "type": "url"},
    {"key": "zip", "type": "postal_code"},
    {"key": "kana", "type": "furigana"},
    {"key": "age", "type": "integer", "min": 0, "max": 150},
    {"key": "spent", "type": "decimal", "decimal_places": 2, "min": 0},
    {"key": "born", "type": "date"},
    {"key": "met_at", "type": "datetime"},
    {"key": "vip", "type": "boolean"},
    {"key": "plan", "type": "select", "choices": ["free", "gold"]},
    {"key": "tags", "type": "multi_select", "choices": ["a", "b", "c"]},
    {"key": "code", "type": "text", "pattern": "K-[0-9]{4}"},
]


@pytest.fixture
def customers(db: Database, actor: Principal) -> str:
    with db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}), [parse_field(f) for f in FIELDS]
        )
    return "customers"


def test_values_are_normalised_by_api_fields(
    db: Database, actor: Principal, customers: str
) -> None:
    with db.transaction() as session:
        record = records.create_record(
            session,
            actor,
            customers,
            {
                "name": "\u3000㈱キズナ ",  # free text: trimmed, ㈱ kept
                "notes": "一行目\r\n二行目",
                "email": "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ",
                "tel": "０３ー１２３４ー５６７８",
                "site": "HTTPS://Example.JP/a",
                "zip": "〒１２３ー４５６７",
                "kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
                "age": "４２",
                "spent": "１，２３４．５",
                "born": "令和8年4月1日",
                "met_at": "2026-04-01 09:30",  # typed in JST
                "vip": "はい",
                "plan": "ＧＯＬＤ",
                "tags": "c、a",
                "code": "K-0012",
            },
        )
    assert record["values"] == {
        "name": "㈱キズナ",
        "notes": "一行目\n二行目",
        "email": "taro@example.jp",
        "tel": "03-1234-5678",
        "site": "https://example.jp/a",
        "zip": "123-4567",
        "kana": "ヤマダ\u3000タロウ",
        "age": 42,
        "spent": "1234.50",
        "born": "2026-04-01",
        "met_at": "2026-04-01T00:30:00+00:00",
        "vip": True,
        "plan": "gold",
        "tags": ["a", "c"],
        "code": "K-0012",
    }


def test_errors_carry_api_fields_codes_params_and_both_languages(
    db: Database, actor: Principal, customers: str
) -> None:
    with pytest.raises(ValidationFailed) as refused, db.transaction() as session:
        records.create_record(
            session,
            actor,
            customers,
            {
                "name": "x" * 21,
                "email": "nope",
                "tel": "12",
                "zip": "12-34",
                "kana": "山田",
                "age": 151,
                "spent": "1.234",
                "born": "2026-02-30",
                "met_at": "tomorrow",
                "vip": "maybe",
                "plan": "platinum",
                "tags": ["z"],
                "code": "K-12",
                "notes": "a\u202eb",
            },
        )
    got = {e.field: (e.code, e.params) for e in refused.value.errors}
    assert got == {
        "values.name": ("too_long", {"max": 20}),
        "values.email": ("invalid_email", None),
        "values.tel": ("invalid_phone", None),
        "values.zip": ("invalid_postal_code", None),
        "values.kana": ("not_kana", None),
        "values.age": ("too_large", {"max": 150}),
        "values.spent": ("too_many_decimals", {"places": 2}),
        "values.born": ("invalid_date", None),
        "values.met_at": ("invalid_datetime", None),
        "values.vip": ("not_boolean", None),
        "values.plan": ("invalid_choice", {"choices": "free, gold"}),
        "values.tags": ("invalid_choice", {"choices": "a, b, c"}),
        "values.code": ("pattern_mismatch", None),
        "values.notes": ("bidi_control", None),
    }
    by_field = {e.field: e for e in refused.value.errors}
    assert localize(by_field["values.name"], "ja") == "20文字以内で入力してください"
    assert localize(by_field["values.spent"], "en") == "must have at most 2 decimal places"


def test_a_retired_choice_stays_on_records_and_is_refused_for_new_values(
    db: Database, actor: Principal, customers: str
) -> None:
    with db.transaction() as session:
        record = records.create_record(session, actor, customers, {"plan": "free"})
        spec = parse_field(
            {"key": "plan", "type": "select",
             "choices": [{"value": "free", "retired": True}, "gold"]}
        )  # fmt: skip
        services.update_field(session, actor, customers, "plan", spec)
    with db.transaction() as session:
        assert records.get_record(session, actor, customers, record["id"])["values"]["plan"] == (
            "free"
        )
        with pytest.raises(ValidationFailed) as refused:
            records.create_record(session, actor, customers, {"plan": "ｆｒｅｅ"})
    assert (refused.value.errors[0].code, refused.value.errors[0].params) == (
        "invalid_choice",
        {"choices": "gold"},
    )


def test_decimal_places_and_its_older_name_scale_mean_the_same() -> None:
    new = parse_field({"key": "price", "type": "decimal", "decimal_places": 3})
    old = parse_field({"key": "price", "type": "decimal", "scale": 3})
    assert new == old and new.as_dict()["decimal_places"] == 3 and "scale" not in new.as_dict()
    assert normalise(new, "1.5") == Decimal("1.500")
    with pytest.raises(ValidationFailed) as refused:
        normalise(new, "1" * 16)  # NUMERIC(18, 3) holds 15 digits before the point
    assert (refused.value.errors[0].code, refused.value.errors[0].params) == (
        "too_many_digits",
        {"max": 15},
    )


@pytest.mark.parametrize(
    ("pattern", "code"),
    [("(a+)+$", "unsafe_pattern"), (r"([a-z0-9]+-?)+@", "unsafe_pattern"),
     (r"(x)\1", "unsafe_pattern"), ("(", "invalid_pattern")],
)  # fmt: skip
def test_patterns_that_could_hang_are_refused_at_design_time(pattern: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_field({"key": "code", "type": "text", "pattern": pattern})
    (problem,) = refused.value.errors
    assert (problem.field, problem.code) == ("pattern", code)
    if code == "unsafe_pattern":
        assert "nested" in problem.message or "refers back" in problem.message


def test_a_pattern_on_a_type_with_its_own_form_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_field({"key": "zip", "type": "postal_code", "pattern": "[0-9]+"})
    assert refused.value.errors[0].field == "pattern"


def test_times_typed_without_an_offset_are_in_the_sites_time_zone(
    db: Database, actor: Principal, customers: str
) -> None:
    with db.transaction() as session:
        live.update(session, actor, {"site.time_zone": "Europe/Paris"})
    with db.transaction() as session:
        record = records.create_record(
            session, actor, customers, {"name": "A", "met_at": "2026-04-01 09:30"}
        )
        assert record["values"]["met_at"] == "2026-04-01T07:30:00+00:00"  # CEST, UTC+2
        found = records.list_records(
            session,
            actor,
            customers,
            where={"field": "met_at", "op": "eq", "value": "2026-04-01 09:30"},
        )
        assert [r["id"] for r in found.items] == [record["id"]]
