"""Import batches: upload, mapping, dry run, run, resume, error report, undo, housekeeping.
No HTTP here.

The file is kept under ``var/imports/<batch stored name>`` from the upload until housekeeping
removes it (:func:`remove_old_files`: a retention after the batch's last step); every step
re-reads it through :func:`api.tabular.open_table` (the encoding checked over the whole file
each time, so a file changed underneath is refused, not misread). The work on rows is in
:mod:`api.imports.engine`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from multipart import ParserError, ParserLimitReached, PushMultipartParser, parse_options_header
from sqlmodel import Session, col, select

from api.audit import services as audit
from api.customers import search
from api.customers.definitions import FieldSpec
from api.customers.models import RecordHistory
from api.customers.services import Design, load_design
from api.customers.types import FieldType, column_name
from api.customers.values import normalise, to_json
from api.db import Database, run_after_commit, utcnow
from api.errors import (
    Conflict,
    FieldError,
    KizunaError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from api.fields import chars
from api.groups import imports as group_column
from api.imports import engine
from api.imports.messages import CANCELLED, both, message
from api.imports.models import CustomerImport, CustomerImportError
from api.jobs.kinds import JobKind, UnitSpec
from api.jobs.models import Job, JobUnit, UnitState
from api.jobs.services import create_job
from api.permissions import Role
from api.principal import Principal
from api.security import revocation
from api.settings import Settings
from api.tabular.messages import FileRefused
from api.tabular.reader import Table, open_table, sniff_format
from api.tabular.writer import CsvWriter

CHUNK = 5_000  # rows per chunk of the dry run and the run: one transaction each
UNDO_CHUNK = 2_000  # history rows per chunk of the undo: one transaction each
SKIPPED_LISTED = 1_000  # what an undo left (changed since…): listed one by one up to this
SAMPLE_ROWS = 5
FIRST_ERRORS = 100
ERROR_COLUMN = "エラー / Error"
MODES = ("insert", "update", "upsert")
MULTIPART_OVERHEAD = 64 * 1024


class TooLarge(KizunaError):
    status = 413
    title = "The file is too large"
    default_code = "import_too_large"


def _refused(code: str, field_name: str = "file", **params: Any) -> ValidationFailed:
    text = message(code, params)
    return ValidationFailed(
        detail=text, code=code, errors=[FieldError(field_name, text, code, params=params or None)]
    )


def _too_large(limit: int) -> TooLarge:
    mb = max(1, limit >> 20)
    text = message("import_too_large", {"limit": mb})
    return TooLarge(
        detail=text, errors=[FieldError("file", text, "import_too_large", params={"limit": mb})]
    )


# ------------------------------------------------------------------ upload


@dataclass
class Received:
    path: Path
    name: str
    size: int


def _target(imports_dir: Path) -> Path:
    imports_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return imports_dir / secrets.token_hex(16)


async def receive(
    imports_dir: Path,
    limit: int,
    content_type: str,
    content_length: int | None,
    chunks: AsyncIterator[bytes],
    *,
    filename: str | None = None,
) -> tuple[Received, dict[str, str]]:
    """Stream an upload into ``var/imports``, refusing it (413) the moment it passes ``limit``.
    ``multipart/form-data``: the part ``file`` and small text parts (``encoding``); any other
    body is the file itself. Returns the file and the text parts."""
    media, options = parse_options_header(content_type or "")
    multipart = media == "multipart/form-data"
    if content_length is not None and content_length > limit + (
        MULTIPART_OVERHEAD if multipart else 0
    ):
        raise _too_large(limit)
    target = _target(imports_dir)
    size = 0
    name = filename or ""
    found = not multipart
    fields: dict[str, str] = {}
    try:
        with target.open("xb") as out:
            if not multipart:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    out.write(chunk)
            else:
                boundary = options.get("boundary")
                if not boundary:
                    raise _refused("import_file_missing")
                parser = PushMultipartParser(
                    boundary, max_segment_count=8, max_segment_size=limit + 1
                )
                part: str | None = None
                text = bytearray()
                try:
                    async for chunk in chunks:
                        for event in parser.parse(chunk):
                            if event is None:
                                if part is not None and part != "file":
                                    fields[part] = text.decode("utf-8", "replace")[:100]
                                part = None
                                text = bytearray()
                            elif isinstance(event, bytes | bytearray):
                                if part == "file":
                                    size += len(event)
                                    if size > limit:
                                        raise _too_large(limit)
                                    out.write(event)
                                elif part is not None and len(text) < 1000:
                                    text += event
                            elif event.name == "file" and not found:
                                part = "file"
                                found = True
                                name = event.filename or ""
                            else:
                                part = event.name
                    for _ in parser.parse(b""):
                        pass
                    parser.close()
                except ParserLimitReached:
                    raise _too_large(limit) from None
                except ParserError:
                    raise _refused("import_file_missing") from None
        if not found:
            raise _refused("import_file_missing")
        if size == 0:
            raise FileRefused.of("file_empty")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    clean = "".join(c for c in name.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())
    return Received(target, clean[:255], size), fields


ENCODINGS = ("auto", "utf-8", "cp932")


def _requested(encoding: str) -> Any:
    if encoding not in ENCODINGS:
        raise _refused("import_encoding", "encoding")
    return encoding


def create_batch(
    session: Session,
    actor: Principal,
    table_key: str,
    received: Received,
    *,
    encoding: str = "auto",
    keep_refused: bool = False,
) -> CustomerImport:
    """Read the received file's header and rows (the encoding is checked over the whole file,
    every row counted) and keep it as a new batch, mapped automatically or as the table's last
    import was. A refused file is deleted: :class:`FileRefused` (422), nothing kept — unless
    ``keep_refused`` and the refusal is its encoding's (:data:`REREADABLE`): then the file
    stays for :func:`refused_batch`, to be read again in another encoding."""
    design = load_design(session, table_key)
    try:
        requested = _requested(encoding)
        if sniff_format(received.path) == "xlsx":  # openpyxl wants the file's extension
            named = received.path.with_suffix(".xlsx")
            received.path.rename(named)
            received.path = named
        with open_table(received.path, encoding=requested) as table:
            header, sample, total = _survey(table)
            actual = table.encoding or ""
            kind = table.format
    except BaseException as error:
        if not (keep_refused and rereadable(error)):
            received.path.unlink(missing_ok=True)
        raise
    mapping, source = _initial_mapping(session, design, header)
    key = _default_key(design, mapping)
    batch = CustomerImport(
        table_id=design.table.id,  # type: ignore[arg-type]
        stored=received.path.name,
        filename=received.name,
        format=kind,
        encoding=actual,
        requested_encoding=encoding,
        size=received.size,
        header=header,
        sample=sample,
        rows_total=total,
        mapping=mapping,
        mapping_source=source,
        mode="upsert",
        key=key,
        created_by=actor.label,
        created_by_id=actor.staff_id,
    )
    session.add(batch)
    session.flush()
    return batch


def _survey(table: Table) -> tuple[list[str], list[list[str]], int]:
    sample: list[list[str]] = []
    total = 0
    for row in table.rows():
        total += 1
        if len(sample) < SAMPLE_ROWS and row.problem is None:
            sample.append(row.cells)
    return list(table.header), sample, total


# Refusals another encoding may cure: the file is kept (a batch in state ``refused``) so staff
# can read it again as CP932 or UTF-8 without sending it again.
REREADABLE = frozenset({"file_not_utf8", "file_not_cp932", "file_encoding_unknown"})


def keep_upload(
    db: Database,
    actor: Principal,
    table_key: str,
    received: Received,
    *,
    encoding: str = "auto",
    keep_refused: bool = False,
) -> int:
    """A received file made a batch (:func:`create_batch`, in its own transaction); returns its
    id. A refused file raises :class:`FileRefused`; with ``keep_refused`` and a refusal of its
    encoding, the file is first kept as a ``refused`` batch (a second transaction: the first
    rolled back) which the error names (``params.batch_id``), to be read again."""
    try:
        with db.transaction() as session:
            batch = create_batch(
                session, actor, table_key, received, encoding=encoding, keep_refused=keep_refused
            )
            assert batch.id is not None
            return batch.id
    except FileRefused as refused:
        if not (keep_refused and rereadable(refused)):
            raise
        try:
            with db.transaction() as session:
                kept = refused_batch(
                    session, actor, table_key, received, encoding=encoding, refusal=refused
                )
                kept_id = kept.id
        except BaseException:
            received.path.unlink(missing_ok=True)
            raise
        assert kept_id is not None  # committed: the error names it
        raise with_batch(refused, kept_id) from None


def rereadable(error: BaseException) -> bool:
    return isinstance(error, FileRefused) and any(e.code in REREADABLE for e in error.errors)


def with_batch(error: FileRefused, batch_id: int) -> FileRefused:
    """The refusal naming the kept batch (``params.batch_id``) that can be read again."""
    errors = [
        FieldError(e.field, e.message, e.code, e.row, {**(e.params or {}), "batch_id": batch_id})
        for e in error.errors
    ]
    return FileRefused(detail=error.detail, code=error.code, errors=errors)


def refused_batch(
    session: Session,
    actor: Principal,
    table_key: str,
    received: Received,
    *,
    encoding: str,
    refusal: FileRefused,
) -> CustomerImport:
    """Keep a file refused for its encoding as a batch in state ``refused`` (no header, no
    rows; the refusal in ``check.refusal``), to be read again by :func:`update_batch` with
    another encoding. Left out of the table's list of imports."""
    design = load_design(session, table_key)
    first = refusal.errors[0] if refusal.errors else None
    batch = CustomerImport(
        table_id=design.table.id,  # type: ignore[arg-type]
        state="refused",
        stored=received.path.name,
        filename=received.name,
        format="csv",
        encoding="",
        requested_encoding=encoding,
        size=received.size,
        check={"refusal": first.as_dict() if first else {"code": refusal.code}},
        message=refusal.detail[:2000],
        created_by=actor.label,
        created_by_id=actor.staff_id,
    )
    session.add(batch)
    session.flush()
    return batch


