"""Request and response bodies of the mail API (test mail, dev outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class TestMailRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]


class OutboxItem(msgspec.Struct, kw_only=True):
    id: str
    at: datetime
    sender: str = msgspec.field(name="from")
    to: list[str]
    subject: str
    size: int


class OutboxPage(msgspec.Struct, kw_only=True):
    enabled: bool
    items: list[OutboxItem]
    total: int
    page: int
    per_page: int


class OutboxMessageOut(msgspec.Struct, kw_only=True):
    id: str
    at: datetime
    sender: str = msgspec.field(name="from")
    to: list[str]
    cc: list[str]
    subject: str
    headers: list[tuple[str, str]]
    text: str | None
    has_html: bool
