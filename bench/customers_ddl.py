"""How long the customer database's design changes take on a table with many records.

    .venv/bin/python bench/customers_ddl.py [--rows 100000] [--postgres URL] [--no-sqlite]

Creates a ``customers`` table through the services, fills it with ``--rows`` records by one
``INSERT … SELECT`` (which also proves the server-side defaults of the data tables), then times:
adding a field (``ALTER TABLE ADD COLUMN``), adding an indexed field, and a type change of a
text field holding numbers to integer (check every value, then swap the column). The peer is
the same change written by hand in SQL in the same run: ``ADD COLUMN`` and, on PostgreSQL,
``ALTER COLUMN … TYPE bigint USING``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from api.customers import services, type_change
from api.customers.definitions import parse_field, parse_table
from api.db import Database, make_engine
from api.jobs import services as jobs
from api.jobs.runner import run_job
from api.migrate import upgrade
from api.principal import cli_principal
from api.runtime import build_runtime
from api.settings import load_settings

ACTOR = cli_principal("bench")


def timed(label: str, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<58} {seconds * 1000:10.1f} ms")
    return seconds


def fill(db: Database, rows: int) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                sa.text(
                    "INSERT INTO ct_customers (c_name, c_age) "
                    "SELECT 'customer ' || n, CAST(n % 90 AS TEXT) FROM generate_series(1, :n) n"
                ),
                {"n": rows},
            )
        else:
            conn.execute(
                sa.text(
                    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
                    "INSERT INTO ct_customers (c_name, c_age) "
                    "SELECT 'customer ' || n, CAST(n % 90 AS TEXT) FROM s"
                ),
                {"n": rows},
            )


def run(url: str, rows: int, var_dir: Path) -> None:
    runtime = build_runtime(
        load_settings(env="test", database_url=url, var_dir=var_dir, redis_url="", smtp_url="")
    )
    db = runtime.db
    upgrade(db.engine)
    print(f"{db.dialect}: {rows:,} records")
    with db.transaction() as session:
        services.create_table(
            session,
            ACTOR,
            parse_table({"key": "customers"}),
            [
                parse_field({"key": "name", "type": "text"}),
                parse_field({"key": "age", "type": "text"}),
                parse_field({"key": "age2", "type": "text"}),
            ],
        )
    timed("fill by INSERT … SELECT (server defaults)", lambda: fill(db, rows))
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ct_customers SET c_age2 = c_age")

    def add(spec: dict[str, object]) -> Callable[[], None]:
        def go() -> None:
            with db.transaction() as session:
                services.add_field(session, ACTOR, "customers", parse_field(spec))

        return go

    timed("add a field (ALTER TABLE ADD COLUMN)", add({"key": "note", "type": "text"}))
    timed(
        "add an indexed field (ADD COLUMN + CREATE INDEX)",
        add({"key": "rank", "type": "integer", "indexed": True}),
    )
    with db.engine.begin() as conn:
        timed("  peer: hand-written ADD COLUMN", lambda: conn.exec_driver_sql(
            "ALTER TABLE ct_customers ADD COLUMN peer_note TEXT"))  # fmt: skip

    def check() -> None:
        with db.read() as session:
            services.check_field_change(
                session, "customers", "age", parse_field({"key": "age", "type": "integer"})
            )

    def change() -> None:
        with db.transaction() as session:
            services.update_field(
                session, ACTOR, "customers", "age", parse_field({"key": "age", "type": "integer"})
            )

    timed("check a text → integer change (every value normalised)", check)
    timed("text → integer in the request (check; cast or add-copy-swap)", change)

    def as_job() -> None:
        saved = services.TYPE_CHANGE_JOB_ROWS
        services.TYPE_CHANGE_JOB_ROWS = 0  # the same change, as the job a large table gets
        try:
            with db.transaction() as session:
                job_id = services.update_field(
                    session, ACTOR, "customers", "age2",
                    parse_field({"key": "age2", "type": "integer"}),
                ).job_id  # fmt: skip
        finally:
            services.TYPE_CHANGE_JOB_ROWS = saved
        assert job_id is not None
        run_job(runtime, type_change.KIND, job_id)
        with db.read() as session:
            job = jobs.get_job(session, job_id)
            print(f"    job {job_id}: {job.state}, {job.units_total} units")

    timed("the same change as a job (check; chunks of 10,000; swap)", as_job)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE ct_customers ADD COLUMN peer_age TEXT")
            conn.exec_driver_sql("UPDATE ct_customers SET peer_age = CAST(c_age AS TEXT)")
        alter = (
            "ALTER TABLE ct_customers ALTER COLUMN peer_age TYPE bigint "
            "USING CAST(peer_age AS bigint)"
        )
        with db.engine.begin() as conn:
            timed(
                "  peer: ALTER COLUMN TYPE bigint USING (no per-row report)",
                lambda: conn.exec_driver_sql(alter),
            )
    runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.rows, Path(tmp) / "var")
    if args.postgres:
        name = f"kizuna_bench_{secrets.token_hex(4)}"
        admin = make_engine(args.postgres, pool=False).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                url = sa.make_url(args.postgres).set(database=name).render_as_string(False)
                run(url, args.rows, Path(tmp) / "var")
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
