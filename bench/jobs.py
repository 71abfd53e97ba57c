"""Job-table throughput: Kizuna's create → claim → complete cycle against plain SQL.

For N jobs, ours runs the real service functions (SQLModel sessions, one transaction for the
claim and one for completion, as a worker does); the peer runs the same three statements
as raw SQL through the same driver with the same transactions. Both run in the same process
on the same database, one after the other, alternating which goes first. Prints jobs/s for
each, and the ratio ours/peer, on SQLite and (if reachable) PostgreSQL.

    .venv/bin/python bench/jobs.py [--count 2000] [--rounds 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from api.db import Database, make_engine, normalize_database_url, utcnow
from api.jobs import services
from api.migrate import upgrade

services.set_dispatcher(None)  # measure the database work only; nothing is enqueued


def ours(db: Database, count: int) -> None:
    ids = []
    with db.transaction() as s:
        for _ in range(count):
            ids.append(services.create_job(s, "bench.kind", {"n": 1}).id)
    for job_id in ids:
        with db.transaction() as s:
            services.claim(s, job_id, "bench-worker")
        with db.transaction() as s:
            services.complete(s, job_id, "bench-worker", {"ok": True})


def peer(db: Database, count: int) -> None:
    insert = sa.text(
        "INSERT INTO job (id, kind, state, payload, attempts, max_attempts, side_effects,"
        " created_by, created_at, updated_at, run_after, enqueued_at)"
        " VALUES (:id, 'bench.kind', 'queued',"
        " :payload, 0, 1, false, '', :now, :now, :now, :now)"
    )
    claim = sa.text(
        "UPDATE job SET state='running', claimed_by='bench-worker', claimed_at=:now,"
        " heartbeat_at=:now, updated_at=:now, attempts=attempts+1"
        " WHERE id=:id AND state='queued' AND run_after <= :now"
    )
    complete = sa.text(
        "UPDATE job SET state='done', result=:result, finished_at=:now, updated_at=:now"
        " WHERE id=:id AND state='running' AND claimed_by='bench-worker'"
    )
    sqlite = db.dialect == "sqlite"

    def now() -> object:
        value = utcnow()
        return value.replace(tzinfo=None) if sqlite else value

    ids = [secrets.token_hex(16) for _ in range(count)]
    with db.engine.begin() as conn:
        conn.execute(insert, [{"id": i, "payload": '{"n": 1}', "now": now()} for i in ids])
    for job_id in ids:
        with db.engine.begin() as conn:
            conn.execute(claim, {"id": job_id, "now": now()})
        with db.engine.begin() as conn:
            conn.execute(complete, {"id": job_id, "result": '{"ok": true}', "now": now()})


def measure(fn: Callable[[Database, int], None], db: Database, count: int) -> float:
    start = time.perf_counter()
    fn(db, count)
    return count / (time.perf_counter() - start)


def run(label: str, url: str, count: int, rounds: int) -> None:
    db = Database(url)
    upgrade(db.engine)
    best = {"ours": 0.0, "peer": 0.0}
    for round_no in range(rounds):
        order = [("ours", ours), ("peer", peer)]
        if round_no % 2:
            order.reverse()
        for name, fn in order:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM job")
            best[name] = max(best[name], measure(fn, db, count))
    db.dispose()
    ratio = best["ours"] / best["peer"]
    print(f"{label:<11} ours {best['ours']:8.0f} jobs/s   peer (raw SQL) {best['peer']:8.0f} jobs/s"
          f"   ratio {ratio:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"create → claim → complete, {args.count} jobs, best of {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.count, args.rounds)
    admin = sa.create_engine(normalize_database_url(args.postgres), isolation_level="AUTOCOMMIT")
    name = f"kizuna_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"PostgreSQL  skipped: {args.postgres} not reachable ({str(exc).splitlines()[0]})")
        return
    url = sa.engine.make_url(normalize_database_url(args.postgres)).set(database=name)
    try:
        run("PostgreSQL", url.render_as_string(hide_password=False), args.count, args.rounds)
    finally:
        make_engine(args.postgres, pool=False).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
