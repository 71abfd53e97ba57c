"""Export a record set (a selection, a view or a filter) to CSV or ``.xlsx``, streamed.

The rows come from :mod:`api.customers.record_set` a batch at a time, in the list's order, and
go to :mod:`api.tabular.writer` one by one, so memory holds one batch whatever the size. Cells
are what people expect to see: datetimes in the site's time zone (live setting
``site.time_zone``) without an offset, choices by their label (or value), multi-selects joined
with ``", "`` (what the import splits on), references by the referenced record's label (its
first text field) or id, the owner by name, files by name. Formulas are neutralised and CP932
gaps listed by the writer (one place for both rules).

CP932 gaps: every value CP932 cannot hold is listed by record id and field. The export is
refused with that list (nothing is kept) unless the caller asked for replacement (〓).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from sqlmodel import Session

from api.audit import services as audit
from api.customers.record_set import RecordSet, iter_rows
from api.customers.services import Design
from api.customers.types import FieldType, column_name
from api.errors import FieldError, ValidationFailed
from api.exports import cells
from api.principal import Principal
from api.settings import Settings
from api.tabular.messages import message
from api.tabular.writer import CsvWriter, XlsxWriter

Format = Literal["csv", "xlsx"]
Encoding = Literal["utf-8", "utf-8-bom", "cp932"]
Labels = Literal["ja", "en", "keys"]
Values = Literal["display", "stored"]

FORMATS = ("csv", "xlsx")
ENCODINGS = ("utf-8", "utf-8-bom", "cp932")
LABELS = ("ja", "en", "keys")
VALUES = ("display", "stored")
MAX_GAPS = 1_000  # listed in the refusal; the count says how many in all

SYSTEM_COLUMNS: dict[str, dict[str, str]] = {
    "id": {"ja": "ID", "en": "ID"},
    "public_id": {"ja": "公開ID", "en": "Public ID"},
    "status": {"ja": "ステータス", "en": "Status"},
    "owner_id": {"ja": "担当者", "en": "Owner"},
    "created_at": {"ja": "作成日時", "en": "Created at"},
    "updated_at": {"ja": "更新日時", "en": "Updated at"},
}


@dataclass(frozen=True)
class Options:
    format: Format = "csv"
    encoding: Encoding = "utf-8"
    columns: tuple[str, ...] | None = None  # None: id, every active field, the system columns
    labels: Labels = "ja"
    values: Values = "display"
    replace: bool = False  # CP932: write 〓 for what it cannot hold instead of refusing

    @property
    def lang(self) -> str:
        return "en" if self.labels == "en" else "ja"


@dataclass(frozen=True)
class GapOut:
    record_id: int
    field: str
    chars: str


@dataclass
class Result:
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    gaps: list[GapOut] = field(default_factory=list)
    gap_count: int = 0
    path: str = "general"  # how it was written: "copy" (PostgreSQL), "sql" (SQLite), "general"


def parse_options(
    *,
    format: str | None = None,
    encoding: str | None = None,
    columns: str | Sequence[str] | None = None,
    labels: str | None = None,
    values: str | None = None,
    replace: bool = False,
) -> Options:
    """Options from plain values (query parameters, CLI flags); 422 naming the bad one."""
    errors: list[FieldError] = []

    def pick(name: str, value: str | None, allowed: tuple[str, ...], default: str) -> str:
        if value in (None, ""):
            return default
        if value not in allowed:
            errors.append(
                FieldError(name, f"must be one of {', '.join(allowed)}", "invalid_choice",
                           params={"choices": ", ".join(allowed)})
            )  # fmt: skip
            return default
        return str(value)

    fmt = pick("format", format, FORMATS, "csv")
    enc = pick("encoding", encoding, ENCODINGS, "utf-8")
    lab = pick("labels", labels, LABELS, "ja")
    val = pick("values", values, VALUES, "display")
    cols: tuple[str, ...] | None = None
    if isinstance(columns, str):
        cols = tuple(c.strip() for c in columns.split(",") if c.strip()) or None
    elif columns is not None:
        cols = tuple(columns) or None
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )
    return Options(fmt, enc, cols, lab, val, replace)  # type: ignore[arg-type]


def default_columns(design: Design) -> list[str]:
    extra = ["status"] if design.spec.statuses else []
    return ["id", *(s.key for _, s in design.active()), *extra, "owner_id", "created_at",
            "updated_at"]  # fmt: skip


def _check_columns(design: Design, columns: Sequence[str]) -> list[str]:
    active = {s.key for _, s in design.active()}
    errors = [
        FieldError(f"columns[{i}]", f"is not a field of {design.key}", "unknown_field")
        for i, key in enumerate(columns)
        if key not in active and key not in SYSTEM_COLUMNS
    ]
    if len(set(columns)) != len(columns):
        errors.append(FieldError("columns", "lists a column twice", "duplicate"))
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )
    return list(columns)


def header(design: Design, columns: Sequence[str], labels: Labels) -> list[str]:
    out = []
    for key in columns:
        if labels == "keys":
            out.append(key)
            continue
        label = SYSTEM_COLUMNS.get(key) or design.specs[key].label
        out.append(label.get(labels) or label.get("ja") or label.get("en") or key)
    return out


# ------------------------------------------------------------------ writing


def write(
    session: Session,
    rs: RecordSet,
    options: Options,
    stream: BinaryIO,
    *,
    batch: int = 2_000,
    fast_path_off: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Write the set to ``stream`` (the header, then every record) and say what was written.
    CP932 gaps are replaced by 〓 in the stream and listed in the result: the caller decides
    whether the file may leave (:func:`export_file` does). ``progress`` is called with the
    rows written so far, after each batch.

    A CSV export into a seekable stream takes the fast path of its database — ``COPY`` on
    PostgreSQL (:mod:`api.exports.copy`), cells made by the query on SQLite
    (:mod:`api.exports.sqlite`) — unless a value CP932 cannot hold sends it back here."""
    design = rs.design
    columns = _check_columns(design, options.columns or default_columns(design))
    converters, refs = cells.converters(
        session, design, columns, options.lang, options.values == "display"
    )
    if options.format == "csv" and stream.seekable() and not fast_path_off:
        from api.exports import copy, sqlite

        start = stream.tell()
        head = CsvWriter(stream, options.encoding)
        head.write(header(design, columns, options.labels))
        head.close()
        if not head.gaps:
            try:
                if design.dialect == "postgresql":
                    copied = copy.copy_rows(
                        session, rs, columns, options, stream, progress=progress
                    )
                    return Result(rows=copied, columns=columns, path="copy")
                copied = sqlite.write_rows(
                    session, rs, columns, options, stream, batch=max(batch, 5_000),
                    progress=progress,
                )  # fmt: skip
                return Result(rows=copied, columns=columns, path="sql")
            except copy.Gap:
                pass  # the general way lists each gap by record and field
        stream.seek(start)
        stream.truncate()
        if progress is not None:
            progress(0)
    out: CsvWriter | XlsxWriter
    if options.format == "xlsx":
        out = XlsxWriter(
            stream, sheet_title=str(design.table.label.get(options.lang) or design.key)
        )
    else:
        out = CsvWriter(stream, options.encoding)
    out.write(header(design, columns, options.labels))
    references = [
        (design.specs[k].references, column_name(k))
        for k in columns
        if k in design.specs and design.specs[k].type == FieldType.reference
    ]
    result = Result(columns=columns)
    for rows in iter_rows(session, rs, batch=batch):
        if refs is not None:
            for target, column in references:
                if target:
                    refs.load(target, {r._mapping[column] for r in rows} - {None})
        for row in rows:
            data = row._mapping
            out.write([convert(data[name]) for name, convert in converters], key=data["id"])
        result.rows += len(rows)
        if progress is not None:
            progress(result.rows)
    out.close()
    result.gap_count = len(out.gaps)
    result.gaps = [
        GapOut(int(g.key), columns[g.column], g.chars)  # type: ignore[call-overload]
        for g in out.gaps[:MAX_GAPS]
        if g.key
    ]
    return result


