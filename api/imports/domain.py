"""Imports of CSV and Excel files into the customer database (``api/imports/README.md``)."""

from datetime import timedelta

from api.domain import Domain, Housekeeping
from api.imports import services, tasks
from api.imports.controllers import ImportController

DOMAIN = Domain(
    name="imports",
    # The import needs customers:write (the customers domain declares it): sales staff import
    # into the tables they may write, and update only the records they own.
    permissions=(),
    controllers=(ImportController,),
    job_kinds=tasks.KINDS,
    housekeeping=(
        Housekeeping(
            name="import files past their retention",
            run=services.remove_old_files,
            every=timedelta(hours=1),
            settings=True,
        ),
        Housekeeping(
            name="search indexes left out by a stopped import",
            run=services.restore_search_indexes,
            every=timedelta(hours=1),
        ),
    ),
    labels={
        "audit.action.imports.run": {"ja": "インポート実行", "en": "Import run"},
        "audit.action.imports.undo": {"ja": "インポート取り消し", "en": "Import undone"},
        "audit.action.imports.resume": {"ja": "インポート再開", "en": "Import resumed"},
    },
)
