"""File fields: uploads checked before they are kept, stored outside the site, served as
attachments to permitted staff only.

- **Where**: ``settings.effective_files_dir`` (``var/files`` by default; the settings refuse a
  directory inside the site, content or theme), as ``<id[:2]>/<id>`` where the id is 32 random
  hex digits. The name the person gave is metadata only and never touches the file system.
- **Limits**: each field has ``max_size`` (bytes; :data:`DEFAULT_MAX_SIZE` unless set, at most
  :data:`HARD_MAX_SIZE`) and ``file_types`` (kinds: :data:`FILE_KINDS`; :data:`DEFAULT_KINDS`
  unless set). The body is streamed into a temporary file under the files directory and
  counted as it comes: past the limit the upload stops at once (413); nothing is buffered in
  memory beyond one chunk.
- **Type**: decided by the content's magic bytes (PNG, JPEG, GIF, WebP, PDF, the Office
  Open XML zips by the part that names them, legacy Office by the OLE signature plus the
  name's extension, CSV/plain text as text without NUL or markup), never by the client's
  Content-Type or the extension alone. A name whose extension belongs to another type
  (a PNG called ``report.pdf``, an ``.exe`` called ``.png``) is refused (415). SVG and HTML
  are never accepted (they run scripts when rendered).
- **Metadata**: one ``customer_file`` row per upload (64-bit key; table, record, field, stored
  id, sanitised name, sniffed media type, size, SHA-256, who and when) and a copy of
  ``{id, name, type, size, sha256}`` in the record's JSON column, written with the record's
  version and history in one transaction. A replaced or removed file keeps its row
  (``removed_at``) and its bytes are deleted once the transaction commits.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from multipart import (
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)
from sqlalchemy import event
from sqlmodel import Session, select

from api.customers.definitions import FieldSpec
from api.customers.models import CustomerFile
from api.customers.types import FieldType, column_name
from api.db import utcnow
from api.errors import KizunaError, NotFound, ValidationFailed
from api.fields import error
from api.principal import Principal

MIB = 1024 * 1024
DEFAULT_MAX_SIZE = 10 * MIB
HARD_MAX_SIZE = 100 * MIB
# Multipart framing (boundaries, part headers, a small form field or two) on top of the file.
MULTIPART_OVERHEAD = 64 * 1024
CHUNK = 64 * 1024
MAX_NAME_LENGTH = 200

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# kind → media types; and each media type's extensions (the first is added to a bare name).
FILE_KINDS: dict[str, tuple[str, ...]] = {
    "image": ("image/png", "image/jpeg", "image/gif", "image/webp"),
    "pdf": ("application/pdf",),
    "excel": (XLSX, "application/vnd.ms-excel"),
    "word": (DOCX, "application/msword"),
    "powerpoint": (PPTX, "application/vnd.ms-powerpoint"),
    "csv": ("text/csv",),
    "text": ("text/plain",),
}
DEFAULT_KINDS = ("image", "pdf", "excel", "word", "csv")
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    XLSX: (".xlsx", ".xlsm"),
    "application/vnd.ms-excel": (".xls",),
    DOCX: (".docx",),
    "application/msword": (".doc",),
    PPTX: (".pptx",),
    "application/vnd.ms-powerpoint": (".ppt",),
    "text/csv": (".csv",),
    "text/plain": (".txt",),
}
_KNOWN_EXTENSIONS = {ext for exts in EXTENSIONS.values() for ext in exts}
# Extensions that must never be attached to accepted content (scripts, markup, programs).
_DANGEROUS = {
    ".svg", ".svgz", ".html", ".htm", ".xhtml", ".xml", ".js", ".mjs", ".exe", ".bat", ".cmd",
    ".com", ".scr", ".ps1", ".sh", ".php", ".jar", ".msi", ".dll", ".vbs", ".hta", ".lnk",
}  # fmt: skip
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_BY_EXTENSION = {
    ".xls": "application/vnd.ms-excel",
    ".doc": "application/msword",
    ".ppt": "application/vnd.ms-powerpoint",
}
_OOXML_PARTS = (("xl/workbook.xml", XLSX), ("word/document.xml", DOCX),
                ("ppt/presentation.xml", PPTX))  # fmt: skip
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|svg|script|\?xml|body|iframe)", re.IGNORECASE)


# ------------------------------------------------------------------ limits and refusals


class PayloadTooLarge(KizunaError):
    status = 413
    title = "The file is too large"
    default_code = "file_too_large"


class UnsupportedMediaType(KizunaError):
    status = 415
    title = "This type of file is not accepted"
    default_code = "file_type_not_allowed"


def max_size(spec: FieldSpec) -> int:
    return spec.max_size or DEFAULT_MAX_SIZE


def allowed_types(spec: FieldSpec) -> tuple[str, ...]:
    return tuple(t for kind in (spec.file_types or DEFAULT_KINDS) for t in FILE_KINDS[kind])


def human_size(size: int) -> str:
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB" if size < MIB else f"{size / MIB:.1f} MB"
    return f"{size} B"


def _refusal(cls: type[KizunaError], spec: FieldSpec, code: str, **params: Any) -> KizunaError:
    problem = error(f"values.{spec.key}", code, params or None)
    return cls(detail=f"{spec.key}: {problem.message}", code=code, errors=[problem])


def _too_large(spec: FieldSpec) -> KizunaError:
    limit = max_size(spec)
    return _refusal(PayloadTooLarge, spec, "file_too_large", max_size=human_size(limit))


def _wrong_type(spec: FieldSpec) -> KizunaError:
    kinds = ", ".join(spec.file_types or DEFAULT_KINDS)
    return _refusal(UnsupportedMediaType, spec, "file_type_not_allowed", types=kinds)


# ------------------------------------------------------------------ names


_UNSAFE_NAME = re.compile(
    '[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff<>:"/\\\\|?*]'
)


def sanitise_name(raw: Any) -> str:
    """A file name safe to show and to send back: the last path part only, no control, bidi
    (RTL override) or zero-width characters, no characters Windows refuses, no leading dots,
    at most :data:`MAX_NAME_LENGTH` characters with the extension kept. "" when nothing is
    left."""
    if not isinstance(raw, str):
        return ""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME.sub("", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


def extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and _ else ""


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987), so
    見積書.pdf arrives as 見積書.pdf and no browser renders the file inline."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._") or "file"
    ext = extension(name)
    if ext and not ascii_name.lower().endswith(ext):
        ascii_name += ext
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# ------------------------------------------------------------------ content sniffing


def sniff(path: Path, name: str) -> str | None:
    """The media type of the file's content, or None when it is none that Kizuna accepts."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:  # only the directory is read
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if "[Content_Types].xml" not in names:
            return None
        return next((media for part, media in _OOXML_PARTS if part in names), None)
    if head.startswith(_OLE):
        return _OLE_BY_EXTENSION.get(extension(name))
    return _sniff_text(head, name)


