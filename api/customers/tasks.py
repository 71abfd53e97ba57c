"""The customer database's job kinds: the search rebuild (here) and the type change of a large
table (``type_change.py``)."""

from __future__ import annotations

from typing import Any

from api.customers import bulk, search, type_change
from api.customers.services import load_design
from api.jobs.context import UnitContext
from api.jobs.kinds import JobKind


def rebuild_search_unit(unit: UnitContext) -> dict[str, Any]:
    """One range of ids of a table's search data, rewritten from its records as they are now
    (the design too): safe to run twice, and in any order with the other units."""
    assert unit.session is not None  # no side effects: the unit runs in a transaction
    design = load_design(unit.session, str(unit.payload["table"]), retired=True)
    written = search.index_range(
        unit.session, design, int(unit.payload["start"]), int(unit.payload["end"])
    )
    return {"records": written}


SEARCH_REBUILD = JobKind(
    name="customers.search_rebuild",
    side_effects=False,
    per_unit=rebuild_search_unit,
    summary=lambda payload: str(payload.get("table", "")),
    label={"ja": "検索データの再構築", "en": "Search data rebuild"},
)

KINDS = (SEARCH_REBUILD, type_change.KIND, bulk.KIND)
