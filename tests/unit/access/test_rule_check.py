"""Build warnings: a rule that parses but reads fields or groups the site does not have."""

from __future__ import annotations

from api.access.rules import RuleWarning, check, parse

MEMBER_FIELDS = {
    "plan": "select",
    "specialty": "text",
    "interests": "multi_select",
    "age": "integer",
    "points": "decimal",
    "joined_on": "date",
    "last_login": "datetime",
    "vip": "boolean",
    "card": "file",
    "status": "select",  # the record's status, which the gate passes like a field
}


def codes(warnings: list[RuleWarning]) -> list[tuple[str, object, int | None]]:
    return [(w.code, next(iter(w.params.values())), w.column) for w in warnings]


def test_a_rule_over_known_fields_and_groups_has_no_warnings() -> None:
    rule = parse(
        'group:doctors or plan in ("gold") and specialty == "x" and interests contains "a" '
        "and age > 3 and points <= 1.5 and joined_on < 2026-01-01 and last_login >= 2026-01-01 "
        'and vip == true and specialty contains "onc" and not status == "trial"'
    )
    assert check(rule, MEMBER_FIELDS, groups=["Doctors"]) == []
    assert check(rule, set(MEMBER_FIELDS)) == []  # keys only: no type checks, groups unknown
    assert check(parse("public"), {}) == []
    assert check(parse("members"), {}, groups=[]) == []


def test_unknown_fields_and_groups_warn_once_each_with_their_place() -> None:
    rule = parse(
        'speciality == "x" or group:doctor or speciality != "y" or\n  plan == "a" or grade > 1',
        source="content/pages/a.md",
        line=5,
        column=9,
    )
    warnings = check(rule, MEMBER_FIELDS, groups=["doctors"])
    assert codes(warnings) == [
        ("rule_unknown_field", "speciality", 9),
        ("rule_unknown_group", "doctor", 30),
        ("rule_unknown_field", "grade", 18),
    ]
    assert [(w.line, w.source) for w in warnings] == [
        (5, "content/pages/a.md"), (5, "content/pages/a.md"), (6, "content/pages/a.md")
    ]  # fmt: skip
    assert str(warnings[0]) == (
        "content/pages/a.md, line 5, column 9: The member table has no field “speciality”: "
        "this condition is false for every member."
    )
    assert warnings[0].describe("ja") == (
        "content/pages/a.md 5行目 9文字目：会員テーブルに項目「speciality」がありません。"
        "この条件はどの会員にも当てはまりません。"
    )
    assert warnings[0].as_field_error().code == "rule_unknown_field"


def test_values_of_the_wrong_kind_for_the_field_warn() -> None:
    rule = parse(
        'plan == 1 or age == "3" or joined_on > 3 or vip == "yes" or card == "x" '
        'or age contains "1" or interests in ("a", 2) or last_login == true '
        'or plan in ("a", "b") or points in (1, 2)'
    )
    assert codes(check(rule, MEMBER_FIELDS)) == [
        ("rule_expects_text", "plan", 1),
        ("rule_expects_number", "age", 14),
        ("rule_expects_date", "joined_on", 28),
        ("rule_expects_boolean", "vip", 45),
        ("rule_field_not_usable", "card", 61),
        ("rule_contains_needs_text", "age", 76),
        ("rule_expects_text", "interests", 96),
        ("rule_expects_date", "last_login", 121),
    ]


def test_types_the_check_does_not_know_give_no_type_warning() -> None:
    assert check(parse('x == 1 and y == "a"'), {"x": "something_new", "y": "reference"}) == [
        RuleWarning("rule_expects_number", {"field": "y"}, None, 1, 12)
    ]
