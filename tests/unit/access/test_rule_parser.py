"""The rule language's forms, precedence and canonical text (api/access/rules.py)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from api.access.rules import (
    PUBLIC,
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
    Public,
    Rule,
    Text,
    parse,
)


def cmp(field: str, op: str, value: object) -> Compare:
    literal = {str: Text, int: Number, bool: Boolean, date: Date}[type(value)]
    return Compare(field, op, literal(value))  # type: ignore[operator]


A, B, C, D = (cmp(k, "==", 1) for k in "abcd")


@pytest.mark.parametrize(
    ("text", "root"),
    [
        ("public", Public()),
        ("members", Members()),
        ("group:doctors", Group("doctors")),
        ('group:"薬剤師"', Group("薬剤師")),
        ("group:Doctors", Group("doctors")),  # bare names are read in lower case
        ("group : dr-2_x", Group("dr-2_x")),
        ('plan == "gold"', cmp("plan", "==", "gold")),
        ("plan != 'gold'", cmp("plan", "!=", "gold")),
        ("age < 20", cmp("age", "<", 20)),
        ("age <= 20", cmp("age", "<=", 20)),
        ("age > -3", cmp("age", ">", -3)),
        ("age >= 4.5", Compare("age", ">=", Number(Decimal("4.5")))),
        ("joined_on < 2026-04-01", cmp("joined_on", "<", date(2026, 4, 1))),
        ("vip == true", cmp("vip", "==", True)),
        ("vip != false", cmp("vip", "!=", False)),
        ('specialty == "腫瘍内科"', cmp("specialty", "==", "腫瘍内科")),
        ('plan in ("gold", "platinum")', In("plan", (Text("gold"), Text("platinum")))),
        ('plan in ("gold",)', In("plan", (Text("gold"),))),
        ("code in (1, \"x\", true, 2026-01-02)",
         In("code", (Number(1), Text("x"), Boolean(True), Date(date(2026, 1, 2))))),
        ('interests contains "oncology"', Contains("interests", Text("oncology"))),
        ('not status == "trial"', Not(cmp("status", "==", "trial"))),
        ("a == 1 and b == 1", And((A, B))),
        ("a == 1 or b == 1", Or((A, B))),
        ("(a == 1)", A),
        # a field may be called members, public or contains: a word before an operator is a field
        ('members == "x"', cmp("members", "==", "x")),
        ("public >= 2", cmp("public", ">=", 2)),
        ('contains contains "x"', Contains("contains", Text("x"))),
    ],
)  # fmt: skip
def test_every_form_parses_to_its_node(text: str, root: object) -> None:
    rule = parse(text)
    assert rule.root == root
    assert parse(str(rule)) == rule


@pytest.mark.parametrize(
    ("text", "root"),
    [
        # not binds tighter than and, and tighter than or
        ("a == 1 or b == 1 and c == 1", Or((A, And((B, C))))),
        ("a == 1 and b == 1 or c == 1", Or((And((A, B)), C))),
        ("not a == 1 and b == 1", And((Not(A), B))),
        ("not a == 1 or b == 1", Or((Not(A), B))),
        ("not (a == 1 or b == 1)", Not(Or((A, B)))),
        ("(a == 1 or b == 1) and c == 1", And((Or((A, B)), C))),
        ("a == 1 or b == 1 and not c == 1 or d == 1", Or((A, And((B, Not(C))), D))),
        ("not not a == 1", Not(Not(A))),
        # and/or are stored flat whatever the grouping
        ("a == 1 and (b == 1 and c == 1)", And((A, B, C))),
        ("((a == 1 or b == 1) or (c == 1 or d == 1))", Or((A, B, C, D))),
    ],
)
def test_precedence_not_over_and_over_or(text: str, root: object) -> None:
    assert parse(text).root == root


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  public  ", "public"),
        ("PUBLIC", "public"),
        ("Members", "members"),
        ("group:DOCTORS OR Group:Nurses", "group:doctors or group:nurses"),
        ('group:"doctors"', "group:doctors"),
        ('group:"Doctors"', "group:doctors"),  # an ASCII name reads the same in any case
        ('group:"医師会"', 'group:"医師会"'),
        ('group:"Dr. Smith"', 'group:"Dr. Smith"'),
        ("Plan=='gold'AND NOT(age<20)", 'plan == "gold" and not age < 20'),
        ("(a == 1 or b == 1) and (c == 1)", "(a == 1 or b == 1) and c == 1"),
        ("not (a == 1 and b == 1)", "not (a == 1 and b == 1)"),
        ("a == 1 or (b == 1 and c == 1)", "a == 1 or b == 1 and c == 1"),
        ("x in ( 'a' ,'b', )", 'x in ("a", "b")'),
        ("x == 007", "x == 7"),
        ("x == -0.50", "x == -0.5"),
        ("x == 100", "x == 100"),
        ("x == -0", "x == 0"),
        ("x == 1.000", "x == 1"),
        (r"x == 'say \"hi\"'", r'x == "say \"hi\""'),
        (r"x == 'back\\slash'", r'x == "back\\slash"'),
        (r'x == "it\'s"', 'x == "it\'s"'),
        # the IME left on: full-width ASCII and spaces outside quotes are read as ASCII
        ("ｐｌａｎ　＝＝　＂ＧＯＬＤ＂", 'plan == "ＧＯＬＤ"'),
        ("ｇｒｏｕｐ：ｄｏｃｔｏｒｓ　ｏｒ　ａｇｅ　＞＝　１８", "group:doctors or age >= 18"),
        # several lines (a TOML multi-line string), every kind of line break
        ('group:a\r\n  or plan == "x"\r  or\n age > 1\u2028', 'group:a or plan == "x" or age > 1'),
        ("a\t==\t1", "a == 1"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    rule = parse(text)
    assert str(rule) == canonical
    assert parse(canonical) == rule
    assert str(parse(canonical)) == canonical


def test_text_keeps_what_was_written_inside_quotes() -> None:
    rule = parse("company == '㈱絆　病院'")
    assert rule.root == cmp("company", "==", "㈱絆　病院")
    assert str(rule) == 'company == "㈱絆　病院"'


def test_fields_and_groups_read() -> None:
    rule = parse(
        'group:doctors or (plan in ("gold") and not specialty == "x") or '
        'group:"薬剤師" and tags contains "a" or members and age > 1 and plan != "b"'
    )
    assert rule.fields() == {"plan", "specialty", "tags", "age"}
    assert rule.groups() == {"doctors", "薬剤師"}
    assert PUBLIC.fields() == frozenset() and PUBLIC.groups() == frozenset()
    assert parse("members").fields() == frozenset()


def test_rules_are_values_equality_ignores_source_and_positions() -> None:
    one = parse('plan == "gold" and group:x', source="a.md", line=4, column=9)
    two = parse('plan  ==  "gold"\n and group:X', source="b.md")
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two, parse("members"), parse("members")}) == 2
    assert one.source == "a.md"
    assert parse("public") == PUBLIC and PUBLIC.is_public
    assert not parse("members").is_public
    # literals of different kinds never compare equal (True == 1 in Python)
    assert parse("x == true") != parse("x == 1")
    assert parse('x == "1"') != parse("x == 1")


def test_rules_members_and_warnings_pickle() -> None:
    rule = parse('plan in ("gold", 1, true, 2026-04-01) and not group:"医師"', source="a.md")
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert pickle.loads(pickle.dumps(rule)).fields() == {"plan"}
    member = Member(id=1, groups=frozenset({"医師"}), fields={"plan": "gold"})
    assert pickle.loads(pickle.dumps(member)) == member


def test_json_form_round_trips() -> None:
    rule = parse('plan in ("gold", "platinum") and specialty == "腫瘍" or group:doctors')
    data = rule.as_dict()
    assert data == {
        "rule": 'plan in ("gold", "platinum") and specialty == "腫瘍" or group:doctors',
        "fields": ["plan", "specialty"],
        "groups": ["doctors"],
    }
    assert Rule.from_dict(data) == rule
    assert Rule.from_dict({"rule": "members"}) == parse("members")
    assert Rule.from_dict(data, source="meta/access.json").source == "meta/access.json"
    assert PUBLIC.as_dict() == {"rule": "public", "fields": [], "groups": []}


@pytest.mark.parametrize(
    "entry",
    [
        {"rule": 'plan == "x"', "fields": ["other"]},
        {"rule": 'plan == "x"', "fields": "plan"},
        {"rule": "group:a", "groups": ["b"]},
        {"fields": []},
        {"rule": 3},
    ],
)
def test_a_manifest_entry_that_disagrees_with_its_rule_is_refused(entry: dict) -> None:
    with pytest.raises(ValueError):
        Rule.from_dict(entry)


def test_hand_built_nodes_flatten_like_parsed_ones() -> None:
    assert And((A, And((B, C)))) == And((A, B, C))
    assert str(Rule(Or((A, Or((B, And((C, D)))))))) == "a == 1 or b == 1 or c == 1 and d == 1"
    with pytest.raises(ValueError):
        And((A,))
    with pytest.raises(ValueError):
        Rule(And((Public(), A)))


def test_rule_words_cannot_be_field_keys() -> None:
    """The words that are never fields are refused as keys by the customer database."""
    from api.access import rules
    from api.customers.types import KEY_MAX_LENGTH, RESERVED_KEYS

    assert rules.RESERVED_WORDS <= RESERVED_KEYS
    assert rules.KEY_MAX_LENGTH == KEY_MAX_LENGTH


def test_importable_without_litestar_or_the_database() -> None:
    code = (
        "import sys, api.access.rules\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('litestar', 'sqlalchemy', 'sqlmodel', 'alembic', 'psycopg', 'dramatiq', 'redis'))\n"
        "assert not bad, bad\n"
        "print(api.access.rules.parse('members'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "members"
