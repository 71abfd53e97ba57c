"""Property tests (hypothesis): any rule prints to text that parses back to the same rule and
answers the same; any text either parses or raises RuleError with a place inside it."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.access.rules import (
    MAX_LENGTH,
    RESERVED_WORDS,
    And,
    Boolean,
    Compare,
    Contains,
    Date,
    Group,
    In,
    Member,
    Members,
    Not,
    Number,
    Or,
    Rule,
    RuleError,
    Text,
    parse,
)
from api.fields.chars import BIDI_CONTROLS, LINE_BREAKS, match_key

PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELD_KEYS = ("plan", "age", "tags", "joined", "vip", "members", "public", "contains", "x_1")
keys = st.one_of(
    st.sampled_from(FIELD_KEYS),
    st.from_regex(r"[a-z][a-z0-9_]{0,29}", fullmatch=True).filter(
        lambda k: k not in RESERVED_WORDS
    ),
)
# Any text a person may type in quotes: no control characters, line breaks or bidi controls.
plain_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
        blacklist_characters=BIDI_CONTROLS + LINE_BREAKS + "\ufffe\uffff",
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: bool(match_key(s)))
texts = st.one_of(
    st.sampled_from(["gold", "Gold", "ＧＯＬＤ", "腫瘍内科", 'say "hi"', "a\\b", "x＂y", "ｶﾀｶﾅ"]),
    plain_text,
).map(Text)
numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False),
).map(lambda n: Number(Decimal(n)))
literals = st.one_of(texts, numbers, st.booleans().map(Boolean), st.dates().map(Date))
ordered = st.one_of(numbers, st.dates().map(Date))
group_names = st.one_of(st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True), plain_text)

terms = st.one_of(
    st.just(Members()),
    group_names.map(Group),
    st.builds(Compare, keys, st.sampled_from(["==", "!="]), literals),
    st.builds(Compare, keys, st.sampled_from(["<", "<=", ">", ">="]), ordered),
    st.builds(In, keys, st.lists(literals, min_size=1, max_size=4).map(tuple)),
    st.builds(Contains, keys, literals),
)


def combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), many.map(And), many.map(Or))


rules = st.recursive(terms, combine, max_leaves=12).map(Rule)

member_values = st.one_of(
    st.none(),
    st.sampled_from(["gold", "Gold", "ｇｏｌｄ", "", "腫瘍内科", "2026-04-01", "12.5"]),
    st.integers(-5, 5),
    st.booleans(),
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 1, 1)),
    st.lists(st.sampled_from(["gold", "a", "Gold", 1]), max_size=3),
)
members = st.builds(
    Member,
    id=st.just(1),
    active=st.just(True),
    groups=st.frozensets(st.sampled_from(["a", "b", "doctors", "Gold"]), max_size=3),
    fields=st.dictionaries(st.sampled_from(FIELD_KEYS), member_values, max_size=6),
)


@PROFILE
@given(rules)
def test_canonical_text_parses_back_to_the_same_rule(rule: Rule) -> None:
    text = str(rule)
    if len(text) > MAX_LENGTH:
        return
    again = parse(text)
    assert again == rule
    assert str(again) == text
    assert hash(again) == hash(rule)
    assert again.fields() == rule.fields() and again.groups() == rule.groups()
    assert Rule.from_dict(rule.as_dict()) == rule


@PROFILE
@given(rules, members)
def test_the_reparsed_rule_answers_the_same_and_not_negates(rule: Rule, member: Member) -> None:
    text = str(rule)
    if len(text) > MAX_LENGTH:
        return
    answer = rule.evaluate(member)
    assert parse(text).evaluate(member) is answer
    assert Rule(Not(rule.root)).evaluate(member) is (not answer)
    assert rule.evaluate(None) is False
    assert rule.evaluate(Member(active=False, groups=member.groups, fields=member.fields)) is False


@PROFILE
@given(st.lists(rules, min_size=2, max_size=3), members)
def test_and_is_all_and_or_is_any(parts: list[Rule], member: Member) -> None:
    answers = [part.evaluate(member) for part in parts]
    roots = tuple(part.root for part in parts)
    assert Rule(And(roots)).evaluate(member) is all(answers)
    assert Rule(Or(roots)).evaluate(member) is any(answers)


def located_or_parsed(text: str) -> None:
    error: RuleError | None = None
    try:
        rule = parse(text)
    except RuleError as exc:
        error = exc
    if error is None:
        assert parse(str(rule)) == rule
        return
    assert error.code.startswith("rule_")
    assert error.message("ja") and error.message("en")
    if error.line is not None:
        assert 1 <= error.line <= len(text.splitlines()) + 1
        assert error.column is not None and 1 <= error.column <= len(text) + 1


@PROFILE
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_a_located_rule_error(text: str) -> None:
    located_or_parsed(text)


VOCABULARY = [
    "public", "members", "group", ":", "group:a", "not", "and", "or", "(", ")", "in", "contains",
    "==", "!=", "<", "<=", ">", ">=", ",", "plan", "age", '"gold"', "'x'", "1", "-2.5",
    "2026-04-01", "true", "false", "　", "\n", "＝＝", "ｏｒ",
]  # fmt: skip


@PROFILE
@given(st.lists(st.sampled_from(VOCABULARY), max_size=25), st.sampled_from([" ", "", "\t"]))
def test_any_sequence_of_rule_words_parses_or_raises_a_located_rule_error(
    words: list[str], glue: str
) -> None:
    located_or_parsed(glue.join(words))


@PROFILE
@given(st.text(alphabet=string.printable + "（）＝＂「」“”専門あ", max_size=120))
def test_printable_noise_parses_or_raises_a_located_rule_error(text: str) -> None:
    located_or_parsed(text)
