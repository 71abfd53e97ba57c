"""The gate's integration tests use the members' fixtures: a member table, two groups,
members with passwords (tests/integration/members/conftest.py)."""

from tests.integration.members.conftest import (  # noqa: F401 - fixtures used by the tests
    _fresh_data_tables,
    actor,
    people,
)
