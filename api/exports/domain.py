"""Exports: a record set (selection, view, filter) as CSV or .xlsx, and `kizuna export`."""

from datetime import timedelta

from api.domain import Domain, Housekeeping
from api.exports import jobs, permissions, services
from api.exports.controllers import ExportController, ExportJobController

DOMAIN = Domain(
    name="exports",
    permissions=permissions.PERMISSIONS,
    controllers=(ExportController, ExportJobController),
    job_kinds=(jobs.KIND,),
    housekeeping=(
        Housekeeping(
            name="leftover export files",
            run=services.remove_leftovers,
            every=timedelta(hours=1),
            settings=True,
        ),
    ),
    labels={
        "audit.action.customers.export": {"ja": "エクスポート", "en": "Export"},
    },
)
