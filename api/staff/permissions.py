"""Staff roles and what each may do. The single place that decides who may do what.

Every admin endpoint names one permission (``api.web.auth.requires``); a test checks that
no staff endpoint lacks one.
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
    mail_test = "mail:test"
    settings_read = "settings:read"
    settings_write = "settings:write"
    jobs_read = "jobs:read"
    jobs_write = "jobs:write"
    customers_design = "customers:design"  # tables and fields
    customers_read = "customers:read"
    customers_write = "customers:write"  # records (sales: only the ones they own)


class Role(StrEnum):
    admin = "admin"
    marketer = "marketer"
    sales = "sales"
    viewer = "viewer"


ALL_PERMISSIONS = frozenset(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: ALL_PERMISSIONS,
    Role.marketer: frozenset(
        {
            Permission.outbox_read,
            Permission.mail_test,
            Permission.settings_read,
            Permission.jobs_read,
            Permission.customers_read,
            Permission.customers_write,
        }
    ),
    Role.sales: frozenset(
        {
            Permission.settings_read,
            Permission.jobs_read,
            Permission.customers_read,
            Permission.customers_write,
        }
    ),
    Role.viewer: frozenset(
        {Permission.settings_read, Permission.jobs_read, Permission.customers_read}
    ),
}


def permissions_for(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def is_role(value: str) -> bool:
    return value in Role.__members__.values()