def _sniff_text(head: bytes, name: str) -> str | None:
    if b"\x00" in head or _MARKUP.search(head):
        return None
    sample = head[:-4] if len(head) == 8192 else head  # a character cut at the end
    for encoding in ("utf-8", "cp932"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "text/csv" if extension(name) == ".csv" else "text/plain"
    return None


def accepted_type(spec: FieldSpec, path: Path, name: str) -> str:
    """The sniffed media type if the field accepts it and the name does not claim another."""
    media = sniff(path, name)
    if media is None or media not in allowed_types(spec):
        raise _wrong_type(spec)
    ext = extension(name)
    if ext in _DANGEROUS or (ext in _KNOWN_EXTENSIONS and ext not in EXTENSIONS[media]):
        raise _wrong_type(spec)  # a PNG called report.pdf, a program called photo.png
    return media


# ------------------------------------------------------------------ receiving


@dataclass
class Received:
    """An upload written to a temporary file, checked for size, not yet for type."""

    path: Path
    name: str
    size: int
    sha256: str


def temp_dir(files_dir: Path) -> Path:
    files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # nobody else's business
    path = files_dir / "tmp"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def stored_path(files_dir: Path, public_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", public_id):
        raise ValueError("not a stored file id")
    return files_dir / public_id[:2] / public_id


async def receive(
    spec: FieldSpec,
    files_dir: Path,
    content_type: str,
    content_length: int | None,
    chunks: AsyncIterator[bytes],
    *,
    filename: str | None = None,
) -> Received:
    """Stream an upload into a temporary file, refusing it (413) the moment it passes the
    field's limit. ``multipart/form-data`` takes the part named ``file``; any other body is
    the file itself (its name from ``filename``)."""
    limit = max_size(spec)
    media, options = parse_options_header(content_type or "")
    multipart = media == "multipart/form-data"
    if content_length is not None and content_length > limit + (
        MULTIPART_OVERHEAD if multipart else 0
    ):
        raise _too_large(spec)  # before reading a byte
    target = temp_dir(files_dir) / secrets.token_hex(16)
    digest = hashlib.sha256()
    size = 0
    name = filename or ""
    found = not multipart
    try:
        with target.open("xb") as out:
            if multipart:
                boundary = options.get("boundary")
                if not boundary:
                    raise _missing(spec)
                parser = PushMultipartParser(
                    boundary, max_segment_count=8, max_segment_size=limit + 1
                )
                in_file = False
                try:
                    async for chunk in chunks:
                        for event_ in parser.parse(chunk):
                            if event_ is None:
                                in_file = False
                            elif isinstance(event_, bytes | bytearray):
                                if in_file:
                                    size += len(event_)
                                    if size > limit:
                                        raise _too_large(spec)
                                    digest.update(event_)
                                    out.write(event_)
                            elif event_.name == "file" and not found:
                                in_file = found = True
                                name = event_.filename or ""
                    for _ in parser.parse(b""):
                        pass
                    parser.close()
                except ParserLimitReached:
                    raise _too_large(spec) from None
                except ParserError as exc:
                    raise ValidationFailed(
                        detail=f"{spec.key}: the multipart body is malformed ({exc})",
                        errors=[error(f"values.{spec.key}", "file_missing")],
                    ) from None
            else:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(spec)
                    digest.update(chunk)
                    out.write(chunk)
        if not found:
            raise _missing(spec)
        if size == 0:
            raise ValidationFailed(
                detail=f"{spec.key}: the file is empty",
                errors=[error(f"values.{spec.key}", "file_empty")],
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Received(target, sanitise_name(name), size, digest.hexdigest())


def _missing(spec: FieldSpec) -> ValidationFailed:
    return ValidationFailed(
        detail=f'{spec.key}: send the file as the multipart part named "file"',
        errors=[error(f"values.{spec.key}", "file_missing")],
    )


# ------------------------------------------------------------------ storing (a transaction)


def file_spec(design: Any, field_key: str) -> FieldSpec:
    """The active file field ``field_key`` of the design; 404 otherwise."""
    spec = next((s for _, s in design.active() if s.key == field_key), None)
    if spec is None or spec.type != FieldType.file:
        raise NotFound(detail=f"{design.key} has no file field {field_key}", code="field_not_found")
    return spec


def metadata(row: CustomerFile) -> dict[str, Any]:
    """What the record's column holds and the API shows of a file."""
    return {
        "id": row.public_id,
        "name": row.name,
        "type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
    }


def _after_commit(session: Session, action: Any) -> None:
    event.listen(session, "after_commit", lambda _s: action(), once=True)


def _after_rollback(session: Session, action: Any) -> None:
    event.listen(session, "after_soft_rollback", lambda _s, _t: action(), once=True)


def store(
    session: Session,
    actor: Principal,
    files_dir: Path,
    table_key: str,
    record_id: int,
    field_key: str,
    received: Received,
    *,
    version: int | None = None,
    source: str = "api",
) -> dict[str, Any]:
    """Keep an upload as the field's file: type checked by its content, moved into place,
    metadata row, record column, version and history in the caller's transaction. The file
    it replaces is marked removed, its bytes deleted after the commit; if the transaction
    fails, the new bytes are deleted instead."""
    from api.customers import records

    design, row, spec = records.file_target(session, actor, table_key, record_id, field_key)
    try:
        media = accepted_type(spec, received.path, received.name)
    except KizunaError:
        received.path.unlink(missing_ok=True)
        raise
    public_id = secrets.token_hex(16)
    name = received.name or "file"
    if not extension(name):
        name += EXTENSIONS[media][0]
    final = stored_path(files_dir, public_id)
    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.replace(received.path, final)
    _after_rollback(session, lambda: final.unlink(missing_ok=True))
    upload = CustomerFile(
        public_id=public_id,
        table_id=design.table.id,  # type: ignore[arg-type]
        field_key=field_key,
        record_id=record_id,
        name=name,
        media_type=media,
        size=received.size,
        sha256=received.sha256,
        uploaded_by_type=actor.kind,
        uploaded_by_id=actor.id,
        uploaded_by_label=actor.label,
    )
    session.add(upload)
    previous = _retire_current(session, files_dir, design, row, field_key)
    return records.write_file_value(
        session, actor, design, row, spec, metadata(upload), previous,
        version=version, source=source,
    )  # fmt: skip


def remove(
    session: Session,
    actor: Principal,
    files_dir: Path,
    table_key: str,
    record_id: int,
    field_key: str,
    *,
    version: int | None = None,
    source: str = "api",
) -> dict[str, Any]:
    """Empty the field: the file's row stays (removed), its bytes go after the commit."""
    from api.customers import records

    design, row, spec = records.file_target(session, actor, table_key, record_id, field_key)
    previous = _retire_current(session, files_dir, design, row, field_key)
    if previous is None:
        return records.record_out(design, row)
    return records.write_file_value(
        session, actor, design, row, spec, None, previous, version=version, source=source
    )


def _retire_current(
    session: Session, files_dir: Path, design: Any, row: Any, field_key: str
) -> dict[str, Any] | None:
    current = row._mapping[column_name(field_key)]
    if not isinstance(current, dict) or not isinstance(current.get("id"), str):
        return None
    found = session.exec(
        select(CustomerFile).where(
            CustomerFile.public_id == current["id"], CustomerFile.table_id == design.table.id
        )
    ).first()
    if found is not None and found.removed_at is None:
        found.removed_at = utcnow()
        session.add(found)
        path = stored_path(files_dir, found.public_id)
        _after_commit(session, lambda: path.unlink(missing_ok=True))
    return dict(current)


def forget_record(session: Session, files_dir: Path, table_key: str, record_id: int) -> int:
    """A deleted record's files: rows marked removed, bytes deleted after the commit (the
    history keeps their metadata). How many."""
    from api.customers.services import load_design

    design = load_design(session, table_key, retired=True)
    found = session.exec(
        select(CustomerFile).where(
            CustomerFile.table_id == design.table.id,
            CustomerFile.record_id == record_id,
            sa.and_(CustomerFile.removed_at.is_(None)),  # type: ignore[union-attr]
        )
    ).all()
    for row in found:
        row.removed_at = utcnow()
        session.add(row)
        path = stored_path(files_dir, row.public_id)
        _after_commit(session, lambda p=path: p.unlink(missing_ok=True))
    return len(found)


def open_download(
    session: Session,
    actor: Principal,
    files_dir: Path,
    table_key: str,
    record_id: int,
    field_key: str,
) -> tuple[Path, CustomerFile]:
    """The stored file of a record's field, for a reader of that record (owner-only tables:
    only its owner among sales staff). 404 when there is none."""
    from api.customers import records

    design, row, _spec = records.file_target(
        session, actor, table_key, record_id, field_key, writing=False
    )
    current = row._mapping[column_name(field_key)]
    if not isinstance(current, dict) or not isinstance(current.get("id"), str):
        raise NotFound(detail=f"{field_key} of record {record_id} has no file", code="no_file")
    found = session.exec(
        select(CustomerFile).where(
            CustomerFile.public_id == current["id"],
            CustomerFile.table_id == design.table.id,
            CustomerFile.record_id == record_id,
            sa.and_(CustomerFile.removed_at.is_(None)),  # type: ignore[union-attr]
        )
    ).first()
    if found is None:
        raise NotFound(detail=f"{field_key} of record {record_id} has no file", code="no_file")
    path = stored_path(files_dir, found.public_id)
    if not path.is_file():
        raise NotFound(detail="The file's bytes are missing from storage", code="file_missing")
    return path, found


def cleanup_temp(files_dir: Path, received: Received | None) -> None:
    if received is not None:
        with contextlib.suppress(OSError):
            received.path.unlink(missing_ok=True)


__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_MAX_SIZE",
    "FILE_KINDS",
    "HARD_MAX_SIZE",
    "PayloadTooLarge",
    "Received",
    "UnsupportedMediaType",
    "content_disposition",
    "open_download",
    "receive",
    "remove",
    "sanitise_name",
    "sniff",
    "store",
]
