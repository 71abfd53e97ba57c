"""The OpenAPI description tells the truth: problem details for errors, every error status the
API sends, no token on public endpoints, no body on a 204."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.web.problems import PROBLEM_JSON

PUBLIC = {
    ("post", "/api/staff/auth/login"),
    ("get", "/api/health"),
    ("get", "/api/access/check"),  # nginx auth_request: by the member cookies, not staff
    # the site's member log-in (api/members): members are not staff
    ("post", "/api/members/login"),
    ("post", "/api/members/logout"),
    ("get", "/api/members/me"),
    # the member site (api/members/site_controllers.py): visitors and logged-in members
    ("get", "/api/members/password-rules"),
    ("get", "/api/members/registration"),
    ("post", "/api/members/register"),
    ("get", "/api/members/links/{token}"),
    ("post", "/api/members/confirm"),
    ("post", "/api/members/password/reset"),
    ("post", "/api/members/password/reset/complete"),
    ("post", "/api/members/email/confirm"),
    ("get", "/api/members/profile"),
    ("put", "/api/members/profile"),
    ("post", "/api/members/profile"),
    ("post", "/api/members/password"),
    ("post", "/api/members/email"),
    ("get", "/api/members/sessions"),
    ("delete", "/api/members/sessions/{session_id}"),
    ("post", "/api/members/sessions/end"),
    ("post", "/api/members/sessions/{session_id}/end"),
    ("post", "/api/members/withdraw"),
}


@pytest.fixture
def document(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/api/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    }


def test_errors_are_documented_as_problem_details(document: dict[str, Any]) -> None:
    ops = operations(document)
    assert len(ops) > 20
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code", "instance"}
    seen: set[str] = set()
    for key, op in ops.items():
        for status, response in op["responses"].items():
            if int(status) < 400 or (key, status) == (("get", "/api/health"), "503"):
                continue  # health answers 503 with its own body, for load balancers
            seen.add(status)
            assert list(response["content"]) == [PROBLEM_JSON], (key, status)
            schema = response["content"][PROBLEM_JSON]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (key, status)
    assert {"400", "401", "403", "404", "409", "422", "429", "500"} <= seen


def test_guarded_operations_need_a_token_or_the_cookie_and_public_ones_do_not(
    document: dict[str, Any],
) -> None:
    assert "security" not in document  # no global default: each operation says
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"bearer", "cookie", "csrf"}
    for (method, path), op in operations(document).items():
        if (method, path) in PUBLIC:
            assert not op.get("security"), path
            continue
        assert {"401", "403"} <= set(op["responses"]), (method, path)
        requirements = op["security"]
        assert {"bearer": []} in requirements, (method, path)
        cookie = {"cookie": [], "csrf": []} if method != "get" else {"cookie": []}
        assert cookie in requirements, (method, path)


def test_login_and_logout_are_described_as_they_answer(document: dict[str, Any]) -> None:
    ops = operations(document)
    health = ops[("get", "/api/health")]["responses"]
    assert "401" not in health
    for status in ("200", "503"):
        schema = health[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Health"}
    login = ops[("post", "/api/staff/auth/login")]
    assert {"401", "403", "415", "422", "429"} <= set(login["responses"])
    logout = ops[("post", "/api/staff/auth/logout")]
    assert "content" not in logout["responses"]["204"]
    for key, op in ops.items():
        if "204" in op["responses"]:
            assert "content" not in op["responses"]["204"], key
    for key, op in ops.items():
        if "{" in key[1]:
            assert "404" in op["responses"], key
