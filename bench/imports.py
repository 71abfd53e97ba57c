"""CSV import through Kizuna beside the database's own bulk path, in the same run.

    .venv/bin/python bench/imports.py [--rows 1000000] [--sqlite-rows 100000]
        [--postgres URL] [--no-sqlite] [--no-postgres]

Generates a CSV of ``--rows`` customers with 25 fields (UTF-8; names, kana, e-mail, phone,
prefecture, dates, numbers, booleans, free text), designs the same 25-field ``customers``
table through the services, and times:

* **ours**: the whole import as a person runs it: ``create_batch`` (the encoding checked over
  the file, every row counted) and the ``imports.run`` job in chunks (validation and
  normalisation by ``api/fields``, keys, history rows, search data), upsert by e-mail, run in
  a child process whose peak RSS is read with ``resource.getrusage(RUSAGE_CHILDREN)``;
* **peer (PostgreSQL)**: ``COPY`` of the same file into an UNLOGGED staging table of text
  columns, then ``INSERT … SELECT`` with casts ``ON CONFLICT (email) DO UPDATE`` into a plain
  table of the same 25 typed columns (no history, no search, no validation);
* **peer (SQLite)**: ``executemany`` of the rows already typed (parsed beforehand, not timed)
  into a plain table with the same columns;

and prints rows/s of each, the ratio ours/peer, our peak memory, and where our time goes:
reading and decoding the CSV, validating and normalising every cell, the rest (matching,
writing records, history and search data, committing chunks).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.customers import services  # noqa: E402
from api.customers.definitions import parse_field, parse_table  # noqa: E402
from api.db import Database, make_engine  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.principal import cli_principal  # noqa: E402

ACTOR = cli_principal("bench")
PREFECTURES = ["北海道", "宮城県", "東京都", "神奈川県", "愛知県", "大阪府", "福岡県", "沖縄県"]
SURNAMES = ["佐藤", "鈴木", "髙橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田"]
GIVEN = ["太郎", "花子", "一郎", "美咲"]
KANA = ["サトウ タロウ", "ｽｽﾞｷ ﾊﾅｺ", "たかはし いちろう", "タナカ ミサキ"]
EXTRA = [f"extra_{i}" for i in range(15)]
FIELDS: list[dict[str, Any]] = [
    {"key": "name", "type": "text", "indexed": True},
    {"key": "kana", "type": "furigana"},
    {"key": "email", "type": "email", "unique": True},
    {"key": "prefecture", "type": "select", "choices": PREFECTURES, "indexed": True},
    {"key": "score", "type": "integer", "indexed": True},
    {"key": "born", "type": "date"},
    {"key": "vip", "type": "boolean"},
    {"key": "spent", "type": "decimal"},
    {"key": "last_seen", "type": "datetime", "indexed": True},
    {"key": "phone", "type": "phone"},
    *({"key": k, "type": "text"} for k in EXTRA),
]
assert len(FIELDS) == 25
HEADER = [f["key"] for f in FIELDS]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(16)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
                    rng.choice(KANA),
                    f"user{n}@Example.com" if n % 10 else f" ＵＳＥＲ{n}＠ＥＸＡＭＰＬＥ．ＣＯＭ",
                    rng.choice(PREFECTURES),
                    str(rng.randint(0, 100)),
                    f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    rng.choice(["TRUE", "FALSE", "はい", ""]),
                    f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}",
                    f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d} 12:34",
                    f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    *(f"メモ {rng.randint(0, 999)} {i}" for i in range(15)),
                ]
            )


def design(db: Database) -> None:
    with db.transaction() as session:
        services.create_table(
            session, ACTOR, parse_table({"key": "customers"}), [parse_field(f) for f in FIELDS]
        )


# ------------------------------------------------------------------------- ours (a child)


def child(url: str, file: Path, var: Path) -> None:
    """Runs in a child process: phases timed separately, then the whole import."""
    from api.imports import services as imports
    from api.imports import tasks
    from api.imports.engine import Validator
    from api.jobs.runner import run_job
    from api.runtime import build_runtime
    from api.settings import Settings
    from api.tabular.reader import open_table

    runtime = build_runtime(Settings(database_url=url, var_dir=var, env="test"))
    # where the time goes: reading + decoding alone, then + validation and normalisation
    start = time.perf_counter()
    with open_table(file) as table:
        for _ in table.rows():
            pass
    read = time.perf_counter() - start
    with runtime.db.read() as session:
        design = services.load_design(session, "customers")
    start = time.perf_counter()
    with open_table(file) as table:
        mapping = {str(i): k for i, k in enumerate(HEADER)}
        columns = [(int(i), design.specs[k]) for i, k in mapping.items()]
        from api.imports.engine import Plan

        validator = Validator(Plan(design, columns, [design.specs["email"]], "upsert"))
        for row in table.rows():
            validator.row(row.number, row.cells, row.problem)
    validated = time.perf_counter() - start
    # the import itself, its steps timed by wrapping them (in this child only)
    phases = _time_phases()
    start = time.perf_counter()
    target = imports._target(runtime.settings.imports_dir)
    shutil.copyfile(file, target)  # as the upload streams it: never the whole file in memory
    received = imports.Received(target, file.name, target.stat().st_size)
    with runtime.db.transaction() as session:
        batch = imports.create_batch(session, ACTOR, "customers", received)
        assert batch.id is not None
        batch_id = batch.id
        job_id = imports.start_run(session, ACTOR, "customers", batch_id, tasks.RUN)
    uploaded = time.perf_counter() - start
    run_job(runtime, tasks.RUN, job_id)
    total = time.perf_counter() - start
    with runtime.db.read() as session:
        done = imports.get_batch(session, "customers", batch_id)
        result = imports.result_of(done)
    runtime.close()
    print(json.dumps({"read": read, "validated": validated, "upload": uploaded,
                      "total": total, "result": result, "phases": phases}))  # fmt: skip


def _time_phases() -> dict[str, float]:
    """Wrap the run's steps with timers: validation (the validator, per row), matching
    (classify: key lookups, changes), records (ids + COPY/executemany), history rows, search
    data and match keys (``search.index_rows`` / ``index_records``). Nested steps are counted
    once, in the innermost."""
    from api.customers import search
    from api.imports import engine

    phases: dict[str, float] = {}
    stack: list[float] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            begun = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                took = time.perf_counter() - begun
                nested = stack.pop()
                phases[label] = phases.get(label, 0.0) + took - nested
                if stack:
                    stack[-1] += took

        setattr(owner, name, timed)

    wrap(engine.Validator, "row", "validate")
    wrap(engine, "classify", "match")
    wrap(engine, "_insert_records", "records")
    wrap(engine, "_insert_history", "history")
    wrap(search, "index_rows", "search data + match keys")
    wrap(search, "index_records", "search data + match keys")
    return phases


def ours(url: str, file: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as var:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out = subprocess.run(
            [sys.executable, __file__, "--child", url, str(file), var],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["peak_mb"] = max(peak, before) / 1024
    return figures


# ------------------------------------------------------------------------- peers

PG_TYPES = {
    "text": "text", "furigana": "text", "email": "text", "select": "text", "phone": "text",
    "integer": "integer", "date": "date", "boolean": "boolean", "decimal": "numeric(18,2)",
    "datetime": "timestamptz",
}  # fmt: skip


def pg_peer(url: str, file: Path) -> float:
    import psycopg

    columns = ", ".join(
        f"{f['key']} {PG_TYPES[f['type']]}" + (" UNIQUE" if f.get("unique") else "") for f in FIELDS
    )
    staging = ", ".join(f"{k} text" for k in HEADER)
    casts = ", ".join(
        f"NULLIF({k}, '')::{PG_TYPES[f['type']]}" if f["type"] != "boolean" else
        f"CASE WHEN {k} IN ('TRUE','はい') THEN true WHEN {k} = 'FALSE' THEN false END"
        for k, f in zip(HEADER, FIELDS, strict=True)
    )  # fmt: skip
    updates = ", ".join(f"{k} = EXCLUDED.{k}" for k in HEADER if k != "email")
    with psycopg.connect(sa.make_url(url).set(drivername="postgresql").render_as_string(False),
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f"CREATE TABLE plain (id bigserial PRIMARY KEY, {columns})")
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(f"CREATE UNLOGGED TABLE staging ({staging})")
            with conn.cursor() as cur, cur.copy(
                "COPY staging FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy, file.open("rb") as fh:  # fmt: skip
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            conn.execute(
                f"INSERT INTO plain ({', '.join(HEADER)}) SELECT {casts} FROM staging "
                f"ON CONFLICT (email) DO UPDATE SET {updates}"
            )
        took = time.perf_counter() - start
        conn.execute("DROP TABLE staging")
        return took


def sqlite_peer(url: str, file: Path) -> float:
    import sqlite3

    path = sa.make_url(url).database
    rows: list[tuple[Any, ...]] = []
    with file.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for cells in reader:
            rows.append(
                (cells[0], cells[1], cells[2].strip().lower(), cells[3], int(cells[4]),
                 date.fromisoformat(cells[5]).isoformat(), cells[6] in ("TRUE", "はい"),
                 str(Decimal(cells[7])), datetime.fromisoformat(cells[8]).isoformat(),
                 cells[9], *cells[10:])
            )  # fmt: skip
    conn = sqlite3.connect(str(path))
    conn.execute(
        f"CREATE TABLE plain (id INTEGER PRIMARY KEY, {', '.join(HEADER)}, UNIQUE (email))"
    )
    marks = ", ".join("?" for _ in HEADER)
    start = time.perf_counter()
    with conn:
        conn.executemany(f"INSERT INTO plain ({', '.join(HEADER)}) VALUES ({marks})", rows)
    took = time.perf_counter() - start
    conn.close()
    return took


def report(dialect: str, rows: int, figures: dict[str, Any], peer: float, peer_name: str) -> None:
    total = figures["total"]
    ours_rate, peer_rate = rows / total, rows / peer
    print(f"{dialect}: {rows:,} rows × 25 fields, upsert by e-mail")
    print(f"  ours (upload check + job, validated, history, search): {total:7.1f} s "
          f"{ours_rate:9,.0f} rows/s   peak memory {figures['peak_mb']:.0f} MB")  # fmt: skip
    print(f"  peer ({peer_name}): {peer:7.1f} s {peer_rate:9,.0f} rows/s")
    print(f"  ratio ours/peer (rows/s): {ours_rate / peer_rate:.2f}")
    read, validated = figures["read"], figures["validated"]
    print(f"  where our time goes: read+decode {read:.1f} s, validate+normalise "
          f"{validated - read:.1f} s, upload survey {figures['upload']:.1f} s, match+write+commit "
          f"{total - figures['upload'] - validated:.1f} s")  # fmt: skip
    phases = figures.get("phases") or {}
    if phases:
        job = total - figures["upload"]
        shown = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(phases.items(), key=lambda x: -x[1]))
        print(
            f"  inside the run ({job:.1f} s): {shown}, the rest (reading the file, chunk "
            f"transactions, commits, refused rows) {job - sum(phases.values()):.1f} s"
        )
    print(f"  result: {figures['result']}")


def run(url: str, rows: int, peer_url: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "customers.csv"
        generate(file, rows)
        db = Database(url)
        upgrade(db.engine)
        design(db)
        dialect = db.dialect
        db.dispose()
        figures = ours(url, file)
        if dialect == "postgresql":
            peer = pg_peer(url, file)
            report(dialect, rows, figures, peer, "COPY to unlogged staging + INSERT … ON CONFLICT")
        else:
            peer = sqlite_peer(peer_url or url, file)
            report(dialect, rows, figures, peer, "executemany of prepared rows")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="PostgreSQL rows")
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.sqlite_rows,
                f"sqlite:///{Path(tmp) / 'peer.db'}")  # fmt: skip
    if not args.no_postgres:
        name = f"kizuna_bench_{secrets.token_hex(4)}"
        admin = make_engine(args.postgres, pool=False).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            run(sa.make_url(args.postgres).set(database=name).render_as_string(False), args.rows)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
