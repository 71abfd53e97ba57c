"""Access: the gate's check for nginx (``GET /api/access/check``). The rule language
(``rules.py``), the manifest and the embedded gate are plain modules the app wires itself."""

from api.access.controllers import AccessCheckController
from api.domain import Domain

DOMAIN = Domain(name="access", controllers=(AccessCheckController,))