def _names(spec: FieldSpec) -> set[str]:
    names = {chars.match_key(spec.key)}
    for label in spec.label.values():
        if label:
            names.add(chars.match_key(label))
    return names


def _mappable(spec: FieldSpec) -> bool:
    return spec.type != FieldType.file


def auto_mapping(design: Design, header: list[str]) -> dict[str, str | None]:
    """Each column to the field whose key or ja/en label it names (compared by
    :func:`api.fields.chars.match_key`: width, case, kana and spaces do not matter)."""
    by_name: dict[str, str] = {}
    for _, spec in design.active():
        if _mappable(spec):
            for name in _names(spec):
                by_name.setdefault(name, spec.key)
    if group_column.allowed(design):
        for name in group_column.HEADERS:
            by_name.setdefault(chars.match_key(name), group_column.KEY)
    out: dict[str, str | None] = {}
    used: set[str] = set()
    for index, name in enumerate(header):
        found = by_name.get(chars.match_key(name))
        if found in used:
            found = None
        if found:
            used.add(found)
        out[str(index)] = found
    return out


def _initial_mapping(
    session: Session, design: Design, header: list[str]
) -> tuple[dict[str, str | None], str]:
    """The mapping of the table's last started import, by column name, where the names
    match; else automatic."""
    auto = auto_mapping(design, header)
    last = session.exec(
        select(CustomerImport)
        .where(
            CustomerImport.table_id == design.table.id,
            col(CustomerImport.state).in_(("running", "done", "failed", "undoing", "undone")),
        )
        .order_by(col(CustomerImport.id).desc())
        .limit(1)
    ).first()
    if last is None:
        return auto, "auto"
    remembered = {
        chars.match_key(name): last.mapping.get(str(i)) for i, name in enumerate(last.header)
    }
    active = {spec.key for _, spec in design.active() if _mappable(spec)}
    if group_column.allowed(design):
        active.add(group_column.KEY)
    out: dict[str, str | None] = {}
    hit = False
    for index, name in enumerate(header):
        name_key = chars.match_key(name)
        if name_key in remembered:
            value = remembered[name_key]
            out[str(index)] = value if value in active else None
            hit = True
        else:
            out[str(index)] = auto[str(index)]
    if not hit:
        return auto, "auto"
    seen: set[str] = set()
    for column in list(out):
        value = out[column]
        if value is not None and value in seen:
            out[column] = None
        elif value:
            seen.add(value)
    return out, "remembered"


def _default_key(design: Design, mapping: dict[str, str | None]) -> list[str]:
    mapped = [design.specs[k] for k in mapping.values() if k and k in design.specs]
    for spec in mapped:
        if spec.unique:
            return [spec.key]
    for spec in mapped:
        if spec.type == FieldType.email:
            return [spec.key]
    return []


# ------------------------------------------------------------------ reading


def get_batch(
    session: Session, table_key: str, batch_id: int, *, lock: bool = False
) -> CustomerImport:
    design = load_design(session, table_key, retired=True)
    query = select(CustomerImport).where(
        CustomerImport.id == batch_id, CustomerImport.table_id == design.table.id
    )
    if lock:
        query = query.with_for_update()
    batch = session.exec(query).first()
    if batch is None:
        raise NotFound(detail=f"{table_key} has no import {batch_id}", code="import_not_found")
    return batch


