"""Imports through the services and the CLI's code path (``run_import``), on SQLite and
PostgreSQL: encodings, modes, keys after normalisation, duplicates, bad input, all or nothing,
the error report round trip, a crash between chunks resumed, roles."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.customers.models import RecordHistory
from api.db import utcnow
from api.domain import job_registry
from api.domains import DOMAINS
from api.imports import services as imports
from api.imports import tasks
from api.imports.cli import FILE_REFUSED, OK, SOME_REFUSED, run_import
from api.jobs.runner import run_job
from api.jobs.services import recover
from api.principal import SYSTEM, Principal
from api.runtime import Runtime
from tests.integration.imports.test_import_api import wait


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def by_email(runtime: Runtime) -> dict[str, dict[str, Any]]:
    with runtime.db.read() as session:
        page = records.list_records(session, SYSTEM, "customers", limit=500)
    return {r["values"]["email"]: r for r in page.items}


def cli(runtime: Runtime, path: Path, **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_import(runtime, "customers", path, echo=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


HEADER = ["メールアドレス", "氏名", "電話番号", "Age"]


@pytest.mark.parametrize(
    ("encoding", "requested"),
    [("utf-8", "auto"), ("utf-8-sig", "auto"), ("cp932", "auto"), ("cp932", "cp932")],
)
def test_each_encoding_imports_every_character(
    runtime: Runtime, table: str, tmp_path: Path, encoding: str, requested: str
) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [HEADER, ["a@example.com", "①㈱髙橋", "", "1"], ["b@example.com", "ｶﾀｶﾅ ～", "", ""]],
        encoding,
    )
    code, out, _ = cli(runtime, path, encoding=requested)
    assert code == OK, out
    found = by_email(runtime)
    assert found["a@example.com"]["values"]["name"] == "①㈱髙橋"
    assert found["b@example.com"]["values"]["name"] == "ｶﾀｶﾅ ～"


def test_wrong_encoding_and_bad_headers_are_refused_with_exit_2(
    runtime: Runtime, table: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "sjis.csv", [HEADER, ["a@example.com", "髙橋", "", ""]], "cp932")
    code, _, err = cli(runtime, path, encoding="utf-8")
    assert code == FILE_REFUSED and "CP932" in err
    dup = write_csv(tmp_path / "dup.csv", [["氏名", "ｼﾒｲ", "氏名"], ["a", "b", "c"]])
    code, _, err = cli(runtime, dup)
    assert code == FILE_REFUSED and "twice" in err
    nokey = write_csv(tmp_path / "nokey.csv", [["氏名"], ["a"]])
    code, _, err = cli(runtime, nokey, mode="update", key=["email"])
    assert code == FILE_REFUSED and "key" in err
    assert by_email(runtime) == {}


def test_modes_keys_duplicates_and_bad_rows(runtime: Runtime, table: str, tmp_path: Path) -> None:
    with runtime.db.transaction() as session:
        records.create_record(session, SYSTEM, "customers",
                              {"email": "taro@example.com", "name": "太郎", "phone": "03-1234-5678"})  # fmt: skip
    rows = [
        HEADER,
        ["ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "山田太郎", "03-1234-5678", "40"],
        [" taro@example.com ", "again", "", ""],  # repeats row 2's key
        ["new@example.com", "新", "", "x"],  # invalid age
        ["new2@example.com", "新2", "", "1", "extra"],  # too many cells
        ["new3@example.com", "", "", ""],  # required name
    ]
    path = write_csv(tmp_path / "in.csv", rows)
    code, out, _ = cli(runtime, path, mode="insert", dry_run=True)
    assert code == SOME_REFUSED
    assert "0 new" in out and "1 duplicate keys" in out and "4 invalid" in out, out
    report = tmp_path / "errors.csv"
    code, out, _ = cli(runtime, path, mode="update", errors_out=report)
    assert code == SOME_REFUSED, out
    found = by_email(runtime)
    assert found["taro@example.com"]["values"]["name"] == "山田太郎" and len(found) == 1
    lines = list(csv.reader(io.StringIO(report.read_text("utf-8"))))
    assert [line[0] for line in lines[1:]] == [
        " taro@example.com ",
        "new@example.com",
        "",
        "new3@example.com",
    ]
    assert "2 行目" in lines[1][-1] and "row 2" in lines[1][-1]
    # the phone as key: matched by its digits
    path = write_csv(
        tmp_path / "phone.csv", [["電話番号", "氏名"], ["０３（１２３４）５６７８", "電話"]]
    )
    code, out, _ = cli(runtime, path, mode="update", key=["phone"], errors_out=report)
    assert code == OK, out + report.read_text("utf-8")
    assert by_email(runtime)["taro@example.com"]["values"]["name"] == "電話"


def test_a_phone_key_matches_by_digits_in_that_field_only(
    runtime: Runtime, actor: Principal, tmp_path: Path
) -> None:
    """A phone key finds its record through the indexed match keys of duplicate finding,
    whatever the grouping typed; a record holding the digits in another phone field is not
    a match."""
    with runtime.db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}),
            [parse_field({"key": "email", "type": "email"}),
             parse_field({"key": "name", "type": "text"}),
             parse_field({"key": "phone", "type": "phone", "label": {"ja": "電話番号"}}),
             parse_field({"key": "mobile", "type": "phone", "label": {"ja": "携帯"}})],
        )  # fmt: skip
    first = write_csv(
        tmp_path / "first.csv",
        [["email", "name", "phone", "mobile"],
         ["a@example.com", "A", "03-1234-5678", ""],
         ["b@example.com", "B", "06-1111-2222", "090-1234-5678"]],
    )  # fmt: skip
    assert cli(runtime, first)[0] == OK
    second = write_csv(
        tmp_path / "second.csv",
        [["電話番号", "name"], ["0312345678", "A2"], ["(090) 1234-5678", "nobody"]],
    )
    report = tmp_path / "errors.csv"
    code, out, _ = cli(runtime, second, mode="update", key=["phone"], errors_out=report)
    assert code == SOME_REFUSED, out
    found = by_email(runtime)
    assert found["a@example.com"]["values"]["name"] == "A2"
    assert found["b@example.com"]["values"]["name"] == "B"  # its mobile is not its phone
    lines = list(csv.reader(io.StringIO(report.read_text("utf-8"))))
    assert [line[0] for line in lines[1:]] == ["(090) 1234-5678"]


def test_error_report_round_trip(runtime: Runtime, table: str, tmp_path: Path) -> None:
    rows = [HEADER, ["a@example.com", "=cmd|' /C calc'!A0", "", "1"],
            ["b@example.com", "B", "", "bad"], ["c@example.com", "+C", "", "2"]]  # fmt: skip
    path = write_csv(tmp_path / "in.csv", rows, "cp932")
    report = tmp_path / "errors.csv"
    code, _, _ = cli(runtime, path, errors_out=report)
    assert code == SOME_REFUSED
    assert by_email(runtime)["a@example.com"]["values"]["name"] == "=cmd|' /C calc'!A0"
    lines = list(csv.reader(io.StringIO(report.read_bytes().decode("cp932"))))
    assert lines[1][:4] == ["b@example.com", "B", "", "bad"]
    lines[1][3] = "３"  # fixed in Excel
    write_csv(report, lines, "cp932")
    code, out, _ = cli(runtime, report)
    assert code == OK, out
    assert by_email(runtime)["b@example.com"]["values"]["age"] == 3


def test_all_or_nothing_writes_nothing(runtime: Runtime, table: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [HEADER, ["a@example.com", "A", "", ""],
                                           ["b@example.com", "B", "", "x"]])  # fmt: skip
    code, out, _ = cli(runtime, path, all_or_nothing=True)
    assert code == SOME_REFUSED and "all or nothing" in out
    assert by_email(runtime) == {}


def test_a_run_stopped_between_chunks_resumes_without_losing_or_repeating_rows(
    runtime: Runtime, table: str, tmp_path: Path, actor: Principal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(imports, "CHUNK", 3)
    rows = [HEADER] + [[f"u{n}@example.com", f"n{n}", "", str(n)] for n in range(10)]
    rows.append(["u1@example.com", "dup", "", ""])
    path = write_csv(tmp_path / "in.csv", rows)
    received = imports.Received(tmp_path / "copy", "in.csv", 1)
    runtime.settings.imports_dir.mkdir(parents=True, exist_ok=True)
    stored = runtime.settings.imports_dir / "stored"
    stored.write_bytes(path.read_bytes())
    received = imports.Received(stored, "in.csv", stored.stat().st_size)
    with runtime.db.transaction() as session:
        batch = imports.create_batch(session, actor, "customers", received)
        batch_id = batch.id
        assert batch_id is not None
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    calls = {"n": 0}
    real = imports.run_chunk

    def crash_on_third(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the worker dies mid-chunk: its transaction is lost
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "run_chunk", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_job(runtime, tasks.RUN, job_id)
    assert len(by_email(runtime)) == 6  # two chunks in, the third rolled back
    # the janitor gives the job back (its lease is gone); a new worker (no cache) resumes
    with runtime.db.transaction() as session:
        recovered = recover(session, job_registry(DOMAINS), lease=timedelta(0), now=utcnow())
        assert [job for job, _ in recovered.requeued] == [job_id]
        assert recovered.uncertain_units == {}  # a chunk is a transaction: nothing in flight
    monkeypatch.setattr(imports, "run_chunk", real)
    run_job(runtime, tasks.RUN, job_id)
    found = by_email(runtime)
    assert sorted(found) == sorted(f"u{n}@example.com" for n in range(10))
    assert found["u1@example.com"]["values"]["name"] == "n1"
    with runtime.db.read() as session:
        batch = imports.get_batch(session, "customers", batch_id)
        assert batch.state == "done" and batch.created == 10 and batch.duplicate_keys == 1
        history = session.connection().execute(
            sa.select(sa.func.count()).select_from(RecordHistory).where(
                RecordHistory.batch_id == batch_id)  # type: ignore[arg-type]
        ).scalar_one()  # fmt: skip
        assert history == 10


def test_roles(runtime: Runtime, table: str, login_as: Any, make_staff: Any) -> None:
    viewer = login_as("viewer")
    refused = viewer.post("/api/customers/tables/customers/imports",
                          files={"file": ("a.csv", b"email\r\na@example.com\r\n", "text/csv")})  # fmt: skip
    assert refused.status_code == 403
    with runtime.db.transaction() as session:
        other = records.create_record(
            session, SYSTEM, "customers", {"email": "other@example.com", "name": "O"}
        )
    sales = login_as("sales")
    mine = sales.post("/api/customers/tables/customers/records",
                      json={"values": {"email": "mine@example.com", "name": "M"}}).json()  # fmt: skip
    data = "email,name\r\nother@example.com,X\r\nmine@example.com,Y\r\nnew@example.com,N\r\n"
    made = sales.post("/api/customers/tables/customers/imports",
                      files={"file": ("a.csv", data.encode(), "text/csv")}).json()  # fmt: skip
    url = f"/api/customers/tables/customers/imports/{made['id']}"
    assert wait(sales, sales.post(f"{url}/run").json()["job_id"])["state"] == "done"
    batch = sales.get(url).json()
    assert batch["result"]["invalid"] == 1, batch
    found = by_email(runtime)
    assert found["other@example.com"]["values"]["name"] == "O"
    assert found["mine@example.com"]["values"]["name"] == "Y"
    assert found["new@example.com"]["owner_id"] == mine["owner_id"]
    assert other["owner_id"] is None
