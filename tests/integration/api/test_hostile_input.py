"""Hostile and malformed input against the API, on both databases (PostgreSQL is the stricter:
it refuses NUL in text, which SQLite would store)."""

from __future__ import annotations

from typing import Any

from tests.fixtures.app import PASSWORD, StaffClient


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def test_nul_and_control_characters_are_refused_not_500(admin: StaffClient) -> None:
    body = {
        "email": "nul@example.jp",
        "name": "bad\x00name",
        "role": "viewer",
        "password": PASSWORD,
    }
    problem = problem_of(admin.post("/api/staff/users", json=body), 422)
    assert problem["errors"][0]["field"] == "name"
    problem = problem_of(admin.get("/api/staff/users", params={"q": "a\x00b"}), 422)
    assert problem["errors"][0] == {
        "field": "q",
        "message": "must not contain control characters",
        "code": "control_chars",
    }
    problem_of(admin.get("/api/audit", params={"actor": "\x00"}), 422)
    for hostile in ("\x9b", "\x7f", "\ufffe"):  # C1 CSI, DEL, a noncharacter: the api/fields rule
        problem_of(admin.get("/api/staff/users", params={"q": f"a{hostile}b"}), 422)
    # A JSON filter laid out over lines is not refused for its newlines.
    assert admin.get("/api/staff/users", params={"q": "a\nb"}).status_code != 422
    problem = problem_of(
        admin.post("/api/staff/tokens", json={"name": "t\x07ab", "role": "viewer"}), 422
    )
    assert problem["errors"][0]["field"] == "name"
    problem = problem_of(
        admin.patch("/api/settings", json={"values": {"mail.footer": "a\x00"}}), 422
    )
    assert problem["errors"][0]["field"] == "mail.footer"


def test_sql_and_like_metacharacters_are_just_text(admin: StaffClient) -> None:
    for q in ("' OR 1=1 --", "%", "_", "\\", "admin%' --"):
        response = admin.get("/api/staff/users", params={"q": q})
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 0, q


def test_bad_pagination_and_oversized_values(admin: StaffClient) -> None:
    for params in ({"page": "0"}, {"per_page": "100000"}, {"page": "abc"}, {"q": "x" * 1000}):
        problem = problem_of(admin.get("/api/staff/users", params=params), 422)
        assert problem["errors"][0]["field"] == next(iter(params)), problem
    long_name = {
        "email": "long@example.jp",
        "name": "長" * 201,
        "role": "viewer",
        "password": PASSWORD,
    }
    problem_of(admin.post("/api/staff/users", json=long_name), 422)
    problem_of(admin.post("/api/staff/users", json=[1, 2, 3]), 422)
    problem_of(
        admin.post(
            "/api/staff/users", content=b"\xff\xfe", headers={"content-type": "application/json"}
        ),
        400,
    )
    problem_of(admin.patch("/api/staff/users/99999999999999999999", json={}), 422)
    problem_of(admin.patch("/api/staff/users/2147483647", json={}), 404)


def test_header_injection_in_test_mail_recipient(admin: StaffClient) -> None:
    problem = problem_of(
        admin.post("/api/mail/test", json={"to": "a@example.jp\r\nBcc: victim@example.com"}), 422
    )
    assert problem["errors"][0]["field"] == "to"


def test_html_in_names_is_stored_as_text(admin: StaffClient) -> None:
    body = {
        "email": "xss@example.jp",
        "name": "<script>alert(1)</script>",
        "role": "viewer",
        "password": PASSWORD,
    }
    created = admin.post("/api/staff/users", json=body)
    assert created.status_code == 201
    assert (
        created.json()["name"] == "<script>alert(1)</script>"
    )  # escaped where shown, never altered
    assert created.headers["content-type"].startswith("application/json")
