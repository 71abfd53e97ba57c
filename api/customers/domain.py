"""The customer database: staff-designed tables as real SQL tables, their records and history."""

from api.customers import permissions
from api.customers.controllers import (
    CustomerRecordController,
    CustomerTableController,
    CustomerViewController,
)
from api.domain import Domain

DOMAIN = Domain(
    name="customers",
    permissions=permissions.PERMISSIONS,
    controllers=(CustomerTableController, CustomerRecordController, CustomerViewController),
    labels={
        "audit.action.customers.table.create": {"ja": "テーブル作成", "en": "Table created"},
        "audit.action.customers.table.update": {"ja": "テーブル変更", "en": "Table changed"},
        "audit.action.customers.table.retire": {"ja": "テーブル廃止", "en": "Table retired"},
        "audit.action.customers.table.restore": {"ja": "テーブル復元", "en": "Table restored"},
        "audit.action.customers.field.create": {"ja": "項目追加", "en": "Field added"},
        "audit.action.customers.field.update": {"ja": "項目変更", "en": "Field changed"},
        "audit.action.customers.field.retire": {"ja": "項目廃止", "en": "Field retired"},
        "audit.action.customers.field.restore": {"ja": "項目復元", "en": "Field restored"},
        "audit.action.customers.field.reorder": {"ja": "項目の並べ替え", "en": "Fields reordered"},
    },
)
