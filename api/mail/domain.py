"""Mail: the transport, the dev outbox, the staff test mail and prepared mail delivery."""

from api.domain import Domain
from api.mail import permissions, tasks
from api.mail.controllers import MailController, OutboxController

DOMAIN = Domain(
    name="mail",
    permissions=permissions.PERMISSIONS,
    controllers=(MailController, OutboxController),
    job_kinds=tasks.KINDS,
)
