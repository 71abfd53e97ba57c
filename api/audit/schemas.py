"""Response bodies of the audit log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class AuditOut(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    actor_type: str
    actor_id: str | None
    actor_label: str
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
