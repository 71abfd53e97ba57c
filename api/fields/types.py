"""Field types and field definitions.

A :class:`Field` is a declaration: a type name plus options (``required``, ``max_length``,
``min``/``max``, ``pattern``, ``choices``, ``default``…). ``field.clean(raw)`` normalises and
validates one value and returns a :class:`Cleaned`: the clean value, or field errors with a
stable code and params (and the row, for values read from a file). A :class:`FieldSet` does the
same for a mapping of named values (a request body, a CSV row).

Each type accepts what JSON gives (``12``, ``true``, ``["a", "b"]``) and what forms and CSV
give (strings, typed in full width or not).
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, asdict, dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import api.fields.chars as chars
from api.errors import FieldError, ValidationFailed
from api.fields.messages import message
from api.fields.patterns import check_pattern

SITE_TIMEZONE = "Asia/Tokyo"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DIGITS = 38  # what every database's numeric type holds
MAX_CHOICES_IN_MESSAGE = 20


class Invalid(Exception):
    """Raised inside a type's ``parse``; becomes a :class:`FieldError` naming the field."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = {
            k: v if isinstance(v, int | float | str) else str(v) for k, v in params.items()
        }


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The outcome of cleaning one value: ``value`` when ``ok``, else ``errors``."""

    value: Any = None
    errors: tuple[FieldError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


# ------------------------------------------------------------------------- shared checks


def _text(raw: Any, *, multiline: bool = False) -> str:
    """A string with the never-accepted characters refused; trimmed (U+3000 included)."""
    if not isinstance(raw, str):
        raise Invalid("not_text")
    if not multiline and chars.is_plain_line(raw):
        return raw
    value = chars.trim(chars.unify_line_breaks(raw) if multiline else raw)
    if chars.has_control(value, allow_tab=multiline):
        raise Invalid("control_chars")
    if not multiline and chars.has_line_break(value):
        raise Invalid("single_line")
    if chars.has_bidi_control(value):
        raise Invalid("bidi_control")
    return value


def _typed(raw: Any) -> str:
    """A typed value as text: the single-line checks, then NFKC (１２３ → 123)."""
    return chars.nfkc(_text(raw))


_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70", "-")
)


def _check_length(value: str, f: Field) -> None:
    if f.min_length is not None and len(value) < f.min_length:
        raise Invalid("too_short", min=f.min_length)
    limit = f.max_length if f.max_length is not None else f.kind.hard_max_length
    if limit is not None and len(value) > limit:
        raise Invalid("too_long", max=limit)


# ------------------------------------------------------------------------- types


class FieldType(ABC):
    """One kind of value. Subclasses implement ``parse`` (a non-empty raw value → clean value)."""

    name: ClassVar[str]
    text_like: ClassVar[bool] = True  # max_length / min_length / pattern apply
    hard_max_length: ClassVar[int | None] = None  # when the definition sets no max_length

    def is_empty(self, raw: Any) -> bool:
        return raw is None or (isinstance(raw, str) and not chars.trim(raw))

    def empty(self, raw: Any) -> Any:
        """The value of an empty, optional field."""
        return None

    @abstractmethod
    def parse(self, raw: Any, f: Field) -> Any:
        """A non-empty raw value → the clean value; raises ``Invalid`` when it is not one."""

    def bound(self, value: Any, f: Field) -> Any:
        """A ``min``/``max`` option in this type's terms (definitions may give strings)."""
        return value

    def check(self, f: Field) -> None:  # noqa: B027 (optional hook: most types accept any)
        """Refuse a definition that cannot work (a programming error: ``ValueError``)."""


class Text(FieldType):
    """Single-line free text, stored as typed (trimmed): ㈱, ①, 髙, ＡＢＣ stay."""

    name = "text"
    hard_max_length = 10_000

    def parse(self, raw: Any, f: Field) -> str:
        return _text(raw)

    def empty(self, raw: Any) -> Any:
        return "" if isinstance(raw, str) else None  # emptied stays empty text


