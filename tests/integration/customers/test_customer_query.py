"""Filters on records: operators per field type, nested AND/OR, a field of the referenced
record, sorting, and refusals pointing at the condition, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.db import Database
from api.errors import ValidationFailed
from api.principal import Principal
from tests.fixtures.app import StaffClient

PEOPLE = [
    # name, email, prefecture, interests, score, born, vip, company
    ("山田 太郎", "taro@example.jp", "東京都", ["a"], 10, "1980-01-01", True, 0),
    ("山田 花子", "HANAKO@example.jp", "大阪府", ["b", "c"], 30, "1990-06-15", False, 1),
    ("佐藤 100%", "sato@example.com", "東京都", [], None, None, None, None),
    ("Ｔａｒｏ Smith", "smith@example.com", None, ["a", "c"], 20, "2000-12-31", False, 1),
]


@pytest.fixture
def people(db: Database, actor: Principal) -> dict[str, int]:
    with db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "companies"}),
            [parse_field({"key": "name", "type": "text"})],
        )
        services.create_table(
            session,
            actor,
            parse_table({"key": "customers", "statuses": ["lead", "customer"]}),
            [
                parse_field({"key": "name", "type": "text"}),
                parse_field({"key": "email", "type": "email"}),
                parse_field({"key": "prefecture", "type": "select", "choices": ["東京都", "大阪府"]}),
                parse_field({"key": "interests", "type": "multi_select", "choices": ["a", "b", "c"], "indexed": True}),
                parse_field({"key": "score", "type": "integer", "indexed": True}),
                parse_field({"key": "born", "type": "date"}),
                parse_field({"key": "vip", "type": "boolean"}),
                parse_field({"key": "company", "type": "reference", "references": "companies"}),
            ],
        )  # fmt: skip
        companies = [
            records.create_record(session, actor, "companies", {"name": name})["id"]
            for name in ("絆商事", "Acme Trading")
        ]
        ids = {}
        for name, email, pref, interests, score, born, vip, company in PEOPLE:
            ids[name] = records.create_record(
                session, actor, "customers",
                {"name": name, "email": email, "prefecture": pref, "interests": interests,
                 "score": score, "born": born, "vip": vip,
                 "company": None if company is None else companies[company]},
                status="customer" if score else "lead",
            )["id"]  # fmt: skip
    return ids


def names(db: Database, actor: Principal, where: Any, sort: str | None = None) -> list[str]:
    with db.read() as session:
        page = records.list_records(session, actor, "customers", where=where, sort=sort)
        return [r["values"]["name"] for r in page.items]


def c(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (c("name", "contains", "山田"), {"山田 太郎", "山田 花子"}),  # a two-character surname
        (c("name", "starts_with", "山田 花"), {"山田 花子"}),
        (c("name", "contains", "100%"), {"佐藤 100%"}),  # % is a character, not a wildcard
        (c("name", "contains", "_"), set()),
        (c("email", "contains", "HANAKO"), {"山田 花子"}),  # case-insensitive
        (c("name", "eq", "山田 太郎"), {"山田 太郎"}),
        (c("prefecture", "eq", "東京都"), {"山田 太郎", "佐藤 100%"}),
        (c("prefecture", "in", ["大阪府", "東京都"]), {"山田 太郎", "山田 花子", "佐藤 100%"}),
        (c("prefecture", "is_empty"), {"Ｔａｒｏ Smith"}),
        (c("score", "gte", 20), {"山田 花子", "Ｔａｒｏ Smith"}),
        (c("score", "between", [10, 20]), {"山田 太郎", "Ｔａｒｏ Smith"}),
        (c("score", "not_empty"), {"山田 太郎", "山田 花子", "Ｔａｒｏ Smith"}),
        (c("born", "lt", "1990-06-15"), {"山田 太郎"}),
        (c("vip", "eq", False), {"山田 花子", "Ｔａｒｏ Smith"}),
        (c("interests", "has", "c"), {"山田 花子", "Ｔａｒｏ Smith"}),
        (c("interests", "has_any", ["a", "b"]), {"山田 太郎", "山田 花子", "Ｔａｒｏ Smith"}),
        (c("status", "eq", "lead"), {"佐藤 100%"}),
        (c("company.name", "contains", "acme"), {"山田 花子", "Ｔａｒｏ Smith"}),
        (c("company", "is_empty"), {"佐藤 100%"}),
        (
            {"and": [c("prefecture", "eq", "東京都"),
                     {"or": [c("score", "gt", 5), c("email", "contains", ".com")]}]},
            {"山田 太郎", "佐藤 100%"},
        ),
        ({"or": [c("score", "eq", 30), {"and": [c("vip", "eq", True), c("born", "gt", "1970-01-01")]}]},
         {"山田 太郎", "山田 花子"}),
    ],
)  # fmt: skip
def test_operators_suit_each_type(
    db: Database, actor: Principal, people: dict[str, int], where: Any, expected: set[str]
) -> None:
    assert set(names(db, actor, where)) == expected


def test_sort_by_any_field_empty_values_as_the_largest(
    db: Database, actor: Principal, people: dict[str, int]
) -> None:
    ascending = ["山田 太郎", "Ｔａｒｏ Smith", "山田 花子", "佐藤 100%"]
    assert names(db, actor, None, sort="score") == ascending
    assert names(db, actor, None, sort="-score") == ascending[::-1]
    assert names(db, actor, c("score", "not_empty"), sort="-born")[0] == "Ｔａｒｏ Smith"


@pytest.mark.parametrize(
    ("where", "field", "code"),
    [
        (c("nope", "eq", 1), "where.field", "unknown_field"),
        ({"and": [c("name", "eq", "x"), c("score", "contains", "1")]}, "where.and[1].op", "invalid_operator"),
        ({"or": [{"and": [c("born", "gt", "yesterday")]}]}, "where.or[0].and[0].value", "invalid_date"),
        (c("interests", "eq", "a"), "where.op", "invalid_operator"),
        (c("name.x", "eq", "a"), "where.field", "unknown_field"),
        (c("company.nope", "eq", "a"), "where.field", "unknown_field"),
        (c("score", "in", []), "where.value", "invalid_condition"),
        ({"and": []}, "where", "invalid_condition"),
        ({"field": "name", "op": "eq", "value": "x", "sql": "1=1"}, "where", "invalid_condition"),
        ("name = 'x'", "where", "invalid_condition"),
    ],
)  # fmt: skip
def test_a_bad_condition_is_refused_pointing_at_it(
    db: Database, actor: Principal, people: dict[str, int], where: Any, field: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        names(db, actor, where)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]


def test_filters_through_the_api(
    db: Database, actor: Principal, people: dict[str, int], admin: StaffClient
) -> None:
    base = "/api/customers/tables/customers/records"
    where = json.dumps({"and": [c("name", "contains", "山田"), c("score", "gt", 15)]})
    found = admin.get(base, params={"where": where})
    assert found.status_code == 200, found.text
    assert [r["values"]["name"] for r in found.json()["items"]] == ["山田 花子"]
    assert found.json()["total"] == 1
    sorted_page = admin.get(base, params={"sort": "-score", "per_page": 2, "page": 2}).json()
    assert [r["values"]["name"] for r in sorted_page["items"]] == ["Ｔａｒｏ Smith", "山田 太郎"]
    bad = admin.get(base, params={"where": json.dumps(c("score", "contains", "1"))})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "where.op"
    assert admin.get(base, params={"where": "{not json"}).status_code == 422
    assert admin.get(base, params={"sort": "nope"}).status_code == 422
    assert admin.get(base, params={"sort": "x; drop"}).status_code in (400, 422)


def test_related_tabs_list_the_records_that_refer_to_one(
    db: Database, actor: Principal, people: dict[str, int], admin: StaffClient
) -> None:
    with db.read() as session:
        company = records.list_records(
            session, actor, "companies", where=c("name", "eq", "Acme Trading")
        ).items[0]
        tabs = records.related(session, actor, "companies", company["id"])
    assert [(t["table"], t["field"], t["total"]) for t in tabs] == [("customers", "company", 2)]
    assert {r["values"]["name"] for r in tabs[0]["items"]} == {"山田 花子", "Ｔａｒｏ Smith"}
    url = f"/api/customers/tables/companies/records/{company['id']}/related"
    body = admin.get(url).json()
    assert body[0]["table"] == "customers" and body[0]["total"] == 2
    assert admin.get("/api/customers/tables/companies/records/999999/related").status_code == 404


def test_saved_views_private_shared_and_default(people: dict[str, int], login_as: Any) -> None:
    base = "/api/customers/tables/customers"
    marketer = login_as("marketer")
    where = c("name", "contains", "山田")
    mine = marketer.post(
        f"{base}/views",
        json={"name": "山田さん", "where": where, "columns": ["name", "score"], "sort": "-score"},
    )
    assert mine.status_code == 201, mine.text
    view = mine.json()
    assert view["shared"] is False and view["columns"] == ["name", "score"]
    listed = marketer.get(f"{base}/records", params={"view": view["id"]}).json()
    assert [r["values"]["name"] for r in listed["items"]] == ["山田 花子", "山田 太郎"]
    narrowed = marketer.get(
        f"{base}/records", params={"view": view["id"], "where": json.dumps(c("score", "lt", 20))}
    ).json()
    assert [r["values"]["name"] for r in narrowed["items"]] == ["山田 太郎"]
    # Private: another staff member does not see it.
    other = login_as("marketer")
    assert other.get(f"{base}/views").json() == []
    assert other.get(f"{base}/records", params={"view": view["id"]}).status_code == 404
    shared = other.post(f"{base}/views", json={"name": "全員", "shared": True})
    assert shared.status_code == 201
    assert shared.json()["columns"] == [
        "name",
        "email",
        "prefecture",
        "interests",
        "score",
        "born",
        "vip",
        "company",
    ]
    assert other.post(f"{base}/views", json={"name": "x", "is_default": True}).status_code == 403
    # A marketer cannot change someone else's shared view; a designer can make it the default.
    assert other.patch(f"{base}/views/{view['id']}", json={"name": "x"}).status_code == 404
    admin = login_as("admin")  # one test client: the last log-in is the one that acts
    default = admin.patch(f"{base}/views/{shared.json()['id']}", json={"is_default": True})
    assert default.status_code == 200 and default.json()["is_default"] is True
    names_seen = [v["name"] for v in admin.get(f"{base}/views").json()]
    assert names_seen[0] == "全員"
    # Bad views are refused pointing at the place.
    bad = admin.post(f"{base}/views", json={"name": "x", "columns": ["nope"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "columns[0]"
    bad_where = admin.post(
        f"{base}/views", json={"name": "x", "where": c("score", "contains", "1")}
    )
    assert bad_where.status_code == 422 and bad_where.json()["errors"][0]["field"] == "where.op"
    assert admin.delete(f"{base}/views/{shared.json()['id']}").status_code == 204
