"""Helpers of the member-site tests: live settings, the dev outbox's mails, links in them."""

from __future__ import annotations

import re
import time
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from api.livesettings import services as live
from api.mail.outbox import OutboxMessage, list_messages, read_message
from api.principal import cli_principal
from api.runtime import Runtime

LINK = re.compile(r"/api/members/links/([A-Za-z0-9_.\-]+)")
FORM = {"content-type": "application/x-www-form-urlencoded"}
NEW_PASSWORD = "a brand new passphrase 42"


def configure(runtime: Runtime, **values: Any) -> None:
    with runtime.db.transaction() as session:
        live.update(session, cli_principal("tests"), values)


def mails_to(
    runtime: Runtime, address: str, count: int = 1, timeout: float = 20
) -> list[OutboxMessage]:
    """The mails to ``address`` in the dev outbox, oldest first, once there are ``count``."""
    directory = runtime.settings.outbox_dir
    deadline = time.monotonic() + timeout
    while True:
        items, _ = list_messages(directory, limit=200)
        found = [read_message(directory, i.id) for i in reversed(items) if address in i.to]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, (address, [m.subject for m in found])
            return found
        time.sleep(0.05)


def token_in(message: OutboxMessage) -> str:
    match = LINK.search(message.text)
    assert match, message.text
    return match.group(1)


def register(client: TestClient[Litestar], **body: Any) -> Any:
    return client.post("/api/members/register", json=body)


def login(client: TestClient[Litestar], email: str, password: str) -> Any:
    return client.post("/api/members/login", json={"email": email, "password": password})


def me(client: TestClient[Litestar]) -> Any:
    return client.get("/api/members/me").json()["member"]


def record_of(runtime: Runtime, email: str) -> int:
    from api.members import services as members

    with runtime.db.read() as session:
        found = members._find_record(session, members.member_design(session), email)
    assert found is not None, email
    return found
