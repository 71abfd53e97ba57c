"""Integers, decimals, dates (Japanese eras too), datetimes in JST, booleans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from api.fields import Field


def codes(field: Field, raw: object) -> list[str]:
    return [e.code for e in field.clean(raw).errors]


def value(field: Field, raw: object) -> object:
    result = field.clean(raw)
    assert result.ok, result.errors
    return result.value


INT = Field("integer", min=0, max=10_000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12, 12), ("12", 12), ("１２３", 123), (" 1,234 ", 1234), ("１，２３４", 1234), ("+5", 5),
     ("0", 0), ("\u3000７\u3000", 7)],
)  # fmt: skip
def test_integer_accepts(raw: object, expected: int) -> None:
    assert value(INT, raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [("12.5", "not_integer"), (12.0, "not_integer"), (True, "not_integer"), ("1e3", "not_integer"),
     ("12,34", "not_integer"), ("٣", "not_integer"), ("1_000", "not_integer"), ("abc", "not_integer"),
     ("-1", "too_small"), ("10001", "too_large"), ("1\x00", "control_chars")],
)  # fmt: skip
def test_integer_refuses(raw: object, code: str) -> None:
    assert codes(INT, raw) == [code]


def test_integer_bounds_in_params_and_the_64_bit_limit() -> None:
    (problem,) = INT.clean(-1).errors
    assert problem.params == {"min": 0} and problem.message == "must be at least 0"
    assert value(Field("integer"), "−5") == -5  # U+2212 MINUS SIGN
    assert codes(Field("integer"), 2**63) == ["too_large"]
    assert codes(Field("integer"), str(-(2**63) - 1)) == ["too_small"]


def test_decimal() -> None:
    price = Field("decimal", min=0, max="99999.99", decimal_places=2)
    assert value(price, "１，２３４．５") == Decimal("1234.5")
    assert value(price, 12) == Decimal(12)
    assert value(price, 0.1) == Decimal("0.1")
    assert value(price, ".5") == Decimal("0.5")
    assert codes(price, "1.234") == ["too_many_decimals"]
    assert price.clean("1.234").errors[0].params == {"places": 2}
    assert value(price, "1.2300") == Decimal("1.2300")  # trailing zeros lose nothing
    whole = Field("decimal", decimal_places=0)
    assert value(whole, "198000.00") == Decimal("198000.00") and value(whole, "0.000") == 0
    assert codes(whole, "198000.5") == ["too_many_decimals"]
    assert codes(price, "-1") == ["too_small"]
    assert codes(price, "100000") == ["too_large"]
    for bad in ("NaN", "Infinity", "1e5", "abc", float("nan"), float("inf"), True, "1.2.3"):
        assert codes(price, bad) == ["not_number"], bad
    assert codes(Field("decimal"), "9" * 39) == ["too_many_digits"]


DATE = Field("date", min="2000-01-01", max="2030-12-31")


@pytest.mark.parametrize(
    "raw",
    ["2026-04-01", "2026/4/1", "2026.04.01", "20260401", "２０２６－０４－０１", "2026年4月1日",
     "令和8年4月1日", "令和８年４月１日", "R8.4.1", "r8/04/01", date(2026, 4, 1)],
)  # fmt: skip
def test_date_accepts(raw: object) -> None:
    assert value(DATE, raw) == date(2026, 4, 1)


def test_date_eras_and_their_boundaries() -> None:
    assert value(DATE, "平成31年4月30日") == date(2019, 4, 30)
    assert value(DATE, "令和元年5月1日") == date(2019, 5, 1)
    assert value(DATE, "㍻12年1月1日") == date(2000, 1, 1)  # the one-character era sign
    assert codes(DATE, "平成31年5月1日") == ["invalid_date"]  # that day is Reiwa
    assert codes(DATE, "令和1年4月30日") == ["invalid_date"]  # that day is Heisei


@pytest.mark.parametrize(
    ("raw", "code"),
    [("2026-02-30", "invalid_date"), ("2026-13-01", "invalid_date"), ("tomorrow", "invalid_date"),
     ("2026-04-01 10:00", "invalid_date"), (datetime(2026, 4, 1, tzinfo=UTC), "invalid_date"),
     (20260401, "invalid_date"), ("1999-12-31", "too_early"), ("2031-01-01", "too_late"),
     ("2026-04-01\u202e", "bidi_control")],
)  # fmt: skip
def test_date_refuses(raw: object, code: str) -> None:
    assert codes(DATE, raw) == [code]


def test_date_bounds_in_params() -> None:
    (problem,) = DATE.clean("1999-12-31").errors
    assert problem.params == {"min": "2000-01-01"}


JST_0930_UTC = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    ["2026-04-01 09:30", "2026-04-01T09:30", "2026/4/1 9:30", "２０２６－０４－０１　０９：３０",
     "2026年4月1日 9時30分", "2026-04-01T00:30:00Z", "2026-04-01T09:30:00+09:00",
     "2026-03-31 19:30-05:00", "2026-04-01 09:30:00.000", datetime(2026, 4, 1, 9, 30),
     datetime(2026, 4, 1, 9, 30, tzinfo=timezone(timedelta(hours=9)))],
)  # fmt: skip
def test_datetime_is_typed_in_jst_and_kept_in_utc(raw: object) -> None:
    result = value(Field("datetime"), raw)
    assert result == JST_0930_UTC
    assert isinstance(result, datetime) and result.utcoffset() == timedelta(0)


def test_datetime_in_another_site_time_zone_and_bounds() -> None:
    assert value(Field("datetime", timezone="UTC"), "2026-04-01 00:30") == JST_0930_UTC
    window = Field("datetime", min="2026-04-01 00:00", max="2026-04-30 23:59")
    (problem,) = window.clean("2026-03-31 23:59").errors
    assert problem.code == "too_early" and problem.params == {"min": "2026-04-01 00:00"}
    assert [e.code for e in window.clean("2026-05-01 00:00").errors] == ["too_late"]


@pytest.mark.parametrize(
    "raw",
    ["2026-04-01", "09:30", "2026-04-01 25:00", "2026-04-01 09:30+99:99", date(2026, 4, 1), 1],
)
def test_datetime_refuses(raw: object) -> None:
    assert codes(Field("datetime"), raw) == ["invalid_datetime"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("FALSE", False),
     ("はい", True), ("いいえ", False), ("ｙｅｓ", True), ("off", False), ("○", True), ("×", False)],
)  # fmt: skip
def test_boolean(raw: object, expected: bool) -> None:
    assert value(Field("boolean"), raw) is expected


def test_boolean_refuses_and_false_is_not_empty() -> None:
    for bad in ("maybe", 2, 0.5, []):
        assert codes(Field("boolean"), bad) == ["not_boolean"], bad
    assert value(Field("boolean", required=True), False) is False
    assert codes(Field("boolean", required=True), None) == ["required"]
