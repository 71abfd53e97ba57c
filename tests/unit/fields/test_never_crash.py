"""Whatever comes in, every type answers with a value or field errors, never an exception, and
no accepted value carries a character no field may store."""

from __future__ import annotations

import random
import re

import pytest

from api.fields import TYPES, Field

ALPHABET = (
    "aZ09@.-+:/_ ,、;|\u3000\t\n\r\x00\x07\x1b\x7f\x85\x9b\u2028\u2029\u202a\u202e\u2066\u2069"
    "\u200b\u200d\ufeff\ud800１２ＡＢ＠．－ー−ｶﾞﾀかなカナ漢字㈱①髙😀年月日時分令和〒"
)
NEVER = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
OPTIONS = {"select": {"choices": ("a", "b")}, "multi_select": {"choices": ("a", "b")}}


@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_random_input_never_raises(type_name: str) -> None:
    field = Field(type_name, **OPTIONS.get(type_name, {}))  # type: ignore[arg-type]
    rng = random.Random(type_name)
    samples: list[object] = [None, 0, -1, 1.5, True, [], {}, ["a", None], 2**80, float("nan")]
    samples += ["".join(rng.choices(ALPHABET, k=rng.randint(0, 24))) for _ in range(3000)]
    for raw in samples:
        result = field.clean(raw, name="f", row=1)
        if result.ok:
            values = result.value if isinstance(result.value, list) else [result.value]
            for v in values:
                if isinstance(v, str):
                    allowed_newlines = type_name == "long_text"
                    text = v.replace("\n", "").replace("\t", "") if allowed_newlines else v
                    assert not NEVER.search(text) and "\n" not in text, (type_name, raw, v)
        else:
            assert all(
                e.field == "f" and e.row == 1 and e.code and e.message for e in result.errors
            )
