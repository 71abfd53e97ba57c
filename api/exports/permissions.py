"""Exports: taking records out of Kizuna as a file is more than reading them on screen, so it
is its own permission (viewers read, but do not export). It ``writes``: an export job is
started, and its file kept on the server for a day."""

from api.permissions import Permission, Role

CUSTOMERS_EXPORT = Permission(
    "customers:export",
    roles=frozenset({Role.marketer, Role.sales}),
    writes=True,
    label={"ja": "顧客データのエクスポート", "en": "Export customer records"},
)

PERMISSIONS = (CUSTOMERS_EXPORT,)