def refusal(result: Result) -> ValidationFailed:
    """The 422 of a CP932 export that would lose characters: each record and field."""
    errors = [
        FieldError(
            f"records.{g.record_id}.{g.field}",
            message("cp932_gap", {"chars": g.chars}),
            "cp932_gap",
            params={"record_id": g.record_id, "field": g.field, "chars": g.chars},
        )
        for g in result.gaps
    ]
    return ValidationFailed(
        detail=(
            f"{result.gap_count} value(s) cannot be written in CP932 (Shift_JIS); export as "
            "UTF-8, or ask for them to be replaced by 〓 (replace=true)."
        ),
        code="cp932_gaps",
        errors=errors,
    )


def exports_dir(var_dir: Path) -> Path:
    path = var_dir / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_leftovers(session: Session, settings: Settings) -> int:
    """Housekeeping: export files left in ``var/exports`` once older than
    ``export_leftover_hours``: a download's file (a process stopped between writing it and
    sending it) and an export job's unfinished ``.part`` (its worker died). Returns how many
    went. (Finished export jobs' files expire by ``jobs.expire_files``.)"""
    directory = settings.var_dir / "exports"
    if not directory.is_dir():
        return 0
    cutoff = time.time() - settings.export_leftover_hours * 3600
    removed = 0
    for path in [*directory.glob("export-*"), *directory.glob("job-*.part")]:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # sent and removed meanwhile
            continue
    return removed


def export_file(
    session: Session, rs: RecordSet, options: Options, directory: Path
) -> tuple[Path, Result]:
    """Write the export to a new file in ``directory``; refused (file removed, 422 listing the
    gaps) when CP932 cannot hold some values and replacement was not asked for."""
    handle, name = tempfile.mkstemp(prefix="export-", suffix="." + options.format, dir=directory)
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            result = write(session, rs, options, stream)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if result.gap_count and not options.replace:
        path.unlink(missing_ok=True)
        raise refusal(result)
    return path, result


def record_export(
    session: Session,
    actor: Principal,
    rs: RecordSet,
    options: Options,
    result: Result,
    *,
    job: int | None = None,
) -> None:
    """The audit entry of an export: who took which records, how, how many."""
    audit.record(
        session,
        actor,
        "customers.export",
        target_type="customer_table",
        target_id=rs.key,
        after={
            **{k: v for k, v in rs.selection.items() if v is not None and k != "ids"},
            "ids": len(rs.selection["ids"]) if rs.selection.get("ids") else None,
            "format": options.format,
            "encoding": options.encoding if options.format == "csv" else None,
            "columns": result.columns,
            "rows": result.rows,
            "replaced": result.gap_count if options.replace else 0,
            **({"job": job} if job is not None else {}),
        },
    )


def file_name(design: Design, options: Options, today: dt.date) -> str:
    label = design.table.label.get(options.lang) or design.key
    safe = "".join(c for c in label if c not in '\\/:*?"<>|' and c >= " ")[:80] or design.key
    return f"{safe}_{today:%Y%m%d}.{options.format}"


def chunks(path: Path, size: int = 1 << 16) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(size):
            yield block
