"""Customer lists and record pages through the services, beside the same queries hand-written.

    .venv/bin/python bench/customers_list.py [--rows 200000] [--sqlite-rows 100000]
        [--queries 40] [--postgres URL] [--no-sqlite]

Designs a ``customers`` table of 25 fields and a ``purchases`` table referring to it through
the services, fills them by ``INSERT … SELECT`` and ANALYZEs, then times (p50/p95 over
``--queries`` runs, varied parameters):

* a list page of 50 records with 2 conditions on indexed fields, sorted by one of them
  (``records.list_records`` with a condition tree and its total);
* full-text search for the two-character surname 山田 (2% of the records), newest first;
* opening a record with its related tabs (``get_record`` + ``related``);

each beside the same query hand-written and sent through the driver's own connection
(psycopg / sqlite3) with the total counted by the same rule, and the ratio (p50 / p95). It
also times ``search.rebuild_search`` over the whole table.

Figures are printed, never asserted (the issue's targets are for 1,000,000 records on
PostgreSQL: ``--rows 1000000``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from benchkit import compare, scratch_postgres

from api.customers import records, search, services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.migrate import upgrade
from api.principal import cli_principal

ACTOR = cli_principal("bench")
PREFECTURES = ["北海道", "宮城県", "東京都", "神奈川県", "愛知県", "大阪府", "福岡県", "沖縄県"]
EXTRA_TEXT = [f"extra_{i}" for i in range(15)]
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田"]
GIVEN = ["太郎", "花子", "一郎", "美咲"]


def design(db: Database) -> None:
    fields = [
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
        *({"key": k, "type": "text"} for k in EXTRA_TEXT),
    ]
    assert len(fields) == 25
    with db.transaction() as session:
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
    extras = ", ".join(f"c_{k}" for k in EXTRA_TEXT)
    extra_values = ", ".join(f"'value {i} ' || n" for i in range(len(EXTRA_TEXT)))
    surnames = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(SURNAMES))
    given = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(GIVEN))
    prefectures = " ".join(
        f"WHEN {i} THEN '{p}'" for i, p in enumerate(PREFECTURES)
    )  # constants of this script, not input
    if db.dialect == "postgresql":
        source = "generate_series(1, :n) AS g(n)"
        seen = "now() - (n % 1000) * interval '1 hour'"
        born = "DATE '1950-01-01' + (n % 20000)"
        with_clause = ""
        from_clause = f"FROM {source}"
    else:
        with_clause = (
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
        )
        seen = "datetime('now', '-' || (n % 1000) || ' hours')"
        born = "date('1950-01-01', '+' || (n % 20000) || ' days')"
        from_clause = "FROM s"
    insert = (
        f"{with_clause}INSERT INTO ct_customers (c_name, c_kana, c_email, c_prefecture, c_score, "
        f"c_born, c_vip, c_spent, c_last_seen, c_phone, {extras}) "
        f"SELECT CASE WHEN n % 50 = 0 THEN '山田' ELSE CASE n % 10 {surnames} END END || ' ' || "
        f"CASE n % 4 {given} END, CASE WHEN n % 50 = 0 THEN 'ヤマダ' ELSE 'カナ' END, "
        f"'c' || n || '@example.jp', CASE n % 8 {prefectures} END, n % 100, {born}, "
        f"n % 2 = 0, n % 1000, {seen}, '03-0000-0000', {extra_values} {from_clause}"
    )
    with db.engine.begin() as conn:
        conn.execute(sa.text(insert), {"n": rows})
        conn.execute(
            sa.text(
                "INSERT INTO ct_purchases (c_customer, c_amount) "
                "SELECT id, id % 1000 FROM ct_customers WHERE id % 10 = 0"
            )
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


class Peer:
    """Hand-written SQL through the driver's own connection (psycopg / sqlite3), the total
    counted the way the services do it: the planner's estimate when it expects more than
    10,000 rows (PostgreSQL), else a count capped at 10,001."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.raw: Any = db.engine.raw_connection()
        self.pg = db.dialect == "postgresql"

    def sql(self, text: str) -> str:
        return text if self.pg else text.replace("%s", "?")

    def rows(self, text: str, params: tuple[Any, ...]) -> list[Any]:
        cursor = self.raw.cursor()
        cursor.execute(self.sql(text), params)
        found = cursor.fetchall()
        cursor.close()
        return list(found)

    def total(self, text: str, params: tuple[Any, ...]) -> int:
        if self.pg:
            (plan,) = self.rows("EXPLAIN (FORMAT JSON) " + text, params)[0]
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate > 10_000:
                return estimate
        capped = f"SELECT count(*) FROM ({text} LIMIT 10001) AS capped"
        return int(self.rows(capped, params)[0][0])

    def done(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()


def run(url: str, rows: int, queries: int) -> None:
    db = Database(url)
    upgrade(db.engine)
    design(db)
    start = time.perf_counter()
    fill(db, rows)
    filled = time.perf_counter() - start
    print(f"{db.dialect}: {rows:,} customers of 25 fields (filled in {filled:.1f} s)")
    start = time.perf_counter()
    with db.transaction() as session:
        indexed = search.rebuild_search(session, "customers")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    print(
        f"  search index rebuilt for {indexed:,} records in {time.perf_counter() - start:.1f} s "
        "(rebuild_search: Python folding, bulk insert, index)"
    )
    peer = Peer(db)

    def where_of(i: int) -> tuple[str, int]:
        return PREFECTURES[i % 8], 50 + i % 40

    def app_list(i: int) -> None:
        prefecture, score = where_of(i)
        where = {"and": [
            {"field": "prefecture", "op": "eq", "value": prefecture},
            {"field": "score", "op": "gte", "value": score},
        ]}  # fmt: skip
        with db.read() as session:
            page = records.list_records(
                session, ACTOR, "customers", where=where, sort="-score", limit=50
            )
            assert len(page.items) == 50

    hand_where = "FROM ct_customers WHERE c_prefecture = %s AND c_score >= %s"

    def hand_list(i: int, with_total: bool = True) -> None:
        params = where_of(i)
        found = peer.rows(
            f"SELECT * {hand_where} ORDER BY c_score DESC, id DESC LIMIT 51",
            params,
        )
        assert len(found) == 51
        if with_total:
            peer.total(f"SELECT * {hand_where}", params)
        peer.done()

    compare(
        queries,
        ("list page: services (2 conditions, sorted, total)", app_list),
        ("peer: hand-written SELECT + total, same rule", hand_list),
        ("peer: hand-written SELECT alone", lambda i: hand_list(i, False)),
    )

    def app_search(i: int) -> None:
        with db.read() as session:
            page = records.list_records(session, ACTOR, "customers", q="山田", limit=50)
            assert len(page.items) == 50

    if peer.pg:
        matching = (
            'FROM ct_customers WHERE id IN (SELECT id FROM "ct_customers$search" '
            "WHERE grams @> ARRAY[%s])"
        )
    else:
        matching = (
            'FROM ct_customers WHERE id IN (SELECT id FROM "ct_customers$search" WHERE id IN '
            '(SELECT rowid FROM "ct_customers$grams" WHERE "ct_customers$grams" MATCH %s) '
            "AND instr(body, %s) > 0)"
        )

    def hand_search(i: int) -> None:
        params: tuple[Any, ...] = ("山田",) if peer.pg else ('"山田"', "山田")
        found = peer.rows(f"SELECT * {matching} ORDER BY id DESC LIMIT 51", params)
        assert len(found) == 51
        peer.total(f"SELECT * {matching}", params)
        peer.done()

    compare(
        queries,
        ("search q=山田: services (newest first, total)", app_search),
        ("peer: hand-written search for 山田 + total", hand_search),
    )

    def record_id(i: int) -> int:
        return 10 * (1 + (i * 7919) % (rows // 10))

    def app_record(i: int) -> None:
        with db.read() as session:
            records.get_record(session, ACTOR, "customers", record_id(i))
            records.related(session, ACTOR, "customers", record_id(i))

    def hand_record(i: int) -> None:
        peer.rows("SELECT * FROM ct_customers WHERE id = %s", (record_id(i),))
        related = "FROM ct_purchases WHERE c_customer = %s"
        peer.rows(f"SELECT * {related} ORDER BY id DESC LIMIT 20", (record_id(i),))
        peer.total(f"SELECT * {related}", (record_id(i),))
        peer.done()

    compare(
        queries,
        ("record + related tabs: services", app_record),
        ("peer: hand-written SELECTs + tab total", hand_record),
    )
    peer.close()
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="PostgreSQL customers")
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=40)
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
