"""Access's staff permissions: the access matrix and the last build (read), and "view as" (a
page opened as a member or a group would see it: gated content, and the member picker)."""

from api.permissions import Permission, Role

ACCESS_READ = Permission(
    "access:read",
    roles=frozenset({Role.marketer, Role.viewer}),
    label={"ja": "アクセス表とビルド警告の閲覧", "en": "Read the access matrix and build warnings"},
)
ACCESS_PREVIEW = Permission(
    "access:preview",
    roles=frozenset({Role.marketer}),
    label={"ja": "会員・グループとしてページを表示", "en": "View pages as a member or group"},
)

PERMISSIONS = (ACCESS_READ, ACCESS_PREVIEW)
