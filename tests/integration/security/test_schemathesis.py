"""A bounded schemathesis run over every operation of ``/api/schema``, against the ASGI app in
this process, as an anonymous caller and as an admin (API token), on SQLite and PostgreSQL.

It must find no 5xx and no response that contradicts the schema (status code, content type,
headers, body). Examples per operation are few and Hypothesis' deadline is off, so CI stays
fast on two shared cores; destructive operations are fine on a test database.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.specs.openapi import checks as openapi_checks

from api.app import create_app
from api.domain import permission_registry
from api.domains import DOMAINS
from api.principal import cli_principal
from api.runtime import Runtime
from api.settings import load_settings
from api.staff import services as staff_services
from tests.fixtures.app import PASSWORD, TEST_SECRET

# Few in CI; KIZUNA_FUZZ_EXAMPLES=200 for a deeper run by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("KIZUNA_FUZZ_EXAMPLES", "10"))

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def admin_bearer(runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as session:
        staff = staff_services.create_staff(
            session, cli_principal("tests"), email="fuzz-admin@example.jp", name="Fuzz Admin",
            role="admin", password=PASSWORD,
        )  # fmt: skip
        principal = staff_services.principal_for_staff(staff)
        _, secret = staff_services.create_token(
            session,
            principal,
            name="schemathesis",
            role="admin",
            expires_in_days=None,
            permissions=permission_registry(DOMAINS),
        )
    return {"Authorization": f"Bearer {secret}"}


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document (it depends on the code, not on the database)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            load_settings(env="test", var_dir=Path(tmp), site_dir=Path(tmp) / "site",
                          secret_key=TEST_SECRET, redis_url="", smtp_url="")
        )  # fmt: skip
        try:
            return app.openapi_schema.to_schema()
        finally:
            app.state.runtime.close()


# Collected per operation from the document; each example is sent to the test's own app.
schema = schemathesis.openapi.from_dict(openapi_document())


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@BOUNDED
def test_api_answers_as_documented(case: Any, app: Litestar, admin_bearer: dict[str, str]) -> None:
    """Each example is sent twice: anonymously, then as an admin (an admin API token)."""
    case.call_and_validate(app=app, checks=CHECKS)
    case.call_and_validate(app=app, headers=admin_bearer, checks=CHECKS)