def list_batches(
    session: Session, table_key: str, *, before: int | None = None, limit: int = 50
) -> list[CustomerImport]:
    """The table's imports, newest first; ``before`` (an id) pages on to older ones."""
    design = load_design(session, table_key, retired=True)
    query = select(CustomerImport).where(
        CustomerImport.table_id == design.table.id, CustomerImport.state != "refused"
    )
    if before is not None:
        query = query.where(col(CustomerImport.id) < before)
    return list(session.exec(query.order_by(col(CustomerImport.id).desc()).limit(limit)).all())


def _table_key(session: Session, batch: CustomerImport) -> str:
    from api.customers.models import CustomerTable

    table = session.get(CustomerTable, batch.table_id)
    assert table is not None
    return table.key


def stored_path(imports_dir: Path, batch: CustomerImport) -> Path:
    return imports_dir / batch.stored


def open_batch_file(imports_dir: Path, batch: CustomerImport) -> Table:
    requested: Any = "cp932" if batch.encoding == "cp932" else "utf-8"
    return open_table(
        stored_path(imports_dir, batch),
        encoding=requested if batch.format == "csv" else "auto",
        format=batch.format,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ settings of a batch


def _state(batch: CustomerImport, allowed: tuple[str, ...], action: str) -> None:
    if batch.state not in allowed:
        text = message("import_state", {"state": batch.state, "action": action})
        raise Conflict(detail=text, code="import_state")


def plan_of(design: Design, batch: CustomerImport) -> engine.Plan:
    """The batch's mapping, mode and key checked against the table: a 422 at
    ``mapping.<column>`` or ``key`` naming what to fix."""
    errors: list[FieldError] = []
    columns: list[tuple[int, FieldSpec]] = []
    first: dict[str, int] = {}
    width = len(batch.header)
    groups_index: int | None = None
    for index_text, key in sorted(batch.mapping.items(), key=lambda kv: int(kv[0])):
        if not key:
            continue
        index = int(index_text)
        where = f"mapping.{index_text}"
        params: dict[str, Any] = {"field": key}
        if index < 0 or index >= width:
            errors.append(FieldError(where, "is not a column of the file", "invalid"))
            continue
        if key == group_column.KEY and group_column.allowed(design) and groups_index is None:
            groups_index = index  # the member table's groups (api/groups/imports.py)
            continue
        spec = design.specs.get(key)
        active = {s.key for _, s in design.active()}
        if spec is None or key not in active:
            code = "import_retired_field" if spec is not None else "import_unknown_field"
            errors.append(FieldError(where, message(code, params), code, params=params))
            continue
        if spec.type == FieldType.file:
            errors.append(FieldError(where, message("import_file_field", params),
                                     "import_file_field", params=params))  # fmt: skip
            continue
        if key in first:
            params = {"field": key, "first": first[key] + 1, "column": index + 1}
            errors.append(FieldError(where, message("import_mapped_twice", params),
                                     "import_mapped_twice", params=params))  # fmt: skip
            continue
        first[key] = index
        columns.append((index, spec))
    key_specs: list[FieldSpec] = []
    if batch.mode in ("update", "upsert") and not batch.key:
        errors.append(FieldError("key", message("import_no_key"), "import_no_key"))
    for name in batch.key:
        if name not in first:
            params = {"field": name}
            errors.append(FieldError("key", message("import_key_not_mapped", params),
                                     "import_key_not_mapped", params=params))  # fmt: skip
        else:
            key_specs.append(design.specs[name])
    if not columns and not errors:
        errors.append(FieldError("mapping", message("import_nothing_mapped"),
                                 "import_nothing_mapped"))  # fmt: skip
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        )
    return engine.Plan(design, columns, key_specs, batch.mode, groups_column=groups_index)


def update_batch(
    session: Session,
    actor: Principal,
    table_key: str,
    batch_id: int,
    *,
    imports_dir: Path,
    mapping: dict[str, str | None] | None = None,
    mode: str | None = None,
    key: list[str] | None = None,
    encoding: str | None = None,
) -> CustomerImport:
    """Change the mapping, mode, key or encoding of a batch not yet run. The mapping and key
    are checked now (422 naming the column or the key); a new encoding re-reads the whole
    file (refused as at upload, the batch unchanged), and a header read differently is mapped
    afresh. A ``refused`` batch takes only an encoding: read, it becomes ``uploaded``."""
    design = load_design(session, table_key)
    batch = get_batch(session, table_key, batch_id, lock=True)
    if batch.state == "refused":
        if encoding is None or mapping is not None or mode is not None or key is not None:
            _state(batch, (), "changed")
        return _reread(session, design, batch, imports_dir, encoding or "auto")
    _state(batch, ("uploaded", "checked", "checking"), "changed")
    if mode is not None:
        if mode not in MODES:
            raise ValidationFailed(
                errors=[FieldError("mode", "must be insert, update or upsert", "invalid_choice")]
            )
        batch.mode = mode
    if mapping is not None:
        clean: dict[str, str | None] = {}
        for index in range(len(batch.header)):
            clean[str(index)] = mapping.get(str(index)) or None
        unknown = [k for k in mapping if k not in clean]
        if unknown:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        f"mapping.{unknown[0][:10]}", "is not a column of the file", "invalid"
                    )
                ]
            )
        batch.mapping = clean
        batch.mapping_source = "manual"
    if key is not None:
        batch.key = list(dict.fromkeys(key))
    if encoding is not None and encoding != batch.requested_encoding:
        before = list(batch.header)
        _read_again(batch, imports_dir, encoding)
        if batch.header != before and mapping is None:
            batch.mapping, batch.mapping_source = _initial_mapping(session, design, batch.header)
            if key is None:
                batch.key = _default_key(design, batch.mapping)
    plan_of(design, batch)  # 422 now, not when the job runs
    batch.check = None
    batch.state = "uploaded"
    batch.updated_at = utcnow()
    session.add(batch)
    return batch


def _read_again(batch: CustomerImport, imports_dir: Path, encoding: str) -> None:
    """The batch's file read whole in ``encoding``: its header, sample and rows; a
    :class:`FileRefused` naming the batch when it does not decode."""
    path = stored_path(imports_dir, batch)
    try:
        with open_table(path, encoding=_requested(encoding)) as table:
            header, sample, total = _survey(table)
            batch.encoding = table.encoding or ""
    except FileRefused as refused:
        assert batch.id is not None
        raise with_batch(refused, batch.id) from None
    batch.requested_encoding = encoding
    batch.header, batch.sample, batch.rows_total = header, sample, total


