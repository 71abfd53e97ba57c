"""Free text, long text and the characters no field accepts."""

from __future__ import annotations

import pytest

from api.fields import Field, FieldError


def errors(field: Field, raw: object) -> list[tuple[str, str]]:
    return [(e.code, e.field) for e in field.clean(raw, name="name").errors]


def value(field: Field, raw: object) -> object:
    result = field.clean(raw)
    assert result.ok, result.errors
    return result.value


TEXT = Field("text", max_length=20)
LONG = Field("long_text", max_length=200)


@pytest.mark.parametrize(
    "typed",
    [
        "㈱絆①髙",
        "ＴＡＲＯ",
        "ｶﾀｶﾅ",
        "佐藤\u3000花子",
        "😀👨\u200d👩\u200d👧",
        "<b>&amp;</b>",
        "Ａ－１",
    ],
)
def test_free_text_is_stored_as_typed(typed: str) -> None:
    assert value(TEXT, typed) == typed


def test_trimming_includes_the_ideographic_space_zero_width_space_and_bom() -> None:
    assert value(TEXT, "\u3000 山田\u3000太郎 \u3000\t") == "山田\u3000太郎"
    assert value(TEXT, "\ufeff\u200bname\u200b") == "name"
    assert value(TEXT, "Taro\r\n") == "Taro"  # a trailing newline from a spreadsheet cell


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("a\x00b", "control_chars"),
        ("a\x07b", "control_chars"),
        ("a\x1bb", "control_chars"),
        ("a\x7fb", "control_chars"),
        ("a\x9bb", "control_chars"),  # C1 CSI
        ("a\tb", "control_chars"),
        ("a\nb", "single_line"),
        ("a\rb", "single_line"),
        ("a\x85b", "single_line"),  # NEL
        ("a\u2028b", "single_line"),
        ("Kizuna\u2028", "single_line"),  # refused at the ends too, not quietly trimmed
        ("\x85Kizuna", "single_line"),
        ("Kizuna\x0b", "control_chars"),
        ("Kizuna\x1f", "control_chars"),
        ("Kizuna\x00", "control_chars"),
        ("a\u2029b", "single_line"),
        ("a\u202eb", "bidi_control"),  # RIGHT-TO-LEFT OVERRIDE
        ("a\u202ab", "bidi_control"),
        ("a\u2066b", "bidi_control"),
        ("a\u2069b", "bidi_control"),
        ("a\ud800b", "control_chars"),  # a lone surrogate (surrogateescape'd bytes)
        (12, "not_text"),
        (["a"], "not_text"),
        ("x" * 21, "too_long"),
    ],
)
def test_single_line_refuses(raw: object, code: str) -> None:
    assert errors(TEXT, raw) == [(code, "name")]


def test_too_long_says_the_limit_and_counts_characters_not_bytes() -> None:
    (problem,) = TEXT.clean("長" * 21, name="name").errors
    assert problem == FieldError(
        "name", "must be at most 20 characters", "too_long", params={"max": 20}
    )
    assert value(TEXT, "長" * 20) == "長" * 20


def test_min_length_and_pattern() -> None:
    code = Field("text", min_length=3, pattern=r"[A-Z]{3}[0-9]+")
    assert errors(code, "AB") == [("too_short", "name")]
    assert errors(code, "abc1") == [("pattern_mismatch", "name")]
    assert value(code, " ABC12 ") == "ABC12"


def test_a_text_field_has_a_hard_limit_when_its_definition_sets_none() -> None:
    assert errors(Field("text"), "x" * 10_001) == [("too_long", "name")]


def test_required_and_empty() -> None:
    required = Field("text", required=True)
    for empty in (None, "", " ", "\u3000\u3000", "\t\n"):
        assert errors(required, empty) == [("required", "name")], repr(empty)
    assert value(Field("text"), "\u3000") == ""  # emptied text stays text
    assert value(Field("text"), None) is None


def test_long_text_keeps_newlines_and_tabs_and_unifies_line_breaks() -> None:
    assert value(LONG, "一行目\r\n二行目\r三行目\u2028四\u2029五\x85六\tタブ") == (
        "一行目\n二行目\n三行目\n四\n五\n六\tタブ"
    )
    assert value(LONG, "  ㈱絆\n①\n") == "㈱絆\n①"
    assert value(LONG, "\u2029本文\u2028") == "本文"


@pytest.mark.parametrize(
    ("raw", "code"),
    [("a\x00", "control_chars"), ("a\x0bb", "control_chars"), ("a\x0cb", "control_chars"),
     ("a\x1eb", "control_chars"), ("a\u202eb", "bidi_control"), (5, "not_text")],
)  # fmt: skip
def test_long_text_refuses_other_controls(raw: object, code: str) -> None:
    assert errors(LONG, raw) == [(code, "name")]


def test_row_numbers_are_carried() -> None:
    (problem,) = TEXT.clean("a\x00", name="company", row=12).errors
    assert (problem.row, problem.field, problem.code) == (12, "company", "control_chars")
    assert problem.as_dict()["row"] == 12
