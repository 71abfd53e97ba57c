"""Likely duplicates (width, kana and variant folding; phones by digits; name + company) and
merging them: chosen values, related rows re-pointed, unique fields, history, 409s, roles."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from api.customers import bulk
from api.jobs.runner import run_job
from api.runtime import Runtime
from tests.fixtures.app import StaffClient

BASE = "/api/customers/tables"


def design(admin: StaffClient, *, owner_only: bool = False) -> None:
    companies = {
        "key": "companies",
        "label": {"ja": "会社", "en": "Companies"},
        "fields": [{"key": "name", "type": "text", "required": True}],
    }
    customers = {
        "key": "customers",
        "label": {"ja": "顧客", "en": "Customers"},
        "owner_only": owner_only,
        "fields": [
            {"key": "name", "type": "text", "required": True, "label": {"ja": "氏名"}},
            {"key": "email", "type": "email", "unique": True},
            {"key": "phone", "type": "phone"},
            {"key": "note", "type": "text"},
            {"key": "company", "type": "reference", "references": "companies"},
        ],
    }
    purchases = {
        "key": "purchases",
        "fields": [
            {"key": "item", "type": "text"},
            {"key": "customer", "type": "reference", "references": "customers"},
        ],
    }
    applications = {
        "key": "applications",
        "fields": [
            {"key": "seminar", "type": "text"},
            {"key": "applicant", "type": "reference", "references": "customers"},
        ],
    }
    for body in (companies, customers, purchases, applications):
        response = admin.post(BASE, json=body)
        assert response.status_code == 201, response.text


def add(client: StaffClient, table: str, **values: Any) -> dict[str, Any]:
    response = client.post(f"{BASE}/{table}/records", json={"values": values})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def groups(client: StaffClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/customers/duplicates", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def ids_of(group: dict[str, Any]) -> set[int]:
    return {r["id"] for r in group["records"]}


def test_duplicates_found_across_width_kana_variants_and_phone_grouping(
    admin: StaffClient,
) -> None:
    design(admin)
    kizuna = add(admin, "companies", name="絆商事")["id"]
    other = add(admin, "companies", name="別会社")["id"]
    taro = add(admin, "customers", name="山田 太郎", email="taro@example.com", company=kizuna)
    # The e-mail typed in full width is the same address (stored normalised): unique refuses it.
    refused = admin.post(
        f"{BASE}/customers/records",
        json={"values": {"name": "ﾔﾏﾀﾞ ﾀﾛｳ", "email": "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ"}},
    )
    assert refused.status_code == 409
    # Same e-mail in another table would be found; here: phones typed with other groupings.
    p1 = add(admin, "customers", name="佐藤", phone="03-1234-5678")
    p2 = add(admin, "customers", name="鈴木", phone="（０３）１２３４ー５６７８")
    p3 = add(admin, "customers", name="田中", phone="0312345678")
    # 髙橋 and 高橋 at the same company; and full-width/half-width kana names.
    t1 = add(admin, "customers", name="髙橋 一郎", company=kizuna)
    t2 = add(admin, "customers", name="高橋一郎", company=kizuna)
    k1 = add(admin, "customers", name="ﾔﾏﾓﾄ", company=kizuna)
    k2 = add(admin, "customers", name="やまもと", company=kizuna)
    # The same name at a different company is another person: no group.
    add(admin, "customers", name="山田太郎", company=other)
    # The same name without any company: no group either.
    add(admin, "customers", name="山田太郎")

    found = groups(admin)
    by_members = {frozenset(ids_of(g)): g for g in found}
    phone = by_members[frozenset({p1["id"], p2["id"], p3["id"]})]
    assert phone["reasons"] == ["phone"] and phone["score"] == 70 and phone["count"] == 3
    takahashi = by_members[frozenset({t1["id"], t2["id"]})]
    assert takahashi["reasons"] == ["name_company"] and takahashi["score"] == 80
    assert frozenset({k1["id"], k2["id"]}) in by_members
    assert not any(taro["id"] in ids_of(g) for g in found)
    assert len(found) == 3
    # Only one kind, and paging by cursor gives the same groups, one at a time.
    assert [ids_of(g) for g in groups(admin, reason="phone")] == [ids_of(phone)]
    seen: list[set[int]] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"per_page": 1}
        if cursor:
            params["cursor"] = cursor
        page = admin.get(f"{BASE}/customers/duplicates", params=params).json()
        seen += [ids_of(g) for g in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [ids_of(g) for g in found]
    assert admin.get(f"{BASE}/customers/duplicates", params={"cursor": "x!"}).status_code == 422

    # The record page's "possible duplicates".
    mine = admin.get(f"{BASE}/customers/records/{t1['id']}/duplicates").json()
    assert [(d["record"]["id"], d["reasons"], d["score"]) for d in mine] == [
        (t2["id"], ["name_company"], 80)
    ]


def test_email_and_phone_together_score_higher_and_form_one_group(admin: StaffClient) -> None:
    admin.post(
        BASE,
        json={
            "key": "customers",
            "fields": [
                {"key": "name", "type": "text"},
                {"key": "email", "type": "email"},
                {"key": "phone", "type": "phone"},
            ],
        },
    )
    a = add(admin, "customers", name="A", email="Hanako@Example.com", phone="090-1111-2222")
    b = add(
        admin,
        "customers",
        name="B",
        email="ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        phone="09011112222",
    )
    found = groups(admin)
    assert len(found) == 1  # not again as a phone group
    assert ids_of(found[0]) == {a["id"], b["id"]}
    assert found[0]["reasons"] == ["email", "phone"] and found[0]["score"] == 97
    # An edit that removes the shared phone updates the keys in the same transaction.
    admin.patch(
        f"{BASE}/customers/records/{b['id']}", json={"version": 1, "values": {"phone": None}}
    )
    assert groups(admin)[0]["reasons"] == ["email"]


def _merge_setup(admin: StaffClient) -> tuple[dict[str, Any], dict[str, Any], int]:
    design(admin)
    kizuna = add(admin, "companies", name="絆商事")["id"]
    a = add(admin, "customers", name="髙橋 一郎", email="ichiro@example.com", company=kizuna)
    b = add(
        admin,
        "customers",
        name="高橋一郎",
        email="takahashi@example.jp",
        phone="03-9999-0000",
        note="VIP",
        company=kizuna,
    )
    add(admin, "purchases", item="ペン", customer=a["id"])
    add(admin, "purchases", item="ノート", customer=b["id"])
    add(admin, "purchases", item="定規", customer=b["id"])
    add(admin, "applications", seminar="春セミナー", applicant=b["id"])
    return a, b, kizuna


def test_merge_moves_related_rows_keeps_history_and_frees_unique_values(
    admin: StaffClient,
) -> None:
    a, b, _ = _merge_setup(admin)
    merged = admin.post(
        f"{BASE}/customers/merge",
        json={
            "survivor": a["id"],
            "sources": [b["id"]],
            "values": {"email": b["id"]},  # the unique e-mail of the source
            "versions": {str(a["id"]): 1, str(b["id"]): 1},
        },
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    values = body["record"]["values"]
    assert values["email"] == "takahashi@example.jp"  # chosen from the second record
    assert values["name"] == "髙橋 一郎"  # the survivor's
    assert values["phone"] == "03-9999-0000" and values["note"] == "VIP"  # first non-empty
    assert body["record"]["version"] == 2 and body["merged"] == [b["id"]]
    assert {(m["table"], m["field"], m["count"]) for m in body["moved"]} == {
        ("purchases", "customer", 2),
        ("applications", "applicant", 1),
    }
    # Related rows in two tables now point at the survivor; the source is gone.
    purchases = admin.get(f"{BASE}/purchases/records").json()["items"]
    assert {p["values"]["customer"] for p in purchases} == {a["id"]}
    moved = next(p for p in purchases if p["values"]["item"] == "ノート")
    assert moved["version"] == 2
    apps = admin.get(f"{BASE}/applications/records").json()["items"]
    assert apps[0]["values"]["applicant"] == a["id"]
    assert admin.get(f"{BASE}/customers/records/{b['id']}").status_code == 404
    assert admin.get(f"{BASE}/customers/duplicates").json()["items"] == []
    # The survivor's history shows the merge with the source's id and full values.
    history = admin.get(f"{BASE}/customers/records/{a['id']}/history").json()
    assert history[0]["action"] == "merge"
    info = history[0]["changes"]["$merge"]
    assert info["sources"][0]["id"] == b["id"]
    assert info["sources"][0]["values"]["note"] == "VIP"
    assert history[0]["changes"]["email"]["before"] == "ichiro@example.com"
    # The source's own timeline stays readable and ends with the merge.
    gone = admin.get(f"{BASE}/customers/records/{b['id']}/history").json()
    assert gone[0]["action"] == "merged" and gone[0]["changes"]["$merge"]["survivor"] == a["id"]
    assert [h["action"] for h in gone][-1] == "create"
    # A moved purchase's history says where it came from.
    moved_history = admin.get(f"{BASE}/purchases/records/{moved['id']}/history").json()
    assert moved_history[0]["changes"]["customer"] == {"before": b["id"], "after": a["id"]}
    # The freed address can be used again.
    add(admin, "customers", name="別人", email="ichiro@example.com")
    audit = admin.get("/api/audit", params={"action": "customers.record.merge"}).json()
    assert any(e["action"] == "customers.record.merge" for e in audit["items"])


def test_merge_refuses_a_changed_record_and_bad_bodies(admin: StaffClient) -> None:
    a, b, _ = _merge_setup(admin)
    edit = admin.patch(
        f"{BASE}/customers/records/{b['id']}", json={"version": 1, "values": {"note": "changed"}}
    )
    assert edit.status_code == 200
    url = f"{BASE}/customers/merge"
    stale = admin.post(
        url,
        json={
            "survivor": a["id"],
            "sources": [b["id"]],
            "versions": {str(a["id"]): 1, str(b["id"]): 1},
        },
    )
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["code"] == "records_changed"
    assert problem["errors"][0]["field"] == f"versions.{b['id']}"
    # Nothing moved.
    purchases = admin.get(f"{BASE}/purchases/records").json()["items"]
    assert {p["values"]["customer"] for p in purchases} == {a["id"], b["id"]}
    both = {str(a["id"]): 1, str(b["id"]): 2}
    cases = [
        ({"survivor": a["id"], "sources": [a["id"]], "versions": both}, "sources"),
        ({"survivor": a["id"], "sources": [b["id"]], "versions": {str(a["id"]): 1}}, "versions"),
        (
            {"survivor": a["id"], "sources": [b["id"]], "values": {"nope": a["id"]},
             "versions": both},
            "values.nope",
        ),
        (
            {"survivor": a["id"], "sources": [b["id"]], "values": {"email": 999},
             "versions": both},
            "values.email",
        ),
    ]  # fmt: skip
    for body, where in cases:
        response = admin.post(url, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith(where)
    missing = admin.post(
        url,
        json={"survivor": a["id"], "sources": [99999], "versions": {str(a["id"]): 1, "99999": 1}},
    )
    assert missing.status_code == 404


def test_who_may_merge(admin: StaffClient, login_as: Callable[[str], StaffClient]) -> None:
    design(admin, owner_only=True)
    viewer = login_as("viewer")
    assert viewer.get(f"{BASE}/customers/duplicates").status_code == 200
    assert viewer.post(f"{BASE}/customers/merge", json={}).status_code == 403
    sales = login_as("sales")
    mine = add(sales, "customers", name="山本", phone="090-0000-1111")
    mine2 = add(sales, "customers", name="山本", phone="09000001111")
    marketer = login_as("marketer")
    theirs = add(marketer, "customers", name="山本", phone="090-0000-1111")
    # The marketer sees all three; the sales rep only their two.
    assert ids_of(groups(marketer)[0]) == {mine["id"], mine2["id"], theirs["id"]}
    sales = login_as("sales")
    own = add(sales, "customers", name="x", phone="090-5555-1111")
    own2 = add(sales, "customers", name="y", phone="090-5555-1111")
    assert {frozenset(ids_of(g)) for g in groups(sales)} == {frozenset({own["id"], own2["id"]})}
    # A sales rep cannot merge a record they do not own (another rep's: not even found).
    refused = sales.post(
        f"{BASE}/customers/merge",
        json={
            "survivor": own["id"],
            "sources": [theirs["id"]],
            "versions": {str(own["id"]): 1, str(theirs["id"]): 1},
        },
    )
    assert refused.status_code == 404
    ok = sales.post(
        f"{BASE}/customers/merge",
        json={
            "survivor": own["id"],
            "sources": [own2["id"]],
            "versions": {str(own["id"]): 1, str(own2["id"]): 1},
        },
    )
    assert ok.status_code == 200, ok.text


def test_merging_companies_moves_their_customers_name_keys(admin: StaffClient) -> None:
    design(admin)
    first = add(admin, "companies", name="絆商事")["id"]
    second = add(admin, "companies", name="絆商事 ")["id"]
    a = add(admin, "customers", name="髙橋一郎", company=first)
    b = add(admin, "customers", name="高橋 一郎", company=second)
    assert groups(admin) == []  # two company records: not (yet) the same company
    merged = admin.post(
        f"{BASE}/companies/merge",
        json={
            "survivor": first,
            "sources": [second],
            "versions": {str(first): 1, str(second): 1},
        },
    )
    assert merged.status_code == 200, merged.text
    found = groups(admin)
    assert [ids_of(g) for g in found] == [{a["id"], b["id"]}]
    assert found[0]["reasons"] == ["name_company"]


def test_a_bulk_change_of_company_alone_re_keys_the_duplicates(
    admin: StaffClient, runtime: Runtime
) -> None:
    """The company is no searched text, but it is part of a match key: every write path (here
    a bulk action) keeps the keys in step when only it changes."""
    design(admin)
    kizuna = add(admin, "companies", name="株式会社絆")["id"]
    aoba = add(admin, "companies", name="青葉商事")["id"]
    first = add(admin, "customers", name="山田 太郎", company=kizuna)["id"]
    second = add(admin, "customers", name="山田　太郎", company=aoba)["id"]
    assert groups(admin) == []  # same name, different companies: two people
    started = admin.post(
        f"{BASE}/customers/bulk",
        json={"action": "set_field", "ids": [second], "field": "company", "value": kizuna},
    )
    assert started.status_code == 202, started.text
    run_job(runtime, bulk.KIND, started.json()["job_id"])  # or the in-process worker ran it
    for _ in range(100):
        found = groups(admin)
        if found:
            break
        time.sleep(0.1)
    assert [ids_of(g) for g in found] == [{first, second}]
    assert found[0]["reasons"] == ["name_company"]


def table_setting(admin: StaffClient, **body: Any) -> Any:
    return admin.patch(f"{BASE}/customers", json=body)


def test_the_table_setting_chooses_the_name_and_company_fields(admin: StaffClient) -> None:
    """Which fields are the person's name and company is a table setting (else guessed):
    checked with field errors, and a change rebuilds the match keys of the records."""
    design(admin)
    for field in (
        {"key": "contact", "type": "text", "label": {"ja": "担当者名"}},
        {"key": "employer", "type": "text", "label": {"ja": "勤務先"}},
    ):
        assert admin.post(f"{BASE}/customers/fields", json=field).status_code == 201
    kizuna = add(admin, "companies", name="絆商事")["id"]
    aoba = add(admin, "companies", name="青葉")["id"]
    a = add(admin, "customers", name="山田 太郎", contact="サトウ 一郎", company=kizuna,
            employer="株式会社絆")["id"]  # fmt: skip
    b = add(admin, "customers", name="山田 花子", contact="ｻﾄｳ 一郎", company=aoba,
            employer="株式会社　絆")["id"]  # fmt: skip
    assert groups(admin) == []  # guessed: name + the company reference, both differ
    page = admin.get(f"{BASE}/customers/duplicates").json()
    assert page["rule"]["name_field"] == "name" and page["rule"]["company_field"] == "company"
    assert page["rule"]["name_field_set"] is False

    # Refused with an error at the setting's place; nothing changes.
    for body, place, code in (
        ({"name_field": "email"}, "name_field", "invalid_name_field"),
        ({"name_field": "nothing"}, "name_field", "invalid_name_field"),
        ({"name_field": "Not A Key"}, "name_field", "invalid"),
        ({"company_field": "phone"}, "company_field", "invalid_company_field"),
        ({"name_field": "contact", "company_field": "contact"}, "company_field", "same_as_name"),
    ):
        answer = table_setting(admin, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [(place, code)]
    assert admin.get(f"{BASE}/customers").json()["name_field"] is None

    # The contact is the person, the text employer the company: the keys are rebuilt at once.
    answer = table_setting(admin, name_field="contact", company_field="employer")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["name_field"], answer.json()["company_field"]) == ("contact", "employer")
    found = groups(admin)
    assert [ids_of(g) for g in found] == [{a, b}] and found[0]["reasons"] == ["name_company"]
    rule = admin.get(f"{BASE}/customers/duplicates").json()["rule"]
    assert (rule["name_field"], rule["name_field_set"], rule["company_is_reference"]) == (
        "contact",
        True,
        False,
    )
    duplicates_of_a = admin.get(f"{BASE}/customers/records/{a}/duplicates").json()
    assert [d["record"]["id"] for d in duplicates_of_a] == [b]

    # Back to the reference as the company: different companies, not a group.
    assert table_setting(admin, company_field="company").status_code == 200
    assert groups(admin) == []
    assert table_setting(admin, company_field="employer").status_code == 200
    assert len(groups(admin)) == 1

    # Retiring the chosen name field clears the setting (automatic again) and re-keys.
    assert admin.delete(f"{BASE}/customers/fields/contact").status_code in (200, 204)
    table = admin.get(f"{BASE}/customers").json()
    assert table["name_field"] is None and table["company_field"] == "employer"
    assert groups(admin) == []  # the names 山田 太郎 / 山田 花子 differ

    # null: chosen automatically again.
    assert table_setting(admin, company_field=None).status_code == 200
    assert admin.get(f"{BASE}/customers/duplicates").json()["rule"]["company_field"] == "company"

    # A type the setting cannot name any more clears it too.
    assert table_setting(admin, name_field="employer", company_field="company").status_code == 200
    changed = admin.patch(
        f"{BASE}/customers/fields/employer", json={"type": "email", "allow_loss": True}
    )
    assert changed.status_code == 200, changed.text
    table = admin.get(f"{BASE}/customers").json()
    assert table["name_field"] is None and table["company_field"] == "company"