def _reread(
    session: Session, design: Design, batch: CustomerImport, imports_dir: Path, encoding: str
) -> CustomerImport:
    """A refused batch read again in another encoding: mapped as a new upload would be."""
    _read_again(batch, imports_dir, encoding)
    batch.mapping, batch.mapping_source = _initial_mapping(session, design, batch.header)
    batch.key = _default_key(design, batch.mapping)
    batch.mode = "upsert"
    batch.check = None
    batch.message = ""
    batch.state = "uploaded"
    batch.updated_at = utcnow()
    session.add(batch)
    return batch


# ------------------------------------------------------------------ jobs
# Each step is a job in units: the dry run and the run in chunks of ``CHUNK`` rows, the undo in
# chunks of ``UNDO_CHUNK`` history rows. A unit is one transaction with the batch's counters,
# so the batch always says how far a step got; a unit runs only where the last one ended
# (``rows_done``, ``check.rows``, ``undo.after``), so nothing is done twice, whoever runs it.
# When a step's job stops for good (a unit failed, the job failed or was cancelled), the
# kind's ``on_stopped`` (:func:`job_stopped`) says so on the batch: ``interrupted`` or
# ``undo_interrupted`` with a message in both languages, and :func:`resume` goes on from the
# first unfinished chunk.


def _has_file(imports_dir: Path, batch: CustomerImport) -> None:
    if batch.file_removed_at is not None or not stored_path(imports_dir, batch).exists():
        raise Conflict(detail=message("import_file_expired"), code="import_file_expired")


def _own(actor: Principal, batch: CustomerImport, what: str) -> None:
    if actor.role == Role.sales and batch.created_by_id != actor.staff_id:
        raise PermissionDenied(
            detail=f"Sales staff {what} only the imports they ran", code="not_owner"
        )


def _say(batch: CustomerImport, code: str = "", params: dict[str, Any] | None = None) -> None:
    batch.message, batch.message_ja = both(code, params) if code else ("", "")


def _chunks(batch: CustomerImport, start: int) -> list[UnitSpec]:
    """The units of the rows from ``start`` (0-based, data rows) to the end, ``CHUNK`` each;
    keys in Excel's row numbers (the header is row 1)."""
    total = batch.rows_total
    units: list[UnitSpec] = []
    for first in range(start, max(total, start + 1), CHUNK):
        end = min(first + CHUNK, total)
        units.append(
            UnitSpec(f"rows {first + 2}–{end + 1}", {"batch": batch.id, "start": first, "end": end})
        )
    return units


def _check_units(batch: CustomerImport) -> list[UnitSpec]:
    """All or nothing: the units that check every row first, in chunks, numbered."""
    return [
        UnitSpec(f"check {u.key}", {**u.payload, "check": True, "n": n})
        for n, u in enumerate(_chunks(batch, 0))
    ]


def _new_job(
    session: Session, kind: JobKind, table_key: str, batch: CustomerImport,
    actor: dict[str, Any], units: list[UnitSpec], created_by: str,
) -> int:  # fmt: skip
    job = create_job(
        session, kind, {"table": table_key, "batch": batch.id, "actor": actor},
        created_by=created_by, units=units,
    )  # fmt: skip
    assert job.id is not None
    batch.job_id = job.id
    batch.updated_at = utcnow()
    session.add(batch)
    return job.id


def start_check(
    session: Session,
    actor: Principal,
    table_key: str,
    batch_id: int,
    kind: JobKind,
    *,
    imports_dir: Path | None = None,
) -> int:
    """Start the dry run: a job whose units are the chunks of the run, counting instead of
    writing (the batch's ``check`` when it is done)."""
    design = load_design(session, table_key)
    batch = get_batch(session, table_key, batch_id, lock=True)
    _state(batch, ("uploaded", "checked"), "checked")
    if imports_dir is not None:
        _has_file(imports_dir, batch)
    plan_of(design, batch)
    batch.state = "checking"
    batch.check = _empty_check()
    _say(batch)
    return _new_job(session, kind, table_key, batch, actor.as_payload(), _chunks(batch, 0),
                    actor.label)  # fmt: skip


def start_run(
    session: Session,
    actor: Principal,
    table_key: str,
    batch_id: int,
    kind: JobKind,
    *,
    all_or_nothing: bool = False,
    imports_dir: Path | None = None,
) -> int:
    """Start the run: a job whose units are chunks of ``CHUNK`` rows (plus a first unit that
    checks every row, when all or nothing). The mapping is remembered for the table."""
    design = load_design(session, table_key)
    batch = get_batch(session, table_key, batch_id, lock=True)
    _state(batch, ("uploaded", "checked"), "run")
    if imports_dir is not None:
        _has_file(imports_dir, batch)
    plan_of(design, batch)
    units = [*_check_units(batch), *_chunks(batch, 0)] if all_or_nothing else _chunks(batch, 0)
    batch.state = "running"
    batch.all_or_nothing = all_or_nothing
    batch.chunks_total = len(units)
    batch.chunks_done = 0
    _say(batch)
    job_id = _new_job(session, kind, table_key, batch, actor.as_payload(), units, actor.label)
    audit.record(
        session, actor, "imports.run", target_type="customer_import", target_id=batch.id,
        after={"table": table_key, "file": batch.filename, "rows": batch.rows_total,
               "mode": batch.mode, "key": batch.key, "all_or_nothing": all_or_nothing},
    )  # fmt: skip
    return job_id


def _undo_units(batch: CustomerImport) -> list[UnitSpec]:
    progress = batch.undo or {}
    total, done = int(progress.get("entries", 0)), int(progress.get("done", 0))
    units = []
    for first in range(done, max(total, done + 1), UNDO_CHUNK):
        last = min(first + UNDO_CHUNK, total)
        units.append(UnitSpec(f"changes {first + 1}–{last}", {"batch": batch.id, "undo": True}))
    return units


def start_undo(
    session: Session, actor: Principal, table_key: str, batch_id: int, kind: JobKind
) -> int:
    """Undo the batch, as a job in chunks of ``UNDO_CHUNK`` of its history rows (each one
    transaction). A stopped undo (``undo_interrupted``) goes on where it stopped."""
    batch = get_batch(session, table_key, batch_id, lock=True)
    _state(batch, ("done", "failed", "interrupted", "undo_interrupted"), "undone")
    _own(actor, batch, "undo")
    resumed = batch.state == "undo_interrupted"
    if not resumed:
        entries = session.connection().execute(
            sa.select(sa.func.count()).select_from(RecordHistory)
            .where(RecordHistory.batch_id == batch.id)  # type: ignore[arg-type]
        ).scalar_one()  # fmt: skip
        batch.undo = {"entries": int(entries), "done": 0, "after": 0, "deleted": 0,
                      "restored": 0, "skipped": [], "skipped_total": 0}  # fmt: skip
    batch.state = "undoing"
    _say(batch)
    job_id = _new_job(session, kind, table_key, batch, actor.as_payload(), _undo_units(batch),
                      actor.label)  # fmt: skip
    audit.record(
        session, actor, "imports.undo", target_type="customer_import", target_id=batch.id,
        after={"table": table_key, "file": batch.filename, "resumed": resumed},
    )  # fmt: skip
    return job_id


