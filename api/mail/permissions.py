"""Mail: marketers send test mail and read the dev outbox; emptying it is for admins."""

from api.permissions import Permission, Role

MAIL_TEST = Permission(
    "mail:test",
    roles=frozenset({Role.marketer}),
    writes=True,
    label={"ja": "テストメールの送信", "en": "Send test mail"},
)
OUTBOX_READ = Permission(
    "outbox:read",
    roles=frozenset({Role.marketer}),
    label={"ja": "送信箱（開発用）の閲覧", "en": "Read the dev outbox"},
)
OUTBOX_WRITE = Permission(
    "outbox:write",
    writes=True,
    label={"ja": "送信箱（開発用）を空にする", "en": "Empty the dev outbox"},
)

PERMISSIONS = (MAIL_TEST, OUTBOX_READ, OUTBOX_WRITE)
