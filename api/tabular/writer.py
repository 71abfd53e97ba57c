"""Write a header and rows as CSV (UTF-8, UTF-8 with BOM for Excel, CP932) or ``.xlsx``, streamed.

    with open("out.csv", "wb") as fh:
        out = CsvWriter(fh, "cp932")
        out.write(["メールアドレス", "氏名"])
        for record in records:
            out.write([record.email, record.name], key=record.id)
        out.close()
    out.gaps      # [Gap(key=12, column=1, chars="🍣")]: values CP932 cannot hold

Memory stays flat: rows go to the stream as they come (``.xlsx`` through openpyxl's write-only
mode, which keeps one row at a time and writes shared strings inline).

**Formulas** (OWASP "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``,
TAB or CR is written with a leading apostrophe, so Excel and LibreOffice show it as text
instead of running it; numbers, dates and booleans are written as they are. The reader takes
the apostrophe off again, so an exported file imports unchanged. In ``.xlsx`` text cells are
typed as text (never formulas), so nothing needs to be added.

**CP932**: the characters with a CP932 twin are written as the twin (see
:mod:`api.tabular.encodings`); any other character CP932 cannot hold is written as 〓 and listed
in :attr:`CsvWriter.gaps` with the row's key and the column, so that the caller can refuse the
file (the default for exports) or keep it when the user asked for replacement.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO, Literal

from api.tabular.encodings import CP932_TWINS, GETA, cp932_gaps
from api.tabular.reader import FORMULA_STARTS

CsvEncoding = Literal["utf-8", "utf-8-bom", "cp932"]
Cell = str | int | float | Decimal | bool | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Gap:
    key: Hashable  # what the caller passed for the row (a record id); None for the header
    column: int  # 0-based
    chars: str  # the characters CP932 cannot hold, each once


def neutralise(text: str) -> str:
    """A text cell safe to open in a spreadsheet (OWASP): formula starts get an apostrophe."""
    return "'" + text if text and text[0] in FORMULA_STARTS else text


def cell_text(cell: Cell) -> str:
    """A cell's text in CSV: empty for None, text neutralised, booleans TRUE/FALSE, datetimes
    ``2026-04-01 09:30:00``, dates ISO, numbers as ``str``."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return neutralise(cell)
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, dt.datetime):
        return cell.isoformat(" ", "seconds")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


class CsvWriter:
    def __init__(self, stream: BinaryIO, encoding: CsvEncoding = "utf-8") -> None:
        self.encoding = encoding
        self.gaps: list[Gap] = []
        self.rows = 0
        self._cp932 = encoding == "cp932"
        codec = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "cp932": "cp932"}[encoding]
        self._text = io.TextIOWrapper(
            stream, encoding=codec, errors="strict", newline="", write_through=False
        )
        self._csv = csv.writer(self._text, lineterminator="\r\n")

    def write(self, cells: Sequence[Cell], *, key: Hashable = None) -> None:
        texts = [cell_text(c) for c in cells]
        if self._cp932:
            for column, text in enumerate(texts):
                if not text.isascii():
                    texts[column] = self._to_cp932(text, key, column)
        self._csv.writerow(texts)
        self.rows += 1

    def _to_cp932(self, text: str, key: Hashable, column: int) -> str:
        text = text.translate(CP932_TWINS)
        missing = cp932_gaps(text)
        if not missing:
            return text
        self.gaps.append(Gap(key, column, missing))
        return "".join(GETA if c in missing else c for c in text)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller owns the stream


class XlsxWriter:
    """One sheet, written row by row (openpyxl write-only); :meth:`close` saves to ``stream``."""

    def __init__(self, stream: BinaryIO, sheet_title: str = "Sheet1") -> None:
        from openpyxl import Workbook  # heavy: only when a workbook is asked for

        self.gaps: list[Gap] = []  # .xlsx holds every character
        self.rows = 0
        self._stream = stream
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(_sheet_title(sheet_title))

    def write(self, cells: Sequence[Cell], *, key: Hashable = None) -> None:
        from openpyxl.cell import WriteOnlyCell

        row: list[Any] = []
        for cell in cells:
            if isinstance(cell, str):
                out = WriteOnlyCell(self._sheet, _xml_safe(cell))
                out.data_type = "s"  # text, never a formula, whatever it starts with
                row.append(out)
            elif isinstance(cell, dt.datetime) and cell.tzinfo is not None:
                row.append(cell.replace(tzinfo=None))  # Excel has no time zones: local wall time
            elif isinstance(cell, Decimal):
                row.append(float(cell) if abs(cell) < Decimal(10) ** 15 else str(cell))
            else:
                row.append(cell)
        self._sheet.append(row)
        self.rows += 1

    def close(self) -> None:
        self._book.save(self._stream)


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip("' ") or "Sheet1"
    return cleaned[:31]


def _xml_safe(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return str(ILLEGAL_CHARACTERS_RE.sub("", text))
