"""The staff domain's permissions: staff accounts and API tokens (admins only)."""

from api.permissions import Permission

STAFF_READ = Permission("staff:read", label={"ja": "スタッフの閲覧", "en": "See staff"})
STAFF_WRITE = Permission(
    "staff:write", writes=True, label={"ja": "スタッフの追加・変更", "en": "Manage staff"}
)
TOKENS_READ = Permission("tokens:read", label={"ja": "APIトークンの閲覧", "en": "See API tokens"})
TOKENS_WRITE = Permission(
    "tokens:write", writes=True, label={"ja": "APIトークンの発行・失効", "en": "Manage API tokens"}
)

PERMISSIONS = (STAFF_READ, STAFF_WRITE, TOKENS_READ, TOKENS_WRITE)
