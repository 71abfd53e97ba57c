"""What a rule that cannot be used says: the code, the line and column, in English and Japanese;
and the limits that keep hostile input cheap."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from api.access import rules
from api.access.messages import MESSAGES, WARNING_CODES, message
from api.access.rules import MAX_DEPTH, MAX_ITEMS, MAX_LENGTH, MAX_TERMS, RuleError, parse

# (rule text, code, line, column): positions are 1-based, of the rule's own text.
CASES = [
    ("", "rule_empty", 1, 1),
    ("   \n ", "rule_empty", 1, 1),
    ("x" * (MAX_LENGTH + 1), "rule_too_long", 1, MAX_LENGTH + 1),
    ("(" * (MAX_DEPTH + 1) + "members" + ")" * (MAX_DEPTH + 1), "rule_too_deep", 1, MAX_DEPTH + 1),
    ("not " * (MAX_DEPTH + 1) + "members", "rule_too_deep", 1, 4 * MAX_DEPTH + 1),
    (" or ".join(["members"] * (MAX_TERMS + 1)), "rule_too_many_terms", 1, 11 * MAX_TERMS + 1),
    ("x in (" + ", ".join(["1"] * (MAX_ITEMS + 1)) + ")", "rule_too_many_items", 1,
     7 + 3 * MAX_ITEMS),
    ("members and\n x == \x00", "rule_control_chars", 2, 7),
    ('x == "a\x1bb"', "rule_control_chars", 1, 8),
    ('x == "\ud800"', "rule_control_chars", 1, 7),
    ('x == "abc\u202edef"', "rule_bidi_control", 1, 10),
    ("x == 1 ; y == 2", "rule_bad_character", 1, 8),
    ("x == 1 -", "rule_bad_character", 1, 8),
    ("members && group:a", "rule_use_and", 1, 9),
    ("members || group:a", "rule_use_or", 1, 9),
    ("!members", "rule_use_not", 1, 1),
    ("age ≦ 3", "rule_use_operator", 1, 5),
    ("age ≠ 3", "rule_use_operator", 1, 5),
    ('plan = "gold"', "rule_single_equals", 1, 6),
    ("age => 3", "rule_single_equals", 1, 5),
    ('plan <> "gold"', "rule_use_not_equal", 1, 6),
    ("plan == “gold”", "rule_curly_quote", 1, 9),
    ("plan == 「ゴールド」", "rule_curly_quote", 1, 9),
    ('plan == "gold', "rule_unclosed_string", 1, 9),
    ('plan == "gold\n" or members', "rule_unclosed_string", 1, 9),
    (r'plan == "a\nb"', "rule_bad_escape", 1, 11),
    ('plan == "a\\', "rule_bad_escape", 1, 11),
    ('plan == ""', "rule_empty_string", 1, 9),
    ("plan == '　'", "rule_empty_string", 1, 9),
    ('group:""', "rule_empty_string", 1, 7),
    ("age > 12abc", "rule_bad_number", 1, 7),
    ("age > 1.2.3", "rule_bad_number", 1, 7),
    ("age > 1.", "rule_bad_number", 1, 7),
    ("age > " + "9" * 39, "rule_number_too_long", 1, 7),
    ("joined < 2026-02-30", "rule_bad_date", 1, 10),
    ("joined < 2026-4-1", "rule_bad_date", 1, 10),
    ("joined < 2026-04-01x", "rule_bad_date", 1, 10),
    ('専門 == "腫瘍"', "rule_not_a_key", 1, 1),
    ('plan専門 == "x"', "rule_not_a_key", 1, 1),
    ('_plan == "x"', "rule_not_a_key", 1, 1),
    ("a" * 31 + " == 1", "rule_key_too_long", 1, 1),
    ("group:医師", "rule_group_needs_quotes", 1, 7),
    ("true", "rule_expected_term", 1, 1),
    ("members and", "rule_expected_term", 1, 12),
    ('"gold"', "rule_expected_term", 1, 1),
    ("contains 'x'", "rule_expected_term", 1, 1),
    ("members or )", "rule_expected_term", 1, 12),
    ("specialty", "rule_expected_operator", 1, 10),
    ("doctors or members", "rule_expected_operator", 1, 9),
    ('plan not in ("a")', "rule_not_in", 1, 6),
    ("plan ==", "rule_expected_value", 1, 8),
    ("plan == members", "rule_expected_value", 1, 9),
    ("plan in ()", "rule_expected_value", 1, 10),
    ("plan in (,)", "rule_expected_value", 1, 10),
    ('plan in "gold"', "rule_expected_list", 1, 9),
    ('plan in ("a" "b")', "rule_expected_comma", 1, 14),
    ('plan in ("a"', "rule_expected_comma", 1, 13),
    ("(members or\n  (group:a and group:b)", "rule_expected_paren", 2, 24),
    ("group doctors", "rule_expected_colon", 1, 7),
    ("group:", "rule_expected_group", 1, 7),
    ("group:(a)", "rule_expected_group", 1, 7),
    ("members group:a", "rule_expected_end", 1, 9),
    ("(members))", "rule_expected_end", 1, 10),
    ("public or members", "rule_public_alone", 1, 1),
    ("members and not public", "rule_public_alone", 1, 17),
    ("(public)", "rule_public_alone", 1, 2),
    ('plan < "gold"', "rule_ordering_needs_number", 1, 6),
    ("vip >= true", "rule_ordering_needs_number", 1, 5),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code", "line", "column"), CASES, ids=[c[1] for c in CASES])
def test_error_names_code_line_and_column(text: str, code: str, line: int, column: int) -> None:
    with pytest.raises(RuleError) as caught:
        parse(text)
    error = caught.value
    assert (error.code, error.line, error.column) == (code, line, column), error.describe()
    assert isinstance(error, ValueError)
    for locale in ("en", "ja"):
        said = error.message(locale)
        assert said and not re.search(r"\{\w+\}", said), said
    assert error.message("ja") != error.message("en")


def test_every_error_code_is_tested_and_every_code_has_both_languages() -> None:
    errors = set(MESSAGES) - WARNING_CODES
    assert {case[1] for case in CASES} == errors
    source = Path(rules.__file__).read_text("utf-8")
    used = set(re.findall(r'"(rule_[a-z_]+)"', source))
    assert used <= set(MESSAGES), used - set(MESSAGES)
    assert errors <= used, errors - used
    for code, entry in MESSAGES.items():
        assert entry.en and entry.ja, code
        assert set(re.findall(r"\{(\w+)\}", entry.en)) == set(re.findall(r"\{(\w+)\}", entry.ja))


def test_positions_are_the_files_when_told_where_the_rule_starts() -> None:
    # Access: on line 3 of the page, the value after "Access: " (column 9)
    with pytest.raises(RuleError) as caught:
        parse('plan == "gold" and', source="content/pages/oncology.md", line=3, column=9)
    error = caught.value
    assert (error.source, error.line, error.column) == ("content/pages/oncology.md", 3, 27)
    assert str(error) == (
        "content/pages/oncology.md, line 3, column 27: Expected public, members, group:name, a "
        'comparison such as plan == "gold", not, or (, found the end of the rule.'
    )
    assert error.describe("ja") == (
        "content/pages/oncology.md 3行目 27文字目：public、members、group:名前、"
        'plan == "gold" のような比較、not、または ( が必要ですが、ルールの終わりがあります。'
    )
    # a later line of a multi-line rule starts at column 1 of the file
    with pytest.raises(RuleError) as caught:
        parse("members or\n  group", source="content/site.toml", line=64, column=15)
    assert (caught.value.line, caught.value.column) == (65, 8)


def test_what_was_found_is_quoted_and_cut_short() -> None:
    with pytest.raises(RuleError) as caught:
        parse('members "' + "あ" * 100 + '"')
    error = caught.value
    assert error.params["found"].startswith('"あ')
    assert '“"' + "あ" * 28 + "…”" in error.message("en")
    assert '「"' + "あ" * 28 + "…」" in error.message("ja")
    assert message("rule_expected_operator", {"field": "plan", "found": ""}, "ja") == (
        "「plan」の後に演算子（==、!=、<、<=、>、>=、in、contains）が必要ですが、"
        "ルールの終わりがあります。"
    )


def test_field_error_for_an_api_response() -> None:
    with pytest.raises(RuleError) as caught:
        parse("plan ==", source="access")
    error = caught.value.as_field_error("access")
    assert error.field == "access"
    assert error.code == "rule_expected_value"
    assert error.params == {"operator": "==", "found": "", "line": 1, "column": 8}
    assert "line 1, column 8" in error.message


def test_limits_are_inclusive() -> None:
    parse("(" * MAX_DEPTH + "members" + ")" * MAX_DEPTH)
    parse("not " * MAX_DEPTH + "members")
    parse(" or ".join(["members"] * MAX_TERMS))
    parse("x in (" + ", ".join(["1"] * MAX_ITEMS) + ")")
    parse("x == " + "9" * 38)
    long_text = 'x == "' + "あ" * (MAX_LENGTH - 7) + '"'
    assert len(long_text) == MAX_LENGTH
    parse(long_text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * MAX_LENGTH,
        "not " * (MAX_LENGTH // 4),
        "(not " * (MAX_LENGTH // 5),
        "members or " * (MAX_LENGTH // 11),
        "x in (" + "1," * (MAX_LENGTH // 2 - 4) + ")",
        '"' * MAX_LENGTH,
        "\\" * MAX_LENGTH,
        "x == " + "1" * (MAX_LENGTH - 5),
        "a" * MAX_LENGTH,
        "x" * 10**6,
        "\x00" * 10**6,
        "==" * (MAX_LENGTH // 2),
    ],
)
def test_hostile_input_is_refused_quickly_without_recursion_errors(text: str) -> None:
    with pytest.raises(RuleError):
        parse(text)


def test_errors_pickle_whole() -> None:
    """A build runs in a child process: its errors must cross back unchanged."""
    with pytest.raises(RuleError) as caught:
        parse("age ≧ 3", source="content/a.md", line=2, column=9)
    again = pickle.loads(pickle.dumps(caught.value))
    assert (again.code, again.params, again.source, again.line, again.column) == (
        "rule_use_operator", {"char": "≧", "sign": ">="}, "content/a.md", 2, 13
    )  # fmt: skip
    assert str(again) == "content/a.md, line 2, column 13: Write >= instead of “≧”."
    assert (
        again.describe("ja") == "content/a.md 2行目 13文字目：「≧」ではなく >= と書いてください。"
    )


def test_not_text_is_refused() -> None:
    with pytest.raises(RuleError):
        parse(None)  # type: ignore[arg-type]
