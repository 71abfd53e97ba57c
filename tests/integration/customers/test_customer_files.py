"""File fields through the API, on SQLite and PostgreSQL: uploads refused before they are kept
(size, sniffed type, disguised extensions, hostile names), stored under var/files with their
metadata, served as attachments to permitted staff only, replaced and removed with history."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from api.customers import files
from api.runtime import Runtime
from api.settings import SettingsError, load_settings
from tests.fixtures.app import StaffClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 2
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'

TABLE: dict[str, Any] = {
    "key": "customers",
    "owner_only": True,
    "fields": [
        {"key": "name", "type": "text"},
        {"key": "photo", "type": "file", "max_size": 4096, "file_types": ["image"]},
        {"key": "docs", "type": "file"},
    ],
}


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def multipart(name: str, content: bytes, part: str = "file") -> tuple[bytes, str]:
    """A multipart body built by hand, so a file name reaches the server byte for byte."""
    boundary = "kizunaBoundary7MA4YWxkTrZu0gW"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{part}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client: StaffClient, url: str, name: str, content: bytes) -> Any:
    body, content_type = multipart(name, content)
    return client.post(url, content=body, headers={"Content-Type": content_type})


@pytest.fixture
def record(admin: StaffClient) -> dict[str, Any]:
    assert admin.post("/api/customers/tables", json=TABLE).status_code == 201
    created = admin.post(
        "/api/customers/tables/customers/records", json={"values": {"name": "山田"}}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def base(record: dict[str, Any]) -> str:
    return f"/api/customers/tables/customers/records/{record['id']}"


def stored_files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.effective_files_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_upload_download_replace_and_remove_with_history(
    admin: StaffClient, record: dict[str, Any], runtime: Runtime
) -> None:
    url = f"{base(record)}/files/docs"
    done = upload(admin, url, "見積書 2026.pdf", PDF)
    assert done.status_code == 200, done.text
    meta = done.json()["values"]["docs"]
    assert meta["name"] == "見積書 2026.pdf" and meta["type"] == "application/pdf"
    assert meta["size"] == len(PDF) and meta["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert done.json()["version"] == 2
    (kept,) = stored_files(runtime)
    assert kept.name == meta["id"] and kept.read_bytes() == PDF
    assert kept.is_relative_to(runtime.settings.var_dir / "files")
    assert not kept.is_relative_to(runtime.settings.site_dir)

    got = admin.get(url)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"].startswith("application/pdf")
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('見積書 2026.pdf', safe='')}" in disposition
    assert 'filename="2026.pdf"' in disposition  # the ASCII fallback
    assert "sandbox" in got.headers["content-security-policy"]

    replaced = upload(admin, url, "book.xlsx", xlsx())
    assert replaced.status_code == 200, replaced.text
    new_meta = replaced.json()["values"]["docs"]
    assert new_meta["type"] == files.XLSX
    assert [p.name for p in stored_files(runtime)] == [new_meta["id"]]  # the old bytes went

    removed = admin.delete(url)
    assert removed.status_code == 200 and removed.json()["values"]["docs"] is None
    assert stored_files(runtime) == []
    assert admin.get(url).status_code == 404

    history = admin.get(f"{base(record)}/history").json()
    changes = [entry["changes"]["docs"] for entry in history if "docs" in entry["changes"]]
    assert changes[0] == {"before": new_meta, "after": None}
    assert changes[1] == {"before": meta, "after": new_meta}
    assert changes[2] == {"before": None, "after": meta}


def test_raw_body_upload_names_the_file_with_a_query_parameter(
    admin: StaffClient, record: dict[str, Any]
) -> None:
    done = admin.post(
        f"{base(record)}/files/photo?filename=face",
        content=PNG,
        headers={"Content-Type": "image/png"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["values"]["photo"]["name"] == "face.png"  # the sniffed type's extension


def test_oversize_is_refused_before_it_is_kept(
    admin: StaffClient, record: dict[str, Any], runtime: Runtime
) -> None:
    big = PNG + b"\x00" * 5000
    refused = upload(admin, f"{base(record)}/files/photo", "big.png", big)
    assert refused.status_code == 413, refused.text
    (problem,) = refused.json()["errors"]
    assert problem["field"] == "values.photo" and problem["code"] == "file_too_large"
    assert problem["params"] == {"max_size": "4 KB"}
    assert stored_files(runtime) == []  # not even the temporary file
    assert admin.get(base(record)).json()["version"] == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.png", EXE),  # a program disguised by its extension
        ("page.png", HTML),
        ("logo.png", SVG),
        ("report.png", PDF),  # a real PDF, but the field takes images only
        ("photo.pdf", PNG),  # a real PNG called .pdf
        ("photo.svg", PNG),
        ("invoice\u202egnp.exe", PNG),  # RTL override: shown as "invoiceexe.png"
        ("archive.png", b"PK\x03\x04" + b"\x00" * 100),
    ],
)
def test_a_type_the_field_does_not_accept_is_refused_by_content(
    admin: StaffClient, record: dict[str, Any], runtime: Runtime, name: str, content: bytes
) -> None:
    refused = upload(admin, f"{base(record)}/files/photo", name, content)
    assert refused.status_code == 415, refused.text
    (problem,) = refused.json()["errors"]
    assert (problem["field"], problem["code"]) == ("values.photo", "file_type_not_allowed")
    assert problem["params"] == {"types": "image"}
    assert stored_files(runtime) == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.png", "win.png"),
        ("a\x00b.png", "ab.png"),
        ("photo\u202egnp.png", "photognp.png"),
        ("\u200b..hidden .png", "hidden .png"),
        ("", "file.png"),
        ("x" * 500 + ".png", "x" * 196 + ".png"),
        ("we<i>rd:|?*.png", "weird.png"),
    ],
)
def test_hostile_names_are_kept_only_as_sanitised_metadata(
    admin: StaffClient, record: dict[str, Any], runtime: Runtime, given: str, kept: str
) -> None:
    done = upload(admin, f"{base(record)}/files/photo", given, PNG)
    assert done.status_code == 200, done.text
    meta = done.json()["values"]["photo"]
    assert meta["name"] == kept
    (path,) = stored_files(runtime)
    assert path.name == meta["id"] and path.parent.parent == runtime.settings.effective_files_dir
    disposition = admin.get(f"{base(record)}/files/photo").headers["content-disposition"]
    assert "\x00" not in disposition and "\u202e" not in disposition and "/" not in disposition


def test_empty_missing_and_values_writes_are_refused(
    admin: StaffClient, record: dict[str, Any]
) -> None:
    url = f"{base(record)}/files/docs"
    empty = upload(admin, url, "a.pdf", b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["code"] == "file_empty"
    body, content_type = multipart("a.pdf", PDF, part="other")
    missing = admin.post(url, content=body, headers={"Content-Type": content_type})
    assert missing.status_code == 422 and missing.json()["errors"][0]["code"] == "file_missing"
    through_values = admin.patch(base(record), json={"version": 1, "values": {"docs": "0" * 32}})
    assert through_values.status_code == 422
    assert through_values.json()["errors"][0] == {
        "field": "values.docs",
        "message": "is set by uploading a file to the field, not through values",
        "code": "file_upload_only",
    }
    assert admin.post(f"{base(record)}/files/name", content=PDF).status_code == 404
    stale = admin.post(f"{url}?version=7", content=PDF, headers={"Content-Type": "x/y"})
    assert stale.status_code == 409 and stale.json()["code"] == "record_changed"


def test_only_permitted_staff_upload_and_download(
    login_as: Callable[[str], StaffClient], runtime: Runtime
) -> None:
    admin = login_as("admin")
    assert admin.post("/api/customers/tables", json=TABLE).status_code == 201
    owner = login_as("sales")
    mine = owner.post("/api/customers/tables/customers/records", json={"values": {"name": "a"}})
    url = f"/api/customers/tables/customers/records/{mine.json()['id']}/files/docs"
    assert upload(owner, url, "a.pdf", PDF).status_code == 200
    assert owner.get(url).content == PDF

    viewer = login_as("viewer")
    assert viewer.get(url).content == PDF  # customers:read
    assert upload(viewer, url, "b.pdf", PDF).status_code == 403
    assert viewer.delete(url).status_code == 403

    other = login_as("sales")  # owner-only table: another rep's record does not exist for them
    assert other.get(url).status_code == 404
    assert upload(other, url, "b.pdf", PDF).status_code == 404
    assert len(stored_files(runtime)) == 1


def test_the_files_directory_is_never_inside_the_served_site(tmp_path: Path) -> None:
    with pytest.raises((SettingsError, ValueError), match="must not be inside"):
        load_settings(
            env="test",
            var_dir=tmp_path / "var",
            site_dir=tmp_path / "site",
            files_dir=tmp_path / "site" / "public" / "files",
        )
    settings = load_settings(env="test", var_dir=tmp_path / "var", site_dir=tmp_path / "site")
    assert settings.effective_files_dir == tmp_path / "var" / "files"


def test_design_time_limits_are_checked(admin: StaffClient) -> None:
    bad = dict(TABLE, fields=[{"key": "f", "type": "file", "max_size": 0, "file_types": ["exe"]}])
    refused = admin.post("/api/customers/tables", json=bad)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "fields[0].max_size",
        "fields[0].file_types",
    }
    text = dict(TABLE, fields=[{"key": "f", "type": "text", "max_size": 10}])
    assert admin.post("/api/customers/tables", json=text).status_code == 422


def test_deleting_the_record_deletes_its_files(
    admin: StaffClient, record: dict[str, Any], runtime: Runtime
) -> None:
    assert upload(admin, f"{base(record)}/files/docs", "a.pdf", PDF).status_code == 200
    assert upload(admin, f"{base(record)}/files/photo", "a.png", PNG).status_code == 200
    assert len(stored_files(runtime)) == 2
    assert admin.delete(base(record)).status_code == 204
    assert stored_files(runtime) == []


def test_the_files_directory_is_private(
    admin: StaffClient, record: dict[str, Any], runtime: Runtime
) -> None:
    assert upload(admin, f"{base(record)}/files/docs", "a.pdf", PDF).status_code == 200
    root = runtime.settings.effective_files_dir
    (stored,) = stored_files(runtime)
    for directory in (root, root / "tmp", stored.parent):
        assert directory.stat().st_mode & 0o077 == 0, directory
