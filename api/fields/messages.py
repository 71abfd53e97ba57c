"""What each field error code says, in English and Japanese.

One entry per stable code; ``{name}`` placeholders are filled from the error's ``params``.
English is written to follow a field name ("name: must be at most 200 characters"): it is the
``message`` the API sends and the line of an English CSV error report. The admin panel keeps
its own full-sentence wording under ``error.<code>`` in ``api/admin/static/i18n/*.json``
(a test checks that every code here has one there).

When a message needs a param the error does not carry, the ``plain`` wording (no placeholders)
is used instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.errors import FieldError

LOCALES = ("ja", "en")


@dataclass(frozen=True)
class Message:
    en: str
    ja: str
    plain_en: str = ""
    plain_ja: str = ""


MESSAGES: dict[str, Message] = {
    "required": Message("is required", "入力してください"),
    "not_text": Message("must be text", "文字で入力してください"),
    "too_long": Message(
        "must be at most {max} characters", "{max}文字以内で入力してください",
        "is too long", "長すぎます",
    ),
    "too_short": Message(
        "must be at least {min} characters", "{min}文字以上で入力してください",
        "is too short", "短すぎます",
    ),
    "single_line": Message(
        "must be a single line (no line breaks)", "改行を入れずに1行で入力してください"
    ),
    "control_chars": Message(
        "must not contain control characters", "使用できない制御文字が含まれています"
    ),
    "bidi_control": Message(
        "must not contain characters that change the text direction (U+202A–U+202E, "
        "U+2066–U+2069)",
        "文字の表示方向を変える制御文字（U+202A～U+202E、U+2066～U+2069）は使用できません",
    ),
    "pattern_mismatch": Message("is not in the expected format", "形式が正しくありません"),
    "not_integer": Message("must be a whole number", "整数で入力してください"),
    "not_number": Message("must be a number", "数値で入力してください"),
    "too_many_decimals": Message(
        "must have at most {places} decimal places", "小数点以下は{places}桁以内で入力してください",
        "has too many decimal places", "小数点以下の桁数が多すぎます",
    ),
    "too_many_digits": Message(
        "must have at most {max} digits", "{max}桁以内で入力してください",
        "has too many digits", "桁数が多すぎます",
    ),
    "too_small": Message(
        "must be at least {min}", "{min} 以上の値を入力してください",
        "is too small", "値が小さすぎます",
    ),
    "too_large": Message(
        "must be at most {max}", "{max} 以下の値を入力してください",
        "is too large", "値が大きすぎます",
    ),
    "invalid_date": Message(
        "must be a date such as 2026-04-01", "日付を 2026-04-01 のように入力してください"
    ),
    "invalid_datetime": Message(
        "must be a date and time such as 2026-04-01 09:30",
        "日時を 2026-04-01 09:30 のように入力してください",
    ),
    "too_early": Message(
        "must be {min} or later", "{min} 以降を入力してください",
        "is too early", "日付が早すぎます",
    ),
    "too_late": Message(
        "must be {max} or earlier", "{max} 以前を入力してください",
        "is too late", "日付が遅すぎます",
    ),
    "not_boolean": Message("must be true or false", "はい・いいえのどちらかで入力してください"),
    "invalid_choice": Message(
        "must be one of: {choices}", "次の中から選んでください: {choices}",
        "must be one of the choices", "選択肢の中から選んでください",
    ),
    "not_list": Message("must be a list of choices", "選択肢のリストで指定してください"),
    "too_few_choices": Message(
        "must have at least {min} choices", "{min}個以上選んでください",
        "has too few choices", "選んだ数が少なすぎます",
    ),
    "too_many_choices": Message(
        "must have at most {max} choices", "{max}個以内で選んでください",
        "has too many choices", "選んだ数が多すぎます",
    ),
    "invalid_email": Message(
        "is not a valid e-mail address", "メールアドレスの形式が正しくありません"
    ),
    "invalid_phone": Message(
        "is not a valid phone number (e.g. 03-1234-5678 or +81 3-1234-5678)",
        "電話番号の形式が正しくありません（例: 03-1234-5678、+81 3-1234-5678）",
    ),
    "invalid_url": Message(
        "must be a web address starting with http:// or https://",
        "http:// または https:// で始まるURLを入力してください",
    ),
    "invalid_postal_code": Message(
        "must be a postal code such as 123-4567", "郵便番号を 123-4567 のように入力してください"
    ),
    "not_kana": Message(
        "must be written in kana (hiragana or katakana)",
        "ひらがなまたはカタカナで入力してください",
    ),
    "invalid_reference": Message(
        "must be the id of a record", "レコードのIDを指定してください"
    ),
    "invalid_file": Message(
        "must be the id of an uploaded file", "アップロードしたファイルのIDを指定してください"
    ),
    "file_not_found": Message(
        "is not a file uploaded to this field (upload it again)",
        "この項目にアップロードされたファイルではありません（もう一度アップロードしてください）",
    ),
    "file_too_large": Message(
        "must be a file of at most {max_size}", "{max_size}以下のファイルを選んでください",
        "is too large a file", "ファイルが大きすぎます",
    ),
    "file_type_not_allowed": Message(
        "must be a file of these types: {types}", "次の種類のファイルを選んでください: {types}",
        "is not a file type this field accepts", "この項目では受け付けられない種類のファイルです",
    ),
    "file_empty": Message("is an empty file", "ファイルが空です"),
    "file_upload_only": Message(
        "is set by uploading a file to the field, not through values",
        "ファイルはこの項目へのアップロードで設定してください",
    ),
    "file_missing": Message(
        "needs a file (multipart form part \"file\")", "ファイルを選んでください"
    ),
    "unknown_field": Message("is not a known field", "受け付けられない項目です"),
}  # fmt: skip

_ROW = {"en": "row {row}", "ja": "{row}行目"}
_FALLBACK = Message("is not valid", "入力内容が正しくありません")


def message(code: str, params: Mapping[str, Any] | None = None, locale: str = "en") -> str:
    """The message for ``code`` in ``locale`` ("ja" or "en"), with ``params`` filled in."""
    entry = MESSAGES.get(code, _FALLBACK)
    ja = locale == "ja"
    text = entry.ja if ja else entry.en
    try:
        return text.format(**(params or {}))
    except (KeyError, IndexError):
        plain = entry.plain_ja if ja else entry.plain_en
        return plain or (_FALLBACK.ja if ja else _FALLBACK.en)


def catalog(locale: str = "en") -> dict[str, str]:
    """Every code's message in ``locale``, placeholders unfilled (for a site form's script)."""
    ja = locale == "ja"
    return {code: entry.ja if ja else entry.en for code, entry in MESSAGES.items()}


def localize(error: FieldError, locale: str = "en") -> str:
    """One error's message in ``locale`` (its code decides; the English ``message`` is not
    parsed). Codes not from this catalog (password rules…) keep the error's own message."""
    if error.code not in MESSAGES:
        return error.message
    return message(error.code, error.params, locale)


def report_line(error: FieldError, locale: str = "en", label: str | None = None) -> str:
    """A line of an error report: "row 12, email: is not a valid e-mail address" /
    "12行目 email: メールアドレスの形式が正しくありません"."""
    where = label or error.field
    text = f"{where}: {localize(error, locale)}"
    if error.row is None:
        return text
    row = _ROW["ja" if locale == "ja" else "en"].format(row=error.row)
    return f"{row} {text}" if locale == "ja" else f"{row}, {text}"
