"""``kizuna import``, ``kizuna imports resume|undo``: the same batch, dry run, run, resume,
undo (jobs run in this process) and error report as the admin, for scripts and cron. Exit 0:
every row in; 1: some rows refused (the report is written; the valid rows are in unless all
or nothing) or the run stopped (the message says how far it got and how to resume); 2: the
file or its mapping refused."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from api.errors import Conflict, NotFound, ValidationFailed
from api.fields.messages import localize
from api.imports import services, tasks
from api.imports.models import CustomerImport
from api.jobs.kinds import JobKind
from api.jobs.runner import run_job
from api.principal import cli_principal
from api.runtime import Runtime

OK, SOME_REFUSED, FILE_REFUSED = 0, 1, 2


def summary(batch: CustomerImport | dict[str, Any], *, dry_run: bool = False) -> str:
    if isinstance(batch, dict):
        c = batch
        return (
            f"Dry run: {c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, "
            f"{c['invalid']} invalid, {c['duplicate_keys']} duplicate keys; nothing written."
        )
    return (
        f"Read {batch.rows_done} of {batch.rows_total} rows: {batch.created} created, "
        f"{batch.updated} updated, {batch.unchanged} unchanged, {batch.invalid} refused, "
        f"{batch.duplicate_keys} duplicate keys."
    )


def _progress(
    runtime: Runtime, batch_id: int, stop: threading.Event, out: TextIO, step: str = "run"
) -> None:
    started = time.monotonic()
    first: int | None = None
    while True:
        stopped = stop.wait(0.5)
        with runtime.db.read() as session:
            batch = session.get(CustomerImport, batch_id)
            if batch is None:
                return
            if step == "check":
                done, total = int((batch.check or {}).get("rows", 0)), batch.rows_total
            elif step == "undo":
                done = int((batch.undo or {}).get("done", 0))
                total = int((batch.undo or {}).get("entries", 0))
            else:
                done, total = batch.rows_done, batch.rows_total
        if first is None:
            first = done  # a resumed step: the rate counts from where it went on
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = (done - first) / elapsed
        eta = (total - done) / rate if rate else 0
        share = 100 * done // total if total else 100
        unit = "changes" if step == "undo" else "rows"
        out.write(
            f"\r{done:,}/{total:,} {unit} ({share}%), {rate:,.0f} {unit}/s, ETA {eta:,.0f} s "
        )
        out.flush()
        if stopped:  # the last line says where the step ended
            return


def _follow(
    runtime: Runtime, kind: JobKind, job_id: int, batch_id: int, err: TextIO, step: str
) -> None:
    """Run the job in this process, with a progress line on ``err``."""
    stop = threading.Event()
    watcher = threading.Thread(
        target=_progress, args=(runtime, batch_id, stop, err, step), daemon=True
    )
    watcher.start()
    try:
        run_job(runtime, kind, job_id)
    finally:
        stop.set()
        watcher.join()
        err.write("\n")


def _stopped_hint(batch: CustomerImport, table: str) -> str:
    if batch.state == "interrupted":
        return (f"Resume it with: kizuna imports resume {table} {batch.id}   "
                f"(or take out what went in: kizuna imports undo {table} {batch.id})")  # fmt: skip
    if batch.state == "undo_interrupted":
        return f"Go on with: kizuna imports undo {table} {batch.id}"
    return f"The import is {batch.state}; look at job {batch.job_id} (kizuna worker runs it)."


def run_import(
    runtime: Runtime,
    table: str,
    file: Path,
    *,
    mode: str | None = None,
    key: list[str] | None = None,
    encoding: str = "auto",
    dry_run: bool = False,
    errors_out: Path | None = None,
    all_or_nothing: bool = False,
    echo: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    actor = cli_principal("kizuna import")
    imports_dir = runtime.settings.imports_dir
    target = services._target(imports_dir)
    shutil.copyfile(file, target)
    received = services.Received(target, file.name, target.stat().st_size)
    try:
        with runtime.db.transaction() as session:
            batch = services.create_batch(session, actor, table, received, encoding=encoding)
            assert batch.id is not None
            batch_id = batch.id
            if mode is not None or key is not None:
                services.update_batch(
                    session, actor, table, batch_id, imports_dir=imports_dir, mode=mode, key=key
                )
            else:
                services.plan_of(services.load_design(session, table), batch)
            mapped = [
                f"{batch.header[int(i)]} → {k}" for i, k in sorted(
                    batch.mapping.items(), key=lambda kv: int(kv[0])) if k
            ]  # fmt: skip
    except (ValidationFailed, NotFound) as exc:  # the file, its mapping or the table
        received.path.unlink(missing_ok=True)
        err.write(f"Refused: {exc.detail}\n")
        for problem in exc.errors:
            err.write(f"  {problem.field}: {localize(problem, 'en')}\n")
        return FILE_REFUSED
    echo.write(f"Columns: {', '.join(mapped)}; mode {batch.mode}, key {', '.join(batch.key)}\n")
    if dry_run:
        with runtime.db.transaction() as session:
            job_id = services.start_check(session, actor, table, batch_id, tasks.CHECK)
        _follow(runtime, tasks.CHECK, job_id, batch_id, err, "check")
        with runtime.db.read() as session:
            batch = services.get_batch(session, table, batch_id)
            state, check, said = batch.state, batch.check, batch.message
        if state != "checked" or check is None:
            echo.write((said or f"The dry run did not finish ({state}).") + "\n")
            return SOME_REFUSED
        echo.write(summary(check) + "\n")
        for e in check["errors"][:20]:
            column = f"column {e['column']}, " if e["column"] else ""
            echo.write(f"  row {e['row']}: {column}{e['message']}\n")
        return OK if not (check["invalid"] or check["duplicate_keys"]) else SOME_REFUSED
    with runtime.db.transaction() as session:
        job_id = services.start_run(
            session, actor, table, batch_id, tasks.RUN, all_or_nothing=all_or_nothing
        )
    _follow(runtime, tasks.RUN, job_id, batch_id, err, "run")
    return _outcome(runtime, table, batch_id, errors_out, echo, err)


def _outcome(
    runtime: Runtime,
    table: str,
    batch_id: int,
    errors_out: Path | None,
    echo: TextIO,
    err: TextIO,
) -> int:
    with runtime.db.read() as session:
        batch = services.get_batch(session, table, batch_id)
        refused = batch.invalid + batch.duplicate_keys
        if batch.message:
            echo.write(batch.message + "\n")
        echo.write(f"Import {batch_id}: " + summary(batch) + "\n")
        if refused and errors_out is not None:
            with errors_out.open("wb") as out:
                services.error_report(session, table, batch_id, out)
            echo.write(f"The refused rows and their reasons are in {errors_out}.\n")
        if batch.state not in ("done", "failed"):
            err.write(_stopped_hint(batch, table) + "\n")
            return SOME_REFUSED
    return OK if not refused else SOME_REFUSED


def resume_import(
    runtime: Runtime,
    table: str,
    batch_id: int,
    *,
    errors_out: Path | None = None,
    echo: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """``kizuna imports resume``: a stopped run from its first unfinished chunk (or a stopped
    undo where it stopped). Exit codes as ``kizuna import``; 2 when it cannot be resumed."""
    actor = cli_principal("kizuna imports resume")
    try:
        with runtime.db.transaction() as session:
            undoing = services.get_batch(session, table, batch_id).state == "undo_interrupted"
            job_id = services.resume(
                session, actor, table, batch_id, tasks.RUN, tasks.UNDO,
                imports_dir=runtime.settings.imports_dir,
            )  # fmt: skip
    except (Conflict, NotFound) as exc:
        err.write(f"Refused: {exc.detail}\n")
        return FILE_REFUSED
    if undoing:
        _follow(runtime, tasks.UNDO, job_id, batch_id, err, "undo")
        return _undo_outcome(runtime, table, batch_id, echo, err)
    _follow(runtime, tasks.RUN, job_id, batch_id, err, "run")
    return _outcome(runtime, table, batch_id, errors_out, echo, err)


def undo_import(
    runtime: Runtime,
    table: str,
    batch_id: int,
    *,
    echo: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """``kizuna imports undo``: exit 0 when every change is undone, 1 when some were left
    (changed since) or the undo stopped, 2 when it cannot be undone."""
    actor = cli_principal("kizuna imports undo")
    try:
        with runtime.db.transaction() as session:
            job_id = services.start_undo(session, actor, table, batch_id, tasks.UNDO)
    except (Conflict, NotFound) as exc:
        err.write(f"Refused: {exc.detail}\n")
        return FILE_REFUSED
    _follow(runtime, tasks.UNDO, job_id, batch_id, err, "undo")
    return _undo_outcome(runtime, table, batch_id, echo, err)


def _undo_outcome(runtime: Runtime, table: str, batch_id: int, echo: TextIO, err: TextIO) -> int:
    with runtime.db.read() as session:
        batch = services.get_batch(session, table, batch_id)
        undo = batch.undo or {}
        if batch.state != "undone":
            echo.write((batch.message or f"The undo did not finish ({batch.state}).") + "\n")
            err.write(_stopped_hint(batch, table) + "\n")
            return SOME_REFUSED
    echo.write(
        f"Import {batch_id} undone: {undo.get('deleted', 0)} records deleted, "
        f"{undo.get('restored', 0)} fields restored, {undo.get('skipped_total', 0)} left as "
        "they are because they changed since.\n"
    )
    for s in undo.get("skipped", [])[:20]:
        field = f" {s['field']}" if s.get("field") else ""
        echo.write(f"  record {s['record_id']}{field}: {s['reason']}\n")
    return OK if not undo.get("skipped_total") else SOME_REFUSED
