"""Shared fixtures: see tests/README.md for what each provides."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.smtp",
    "tests.fixtures.redis",
    "tests.fixtures.live",
    "tests.fixtures.browser",
]
