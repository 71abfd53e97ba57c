"""Groups' tests: members are records of a data table (ct_*), dropped around every test as in
the customer database's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.principal import Principal, cli_principal
from tests.integration.customers.conftest import drop_data_tables


@pytest.fixture(autouse=True)
def _fresh_data_tables(database_url: str) -> Iterator[None]:
    drop_data_tables(database_url)
    yield
    drop_data_tables(database_url)


@pytest.fixture
def actor() -> Principal:
    return cli_principal("tests")
