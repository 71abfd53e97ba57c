"""The rule language: who may read a page or a file (DESIGN.md "Access rules").

A rule is written in a page's ``Access:`` metadata or as a folder default in ``site.toml``::

    public                                    (the default: everyone, logged in or not)
    members                                   (any logged-in, active member)
    group:doctors or group:"薬剤師"
    plan in ("gold", "platinum") and specialty == "oncology"
    not status == "trial" and joined_on < 2026-04-01

:func:`parse` turns the text into a :class:`Rule` (or raises :class:`RuleError` naming the
file, line and column and what was expected, in English and Japanese by code). A rule is a
frozen, hashable value: ``str(rule)`` is its canonical text (``parse(str(rule)) == rule``),
``rule.as_dict()`` its JSON form for the build's access manifest, ``rule.fields()`` and
``rule.groups()`` what it reads of a member, ``rule.evaluate(member)`` / ``rule.decide(member)``
the answer for a :class:`Member` (``None`` is an anonymous visitor). :func:`check` compares a
rule with the member table's fields and the known groups and returns warnings.

The parser is a hand-written recursive descent over a hand-written lexer: no ``eval``, no
regular expression, input bounded in length, nesting depth and number of conditions.
README.md has the grammar (EBNF), the meaning of each form and the limits.

This module imports nothing from Litestar or the database: ``pipeline/`` uses it at build time.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as _attr
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from api.access.messages import locate, message
from api.errors import FieldError
from api.fields.chars import has_bidi_control, has_control, match_key

# Limits against hostile or runaway input (README "Limits").
MAX_LENGTH = 2000  # characters of a rule's text
MAX_DEPTH = 20  # nested parentheses and not
MAX_TERMS = 100  # conditions: members, group:…, comparisons
MAX_ITEMS = 100  # values in one in (…)
MAX_DIGITS = 38  # digits of a number (a decimal field holds at most 38)
KEY_MAX_LENGTH = 30  # api.customers.types.KEY_MAX_LENGTH (a test checks they agree)
# A datetime value compared with a date literal is taken on its calendar date here (the
# fields' default time zone, api.fields).
DATE_ZONE = ZoneInfo("Asia/Tokyo")

# Words that can never be a field key (api.customers.types.RESERVED_KEYS holds them; a test
# checks). public, members and contains are rule words too, but a field may carry one of those
# names: a word followed by an operator is always a field.
RESERVED_WORDS = frozenset({"and", "or", "not", "in", "true", "false", "group"})
ORDERING = frozenset({"<", "<=", ">", ">="})
OPERATORS = ("==", "!=", "<", "<=", ">", ">=")


# --------------------------------------------------------------------------------------------
# Problems: errors (the rule cannot be used) and warnings (it can, but reads something unknown)


class _Located:
    __slots__ = ()

    code: str
    params: Mapping[str, Any]
    source: str | None
    line: int | None
    column: int | None

    def message(self, locale: str = "en") -> str:
        """What is wrong, in ``locale`` ("ja" or "en"), without where."""
        return message(self.code, self.params, locale)

    def describe(self, locale: str = "en") -> str:
        """Where and what: "content/a.md, line 3, column 9: Expected …"."""
        return locate(
            self.message(locale),
            source=self.source,
            line=self.line,
            column=self.column,
            locale=locale,
        )

    def as_field_error(self, field_name: str = "access") -> FieldError:
        """An :class:`api.errors.FieldError` for a problem-details response (line and column in
        its params, so a client can point at them)."""
        params = dict(self.params)
        if self.line is not None:
            params["line"] = self.line
        if self.column is not None:
            params["column"] = self.column
        return FieldError(field_name, self.describe("en"), self.code, params=params or None)


class RuleError(_Located, ValueError):
    """A rule that cannot be used: ``code`` (messages.py), ``params``, ``source`` (the file),
    ``line`` and ``column`` (1-based, of the source file when :func:`parse` was told where the
    rule starts). ``str()`` is :meth:`describe` in English."""

    def __init__(
        self,
        code: str,
        params: Mapping[str, Any] | None = None,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.code = code
        self.params = dict(params or {})
        self.source = source
        self.line = line
        self.column = column
        super().__init__(self.describe("en"))

    def __str__(self) -> str:
        return self.describe("en")

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable whole (a build runs in a child process), not rebuilt from the message.
        state = {"source": self.source, "line": self.line, "column": self.column}
        return (_rule_error, (self.code, self.params, state))


def _rule_error(code: str, params: Mapping[str, Any], state: Mapping[str, Any]) -> RuleError:
    return RuleError(code, params, **state)


@dataclass(frozen=True, slots=True)
class RuleWarning(_Located):
    """A rule that parses but reads a field or group the site does not have (see :func:`check`)."""

    code: str
    params: Mapping[str, Any] = _attr(default_factory=dict, hash=False)
    source: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self.describe("en")


# --------------------------------------------------------------------------------------------
# Values a comparison is made with. Each literal decides how a member's value compares with it:
# ``equals`` / ``order`` answer None when the value is not of a comparable kind (then every
# comparison is false, != included).

_cached_key: Callable[[str], str] = lru_cache(maxsize=4096)(match_key)
_CACHED_LENGTH = 200  # longer values (long text under contains) are keyed each time, not kept


def _key(value: str) -> str:
    """``match_key``, cached for the short values rules compare again and again."""
    return _cached_key(value) if len(value) <= _CACHED_LENGTH else match_key(value)


def _missing(value: Any) -> bool:
    """No value: absent, None, text with nothing in it, an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not _key(value)
    if isinstance(value, list | tuple | set | frozenset):
        return all(item is None or (isinstance(item, str) and not _key(item)) for item in value)
    return False


