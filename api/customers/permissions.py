"""The customer database's permissions: admins design tables; marketers and sales edit records
(sales only the ones they own); viewers read."""

from api.permissions import Permission, Role

CUSTOMERS_DESIGN = Permission(
    "customers:design",
    writes=True,
    label={"ja": "顧客テーブルの設計", "en": "Design customer tables"},
)
CUSTOMERS_READ = Permission(
    "customers:read",
    roles=frozenset({Role.marketer, Role.sales, Role.viewer}),
    label={"ja": "顧客データの閲覧", "en": "Read customer records"},
)
CUSTOMERS_WRITE = Permission(
    "customers:write",
    roles=frozenset({Role.marketer, Role.sales}),
    writes=True,
    label={"ja": "顧客データの登録・変更", "en": "Edit customer records"},
)

PERMISSIONS = (CUSTOMERS_DESIGN, CUSTOMERS_READ, CUSTOMERS_WRITE)
