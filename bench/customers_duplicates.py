"""Likely duplicates at a million records: the match keys built, a page of groups, a record's
duplicates, and a merge — beside the same lookups hand-written.

    .venv/bin/python bench/customers_duplicates.py [--rows 1000000] [--sqlite-rows 100000]
        [--queries 20] [--postgres URL | --postgres ""] [--no-sqlite]

Designs ``companies``, ``customers`` (name, kana, e-mail, phone, company reference, 5 more
text fields) and ``purchases`` through the services; fills them by ``INSERT … SELECT`` with
about 3% of the customers duplicating another (1% the same e-mail, 1% the same phone grouped
otherwise, 1% the same name with 髙 for 高 at the same company); ANALYZEs; then times:

* ``duplicates.rebuild``: every record's match keys folded in Python (``search_key``,
  ``phone_digits``: the one place of each rule) and bulk-inserted — rows/s;
* the first page of 20 groups (``find_groups``: the GROUP BY over the key index, each group's
  members, their other keys, their records) and the 10th page by cursor, beside the bare
  blocking query hand-written (the same GROUP BY … HAVING … LIMIT over the key table) and
  beside PostgreSQL grouping the data table's e-mail column directly (no key table: a full
  scan, what "computed in SQL at query time" would cost even for the one key SQL can compute);
* a record's duplicates (``record_duplicates``) beside the hand-written key lookup;
* a merge of two records with purchases moved (``merge_records``), rolled back.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from benchkit import compare, line, scratch_postgres

from api.customers import duplicates, merge, services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.migrate import upgrade
from api.principal import cli_principal

ACTOR = cli_principal("bench")
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健", "陽菜", "翔太", "さくら"]
EXTRA = [f"extra_{i}" for i in range(5)]
COMPANIES = 5_000


def design(db: Database) -> None:
    fields = [
        {"key": "name", "type": "text", "indexed": True},
        {"key": "kana", "type": "furigana"},
        {"key": "email", "type": "email"},
        {"key": "phone", "type": "phone"},
        {"key": "company", "type": "reference", "references": "companies"},
        *({"key": k, "type": "text"} for k in EXTRA),
    ]
    with db.transaction() as session:
        services.create_table(
            session,
            ACTOR,
            parse_table({"key": "companies"}),
            [parse_field({"key": "name", "type": "text"})],
        )
        services.create_table(
            session, ACTOR, parse_table({"key": "customers"}), [parse_field(f) for f in fields]
        )
        services.create_table(
            session,
            ACTOR,
            parse_table({"key": "purchases"}),
            [
                parse_field({"key": "customer", "type": "reference", "references": "customers"}),
                parse_field({"key": "amount", "type": "integer"}),
            ],
        )


def fill(db: Database, rows: int) -> None:
    surnames = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(SURNAMES))
    given = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(GIVEN))
    extras = ", ".join(f"c_{k}" for k in EXTRA)
    extra_values = ", ".join(f"'value {i} ' || n" for i in range(len(EXTRA)))
    if db.dialect == "postgresql":
        series = "FROM generate_series(1, :n) AS g(n)"
        with_clause = ""
        pad = "lpad((n % 10000)::text, 4, '0')"
        pad2 = "lpad(((n - 1) % 10000)::text, 4, '0')"
    else:
        series = "FROM s"
        with_clause = (
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
        )
        pad = "substr('0000' || (n % 10000), -4)"
        pad2 = "substr('0000' || ((n - 1) % 10000), -4)"
    # Record n's name, e-mail and phone; every 100th repeats its neighbour's e-mail, the next
    # its neighbour's phone grouped otherwise, the next its neighbour's name with 髙 at the
    # same company. (Constants of this script, not input.)
    name = f"CASE n % 10 {surnames} END || ' ' || CASE n % 8 {given} END || n"
    prev_name = f"CASE (n - 1) % 10 {surnames} END || CASE (n - 1) % 8 {given} END || (n - 1)"
    insert = (
        f"{with_clause}INSERT INTO ct_customers (c_name, c_kana, c_email, c_phone, c_company, "
        f"{extras}) SELECT "
        f"CASE WHEN n % 100 = 3 THEN replace({prev_name}, '高', '髙') ELSE {name} END, 'カナ', "
        f"CASE WHEN n % 100 = 1 THEN 'c' || (n - 1) || '@example.jp' ELSE 'c' || n || "
        f"'@example.jp' END, "
        f"CASE WHEN n % 100 = 2 THEN '0' || (3 + (n - 1) % 7) || '' || {pad2} || "
        f"lpad(((n - 1) / 10000 % 10000)::text, 4, '0') "
        f"ELSE '0' || (3 + n % 7) || '-' || {pad} || '-' || "
        f"lpad((n / 10000 % 10000)::text, 4, '0') END, "
        f"CASE WHEN n % 100 = 3 THEN 1 + (n - 1) % {COMPANIES} ELSE 1 + n % {COMPANIES} END, "
        f"{extra_values} {series}"
    )
    if db.dialect == "sqlite":
        insert = insert.replace(
            "lpad(((n - 1) / 10000 % 10000)::text, 4, '0')",
            "substr('0000' || ((n - 1) / 10000 % 10000), -4)",
        ).replace(
            "lpad((n / 10000 % 10000)::text, 4, '0')", "substr('0000' || (n / 10000 % 10000), -4)"
        )
    companies = "INSERT INTO ct_companies (c_name) SELECT 'company ' || n " + (
        "FROM generate_series(1, :c) AS g(n)"
        if db.dialect == "postgresql"
        else "FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
        "WHERE n < :c) SELECT n FROM s)"
    )
    with db.engine.begin() as conn:
        conn.execute(sa.text(companies), {"c": COMPANIES})
        conn.execute(sa.text(insert), {"n": rows})
        conn.execute(
            sa.text(
                "INSERT INTO ct_purchases (c_customer, c_amount) "
                "SELECT id, id % 1000 FROM ct_customers WHERE id % 10 < 3"
            )
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def run(url: str, rows: int, queries: int) -> None:
    db = Database(url)
    upgrade(db.engine)
    design(db)
    start = time.perf_counter()
    fill(db, rows)
    print(f"{db.dialect}: {rows:,} customers (filled in {time.perf_counter() - start:.1f} s)")

    start = time.perf_counter()
    with db.transaction() as session:
        design_ = services.load_design(session, "customers")
        keys = duplicates.rebuild(session.connection(), design_)
    taken = time.perf_counter() - start
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    print(
        f"  match keys built: {keys:,} keys for {rows:,} records in {taken:.1f} s "
        f"({rows / taken:,.0f} records/s; Python folding + bulk insert)"
    )
    raw: Any = db.engine.raw_connection()
    pg = db.dialect == "postgresql"

    def sql(text: str) -> str:
        return text if pg else text.replace("%s", "?")

    def hand(text: str, params: tuple[Any, ...] = ()) -> list[Any]:
        cursor = raw.cursor()
        cursor.execute(sql(text), params)
        found = cursor.fetchall()
        cursor.close()
        raw.rollback()
        return list(found)

    table = '"ct_customers$dupkeys"'
    cursors: list[str | None] = [None]
    with db.read() as session:
        for _ in range(9):
            _, following = duplicates.find_groups(
                session, ACTOR, "customers", cursor=cursors[-1], limit=20
            )
            cursors.append(following)

    def ours_first(i: int) -> None:
        with db.read() as session:
            found, _ = duplicates.find_groups(session, ACTOR, "customers", limit=20)
            assert len(found) == 20

    def ours_tenth(i: int) -> None:
        with db.read() as session:
            found, _ = duplicates.find_groups(
                session, ACTOR, "customers", cursor=cursors[9], limit=20
            )
            assert len(found) == 20

    def hand_groups(i: int) -> None:
        found = hand(
            f"SELECT kind, key, count(*) FROM {table} GROUP BY kind, key "
            "HAVING count(*) > 1 ORDER BY kind, key LIMIT 40"
        )
        assert len(found) == 40

    def scan_emails(i: int) -> None:
        found = hand(
            "SELECT c_email, count(*) FROM ct_customers WHERE c_email IS NOT NULL "
            "GROUP BY c_email HAVING count(*) > 1 ORDER BY c_email LIMIT 40"
        )
        assert len(found) == 40

    compare(
        queries,
        ("groups, first page of 20 (find_groups, with records)", ours_first),
        ("peer: bare blocking GROUP BY on the key table, LIMIT 40", hand_groups),
        ("peer: GROUP BY the data table's e-mail column (no keys)", scan_emails),
    )
    compare(
        queries,
        ("groups, 10th page of 20 by cursor", ours_tenth),
        ("peer: bare blocking GROUP BY on the key table, LIMIT 40", hand_groups),
    )

    def record_id(i: int) -> int:
        return 100 * (1 + (i * 7919) % (rows // 100 - 1)) + 1  # one with a duplicate

    def ours_record(i: int) -> None:
        with db.read() as session:
            found = duplicates.record_duplicates(session, ACTOR, "customers", record_id(i))
            assert found

    def hand_record(i: int) -> None:
        rid = record_id(i)
        found = hand(
            f"SELECT d.id, d.kind FROM {table} d JOIN {table} m ON m.kind = d.kind AND "
            "m.key = d.key WHERE m.id = %s AND d.id <> %s",
            (rid, rid),
        )
        assert found
        hand("SELECT * FROM ct_customers WHERE id IN (%s)", (found[0][0],))

    compare(
        queries,
        ("a record's duplicates (record_duplicates)", ours_record),
        ("peer: hand-written key self-join + records", hand_record),
    )

    samples = []
    for i in range(max(3, queries // 4)):
        rid = record_id(i)
        start = time.perf_counter()
        with db.engine.connect() as conn:
            from sqlmodel import Session

            session = Session(bind=conn)
            trans = conn.begin()
            merge.merge_records(
                session,
                ACTOR,
                "customers",
                survivor=rid - 1,
                sources=[rid],
                values={},
                versions={str(rid - 1): 1, str(rid): 1},
            )
            session.flush()
            trans.rollback()
        samples.append(time.perf_counter() - start)
    line("merge of 2 records with purchases moved (rolled back)", samples)
    raw.close()
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="PostgreSQL customers")
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.sqlite_rows, args.queries)
    if args.postgres:
        with scratch_postgres(args.postgres) as url:
            run(url, args.rows, args.queries)


if __name__ == "__main__":
    main()
