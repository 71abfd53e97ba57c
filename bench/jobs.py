"""Job-table throughput against plain SQL, on SQLite and (if reachable) PostgreSQL.

* jobs: for N jobs, create → claim → complete with the real service functions (SQLModel
  sessions, one transaction for the claim and one for completion, as a worker does);
* units: one job of N units (a mailing), each claimed in a transaction of its own and its
  outcome recorded in another, as the runner does around every mail.

The peer runs the same statements as raw SQL through the same driver with the same
transactions. Both run in the same process on the same database, one after the other,
alternating which goes first. Prints items/s for each, and the ratio ours/peer.

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
from api.jobs.kinds import JobKind, UnitSpec
from api.jobs.models import UnitState
from api.migrate import upgrade

# No queue is attached to the database: the bench measures the database work only.
KIND = JobKind(name="bench.kind", side_effects=False, run=lambda ctx: None)
SENDS = JobKind(name="bench.sends", side_effects=True, per_unit=lambda unit: None)


def ours(db: Database, count: int) -> None:
    ids = []
    with db.transaction() as s:
        for _ in range(count):
            ids.append(services.create_job(s, KIND, {"n": 1}).id)
    for job_id in ids:
        with db.transaction() as s:
            services.claim(s, job_id, "bench-worker")
        with db.transaction() as s:
            services.complete(s, job_id, "bench-worker", {"ok": True})


def peer(db: Database, count: int) -> None:
    insert = sa.text(
        "INSERT INTO job (kind, state, payload, attempts, max_attempts,"
        " created_by, created_at, updated_at, run_after, enqueued_at)"
        " VALUES ('bench.kind', 'queued', :payload, 0, 1, '', :now, :now, :now, :now)"
        " RETURNING id"
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

    with db.engine.begin() as conn:
        ids = [conn.execute(insert, {"payload": '{"n": 1}', "now": now()}).scalar_one()
               for _ in range(count)]  # fmt: skip
    for job_id in ids:
        with db.engine.begin() as conn:
            conn.execute(claim, {"id": job_id, "now": now()})
        with db.engine.begin() as conn:
            conn.execute(complete, {"id": job_id, "result": '{"ok": true}', "now": now()})


def ours_units(db: Database, count: int) -> None:
    units = [UnitSpec(f"member{n}@example.jp", {"n": n}) for n in range(count)]
    with db.transaction() as s:
        job_id = services.create_job(s, SENDS, {}, units=units).id
    assert job_id is not None
    with db.transaction() as s:
        services.claim(s, job_id, "bench-worker")
    while True:
        with db.transaction() as s:
            batch = services.next_units(s, job_id, 100)
        if not batch:
            break
        for unit in batch:
            with db.transaction() as s:
                services.claim_unit(s, unit.id, "bench-worker")
            with db.transaction() as s:
                services.record_unit(s, unit.id, "bench-worker", UnitState.done, result={"ok": 1})


def peer_units(db: Database, count: int) -> None:
    sqlite = db.dialect == "sqlite"
    now = utcnow().replace(tzinfo=None) if sqlite else utcnow()
    with db.engine.begin() as conn:
        job_id = conn.execute(sa.text(
            "INSERT INTO job (kind, state, payload, attempts, max_attempts, created_by,"
            " created_at, updated_at, run_after, claimed_by) VALUES ('bench.sends', 'running',"
            " '{}', 1, 1, '', :now, :now, :now, 'bench-worker') RETURNING id"), {"now": now},
        ).scalar_one()  # fmt: skip
        conn.execute(
            sa.text("INSERT INTO job_unit (job_id, seq, key, payload, state, attempts)"
                    " VALUES (:job, :seq, :key, :payload, 'pending', 0)"),
            [{"job": job_id, "seq": n, "key": f"member{n}@example.jp", "payload": '{"n": 1}'}
             for n in range(count)],
        )  # fmt: skip
    select = sa.text("SELECT id FROM job_unit WHERE job_id=:job AND state='pending'"
                     " ORDER BY seq LIMIT 100")  # fmt: skip
    claim = sa.text("UPDATE job_unit SET state='running', claimed_by='bench-worker',"
                    " attempts=attempts+1 WHERE id=:id AND state='pending'")  # fmt: skip
    record = sa.text("UPDATE job_unit SET state='done', result=:result WHERE id=:id")
    count_up = sa.text("UPDATE job SET units_finished=units_finished+1 WHERE id=:job")
    while True:
        with db.engine.begin() as conn:
            batch = [row.id for row in conn.execute(select, {"job": job_id})]
        if not batch:
            break
        for unit_id in batch:
            with db.engine.begin() as conn:
                conn.execute(claim, {"id": unit_id})
            with db.engine.begin() as conn:
                conn.execute(record, {"id": unit_id, "result": '{"ok": 1}'})
                conn.execute(count_up, {"job": job_id})


def measure(fn: Callable[[Database, int], None], db: Database, count: int) -> float:
    start = time.perf_counter()
    fn(db, count)
    return count / (time.perf_counter() - start)


def run(label: str, url: str, count: int, rounds: int) -> None:
    db = Database(url)
    upgrade(db.engine)
    for what, pair in (("jobs", (ours, peer)), ("units", (ours_units, peer_units))):
        best = {"ours": 0.0, "peer": 0.0}
        for round_no in range(rounds):
            order = [("ours", pair[0]), ("peer", pair[1])]
            if round_no % 2:
                order.reverse()
            for name, fn in order:
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DELETE FROM job_unit")
                    conn.exec_driver_sql("DELETE FROM job")
                best[name] = max(best[name], measure(fn, db, count))
        ratio = best["ours"] / best["peer"]
        print(f"{label:<11} {what:<6} ours {best['ours']:8.0f}/s   peer (raw SQL) "
              f"{best['peer']:8.0f}/s   ratio {ratio:.2f}")  # fmt: skip
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"jobs: create → claim → complete; units: claim → record; {args.count} each,"
          f" best of {args.rounds} rounds")  # fmt: skip
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
