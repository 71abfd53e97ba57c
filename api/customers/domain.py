"""The customer database: staff-designed tables as real SQL tables, their records and history."""

from api.customers import permissions, tasks
from api.customers.controllers import (
    CustomerBulkController,
    CustomerDuplicateController,
    CustomerRecordController,
    CustomerTableController,
    CustomerViewController,
)
from api.domain import Domain

DOMAIN = Domain(
    name="customers",
    permissions=permissions.PERMISSIONS,
    controllers=(
        CustomerTableController,
        CustomerRecordController,
        CustomerViewController,
        CustomerDuplicateController,
        CustomerBulkController,
    ),
    job_kinds=tasks.KINDS,
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
        "audit.action.customers.record.merge": {"ja": "レコードの統合", "en": "Records merged"},
        # field types (the designer, the filter builder, the schema screens)
        "customers.type.text": {"ja": "テキスト", "en": "Text"},
        "customers.type.long_text": {"ja": "長文テキスト", "en": "Long text"},
        "customers.type.integer": {"ja": "整数", "en": "Integer"},
        "customers.type.decimal": {"ja": "小数", "en": "Decimal"},
        "customers.type.date": {"ja": "日付", "en": "Date"},
        "customers.type.datetime": {"ja": "日時", "en": "Date and time"},
        "customers.type.boolean": {"ja": "はい/いいえ", "en": "Yes/no"},
        "customers.type.select": {"ja": "選択肢", "en": "Select"},
        "customers.type.multi_select": {"ja": "複数選択", "en": "Multi-select"},
        "customers.type.email": {"ja": "メールアドレス", "en": "E-mail"},
        "customers.type.phone": {"ja": "電話番号", "en": "Phone"},
        "customers.type.url": {"ja": "URL", "en": "URL"},
        "customers.type.postal_code": {"ja": "郵便番号", "en": "Postal code"},
        "customers.type.furigana": {"ja": "フリガナ", "en": "Furigana"},
        "customers.type.file": {"ja": "ファイル", "en": "File"},
        "customers.type.reference": {"ja": "参照", "en": "Reference"},
        # where a change to a record came from (the history timeline)
        "customers.source.api": {"ja": "API", "en": "API"},
        "customers.source.admin": {"ja": "管理画面", "en": "Admin panel"},
        "customers.source.import": {"ja": "インポート", "en": "Import"},
        "customers.source.form": {"ja": "フォーム", "en": "Form"},
        "customers.source.member": {"ja": "会員本人", "en": "Member"},
        "customers.source.system": {"ja": "システム", "en": "System"},
        "customers.source.bulk": {"ja": "一括操作", "en": "Bulk action"},
        "audit.action.customers.bulk.set_field": {
            "ja": "一括で項目を設定",
            "en": "Bulk: set a field",
        },
        "audit.action.customers.bulk.owner": {
            "ja": "一括で担当者を変更",
            "en": "Bulk: owner changed",
        },
        "audit.action.customers.bulk.status": {
            "ja": "一括でステータスを変更",
            "en": "Bulk: status changed",
        },
        "audit.action.customers.bulk.delete": {"ja": "一括削除", "en": "Bulk: deleted"},
    },
)
