"""Encodings: detected over the whole file, refused with the line and a hint, never mojibake."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from api.tabular import encodings
from api.tabular.encodings import cp932_gaps, detect, first_failure, to_cp932
from api.tabular.messages import FileRefused, message

JAPANESE = "メールアドレス,氏名,会社\r\ntaro@example.jp,髙橋 太郎,㈱キズナ①\r\n"


def write(tmp_path: Path, data: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, requested: encodings.Requested = "auto") -> tuple[str, dict[str, object]]:
    with pytest.raises(FileRefused) as info:
        detect(path, requested)
    error = info.value.errors[0]
    assert error.field == "file" and info.value.status == 422
    return error.code, dict(error.params or {})


def test_each_encoding_is_recognised(tmp_path: Path) -> None:
    assert detect(write(tmp_path, JAPANESE.encode("utf-8"))) == "utf-8"
    assert detect(write(tmp_path, b"\xef\xbb\xbf" + JAPANESE.encode("utf-8"))) == "utf-8-sig"
    # CP932 with NEC (①, ㈱) and IBM (髙) extension characters, which plain Shift_JIS lacks.
    cp932 = write(tmp_path, JAPANESE.encode("cp932"))
    assert detect(cp932) == "cp932" and detect(cp932, "cp932") == "cp932"
    assert cp932.read_bytes().decode("cp932") == JAPANESE
    ascii_only = write(tmp_path, b"email,name\r\na@example.jp,Taro\r\n")
    assert detect(ascii_only) == "utf-8" and detect(ascii_only, "cp932") == "cp932"


def test_a_wrong_choice_is_refused_with_the_line_and_a_suggestion(tmp_path: Path) -> None:
    cp932 = write(tmp_path, ("a,b\r\n" * 3 + JAPANESE).encode("cp932"))
    code, params = refused(cp932, "utf-8")
    assert code == "file_not_utf8" and params["line"] == 4 and params["suggest"] == "cp932"
    assert "choose CP932" in message(code, params)
    assert "CP932 を選んでください" in message(code, params, "ja")
    utf8 = write(tmp_path, ("x\n" + JAPANESE).encode("utf-8"))
    code, params = refused(utf8, "cp932")
    assert code == "file_not_cp932" and params["suggest"] == "utf-8"


def test_the_whole_file_is_checked_not_a_sample(tmp_path: Path) -> None:
    """2 MB of ASCII rows, then one CP932 row: auto finds CP932; UTF-8 names the last line."""
    rows = b"taro@example.jp,Taro Yamada,Tokyo\r\n" * 60_000
    path = write(tmp_path, rows + "花子,東京\r\n".encode("cp932"))
    assert detect(path) == "cp932"
    code, params = refused(path, "utf-8")
    assert code == "file_not_utf8" and params["line"] == 60_001
    assert params["offset"] == len(rows)


def test_a_character_across_a_chunk_boundary_is_no_error(tmp_path: Path) -> None:
    text = "あ" * (encodings.CHUNK // 3 + 1)  # no line feed: one piece longer than a chunk
    for codec in ("utf-8", "cp932"):
        assert first_failure(io.BytesIO(text.encode(codec)), codec) is None


def test_a_file_that_is_neither_or_utf16_or_empty_is_refused(tmp_path: Path) -> None:
    broken = write(tmp_path, b"a,b\r\n\x81\x20\xff\xfe\r\n")
    code, params = refused(broken)
    assert code == "file_encoding_unknown" and params == {"utf8_line": 2, "cp932_line": 2}
    code, _ = refused(write(tmp_path, "a,b\r\n".encode("utf-16")))
    assert code == "file_utf16"
    assert refused(write(tmp_path, b""))[0] == "file_empty"
    # A BOM says UTF-8: a file with one that then does not decode is not guessed to be CP932.
    mixed = write(tmp_path, b"\xef\xbb\xbfa\r\n" + "東京".encode("cp932"))
    assert refused(mixed)[0] == "file_not_utf8"


def test_cp932_twins_are_mapped_and_gaps_listed() -> None:
    assert to_cp932("10〜20−5") == "10～20－5".encode("cp932")
    assert cp932_gaps("髙橋 ㈱ ① 〜") == ""
    assert cp932_gaps("寿司🍣と𠮷野家🍣") == "🍣𠮷"
    with pytest.raises(UnicodeEncodeError):
        to_cp932("🍣")
    assert to_cp932("a🍣b", replace=True).decode("cp932") == "a〓b"
