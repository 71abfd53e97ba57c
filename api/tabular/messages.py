"""What a refused file says, in English and Japanese, by stable code (the admin translates the
same codes under ``error.<code>``; the CLI prints :func:`message`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.errors import FieldError, ValidationFailed
from api.fields.messages import Message

MESSAGES: dict[str, Message] = {
    "file_empty": Message("The file is empty.", "ファイルが空です。"),
    "file_not_utf8": Message(
        "The file is not UTF-8: line {line} (byte {offset}) does not decode. {hint}",
        "ファイルが UTF-8 ではありません：{line} 行目（{offset} バイト目）を読めません。{hint_ja}",
    ),
    "file_not_cp932": Message(
        "The file is not CP932 (Shift_JIS): line {line} (byte {offset}) does not decode. {hint}",
        "ファイルが CP932（Shift_JIS）ではありません：{line} 行目（{offset} バイト目）を"
        "読めません。{hint_ja}",
    ),
    "file_encoding_unknown": Message(
        "The file is neither UTF-8 (line {utf8_line} does not decode) nor CP932/Shift_JIS "
        "(line {cp932_line} does not decode). Save it from Excel as “CSV UTF-8” and try again.",
        "ファイルの文字コードが UTF-8（{utf8_line} 行目を読めません）でも CP932/Shift_JIS"
        "（{cp932_line} 行目を読めません）でもありません。Excel で「CSV UTF-8」として保存し"
        "直してください。",
    ),
    "file_utf16": Message(
        "The file is UTF-16 (Excel's “Unicode text”). Save it from Excel as “CSV UTF-8” instead.",
        "ファイルが UTF-16（Excel の「Unicode テキスト」）です。Excel で「CSV UTF-8」として"
        "保存し直してください。",
    ),
    "file_not_xlsx": Message(
        "The file is not an Excel workbook (.xlsx) that can be read: {reason}",
        "Excel ブック（.xlsx）として読めません：{reason}",
    ),
    "file_xlsx_too_large": Message(
        "The workbook unpacks to more than {max_mb} MB; split it or save it as CSV.",
        "ブックを展開すると {max_mb} MB を超えます。分割するか CSV で保存してください。",
    ),
    "file_xls": Message(
        "Old Excel files (.xls) cannot be read. Save the file as .xlsx or CSV.",
        "古い形式の Excel ファイル（.xls）は読めません。.xlsx か CSV で保存してください。",
    ),
    "header_missing": Message(
        "The first row must name the columns; it is empty.",
        "1 行目には列名が必要ですが、空です。",
    ),
    "header_blank": Message(
        "Column {column} of the header has no name.",
        "見出し行の {column} 列目に列名がありません。",
    ),
    "header_duplicate": Message(
        "The header names “{name}” twice (columns {first} and {column}).",
        "見出し行に「{name}」が 2 回あります（{first} 列目と {column} 列目）。",
    ),
    "header_control_chars": Message(
        "Column {column} of the header contains control characters.",
        "見出し行の {column} 列目に制御文字が含まれています。",
    ),
    "row_too_many_cells": Message(
        "has {count} cells, more than the {expected} columns of the header",
        "セルが {count} 個あり、見出しの {expected} 列より多くなっています",
    ),
    "row_too_few_cells": Message(
        "has {count} cells, fewer than the {expected} columns of the header",
        "セルが {count} 個しかなく、見出しの {expected} 列より少なくなっています",
    ),
    "row_unterminated_quote": Message(
        'a quoted cell is never closed (a " is missing)',
        '引用符（"）で始まるセルが閉じられていません',
    ),
    "row_bad_quotes": Message(
        'a quote (") in the middle of a cell: quote the whole cell and double the quote ("")',
        'セルの途中に引用符（"）があります。セル全体を " で囲み、中の " は "" と重ねてください',
    ),
    "cp932_gap": Message(
        "“{chars}” cannot be written in CP932 (Shift_JIS)",
        "「{chars}」は CP932（Shift_JIS）で書き出せません",
    ),
}

_HINTS = {
    "cp932": ("It looks like CP932 (Shift_JIS, Excel's “CSV”): choose CP932.",
              "CP932（Shift_JIS、Excel の「CSV」形式）のようです。CP932 を選んでください。"),
    "utf-8": ("It looks like UTF-8: choose UTF-8.", "UTF-8 のようです。UTF-8 を選んでください。"),
    "": ("Check the file and its encoding.", "ファイルと文字コードを確認してください。"),
}  # fmt: skip


def message(code: str, params: Mapping[str, Any] | None = None, locale: str = "en") -> str:
    entry = MESSAGES[code]
    values = dict(params or {})
    hint_en, hint_ja = _HINTS.get(str(values.get("suggest", "")), _HINTS[""])
    values.setdefault("hint", hint_en)
    values.setdefault("hint_ja", hint_ja)
    return (entry.ja if locale == "ja" else entry.en).format(**values)


class FileRefused(ValidationFailed):
    """The whole file is refused (wrong encoding, unusable header): nothing was written.

    ``errors[0].code`` is one of :data:`MESSAGES`; ``field`` is ``"file"``."""

    title = "The file cannot be read"
    default_code = "file_refused"

    @classmethod
    def of(cls, code: str, **params: Any) -> FileRefused:
        text = message(code, params)
        return cls(detail=text, errors=[FieldError("file", text, code, params=params or None)])
