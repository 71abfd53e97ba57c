"""Typed values people type in many ways: choices, e-mail, phone, URL, postal code, furigana."""

from __future__ import annotations

import re

import pytest

from api.fields import Field
from api.fields.types import phone_digits


def codes(field: Field, raw: object) -> list[str]:
    return [e.code for e in field.clean(raw).errors]


def value(field: Field, raw: object) -> object:
    result = field.clean(raw)
    assert result.ok, result.errors
    return result.value


PLAN = Field("select", choices=("gold", "silver", "ブロンズ"))


def test_select_matches_exactly_then_by_match_key() -> None:
    assert value(PLAN, "gold") == "gold"
    assert value(PLAN, " ＧＯＬＤ ") == "gold"
    assert value(PLAN, "Silver") == "silver"
    assert value(PLAN, "ﾌﾞﾛﾝｽﾞ") == "ブロンズ"
    assert value(PLAN, "ぶろんず") == "ブロンズ"


def test_select_refuses_with_the_choices_in_params() -> None:
    (problem,) = PLAN.clean("platinum", name="plan").errors
    assert problem.code == "invalid_choice"
    assert problem.params == {"choices": "gold, silver, ブロンズ"}
    assert problem.message == "must be one of: gold, silver, ブロンズ"
    many = Field("select", choices=tuple(f"c{i}" for i in range(30)))
    (problem,) = many.clean("x").errors
    assert problem.params is None and problem.message == "must be one of the choices"
    assert codes(PLAN, "gold\x00") == ["control_chars"]
    assert codes(PLAN, True) == ["not_text"]


TAGS = Field("multi_select", choices=("news", "seminar", "セミナー案内"), max_choices=2)


def test_multi_select_from_json_and_from_csv_text() -> None:
    assert value(TAGS, ["seminar", "news", "news"]) == ["news", "seminar"]  # choice order
    assert value(TAGS, "seminar、ＮＥＷＳ") == ["news", "seminar"]
    assert value(TAGS, "news; seminar") == ["news", "seminar"]
    assert value(TAGS, "news\nｾﾐﾅｰ案内") == ["news", "セミナー案内"]
    assert value(TAGS, []) is None


def test_multi_select_refuses() -> None:
    assert codes(TAGS, ["news", "seminar", "セミナー案内"]) == ["too_many_choices"]
    assert codes(TAGS, ["nope"]) == ["invalid_choice"]
    assert codes(TAGS, {"news": True}) == ["not_list"]
    assert codes(TAGS, ["news\u202e"]) == ["bidi_control"]
    need_two = Field("multi_select", choices=("a", "b", "c"), min_choices=2)
    (problem,) = need_two.clean(["a"]).errors
    assert problem.code == "too_few_choices" and problem.params == {"min": 2}
    assert codes(Field("multi_select", choices=("a",), required=True), []) == ["required"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("taro@example.com", "taro@example.com"),
     ("ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "taro@example.com"),
     ("  Hanako.Sato@Example.JP\u3000", "hanako.sato@example.jp"),
     ("taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"),  # a carrier's old format
     ("o'brien+news@example.ie", "o'brien+news@example.ie"),
     ("user@例え.jp", "user@xn--r8jz45g.jp")],
)  # fmt: skip
def test_email_accepts_and_normalises(raw: str, expected: str) -> None:
    assert value(Field("email"), raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [("a\x00b@example.jp", "control_chars"), ("a@example.jp\x00", "control_chars"),
     ("a@example.jp\r\nBcc: x@example.com", "single_line"), ("a\u2028@example.jp", "single_line"),
     ("a\u202e@example.jp", "bidi_control"), ("a\tb@example.jp", "control_chars"),
     ("not-an-email", "invalid_email"), ("a@b", "invalid_email"), ("@example.jp", "invalid_email"),
     ("a b@example.jp", "invalid_email"), ("a@exa mple.jp", "invalid_email"),
     ('"a"@example.jp', "invalid_email"), ("a@-example.jp", "invalid_email"),
     ("a@example..jp", "invalid_email"), ("a@1.2.3.4", "invalid_email"),
     ("x" * 65 + "@example.jp", "invalid_email"), ("a@" + "x" * 250 + ".jp", "invalid_email"),
     (42, "not_text")],
)  # fmt: skip
def test_email_refuses(raw: object, code: str) -> None:
    assert codes(Field("email"), raw) == [code]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("03-1234-5678", "03-1234-5678"), ("０３－１２３４－５６７８", "03-1234-5678"),
     ("03ー1234ー5678", "03-1234-5678"), ("090 1234 5678", "090-1234-5678"),
     ("(03) 1234-5678", "03-1234-5678"), ("（03）1234 5678", "03-1234-5678"),
     ("0120-123-456", "0120-123-456"), ("0312345678", "0312345678"),
     ("+81 3-1234-5678", "+81-3-1234-5678"), ("＋８１ ９０ １２３４ ５６７８", "+81-90-1234-5678"),
     ("+1 (212) 555-0123", "+1-212-555-0123"), ("+44 20 7946 0958", "+44-20-7946-0958")],
)  # fmt: skip
def test_phone_accepts(raw: str, expected: str) -> None:
    assert value(Field("phone"), raw) == expected
    assert phone_digits(expected) == phone_digits(raw) == re.sub(r"[-]", "", expected)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("3-1234-5678", "invalid_phone"), ("03-1234-567", "invalid_phone"),
     ("090-1234-56789", "invalid_phone"), ("+0 123 456 789", "invalid_phone"),
     ("+1 234", "invalid_phone"), ("1+234567890", "invalid_phone"), ("03-1234-5678 内線12", "invalid_phone"),
     ("tel:0312345678", "invalid_phone"), ("03\x001234\x005678", "control_chars"), (312345678, "not_text")],
)  # fmt: skip
def test_phone_refuses(raw: object, code: str) -> None:
    assert codes(Field("phone"), raw) == [code]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("https://example.jp/", "https://example.jp/"),
     ("HTTPS://Example.JP/Path?Q=1#Top", "https://example.jp/Path?Q=1#Top"),
     ("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｊｐ", "https://example.jp"),
     ("http://例え.jp/ページ", "http://例え.jp/ページ"), ("http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x"),
     ("http://[::1]:8000/", "http://[::1]:8000/"), ("http://localhost/", "http://localhost/")],
)  # fmt: skip
def test_url_accepts(raw: str, expected: str) -> None:
    assert value(Field("url"), raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [("javascript:alert(1)", "invalid_url"), ("ftp://example.jp/", "invalid_url"),
     ("example.jp", "invalid_url"), ("https://", "invalid_url"), ("https://user:pw@example.jp/", "invalid_url"),
     ("https://exa mple.jp/", "invalid_url"), ("https://example.jp:99999/", "invalid_url"),
     ("https://-bad-.jp/", "invalid_url"), ("https://example.jp/\u202e", "bidi_control"),
     ("https://example.jp/\x00", "control_chars")],
)  # fmt: skip
def test_url_refuses(raw: str, code: str) -> None:
    assert codes(Field("url"), raw) == [code]


