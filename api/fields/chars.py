"""Character rules shared by every field type, and the keys used for matching and search.

Two kinds of text, two rules (DESIGN.md "Customer database"):

- **free text** (names, addresses, notes) is stored as the person typed it, apart from
  trimming: ㈱, ①, 髙 and full-width letters stay; no NFKC.
- **typed values** (e-mail, phone, postal code, numbers, dates, URLs, readings) are normalised
  (NFKC: full-width digits and letters become ASCII, half-width kana become full-width), and so
  are the **keys** that matching, duplicate detection and search compare: :func:`match_key`,
  :func:`search_key`.

Whatever the kind, some characters are never accepted: NUL and the other C0/C1 control
characters (PostgreSQL cannot store NUL; a CR/LF or U+2028 in a header-bound value breaks
mail), and the bidi overrides/isolates that make text display in an order other than stored
(U+202A–U+202E, U+2066–U+2069, the "Trojan source" characters). Single-line values also refuse
every line break; long text keeps newlines (all spellings become ``\\n``) and tabs.
"""

from __future__ import annotations

import re
import unicodedata

# Line breaks in every spelling Python's str.splitlines() knows, bar the C0 ones that are
# refused as control characters anyway (VT, FF, FS, GS, RS).
LINE_BREAKS = "\n\r\x85\u2028\u2029"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# C0 (bar TAB, LF, CR), DEL, C1 (bar NEL, a line break), lone surrogates, U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_TAB = "\t"
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_NOT_PLAIN = re.compile(f"[{_CONTROL.pattern[1:-1]}\t{LINE_BREAKS}{BIDI_CONTROLS}]")
# Trimmed from both ends: spaces of every width (category Zs, U+3000 included), TAB, CR, LF,
# and the invisible zero-width space / BOM that copy-paste and Excel leave behind. Not the
# other characters Python counts as whitespace (VT, FF, FS…RS, NEL, U+2028, U+2029): those
# are refused wherever they are, not quietly dropped at the ends.
_TRIMMED = "\t\n\r \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u200b\ufeff"
_EDGES = re.compile(f"^[{_TRIMMED}]+|[{_TRIMMED}]+$")
EDGE_CHARS = frozenset("\t\n\r \u00a0\u1680\u202f\u205f\u3000\u200b\ufeff") | frozenset(
    map(chr, range(0x2000, 0x200B))
)  # _TRIMMED as a set: a value whose ends are not in it needs no trimming
_SPACES = re.compile(r"[\s\u200b\ufeff]+")

# Hiragana ぁ..ゖ and ゝゞ ↔ katakana ァ..ヶ and ヽヾ differ by 0x60.
_KATA_TO_HIRA = {c: c - 0x60 for c in (*range(0x30A1, 0x30F7), 0x30FD, 0x30FE)}
_HIRA_TO_KATA = {v: k for k, v in _KATA_TO_HIRA.items()}

# Variant forms of kanji common in Japanese names, folded for search (髙橋 finds 高橋) and for
# *candidate* duplicates, which a person confirms (api.customers.duplicates). Matching (upsert
# keys) keeps them apart: 髙橋 and 高橋 may well be two people.
_ITAIJI = str.maketrans(
    "髙﨑嵜德邊邉濵濱齋齊澤國廣曾槇櫻龍瀨寬凜",
    "高崎崎徳辺辺浜浜斎斉沢国広曽槙桜竜瀬寛凛",
)


_SEARCH_FOLD = {**_KATA_TO_HIRA, **_ITAIJI}
_SEARCH_FOLDED = re.compile("[" + "".join(map(chr, _SEARCH_FOLD)) + "]")
# The same as a list indexed by code point (str.translate reads it 2-3× faster than a dict;
# a character past its end raises IndexError, which translate takes as "leave it").
_SEARCH_FOLD_TABLE = list(range(max(_SEARCH_FOLD) + 1))
for _code, _folded in _SEARCH_FOLD.items():
    _SEARCH_FOLD_TABLE[_code] = _folded


def trim(value: str) -> str:
    """Remove leading/trailing whitespace of any width (U+3000 too), zero-width space and BOM."""
    if value and value[0] not in EDGE_CHARS and value[-1] not in EDGE_CHARS:
        return value
    return _EDGES.sub("", value)


def nfkc(value: str) -> str:
    """The typed-value form: NFKC (１２３ → 123, ＡＢＣ → ABC, ｶﾀｶﾅ → カタカナ), trimmed."""
    if value.isascii():  # no ASCII character changes under NFKC
        return trim(value)
    return trim(unicodedata.normalize("NFKC", value))


def is_plain_line(value: str) -> bool:
    """True when ``value`` needs nothing from the single-line rules: no control character
    (TAB included), line break or bidi control anywhere, nothing to trim at either end. The
    fast path of every single-line value (one scan instead of five)."""
    if value and (value[0] in EDGE_CHARS or value[-1] in EDGE_CHARS):
        return False
    return not _NOT_PLAIN.search(value)


def has_control(value: str, *, allow_tab: bool = False) -> bool:
    """NUL, other C0/C1 controls, DEL, lone surrogates (TAB only when ``allow_tab``)."""
    if not allow_tab and _TAB in value:
        return True
    return bool(_CONTROL.search(value))


def has_line_break(value: str) -> bool:
    return bool(_LINE_BREAK.search(value))


def has_bidi_control(value: str) -> bool:
    return bool(_BIDI.search(value))


def unify_line_breaks(value: str) -> str:
    """CRLF, CR, NEL, U+2028 and U+2029 all become LF."""
    return _LINE_BREAK.sub("\n", value)


def to_hiragana(value: str) -> str:
    return value.translate(_KATA_TO_HIRA)


def to_katakana(value: str) -> str:
    return value.translate(_HIRA_TO_KATA)


def collapse_spaces(value: str, space: str = " ") -> str:
    return _SPACES.sub(space, trim(value))


def match_key(value: str) -> str:
    """The key two values are compared by when matching records and finding duplicates.

    NFKC + casefold + katakana→hiragana + whitespace collapsed to one space: "ﾔﾏﾀﾞ　ﾀﾛｳ",
    "ヤマダ タロウ" and "やまだ  たろう" share a key; so do "㈱絆" and "(株)絆", "ＴＡＲＯ"
    and "taro".
    """
    return collapse_spaces(to_hiragana(unicodedata.normalize("NFKC", value).casefold()))


def search_key(value: str) -> str:
    """The key a search compares (both the stored value's and the query's).

    :func:`match_key` without any whitespace (so "山田太郎" finds "山田 太郎") and with common
    kanji variants folded (髙 → 高, 﨑 → 崎, 邊 → 辺…).
    """
    # The same steps as match_key's then the variants, in one translate (the two tables touch
    # different characters) and only when there is something to fold; every space goes, so
    # match_key's collapsing and trimming need not run first.
    folded = unicodedata.normalize("NFKC", value).casefold()
    if _SEARCH_FOLDED.search(folded):
        folded = folded.translate(_SEARCH_FOLD_TABLE)
    return _SPACES.sub("", folded)
