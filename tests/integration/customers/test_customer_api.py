"""The customer database's JSON API: strict bodies, field-level errors, roles, 409s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fixtures.app import StaffClient

TABLE: dict[str, Any] = {
    "key": "customers",
    "label": {"ja": "顧客", "en": "Customers"},
    "statuses": ["lead", {"value": "customer", "label": {"ja": "顧客", "en": "Customer"}}],
    "fields": [
        {"key": "name", "type": "text", "required": True, "label": {"ja": "氏名"}},
        {"key": "email", "type": "email", "unique": True},
        {"key": "age", "type": "text"},
    ],
}


def make_table(admin: StaffClient) -> dict[str, Any]:
    response = admin.post("/api/customers/tables", json=TABLE)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_admin_designs_a_table_and_fields(admin: StaffClient) -> None:
    table = make_table(admin)
    assert [f["key"] for f in table["fields"]] == ["name", "email", "age"]
    assert table["statuses"][0] == {"value": "lead", "label": {"ja": "lead", "en": "lead"}}
    added = admin.post(
        "/api/customers/tables/customers/fields",
        json={"key": "tags", "type": "multi_select", "choices": ["a", "b"]},
    )
    assert added.status_code == 201, added.text
    assert added.json()["fields"][-1]["key"] == "tags"
    listed = admin.get("/api/customers/tables").json()
    assert [t["key"] for t in listed] == ["customers"]
    relabelled = admin.patch("/api/customers/tables/customers", json={"label": {"en": "Clients"}})
    assert relabelled.status_code == 200 and relabelled.json()["label"] == {"en": "Clients"}
    assert admin.delete("/api/customers/tables/customers/fields/tags").status_code == 204
    fields = admin.get("/api/customers/tables/customers").json()["fields"]
    assert {f["key"]: f["retired"] for f in fields}["tags"] is True
    restored = admin.post("/api/customers/tables/customers/fields/tags/restore")
    assert restored.status_code == 200


def test_bad_designs_are_422_with_the_rule(admin: StaffClient) -> None:
    hostile = admin.post("/api/customers/tables", json={"key": "Robert'); DROP TABLE staff;--"})
    assert hostile.status_code == 422
    assert "starts with a lower-case letter" in hostile.json()["errors"][0]["message"]
    reserved = admin.post("/api/customers/tables", json={"key": "select"})
    assert reserved.status_code == 422 and reserved.json()["errors"][0]["code"] == "reserved_key"
    unknown = admin.post("/api/customers/tables", json={"key": "a", "colour": "red"})
    assert unknown.status_code == 422
    make_table(admin)
    bad_field = admin.post(
        "/api/customers/tables/customers/fields", json={"key": "x", "type": "select"}
    )
    assert bad_field.status_code == 422 and bad_field.json()["errors"][0]["field"] == "choices"
    taken = admin.post(
        "/api/customers/tables/customers/fields", json={"key": "age", "type": "text"}
    )
    assert taken.status_code == 409
    assert admin.get("/api/customers/tables/nowhere").status_code == 404
    assert admin.get("/api/customers/tables/NOPE").status_code in (400, 404, 422)


def test_type_change_checks_then_refuses_then_applies_when_confirmed(admin: StaffClient) -> None:
    make_table(admin)
    base = "/api/customers/tables/customers"
    ok = admin.post(f"{base}/records", json={"values": {"name": "A", "age": "42"}}).json()
    bad = admin.post(f"{base}/records", json={"values": {"name": "B", "age": "forty"}}).json()
    check = admin.post(f"{base}/fields/age/check", json={"type": "integer"})
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["applied"] is False and body["problem_count"] == 1
    assert body["problems"] == [
        {
            "record_id": bad["id"],
            "value": "forty",
            "code": "not_integer",
            "message": "must be a whole number",
        }
    ]
    refused = admin.patch(f"{base}/fields/age", json={"type": "integer"})
    assert refused.status_code == 409
    assert refused.json()["errors"] == [
        {"field": "age", "message": "must be a whole number", "code": "not_integer", "row": bad["id"],
         "params": {"value": "forty"}}
    ]  # fmt: skip
    done = admin.patch(f"{base}/fields/age", json={"type": "integer", "allow_loss": True})
    assert done.status_code == 200 and done.json()["lost"] == 1
    assert admin.get(f"{base}/records/{ok['id']}").json()["values"]["age"] == 42


def test_records_crud_with_field_errors_conflicts_and_history(admin: StaffClient) -> None:
    make_table(admin)
    base = "/api/customers/tables/customers/records"
    invalid = admin.post(base, json={"values": {"email": "nope", "age": ["x"]}})
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {
        "values.name", "values.email", "values.age"
    }  # fmt: skip
    strict = admin.post(base, json={"values": {"name": "A"}, "extra": 1})
    assert strict.status_code == 422
    created = admin.post(base, json={"values": {"name": "A", "email": "a@example.jp"}})
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["status"] == "lead" and record["version"] == 1
    duplicate = admin.post(base, json={"values": {"name": "B", "email": "A@example.jp"}})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "values.email"

    url = f"{base}/{record['id']}"
    first = admin.patch(url, json={"version": 1, "values": {"name": "A2"}})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = admin.patch(url, json={"version": 1, "values": {"age": "3"}})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "values.name"
    assert stale.json()["errors"][0]["params"]["current"] == "A2"
    missing_version = admin.patch(url, json={"values": {"name": "x"}})
    assert missing_version.status_code == 422

    history = admin.get(f"{url}/history").json()
    assert [(h["action"], h["source"]) for h in history] == [
        ("update", "admin"),
        ("create", "admin"),
    ]
    assert history[0]["changes"] == {"name": {"before": "A", "after": "A2"}}
    page = admin.get(base, params={"per_page": 1}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == record["id"]
    assert admin.delete(f"{url}?version=1").status_code == 409
    assert admin.delete(f"{url}?version=2").status_code == 204
    assert admin.get(url).status_code == 404


def test_roles_design_write_read(
    admin: StaffClient, login_as: Callable[[str], StaffClient]
) -> None:
    make_table(admin)
    record = admin.post(
        "/api/customers/tables/customers/records", json={"values": {"name": "A"}}
    ).json()
    url = f"/api/customers/tables/customers/records/{record['id']}"
    marketer = login_as("marketer")
    assert marketer.post("/api/customers/tables", json={"key": "x"}).status_code == 403
    assert marketer.patch(url, json={"version": 1, "values": {"name": "M"}}).status_code == 200
    sales = login_as("sales")
    assert sales.get(url).status_code == 200  # the table is not owner-only
    assert sales.patch(url, json={"version": 2, "values": {"name": "S"}}).status_code == 403
    own = sales.post("/api/customers/tables/customers/records", json={"values": {"name": "S"}})
    assert own.status_code == 201 and own.json()["owner_id"] == sales.staff.id
    viewer = login_as("viewer")
    assert viewer.get(url).status_code == 200
    assert viewer.patch(url, json={"version": 2, "values": {"name": "V"}}).status_code == 403
    assert (
        viewer.post("/api/customers/tables/customers/records", json={"values": {}}).status_code
        == 403
    )


def test_hostile_input_is_a_4xx_never_a_500(admin: StaffClient) -> None:
    admin.post("/api/customers/tables", json=TABLE)
    admin.post(
        "/api/customers/tables/customers/fields",
        json={"key": "amount", "type": "decimal"},
    )
    admin.post("/api/customers/tables/customers/fields", json={"key": "at", "type": "datetime"})
    base = "/api/customers/tables/customers/records"
    bodies: list[Any] = [
        {"values": {"name": "A", "amount": "1e400"}},
        {"values": {"name": "A", "amount": "NaN"}},
        {"values": {"name": "A", "at": "0001-01-01T00:00:00"}},
        {"values": {"name": "A\u0000"}},
        {"values": {"name": "A\u202e"}},
        {"values": {"name": {"nested": [1, 2]}}},
        {"values": {"name": "A"}, "owner_id": 2**40},
        {"values": {"name": "A"}, "status": "x\u0000"},
        {"values": {"x" * 5000: 1}},
        {"values": []},
        [],
    ]
    for body in bodies:
        response = admin.post(base, json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
    for cursor in ("eyJkIjoiYWZ0ZXIiLCJrIjpbImEiXX0", "!!", "e30"):
        listed = admin.get(base, params={"cursor": cursor})
        assert listed.status_code == 422, listed.text
    for path in ("/api/customers/tables/%00", "/api/customers/tables/a%3Bdrop/records"):
        assert 400 <= admin.get(path).status_code < 500
    # Scripts and formula prefixes are stored as typed and come back as JSON strings.
    created = admin.post(base, json={"values": {"name": "<img src=x onerror=alert(1)>=1+1"}})
    assert created.status_code == 201
    assert created.json()["values"]["name"] == "<img src=x onerror=alert(1)>=1+1"


def test_display_order_of_fields(admin: StaffClient) -> None:
    make_table(admin)
    url = "/api/customers/tables/customers/field-order"
    moved = admin.post(url, json={"fields": ["age", "name", "email"]})
    assert moved.status_code == 200, moved.text
    assert [f["key"] for f in moved.json()["fields"]] == ["age", "name", "email"]
    assert admin.post(url, json={"fields": ["age", "name"]}).status_code == 422
    assert admin.post(url, json={"fields": ["age", "name", "email", "x"]}).status_code == 422


def test_owners_are_names_every_reader_sees(
    admin: StaffClient, login_as: Callable[[str], StaffClient]
) -> None:
    """The owner column and picker: every staff member's id and name (no e-mail), and whether
    they may own records now; a viewer reads them too, though it may not see the staff list."""
    make_table(admin)
    sales = login_as("sales")
    viewer = login_as("viewer")
    assert viewer.get("/api/staff/users").status_code == 403
    response = viewer.get("/api/customers/tables/customers/owners")
    assert response.status_code == 200, response.text
    owners = {o["id"]: o for o in response.json()}
    assert set(owners[sales.staff.id]) == {"id", "name", "active"}
    assert owners[sales.staff.id] == {
        "id": sales.staff.id,
        "name": sales.staff.name,
        "active": True,
    }
    assert owners[admin.staff.id]["active"] is True
    assert owners[viewer.staff.id]["active"] is False  # a viewer cannot own records
    assert viewer.get("/api/customers/tables/nothing/owners").status_code == 404


def test_history_pages_back_with_before(admin: StaffClient) -> None:
    """A long timeline comes a page at a time, newest first; ``before`` continues."""
    make_table(admin)
    record = admin.post(
        "/api/customers/tables/customers/records", json={"values": {"name": "v1"}}
    ).json()
    url = f"/api/customers/tables/customers/records/{record['id']}"
    for version in range(1, 5):
        response = admin.patch(
            url, json={"version": version, "values": {"name": f"v{version + 1}"}}
        )
        assert response.status_code == 200, response.text
    first = admin.get(f"{url}/history", params={"per_page": 2}).json()
    assert [h["changes"]["name"]["after"] for h in first] == ["v5", "v4"]
    rest = admin.get(f"{url}/history", params={"per_page": 2, "before": first[-1]["id"]}).json()
    assert [h["changes"]["name"]["after"] for h in rest] == ["v3", "v2"]
    last = admin.get(f"{url}/history", params={"per_page": 2, "before": rest[-1]["id"]}).json()
    assert [h["action"] for h in last] == ["create"]
    assert admin.get(f"{url}/history", params={"per_page": 0}).status_code == 422
