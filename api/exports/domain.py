"""Exports: a record set (selection, view, filter) as CSV or .xlsx, and `kizuna export`."""

from api.domain import Domain
from api.exports import permissions
from api.exports.controllers import ExportController

DOMAIN = Domain(
    name="exports",
    permissions=permissions.PERMISSIONS,
    controllers=(ExportController,),
    labels={
        "audit.action.customers.export": {"ja": "エクスポート", "en": "Export"},
    },
)