class LongText(FieldType):
    """Free text over several lines: newlines (all spellings become ``\\n``) and tabs allowed."""

    name = "long_text"
    hard_max_length = 1_000_000
    empty = Text.empty

    def parse(self, raw: Any, f: Field) -> str:
        return _text(raw, multiline=True)


_INTEGER = re.compile(r"[+-]?[0-9]+")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _number_text(raw: str) -> str:
    value = _typed(raw).translate(_DASHES)  # "−5" (U+2212) is minus five
    return value.replace(",", "") if _GROUPED.fullmatch(value) else value


class Integer(FieldType):
    """A whole number (64-bit). "１，２３４" → 1234."""

    name = "integer"
    text_like = False

    def parse(self, raw: Any, f: Field) -> int:
        if isinstance(raw, bool):
            raise Invalid("not_integer")
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str):
            text = _number_text(raw)
            if not _INTEGER.fullmatch(text):
                raise Invalid("not_integer")
            value = int(text)
        else:
            raise Invalid("not_integer")
        low = INT64_MIN if f.min is None else max(f.min, INT64_MIN)
        high = INT64_MAX if f.max is None else min(f.max, INT64_MAX)
        if value < low:
            raise Invalid("too_small", min=low)
        if value > high:
            raise Invalid("too_large", max=high)
        return value

    def bound(self, value: Any, f: Field) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"integer bounds must be int, not {value!r}")
        return value


class DecimalType(FieldType):
    """An exact decimal number (``Decimal``); ``decimal_places`` limits the fraction."""

    name = "decimal"
    text_like = False

    def parse(self, raw: Any, f: Field) -> Decimal:
        if isinstance(raw, bool):
            raise Invalid("not_number")
        if isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, float | Decimal):
            value = Decimal(repr(raw)) if isinstance(raw, float) else raw
            if not value.is_finite():
                raise Invalid("not_number")
        elif isinstance(raw, str):
            text = _number_text(raw)
            if not _DECIMAL.fullmatch(text):
                raise Invalid("not_number")
            value = Decimal(text)
        else:
            raise Invalid("not_number")
        _sign, digits, exponent = value.as_tuple()
        # Trailing zeros lose nothing: "198000.00" has no decimals to refuse in a whole-number
        # field, "1.50" fits one place.
        significant = value.normalize().as_tuple().exponent if value else 0
        places = -significant if isinstance(significant, int) and significant < 0 else 0
        if len(digits) > MAX_DIGITS or (
            isinstance(exponent, int) and exponent > 0 and len(digits) + exponent > MAX_DIGITS
        ):
            raise Invalid("too_many_digits", max=MAX_DIGITS)
        if f.decimal_places is not None and places > f.decimal_places:
            raise Invalid("too_many_decimals", places=f.decimal_places)
        if f.max_digits is not None:  # NUMERIC(max_digits, decimal_places)
            whole = f.max_digits - (f.decimal_places or 0)
            if abs(value) >= Decimal(10) ** whole:
                raise Invalid("too_many_digits", max=whole)
        if f.min is not None and value < f.min:
            raise Invalid("too_small", min=str(f.min))
        if f.max is not None and value > f.max:
            raise Invalid("too_large", max=str(f.max))
        return value

    def bound(self, value: Any, f: Field) -> Any:
        return Decimal(str(value))


