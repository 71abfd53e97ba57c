"""COPY's text format as api/copyin writes it: JSON values (msgspec) and text escapes read back
as they were written."""

from __future__ import annotations

import json
import re

from api import copyin

UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def read_field(field: str) -> str:
    """What PostgreSQL reads from one field of COPY's text format."""
    return re.sub(r"\\[\\tnr]", lambda m: UNESCAPE[m.group(0)], field)


def test_json_values_read_back_the_same() -> None:
    value = {
        "name": {"before": None, "after": "髙橋 ①㈱ 𠮷野家 🍣"},
        "note": {"before": "tab\there", "after": 'line 1\nline 2\r\n"quoted" \\ back\\slash'},
        "count": {"before": 1, "after": 12345678901234567890},
        "flags": {"before": [True, False], "after": [1.5, -0.0, 1e-7]},
        "control": {"before": "\x01\x1f\u2028", "after": "</script>"},
    }
    field = copyin.jsonb(value)
    assert "\t" not in field and "\n" not in field and "\r" not in field  # one field, one line
    assert json.loads(read_field(field)) == value
    assert copyin.jsonb(None) == copyin.NULL
    assert json.loads(read_field(copyin.jsonb([]))) == []


def test_text_and_arrays_escape_what_copy_reads_as_separators() -> None:
    assert read_field(copyin.text("a\tb\nc\rd\\e")) == "a\tb\nc\rd\\e"
    assert read_field(copyin.array(['a"b', "c\\d", "e\tf"])) == '{"a\\"b","c\\\\d","e\tf"}'
    assert copyin.field(None) == copyin.NULL and copyin.field(True) == "t"
