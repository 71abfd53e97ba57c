"""Imports' tests: the data tables (ct_*) are dropped around each test, as for customers."""

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
