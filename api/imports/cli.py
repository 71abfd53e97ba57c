"""``kizuna import``: the same batch, dry run, run (a job run in this process) and error report
as the admin, for scripts and cron. Exit 0: every row in; 1: some rows refused (the report is
written; the valid rows are in unless all or nothing); 2: the file or its mapping refused."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from api.errors import NotFound, ValidationFailed
from api.fields.messages import localize
from api.imports import services, tasks
from api.imports.models import CustomerImport
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


def _progress(runtime: Runtime, batch_id: int, stop: threading.Event, out: TextIO) -> None:
    started = time.monotonic()
    while True:
        stopped = stop.wait(0.5)
        with runtime.db.read() as session:
            batch = session.get(CustomerImport, batch_id)
            if batch is None:
                return
            done, total = batch.rows_done, batch.rows_total
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate else 0
        share = 100 * done // total if total else 100
        out.write(f"\r{done:,}/{total:,} rows ({share}%), {rate:,.0f} rows/s, ETA {eta:,.0f} s ")
        out.flush()
        if stopped:  # the last line says where the run ended
            return


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
        with runtime.db.read() as session:
            batch = services.get_batch(session, table, batch_id)
            check = services.check_batch(session, imports_dir, batch, actor)
        echo.write(summary(check) + "\n")
        for e in check["errors"][:20]:
            column = f"column {e['column']}, " if e["column"] else ""
            echo.write(f"  row {e['row']}: {column}{e['message']}\n")
        return OK if not (check["invalid"] or check["duplicate_keys"]) else SOME_REFUSED
    with runtime.db.transaction() as session:
        job_id = services.start_run(
            session, actor, table, batch_id, tasks.RUN, all_or_nothing=all_or_nothing
        )
    stop = threading.Event()
    watcher = threading.Thread(target=_progress, args=(runtime, batch_id, stop, err), daemon=True)
    watcher.start()
    try:
        run_job(runtime, tasks.RUN, job_id)
    finally:
        stop.set()
        watcher.join()
        err.write("\n")
    with runtime.db.read() as session:
        batch = services.get_batch(session, table, batch_id)
        refused = batch.invalid + batch.duplicate_keys
        if batch.message:
            echo.write(batch.message + "\n")
        echo.write(summary(batch) + "\n")
        if refused and errors_out is not None:
            with errors_out.open("wb") as out:
                services.error_report(session, table, batch_id, out)
            echo.write(f"The refused rows and their reasons are in {errors_out}.\n")
        if batch.state not in ("done", "failed"):
            err.write(f"The import stopped ({batch.state}); run the job again to resume.\n")
            return SOME_REFUSED
    return OK if not refused else SOME_REFUSED
