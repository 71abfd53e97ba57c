"""Field definitions, field sets, keys, and the message catalog."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from api.errors import FieldError, ValidationFailed
from api.fields import (
    MESSAGES,
    TYPES,
    Field,
    FieldSet,
    catalog,
    localize,
    match_key,
    message,
    raise_for,
    report_line,
    search_key,
)

ROOT = Path(__file__).resolve().parents[3]


def test_definitions_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown field type"):
        Field("colour")
    with pytest.raises(ValueError, match="choices"):
        Field("select")
    with pytest.raises(ValueError, match="min is greater"):
        Field("integer", min=5, max=1)
    with pytest.raises(ValueError, match="default"):
        Field("integer", max=3, default=5)
    with pytest.raises(ValueError):
        Field("date", min="not a date")
    with pytest.raises(ValueError):
        Field("furigana", kana="romaji")
    with pytest.raises(re.error):
        Field("text", pattern="(")


def test_a_definition_round_trips_through_plain_values() -> None:
    original = Field("decimal", required=True, min=0, max="99.5", decimal_places=1, default="1.5")
    data = original.as_dict()
    assert data == {
        "type": "decimal", "required": True, "default": "1.5", "min": "0", "max": "99.5",
        "decimal_places": 1,
    }  # fmt: skip
    assert json.loads(json.dumps(data)) == data
    assert Field.from_dict(data) == original
    assert original.default == Decimal("1.5")  # the default is kept clean
    assert FieldSet({"n": Field("date", default="令和8年4月1日")}).clean({})[0] == {
        "n": date(2026, 4, 1)
    }
    select = Field("select", choices=("a", "b"))
    assert Field.from_dict(json.loads(json.dumps(select.as_dict()))) == select


def test_field_set_reports_every_error_with_field_and_row() -> None:
    person = FieldSet(
        {
            "name": Field("text", required=True, max_length=50),
            "email": Field("email", required=True),
            "kana": Field("furigana"),
            "plan": Field("select", choices=("free", "gold"), default="free"),
        }
    )
    clean, errors = person.clean(
        {"name": "㈱絆\u3000", "email": "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "kana": "ｷｽﾞﾅ"}, row=3
    )
    assert not errors
    assert clean == {"name": "㈱絆", "email": "taro@example.com", "kana": "キズナ", "plan": "free"}
    clean, errors = person.clean({"name": "a\u202e", "kana": "絆", "extra": 1}, row=7)
    assert {(e.field, e.code, e.row) for e in errors} == {
        ("extra", "unknown_field", 7),
        ("name", "bidi_control", 7),
        ("email", "required", 7),
        ("kana", "not_kana", 7),
    }
    clean, errors = person.clean({"kana": "やまだ"}, partial=True)
    assert clean == {"kana": "ヤマダ"} and not errors


def test_raise_for_names_every_field() -> None:
    raise_for([])
    with pytest.raises(ValidationFailed) as info:
        raise_for(Field("email").clean("x", name="to").errors)
    assert info.value.detail == "to: is not a valid e-mail address"
    assert info.value.errors[0].as_dict() == {
        "field": "to", "message": "is not a valid e-mail address", "code": "invalid_email",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b"),
    [("ﾔﾏﾀﾞ　ﾀﾛｳ", "やまだ たろう"), ("ヤマダ  タロウ", "やまだ たろう"), ("㈱絆", "(株)絆"),
     ("ＴＡＲＯ@Example.com", "taro@example.com"), ("①", "1"), ("Straße", "STRASSE")],
)  # fmt: skip
def test_match_key_folds_width_case_kana_and_spaces(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


def test_match_key_keeps_words_and_variant_kanji_apart_search_key_does_not() -> None:
    assert match_key("山田 太郎") != match_key("山田太郎")
    assert match_key("髙橋") != match_key("高橋")
    assert search_key("山田 太郎") == search_key("山田太郎") == "山田太郎"
    assert search_key("髙橋\u3000ﾀﾛｳ") == search_key("高橋たろう")
    assert search_key("㈱キズナ") == "(株)きずな"


def test_every_code_a_type_raises_has_both_languages() -> None:
    source = (ROOT / "api" / "fields" / "types.py").read_text("utf-8")
    raised = set(re.findall(r'Invalid\(\s*"(\w+)"', source)) | {"unknown_field"}
    assert raised <= set(MESSAGES), raised - set(MESSAGES)
    assert len(raised) > 20
    placeholder = re.compile(r"\{(\w+)\}")
    for code, entry in MESSAGES.items():
        assert set(placeholder.findall(entry.en)) == set(placeholder.findall(entry.ja)), code
        if placeholder.findall(entry.en):
            assert entry.plain_en and entry.plain_ja, f"{code} needs a plain wording"


def test_every_code_is_in_the_admin_catalogs() -> None:
    for lang in ("ja", "en"):
        path = ROOT / "api" / "admin" / "static" / "i18n" / f"{lang}.json"
        catalog = json.loads(path.read_text("utf-8"))
        missing = [c for c in MESSAGES if f"error.{c}" not in catalog]
        assert not missing, f"{lang}.json lacks error.<code> for {missing}"


def test_messages_in_both_languages_with_params_and_rows() -> None:
    (problem,) = Field("text", max_length=5).clean("長すぎる名前です", name="name", row=4).errors
    assert problem.message == "must be at most 5 characters"
    assert localize(problem, "ja") == "5文字以内で入力してください"
    assert report_line(problem, "en") == "row 4, name: must be at most 5 characters"
    assert report_line(problem, "ja", label="氏名") == "4行目 氏名: 5文字以内で入力してください"
    assert message("too_long", {}, "ja") == "長すぎます"  # the plain wording without params
    assert message("no_such_code", None, "en") == "is not valid"
    assert catalog("ja")["too_long"] == "{max}文字以内で入力してください"
    assert catalog("en").keys() == catalog("ja").keys() == MESSAGES.keys()
    other = FieldError("password", "is too common", "password_too_common")
    assert localize(other, "ja") == "is too common"  # not ours: the error's own message


def test_every_type_is_covered_by_a_test_module() -> None:
    tests = "".join(p.read_text("utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    for name in TYPES:
        assert f'Field("{name}"' in tests, name
