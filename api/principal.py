"""Who is acting: passed to every service that writes, recorded in the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.permissions import Permission, Role


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" | "token" | "system"
    id: str | None
    label: str
    role: str = ""
    # Every role that must hold a permission for this principal to have it: a staff member's
    # role; for an API token its own role and its creator's current one (never more than either).
    roles: tuple[str, ...] = ()
    ip: str | None = None
    staff_id: int | None = None  # the staff account (for tokens: the one who created it)
    session_id: str | None = None

    def can(self, permission: Permission) -> bool:
        return bool(self.roles) and all(permission.held_by(role) for role in self.roles)

    def allowed(self, permissions: Iterable[Permission]) -> frozenset[Permission]:
        """Which of ``permissions`` this principal holds."""
        return frozenset(p for p in permissions if self.can(p))

    def as_payload(self) -> dict[str, Any]:
        """Who started a job, kept in its payload (the job acts as them: history, ownership)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "role": self.role,
            "roles": list(self.roles),
            "staff_id": self.staff_id,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any] | None) -> Principal:
        """:meth:`as_payload` back (the same principal, bar its request's ip and session)."""
        data = data or {}
        return cls(
            kind=str(data.get("kind", "system")),
            id=data.get("id"),
            label=str(data.get("label", "")),
            role=str(data.get("role", "")),
            roles=tuple(data.get("roles", ())),
            staff_id=data.get("staff_id"),
        )


SYSTEM = Principal(kind="system", id=None, label="system")


def cli_principal(label: str = "kizuna CLI") -> Principal:
    return Principal(kind="system", id=None, label=label, role=Role.admin, roles=(Role.admin,))
