"""Members' permissions: who sees a member's log-in state, and who changes it (set a password,
suspend, end sessions). Marketers manage member access (as they do groups); admins hold all."""

from api.permissions import Permission, Role

MEMBERS_READ = Permission(
    "members:read",
    roles=frozenset({Role.marketer, Role.sales, Role.viewer}),
    label={"ja": "会員ログイン状態の閲覧", "en": "See members' log-in state"},
)
MEMBERS_WRITE = Permission(
    "members:write",
    roles=frozenset({Role.marketer}),
    writes=True,
    label={
        "ja": "会員のパスワード設定・利用停止",
        "en": "Set members' passwords, suspend members",
    },
)

PERMISSIONS = (MEMBERS_READ, MEMBERS_WRITE)
