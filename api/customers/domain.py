"""The customer database: staff-designed tables as real SQL tables, their records and history."""

from api.customers.controllers import (
    CustomerRecordController,
    CustomerTableController,
    CustomerViewController,
)
from api.domain import Domain

DOMAIN = Domain(
    name="customers",
    controllers=(CustomerTableController, CustomerRecordController, CustomerViewController),
    labels={
        "ja": {
            "audit.action.customers.table.create": "テーブル作成",
            "audit.action.customers.table.update": "テーブル変更",
            "audit.action.customers.table.retire": "テーブル廃止",
            "audit.action.customers.table.restore": "テーブル復元",
            "audit.action.customers.field.create": "項目追加",
            "audit.action.customers.field.update": "項目変更",
            "audit.action.customers.field.retire": "項目廃止",
            "audit.action.customers.field.restore": "項目復元",
            "audit.action.customers.field.reorder": "項目の並べ替え",
        },
        "en": {
            "audit.action.customers.table.create": "Table created",
            "audit.action.customers.table.update": "Table changed",
            "audit.action.customers.table.retire": "Table retired",
            "audit.action.customers.table.restore": "Table restored",
            "audit.action.customers.field.create": "Field added",
            "audit.action.customers.field.update": "Field changed",
            "audit.action.customers.field.retire": "Field retired",
            "audit.action.customers.field.restore": "Field restored",
            "audit.action.customers.field.reorder": "Fields reordered",
        },
    },
)
