"""Jobs: every role follows them; admins retry or close the ones that need a person."""

from api.permissions import Permission, Role

JOBS_READ = Permission(
    "jobs:read",
    roles=frozenset({Role.marketer, Role.sales, Role.viewer}),
    label={"ja": "ジョブの閲覧", "en": "Follow jobs"},
)
JOBS_WRITE = Permission(
    "jobs:write", writes=True, label={"ja": "ジョブの再実行・取消", "en": "Retry or cancel jobs"}
)

PERMISSIONS = (JOBS_READ, JOBS_WRITE)
