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


def pytest_collection_modifyitems(items: list[object]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session (the browser is session-scoped), and ``asyncio.run`` /
    ``anyio.run`` in a later test would fail on it. The fast tests also answer first."""
    items.sort(key=lambda item: "/tests/e2e/" in str(getattr(item, "path", "")))