def resume(
    session: Session,
    actor: Principal,
    table_key: str,
    batch_id: int,
    run_kind: JobKind,
    undo_kind: JobKind,
    *,
    imports_dir: Path,
) -> int:
    """Go on with a stopped batch: an interrupted run from its first unfinished chunk (as the
    staff member who started it, so the same rules apply), an interrupted undo where it
    stopped. 409 in any other state, or when the file is gone."""
    batch = get_batch(session, table_key, batch_id, lock=True)
    _state(batch, ("interrupted", "undo_interrupted"), "resumed")
    _own(actor, batch, "resume")
    if batch.state == "undo_interrupted":
        return start_undo(session, actor, table_key, batch_id, undo_kind)
    _has_file(imports_dir, batch)
    design = load_design(session, table_key)
    plan_of(design, batch)
    previous = session.get(Job, batch.job_id) if batch.job_id is not None else None
    runner = (previous.payload.get("actor") if previous is not None else None) or actor.as_payload()
    units = _unfinished(session, previous) if previous is not None else []
    if not units:
        units = _chunks(batch, batch.rows_done)
    batch.chunks_total = batch.chunks_done + len(units)
    batch.state = "running"
    _say(batch)
    job_id = _new_job(session, run_kind, table_key, batch, runner, units, actor.label)
    audit.record(
        session, actor, "imports.resume", target_type="customer_import", target_id=batch.id,
        after={"table": table_key, "file": batch.filename, "from_row": batch.rows_done + 2},
    )  # fmt: skip
    return job_id


def _unfinished(session: Session, job: Job) -> list[UnitSpec]:
    """The units of a stopped job that are not done, in order: its run goes on with them
    (each still runs only where the last one ended)."""
    rows = session.exec(
        select(JobUnit)
        .where(JobUnit.job_id == job.id, JobUnit.state != UnitState.done.value)
        .order_by(col(JobUnit.seq))
    ).all()
    return [UnitSpec(u.key, dict(u.payload)) for u in rows]


UNIT_KEY = re.compile(r"^(check )?(rows|changes) (\d+)–(\d+)$")


def _first_failure(session: Session, job: Job) -> tuple[str, str]:
    """The first failed unit and its error, in English and Japanese ("rows 6–9: …")."""
    unit = session.exec(
        select(JobUnit)
        .where(JobUnit.job_id == job.id, JobUnit.state == UnitState.failed.value)
        .order_by(col(JobUnit.seq))
        .limit(1)
    ).first()
    if unit is None or not unit.error:
        return "", ""
    key_ja = unit.key
    found = UNIT_KEY.match(unit.key)
    if found:
        check, what, first, last = found.groups()
        noun = "行目" if what == "rows" else "件目の変更"
        key_ja = f"{'確認 ' if check else ''}{first}〜{last} {noun}"
    return f"{unit.key}: {unit.error}", f"{key_ja}: {unit.error}"


def job_stopped(session: Session, job: Job, state: str, error: str) -> None:
    """A step's job stopped for good (``on_stopped`` of the three kinds): the batch says how
    far the step got and what can be done, in English and Japanese."""
    batch = session.exec(
        select(CustomerImport)
        .where(CustomerImport.id == int(job.payload.get("batch", 0)))
        .with_for_update()
    ).first()
    if batch is None or batch.job_id != job.id:
        return
    if state == "cancelled":
        reason, reason_ja = CANCELLED.en, CANCELLED.ja
    else:
        reason, reason_ja = _first_failure(session, job)
        if not reason:
            reason = reason_ja = error or state
        reason, reason_ja = reason[:500], reason_ja[:500]
    if batch.state == "running":
        batch.state = "interrupted"
        params: dict[str, Any] = {
            "done": batch.rows_done,
            "total": batch.rows_total,
            "rest": batch.rows_total - batch.rows_done,
            "row": batch.rows_done + 2,
            "created": batch.created,
            "updated": batch.updated,
            "refused": batch.invalid + batch.duplicate_keys,
        }
        code = "import_interrupted" if batch.rows_done else "import_interrupted_none"
    elif batch.state == "checking":
        batch.state = "uploaded"
        batch.check = None
        params, code = {}, "import_check_stopped"
    elif batch.state == "undoing":
        batch.state = "undo_interrupted"
        progress = batch.undo or {}
        params = {k: progress.get(k, 0) for k in ("done", "deleted", "restored")}
        params["total"] = progress.get("entries", 0)
        code = "import_undo_interrupted"
    else:
        return
    if code.startswith("import_interrupted"):  # searches stay fast while it waits
        search.restore_index(session.connection(), _table_key(session, batch))
    batch.message = message(code, {**params, "reason": reason})[:2000]
    batch.message_ja = message(code, {**params, "reason": reason_ja}, "ja")[:2000]
    batch.updated_at = utcnow()
    session.add(batch)


# ------------------------------------------------------------------ the rows, in chunks
@dataclass
class Cursor:
    """Where a run is in its file: kept between the units of one worker's run (the job's
    cache), rebuilt from the file when a unit does not follow the last one (a resumed run)."""

    batch_id: int
    plan: engine.Plan
    table: Table
    rows: Iterator[Any]
    validator: engine.Validator
    seen: engine.Seen = field(default_factory=engine.Seen)
    position: int = 0  # data rows read so far

    def read(self, count: int) -> list[engine.Row]:
        out: list[engine.Row] = []
        for _ in range(count):
            raw = next(self.rows, None)
            if raw is None:
                break
            row = self.validator.row(raw.number, raw.cells, raw.problem)
            self.seen.check(row)
            if raw.problem is not None:
                row.cells = []
            out.append(row)
        self.position += len(out)
        return out

    def close(self) -> None:
        self.table.close()


def open_cursor(imports_dir: Path, plan: engine.Plan, batch: CustomerImport) -> Cursor:
    table = open_batch_file(imports_dir, batch)
    assert batch.id is not None
    return Cursor(batch.id, plan, table, table.rows(), engine.Validator(plan))


def _locked(session: Session, payload: dict[str, Any]) -> CustomerImport:
    return session.exec(
        select(CustomerImport).where(CustomerImport.id == int(payload["batch"])).with_for_update()
    ).one()


