"""The upload limit is checked while the body streams in (413), before the whole file has
arrived, and nothing is kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.runtime import Runtime
from tests.fixtures.app import StaffClient
from tests.integration.imports.test_import_api import BASE, make_table


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"import_max_bytes": 10_000}


def test_too_large_is_refused_while_streaming(admin: StaffClient, runtime: Runtime) -> None:
    make_table(admin)
    assert admin.get(f"{BASE}/imports/settings").json()["max_bytes"] == 10_000
    sent = {"bytes": 0}

    def body() -> Iterator[bytes]:
        yield b"email,name\r\n"
        for n in range(10_000):  # ~300 KB, far past the limit
            line = f"user{n}@example.com,name {n}\r\n".encode()
            sent["bytes"] += len(line)
            yield line

    answer = admin.post(
        f"{BASE}/imports", params={"filename": "big.csv"}, content=body(),
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert answer.status_code == 413, answer.text
    assert answer.json()["errors"][0]["code"] == "import_too_large"
    # a declared length over the limit is refused before a byte is read
    big = b"email\r\n" + b"a@example.com\r\n" * 1000
    answer = admin.post(f"{BASE}/imports", files={"file": ("big.csv", big, "text/csv")})
    assert answer.status_code == 413
    assert list(runtime.settings.imports_dir.glob("*")) == []
    assert admin.get(f"{BASE}/imports").json() == []
