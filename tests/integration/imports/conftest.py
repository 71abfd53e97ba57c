"""Imports' tests: the data tables (ct_*) are dropped around each test, as for customers;
``table`` makes the table ``customers`` (e-mail unique, name required, phone, age)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.customers import services
from api.customers.definitions import parse_field, parse_table
from api.principal import Principal, cli_principal
from api.runtime import Runtime
from tests.integration.customers.conftest import drop_data_tables


@pytest.fixture(autouse=True)
def _fresh_data_tables(database_url: str) -> Iterator[None]:
    drop_data_tables(database_url)
    yield
    drop_data_tables(database_url)


@pytest.fixture
def actor() -> Principal:
    return cli_principal("tests")


@pytest.fixture
def table(runtime: Runtime, actor: Principal) -> str:
    with runtime.db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "customers"}),
            [
                parse_field({"key": "email", "type": "email", "unique": True,
                             "label": {"ja": "メールアドレス", "en": "E-mail"}}),
                parse_field({"key": "name", "type": "text", "required": True,
                             "label": {"ja": "氏名", "en": "Name"}}),
                parse_field({"key": "phone", "type": "phone", "label": {"ja": "電話番号"}}),
                parse_field({"key": "age", "type": "integer", "label": {"en": "Age"}}),
            ],
        )  # fmt: skip
    return "customers"