@dataclass(frozen=True, slots=True)
class Text:
    """Text in quotes, kept as written; compared by ``api.fields.chars.match_key`` (NFKC,
    case-folded, katakana as hiragana, spaces collapsed): "Oncology" == "oncology",
    "ＧＯＬＤ" == "gold", "カード" == "かーど"."""

    value: str
    key: str = _attr(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _key(self.value))

    def __str__(self) -> str:
        return '"' + "".join("\\" + c if c in _QUOTED else c for c in self.value) + '"'

    def equals(self, value: Any) -> bool | None:
        return _key(value) == self.key if isinstance(value, str) else None

    def order(self, value: Any) -> int | None:
        return None

    def inside(self, value: Any) -> bool:
        """``contains`` on a text value: this text's key is part of the value's key."""
        return isinstance(value, str) and self.key in _key(value)


# Escaped in canonical text: the backslash and the double quote, in ASCII and full width (the
# lexer reads full-width ones as ASCII outside text, so a full-width quote would end the text).
_QUOTED = frozenset('\\"\uff3c\uff02')

_NUMBER_CHARS = frozenset("0123456789.-+")


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        number = Decimal(value)
    elif isinstance(value, str) and 0 < len(value) <= 2 * MAX_DIGITS:
        # A decimal field's value in JSON (a token's claims) arrives as text: "12.50".
        if not set(value) <= _NUMBER_CHARS:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _number_text(number: Decimal) -> str:
    if number == 0:
        return "0"
    text = format(number.normalize(), "f")
    return text