def _cursor_at(
    cache: dict[str, Any], imports_dir: Path, plan: engine.Plan, batch: CustomerImport, start: int
) -> Cursor:
    """The file's rows from ``start``: the cursor the last unit left, if it ended there; else
    the file read again from the top (the rows before only rebuild the repeated-key set). The
    cache holds nothing until the caller puts the cursor back (its unit went through)."""
    cursor: Cursor | None = cache.pop("cursor", None)
    if cursor is None or cursor.batch_id != batch.id or cursor.position != start:
        if cursor is not None:
            cursor.close()
        cursor = open_cursor(imports_dir, plan, batch)
        try:
            while cursor.position < start:  # a resumed step: the keys of the rows before
                if not cursor.read(min(CHUNK, start - cursor.position)):
                    break
        except BaseException:
            cursor.close()
            raise
    return cursor


def _keep(cache: dict[str, Any], cursor: Cursor, finished: bool) -> None:
    if finished:
        cursor.close()
    else:
        cache["cursor"] = cursor


def _where(done: int, start: int, what: str) -> dict[str, Any] | None:
    """A unit runs where the last one ended: one already done is skipped (a unit of an older
    job, retried), one further on is an error (the rows before are not done)."""
    if start < done:
        return {"skipped": f"already {what}"}
    if start > done:
        raise RuntimeError(f"rows {done + 2}–{start + 1} are not {what} yet")
    return None


def _empty_check() -> dict[str, Any]:
    return {"rows": 0, "new": 0, "updated": 0, "unchanged": 0, "invalid": 0,
            "duplicate_keys": 0, "errors": []}  # fmt: skip


def check_chunk(
    session: Session,
    imports_dir: Path,
    cache: dict[str, Any],
    payload: dict[str, Any],
    actor: Principal,
    job_id: int,
) -> dict[str, Any]:
    """One unit of the dry run: its rows validated and matched against the table, nothing
    written; the counts and the first errors added to the batch's ``check`` in the unit's
    transaction. The last one makes the batch ``checked``."""
    batch = _locked(session, payload)
    if batch.job_id != job_id:
        return {"skipped": "another job has this import now"}
    if batch.state != "checking":
        return {"skipped": batch.state}
    progress = {**_empty_check(), **(batch.check or {})}
    start, end = int(payload["start"]), int(payload["end"])
    skipped = _where(int(progress["rows"]), start, "checked")
    if skipped:
        return skipped
    design = load_design(session, _table_key(session, batch))
    cursor = _cursor_at(cache, imports_dir, plan_of(design, batch), batch, start)
    try:
        rows = cursor.read(end - start)
        plan = replace(cursor.plan, design=design)  # the design as of this chunk
        engine.classify(session, plan, rows, actor)
    except BaseException:
        cursor.close()
        raise
    finished = end >= batch.rows_total
    _keep(cache, cursor, finished)
    counts = engine.count(rows).as_dict()
    errors = list(progress["errors"])
    for row in rows:
        if row.outcome in ("invalid", "duplicate"):
            for r in row.reasons:
                if len(errors) < FIRST_ERRORS:
                    errors.append({"row": row.number, **_public(r)})
    batch.check = {
        "rows": int(progress["rows"]) + len(rows),
        "new": progress["new"] + counts["created"],
        "updated": progress["updated"] + counts["updated"],
        "unchanged": progress["unchanged"] + counts["unchanged"],
        "invalid": progress["invalid"] + counts["invalid"],
        "duplicate_keys": progress["duplicate_keys"] + counts["duplicate_keys"],
        "errors": errors,
    }
    if finished:
        batch.state = "checked"
    batch.updated_at = utcnow()
    session.add(batch)
    return {"rows": len(rows), **counts}


def _public(reason: dict[str, Any]) -> dict[str, Any]:
    return {
        "column": reason["column"],
        "field": reason["field"],
        "code": reason["code"],
        "message": reason["message"],
        "message_ja": reason.get("message_ja", ""),
    }


def run_chunk(
    session: Session,
    imports_dir: Path,
    cache: dict[str, Any],
    payload: dict[str, Any],
    actor: Principal,
    job_id: int | None = None,
) -> dict[str, Any]:
    """One unit of the run, in its transaction: the chunk's rows written with their history,
    the refused rows kept for the report, the batch's counters advanced. Run again after a
    crash (nothing of it was kept), it does the same; a chunk already in is skipped."""
    batch = _locked(session, payload)
    if job_id is not None and batch.job_id != job_id:
        return {"skipped": "another job has this import now"}
    if batch.state == "interrupted":  # its job retried from the jobs screen
        batch.state = "running"
        _say(batch)
    if batch.state != "running":
        return {"skipped": batch.state}
    table_key = _table_key(session, batch)
    design = load_design(session, table_key)
    if payload.get("check"):
        return _check_part(session, imports_dir, cache, batch, design, actor, payload)
    start, end = int(payload["start"]), int(payload["end"])
    skipped = _where(batch.rows_done, start, "in")
    if skipped:
        return skipped
    # A large import writes its search data without the GIN index, made again at the end.
    search.suspend_index(session.connection(), design, batch.rows_total - start)
    cursor = _cursor_at(cache, imports_dir, plan_of(design, batch), batch, start)
    try:
        rows = cursor.read(end - start)
        plan = replace(cursor.plan, design=design)  # the design as of this chunk
        engine.classify(session, plan, rows, actor, lock=True)
        assert batch.id is not None
        written = engine.write(session, plan, rows, actor, batch.id)
    except BaseException:
        cursor.close()
        raise
    _keep(cache, cursor, end >= batch.rows_total)
    _advance(session, batch, written, len(rows))
    if batch.state == "done":
        search.restore_index(session.connection(), table_key)
    return {"rows": len(rows), **written.as_dict()}


def _advance(session: Session, batch: CustomerImport, written: engine.Written, rows: int) -> None:
    batch.rows_done += rows
    batch.created += written.created
    batch.updated += written.updated
    batch.unchanged += written.unchanged
    batch.invalid += written.invalid
    batch.duplicate_keys += written.duplicate_keys
    batch.chunks_done += 1
    batch.updated_at = utcnow()
    if batch.chunks_done >= batch.chunks_total:
        batch.state = "done"
        batch.result = result_of(batch)
    session.add(batch)


def result_of(batch: CustomerImport) -> dict[str, int]:
    return {
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "invalid": batch.invalid,
        "duplicate_keys": batch.duplicate_keys,
        "rows": batch.rows_done,
    }


