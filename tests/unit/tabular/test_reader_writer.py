"""Reading and writing tables: header checks, row shapes with Excel's row numbers, .xlsx,
formula neutralisation that survives a round trip, CP932 gaps by row and column."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from api.tabular import reader as reader_module
from api.tabular.messages import FileRefused
from api.tabular.reader import open_table
from api.tabular.writer import CsvWriter, Gap, XlsxWriter, neutralise

HOSTILE = ['=HYPERLINK("http://x","y")', "+81 3 1234 5678", "-5", "@SUM(A1)", "\tx", "\rx"]


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path) -> tuple[list[str], list[tuple[int, list[str], str | None]]]:
    with open_table(path) as table:
        rows = [(r.number, r.cells, r.problem.code if r.problem else None) for r in table.rows()]
        return table.header, rows


def refused_code(path: Path) -> str:
    with pytest.raises(FileRefused) as info:
        open_table(path)
    return info.value.errors[0].code


def test_header_and_rows_with_excel_row_numbers(tmp_path: Path) -> None:
    text = (
        "\ufeff メールアドレス ,氏名,メモ,,\r\n"  # BOM, spaces, Excel's empty trailing columns
        'taro@example.jp,山田 太郎,"一行目\r\n二行目",,\r\n'  # a cell over two lines
        ",,,,\r\n"  # a blank row: skipped, still counted
        "hanako@example.jp,佐藤 花子,,\r\n"
    )
    header, rows = read(write(tmp_path, text, "utf-8"))
    assert header == ["メールアドレス", "氏名", "メモ"]
    assert rows == [
        (2, ["taro@example.jp", "山田 太郎", "一行目\r\n二行目"], None),
        (4, ["hanako@example.jp", "佐藤 花子", ""], None),
    ]


def test_cp932_file_reads_the_extension_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "会社,代表\r\n㈱キズナ①,髙橋\r\n", "cp932")
    with open_table(path) as table:
        assert table.encoding == "cp932"
        assert [r.cells for r in table.rows()] == [["㈱キズナ①", "髙橋"]]


def test_rows_of_the_wrong_shape_are_reported_and_the_rest_goes_on(tmp_path: Path) -> None:
    text = 'a,b,c\n1,2,3\n1,2,3,4\n1,2\n1,"x"y,3\n7,8,9\n'
    _, rows = read(write(tmp_path, text))
    assert [(n, code) for n, _, code in rows] == [
        (2, None),
        (3, "row_too_many_cells"),
        (4, "row_too_few_cells"),
        (5, "row_bad_quotes"),
        (6, None),
    ]


def test_an_unclosed_quote_refuses_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'a,b\n1,"never closed\n2,3\n4,5\n')
    with open_table(path) as table, pytest.raises(FileRefused) as info:
        list(table.rows())
    error = info.value.errors[0]
    assert error.code == "row_unterminated_quote" and error.row == 2


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("\r\n", "header_missing"),
        ("a,,b\r\n", "header_blank"),
        ("email,ＥＭＡＩＬ\r\n", "header_duplicate"),  # the same name in another width
        ("a,b\x07\r\n", "header_control_chars"),
    ],
)
def test_unusable_headers_are_refused(tmp_path: Path, header: str, code: str) -> None:
    assert refused_code(write(tmp_path, header + "1,2\r\n")) == code


def test_tab_separated_text_is_read(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path, "氏名\tメール\n山田\ta@example.jp\n"))
    assert header == ["氏名", "メール"] and rows == [(2, ["山田", "a@example.jp"], None)]


def test_formulas_are_neutralised_and_come_back_unchanged(tmp_path: Path) -> None:
    assert [neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert neutralise("山田") == "山田" and neutralise("") == ""
    buffer = io.BytesIO()
    out = CsvWriter(buffer, "utf-8-bom")
    out.write(["value", "number"])
    for value in HOSTILE:
        out.write([value, -5])
    out.close()
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n\"'=HYPERLINK" in data
    assert b",-5\r\n" in data  # numbers are not text: written as they are
    path = tmp_path / "out.csv"
    path.write_bytes(data)
    _, rows = read(path)
    assert [cells[0] for _, cells, _ in rows] == HOSTILE


def test_cp932_export_maps_twins_and_lists_gaps_by_row_and_column() -> None:
    buffer = io.BytesIO()
    out = CsvWriter(buffer, "cp932")
    out.write(["氏名", "メモ"])
    out.write(["髙橋", "10〜20"], key=1)
    out.write(["𠮷田", "寿司🍣"], key=2)
    out.close()
    assert out.gaps == [Gap(2, 0, "𠮷"), Gap(2, 1, "🍣")]
    assert buffer.getvalue().decode("cp932").splitlines() == [
        "氏名,メモ",
        "髙橋,10～20",
        "〓田,寿司〓",
    ]


def test_xlsx_round_trip_keeps_types_and_never_writes_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    with path.open("wb") as fh:
        out = XlsxWriter(fh, "顧客/一覧")
        out.write(["氏名", "値", "数", "日付", "日時", "金額"])
        out.write(
            [
                "山田",
                "=1+1",
                42,
                dt.date(2026, 4, 1),
                dt.datetime(2026, 4, 1, 9, 30),
                Decimal("1234.50"),
            ]
        )
        out.close()  # fmt: skip
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert sheet.title == "顧客 一覧"
    cell = sheet["B2"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    header, rows = read(path)
    assert header == ["氏名", "値", "数", "日付", "日時", "金額"]
    assert rows == [
        (2, ["山田", "=1+1", "42", "2026-04-01", "2026-04-01 09:30:00", "1234.5"], None)
    ]


def test_workbooks_that_cannot_be_read_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert refused_code(xls) == "file_xls"
    not_a_book = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(not_a_book, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert refused_code(not_a_book) == "file_not_xlsx"
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"\0" * 2_000_000)
    monkeypatch.setattr(reader_module, "MAX_XLSX_UNPACKED", 1_000_000)
    assert refused_code(bomb) == "file_xlsx_too_large"
