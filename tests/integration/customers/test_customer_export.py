"""Exports of a record set, on SQLite and PostgreSQL: every format and encoding read back (with
api/tabular's reader and openpyxl), formulas neutralised, CP932 gaps listed by record and field
and replaced only when asked, selection / view / filter / search, roles, the audit entry, and
the `kizuna export` command."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import select

from api.audit.models import AuditEntry
from api.customers import records, services, views
from api.customers.definitions import parse_field, parse_table
from api.customers.record_set import record_set
from api.errors import ValidationFailed
from api.exports import services as exports
from api.principal import Principal
from api.runtime import Runtime
from api.settings import Settings
from api.staff.models import Staff
from api.staff.services import principal_for_staff
from api.tabular.reader import open_table
from tests.fixtures.app import StaffClient
from tests.fixtures.live import kizuna, kizuna_env

HOSTILE = ["", "+1+1", "-2", "@SUM(A1)", '=HYPERLINK("http://x")', "=1+2"]


@pytest.fixture
def table(runtime: Runtime, actor: Principal) -> str:
    with runtime.db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "companies", "label": {"ja": "会社"}}),
            [parse_field({"key": "name", "type": "text"})],
        )  # fmt: skip
        services.create_table(
            session,
            actor,
            parse_table(
                {
                    "key": "customers",
                    "label": {"ja": "顧客", "en": "Customers"},
                    "statuses": ["lead", {"value": "won", "label": {"ja": "成約", "en": "Won"}}],
                }
            ),
            [
                parse_field({"key": "name", "type": "text", "label": {"ja": "氏名", "en": "Name"}}),
                parse_field({"key": "memo", "type": "text", "label": {"ja": "メモ", "en": "Memo"}}),
                parse_field(
                    {
                        "key": "plan",
                        "type": "select",
                        "label": {"ja": "プラン", "en": "Plan"},
                        "choices": [{"value": "gold", "label": {"ja": "ゴールド", "en": "Gold"}}],
                    }
                ),
                parse_field(
                    {
                        "key": "tags",
                        "type": "multi_select",
                        "label": {"ja": "タグ"},
                        "choices": [
                            {"value": "a", "label": {"ja": "甲"}},
                            {"value": "b", "label": {"ja": "乙"}},
                        ],
                    }
                ),
                parse_field({"key": "seen", "type": "datetime", "label": {"ja": "来店"}}),
                parse_field({"key": "born", "type": "date", "label": {"ja": "生年月日"}}),
                parse_field({"key": "score", "type": "decimal", "decimal_places": 2}),
                parse_field({"key": "company", "type": "reference", "references": "companies"}),
            ],
        )
        company = records.create_record(session, actor, "companies", {"name": "㈱山田商事"})
        for n in range(1, 6):
            records.create_record(
                session,
                actor,
                "customers",
                {
                    "name": f"山田{n}",
                    "memo": HOSTILE[n] if n < len(HOSTILE) else "普通",
                    "plan": "gold",
                    "tags": ["a", "b"],
                    "seen": "2026-04-01T00:30:00+00:00",
                    "born": "1990-02-03",
                    "score": "12.5",
                    "company": company["id"],
                },
            )
    return "customers"


def export(
    runtime: Runtime, actor: Principal, *, replace: bool = False, **kwargs: Any
) -> tuple[bytes, exports.Result]:
    set_args = {k: kwargs.pop(k) for k in ("ids", "view", "where", "q") if k in kwargs}
    options = exports.parse_options(**kwargs, replace=replace)
    with runtime.db.read() as session:
        rs = record_set(session, actor, "customers", **set_args)
        path, result = exports.export_file(session, rs, options, runtime.settings.var_dir)
    data = path.read_bytes()
    path.unlink()
    return data, result


def read_back(
    tmp_path: Path, data: bytes, suffix: str = ".csv"
) -> tuple[list[str], list[list[str]]]:
    path = tmp_path / f"back{suffix}"
    path.write_bytes(data)
    with open_table(path) as found:
        return found.header, [r.cells for r in found.rows()]


def test_csv_utf8_shows_values_as_people_expect(
    runtime: Runtime, actor: Principal, table: str, tmp_path: Path
) -> None:
    data, result = export(
        runtime, actor, columns="id,name,plan,tags,seen,born,score,company,status"
    )
    assert result.rows == 5 and not data.startswith(b"\xef\xbb\xbf")
    head, rows = read_back(tmp_path, data)
    assert head == [
        "ID",
        "氏名",
        "プラン",
        "タグ",
        "来店",
        "生年月日",
        "score",
        "company",
        "ステータス",
    ]
    first = dict(zip(head, rows[0], strict=True))
    # newest first, like the list; the datetime in JST without an offset
    assert first["氏名"] == "山田5" and first["来店"] == "2026-04-01 09:30:00"
    assert first["プラン"] == "ゴールド" and first["タグ"] == "甲, 乙"
    assert first["生年月日"] == "1990-02-03" and first["score"] == "12.50"
    assert first["company"] == "㈱山田商事" and first["ステータス"] == "lead"
    stored, _ = export(runtime, actor, columns="plan,tags,company", values="stored", labels="en")
    head, rows = read_back(tmp_path, stored)
    assert head == [
        "Plan",
        "タグ",
        "company",
    ]  # no English label: the Japanese one and rows[0][:2] == ["gold", "a, b"]
    assert rows[0][2].isdigit()
    keys, _ = export(runtime, actor, columns="name", labels="keys", encoding="utf-8-bom")
    assert keys.startswith(b"\xef\xbb\xbfname\r\n")


def test_formulas_are_neutralised_and_read_back_as_typed(
    runtime: Runtime, actor: Principal, table: str, tmp_path: Path
) -> None:
    data, _ = export(runtime, actor, columns="id,memo")
    text = data.decode("utf-8")
    for payload in ("+1+1", "-2", "@SUM(A1)", "=1+2", '\'=HYPERLINK(""http://x"")'):
        assert "'" + payload in text or payload in text
    assert "\n=" not in text and ",=" not in text and ",+" not in text and ",@" not in text
    _, rows = read_back(tmp_path, data)
    assert {r[1] for r in rows} >= set(HOSTILE[1:4])  # the reader takes the apostrophe off
    xlsx, _ = export(runtime, actor, columns="id,memo", format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    cells = [c.value for c in sheet["B"]][1:]
    assert "+1+1" in cells and all(c.data_type == "s" for c in sheet["B"])  # text, never formulas


def test_cp932_gaps_are_listed_and_replaced_only_when_asked(
    runtime: Runtime, actor: Principal, table: str, tmp_path: Path
) -> None:
    with runtime.db.transaction() as session:
        sushi = records.create_record(session, actor, table, {"name": "𠮷野家🍣", "memo": "〜①髙"})
    with pytest.raises(ValidationFailed) as refused:
        export(runtime, actor, columns="id,name,memo", encoding="cp932")
    assert refused.value.code == "cp932_gaps"
    assert [(e.params or {}).get("record_id") for e in refused.value.errors] == [sushi["id"]]
    gap = refused.value.errors[0]
    assert gap.field == f"records.{sushi['id']}.name" and (gap.params or {})["chars"] == "𠮷🍣"
    assert not list(runtime.settings.var_dir.glob("export-*"))  # nothing kept
    data, result = export(runtime, actor, columns="id,name,memo", encoding="cp932", replace=True)
    assert result.gap_count == 1 and result.gaps[0].record_id == sushi["id"]
    head, rows = read_back(tmp_path, data)
    assert head == ["ID", "氏名", "メモ"]
    assert rows[0] == [str(sushi["id"]), "〓野家〓", "～①髙"]  # the wave dash as its CP932 twin
    utf8, _ = export(runtime, actor, columns="name", encoding="utf-8")
    assert "𠮷野家🍣" in utf8.decode("utf-8")
    xlsx, _ = export(runtime, actor, columns="name", format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None and sheet["A2"].value == "𠮷野家🍣"


def test_selection_view_filter_and_search(
    runtime: Runtime, actor: Principal, table: str, tmp_path: Path
) -> None:
    with runtime.db.transaction() as session:
        view = views.create_view(
            session, actor, table, name="old", conditions={"field": "name", "op": "in",
            "value": ["山田1", "山田2"]}, columns=["name"], sort="name", shared=True,
        )  # fmt: skip
        ids = [r["id"] for r in records.list_records(session, actor, table).items]
    _, rows = read_back(tmp_path, export(runtime, actor, columns="name", view=view.id)[0])
    assert rows == [["山田1"], ["山田2"]]  # the view's filter and its sort
    _, rows = read_back(tmp_path, export(runtime, actor, columns="name", ids=ids[:2])[0])
    assert rows == [["山田5"], ["山田4"]]
    where = {"field": "name", "op": "eq", "value": "山田3"}
    _, rows = read_back(tmp_path, export(runtime, actor, columns="name", where=where)[0])
    assert rows == [["山田3"]]
    _, rows = read_back(tmp_path, export(runtime, actor, columns="name", q="山田4")[0])
    assert rows == [["山田4"]]
    with pytest.raises(ValidationFailed) as bad:
        export(runtime, actor, columns="name,nope")
    assert bad.value.errors[0].field == "columns[1]"


def test_batches_keep_the_order_and_lose_nothing(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    with runtime.db.transaction() as session:
        for n in range(30):
            records.create_record(session, actor, table, {"name": f"x{n:02d}", "score": "1"})
    options = exports.parse_options(columns="name", labels="keys")
    with runtime.db.read() as session:
        rs = record_set(session, actor, table, sort="name")
        out = io.BytesIO()
        result = exports.write(session, rs, options, out, batch=4)
    names = out.getvalue().decode().split("\r\n")[1:-1]
    assert result.rows == 35 and names == sorted(names) and len(set(names)) == 35


def test_api_download_roles_and_audit(
    login_as: Callable[[str], StaffClient],
    runtime: Runtime,
    table: str,
    make_staff: Callable[..., Staff],
    tmp_path: Path,
) -> None:
    marketer = login_as("marketer")
    response = marketer.get(
        "/api/customers/tables/customers/export",
        params={"encoding": "cp932", "columns": "id,name"},
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''%E9%A1%A7%E5%AE%A2_" in disposition
    )
    head, rows = read_back(tmp_path, response.content)
    assert head == ["ID", "氏名"] and len(rows) == 5
    with runtime.db.read() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "customers.export")
        ).one()
        assert entry.target_id == "customers" and (entry.after or {})["rows"] == 5
        assert (entry.after or {})["encoding"] == "cp932"
    bad = marketer.get("/api/customers/tables/customers/export", params={"format": "pdf"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"
    with runtime.db.transaction() as session:
        records.create_record(session, principal_for_staff(make_staff("admin")), table,
                              {"name": "🍣"})  # fmt: skip
    refused = marketer.get(
        "/api/customers/tables/customers/export", params={"encoding": "cp932", "columns": "name"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "cp932_gap"
    replaced = marketer.get(
        "/api/customers/tables/customers/export",
        params={"encoding": "cp932", "columns": "name", "replace": "true"},
    )
    assert replaced.status_code == 200 and "〓".encode("cp932") in replaced.content
    assert login_as("viewer").get("/api/customers/tables/customers/export").status_code == 403


def test_sales_export_only_what_they_see(
    runtime: Runtime, actor: Principal, table: str, make_staff: Callable[..., Staff]
) -> None:
    rep = principal_for_staff(make_staff("sales"))
    with runtime.db.transaction() as session:
        services.update_table(
            session, actor, table, parse_table({"key": table, "owner_only": True,
                                                "statuses": ["lead", "won"]}),
        )  # fmt: skip
        records.create_record(session, rep, table, {"name": "mine"})
    data, result = export(runtime, rep, columns="name,owner_id", labels="keys")
    assert result.rows == 1 and data.decode().split("\r\n")[1].startswith("mine,")


def test_cli_export(runtime: Runtime, settings: Settings, table: str, tmp_path: Path) -> None:
    env = kizuna_env(settings.var_dir, DATABASE_URL=settings.effective_database_url)
    out = tmp_path / "out.csv"
    done = kizuna(env, "export", "customers", "--encoding", "cp932", "--columns", "id,name",
                  "-o", str(out))  # fmt: skip
    assert "5 record(s) written" in done.stderr
    assert out.read_bytes().decode("cp932").splitlines()[0] == "ID,氏名"
    with runtime.db.transaction() as session:
        records.create_record(session, _system(), table, {"name": "🍣"})
    refused = kizuna(env, "export", "customers", "--encoding", "cp932", "-o", str(out),
                     check=False)  # fmt: skip
    assert refused.returncode == 2 and "name" in refused.stderr and "🍣" in refused.stderr
    xlsx = tmp_path / "out.xlsx"
    kizuna(env, "export", "customers", "--format", "xlsx", "--labels", "en", "-o", str(xlsx))
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None and sheet["B1"].value == "Name" and sheet.max_row == 7
    stdout = kizuna(env, "export", "customers", "--columns", "name", "--labels", "keys")
    assert stdout.stdout.startswith("name\r\n") or stdout.stdout.startswith("name\n")


def _system() -> Principal:
    from api.principal import cli_principal

    return cli_principal("tests")


@pytest.mark.parametrize(
    ("sort", "zone"),
    [(None, None), ("memo", "Europe/Paris"), ("-seen", "Asia/Kolkata")],
)
def test_the_fast_path_writes_what_the_general_path_writes(
    runtime: Runtime,
    actor: Principal,
    table: str,
    make_staff: Callable[..., Staff],
    sort: str | None,
    zone: str | None,
) -> None:
    """A CSV export is made with the cells formatted by the query (PostgreSQL: dumped by COPY;
        SQLite: written in batches, conversions by registered functions calling the general
        converters): the same hostile and typed values, line breaks inside long texts included,
        come out byte for byte as the general (Python) path writes them, in the same order. Times
    around daylight-saving changes: Paris changes on a UTC hour, Adelaide (+10:30 → +9:30) in the
    middle of one (SQLite then leaves that hour to the general converter)."""
    from api.livesettings import services as live

    if zone:
        with runtime.db.transaction() as session:
            live.update(session, actor, {"site.time_zone": zone})
    edges = {
        3: "2026-03-29T01:30:00+00:00",  # Paris: just after the change to summer time
        5: "1942-08-31T18:45:00+00:00",  # Kolkata: 15 minutes after the change to +6:30
        7: "1942-08-31T18:15:59.999999+00:00",  # … and 15 minutes before, a fraction cut
        6: "2026-10-25T00:59:59.999999+00:00",  # Paris: the last second of summer time
    }
    owner = make_staff("marketer", name="=cmd|' /C calc'!A0")
    with runtime.db.transaction() as session:
        services.add_field(session, actor, table, parse_field({"key": "ok", "type": "boolean"}))
        services.add_field(session, actor, table, parse_field({"key": "n", "type": "integer"}))
        services.add_field(session, actor, table, parse_field({"key": "note", "type": "long_text"}))
        services.add_field(session, actor, table, parse_field({"key": "web", "type": "url"}))
        memos = ("-1", "@x", "=1+2", "+", "普通 〜 −", None, 'a "quoted", comma', "")
        for i, memo in enumerate(memos):
            records.create_record(
                session, actor, table,
                {"name": memo, "memo": memo, "tags": ["b"] if i % 2 else ["b", "a"],
                 "ok": memo is None, "score": "-3" if i % 3 else None, "n": i - 3,
                 "note": f"一行目\n=二行目\r\n\t三 {memo or ''}" if i % 2 else "-\nx",
                 "seen": edges.get(i) or (f"2026-0{i + 1}-01T23:30:00+00:00" if i % 4 else None),
                 "web": "https://example.com/?a=1" if i % 2 else None},
                owner_id=owner.id if i % 2 else None,
            )  # fmt: skip
    fast_path = "copy" if runtime.db.dialect == "postgresql" else "sql"
    for encoding in ("utf-8", "utf-8-bom", "cp932"):
        for values in ("display", "stored"):
            for labels in ("ja", "en"):
                options = exports.parse_options(encoding=encoding, values=values, labels=labels)
                with runtime.db.read() as session:
                    rs = record_set(session, actor, table, sort=sort)
                    fast, general = io.BytesIO(), io.BytesIO()
                    one = exports.write(session, rs, options, fast, batch=3)
                    two = exports.write(session, rs, options, general, fast_path_off=True)
                assert one.path == fast_path and two.path == "general"
                assert one.rows == two.rows == 13
                assert fast.getvalue() == general.getvalue(), (encoding, values, labels)
    # A line break inside a cell is a LF (as stored, as Excel writes Alt+Enter); rows end CRLF.
    data = fast.getvalue().decode("cp932")
    assert '"一行目\n=二行目\n\t三 @x"' in data  # a LF inside, only the cell's start neutralised
    assert '"\'-\nx"' in data and "一行目\r\n" not in data and data.count("\r\n") == 14


def test_a_gap_sends_the_fast_path_back_to_the_general_path(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    with runtime.db.transaction() as session:
        records.create_record(session, actor, table, {"name": "🍣", "memo": "=1"})
    options = exports.parse_options(encoding="cp932", replace=True, columns="id,name,memo")
    with runtime.db.read() as session:
        rs = record_set(session, actor, table)
        out = io.BytesIO()
        result = exports.write(session, rs, options, out, batch=2)
    assert result.path == "general" and result.gap_count == 1 and result.rows == 6
    assert "〓,'=1" in out.getvalue().decode("cp932")


# ------------------------------------------------------------------ export jobs


def _finish(runtime: Runtime, job_id: int) -> None:
    import time

    from api.exports import jobs
    from api.jobs.models import Job, JobState
    from api.jobs.runner import run_job

    run_job(runtime, jobs.KIND, job_id)  # here, unless the app's in-process worker took it
    for _ in range(300):
        with runtime.db.read() as session:
            job = session.get(Job, job_id)
            assert job is not None
            now, error = job.state, job.error
            if now not in (JobState.queued, JobState.running):
                break
        time.sleep(0.1)
    assert now == JobState.done, (now, error)


def _age(runtime: Runtime, job_id: int, by: Any) -> None:
    """The job finished ``by`` earlier than it did."""
    from api.jobs.models import Job

    with runtime.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.finished_at is not None
        job.finished_at = job.finished_at - by
        session.add(job)


def test_export_job_writes_the_download_s_file_for_its_starter_only(
    login_as: Callable[[str], StaffClient], runtime: Runtime, table: str, tmp_path: Path
) -> None:
    base = "/api/customers/tables/customers"
    params = {"encoding": "cp932", "columns": "id,name,memo,seen", "labels": "en"}
    marketer = login_as("marketer")
    direct = marketer.get(f"{base}/export", params=params)
    assert direct.status_code == 200
    bad = marketer.post(f"{base}/exports", json={"format": "pdf", "columns": ["nope"]})
    assert bad.status_code == 422, bad.text  # checked at once, not a failed job
    started = marketer.post(
        f"{base}/exports",
        json={"encoding": "cp932", "columns": params["columns"].split(","), "header": "en"},
    )
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["rows_total"] == 5 and body["state"] in ("queued", "running", "ready")
    job_id = body["job_id"]
    _finish(runtime, job_id)
    state = marketer.get(f"{base}/exports/{job_id}").json()
    assert state["state"] == "ready" and state["rows_written"] == 5 and state["expires_at"]
    assert state["name"].startswith("Customers_") and state["name"].endswith(".csv")
    got = marketer.get(f"{base}/exports/{job_id}/file")
    assert got.status_code == 200 and got.content == direct.content
    assert "filename*=UTF-8''Customers_" in got.headers["content-disposition"]
    with runtime.db.read() as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "customers.export")
        ).all()
        assert [(e.after or {}).get("job") for e in entries] == [None, job_id]
        assert (entries[1].after or {})["rows"] == 5
    other = login_as("marketer")  # another marketer: not theirs
    assert other.get(f"{base}/exports/{job_id}").status_code == 404
    assert other.get(f"{base}/exports/{job_id}/file").status_code == 404
    admin = login_as("admin")
    assert admin.get(f"{base}/exports/{job_id}/file").content == direct.content
    assert login_as("viewer").post(f"{base}/exports", json={}).status_code == 403


def test_export_job_refused_for_cp932_gaps_and_expired_files_say_so(
    login_as: Callable[[str], StaffClient], runtime: Runtime, actor: Principal, table: str
) -> None:
    import datetime as dt

    from api.exports import jobs

    base = "/api/customers/tables/customers"
    with runtime.db.transaction() as session:
        sushi = records.create_record(session, actor, table, {"name": "🍣"})
    marketer = login_as("marketer")
    job_id = marketer.post(f"{base}/exports", json={"encoding": "cp932"}).json()["job_id"]
    _finish(runtime, job_id)
    state = marketer.get(f"{base}/exports/{job_id}").json()
    assert state["state"] == "refused" and state["gap_count"] == 1
    assert state["gaps"] == [{"record_id": sushi["id"], "field": "name", "chars": "🍣"}]
    refused = marketer.get(f"{base}/exports/{job_id}/file")
    assert refused.status_code == 409 and refused.json()["code"] == "export_refused"
    directory = runtime.settings.var_dir / "exports"
    assert not list(directory.glob(f"job-{job_id}.*"))  # nothing kept
    job_id = marketer.post(
        f"{base}/exports", json={"encoding": "cp932", "replace": True, "format": "csv"}
    ).json()["job_id"]
    _finish(runtime, job_id)
    got = marketer.get(f"{base}/exports/{job_id}/file")
    assert got.status_code == 200 and "〓".encode("cp932") in got.content
    path = directory / f"job-{job_id}.csv"
    assert path.is_file()
    # A day later the file is gone, and the download says so.
    _age(runtime, job_id, jobs.KEEP + dt.timedelta(seconds=1))
    gone = marketer.get(f"{base}/exports/{job_id}/file")
    assert gone.status_code == 410 and gone.json()["code"] == "export_expired"
    assert "start the export again" in gone.json()["detail"] and not path.exists()
    assert marketer.get(f"{base}/exports/{job_id}").json()["state"] == "expired"


def test_expired_export_files_are_swept_by_housekeeping_and_when_another_export_runs(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    import datetime as dt

    from api.exports import jobs

    directory = runtime.settings.var_dir / "exports"
    with runtime.db.transaction() as session:
        old, _ = jobs.start(session, actor, table, {"format": "xlsx"})
        old_id = old.id
    assert old_id is not None
    _finish(runtime, old_id)
    assert (directory / f"job-{old_id}.xlsx").is_file()
    _age(runtime, old_id, dt.timedelta(days=2))
    with runtime.db.transaction() as session:
        new, count = jobs.start(session, actor, table, {"values": "stored"}, sort="name")
        new_id = new.id
    assert new_id is not None and count == 5
    _finish(runtime, new_id)
    assert not (directory / f"job-{old_id}.xlsx").exists()
    assert (directory / f"job-{new_id}.csv").is_file()
    # and by the janitor's housekeeping, when no other export runs
    from api.domain import housekeeping
    from api.domains import DOMAINS
    from api.workers.janitor import housekeeping as run_housekeeping

    assert run_housekeeping(runtime, housekeeping(DOMAINS))["expired export job files"] == 0
    _age(runtime, new_id, dt.timedelta(days=2))
    assert run_housekeeping(runtime, housekeeping(DOMAINS))["expired export job files"] == 1
    assert not (directory / f"job-{new_id}.csv").exists()
