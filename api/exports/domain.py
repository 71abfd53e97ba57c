"""Exports: a record set (selection, view, filter) as CSV or .xlsx, and `kizuna export`."""

from api.domain import Domain
from api.exports import jobs, permissions
from api.exports.controllers import ExportController, ExportJobController

DOMAIN = Domain(
    name="exports",
    permissions=permissions.PERMISSIONS,
    controllers=(ExportController, ExportJobController),
    job_kinds=(jobs.KIND,),
    labels={
        "audit.action.customers.export": {"ja": "エクスポート", "en": "Export"},
    },
)
