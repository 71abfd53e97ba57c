"""The audit log: who changed what, when, with the values before and after."""

from api.audit import permissions
from api.audit.controllers import AuditController
from api.domain import Domain

DOMAIN = Domain(name="audit", permissions=permissions.PERMISSIONS, controllers=(AuditController,))
