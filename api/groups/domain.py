"""Groups: named sets of members, read by access rules as ``group:<key>``."""

from datetime import timedelta

from api.domain import Domain, Housekeeping
from api.groups import bulk, permissions, services
from api.groups.controllers import GroupController, MemberGroupsController

DOMAIN = Domain(
    name="groups",
    permissions=permissions.PERMISSIONS,
    controllers=(GroupController, MemberGroupsController),
    job_kinds=(bulk.KIND,),
    housekeeping=(Housekeeping(name="groups.sweep", run=services.sweep, every=timedelta(hours=6)),),
    labels={
        "audit.action.groups.group.create": {"ja": "グループ作成", "en": "Group created"},
        "audit.action.groups.group.update": {"ja": "グループ変更", "en": "Group changed"},
        "audit.action.groups.group.delete": {"ja": "グループ削除", "en": "Group deleted"},
        "audit.action.groups.members.add": {
            "ja": "グループにメンバー追加",
            "en": "Members added to a group",
        },
        "audit.action.groups.members.remove": {
            "ja": "グループからメンバー削除",
            "en": "Members removed from a group",
        },
        "audit.action.groups.bulk.add": {
            "ja": "一括でグループに追加",
            "en": "Bulk: added to a group",
        },
        "audit.action.groups.bulk.remove": {
            "ja": "一括でグループから外す",
            "en": "Bulk: removed from a group",
        },
        "customers.source.groups": {"ja": "グループ", "en": "Groups"},
    },
)
