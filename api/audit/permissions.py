"""The audit log's permission (admins only)."""

from api.permissions import Permission

AUDIT_READ = Permission("audit:read", label={"ja": "操作ログの閲覧", "en": "Read the audit log"})

PERMISSIONS = (AUDIT_READ,)
