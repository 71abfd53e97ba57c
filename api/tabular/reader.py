"""Read a CSV or ``.xlsx`` file as a header and rows of text cells, streamed.

    with open_table(path, encoding="auto") as table:
        table.header            # ["メールアドレス", "氏名", …] (trimmed)
        for row in table.rows():
            row.number          # the row number Excel shows (the header is row 1)
            row.cells           # one text per header column ("" for empty)
            row.problem         # a FieldError when the row's shape is wrong (cells is then [])

The whole file is checked before the first row is given: its encoding over every byte
(:func:`api.tabular.encodings.detect`) and its header. A problem with the file is a
:class:`FileRefused`; a problem with one row's shape (too many or too few cells, a stray quote)
is that row's ``problem`` and the other rows go on. Rows whose cells are all empty (Excel
leaves them at the end of a sheet) are skipped. Cells are text as typed; judging them is for
``api/fields``. A cell that an export of ours neutralised (``'=SUM(A1)``) comes back without
the apostrophe, so an exported file imports as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from api.errors import FieldError
from api.fields import chars
from api.tabular.encodings import Encoding, Requested, detect
from api.tabular.messages import FileRefused, message

Format = Literal["csv", "xlsx"]

# The longest cell accepted (characters); long text fields hold 100,000.
MAX_CELL = 1_000_000
# An .xlsx is a zip: refuse one that unpacks to more than this (a zip bomb, or a file that is
# better imported as CSV).
MAX_XLSX_UNPACKED = 2 << 30
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

csv.field_size_limit(MAX_CELL)


@dataclass(frozen=True)
class Row:
    number: int
    cells: list[str]
    problem: FieldError | None = None


@dataclass
class Table:
    path: Path
    format: Format
    encoding: Encoding | None  # None for .xlsx
    header: list[str] = field(default_factory=list)
    _handle: IO[Any] | None = None
    _rows: Iterator[tuple[int, list[str] | FieldError]] | None = None
    _workbook: Any = None

    def rows(self) -> Iterator[Row]:
        assert self._rows is not None, "open the table with open_table()"
        width = len(self.header)
        for number, cells in self._rows:
            if isinstance(cells, FieldError):
                yield Row(number, [], cells)
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]  # empty cells past the last column: Excel's trailing commas
            if len(cells) != width:
                code = "row_too_many_cells" if len(cells) > width else "row_too_few_cells"
                params = {"count": len(cells), "expected": width}
                yield Row(number, [], _problem(code, number, params))
                continue
            yield Row(number, [_unneutralise(c) for c in cells])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._workbook is not None:
            self._workbook.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _problem(code: str, row: int, params: dict[str, Any]) -> FieldError:
    return FieldError("row", message(code, params), code, row=row, params=params)


def _unneutralise(cell: str) -> str:
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_STARTS:
        return cell[1:]
    return cell


def sniff_format(path: Path) -> Format:
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE container of .xls
        raise FileRefused.of("file_xls")
    return "csv"


def open_table(
    path: Path,
    *,
    encoding: Requested = "auto",
    format: Format | Literal["auto"] = "auto",
) -> Table:
    """Open ``path`` (checked whole before the first row): :class:`FileRefused` if unusable."""
    kind = sniff_format(path) if format == "auto" else format
    table = _open_xlsx(path) if kind == "xlsx" else _open_csv(path, encoding)
    try:
        table.header = _check_header(next(table._rows or iter(()), None))
    except BaseException:
        table.close()
        raise
    return table


def _check_header(first: tuple[int, list[str] | FieldError] | None) -> list[str]:
    cells = first[1] if first is not None else []
    if isinstance(cells, FieldError):
        raise FileRefused(detail=cells.message, errors=[cells])
    if not any(c.strip() for c in cells):
        raise FileRefused.of("header_missing")
    names = [chars.trim(c.lstrip("\ufeff")) for c in cells]
    while names and not names[-1]:
        names.pop()  # empty columns after the last named one
    seen: dict[str, int] = {}
    for column, name in enumerate(names, start=1):
        if not name:
            raise FileRefused.of("header_blank", column=column)
        if chars.has_control(name) or chars.has_line_break(name):
            raise FileRefused.of("header_control_chars", column=column)
        key = chars.match_key(name)
        if key in seen:
            raise FileRefused.of("header_duplicate", name=name, first=seen[key], column=column)
        seen[key] = column
    return names


# ------------------------------------------------------------------------------------- CSV


def _open_csv(path: Path, requested: Requested) -> Table:
    encoding = detect(path, requested)
    handle = path.open(encoding=encoding, newline="")
    first = handle.readline()
    delimiter = "\t" if "\t" in first and "," not in first else ","
    handle.seek(0)
    table = Table(path, "csv", encoding, _handle=handle)
    table._rows = _csv_rows(handle, delimiter)
    return table


def _csv_rows(handle: IO[str], delimiter: str) -> Iterator[tuple[int, list[str] | FieldError]]:
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):  # an open quote ate the rest of the file
                raise FileRefused(
                    detail=f"row {number} (line {start_line}): "
                    + message("row_unterminated_quote"),
                    errors=[_problem("row_unterminated_quote", number, {"line": start_line})],
                ) from exc
            yield number, _problem("row_bad_quotes", number, {"line": start_line})
            continue
        yield number, cells


# ------------------------------------------------------------------------------------ xlsx


def _open_xlsx(path: Path) -> Table:
    import openpyxl  # a heavy import, only when a workbook comes

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED:
            raise FileRefused.of("file_xlsx_too_large", max_mb=MAX_XLSX_UNPACKED >> 20)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileRefused:
        raise
    except Exception as exc:  # a zip that is no workbook, a broken part…
        raise FileRefused.of("file_not_xlsx", reason=type(exc).__name__) from exc
    table = Table(path, "xlsx", None, _workbook=workbook)
    sheet = workbook.worksheets[0]
    table._rows = (
        (number, [_xlsx_text(v) for v in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    )
    return table


def _xlsx_text(value: Any) -> str:
    """A typed cell as the text a person would have typed in a CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
