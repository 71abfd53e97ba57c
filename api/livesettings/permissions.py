"""Live settings: every role reads them; admins change them."""

from api.permissions import Permission, Role

SETTINGS_READ = Permission(
    "settings:read",
    roles=frozenset({Role.marketer, Role.sales, Role.viewer}),
    label={"ja": "設定の閲覧", "en": "Read settings"},
)
SETTINGS_WRITE = Permission(
    "settings:write", writes=True, label={"ja": "設定の変更", "en": "Change settings"}
)

PERMISSIONS = (SETTINGS_READ, SETTINGS_WRITE)