# Japanese eras: name, first day, the offset from era year to Gregorian year.
_ERAS = (
    ("令和", date(2019, 5, 1), 2018, "R"),
    ("平成", date(1989, 1, 8), 1988, "H"),
    ("昭和", date(1926, 12, 25), 1925, "S"),
    ("大正", date(1912, 7, 30), 1911, "T"),
    ("明治", date(1868, 10, 23), 1867, "M"),
)
_ERA_BY_KEY = {k: era for era in _ERAS for k in (era[0], era[3])}
_DATE_PATTERNS = (
    re.compile(r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"),
    re.compile(r"(?P<y>[0-9]{4})年\s*(?P<m>[0-9]{1,2})月\s*(?P<d>[0-9]{1,2})日"),
    re.compile(
        r"(?P<era>令和|平成|昭和|大正|明治)\s*(?P<y>[0-9]{1,2}|元)年\s*(?P<m>[0-9]{1,2})月\s*"
        r"(?P<d>[0-9]{1,2})日"
    ),
    re.compile(
        r"(?P<era>[RHSTM])(?P<y>[0-9]{1,2})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})", re.I
    ),
)


def _parse_date(text: str) -> date | None:
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        parts = match.groupdict()
        year = 1 if parts["y"] == "元" else int(parts["y"])
        era_name = parts.get("era")
        era = _ERA_BY_KEY.get(era_name.upper()) if era_name else None
        if era is not None:
            year += era[2]
        try:
            value = date(year, int(parts["m"]), int(parts["d"]))
        except ValueError:
            return None
        if era is not None:
            index = _ERAS.index(era)
            if value < era[1] or (index > 0 and value >= _ERAS[index - 1][1]):
                return None  # 平成31年5月1日 is not a day of Heisei
        return value
    return None


class DateType(FieldType):
    """A calendar date: 2026-04-01, 2026/4/1, 20260401, 2026年4月1日, 令和8年4月1日, R8.4.1."""

    name = "date"
    text_like = False

    def parse(self, raw: Any, f: Field) -> date:
        if isinstance(raw, datetime):
            raise Invalid("invalid_date")
        if isinstance(raw, date):
            value: date | None = raw
        elif isinstance(raw, str):
            value = _parse_date(_typed(raw))
        else:
            value = None
        if value is None:
            raise Invalid("invalid_date")
        if f.min is not None and value < f.min:
            raise Invalid("too_early", min=f.min.isoformat())
        if f.max is not None and value > f.max:
            raise Invalid("too_late", max=f.max.isoformat())
        return value

    def bound(self, value: Any, f: Field) -> Any:
        parsed = self.parse(value, Field("date"))
        return parsed


_TIME = re.compile(
    r"(?P<date>.+?)(?:T|\s+)(?:(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?"
    r"|(?P<jh>[0-9]{1,2})時(?:(?P<jmi>[0-9]{1,2})分)?(?:(?P<js>[0-9]{1,2})秒)?)"
    r"\s*(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.I,
)
_ISO_DATE_T = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T(.*)", re.I)


def _parse_datetime(text: str, zone: tzinfo) -> datetime | None:
    text = _ISO_DATE_T.sub(r"\1 \2", text)
    match = _TIME.fullmatch(text)
    if not match:
        return None
    day = _parse_date(match["date"].strip())
    if day is None:
        return None
    hour = match["h"] or match["jh"]
    minute, second = match["mi"] or match["jmi"] or "0", match["s"] or match["js"] or "0"
    micro = int((match["f"] or "0").ljust(6, "0"))
    try:
        clock = time(int(hour), int(minute), int(second), micro)
    except ValueError:
        return None
    if match["tz"]:
        tz = match["tz"].upper()
        if tz == "Z":
            offset: tzinfo = UTC
        else:
            digits = tz[1:].replace(":", "")
            try:
                offset = datetime.strptime(f"{tz[0]}{digits}", "%z").tzinfo or UTC
            except ValueError:
                return None
        return datetime.combine(day, clock, offset).astimezone(UTC)
    return datetime.combine(day, clock, zone).astimezone(UTC)


class DateTimeType(FieldType):
    """A moment: typed in the site's time zone (JST unless the field says), kept in UTC.

    "2026-04-01 09:30" (JST) → 2026-04-01T00:30:00+00:00; an explicit offset or Z is honoured;
    a naive ``datetime`` is read in the field's time zone.
    """

    name = "datetime"
    text_like = False

    def parse(self, raw: Any, f: Field) -> datetime:
        zone = ZoneInfo(f.timezone)
        try:
            if isinstance(raw, datetime):
                value: datetime | None = (
                    raw.replace(tzinfo=zone) if raw.tzinfo is None else raw
                ).astimezone(UTC)
            elif isinstance(raw, str):
                value = _parse_datetime(_typed(raw), zone)
            else:
                value = None
        except OverflowError:  # 0001-01-01 00:00 in JST is before year 1 in UTC
            value = None
        if value is None:
            raise Invalid("invalid_datetime")
        shown = "%Y-%m-%d %H:%M"
        if f.min is not None and value < f.min:
            raise Invalid("too_early", min=f.min.astimezone(zone).strftime(shown))
        if f.max is not None and value > f.max:
            raise Invalid("too_late", max=f.max.astimezone(zone).strftime(shown))
        return value

    def bound(self, value: Any, f: Field) -> Any:
        return self.parse(value, Field("datetime", timezone=f.timezone))

    def check(self, f: Field) -> None:
        ZoneInfo(f.timezone)  # raises for an unknown zone


_TRUE = frozenset({"true", "1", "yes", "y", "on", "はい", "有", "○", "◯", "✓"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "いいえ", "無", "×", "✗"})


class Boolean(FieldType):
    """true/false; from text also 1/0, yes/no, on/off, はい/いいえ, 有/無, ○/×."""

    name = "boolean"
    text_like = False

    def parse(self, raw: Any, f: Field) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            text = _typed(raw).casefold()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise Invalid("not_boolean")


def _choice(raw: Any, f: Field) -> str:
    choices = f.choices or ()
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    text = _text(raw)
    if text in choices:
        return text
    key = chars.match_key(text)
    found = [c for c in choices if chars.match_key(c) == key]
    if len(found) == 1:
        return found[0]  # "ＧＯＬＤ" or " Gold" picks "gold"
    if len(choices) <= MAX_CHOICES_IN_MESSAGE:
        raise Invalid("invalid_choice", choices=", ".join(choices))
    raise Invalid("invalid_choice")


class Select(FieldType):
    """One of ``choices`` (compared exactly, then by :func:`~api.fields.chars.match_key`)."""

    name = "select"
    text_like = False

    def parse(self, raw: Any, f: Field) -> str:
        return _choice(raw, f)

    def check(self, f: Field) -> None:
        if not f.choices:
            raise ValueError(f"a {self.name} field needs choices")


_SEPARATORS = re.compile(r"\s*[,、;；|\n]\s*")


class MultiSelect(FieldType):
    """Several of ``choices``: a JSON list, or text separated by , 、 ; | or newlines.

    Duplicates are dropped; the value is a list in the order of the definition's choices.
    """

    name = "multi_select"
    text_like = False
    check = Select.check

    def is_empty(self, raw: Any) -> bool:
        return super().is_empty(raw) or (isinstance(raw, list | tuple) and not raw)

    def parse(self, raw: Any, f: Field) -> list[str]:
        choices = f.choices or ()
        if isinstance(raw, str):
            text = _text(raw, multiline=True)
            items: list[Any] = [text] if text in choices else _SEPARATORS.split(text)
        elif isinstance(raw, list | tuple):
            items = list(raw)
        else:
            raise Invalid("not_list")
        picked = {_choice(item, f) for item in items if not self._blank(item)}
        value = [c for c in choices if c in picked]
        if f.min_choices is not None and len(value) < f.min_choices:
            raise Invalid("too_few_choices", min=f.min_choices)
        if f.max_choices is not None and len(value) > f.max_choices:
            raise Invalid("too_many_choices", max=f.max_choices)
        return value

    @staticmethod
    def _blank(item: Any) -> bool:
        return isinstance(item, str) and not chars.trim(item)


_EMAIL_LOCAL_FORBIDDEN = re.compile(r"[\s\"(),:;<>@\[\\\]]")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _ascii_domain(domain: str) -> str | None:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(x) for x in labels):
        return None
    if labels[-1].isdigit():
        return None  # an IP address, not a mail domain
    return domain


