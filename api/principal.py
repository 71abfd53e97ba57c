"""Who is acting: passed to every service that writes, recorded in the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.staff.permissions import Permission


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" | "token" | "system"
    id: str | None
    label: str
    role: str = ""
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    ip: str | None = None
    staff_id: int | None = None  # the staff account (for tokens: the one who created it)
    session_id: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SYSTEM = Principal(kind="system", id=None, label="system")


def cli_principal(label: str = "kizuna CLI") -> Principal:
    from api.staff.permissions import ALL_PERMISSIONS

    return Principal(kind="system", id=None, label=label, role="admin", permissions=ALL_PERMISSIONS)
