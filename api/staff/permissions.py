"""Staff roles and what each may do. The single place that decides who may do what.

Every admin endpoint names one permission (``api.web.auth.requires``); every route that
changes something (any method but GET/HEAD) names one of ``WRITE_PERMISSIONS``. The only
exceptions are the self-service routes (log-out, one's own account), guarded by
``api.web.auth.self_service()``. A test builds the role × route matrix from the app's route
table and checks every cell, for login sessions and for API tokens.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    staff_read = "staff:read"
    staff_write = "staff:write"
    tokens_read = "tokens:read"
    tokens_write = "tokens:write"
    audit_read = "audit:read"
    outbox_read = "outbox:read"
    outbox_write = "outbox:write"
    mail_test = "mail:test"
    settings_read = "settings:read"
    settings_write = "settings:write"
    jobs_read = "jobs:read"
    jobs_write = "jobs:write"


class Role(StrEnum):
    admin = "admin"
    marketer = "marketer"
    sales = "sales"
    viewer = "viewer"


ALL_PERMISSIONS = frozenset(Permission)

# Said explicitly, not guessed from the name: a permission that allows a change. A route that
# changes something must name one of these (checked by tests/unit/test_architecture.py).
WRITE_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.staff_write,
        Permission.tokens_write,
        Permission.outbox_write,
        Permission.mail_test,
        Permission.settings_write,
        Permission.jobs_write,
    }
)


def is_write(permission: Permission) -> bool:
    return permission in WRITE_PERMISSIONS


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: ALL_PERMISSIONS,
    # Marketers read the outbox and send test mails; emptying it (outbox:write) is for admins.
    Role.marketer: frozenset(
        {
            Permission.outbox_read,
            Permission.mail_test,
            Permission.settings_read,
            Permission.jobs_read,
        }
    ),
    Role.sales: frozenset({Permission.settings_read, Permission.jobs_read}),
    Role.viewer: frozenset({Permission.settings_read, Permission.jobs_read}),
}


def permissions_for(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def is_role(value: str) -> bool:
    return value in Role.__members__.values()