class Email(FieldType):
    """An e-mail address: NFKC, lower-cased, international domains as punycode.

    The part before @ is checked as leniently as :mod:`api.mail.messages` sends it (Japanese
    carriers issued addresses such as ``taro..yamada.@docomo.ne.jp``), but never with a
    control, line-break, bidi or space character.
    """

    name = "email"
    hard_max_length = 254

    def parse(self, raw: Any, f: Field) -> str:
        value = _typed(raw).lower()
        local, at, domain = value.rpartition("@")
        if not at or not local or len(local.encode()) > 64 or _EMAIL_LOCAL_FORBIDDEN.search(local):
            raise Invalid("invalid_email")
        ascii_domain = _ascii_domain(domain)
        if ascii_domain is None:
            raise Invalid("invalid_email")
        value = f"{local}@{ascii_domain}"
        if len(value) > 254:
            raise Invalid("invalid_email")
        return value


_PHONE_CHARS = re.compile(r"\+?[0-9()\-. ]+")


class Phone(FieldType):
    """A phone number, kept with its groups as the person typed them, in ASCII with hyphens.

    Japanese numbers start with 0 and have 10 or 11 digits (03-1234-5678, 090-1234-5678,
    0120-123-456); international ones start with + and have 8 to 15 digits (E.164).
    Full-width digits, the dashes people type (ー, －, ‐, −), spaces, dots and parentheses are
    accepted; every run of them becomes one "-": "（03）1234 5678" → "03-1234-5678", "0312345678"
    stays as it is. The grouping is the writer's (Japanese area codes have 1 to 4 digits and no
    rule tells them apart without a table); comparing two numbers (duplicates, upsert keys) uses
    :func:`phone_digits`.
    """

    name = "phone"
    hard_max_length = 24

    def parse(self, raw: Any, f: Field) -> str:
        text = _typed(raw).translate(_DASHES)
        if not _PHONE_CHARS.fullmatch(text) or "+" in text[1:]:
            raise Invalid("invalid_phone")
        digits = phone_digits(text)
        if text.startswith("+"):
            if not 8 <= len(digits) - 1 <= 15 or digits.startswith("+0"):
                raise Invalid("invalid_phone")
        elif not digits.startswith("0") or not 10 <= len(digits) <= 11:
            raise Invalid("invalid_phone")
        groups = re.findall(r"[0-9]+", text)
        return ("+" if text.startswith("+") else "") + "-".join(groups)