@dataclass(frozen=True, slots=True)
class Number:
    """A number (12, -3, 4.5), compared numerically with int, float, Decimal or numeric text."""

    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", Decimal(_number_text(Decimal(self.value))))

    def __str__(self) -> str:
        return _number_text(self.value)

    def equals(self, value: Any) -> bool | None:
        number = _as_decimal(value)
        return None if number is None else number == self.value

    def order(self, value: Any) -> int | None:
        number = _as_decimal(value)
        if number is None:
            return None
        return (number > self.value) - (number < self.value)

    def inside(self, value: Any) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Boolean:
    """true or false, equal only to a boolean value."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"

    def equals(self, value: Any) -> bool | None:
        return value is self.value if isinstance(value, bool) else None

    def order(self, value: Any) -> int | None:
        return None

    def inside(self, value: Any) -> bool:
        return False


def _as_date(value: Any) -> date | None:
    if isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.astimezone(DATE_ZONE).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return None


@dataclass(frozen=True, slots=True)
class Date:
    """A date (2026-04-01), compared with date values, datetimes (their date in
    :data:`DATE_ZONE`) and ISO text ("2026-04-01", "2026-04-01T09:00:00+09:00")."""

    value: date

    def __str__(self) -> str:
        return self.value.isoformat()

    def equals(self, value: Any) -> bool | None:
        day = _as_date(value)
        return None if day is None else day == self.value

    def order(self, value: Any) -> int | None:
        day = _as_date(value)
        if day is None:
            return None
        return (day > self.value) - (day < self.value)

    def inside(self, value: Any) -> bool:
        return False


Literal = Text | Number | Boolean | Date


# --------------------------------------------------------------------------------------------
# Nodes of a compiled rule. Frozen and hashable; equality ignores where a node was written.

Position = tuple[int, int]  # (line, column) in the parsed text or its source file


@dataclass(frozen=True, slots=True)
class Member:
    """What a rule can know of a visitor who is logged in as a member.

    ``fields`` maps field keys to values as the member table holds them (text, int, Decimal,
    bool, date, datetime, a list for a multi-select) or as a token carries them in JSON
    (numbers and dates may arrive as text). ``active`` is false for a suspended or withdrawn
    member, who then reads only public pages."""

    id: int | None = None
    active: bool = True
    groups: frozenset[str] = frozenset()
    fields: Mapping[str, Any] = _attr(default_factory=dict, hash=False)
    group_keys: frozenset[str] = _attr(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        groups = frozenset(self.groups)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "group_keys", frozenset(_key(g) for g in groups))


class _Node:
    """Base of every node: evaluation and the terms it is made of."""

    __slots__ = ()

    def _eval(self, member: Member) -> bool:
        raise NotImplementedError

    def _children(self) -> tuple[_Node, ...]:
        return ()

    def walk(self) -> Iterator[_Node]:
        """This node and every node below it, in the order they are written (iterative)."""
        stack: list[_Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node._children()))


@dataclass(frozen=True, slots=True)
class Public(_Node):
    """Everyone, logged in or not. Only ever a whole rule."""

    def __str__(self) -> str:
        return "public"

    def _eval(self, member: Member) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Members(_Node):
    """Any logged-in, active member."""

    at: Position | None = _attr(default=None, compare=False, repr=False, hash=False)

    def __str__(self) -> str:
        return "members"

    def _eval(self, member: Member) -> bool:
        return True


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True, slots=True)
class Group(_Node):
    """A member of the group ``name`` (compared by match_key: group:Doctors is group:doctors)."""

    name: str
    at: Position | None = _attr(default=None, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        # An ASCII name reads the same in any case: kept in lower case, written bare.
        if self.name and set(self.name.lower()) <= _NAME_CHARS:
            object.__setattr__(self, "name", self.name.lower())

    def __str__(self) -> str:
        if self.name and set(self.name) <= _NAME_CHARS:
            return f"group:{self.name}"
        return f"group:{Text(self.name)}"

    def _eval(self, member: Member) -> bool:
        return _key(self.name) in member.group_keys


@dataclass(frozen=True, slots=True)
class Compare(_Node):
    """``field op value`` with op one of ==, !=, <, <=, >, >=."""

    field: str
    op: str
    value: Literal
    at: Position | None = _attr(default=None, compare=False, repr=False, hash=False)

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value}"

    def _eval(self, member: Member) -> bool:
        value = member.fields.get(self.field)
        if _missing(value):
            return False
        if isinstance(value, list | tuple | set | frozenset):
            return self._eval_list([item for item in value if not _missing(item)])
        if self.op == "==":
            return self.value.equals(value) is True
        if self.op == "!=":
            return self.value.equals(value) is False
        order = self.value.order(value)
        if order is None:
            return False
        return _ORDER_TEST[self.op](order)

    def _eval_list(self, items: list[Any]) -> bool:
        # A multi-select: == is "one of the values is", != "it has values and none of them is";
        # an ordering never holds.
        answers = [self.value.equals(item) for item in items]
        if self.op == "==":
            return True in answers
        if self.op == "!=":
            return False in answers and True not in answers
        return False


_ORDER_TEST: dict[str, Callable[[int], bool]] = {
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}


@dataclass(frozen=True, slots=True)
class In(_Node):
    """``field in (v1, v2, …)``: the value (or one of a multi-select's values) is one of them."""

    field: str
    values: tuple[Literal, ...]
    at: Position | None = _attr(default=None, compare=False, repr=False, hash=False)

    def __str__(self) -> str:
        return f"{self.field} in ({', '.join(map(str, self.values))})"

    def _eval(self, member: Member) -> bool:
        value = member.fields.get(self.field)
        if _missing(value):
            return False
        items = value if isinstance(value, list | tuple | set | frozenset) else (value,)
        return any(
            literal.equals(item) is True
            for item in items
            if not _missing(item)
            for literal in self.values
        )


@dataclass(frozen=True, slots=True)
class Contains(_Node):
    """``field contains v``: a multi-select has the value v; a text value has v inside it."""

    field: str
    value: Literal
    at: Position | None = _attr(default=None, compare=False, repr=False, hash=False)

    def __str__(self) -> str:
        return f"{self.field} contains {self.value}"

    def _eval(self, member: Member) -> bool:
        value = member.fields.get(self.field)
        if _missing(value):
            return False
        if isinstance(value, list | tuple | set | frozenset):
            return any(self.value.equals(item) is True for item in value if not _missing(item))
        return self.value.inside(value)


@dataclass(frozen=True, slots=True)
class Not(_Node):
    """``not x``: x does not hold (for a member with no value, ``not plan == "gold"`` holds)."""

    operand: _Node

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"not ({inner})" if isinstance(self.operand, And | Or) else f"not {inner}"

    def _children(self) -> tuple[_Node, ...]:
        return (self.operand,)

    def _eval(self, member: Member) -> bool:
        return not self.operand._eval(member)


def _flatten(kind: type, operands: Iterable[_Node]) -> tuple[_Node, ...]:
    flat: list[_Node] = []
    for operand in operands:
        if isinstance(operand, kind):
            flat.extend(operand.operands)  # type: ignore[attr-defined]
        else:
            flat.append(operand)
    return tuple(flat)


@dataclass(frozen=True, slots=True)
class And(_Node):
    """All operands hold. ``a and (b and c)`` is stored flat as ``a and b and c``."""

    operands: tuple[_Node, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "operands", _flatten(And, self.operands))
        if len(self.operands) < 2:
            raise ValueError("and needs at least two operands")

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)

    def _children(self) -> tuple[_Node, ...]:
        return self.operands

    def _eval(self, member: Member) -> bool:
        return all(operand._eval(member) for operand in self.operands)


