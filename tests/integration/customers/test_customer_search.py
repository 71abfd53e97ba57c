"""Full-text search (``q``) and keyset paging on field sorts, on SQLite and PostgreSQL.

Search finds two-character (and one-character) Japanese words among many names, folds width,
kana and case through ``api.fields.chars.search_key``, stays in step with every write path
and design change, combines with filters and paging, and refuses hostile input clearly.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.customers import records, schema_file, search, services
from api.customers.definitions import parse_field, parse_table
from api.customers.tasks import SEARCH_REBUILD
from api.db import Database
from api.errors import ValidationFailed
from api.jobs import services as job_services
from api.jobs.runner import run_job
from api.principal import Principal
from api.runtime import Runtime
from tests.fixtures.app import StaffClient

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["太郎", "花子", "一郎", "美咲"]
OTHERS = [f"{SURNAMES[i % 10]} {GIVEN[i % 7 % 4]}" for i in range(60)]


def others(word: str) -> set[str]:
    return {n for n in OTHERS if word in n}


FIELDS = [
    {"key": "name", "type": "text", "indexed": True},
    {"key": "kana", "type": "furigana"},
    {"key": "email", "type": "email"},
    {"key": "memo", "type": "long_text"},
    {"key": "code", "type": "integer"},
    {
        "key": "prefecture",
        "type": "select",
        "choices": [
            {"value": "tokyo", "label": {"ja": "東京都", "en": "Tokyo"}},
            {"value": "osaka", "label": {"ja": "大阪府", "en": "Osaka"}},
        ],
    },
    {"key": "score", "type": "integer", "indexed": True},
]


@pytest.fixture
def people(db: Database, actor: Principal) -> dict[str, int]:
    """60 others (none with 山田 in any text) and the people the tests look for."""
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(OTHERS):
        rows.append(
            {
                "name": name,
                "email": f"person{i}@example.com",
                "prefecture": "osaka",
                "score": i % 5,
            }
        )
    rows += [
        {"name": "山田 太郎", "kana": "ヤマダ タロウ", "email": "taro@kizuna.jp",
         "prefecture": "tokyo", "score": 10},
        {"name": "ﾔﾏﾀﾞ ﾊﾅｺ", "email": "HANAKO.Y@Example.JP", "prefecture": "osaka"},
        {"name": "小山田 一郎", "kana": "おやまだ", "prefecture": "tokyo", "code": 777},
        {"name": "林 美咲", "memo": "100% 満足_です 'quoted' \"double\"", "score": 3},
        {"name": "Ｔａｒｏ Smith", "email": "smith@example.org"},
        {"name": "髙橋 一郎", "prefecture": "osaka"},
    ]  # fmt: skip
    with db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}), [parse_field(f) for f in FIELDS]
        )
        return {
            r["name"]: records.create_record(session, actor, "customers", r)["id"] for r in rows
        }


def found(db: Database, actor: Principal, q: str, **kwargs: Any) -> set[str]:
    with db.read() as session:
        page = records.list_records(session, actor, "customers", q=q, limit=500, **kwargs)
        return {r["values"]["name"] for r in page.items}


def test_a_two_character_surname_is_found_among_many(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    # 山田 in the name, in its half-width katakana reading and inside 小山田
    assert found(db, actor, "山田") == {"山田 太郎", "小山田 一郎"}
    assert found(db, actor, "山本") == others("山本") and len(others("山本")) > 2
    assert found(db, actor, "山田太郎") == {"山田 太郎"}  # spaces in the name do not matter
    assert found(db, actor, "太郎 山田") == {"山田 太郎"}  # every word, in any order
    assert found(db, actor, "山田 東京") == {"山田 太郎", "小山田 一郎"}  # a select's label
    assert found(db, actor, "山田 大阪") == set()
    assert found(db, actor, "高橋") == others("高橋") | {"髙橋 一郎"}  # 髙 = 高


@pytest.mark.parametrize("q", ["ﾔﾏﾀﾞ", "ヤマダ", "やまだ", "ﾔﾏダ", "ﾔ ﾏ ﾀﾞ"[:0] + "やマだ"])
def test_kana_and_width_variants_match(
    db: Database, actor: Principal, people: dict[str, int], q: str
) -> None:
    # the furigana of 山田 太郎 and 小山田 一郎 (おやまだ), and the name typed as ﾔﾏﾀﾞ ﾊﾅｺ
    assert found(db, actor, q) == {"山田 太郎", "小山田 一郎", "ﾔﾏﾀﾞ ﾊﾅｺ"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("taro", {"Ｔａｒｏ Smith", "山田 太郎"}),  # full-width name; taro@kizuna.jp
        ("ＴＡＲＯ", {"Ｔａｒｏ Smith", "山田 太郎"}),
        ("ｓｍｉｔｈ", {"Ｔａｒｏ Smith"}),
        ("hanako.y", {"ﾔﾏﾀﾞ ﾊﾅｺ"}),  # e-mail parts, case-folded
        ("kizuna.jp", {"山田 太郎"}),
        ("@example.org", {"Ｔａｒｏ Smith"}),
        ("osaka", {"ﾔﾏﾀﾞ ﾊﾅｺ", "髙橋 一郎", *OTHERS}),  # a choice's value and label
        ("777", set()),  # an integer field is not searched
        ("林", {"林 美咲"} | others("林")),  # one character: looked up as itself (小林 too)
        ("100%", {"林 美咲"}),  # % and _ are characters, not wildcards
        ("%", {"林 美咲"}),
        ("_", {"林 美咲"}),
        ("満足_", {"林 美咲"}),
        ("'quoted'", {"林 美咲"}),
        ('"double"', {"林 美咲"}),
        ('" OR "', set()),  # no FTS5 syntax gets through
        ("NEAR(a b)", set()),
        ("* - : ^", set()),
        ("\\", set()),
        ("🙂", set()),
    ],
)
def test_folding_email_parts_and_hostile_characters(
    db: Database, actor: Principal, people: dict[str, int], q: str, expected: set[str]
) -> None:
    assert found(db, actor, q) == expected


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("山田\x00", "control_characters"),
        ("山田\x1b[2J", "control_characters"),
        ("\u202e山田", "control_characters"),
        ("山" * 201, "too_long"),
        (" ".join("abcdefghijk"), "too_many_terms"),
    ],
)
def test_bad_queries_are_refused_at_q(
    db: Database, actor: Principal, people: dict[str, int], q: str, code: str
) -> None:
    with db.read() as session, pytest.raises(ValidationFailed) as refused:
        records.list_records(session, actor, "customers", q=q)
    assert refused.value.errors[0].field == "q"
    assert refused.value.errors[0].code == code


def test_a_blank_query_searches_nothing(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    assert len(found(db, actor, " \u3000\t")) == len(set(OTHERS)) + 6


def test_search_stays_in_step_with_writes(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    taro = people["山田 太郎"]
    with db.transaction() as session:
        records.update_record(
            session, actor, "customers", taro, {"name": "川口 太郎", "kana": None}, version=1
        )
    assert found(db, actor, "山田") == {"小山田 一郎"}
    assert found(db, actor, "川口") == {"川口 太郎"}
    with db.transaction() as session:  # a change to a field search does not read
        records.update_record(session, actor, "customers", taro, {"score": 99}, version=2)
    assert found(db, actor, "川口") == {"川口 太郎"}
    with db.transaction() as session:
        records.delete_record(session, actor, "customers", people["小山田 一郎"])
    assert found(db, actor, "山田") == set()
    assert found(db, actor, "ﾔﾏﾀﾞ") == {"ﾔﾏﾀﾞ ﾊﾅｺ"}


def test_search_follows_field_retire_restore_type_change_and_relabel(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    with db.transaction() as session:
        services.retire_field(session, actor, "customers", "kana")
    assert found(db, actor, "やまだ") == {"ﾔﾏﾀﾞ ﾊﾅｺ"}  # only the name now
    with db.transaction() as session:
        services.retire_field(session, actor, "customers", "kana", restore=True)
    assert found(db, actor, "やまだ") == {"山田 太郎", "小山田 一郎", "ﾔﾏﾀﾞ ﾊﾅｺ"}
    with db.transaction() as session:  # integer → text: its values become searchable
        services.update_field(
            session, actor, "customers", "code", parse_field({"key": "code", "type": "text"})
        )
    assert found(db, actor, "777") == {"小山田 一郎"}
    with db.transaction() as session:  # text → integer: no longer
        services.update_field(
            session, actor, "customers", "code", parse_field({"key": "code", "type": "integer"})
        )
    assert found(db, actor, "777") == set()
    relabelled = {
        **FIELDS[5],
        "choices": [
            {"value": "tokyo", "label": {"ja": "東京", "en": "Tokyo Metropolis"}},
            {"value": "osaka", "label": {"ja": "大阪府", "en": "Osaka"}},
        ],
    }
    with db.transaction() as session:
        services.update_field(session, actor, "customers", "prefecture", parse_field(relabelled))
    assert found(db, actor, "metropolis") == {"山田 太郎", "小山田 一郎"}
    assert found(db, actor, "東京都") == set()


def test_search_follows_schema_apply(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    with db.read() as session:
        exported = schema_file.export(session)
    # the schema file drops the furigana field: apply retires it
    without_kana = exported.replace('key = "kana"', 'key = "kana_gone"')
    with db.transaction() as session:
        schema_file.apply(session, actor, schema_file.parse(without_kana))
    assert found(db, actor, "やまだ") == {"ﾔﾏﾀﾞ ﾊﾅｺ"}
    with db.transaction() as session:
        schema_file.apply(session, actor, schema_file.parse(exported))
    assert found(db, actor, "やまだ") == {"山田 太郎", "小山田 一郎", "ﾔﾏﾀﾞ ﾊﾅｺ"}


def test_rebuild_search_and_bulk_index(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    with db.transaction() as session:
        count = search.rebuild_search(session, "customers")
    assert count == len(OTHERS) + 6
    assert found(db, actor, "山田") == {"山田 太郎", "小山田 一郎"}
    with db.transaction() as session:  # what an import does after writing rows itself
        design = services.load_design(session, "customers")
        table = design.sa_table()
        session.connection().execute(
            table.update().where(table.c.id == people["林 美咲"]).values(c_name="森 美咲")
        )
        search.index_records(session, design, [people["林 美咲"]])
    assert found(db, actor, "林") == others("林")
    assert found(db, actor, "森") == {"森 美咲"}


def test_search_combines_with_filters_sort_and_paging(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    where = {"field": "prefecture", "op": "eq", "value": "osaka"}
    assert found(db, actor, "やまだ", where=where) == {"ﾔﾏﾀﾞ ﾊﾅｺ"}
    expected = len([n for n in OTHERS if "郎" in n]) + 1  # and 髙橋 一郎
    with db.read() as session:  # one character, a filter, a sort, 4 a page
        seen: list[str] = []
        cursor = None
        while True:
            page = records.list_records(
                session, actor, "customers", q="郎", where=where, sort="-score",
                cursor=cursor, limit=4,
            )  # fmt: skip
            seen += [r["values"]["name"] + str(r["id"]) for r in page.items]
            assert page.total.value == expected and page.total.exact
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == expected


def test_search_through_the_api(admin: StaffClient, actor: Principal, db: Database) -> None:
    with db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}), [parse_field(FIELDS[0])]
        )
        for name in ("山田 太郎", "田中 一郎", "山田 花子"):
            records.create_record(session, actor, "customers", {"name": name})
    base = "/api/customers/tables/customers/records"
    body = admin.get(base, params={"q": "ﾔﾏﾀﾞ"}).json()
    assert body["items"] == []  # a name written in kanji has no reading to match kana
    body = admin.get(base, params={"q": "山田", "per_page": 1}).json()
    assert [r["values"]["name"] for r in body["items"]] == ["山田 花子"]
    assert body["total"] == 2 and body["total_exact"]
    nxt = admin.get(base, params={"q": "山田", "per_page": 1, "cursor": body["next_cursor"]})
    assert [r["values"]["name"] for r in nxt.json()["items"]] == ["山田 太郎"]
    refused = admin.get(base, params={"q": "山田\x07"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "q"


# ------------------------------------------------------------------ keyset paging on sorts


@pytest.fixture
def ties(db: Database, actor: Principal) -> list[tuple[Any, str, int]]:
    """25 records whose score and name have ties, and empty scores; (score, name, id)."""
    with db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}), [parse_field(f) for f in FIELDS]
        )
        made = []
        for i in range(25):
            score = None if i % 6 == 0 else i % 4
            name = f"n{i % 3}"
            values = {"name": name, "score": score}
            made.append(
                (score, name, records.create_record(session, actor, "customers", values)["id"])
            )
    return made


def _walk(db: Database, actor: Principal, sort: str, forward: bool = True) -> list[int]:
    """Every record id, 4 a page: following next cursors from the first page, or prev
    cursors from the last one (reached by next cursors)."""
    pages: list[list[int]] = []
    with db.read() as session:

        def page_at(cursor: str | None) -> records.RecordPage:
            page = records.list_records(
                session, actor, "customers", sort=sort, cursor=cursor, limit=4
            )
            assert 0 < len(page.items) <= 4
            return page

        page = page_at(None)
        if not forward:
            while page.next_cursor is not None:
                page = page_at(page.next_cursor)
        pages.append([r["id"] for r in page.items])
        while (cursor := page.next_cursor if forward else page.prev_cursor) is not None:
            page = page_at(cursor)
            pages.append([r["id"] for r in page.items])
    if not forward:
        pages.reverse()
    return [i for chunk in pages for i in chunk]


@pytest.mark.parametrize("forward", [True, False], ids=["next", "prev"])
def test_keyset_paging_on_a_field_sort_has_no_duplicates_or_gaps(
    db: Database, actor: Principal, ties: list[tuple[Any, str, int]], forward: bool
) -> None:
    ascending = [t[2] for t in sorted(ties, key=lambda t: (t[0] is None, t[0] or 0, t[2]))]
    assert _walk(db, actor, "score", forward) == ascending
    assert _walk(db, actor, "-score", forward) == ascending[::-1]  # empty ones first
    by_name = [t[2] for t in sorted(ties, key=lambda t: (t[1], t[2]))]
    assert _walk(db, actor, "name", forward) == by_name
    assert _walk(db, actor, "-name", forward) == by_name[::-1]
    ids = sorted(t[2] for t in ties)
    assert _walk(db, actor, "-id", forward) == ids[::-1]
    assert _walk(db, actor, "id", forward) == ids


def test_page_numbers_still_work_and_give_cursors(
    db: Database, actor: Principal, ties: list[tuple[Any, str, int]]
) -> None:
    ascending = [t[2] for t in sorted(ties, key=lambda t: (t[0] is None, t[0] or 0, t[2]))]
    with db.read() as session:
        page = records.list_records(session, actor, "customers", sort="score", offset=8, limit=4)
        assert [r["id"] for r in page.items] == ascending[8:12]
        after = records.list_records(
            session, actor, "customers", sort="score", cursor=page.next_cursor, limit=4
        )
        assert [r["id"] for r in after.items] == ascending[12:16]
        before = records.list_records(
            session, actor, "customers", sort="score", cursor=page.prev_cursor, limit=4
        )
        assert [r["id"] for r in before.items] == ascending[4:8]


def test_a_forged_cursor_is_refused(
    db: Database, actor: Principal, ties: list[tuple[Any, str, int]]
) -> None:
    from api.db import encode_cursor

    with db.read() as session:
        for forged in (encode_cursor("after", ["x", 1]), encode_cursor("after", [1, "x"]), "zz"):
            with pytest.raises(ValidationFailed) as refused:
                records.list_records(session, actor, "customers", sort="score", cursor=forged)
            assert refused.value.errors[0].field == "cursor"


def test_a_large_tables_rebuild_is_a_job_of_id_ranges(
    runtime: Runtime, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "INLINE_REBUILD", 3)
    monkeypatch.setattr(search, "UNIT_SPAN", 2)
    db = runtime.db
    with db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}), [parse_field(f) for f in FIELDS]
        )
        for name, kana in [("山田 太郎", "やまだ"), ("田中 一郎", "たなか"), ("川口 花子", "かわぐち"),
                           ("山田 花子", "やまだ"), ("森 一郎", "もり")]:  # fmt: skip
            records.create_record(session, actor, "customers", {"name": name, "kana": kana})
    with db.transaction() as session:
        services.retire_field(session, actor, "customers", "kana")
    with db.read() as session:
        (job,) = job_services.list_jobs(session, kind=SEARCH_REBUILD.name)[0]
        job_id = job.id
        assert job_id is not None
        assert job_services.unit_counts(session, job_id)["pending"] == 3  # ids 1–2, 3–4, 5
    assert found(db, actor, "かわぐち") == {"川口 花子"}  # not rewritten yet
    assert run_job(runtime, SEARCH_REBUILD, job_id) == "done"
    assert found(db, actor, "かわぐち") == set()
    assert found(db, actor, "山田") == {"山田 太郎", "山田 花子"}
    assert run_job(runtime, SEARCH_REBUILD, job_id) is None  # done once


def test_a_multi_select_field_cannot_be_sorted_by(db: Database, actor: Principal) -> None:
    with db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "customers"}),
            [parse_field({"key": "tags", "type": "multi_select", "choices": ["a", "b"]})],
        )
    with db.read() as session, pytest.raises(ValidationFailed) as refused:
        records.list_records(session, actor, "customers", sort="tags")
    assert refused.value.errors[0].field == "sort"
    assert refused.value.errors[0].code == "not_sortable"


@pytest.mark.parametrize("sort", ["spent", "-spent", "born", "-born", "-created_at", "vip"])
def test_keyset_paging_on_decimal_date_datetime_and_boolean_sorts(
    db: Database, actor: Principal, sort: str
) -> None:
    fields = [
        {"key": "name", "type": "text"},
        {"key": "spent", "type": "decimal", "indexed": True},
        {"key": "born", "type": "date"},
        {"key": "vip", "type": "boolean"},
    ]
    made: list[tuple[Any, int]] = []
    with db.transaction() as session:
        services.create_table(
            session, actor, parse_table({"key": "customers"}), [parse_field(f) for f in fields]
        )
        for i in range(14):
            values = {
                "name": f"n{i}",
                "spent": None if i % 5 == 0 else f"{i % 3}.50",
                "born": None if i % 4 == 0 else f"199{i % 3}-01-0{1 + i % 2}",
                "vip": None if i % 6 == 0 else i % 2 == 0,
            }
            record = records.create_record(session, actor, "customers", values)
            key = sort.removeprefix("-")
            made.append((record["values"].get(key, record.get(key)), record["id"]))
    ascending = [i for _, i in sorted(made, key=lambda t: (t[0] is None, str(t[0]), t[1]))]
    expected = ascending[::-1] if sort.startswith("-") else ascending
    assert _walk(db, actor, sort) == expected
    assert _walk(db, actor, sort, forward=False) == expected


def test_tables_made_before_search_get_their_search_data(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    with db.transaction() as session:
        conn = session.connection()
        if db.dialect == "sqlite":
            conn.exec_driver_sql('DROP TABLE "ct_customers$grams"')
        conn.exec_driver_sql('DROP TABLE "ct_customers$search"')
    with db.transaction() as session:
        assert search.build_missing(session) == ["customers"]
    with db.transaction() as session:
        assert search.build_missing(session) == []
    assert found(db, actor, "山田") == {"山田 太郎", "小山田 一郎"}