def phone_digits(value: str) -> str:
    """The digits of a phone number (with its leading +): what two numbers are compared by."""
    plus = "+" if value.lstrip().startswith(("+", "＋")) else ""
    return plus + re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value))


class Url(FieldType):
    """An http:// or https:// address with a host; scheme and host lower-cased; no user@."""

    name = "url"
    hard_max_length = 2048

    def parse(self, raw: Any, f: Field) -> str:
        text = _typed(raw)
        if re.search(r"\s", text):
            raise Invalid("invalid_url")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            raise Invalid("invalid_url") from None
        host = parts.hostname or ""
        if parts.scheme.lower() not in {"http", "https"} or not host or "@" in parts.netloc:
            raise Invalid("invalid_url")
        is_ip = ":" in host or re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", host)
        if not is_ip and host != "localhost" and _ascii_domain(host) is None:
            raise Invalid("invalid_url")
        return urlunsplit(
            (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
        )


_POSTAL = re.compile(r"([0-9]{3})-?([0-9]{4})")


class PostalCode(FieldType):
    """A Japanese postal code, kept as 123-4567 (〒, full-width digits and any dash accepted)."""

    name = "postal_code"
    text_like = False

    def parse(self, raw: Any, f: Field) -> str:
        text = _typed(raw).removeprefix("〒").strip().translate(_DASHES)
        match = _POSTAL.fullmatch(text)
        if not match:
            raise Invalid("invalid_postal_code")
        return f"{match[1]}-{match[2]}"


_KANA = re.compile(r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fb\u30fc\u30fd\u30fe\u3000]+")


class Furigana(FieldType):
    """A kana reading, kept in full-width katakana (or hiragana: ``kana="hiragana"``).

    ｶﾀｶﾅ, カタカナ and かたかな are all accepted; spaces become one U+3000; anything that is
    not kana (letters, kanji, digits, emoji) is refused.
    """

    name = "furigana"
    hard_max_length = 200

    def parse(self, raw: Any, f: Field) -> str:
        text = chars.collapse_spaces(_typed(raw), "\u3000")
        if not _KANA.fullmatch(text):
            raise Invalid("not_kana")
        return chars.to_hiragana(text) if f.kana == "hiragana" else chars.to_katakana(text)

    def check(self, f: Field) -> None:
        if f.kana not in {"katakana", "hiragana"}:
            raise ValueError("kana must be 'katakana' or 'hiragana'")


class Reference(FieldType):
    """The id of a record of another table (a positive 64-bit integer, or its digits as text).

    That the record exists is the storage's business (the customer database checks it in the
    write's transaction, and its foreign key enforces it).
    """

    name = "reference"
    text_like = False

    def parse(self, raw: Any, f: Field) -> int:
        if isinstance(raw, bool):
            raise Invalid("invalid_reference")
        if isinstance(raw, str):
            text = _typed(raw)
            if not text.isascii() or not text.isdigit():
                raise Invalid("invalid_reference")
            raw = int(text)
        if not isinstance(raw, int) or not 1 <= raw <= INT64_MAX:
            raise Invalid("invalid_reference")
        return raw


_FILE_ID = re.compile(r"[0-9a-f]{32}")


class FileRef(FieldType):
    """An uploaded file, named by its id (32 hex digits, as the upload answered it).

    The bytes themselves are checked where they are received (size and sniffed type: the
    customer database's file storage); a value is only ever the id of a stored file.
    """

    name = "file"
    text_like = False

    def parse(self, raw: Any, f: Field) -> str:
        if isinstance(raw, Mapping):  # a file field as the API shows it: {"id": …, "name": …}
            raw = raw.get("id")
        if not isinstance(raw, str):
            raise Invalid("invalid_file")
        text = _typed(raw).lower()
        if not _FILE_ID.fullmatch(text):
            raise Invalid("invalid_file")
        return text


TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        Text(), LongText(), Integer(), DecimalType(), DateType(), DateTimeType(), Boolean(),
        Select(), MultiSelect(), Email(), Phone(), Url(), PostalCode(), Furigana(), Reference(),
        FileRef(),
    )
}  # fmt: skip