@dataclass(frozen=True, slots=True)
class Or(_Node):
    """One of the operands holds (and binds looser than and: no parentheses needed around an
    and inside an or)."""

    operands: tuple[_Node, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "operands", _flatten(Or, self.operands))
        if len(self.operands) < 2:
            raise ValueError("or needs at least two operands")

    def __str__(self) -> str:
        return " or ".join(map(str, self.operands))

    def _children(self) -> tuple[_Node, ...]:
        return self.operands

    def _eval(self, member: Member) -> bool:
        return any(operand._eval(member) for operand in self.operands)


Node = Public | Members | Group | Compare | In | Contains | Not | And | Or


class Decision(StrEnum):
    """What the gate does with a request: serve it, send the login page, or answer 403."""

    allow = "allow"
    login = "login"  # anonymous (or no longer active): the login page, with next=
    forbidden = "forbidden"  # logged in, not allowed: the "not permitted" page


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule: hashable, equal to another when they mean the same text.

    ``source`` (the file it came from, for warnings) is not part of equality."""

    root: Node
    source: str | None = _attr(default=None, compare=False, repr=False, hash=False)
    _fields: frozenset[str] = _attr(init=False, repr=False, compare=False, hash=False)
    _groups: frozenset[str] = _attr(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        fields: set[str] = set()
        groups: set[str] = set()
        for node in self.root.walk():
            if isinstance(node, Compare | In | Contains):
                fields.add(node.field)
            elif isinstance(node, Group):
                groups.add(node.name)
            elif isinstance(node, Public) and node is not self.root:
                raise ValueError("public stands alone: it cannot be part of a larger rule")
        object.__setattr__(self, "_fields", frozenset(fields))
        object.__setattr__(self, "_groups", frozenset(groups))

    def __str__(self) -> str:
        return str(self.root)

    @property
    def is_public(self) -> bool:
        """Everyone may read: the gate serves without looking at the visitor."""
        return isinstance(self.root, Public)

    def fields(self) -> frozenset[str]:
        """The member field keys the rule reads (what the access token must carry)."""
        return self._fields

    def groups(self) -> frozenset[str]:
        """The group names the rule mentions, as written in it."""
        return self._groups

    def evaluate(self, member: Member | None) -> bool:
        """May ``member`` read? ``None`` (anonymous) and inactive members: only a public rule."""
        if isinstance(self.root, Public):
            return True
        if member is None or not member.active:
            return False
        return self.root._eval(member)

    def decide(self, member: Member | None) -> Decision:
        """:meth:`evaluate` as the gate's three outcomes."""
        if self.evaluate(member):
            return Decision.allow
        if member is None or not member.active:
            return Decision.login
        return Decision.forbidden

    def as_dict(self) -> dict[str, Any]:
        """The JSON form kept in the access manifest: canonical text, fields and groups read."""
        return {"rule": str(self), "fields": sorted(self._fields), "groups": sorted(self._groups)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> Rule:
        """The rule of an :meth:`as_dict` entry (parsed again, cached by text). Raises
        :class:`RuleError` when the text does not parse, ``ValueError`` when the fields or
        groups listed with it are not the ones it reads (a manifest edited by hand or written
        by another version)."""
        text = data.get("rule") if isinstance(data, Mapping) else None
        if not isinstance(text, str):
            raise ValueError('an access rule entry needs "rule": the rule as text')
        rule = _parse_cached(text)
        for name, found in (("fields", rule._fields), ("groups", rule._groups)):
            listed = data.get(name)
            if listed is not None and (
                not isinstance(listed, list) or frozenset(map(str, listed)) != found
            ):
                raise ValueError(
                    f'the access rule "{text}" reads {name} {sorted(found)}, '
                    f"not the {name} listed with it: {listed!r}"
                )
        return rule if source is None else cls(rule.root, source)


PUBLIC = Rule(Public())


# --------------------------------------------------------------------------------------------
# Lexer


# Full-width ASCII (U+FF01–U+FF5E) is read as ASCII outside quotes, so a rule typed with the
# IME on still works (ｐｌａｎ　＝＝　１ is plan == 1); spaces of every width are spaces.
# One character for one, so columns stay those of the text as written.
_FOLD: dict[int, int | str] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD.update({ord(c): " " for c in "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"})
_FOLD.update({ord(c): " " for c in "\u2007\u2008\u2009\u200a\u202f\u205f\u3000\u200b\ufeff"})
_LINE_BREAKS = "\n\r\x85\u2028\u2029"
_SPACE = frozenset(" \t" + _LINE_BREAKS)
_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WORD = _LETTERS | _DIGITS | {"_"}
_NAME = _WORD | {"-"}
_ESCAPABLE = frozenset("\\\"'")
_CURLY_QUOTES = frozenset("“”‘’„‚«»「」『』")
_HINTS = {"&": "rule_use_and", "|": "rule_use_or", "!": "rule_use_not"}
# Comparison signs of Japanese input and mathematics, and what to write instead.
_SIGNS = {"≠": "!=", "≦": "<=", "≤": "<=", "≧": ">=", "≥": ">="}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word name string number date op ( ) , : end
    text: str  # as written (for messages)
    value: Any
    index: int  # where it starts in the text


class _Source:
    """The rule's text, its folded form and where each character is."""

    def __init__(self, text: str, source: str | None, line: int, column: int) -> None:
        self.text = text
        self.folded = text.translate(_FOLD)
        self.source = source
        self.first_line = line
        self.first_column = column
        self.line_starts = [0]
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c in _LINE_BREAKS:
                i += 2 if c == "\r" and text[i + 1 : i + 2] == "\n" else 1
                self.line_starts.append(i)
            else:
                i += 1

    def position(self, index: int) -> Position:
        row = bisect.bisect_right(self.line_starts, index) - 1
        column = index - self.line_starts[row] + 1
        if row == 0:
            column += self.first_column - 1
        return self.first_line + row, column

    def error(self, code: str, index: int | None = None, **params: Any) -> RuleError:
        line, column = self.position(index) if index is not None else (None, None)
        return RuleError(code, params, source=self.source, line=line, column=column)


def _tokens(src: _Source) -> list[_Token]:
    text, folded = src.text, src.folded
    n = len(text)
    out: list[_Token] = []
    i = 0
    while i < n:
        c = folded[i]
        if c in _SPACE:
            i += 1
        elif c in "(),":
            out.append(_Token(c, text[i], c, i))
            i += 1
        elif c == ":":
            out.append(_Token(":", text[i], ":", i))
            i += 1
            while i < n and folded[i] in _SPACE:
                i += 1
            if i < n and (folded[i] in _NAME or _is_other(folded[i])):
                i = _name(src, i, out)
        elif c in "=!<>":
            pair = folded[i : i + 2]
            if pair in ("==", "!=", "<=", ">="):
                out.append(_Token("op", text[i : i + 2], pair, i))
                i += 2
            elif pair == "<>":
                raise src.error("rule_use_not_equal", i)
            elif c in "<>":
                out.append(_Token("op", text[i], c, i))
                i += 1
            elif c == "=":
                raise src.error("rule_single_equals", i)
            else:
                raise src.error("rule_use_not", i, char=text[i])
        elif c in "\"'":
            i = _string(src, i, out)
        elif c in _DIGITS or (c == "-" and folded[i + 1 : i + 2] in _DIGITS):
            i = _number(src, i, out)
        elif c in _LETTERS or c == "_":
            start = i
            while i < n and folded[i] in _WORD:
                i += 1
            if i < n and _is_other(folded[i]):
                raise _not_a_key(src, start)
            word = folded[start:i]
            out.append(_Token("word", text[start:i], word.lower(), start))
        elif c in _CURLY_QUOTES:
            raise src.error("rule_curly_quote", i, char=text[i])
        elif c in _HINTS:
            raise src.error(_HINTS[c], i, char=text[i])
        elif c in _SIGNS:
            raise src.error("rule_use_operator", i, char=text[i], sign=_SIGNS[c])
        elif _is_other(c):
            raise _not_a_key(src, i)
        else:
            raise src.error("rule_bad_character", i, char=text[i])
    out.append(_Token("end", "", None, n))
    return out


def _is_other(c: str) -> bool:
    """A letter, digit or mark outside ASCII (専, ä, ① …): text that should be a key or quoted."""
    return not c.isascii() and unicodedata.category(c)[0] in "LNM"


def _not_a_key(src: _Source, start: int) -> RuleError:
    end = start
    while end < len(src.folded) and (src.folded[end] in _WORD or _is_other(src.folded[end])):
        end += 1
    return src.error("rule_not_a_key", start, text=src.text[start:end])


def _name(src: _Source, start: int, out: list[_Token]) -> int:
    """A bare group name after ``group:``: a–z, 0–9, _ and -, read as lower case."""
    folded, n = src.folded, len(src.folded)
    i = start
    while i < n and (folded[i] in _NAME or _is_other(folded[i])):
        i += 1
    name = folded[start:i]
    if not set(name) <= _NAME:
        raise src.error("rule_group_needs_quotes", start, text=src.text[start:i])
    out.append(_Token("name", src.text[start:i], name.lower(), start))
    return i


def _string(src: _Source, start: int, out: list[_Token]) -> int:
    text, folded, n = src.text, src.folded, len(src.text)
    quote = folded[start]
    chars: list[str] = []
    i = start + 1
    while True:
        if i >= n or text[i] in _LINE_BREAKS:
            raise src.error("rule_unclosed_string", start)
        c = folded[i]
        if c == quote:
            break
        if c == "\\":
            escaped = folded[i + 1 : i + 2]
            if escaped not in _ESCAPABLE:
                shown = text[i + 1 : i + 2]
                raise src.error("rule_bad_escape", i, char="" if shown in _LINE_BREAKS else shown)
            chars.append(text[i + 1])  # as written: \＂ keeps the full-width quote
            i += 2
            continue
        chars.append(text[i])
        i += 1
    value = "".join(chars)
    if not _key(value):
        raise src.error("rule_empty_string", start)
    out.append(_Token("string", text[start : i + 1], value, start))
    return i + 1


def _number(src: _Source, start: int, out: list[_Token]) -> int:
    folded, n = src.folded, len(src.folded)
    i = start + 1 if folded[start] == "-" else start
    while i < n and folded[i] in _DIGITS:
        i += 1
    if folded[start] != "-" and i - start == 4 and folded[i : i + 1] == "-":
        return _date(src, start, out)
    if folded[i : i + 1] == "." and folded[i + 1 : i + 2] in _DIGITS:
        i += 1
        while i < n and folded[i] in _DIGITS:
            i += 1
    if i < n and (folded[i] in _WORD or folded[i] in ".-" or _is_other(folded[i])):
        end = i
        while end < n and (folded[end] in _WORD or folded[end] in ".-" or _is_other(folded[end])):
            end += 1
        raise src.error("rule_bad_number", start, text=src.text[start:end])
    written = folded[start:i]
    if sum(ch in _DIGITS for ch in written) > MAX_DIGITS:
        raise src.error("rule_number_too_long", start, max=MAX_DIGITS)
    out.append(_Token("number", src.text[start:i], Decimal(written), start))
    return i


def _date(src: _Source, start: int, out: list[_Token]) -> int:
    folded, n = src.folded, len(src.folded)
    end = start
    while end < n and (folded[end] in _WORD or folded[end] in "-./" or _is_other(folded[end])):
        end += 1
    written = folded[start:end]
    shape_ok = len(written) == 10 and written[4] == written[7] == "-"
    digits_ok = shape_ok and all(written[k] in _DIGITS for k in (0, 1, 2, 3, 5, 6, 8, 9))
    try:
        day = date.fromisoformat(written) if digits_ok else None
    except ValueError:
        day = None
    if day is None:
        raise src.error("rule_bad_date", start, text=src.text[start:end])
    out.append(_Token("date", src.text[start:end], day, start))
    return end


# --------------------------------------------------------------------------------------------
# Parser: recursive descent, one function per level of the grammar (README "Grammar").


class _Parser:
    def __init__(self, src: _Source, tokens: list[_Token]) -> None:
        self.src = src
        self.tokens = tokens
        self.pos = 0
        self.terms = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def error(self, code: str, token: _Token, **params: Any) -> RuleError:
        if "found" in params:
            params["found"] = token.text
        return self.src.error(code, token.index, **params)

    def at(self, token: _Token) -> Position:
        return self.src.position(token.index)

    def word(self, token: _Token, *words: str) -> bool:
        return token.kind == "word" and token.value in words

    def rule(self) -> Node:
        first = self.peek()
        if first.kind == "end":
            raise self.src.error("rule_empty", 0)
        if self.word(first, "public") and self.peek(1).kind == "end":
            return Public()
        node = self.disjunction(0)
        last = self.peek()
        if last.kind != "end":
            raise self.error("rule_expected_end", last, found=True)
        return node

    def disjunction(self, depth: int) -> Node:
        operands = [self.conjunction(depth)]
        while self.word(self.peek(), "or"):
            self.advance()
            operands.append(self.conjunction(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self, depth: int) -> Node:
        operands = [self.negation(depth)]
        while self.word(self.peek(), "and"):
            self.advance()
            operands.append(self.negation(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def deeper(self, depth: int, token: _Token) -> int:
        if depth >= MAX_DEPTH:
            raise self.src.error("rule_too_deep", token.index, max=MAX_DEPTH)
        return depth + 1

    def negation(self, depth: int) -> Node:
        token = self.peek()
        if self.word(token, "not"):
            inner = self.deeper(depth, token)
            self.advance()
            return Not(self.negation(inner))
        return self.primary(depth)

    def count(self, token: _Token) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.src.error("rule_too_many_terms", token.index, max=MAX_TERMS)

    def primary(self, depth: int) -> Node:
        token = self.peek()
        if token.kind == "(":
            inner = self.deeper(depth, token)
            self.advance()
            node = self.disjunction(inner)
            close = self.peek()
            if close.kind != ")":
                line, column = self.at(token)
                raise self.error(
                    "rule_expected_paren", close, open_line=line, open_column=column, found=True
                )
            self.advance()
            return node
        if token.kind == "word":
            follows = self.peek(1)
            operator_next = follows.kind == "op" or self.word(follows, "in", "contains")
            if token.value not in RESERVED_WORDS and operator_next:
                return self.comparison()
            if token.value == "members":
                self.count(token)
                self.advance()
                return Members(at=self.at(token))
            if token.value == "public":
                raise self.error("rule_public_alone", token)
            if token.value == "group":
                return self.group()
            if token.value not in RESERVED_WORDS and token.value != "contains":
                return self.comparison()  # says which operator it expected
        raise self.error("rule_expected_term", token, found=True)

    def group(self) -> Node:
        token = self.advance()
        self.count(token)
        colon = self.peek()
        if colon.kind != ":":
            raise self.error("rule_expected_colon", colon, found=True)
        self.advance()
        name = self.peek()
        if name.kind not in ("name", "string"):
            raise self.error("rule_expected_group", name, found=True)
        self.advance()
        return Group(name.value, at=self.at(token))

    def key(self, token: _Token) -> str:
        key = token.value
        if not ("a" <= key[0] <= "z"):
            raise self.src.error("rule_not_a_key", token.index, text=token.text)
        if len(key) > KEY_MAX_LENGTH:
            raise self.src.error("rule_key_too_long", token.index, text=token.text,
                                 max=KEY_MAX_LENGTH)  # fmt: skip
        return str(key)

    def comparison(self) -> Node:
        token = self.advance()
        self.count(token)
        key = self.key(token)
        at = self.at(token)
        operator = self.peek()
        if operator.kind == "op":
            self.advance()
            value = self.value(operator)
            if operator.value in ORDERING and not isinstance(value, Number | Date):
                raise self.error("rule_ordering_needs_number", operator, operator=operator.value)
            return Compare(key, operator.value, value, at=at)
        if self.word(operator, "in"):
            self.advance()
            return In(key, self.items(operator), at=at)
        if self.word(operator, "contains"):
            self.advance()
            return Contains(key, self.value(operator), at=at)
        if self.word(operator, "not") and self.word(self.peek(1), "in", "contains"):
            raise self.error("rule_not_in", operator, key=key)
        raise self.error("rule_expected_operator", operator, field=key, found=True)

    def items(self, operator: _Token) -> tuple[Literal, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise self.error("rule_expected_list", opening, found=True)
        self.advance()
        values: list[Literal] = []
        while True:
            if self.peek().kind == ")" and values:  # after a trailing comma
                self.advance()
                break
            token = self.peek()
            values.append(self.value(operator))
            if len(values) > MAX_ITEMS:
                raise self.src.error("rule_too_many_items", token.index, max=MAX_ITEMS)
            after = self.peek()
            if after.kind == ",":
                self.advance()
            elif after.kind == ")":
                self.advance()
                break
            else:
                raise self.error("rule_expected_comma", after, found=True)
        return tuple(values)

    def value(self, operator: _Token) -> Literal:
        token = self.peek()
        literal: Literal
        if token.kind == "string":
            literal = Text(token.value)
        elif token.kind == "number":
            literal = Number(token.value)
        elif token.kind == "date":
            literal = Date(token.value)
        elif self.word(token, "true", "false"):
            literal = Boolean(token.value == "true")
        else:
            raise self.error("rule_expected_value", token, operator=operator.value, found=True)
        self.advance()
        return literal


# --------------------------------------------------------------------------------------------
# Entry points


def parse(text: str, *, source: str | None = None, line: int = 1, column: int = 1) -> Rule:
    """Compile a rule's text, or raise :class:`RuleError`.

    ``source`` names the file in messages; ``line`` and ``column`` say where in it the rule's
    first character is (a page's ``Access:`` value on line 3 after ``Access: ``: ``line=3,
    column=9``), so every position reported is the file's."""
    if not isinstance(text, str):
        raise RuleError("rule_empty", source=source)
    src = _Source(text, source, line, column)
    if len(text) > MAX_LENGTH:
        raise src.error("rule_too_long", MAX_LENGTH, max=MAX_LENGTH)
    if has_control(text, allow_tab=True) or has_bidi_control(text):
        for index, char in enumerate(text):
            if has_control(char, allow_tab=True):
                raise src.error("rule_control_chars", index, codepoint=f"{ord(char):04X}")
            if has_bidi_control(char):
                raise src.error("rule_bidi_control", index, codepoint=f"{ord(char):04X}")
    parser = _Parser(src, _tokens(src))
    return Rule(parser.rule(), source)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Rule:
    return parse(text)


# Field types of api.customers.types.FieldType, by the kind of literal they compare with.
_TEXT_TYPES = frozenset(
    {"text", "long_text", "email", "phone", "url", "postal_code", "furigana", "select"}
)
_EXPECTS: dict[str, tuple[type, str]] = {
    **dict.fromkeys((*_TEXT_TYPES, "multi_select"), (Text, "rule_expects_text")),
    "integer": (Number, "rule_expects_number"),
    "decimal": (Number, "rule_expects_number"),
    "reference": (Number, "rule_expects_number"),
    "date": (Date, "rule_expects_date"),
    "datetime": (Date, "rule_expects_date"),
    "boolean": (Boolean, "rule_expects_boolean"),
}


def check(
    rule: Rule,
    fields: Mapping[str, str] | Iterable[str],
    groups: Iterable[str] | None = None,
) -> list[RuleWarning]:
    """Warnings for ``rule`` against the member table's ``fields`` (keys, or a mapping of key
    to field type as in ``api.customers.types.FieldType`` to check the values' kinds too) and,
    when given, the known ``groups``. Each problem is reported once, at its first place.

    A warning does not stop a build: an unknown field is simply false for every member (a
    page nobody can read until the field exists), which the build prints so the editor sees it.
    """
    types: Mapping[str, str] | None = fields if isinstance(fields, Mapping) else None
    known = frozenset(fields)
    known_groups = None if groups is None else frozenset(_key(g) for g in groups)
    found: list[RuleWarning] = []
    seen: set[tuple[str, str]] = set()

    def warn(code: str, node: Group | Compare | In | Contains, **params: Any) -> None:
        subject = str(next(iter(params.values())))
        if (code, subject) in seen:
            return
        seen.add((code, subject))
        line, column = node.at if node.at else (None, None)
        found.append(RuleWarning(code, params, rule.source, line, column))

    for node in rule.root.walk():
        if isinstance(node, Group):
            if known_groups is not None and _key(node.name) not in known_groups:
                warn("rule_unknown_group", node, group=node.name)
            continue
        if not isinstance(node, Compare | In | Contains):
            continue
        if node.field not in known:
            warn("rule_unknown_field", node, field=node.field)
            continue
        kind = types.get(node.field) if types is not None else None
        if kind is None:
            continue
        kind = str(kind)
        if kind == "file":
            warn("rule_field_not_usable", node, field=node.field)
            continue
        if isinstance(node, Contains) and kind not in _TEXT_TYPES | {"multi_select"}:
            warn("rule_contains_needs_text", node, field=node.field)
            continue
        expected = _EXPECTS.get(kind)
        literals = node.values if isinstance(node, In) else (node.value,)
        if expected and not all(isinstance(literal, expected[0]) for literal in literals):
            warn(expected[1], node, field=node.field)
    return found


__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_LENGTH",
    "MAX_TERMS",
    "PUBLIC",
    "And",
    "Boolean",
    "Compare",
    "Contains",
    "Date",
    "Decision",
    "Group",
    "In",
    "Literal",
    "Member",
    "Members",
    "Node",
    "Not",
    "Number",
    "Or",
    "Public",
    "Rule",
    "RuleError",
    "RuleWarning",
    "Text",
    "check",
    "parse",
]
