"""The staff side of access (the matrix, the last build, "view as") as plain lists, for the
coordinator to fold into ``api/access/domain.py``; until then ``api/domains.py`` installs them
as the domain ``access_admin``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.access import permissions
from api.access.staff_controllers import CONTROLLERS as STAFF_CONTROLLERS

CONTROLLERS: tuple[Any, ...] = STAFF_CONTROLLERS
PERMISSIONS = permissions.PERMISSIONS
LABELS: Mapping[str, Mapping[str, str]] = {}


def domain() -> Any:
    """A Domain of these pieces alone (``access_admin``), until they join ``access``."""
    from api.domain import Domain

    return Domain(
        name="access_admin", controllers=CONTROLLERS, permissions=PERMISSIONS, labels=LABELS
    )
