"""Exporting customers to CP932 CSV through the export service, beside the database's own dump.

    .venv/bin/python bench/exports.py [--rows 1000000] [--sqlite-rows 100000]
        [--postgres URL] [--no-sqlite] [--no-postgres] [--repeat 3]

Designs the 25-field ``customers`` table of ``bench/customers_list.py``, fills it by
``INSERT … SELECT``, then in the same run:

* **ours**: ``api.exports.services.export_file`` of the whole table (every field, labels in
  Japanese, datetimes in JST, choices by label, CP932 with gaps checked) — in a child process,
  so its peak RSS (``ru_maxrss``) is the export's alone;
* **peer, PostgreSQL**: ``COPY (SELECT <the same columns> FROM ct_customers ORDER BY id DESC)
  TO STDOUT (FORMAT csv, HEADER)`` through psycopg into a file (UTF-8: the server has no CP932);
* **peer, SQLite**: the same SELECT through ``sqlite3`` and ``csv.writer`` into a CP932 file.

Prints each time, rows/s, the ratio ours ÷ peer and the child's peak RSS at two sizes (a tenth
of the rows, and all of them), which shows whether memory grows with the rows. ``--repeat N``
runs N rounds of (peer, ours) one after the other, so that load from elsewhere on the shared
machine falls on both alike, and prints each round's ratio and the median of the rounds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.db import Database, make_engine
from api.migrate import upgrade
from api.principal import cli_principal
from bench.customers_list import design, fill

ACTOR = cli_principal("bench")


def ours(url: str, out: str, limit: int | None) -> dict[str, Any]:
    """In the child: one export of the table (or of its ``limit`` newest records)."""
    from api.customers.record_set import record_set
    from api.exports import services

    db = Database(url)
    options = services.parse_options(encoding="cp932", replace=True)
    start = time.perf_counter()
    with db.read() as session:
        where = None
        if limit is not None:
            table = sa.table("ct_customers", sa.column("id"))
            top = session.connection().execute(sa.select(sa.func.max(table.c.id))).scalar_one()
            where = {"field": "id", "op": "gt", "value": int(top) - limit}
        rs = record_set(session, ACTOR, "customers", where=where)
        with open(out, "wb") as stream:
            result = services.write(session, rs, options, stream, batch=5_000)
    taken = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": result.rows, "seconds": taken, "rss_mb": rss, "bytes": os.path.getsize(out)}


def child(url: str, out: str, limit: int | None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", url, "--out", out]
    if limit is not None:
        args += ["--limit", str(limit)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


COLUMNS = (
    "id, c_name, c_kana, c_email, c_prefecture, c_score, c_born, c_vip, c_spent, "
    "c_last_seen, c_phone, {extras}, status, owner_id, created_at, updated_at"
)


def columns() -> str:
    return COLUMNS.format(extras=", ".join(f"c_extra_{i}" for i in range(15)))


def peer_postgres(url: str, out: str) -> float:
    import psycopg

    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
    start = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(out, "wb") as fh:
        query = (
            f"COPY (SELECT {columns()} FROM ct_customers ORDER BY id DESC) "
            "TO STDOUT (FORMAT csv, HEADER)"
        )
        with cur.copy(query) as copy:
            for block in copy:
                fh.write(block)
    return time.perf_counter() - start


def peer_sqlite(path: str, out: str) -> float:
    import sqlite3

    start = time.perf_counter()
    conn = sqlite3.connect(path)
    cur = conn.execute(f"SELECT {columns()} FROM ct_customers ORDER BY id DESC")
    with open(out, "w", encoding="cp932", errors="replace", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([d[0] for d in cur.description])
        while batch := cur.fetchmany(5_000):
            writer.writerows(batch)
    conn.close()
    return time.perf_counter() - start


def rounds(n: int, peer: Any, mine: Any) -> tuple[float, dict[str, Any]]:
    """``n`` interleaved rounds of (peer, ours); the round with the median ratio."""
    done: list[tuple[float, float, dict[str, Any]]] = []
    for i in range(n):
        p = peer()
        m = mine()
        done.append((m["seconds"] / p, p, m))
        print(
            f"  round {i + 1}: peer {p:6.2f} s, ours {m['seconds']:6.2f} s, ×{m['seconds'] / p:.2f}"
        )
    done.sort(key=lambda r: r[0])
    _, p, m = done[len(done) // 2]
    return p, m


def report(db_name: str, rows: int, mine: dict[str, Any], small: dict[str, Any], peer: float,
           peer_label: str) -> None:  # fmt: skip
    print(f"{db_name}: {rows:,} customers of 25 fields (the median round)")
    print(f"  peer: {peer_label:<60} {peer:7.2f} s  {rows / peer:>9,.0f} rows/s")
    print(
        f"  ours: export_file, CP932, labels, JST{'':<34} {mine['seconds']:7.2f} s  "
        f"{rows / mine['seconds']:>9,.0f} rows/s   ×{mine['seconds'] / peer:.2f}"
    )
    print(
        f"  ours: peak RSS {small['rss_mb']:.0f} MB at {small['rows']:,} rows, "
        f"{mine['rss_mb']:.0f} MB at {mine['rows']:,} rows; file {mine['bytes'] / 1e6:.0f} MB"
    )


def run_postgres(url: str, rows: int, tmp: str, repeat: int) -> None:
    name = f"bench_exports_{os.getpid()}"
    admin = make_engine(url, pool=False).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    target = sa.make_url(url).set(database=name).render_as_string(False)
    try:
        db = Database(target)
        upgrade(db.engine)
        design(db)
        fill(db, rows)
        db.engine.dispose()
        out = str(Path(tmp) / "pg.csv")
        small = child(target, out, rows // 10)
        peer, mine = rounds(
            repeat, lambda: peer_postgres(target, out), lambda: child(target, out, None)
        )
        report("PostgreSQL", rows, mine, small, peer, "COPY (SELECT …) TO STDOUT (FORMAT csv)")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_sqlite(rows: int, tmp: str, repeat: int) -> None:
    path = str(Path(tmp) / "bench.db")
    url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db.engine)
    design(db)
    fill(db, rows)
    db.engine.dispose()
    out = str(Path(tmp) / "sqlite.csv")
    small = child(url, out, rows // 10)
    peer, mine = rounds(repeat, lambda: peer_sqlite(path, out), lambda: child(url, out, None))
    report("SQLite", rows, mine, small, peer, "sqlite3 SELECT + csv.writer (cp932)")
    # The filled table repeats its times and amounts (1,000 values of last_seen and spent, one
    # created_at), which the export's memo of converted values likes. Every value different:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE ct_customers SET "
        "c_last_seen = strftime('%Y-%m-%d %H:%M:%f', '2020-01-01', (id * 317) || ' seconds'), "
        "created_at = strftime('%Y-%m-%d %H:%M:%f', '2024-01-01', (id * 61) || ' seconds'), "
        "updated_at = strftime('%Y-%m-%d %H:%M:%f', '2025-01-01', (id * 7) || ' seconds'), "
        "c_spent = id / 100.0"
    )
    conn.commit()
    conn.close()
    print("SQLite, every time and amount different:")
    peer, mine = rounds(repeat, lambda: peer_sqlite(path, out), lambda: child(url, out, None))
    report("SQLite", rows, mine, small, peer, "sqlite3 SELECT + csv.writer (cp932)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of (peer, ours)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(ours(args.child, args.out, args.limit)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run_sqlite(args.sqlite_rows, tmp, args.repeat)
        if not args.no_postgres:
            run_postgres(args.postgres, args.rows, tmp, args.repeat)


if __name__ == "__main__":
    main()
