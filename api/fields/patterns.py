"""Staff-defined ``pattern`` options: refused at design time when matching could take forever.

Python's ``re`` backtracks, cannot be interrupted (a match holds the GIL; a signal handler
runs only after it returns) and has no time-out; the ``regex`` module's ``timeout=`` would, but
it is not a dependency. So a pattern is checked once, when it is defined, by walking its parse
tree, and refused when it has the shapes behind catastrophic (exponential) backtracking:

- a quantifier inside a repeated group whose own repeat is unbounded (``(a+)+``, ``(\\w*\\s?)*``,
  ``(a{2,})*``): *nested quantifiers*;
- an alternation of multi-character branches inside an unbounded repeat (``(ab|a)*``);
  single characters (``(a|b)*``) are a character class and fine;
- a back-reference (``(a)\\1``), which makes matching NP-hard in general;
- more than :data:`MAX_UNBOUNDED` unbounded quantifiers in all (``\\d*\\d*\\d*\\d*\\d*x`` is
  polynomial of a high degree).

What remains is at worst polynomial of a low degree, on values whose length every field
bounds (a text field at most 1,000 characters). The pattern's own length is capped too.
"""

from __future__ import annotations

import re
import re._constants as _c  # the parser of ``re`` itself (Python 3.11+)
import re._parser as _p
from typing import Any

MAX_PATTERN_LENGTH = 200
MAX_UNBOUNDED = 3
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_UNBOUNDED = _c.MAXREPEAT


class UnsafePattern(ValueError):
    """A pattern refused for how long it could take to match; ``reason`` says why (English)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled pattern, or :class:`UnsafePattern` (``re.error`` when it is not one)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"is longer than {MAX_PATTERN_LENGTH} characters")
    compiled = re.compile(pattern)
    tree = _p.parse(pattern)
    state = {"unbounded": 0}
    _walk(list(tree), inside_unbounded=False, inside_repeat=False, state=state)
    if state["unbounded"] > MAX_UNBOUNDED:
        raise UnsafePattern(
            f"has more than {MAX_UNBOUNDED} unbounded repeats (*, +, {{n,}}); "
            "matching could take very long"
        )
    return compiled


def _walk(items: list[Any], *, inside_unbounded: bool, inside_repeat: bool, state: dict) -> None:
    for op, av in items:
        if op in _REPEATS:
            _low, high, body = av
            unbounded = high == _UNBOUNDED
            if unbounded:
                state["unbounded"] += 1
            if inside_unbounded and (unbounded or high > 1):
                raise UnsafePattern(
                    "has a repeated group that contains another repeat, like (a+)+ "
                    "(nested quantifiers); matching could take forever"
                )
            if inside_repeat and unbounded:
                raise UnsafePattern(
                    "has a repeated group that contains an unbounded repeat, like (a+){2} "
                    "(nested quantifiers); matching could take forever"
                )
            _walk(
                list(body),
                inside_unbounded=inside_unbounded or unbounded,
                inside_repeat=True,
                state=state,
            )
        elif op == _c.SUBPATTERN:
            _walk(list(av[-1]), inside_unbounded=inside_unbounded, inside_repeat=inside_repeat,
                  state=state)  # fmt: skip
        elif op == _c.BRANCH:
            branches = av[1]
            if inside_unbounded and any(_width(list(b)) != (1, 1) for b in branches):
                raise UnsafePattern(
                    "has alternatives of several characters inside a repeat, like (ab|a)*; "
                    "matching could take forever"
                )
            for branch in branches:
                _walk(list(branch), inside_unbounded=inside_unbounded,
                      inside_repeat=inside_repeat, state=state)  # fmt: skip
        elif op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
            raise UnsafePattern("refers back to a group (\\1); use a plain pattern")
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            _walk(list(av[1]), inside_unbounded=inside_unbounded, inside_repeat=inside_repeat,
                  state=state)  # fmt: skip
        elif op == getattr(_c, "ATOMIC_GROUP", None):
            _walk(list(av), inside_unbounded=inside_unbounded, inside_repeat=inside_repeat,
                  state=state)  # fmt: skip


def _width(items: list[Any]) -> tuple[int, int]:
    sub = _p.SubPattern(_p.State(), items)
    low, high = sub.getwidth()
    return int(low), int(min(high, _UNBOUNDED))
