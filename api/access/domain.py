"""Access: the gate's check for nginx (``GET /api/access/check``) and the staff side (the
access matrix, the last build's warnings, "view as"). The rule language (``rules.py``), the
manifest and the embedded gate are plain modules the app wires itself."""

from api.access import permissions
from api.access.controllers import AccessCheckController
from api.access.staff_controllers import CONTROLLERS as STAFF_CONTROLLERS
from api.domain import Domain

DOMAIN = Domain(
    name="access",
    controllers=(AccessCheckController, *STAFF_CONTROLLERS),
    permissions=permissions.PERMISSIONS,
)
