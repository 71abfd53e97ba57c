"""Jobs: the screen and API over the job table (the runner itself is shared by all domains)."""

from api.domain import Domain
from api.jobs import permissions
from api.jobs.controllers import JobController

DOMAIN = Domain(name="jobs", permissions=permissions.PERMISSIONS, controllers=(JobController,))