@pytest.mark.parametrize(
    "raw",
    ["123-4567", "1234567", "〒123-4567", "〒 １２３－４５６７", "１２３ー４５６７", "〶1234567"],
)
def test_postal_code(raw: str) -> None:
    assert value(Field("postal_code"), raw) == "123-4567"


@pytest.mark.parametrize("raw", ["12-34567", "123-456", "1234-567", "ABC-DEFG", "123 4567"])
def test_postal_code_refuses(raw: str) -> None:
    assert codes(Field("postal_code"), raw) == ["invalid_postal_code"]


@pytest.mark.parametrize(
    "raw", ["ヤマダ タロウ", "やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ　　たろう", " ヤマダ\u3000タロウ "]
)
def test_furigana_is_folded_to_full_width_katakana(raw: str) -> None:
    assert value(Field("furigana"), raw) == "ヤマダ\u3000タロウ"


def test_furigana_in_hiragana_and_special_kana() -> None:
    hira = Field("furigana", kana="hiragana")
    assert value(hira, "ｼﾞｮﾝ・ｽﾐｽ") == "じょん・すみす"
    assert value(hira, "ヴァイオリン") == "ゔぁいおりん"
    assert value(Field("furigana"), "いすゞ") == "イスヾ"
    assert value(Field("furigana"), "ｺｰﾋｰ") == "コーヒー"


@pytest.mark.parametrize(
    ("raw", "code"),
    [("山田", "not_kana"), ("Yamada", "not_kana"), ("ヤマダ1", "not_kana"), ("やまだ😀", "not_kana"),
     ("ヤマダ-タロウ", "not_kana"), ("ヤマダ\u202e", "bidi_control"), ("ヤマダ\x00", "control_chars")],
)  # fmt: skip
def test_furigana_refuses(raw: str, code: str) -> None:
    assert codes(Field("furigana"), raw) == [code]


def test_reference_is_a_positive_64_bit_record_id() -> None:
    ref = Field("reference")
    assert ref.clean(12).value == 12 and ref.clean(" １２ ").value == 12
    for bad in (0, -1, 2**63, True, 1.5, "12a", "٣", [1]):
        assert [e.code for e in ref.clean(bad).errors] == ["invalid_reference"], bad


def test_file_is_the_id_of_an_uploaded_file() -> None:
    upload = Field("file")
    good = "0123456789abcdef0123456789abcdef"
    assert upload.clean(good.upper()).value == good
    assert upload.clean({"id": good, "name": "見積書.pdf"}).value == good
    for bad in ("../etc/passwd", good + "0", 12, "g" * 32, {"name": "x"}):
        assert [e.code for e in upload.clean(bad).errors] == ["invalid_file"], bad


def test_decimal_digits_as_a_numeric_column_holds_them() -> None:
    money = Field("decimal", decimal_places=2, max_digits=18)
    assert money.clean("9999999999999999.99").ok
    (problem,) = money.clean("10000000000000000").errors
    assert (problem.code, problem.params) == ("too_many_digits", {"max": 16})


def test_a_datetime_before_year_one_in_utc_is_refused_not_crashed() -> None:
    assert [e.code for e in Field("datetime").clean("0001-01-01T00:00:00").errors] == [
        "invalid_datetime"
    ]
