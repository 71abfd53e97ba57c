"""Groups' permissions: everyone who reads customer records sees groups; marketers (and admins)
make groups and change who is in them (groups decide who reads gated content)."""

from api.permissions import Permission, Role

GROUPS_READ = Permission(
    "groups:read",
    roles=frozenset({Role.marketer, Role.sales, Role.viewer}),
    label={"ja": "グループの閲覧", "en": "Read groups"},
)
GROUPS_WRITE = Permission(
    "groups:write",
    roles=frozenset({Role.marketer}),
    writes=True,
    label={"ja": "グループとメンバーの変更", "en": "Edit groups and their members"},
)

PERMISSIONS = (GROUPS_READ, GROUPS_WRITE)
