"""What happens when an import's steps stop half-way, on SQLite and PostgreSQL: the dry run
and the undo in chunks like the run, a chunk that fails (or a job cancelled) leaves the batch
``interrupted`` saying how far it got, resume finishes it with every row in exactly once, an
interrupted undo goes on where it stopped; housekeeping removes old files (the error report
still works, a batch whose file is gone says so)."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.customers import records
from api.customers.models import RecordHistory
from api.db import utcnow
from api.domain import job_registry
from api.domains import DOMAINS
from api.errors import Conflict
from api.exports import services as exports
from api.imports import engine, tasks
from api.imports import services as imports
from api.imports.cli import FILE_REFUSED, OK, SOME_REFUSED, resume_import, undo_import
from api.imports.models import CustomerImport
from api.jobs import services as jobs
from api.jobs.models import Job, JobUnit
from api.jobs.runner import run_job
from api.principal import SYSTEM, Principal
from api.runtime import Runtime
from api.tabular.messages import FileRefused
from tests.integration.imports.test_import_runs import HEADER, by_email, cli, write_csv

ROWS = [[f"u{n}@example.com", f"n{n}", "", str(n)] for n in range(10)]


def stored_batch(runtime: Runtime, actor: Principal, rows: list[list[str]]) -> int:
    """A batch of these rows (after the header), as an upload leaves it."""
    imports_dir = runtime.settings.imports_dir
    imports_dir.mkdir(parents=True, exist_ok=True)
    path = imports._target(imports_dir)
    write_csv(path, [HEADER, *rows])
    received = imports.Received(path, "in.csv", path.stat().st_size)
    with runtime.db.transaction() as session:
        batch = imports.create_batch(session, actor, "customers", received)
        assert batch.id is not None
        return batch.id


def batch_of(runtime: Runtime, batch_id: int) -> CustomerImport:
    with runtime.db.read() as session:
        batch = imports.get_batch(session, "customers", batch_id)
        session.expunge(batch)
        return batch


def job_of(runtime: Runtime, job_id: int) -> tuple[str, list[tuple[str, str]]]:
    with runtime.db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        units = session.exec(
            select(JobUnit).where(JobUnit.job_id == job_id).order_by(JobUnit.seq)  # type: ignore[arg-type]
        ).all()
        return job.state, [(u.key, u.state) for u in units]


def history_count(runtime: Runtime, batch_id: int) -> int:
    with runtime.db.read() as session:
        return int(
            session.connection().execute(
                sa.select(sa.func.count()).select_from(RecordHistory)
                .where(RecordHistory.batch_id == batch_id)  # type: ignore[arg-type]
            ).scalar_one()
        )  # fmt: skip


def fail_on_call(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, call: int
) -> dict[str, int]:
    """Fault injection: ``module.name`` raises on its ``call``-th call, then works again."""
    real = getattr(module, name)
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise RuntimeError("the disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)
    return calls


# ------------------------------------------------------------------ the dry run in chunks


def test_the_dry_run_runs_in_chunks_with_the_same_counts_and_errors(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 3)
    with runtime.db.transaction() as session:
        for values in ({"email": "u0@example.com", "name": "n0", "age": 0},
                       {"email": "u1@example.com", "name": "x"}):  # fmt: skip
            records.create_record(session, SYSTEM, "customers", values)
    rows = [*ROWS]
    rows[5] = ["u5@example.com", "n5", "", "not a number"]
    rows.append(["Ｕ2＠example.com", "again", "", ""])  # repeats row 4, three chunks later
    rows.append(["u11@example.com", "", "", ""])  # the name is required
    batch_id = stored_batch(runtime, actor, rows)
    with runtime.db.transaction() as session:
        job_id = imports.start_check(session, actor, "customers", batch_id, tasks.CHECK)
    assert batch_of(runtime, batch_id).state == "checking"
    assert run_job(runtime, tasks.CHECK, job_id) == "done"
    _, units = job_of(runtime, job_id)
    assert [key for key, _ in units] == ["rows 2–4", "rows 5–7", "rows 8–10", "rows 11–13"]
    batch = batch_of(runtime, batch_id)
    assert batch.state == "checked" and batch.check is not None
    check = batch.check
    assert (check["rows"], check["new"], check["updated"], check["unchanged"]) == (12, 7, 1, 1)
    assert (check["invalid"], check["duplicate_keys"]) == (2, 1)
    assert [(e["row"], e["column"], e["code"]) for e in check["errors"]] == [
        (7, 4, "not_integer"),
        (12, None, "import_duplicate_key"),
        (13, 2, "required"),
    ]
    assert by_email(runtime).keys() == {"u0@example.com", "u1@example.com"}  # nothing written
    # the CLI's dry run is the same job, with its progress line
    path = write_csv(runtime.settings.var_dir / "again.csv", [HEADER, *rows])
    code, out, err = cli(runtime, path, dry_run=True)
    assert code == SOME_REFUSED
    assert "7 new, 1 updated, 1 unchanged, 2 invalid, 1 duplicate keys" in out, out
    assert "12/12 rows (100%)" in err


def test_a_dry_run_that_stops_says_so_and_can_run_again(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 3)
    batch_id = stored_batch(runtime, actor, ROWS)
    fail_on_call(monkeypatch, engine, "classify", 2)
    with runtime.db.transaction() as session:
        job_id = imports.start_check(session, actor, "customers", batch_id, tasks.CHECK)
    assert run_job(runtime, tasks.CHECK, job_id) == "failed"
    _, units = job_of(runtime, job_id)
    assert [s for _, s in units] == ["done", "failed", "failed", "failed"]
    batch = batch_of(runtime, batch_id)
    assert batch.state == "uploaded" and batch.check is None
    assert "dry run stopped" in batch.message and "the disk is full" in batch.message
    assert "事前確認が途中で止まりました" in batch.message_ja
    with runtime.db.transaction() as session:
        job_id = imports.start_check(session, actor, "customers", batch_id, tasks.CHECK)
    assert run_job(runtime, tasks.CHECK, job_id) == "done"
    batch = batch_of(runtime, batch_id)
    assert batch.state == "checked" and batch.check and batch.check["new"] == 10
    assert batch.message == ""


# ------------------------------------------------------------------ a run that stops


def test_a_failing_chunk_interrupts_the_batch_and_resume_finishes_it_exactly_once(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 3)
    rows = [*ROWS, ["u1@example.com", "dup", "", ""]]  # row 12 repeats row 3
    batch_id = stored_batch(runtime, actor, rows)
    fail_on_call(monkeypatch, engine, "write", 2)  # the chunk of rows 5–7
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    assert run_job(runtime, tasks.RUN, job_id) == "failed"
    state, units = job_of(runtime, job_id)
    assert state == "failed"
    assert units == [("rows 2–4", "done"), ("rows 5–7", "failed"), ("rows 8–10", "failed"),
                     ("rows 11–12", "failed")]  # fmt: skip
    batch = batch_of(runtime, batch_id)
    assert batch.state == "interrupted"
    assert (batch.rows_done, batch.created, batch.chunks_done) == (3, 3, 1)
    assert sorted(by_email(runtime)) == ["u0@example.com", "u1@example.com", "u2@example.com"]
    assert "3 of 11 rows are done" in batch.message and "from row 5" in batch.message
    assert "rows 5–7: the disk is full" in batch.message and "Resume" in batch.message
    assert "11 行のうち 3 行" in batch.message_ja and "5 行目から" in batch.message_ja
    assert "5〜7 行目: the disk is full" in batch.message_ja
    # nothing else can start on it; resume goes on from the first unfinished chunk
    with runtime.db.transaction() as session, pytest.raises(Conflict):
        imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    with runtime.db.transaction() as session:
        resumed = imports.resume(session, actor, "customers", batch_id, tasks.RUN, tasks.UNDO,
                                 imports_dir=runtime.settings.imports_dir)  # fmt: skip
    assert batch_of(runtime, batch_id).state == "running"
    assert run_job(runtime, tasks.RUN, resumed) == "done"
    assert [k for k, _ in job_of(runtime, resumed)[1]] == ["rows 5–7", "rows 8–10", "rows 11–12"]
    # the old job retried from the jobs screen does nothing: another job has the batch
    with runtime.db.transaction() as session:
        jobs.retry_job(session, SYSTEM, job_id)
    assert run_job(runtime, tasks.RUN, job_id) == "done"
    batch = batch_of(runtime, batch_id)
    assert batch.state == "done" and batch.message == "" and batch.message_ja == ""
    assert (batch.rows_done, batch.created, batch.duplicate_keys) == (11, 10, 1)
    found = by_email(runtime)
    assert sorted(found) == sorted(f"u{n}@example.com" for n in range(10))
    assert found["u1@example.com"]["values"]["name"] == "n1"
    assert history_count(runtime, batch_id) == 10  # every row in exactly once
    with runtime.db.read() as session:
        refused = session.exec(
            select(imports.CustomerImportError).where(
                imports.CustomerImportError.batch_id == batch_id)  # type: ignore[arg-type]
        ).all()  # fmt: skip
        assert [e.row for e in refused] == [12]


def test_retrying_the_failed_job_from_the_jobs_screen_also_resumes(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 4)
    batch_id = stored_batch(runtime, actor, ROWS)
    fail_on_call(monkeypatch, engine, "write", 3)  # the last chunk
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    assert run_job(runtime, tasks.RUN, job_id) == "failed"
    assert batch_of(runtime, batch_id).state == "interrupted"
    assert len(by_email(runtime)) == 8
    with runtime.db.transaction() as session:
        jobs.retry_job(session, SYSTEM, job_id)
    assert run_job(runtime, tasks.RUN, job_id) == "done"
    batch = batch_of(runtime, batch_id)
    assert batch.state == "done" and batch.created == 10 and batch.message == ""
    assert history_count(runtime, batch_id) == 10


def test_a_cancelled_run_says_nothing_went_in_and_resumes_from_the_start(
    runtime: Runtime, table: str, actor: Principal
) -> None:
    batch_id = stored_batch(runtime, actor, ROWS)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    with runtime.db.transaction() as session:  # still queued: no worker took it
        jobs.cancel_job(session, SYSTEM, job_id, job_registry(DOMAINS))
    batch = batch_of(runtime, batch_id)
    assert batch.state == "interrupted"
    assert "the job was cancelled" in batch.message and "nothing was written" in batch.message
    assert "ジョブが取り消されました" in batch.message_ja
    assert run_job(runtime, tasks.RUN, job_id) is None  # a cancelled job is never claimed
    out, err = io.StringIO(), io.StringIO()
    assert resume_import(runtime, "customers", batch_id, echo=out, err=err) == OK, out.getvalue()
    assert "10 created" in out.getvalue() and "10/10 rows" in err.getvalue()
    assert len(by_email(runtime)) == 10
    # a batch that is done cannot be resumed (exit 2, the reason)
    out, err = io.StringIO(), io.StringIO()
    assert resume_import(runtime, "customers", batch_id, echo=out, err=err) == FILE_REFUSED
    assert "cannot be resumed" in err.getvalue()


def test_the_cli_says_how_to_resume_a_stopped_run(
    runtime: Runtime, table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 5)
    fail_on_call(monkeypatch, engine, "write", 2)
    path = write_csv(tmp_path / "in.csv", [HEADER, *ROWS])
    code, out, err = cli(runtime, path)
    assert code == SOME_REFUSED
    assert "5 of 10 rows are done" in out and "Read 5 of 10 rows: 5 created" in out, out
    with runtime.db.read() as session:
        batch_id = session.exec(select(CustomerImport.id)).one()
    assert f"kizuna imports resume customers {batch_id}" in err
    code, out, err = cli_resume(runtime, batch_id)
    assert code == OK and "Read 10 of 10 rows: 10 created" in out, out + err


def cli_resume(runtime: Runtime, batch_id: int) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = resume_import(runtime, "customers", batch_id, echo=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_resume_and_undo_through_the_api(
    admin: Any, runtime: Runtime, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.imports.test_import_api import BASE, upload, wait

    monkeypatch.setattr(imports, "CHUNK", 4)
    calls = fail_on_call(monkeypatch, engine, "write", 2)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *ROWS])
    made = upload(admin, out.getvalue().encode())
    url = f"{BASE}/imports/{made.json()['id']}"
    assert admin.post(f"{url}/resume").status_code == 409  # not stopped
    job = wait(admin, admin.post(f"{url}/run", json={}).json()["job_id"])
    assert job["state"] == "failed", job
    batch = admin.get(url).json()
    assert batch["state"] == "interrupted" and batch["progress"]["done"] == 4
    assert "from row 6" in batch["message"] and "6 行目から" in batch["message_ja"]
    started = admin.post(f"{url}/resume")
    assert started.status_code == 202, started.text
    assert wait(admin, started.json()["job_id"])["state"] == "done"
    batch = admin.get(url).json()
    assert batch["state"] == "done" and batch["result"]["created"] == 10
    assert batch["job_id"] == started.json()["job_id"] and calls["n"] == 4
    # the undo: a job in chunks, with its progress
    monkeypatch.setattr(imports, "UNDO_CHUNK", 3)
    undo = admin.post(f"{url}/undo").json()["job_id"]
    job = wait(admin, undo)
    assert job["state"] == "done" and job["progress"]["total"] == 4, job
    batch = admin.get(url).json()
    assert batch["state"] == "undone" and batch["undo"]["deleted"] == 10
    assert batch["progress"]["undo_done"] == batch["progress"]["undo_total"] == 10
    assert by_email(runtime) == {}


# ------------------------------------------------------------------ undo in chunks


def test_undo_runs_in_chunks_lists_what_changed_since_and_resumes_when_it_stops(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "UNDO_CHUNK", 3)
    with runtime.db.transaction() as session:
        kept = records.create_record(session, SYSTEM, "customers",
                                     {"email": "u0@example.com", "name": "before", "age": 1})  # fmt: skip
    batch_id = stored_batch(runtime, actor, ROWS)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    assert run_job(runtime, tasks.RUN, job_id) == "done"
    found = by_email(runtime)
    # changed since the import: one created record, and one field of the updated one
    with runtime.db.transaction() as session:
        changed = found["u7@example.com"]
        records.update_record(session, SYSTEM, "customers", changed["id"], {"name": "by hand"},
                              version=changed["version"])  # fmt: skip
        u0 = found["u0@example.com"]
        records.update_record(session, SYSTEM, "customers", u0["id"], {"age": 99},
                              version=u0["version"])  # fmt: skip
    fail_on_call(monkeypatch, imports, "_undo_entries", 3)  # the third chunk
    out, err = io.StringIO(), io.StringIO()
    assert undo_import(runtime, "customers", batch_id, echo=out, err=err) == SOME_REFUSED
    batch = batch_of(runtime, batch_id)
    assert batch.state == "undo_interrupted" and batch.undo is not None
    assert (batch.undo["done"], batch.undo["entries"]) == (6, 10)
    assert "6 of the import's 10 changes are undone" in batch.message, batch.message
    assert "Undo again" in batch.message and "10 件のうち 6 件" in batch.message_ja
    assert f"kizuna imports undo customers {batch_id}" in err.getvalue()
    # six changes undone in whole chunks (at most one of them the update, one u7's creation)
    assert batch.undo["deleted"] >= 4 and len(by_email(runtime)) == 10 - batch.undo["deleted"]
    out, err = io.StringIO(), io.StringIO()
    assert undo_import(runtime, "customers", batch_id, echo=out, err=err) == SOME_REFUSED
    batch = batch_of(runtime, batch_id)
    assert batch.state == "undone" and batch.undo is not None
    assert (batch.undo["deleted"], batch.undo["restored"]) == (8, 1)
    assert batch.undo["skipped_total"] == 2
    assert {(s["record_id"], s["field"], s["reason"]) for s in batch.undo["skipped"]} == {
        (changed["id"], None, "changed_since"),
        (u0["id"], "age", "changed_since"),
    }
    assert "8 records deleted, 1 fields restored, 2 left" in out.getvalue()
    after = by_email(runtime)
    assert sorted(after) == ["u0@example.com", "u7@example.com"]
    assert after["u0@example.com"]["values"]["name"] == "before"  # restored
    assert after["u0@example.com"]["values"]["age"] == 99  # changed since: left
    assert after["u0@example.com"]["id"] == kept["id"]


# ------------------------------------------------------------------ housekeeping


def test_housekeeping_removes_old_files_and_the_batches_say_so(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = runtime.settings
    imports_dir = settings.imports_dir
    done_id = stored_batch(runtime, actor, [*ROWS[:3], ["bad", "x", "", "y"]])
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", done_id, tasks.RUN)
    run_job(runtime, tasks.RUN, job_id)
    monkeypatch.setattr(imports, "CHUNK", 2)
    stopped_id = stored_batch(runtime, actor, ROWS[3:7])
    fail_on_call(monkeypatch, engine, "write", 2)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", stopped_id, tasks.RUN)
    run_job(runtime, tasks.RUN, job_id)
    abandoned_id = stored_batch(runtime, actor, ROWS[7:])
    fresh_id = stored_batch(runtime, actor, ROWS[7:])
    files = {b: imports_dir / batch_of(runtime, b).stored
             for b in (done_id, stopped_id, abandoned_id, fresh_id)}  # fmt: skip
    assert all(p.exists() for p in files.values())
    stray_old, stray_new = imports_dir / "cut-off-upload", imports_dir / "upload-under-way"
    stray_old.write_bytes(b"x")
    stray_new.write_bytes(b"x")
    three_days_ago = time.time() - 3 * 86400
    os.utime(stray_old, (three_days_ago, three_days_ago))
    # three days on: only what was never started (and the cut-off upload) goes
    with runtime.db.transaction() as session:
        session.execute(
            sa.update(CustomerImport).where(CustomerImport.id != fresh_id)  # type: ignore[arg-type]
            .values(updated_at=utcnow() - timedelta(days=3))
        )  # fmt: skip
    with runtime.db.transaction() as session:
        assert imports.remove_old_files(session, settings) == 2
    assert not files[abandoned_id].exists() and not stray_old.exists()
    assert files[done_id].exists() and files[stopped_id].exists() and files[fresh_id].exists()
    assert stray_new.exists()
    abandoned = batch_of(runtime, abandoned_id)
    assert abandoned.state == "expired" and abandoned.file_removed_at is not None
    assert "within 2 days" in abandoned.message and "2 日以内" in abandoned.message_ja
    with runtime.db.transaction() as session, pytest.raises(Conflict):
        imports.start_run(session, actor, "customers", abandoned_id, tasks.RUN)
    # after the retention (30 days by default), the files of finished and stopped batches too
    with runtime.db.transaction() as session:
        removed = imports.remove_old_files(session, settings, now=utcnow() + timedelta(days=31))
    assert removed == 4  # done, stopped, the fresh one (abandoned by then), its stray file
    assert not any(p.exists() for p in files.values()) and not stray_new.exists()
    stopped = batch_of(runtime, stopped_id)
    assert stopped.state == "interrupted" and "can no longer be" in stopped.message
    with runtime.db.transaction() as session, pytest.raises(Conflict) as refused:
        imports.resume(session, actor, "customers", stopped_id, tasks.RUN, tasks.UNDO,
                       imports_dir=imports_dir)  # fmt: skip
    assert refused.value.code == "import_file_expired"
    # the error report is made of the refused rows kept with the batch: it still works
    report = io.BytesIO()
    with runtime.db.read() as session:
        imports.error_report(session, "customers", done_id, report)
    lines = list(csv.reader(io.StringIO(report.getvalue().decode("utf-8"))))
    assert [line[0] for line in lines[1:]] == ["bad"]
    # and undo needs no file
    out, err = io.StringIO(), io.StringIO()
    assert undo_import(runtime, "customers", stopped_id, echo=out, err=err) == OK, out.getvalue()
    assert "2 records deleted" in out.getvalue()
    with runtime.db.transaction() as session:  # nothing left to do
        assert imports.remove_old_files(session, settings, now=utcnow() + timedelta(days=60)) == 0


def test_housekeeping_removes_leftover_export_files(runtime: Runtime) -> None:
    directory = exports.exports_dir(runtime.settings.var_dir)
    old, new, other = directory / "export-a.csv", directory / "export-b.xlsx", directory / "keep"
    for path in (old, new, other):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    with runtime.db.transaction() as session:
        assert exports.remove_leftovers(session, runtime.settings) == 1
    assert not old.exists() and new.exists() and other.exists()


def test_the_janitor_runs_both_clean_ups(runtime: Runtime, table: str, actor: Principal) -> None:
    from api.domain import housekeeping
    from api.workers.janitor import housekeeping as run_housekeeping

    stored_batch(runtime, actor, ROWS)
    # a file refused for its encoding, kept to be read again, and never read again
    path = imports._target(runtime.settings.imports_dir)
    write_csv(path, [HEADER, ["a@example.com", "髙橋", "", ""]], "cp932")
    received = imports.Received(path, "sjis.csv", path.stat().st_size)
    with runtime.db.transaction() as session:
        with pytest.raises(FileRefused) as refusal:
            imports.create_batch(session, actor, "customers", received, encoding="utf-8",
                                 keep_refused=True)  # fmt: skip
        refused = imports.refused_batch(session, actor, "customers", received, encoding="utf-8",
                                        refusal=refusal.value)  # fmt: skip
        refused_id = refused.id
    with runtime.db.transaction() as session:
        session.execute(sa.update(CustomerImport).values(updated_at=utcnow() - timedelta(days=3)))
    done = run_housekeeping(runtime, housekeeping(DOMAINS))
    assert done["import files past their retention"] == 2
    assert done["leftover export files"] == 0
    assert list(runtime.settings.imports_dir.iterdir()) == []
    assert refused_id is not None and batch_of(runtime, refused_id).state == "expired"


# ------------------------------------------------------------------ all or nothing, in chunks


def test_all_or_nothing_checks_in_chunks_and_writes_nothing_when_a_row_is_refused(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 4)
    rows = [*ROWS]
    rows[9] = ["u9@example.com", "n9", "", "x"]  # the last chunk
    batch_id = stored_batch(runtime, actor, rows)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN,
                                   all_or_nothing=True)  # fmt: skip
    assert run_job(runtime, tasks.RUN, job_id) == "done"
    _, units = job_of(runtime, job_id)
    assert [k for k, _ in units] == ["check rows 2–5", "check rows 6–9", "check rows 10–11",
                                     "rows 2–5", "rows 6–9", "rows 10–11"]  # fmt: skip
    batch = batch_of(runtime, batch_id)
    assert batch.state == "failed" and batch.invalid == 1 and batch.created == 0
    assert "all or nothing" in batch.message and "すべてか無し" in batch.message_ja
    assert by_email(runtime) == {}
    report = io.BytesIO()
    with runtime.db.read() as session:
        imports.error_report(session, "customers", batch_id, report)
    assert [line[0] for line in csv.reader(io.StringIO(report.getvalue().decode()))][1:] == [
        "u9@example.com"
    ]


def test_all_or_nothing_stopped_while_checking_resumes_with_the_rest_of_the_check(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 4)
    batch_id = stored_batch(runtime, actor, ROWS)
    fail_on_call(monkeypatch, engine, "classify", 2)  # the second check chunk
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN,
                                   all_or_nothing=True)  # fmt: skip
    assert run_job(runtime, tasks.RUN, job_id) == "failed"
    batch = batch_of(runtime, batch_id)
    assert batch.state == "interrupted" and batch.chunks_done == 1 and batch.rows_done == 0
    assert "nothing was written" in batch.message
    with runtime.db.transaction() as session:
        resumed = imports.resume(session, actor, "customers", batch_id, tasks.RUN, tasks.UNDO,
                                 imports_dir=runtime.settings.imports_dir)  # fmt: skip
    assert run_job(runtime, tasks.RUN, resumed) == "done"
    assert [k for k, _ in job_of(runtime, resumed)[1]] == [
        "check rows 6–9", "check rows 10–11", "rows 2–5", "rows 6–9", "rows 10–11"
    ]  # fmt: skip
    batch = batch_of(runtime, batch_id)
    assert batch.state == "done" and batch.created == 10 and batch.chunks_done == 6
    assert history_count(runtime, batch_id) == 10
