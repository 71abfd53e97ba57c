"""Imports of CSV and Excel files into the customer database (``api/imports/README.md``)."""

from api.domain import Domain
from api.imports import tasks
from api.imports.controllers import ImportController

DOMAIN = Domain(
    name="imports",
    # The import needs customers:write (the customers domain declares it): sales staff import
    # into the tables they may write, and update only the records they own.
    permissions=(),
    controllers=(ImportController,),
    job_kinds=tasks.KINDS,
    labels={
        "audit.action.imports.run": {"ja": "インポート実行", "en": "Import run"},
        "audit.action.imports.undo": {"ja": "インポート取り消し", "en": "Import undone"},
    },
)