# ------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Field:
    """A field definition: a type and its options. Invalid combinations raise ``ValueError``.

    ``default`` is the value of a field that is absent (a new record, a setting never changed),
    not a stand-in for one sent empty: an empty optional field is ``None`` ("" for text).
    """

    type: str
    _: KW_ONLY
    required: bool = False
    default: Any = None
    max_length: int | None = None
    min_length: int | None = None
    min: Any = None
    max: Any = None
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    min_choices: int | None = None
    max_choices: int | None = None
    decimal_places: int | None = None
    max_digits: int | None = None  # decimal: NUMERIC(max_digits, decimal_places)
    kana: str = "katakana"
    timezone: str = SITE_TIMEZONE
    _compiled: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kind = TYPES.get(self.type)
        if kind is None:
            raise ValueError(f"unknown field type {self.type!r}; known: {', '.join(TYPES)}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, kind.bound(value, self))
                except (Invalid, ArithmeticError) as exc:
                    raise ValueError(f"{name} {value!r} is not a valid {self.type}") from exc
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.pattern is not None:  # UnsafePattern (a ValueError) for a ReDoS-prone one
            object.__setattr__(self, "_compiled", check_pattern(self.pattern))
        kind.check(self)
        if self.default is not None:
            result = self.clean(self.default)
            if not result.ok:
                raise ValueError(f"default {self.default!r}: {result.errors[0].message}")
            object.__setattr__(self, "default", result.value)  # "1.5" → Decimal("1.5")

    @property
    def kind(self) -> FieldType:
        return TYPES[self.type]

    def clean(self, raw: Any, *, name: str = "value", row: int | None = None) -> Cleaned:
        """Normalise and validate ``raw``; errors name ``name`` (and ``row`` for file input)."""
        try:
            return Cleaned(self._clean(raw))
        except Invalid as problem:
            return Cleaned(errors=(error(name, problem.code, problem.params, row=row),))

    def _clean(self, raw: Any) -> Any:
        kind = self.kind
        if kind.is_empty(raw):
            if self.required:
                raise Invalid("required")
            return kind.empty(raw)
        value = kind.parse(raw, self)
        if isinstance(value, str) and kind.text_like:
            _check_length(value, self)
            if self._compiled is not None and not self._compiled.fullmatch(value):
                raise Invalid("pattern_mismatch")
        return value

    def as_dict(self) -> dict[str, Any]:
        """The definition as plain values (for storage and for forms), defaults left out."""
        data = asdict(self)
        data.pop("_compiled", None)
        plain = {k: v for k, v in data.items() if k == "type" or v != _DEFAULTS.get(k)}
        for k, v in plain.items():
            if isinstance(v, Decimal | date):
                plain[k] = v.isoformat() if isinstance(v, date) else str(v)
            elif isinstance(v, tuple):
                plain[k] = list(v)
        return plain

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Field:
        values = dict(data)
        if values.get("choices") is not None:
            values["choices"] = tuple(values["choices"])
        return cls(values.pop("type"), **values)


_DEFAULTS = {k: v.default for k, v in Field.__dataclass_fields__.items() if k != "type"}


def error(
    name: str, code: str, params: Mapping[str, Any] | None = None, *, row: int | None = None
) -> FieldError:
    """A :class:`FieldError` whose ``message`` is the catalog's English for ``code``."""
    return FieldError(
        field=name,
        message=message(code, params),
        code=code,
        row=row,
        params=dict(params) if params else None,
    )


class FieldSet:
    """Named fields cleaned together (a request body, a CSV row): every error at once."""

    def __init__(self, fields: Mapping[str, Field]) -> None:
        self.fields = dict(fields)

    def clean(
        self,
        values: Mapping[str, Any],
        *,
        row: int | None = None,
        partial: bool = False,
        unknown: Callable[[str], FieldError] | None = None,
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Clean ``values``. ``partial`` (an update) skips absent fields; unknown names are
        errors (``unknown_field``, or what ``unknown`` makes of the name)."""
        cleaned: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name in values:
            if name not in self.fields:
                errors.append(unknown(name) if unknown else error(name, "unknown_field", row=row))
        for name, definition in self.fields.items():
            if name not in values and (partial or definition.default is not None):
                if not partial:
                    cleaned[name] = definition.default
                continue
            result = definition.clean(values.get(name), name=name, row=row)
            if result.ok:
                cleaned[name] = result.value
            else:
                errors.extend(result.errors)
        return cleaned, errors


def raise_for(errors: Iterable[FieldError], detail: str | None = None) -> None:
    """Raise one :class:`ValidationFailed` carrying every error, if there are any."""
    errors = list(errors)
    if errors:
        raise ValidationFailed(
            detail=detail or "; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )
