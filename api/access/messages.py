"""What a rule error or warning says, in English and Japanese, by stable code.

Each code is a full sentence; ``{name}`` placeholders are filled from the problem's params.
``{found}`` is what the parser met instead of what it expected: :func:`message` renders it in
the locale (“x” / 「x」, or "the end of the rule" / 「ルールの終わり」). Where the problem is
(file, line, column) is put in front by :func:`locate`. The build prints these; the admin
panel and the API send them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.fields.messages import Message

_TERM = 'public, members, group:name, a comparison such as plan == "gold", not, or ('
_TERM_JA = 'public、members、group:名前、plan == "gold" のような比較、not、または ('
_VALUE = "text in quotes, a number, true, false or a date such as 2026-04-01"
_VALUE_JA = "引用符で囲んだ文字列、数値、true、false、または 2026-04-01 のような日付"

MESSAGES: dict[str, Message] = {
    # The text as a whole.
    "rule_empty": Message(
        "The rule is empty: write public, members, group:name or a comparison such as "
        "plan == \"gold\".",
        "ルールが空です。public、members、group:名前、または plan == \"gold\" のような比較を"
        "書いてください。",
    ),
    "rule_too_long": Message(
        "The rule is longer than {max} characters.",
        "ルールが {max} 文字を超えています。",
    ),
    "rule_too_deep": Message(
        "The rule nests not and parentheses more than {max} levels deep.",
        "not と括弧の入れ子が {max} 段を超えています。",
    ),
    "rule_too_many_terms": Message(
        "The rule has more than {max} conditions.",
        "ルールの条件が {max} 個を超えています。",
    ),
    "rule_too_many_items": Message(
        "The list after in holds more than {max} values.",
        "in の後のリストの値が {max} 個を超えています。",
    ),
    "rule_control_chars": Message(
        "The rule contains a control character (U+{codepoint}).",
        "ルールに使用できない制御文字（U+{codepoint}）が含まれています。",
    ),
    "rule_bidi_control": Message(
        "The rule contains a character that changes the text direction (U+{codepoint}).",
        "ルールに文字の表示方向を変える制御文字（U+{codepoint}）が含まれています。",
    ),
    # Characters and literals.
    "rule_bad_character": Message(
        "“{char}” cannot be used here.",
        "「{char}」はここには書けません。",
    ),
    "rule_use_and": Message(
        "Write and instead of “{char}”.",
        "「{char}」ではなく and と書いてください。",
    ),
    "rule_use_or": Message(
        "Write or instead of “{char}”.",
        "「{char}」ではなく or と書いてください。",
    ),
    "rule_use_not": Message(
        "Write not before a condition, or != to compare, instead of “!”.",
        "「!」ではなく、条件の前に not を書くか、比較には != を使ってください。",
    ),
    "rule_use_operator": Message(
        "Write {sign} instead of “{char}”.",
        "「{char}」ではなく {sign} と書いてください。",
    ),
    "rule_single_equals": Message(
        "Write == to compare: a single = is not an operator.",
        "比較には == を使います（= が 1 つでは比較になりません）。",
    ),
    "rule_use_not_equal": Message(
        "Write != for “not equal”: <> is not an operator.",
        "「等しくない」は != と書いてください（<> は使えません）。",
    ),
    "rule_curly_quote": Message(
        "Put text in straight quotes \"…\" or '…', not {char}.",
        "文字列は半角の引用符 \"…\" か '…' で囲んでください（{char} は使えません）。",
    ),
    "rule_unclosed_string": Message(
        "The text in quotes is not closed before the end of the line.",
        "引用符で始めた文字列が、行の終わりまでに閉じられていません。",
    ),
    "rule_bad_escape": Message(
        "Unknown escape “\\{char}”: inside quotes a backslash may only come before \\, \" or '.",
        "「\\{char}」は使えません。引用符の中で \\ の後に書けるのは \\、\"、' だけです。",
    ),
    "rule_empty_string": Message(
        "An empty value never matches: a field without a value matches no comparison.",
        "空の値は何にも一致しません（値のない項目はどの比較にも一致しません）。",
    ),
    "rule_bad_number": Message(
        "“{text}” is not a number: write numbers as 12, -3 or 4.5.",
        "「{text}」は数値ではありません。12、-3、4.5 のように書いてください。",
    ),
    "rule_number_too_long": Message(
        "A number has more than {max} digits.",
        "数値の桁数が {max} 桁を超えています。",
    ),
    "rule_bad_date": Message(
        "“{text}” is not a date: write dates as 2026-04-01.",
        "「{text}」は日付ではありません。2026-04-01 のように書いてください。",
    ),
    "rule_not_a_key": Message(
        "“{text}” is not a field key: a rule names a field by its key (a–z, 0–9 and _, such as "
        "specialty), and text values go in quotes.",
        "「{text}」は項目キーではありません。ルールでは項目をキー（a–z、0–9、_ で、例えば "
        "specialty）で書き、文字列の値は引用符で囲みます。",
    ),
    "rule_key_too_long": Message(
        "“{text}” is longer than a field key can be ({max} characters).",
        "「{text}」は項目キーの長さ（{max} 文字）を超えています。",
    ),
    # What the parser expected.
    "rule_expected_term": Message(
        f"Expected {_TERM}, found {{found}}.",
        f"{_TERM_JA} が必要ですが、{{found}}があります。",
    ),
    "rule_expected_operator": Message(
        "Expected an operator after {field} (==, !=, <, <=, >, >=, in or contains), found "
        "{found}.",
        "{field}の後に演算子（==、!=、<、<=、>、>=、in、contains）が必要ですが、{found}があります。",
    ),
    "rule_not_in": Message(
        "Write not before the field: not {key} in (…), not {key} contains ….",
        "not は項目の前に書いてください：not {key} in (…)、not {key} contains …。",
    ),
    "rule_expected_value": Message(
        f"Expected a value after {{operator}} ({_VALUE}), found {{found}}.",
        f"{{operator}}の後に値（{_VALUE_JA}）が必要ですが、{{found}}があります。",
    ),
    "rule_expected_list": Message(
        "Expected ( after in, as in plan in (\"gold\", \"platinum\"), found {found}.",
        "in の後には plan in (\"gold\", \"platinum\") のように ( が必要ですが、{found}があります。",
    ),
    "rule_expected_comma": Message(
        "Expected , or ) in the list after in, found {found}.",
        "in の後のリストには , か ) が必要ですが、{found}があります。",
    ),
    "rule_expected_paren": Message(
        "Expected ) to close the ( at line {open_line}, column {open_column}, found {found}.",
        "{open_line}行目 {open_column}文字目の ( を閉じる ) が必要ですが、{found}があります。",
    ),
    "rule_expected_colon": Message(
        "Expected : after group, as in group:doctors, found {found}.",
        "group の後には group:doctors のように : が必要ですが、{found}があります。",
    ),
    "rule_expected_group": Message(
        "Expected a group name after group:, as in group:doctors or group:\"医師\", found {found}.",
        "group: の後には group:doctors や group:\"医師\" のようにグループ名が必要ですが、"
        "{found}があります。",
    ),
    "rule_group_needs_quotes": Message(
        "Put a group name with characters other than a–z, 0–9, _ and - in quotes, as in "
        "group:\"{text}\".",
        "a–z、0–9、_、- 以外の文字を含むグループ名は group:\"{text}\" のように引用符で"
        "囲んでください。",
    ),
    "rule_expected_end": Message(
        "Expected and, or, or the end of the rule, found {found}.",
        "and、or、またはルールの終わりが必要ですが、{found}があります。",
    ),
    # Meaning.
    "rule_public_alone": Message(
        "public stands alone: a page is either readable by everyone or gated. Write only "
        "public, or leave it out.",
        "public は単独で書きます（誰でも読めるページか、制限のあるページかのどちらかです）。"
        "public だけを書くか、public を外してください。",
    ),
    "rule_ordering_needs_number": Message(
        "{operator} compares numbers and dates; compare text and true/false with ==, !=, in "
        "or contains.",
        "{operator}で比較できるのは数値と日付です。文字列や true/false は ==、!=、in、contains "
        "で比較してください。",
    ),
    # Warnings: the rule parses, but reads something the member table does not have.
    "rule_unknown_field": Message(
        "The member table has no field {field}: this condition is false for every member.",
        "会員テーブルに項目{field}がありません。この条件はどの会員にも当てはまりません。",
    ),
    "rule_unknown_group": Message(
        "There is no group {group}: no member is in it.",
        "グループ{group}はありません。属する会員はいません。",
    ),
    "rule_expects_text": Message(
        "{field} holds text or choices: compare it with a value in quotes.",
        "{field}は文字列か選択肢の項目です。引用符で囲んだ値と比較してください。",
    ),
    "rule_expects_number": Message(
        "{field} holds numbers: compare it with a number such as 10.",
        "{field}は数値の項目です。10 のような数値と比較してください。",
    ),
    "rule_expects_date": Message(
        "{field} holds dates: compare it with a date such as 2026-04-01.",
        "{field}は日付の項目です。2026-04-01 のような日付と比較してください。",
    ),
    "rule_expects_boolean": Message(
        "{field} is yes/no: compare it with true or false.",
        "{field}ははい／いいえの項目です。true か false と比較してください。",
    ),
    "rule_contains_needs_text": Message(
        "contains looks inside text or a multi-select; {field} is neither.",
        "contains で調べられるのは文字列か複数選択の項目です。{field}はどちらでもありません。",
    ),
    "rule_field_not_usable": Message(
        "{field} is a file field and cannot be used in a rule.",
        "{field}はファイルの項目のため、ルールでは使えません。",
    ),
}  # fmt: skip

WARNING_CODES = frozenset(
    {
        "rule_unknown_field",
        "rule_unknown_group",
        "rule_expects_text",
        "rule_expects_number",
        "rule_expects_date",
        "rule_expects_boolean",
        "rule_contains_needs_text",
        "rule_field_not_usable",
    }
)

_FALLBACK = Message("The rule is not valid.", "ルールが正しくありません。")
_END = {"en": "the end of the rule", "ja": "ルールの終わり"}
_MAX_SHOWN = 30  # characters of a token shown in a message


def quoted(text: str, locale: str = "en") -> str:
    """“text” / 「text」, cut to a readable length."""
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return f"「{text}」" if locale == "ja" else f"“{text}”"


def message(code: str, params: Mapping[str, Any] | None = None, locale: str = "en") -> str:
    """The sentence for ``code`` in ``locale`` ("ja" or "en"), with ``params`` filled in.

    ``found`` is rendered as the token met (quoted) or the end of the rule (``""``); ``field``,
    ``group`` and ``operator`` are quoted."""
    ja = locale == "ja"
    lang = "ja" if ja else "en"
    entry = MESSAGES.get(code, _FALLBACK)
    values = dict(params or {})
    if "found" in values:
        found = values["found"]
        values["found"] = quoted(found, lang) if found else _END[lang]
    for name in ("field", "group", "operator"):
        if name in values:
            values[name] = quoted(str(values[name]), lang)
    text = entry.ja if ja else entry.en
    try:
        return text.format(**values)
    except (KeyError, IndexError):
        return _FALLBACK.ja if ja else _FALLBACK.en


def locate(
    text: str,
    *,
    source: str | None = None,
    line: int | None = None,
    column: int | None = None,
    locale: str = "en",
) -> str:
    """``text`` preceded by where it is: "content/a.md, line 3, column 9: …" /
    "content/a.md 3行目 9文字目：…"."""
    if locale == "ja":
        parts = [source] if source else []
        if line is not None:
            parts.append(f"{line}行目" + (f" {column}文字目" if column is not None else ""))
        return f"{' '.join(parts)}：{text}" if parts else text
    parts = [source] if source else []
    if line is not None:
        parts.append(f"line {line}" + (f", column {column}" if column is not None else ""))
    return f"{', '.join(parts)}: {text}" if parts else text
