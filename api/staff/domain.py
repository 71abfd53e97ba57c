"""The staff domain: accounts, roles, login sessions and API tokens."""

from api.domain import Domain, Housekeeping
from api.staff import permissions, services
from api.staff.controllers import StaffAuthController, StaffController, TokenController

DOMAIN = Domain(
    name="staff",
    permissions=permissions.PERMISSIONS,
    controllers=(StaffAuthController, StaffController, TokenController),
    housekeeping=(
        Housekeeping(
            name="expired staff sessions", run=lambda session: services.purge_sessions(session)
        ),
    ),
)
