"""Live settings: the values staff change without a restart (sender name, password rules)."""

from api.domain import Domain
from api.livesettings import permissions
from api.livesettings.controllers import LiveSettingsController

DOMAIN = Domain(
    name="livesettings", permissions=permissions.PERMISSIONS, controllers=(LiveSettingsController,)
)
