"""Staff-defined patterns: refused at design time when matching could take forever (ReDoS)."""

from __future__ import annotations

import re

import pytest

from api.fields import Field
from api.fields.patterns import UnsafePattern, check_pattern


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(\w*\s?)*$", r"(ab|a)*c", r"(a)\1", r"\d*\d*\d*\d*x", r"(a{2,})*",
     r"(?:a+){2}", r"([a-z0-9]+-?)+@", r"(.*a){12}", "a" * 201],
)  # fmt: skip
def test_catastrophic_shapes_are_refused(pattern: str) -> None:
    with pytest.raises(UnsafePattern):
        check_pattern(pattern)
    with pytest.raises(ValueError):  # a definition with one cannot be made either
        Field("text", pattern=pattern)


@pytest.mark.parametrize(
    "pattern",
    [r"[0-9]{3}-[0-9]{4}", r"[A-Z]{2}[0-9]+", r"(a|b)*", r"(?:ab)+", r"[^@]+@[^@]+",
     r"K-[0-9]{6}", r"(?=.*[0-9]).{8,}", r"会員[0-9]{1,8}"],
)  # fmt: skip
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert check_pattern(pattern).pattern == pattern


def test_not_a_pattern_is_re_error() -> None:
    with pytest.raises(re.error):
        check_pattern("(")


def test_what_passes_still_answers_on_hostile_input() -> None:
    hostile = "a" * 1000 + "!"  # a catastrophic pattern would not return from this
    for pattern in (r"(a|b)*", r"[a-z]+[0-9]*[a-z]*", r"(?:ab)+", r"(?=.*[0-9]).{8,}"):
        result = Field("text", max_length=2000, pattern=pattern).clean(hostile)
        assert [e.code for e in result.errors] == ["pattern_mismatch"]