def _check_part(
    session: Session,
    imports_dir: Path,
    cache: dict[str, Any],
    batch: CustomerImport,
    design: Design,
    actor: Principal,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """All or nothing: the rows are checked first, in chunks (the dry run's rules; each unit
    one transaction that keeps its refused rows for the report); after the last one, any
    refused row stops the run before a record is written (``failed``). The ``n``-th check
    unit runs only when ``n`` units are done."""
    n = int(payload.get("n", 0))
    start, end = int(payload.get("start", 0)), int(payload.get("end", batch.rows_total))
    if n < batch.chunks_done:
        return {"skipped": "already checked"}
    if n > batch.chunks_done:
        raise RuntimeError(f"rows before row {start + 2} are not checked yet")
    cursor = _cursor_at(cache, imports_dir, plan_of(design, batch), batch, start)
    try:
        rows = cursor.read(end - start)
        plan = replace(cursor.plan, design=design)  # the design as of this chunk
        engine.classify(session, plan, rows, actor)
    except BaseException:
        cursor.close()
        raise
    last = end >= batch.rows_total
    _keep(cache, cursor, last)
    refused = [r for r in rows if r.outcome in ("invalid", "duplicate")]
    if refused:
        session.connection().execute(
            sa.insert(CustomerImportError.__table__),  # type: ignore[attr-defined]
            [{"batch_id": batch.id, "row": r.number, "cells": r.cells, "reasons": r.reasons}
             for r in refused],
        )  # fmt: skip
        counts = engine.count(refused)
        batch.invalid += counts.invalid
        batch.duplicate_keys += counts.duplicate_keys
    batch.chunks_done += 1
    if last and (batch.invalid or batch.duplicate_keys):
        batch.state = "failed"
        _say(batch, "import_aborted", {"invalid": batch.invalid + batch.duplicate_keys})
        batch.result = result_of(batch)
    batch.updated_at = utcnow()
    session.add(batch)
    return {"rows": len(rows), "refused": len(refused)}


# ------------------------------------------------------------------ error report


def error_report(session: Session, table_key: str, batch_id: int, out: BinaryIO) -> None:
    """The refused rows as they were (same columns, the file's encoding) and a last column
    with the reasons, in Japanese and English: fixed in Excel, it imports again as it is."""
    batch = get_batch(session, table_key, batch_id)
    header = list(batch.header)
    drop_last = bool(header) and header[-1] == ERROR_COLUMN
    if drop_last:
        header = header[:-1]
    encoding = {"cp932": "cp932", "utf-8-sig": "utf-8-bom"}.get(batch.encoding, "utf-8")
    if batch.format == "xlsx":
        encoding = "utf-8-bom"
    writer = CsvWriter(out, encoding)  # type: ignore[arg-type]
    writer.write([*header, ERROR_COLUMN])
    last = 0
    while True:
        entries = session.exec(
            select(CustomerImportError)
            .where(CustomerImportError.batch_id == batch.id, col(CustomerImportError.id) > last)
            .order_by(col(CustomerImportError.id))
            .limit(1000)
        ).all()
        if not entries:
            break
        for entry in sorted(entries, key=lambda e: e.row):
            cells = list(entry.cells)[: len(header)] if entry.cells else [""] * len(header)
            cells += [""] * (len(header) - len(cells))
            writer.write([*cells, describe(header, entry.row, entry.reasons)], key=entry.row)
        last = entries[-1].id or last
    writer.close()


def describe(header: list[str], row: int, reasons: list[dict[str, Any]]) -> str:
    parts = []
    for r in reasons:
        column = r.get("column")
        where = header[column - 1] if column and column <= len(header) else ""
        prefix = f"{where}: " if where else ""
        parts.append(f"{prefix}{r.get('message_ja', '')} / {r.get('message', '')}")
    return "; ".join(parts)


# ------------------------------------------------------------------ undo


def undo_chunk(
    session: Session, payload: dict[str, Any], actor: Principal, job_id: int | None = None
) -> dict[str, Any]:
    """One unit of the undo, in its transaction: the next ``UNDO_CHUNK`` history rows of the
    batch (after ``undo.after``) undone, the counts and the listing of what was left added to
    the batch's ``undo``. The unit that finds nothing more makes the batch ``undone``."""
    batch = _locked(session, payload)
    if job_id is not None and batch.job_id != job_id:
        return {"skipped": "another job has this import now"}
    if batch.state == "undo_interrupted":  # its job retried from the jobs screen
        batch.state = "undoing"
        _say(batch)
    if batch.state != "undoing":
        return {"skipped": batch.state}
    progress = dict(batch.undo or {})
    after = int(progress.get("after", 0))
    design = load_design(session, _table_key(session, batch), retired=True)
    entries = list(
        session.exec(
            select(RecordHistory)
            .where(RecordHistory.batch_id == batch.id, col(RecordHistory.id) > after)
            .order_by(col(RecordHistory.id))
            .limit(UNDO_CHUNK)
        ).all()
    )
    skipped: list[dict[str, Any]] = list(progress.get("skipped", []))
    outcome = _undo_entries(session, design, actor, entries, skipped)
    if entries:
        after = entries[-1].id or after
    more = (
        bool(entries)
        and session.exec(
            select(RecordHistory.id)
            .where(RecordHistory.batch_id == batch.id, col(RecordHistory.id) > after)
            .limit(1)
        ).first()
        is not None
    )
    batch.undo = {
        **progress,
        "after": after,
        "done": int(progress.get("done", 0)) + len(entries),
        "deleted": int(progress.get("deleted", 0)) + outcome["deleted"],
        "restored": int(progress.get("restored", 0)) + outcome["restored"],
        "skipped": skipped,
        "skipped_total": int(progress.get("skipped_total", 0)) + outcome["skipped"],
    }
    if not more:
        batch.state = "undone"
    batch.updated_at = utcnow()
    session.add(batch)
    return {"changes": len(entries), **outcome}


def _undo_entries(
    session: Session,
    design: Design,
    actor: Principal,
    entries: list[RecordHistory],
    skipped: list[dict[str, Any]],
) -> dict[str, int]:
    """Records these history rows created are deleted and the fields they changed restored,
    unless they changed again since: those are listed in ``skipped`` (record, field, why;
    the first ``SKIPPED_LISTED``) and left as they are."""
    table = design.sa_table()
    conn = session.connection()
    deleted = restored = skipped_count = 0

    def skip(record_id: int, field_key: str | None, why: str, current: Any = None) -> None:
        nonlocal skipped_count
        skipped_count += 1
        if len(skipped) < SKIPPED_LISTED:
            skipped.append({"record_id": record_id, "field": field_key, "reason": why,
                            "current": current})  # fmt: skip

    if not entries:
        return {"deleted": 0, "restored": 0, "skipped": 0}
    ids = [e.record_id for e in entries]
    current = {
        int(r._mapping["id"]): r
        for r in conn.execute(sa.select(table).where(table.c.id.in_(ids)).with_for_update())
    }
    latest: dict[int, int] = dict(
        conn.execute(
            sa.select(RecordHistory.record_id, sa.func.max(RecordHistory.id))  # type: ignore[call-overload]
            .where(RecordHistory.table_id == design.table.id,
                   col(RecordHistory.record_id).in_(ids))
            .group_by(RecordHistory.record_id)
        ).all()
    )  # fmt: skip
    to_delete: list[int] = []
    history: list[RecordHistory] = []
    group_changes: list[tuple[int, list[str], list[str]]] = []
    for entry in entries:
        row = current.get(entry.record_id)
        if row is None:
            skip(entry.record_id, None, "deleted_since")
            continue
        data = row._mapping
        if entry.action == "create":
            if latest.get(entry.record_id) != entry.id:
                skip(entry.record_id, None, "changed_since")
            else:
                to_delete.append(entry.record_id)
            continue
        updates: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        for key, change in entry.changes.items():
            spec = design.specs.get(key)
            if spec is None:
                if key == group_column.KEY and design.table.is_member_table:
                    group_changes.append(
                        (entry.record_id, change.get("before") or [], change.get("after") or [])
                    )
                continue
            now = to_json(spec, data[column_name(key)])
            if now != change.get("after"):
                skip(entry.record_id, key, "changed_since", now)
                continue
            before = change.get("before")
            try:
                updates[column_name(key)] = normalise(spec, before)
            except ValidationFailed:
                skip(entry.record_id, key, "cannot_restore", now)
                continue
            changes[key] = {"before": now, "after": before}
        if updates:
            version = int(data["version"]) + 1
            conn.execute(
                sa.update(table)
                .where(table.c.id == entry.record_id)
                .values({**updates, "version": version, "updated_at": utcnow()})
            )
            restored += len(changes)
            history.append(_undo_history(design, actor, entry.record_id, version, "update",
                                         changes))  # fmt: skip
            if search.feeds_search(design, updates):
                search.index_records(session, design, [entry.record_id])
    restored += group_column.undo(session, actor, group_changes, skip)
    for record_id in to_delete:
        row = current[record_id]
        try:
            with session.begin_nested():
                search.forget(session, design, [record_id])
                conn.execute(sa.delete(table).where(table.c.id == record_id))
        except sa.exc.IntegrityError:
            skip(record_id, None, "in_use")
            continue
        deleted += 1
        values = {
            spec.key: to_json(spec, row._mapping[column_name(spec.key)])
            for _, spec in design.active()
        }
        changes = {k: {"before": v, "after": None} for k, v in values.items() if v is not None}
        version = int(row._mapping["version"]) + 1
        history.append(_undo_history(design, actor, record_id, version, "delete", changes))
    for item in history:
        session.add(item)
    revocation.records_changed(session, design, [h.record_id for h in history])
    session.flush()
    return {"deleted": deleted, "restored": restored, "skipped": skipped_count}


def _undo_history(
    design: Design, actor: Principal, record_id: int, version: int, action: str,
    changes: dict[str, Any],
) -> RecordHistory:  # fmt: skip
    return RecordHistory(
        table_id=design.table.id,  # type: ignore[arg-type]
        record_id=record_id,
        version=version,
        action=action,
        source="import",
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        changes=changes,
    )


# ------------------------------------------------------------------ housekeeping

# A finished batch's file is kept this long after its last step, for resume and a new dry run;
# the batch itself (counts, refused rows, history) stays.
KEEPS_FILE = ("done", "failed", "undone", "interrupted", "undo_interrupted")
NEVER_STARTED = ("uploaded", "checked", "refused")  # refused: kept to be read again


def restore_search_indexes(session: Session) -> int:
    """Make again the search index that a large import dropped (``search.suspend_index``) when
    no import of that table is running any more, e.g. after a worker was killed between the
    drop and the end; returns how many were made."""
    from api.customers.services import list_designs

    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return 0
    running = {
        int(t)
        for t in session.exec(
            select(CustomerImport.table_id).where(col(CustomerImport.state) == "running")
        )
    }
    made = 0
    for design in list_designs(session, retired=True):
        if design.table.id not in running and search.restore_index(conn, design.key):
            made += 1
    return made


def remove_old_files(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Housekeeping: the uploaded files of batches finished (done, failed, undone, stopped)
    longer than ``import_retention_days`` ago and of batches never started within
    ``import_abandoned_days`` (those become ``expired``), and files under ``var/imports`` that
    no batch holds (an upload cut off) after the latter. The batches say so; the files go once
    that is committed. Returns how many files go."""
    now = now or utcnow()
    imports_dir = settings.imports_dir
    gone: list[Path] = []
    finished = session.exec(
        select(CustomerImport)
        .where(
            col(CustomerImport.state).in_(KEEPS_FILE),
            col(CustomerImport.file_removed_at).is_(None),
            col(CustomerImport.updated_at) < now - timedelta(days=settings.import_retention_days),
        )
        .limit(1000)
    ).all()
    for batch in finished:
        batch.file_removed_at = now
        if batch.state == "interrupted":
            _say(batch, "import_file_expired")
        gone.append(stored_path(imports_dir, batch))
        session.add(batch)
    abandoned_days = settings.import_abandoned_days
    abandoned = session.exec(
        select(CustomerImport)
        .where(
            col(CustomerImport.state).in_(NEVER_STARTED),
            col(CustomerImport.file_removed_at).is_(None),
            col(CustomerImport.updated_at) < now - timedelta(days=abandoned_days),
        )
        .limit(1000)
    ).all()
    for batch in abandoned:
        batch.file_removed_at = now
        batch.state = "expired"
        _say(batch, "import_abandoned", {"days": abandoned_days})
        gone.append(stored_path(imports_dir, batch))
        session.add(batch)
    session.flush()
    if imports_dir.is_dir():
        held = set(
            session.exec(
                select(CustomerImport.stored).where(col(CustomerImport.file_removed_at).is_(None))
            ).all()
        )
        cutoff = (now - timedelta(days=abandoned_days)).timestamp()
        for path in imports_dir.iterdir():
            if path.name not in held and path.is_file() and path.stat().st_mtime < cutoff:
                gone.append(path)
    present = [p for p in dict.fromkeys(gone) if p.exists()]
    run_after_commit(session, lambda: _unlink(present))
    return len(present)


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def remove_file(imports_dir: Path, batch: CustomerImport) -> None:
    stored_path(imports_dir, batch).unlink(missing_ok=True)
