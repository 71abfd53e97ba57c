"""How long the access matrix takes to count the members each rule admits.

    .venv/bin/python bench/access_matrix.py [--rows 100000] [--postgres URL] [--no-sqlite]

Makes a member table (plan, specialty) through the services, fills it with ``--rows`` members
by one ``INSERT … SELECT``, puts every third member in the group ``doctors``, then times
``api.access.staff.count_members`` for five rules (public, members, a group, an ``in``, an
``and`` of two comparisons): one streamed pass in keyset batches, each rule evaluated in Python
with the gate's own code. The peer is the same five counts written by hand in SQL, in the same
run. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from api.access import staff
from api.access.rules import parse
from api.customers import services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.groups import services as groups
from api.migrate import upgrade
from api.principal import cli_principal
from api.runtime import build_runtime
from api.settings import load_settings

ACTOR = cli_principal("bench")
RULES = [
    "public",
    "members",
    "group:doctors",
    'plan in ("gold", "platinum")',
    'plan == "gold" and specialty == "oncology"',
]
PEER = [
    "SELECT count(*) FROM ct_members",
    "SELECT count(*) FROM ct_members",
    "SELECT count(*) FROM ct_members m JOIN member_group_membership g ON g.record_id = m.id "
    "AND g.table_id = :table AND g.group_id = :group",
    "SELECT count(*) FROM ct_members WHERE c_plan IN ('gold', 'platinum')",
    "SELECT count(*) FROM ct_members WHERE c_plan = 'gold' AND lower(c_specialty) = 'oncology'",
]


def timed(label: str, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<58} {seconds * 1000:10.1f} ms")
    return seconds


def fill(db: Database, rows: int, table_id: int, group_id: int) -> None:
    plans = "CASE n % 4 WHEN 0 THEN 'free' WHEN 1 THEN 'gold' WHEN 2 THEN 'platinum' ELSE NULL END"
    specialty = "CASE n % 3 WHEN 0 THEN 'oncology' WHEN 1 THEN 'Cardiology' ELSE NULL END"
    series = (
        "generate_series(1, :n) n"
        if db.dialect == "postgresql"
        else "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
        "SELECT n FROM s)"
    )
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO ct_members (c_email, c_plan, c_specialty) "
                f"SELECT 'm' || n || '@example.jp', {plans}, {specialty} FROM {series}"
            ),
            {"n": rows},
        )
        conn.execute(
            sa.text(
                "INSERT INTO member_group_membership (group_id, table_id, record_id) "
                "SELECT :group, :table, id FROM ct_members WHERE id % 3 = 0"
            ),
            {"group": group_id, "table": table_id},
        )


def run(url: str, rows: int, var_dir: Path) -> None:
    runtime = build_runtime(
        load_settings(env="test", database_url=url, var_dir=var_dir, redis_url="", smtp_url="")
    )
    db = runtime.db
    upgrade(db.engine)
    print(f"{db.dialect}: {rows:,} members, {len(RULES)} rules")
    with db.transaction() as session:
        design = services.create_table(
            session,
            ACTOR,
            parse_table({"key": "members", "is_member_table": True}),
            [
                parse_field({"key": "email", "type": "email"}),
                parse_field(
                    {"key": "plan", "type": "select", "choices": ["free", "gold", "platinum"]}
                ),
                parse_field({"key": "specialty", "type": "text"}),
            ],
        )
        group = groups.create_group(session, ACTOR, "doctors", "Doctors")
        table_id, group_id = int(design.table.id or 0), int(group.id or 0)
    timed("fill by INSERT … SELECT", lambda: fill(db, rows, table_id, group_id))
    rules = [parse(r) for r in RULES]
    found: dict[str, int] = {}

    def count() -> None:
        staff._count_cache.clear()
        with db.read() as session:
            found.update(staff.count_members(session, rules).by_rule)

    ours = timed("count_members: one streamed pass, rules in Python", count)
    peer_counts: list[int] = []

    def peer() -> None:
        with db.engine.connect() as conn:
            for sql in PEER:
                value = conn.execute(sa.text(sql), {"table": table_id, "group": group_id})
                peer_counts.append(int(value.scalar_one()))

    theirs = timed("  peer: the five counts hand-written in SQL", peer)
    cached = timed("count_members again (cached: the fingerprint only)", lambda: _cached(db, rules))
    print(f"  counts: {dict(zip(RULES, found.values(), strict=True))}")
    print(f"  peer:   {peer_counts}")
    print(f"  ratio ours / peer: {ours / theirs:.1f}x; cached / peer: {cached / theirs:.2f}x")
    db.dispose()


def _cached(db: Database, rules: list[object]) -> None:
    with db.read() as session:
        staff.count_members(session, rules)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run(f"sqlite:///{tmp}/bench.db", args.rows, Path(tmp) / "var-sqlite")
        if args.postgres:
            run(args.postgres, args.rows, Path(tmp) / "var-pg")


if __name__ == "__main__":
    main()
