"""Staff roles and permissions: what a permission is, and how the installed ones are found.

Each domain declares its own permissions (``api/<domain>/permissions.py``) with the roles that
hold them, and lists them in its ``domain.py``; ``create_app`` collects them
(:class:`PermissionRegistry`). Every endpoint names the permission it needs
(``api.web.auth.requires``); a route that changes something names one that ``writes``. An
admin holds every permission. A test builds the role × route matrix from the app's route table
and checks every cell, for login sessions and for API tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    marketer = "marketer"
    sales = "sales"
    viewer = "viewer"


def is_role(value: str) -> bool:
    return value in Role.__members__.values()


@dataclass(frozen=True, eq=False)
class Permission:
    """One thing staff may be allowed to do, e.g. ``outbox:write``.

    ``roles``: the roles besides admin that hold it. ``writes``: it allows a change (said
    explicitly, not guessed from the name); a route that changes something must need one.
    """

    value: str
    roles: frozenset[Role] = frozenset()
    writes: bool = False
    label: Mapping[str, str] = field(default_factory=dict)  # {"ja": …, "en": …}

    def held_by(self, role: str) -> bool:
        return role == Role.admin or role in self.roles

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Permission({self.value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Permission):
            return self.value == other.value
        return isinstance(other, str) and self.value == other

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: Permission) -> bool:
        return self.value < other.value


class PermissionRegistry:
    """The permissions of the installed domains."""

    def __init__(self, permissions: Iterable[Permission] = ()) -> None:
        self._all: dict[str, Permission] = {}
        for permission in permissions:
            if permission.value in self._all:
                raise ValueError(f"permission {permission.value!r} is declared twice")
            self._all[permission.value] = permission

    def __iter__(self) -> Iterator[Permission]:
        return iter(self._all.values())

    def __len__(self) -> int:
        return len(self._all)

    def for_role(self, role: str) -> frozenset[Permission]:
        if not is_role(role):
            return frozenset()
        return frozenset(p for p in self if p.held_by(role))

    def roles(self) -> dict[Role, frozenset[Permission]]:
        return {role: self.for_role(role) for role in Role}
