"""The import's job kinds, all in units of one transaction each: the dry run
(``imports.check``) and the run (``imports.run``) in chunks of rows, the undo
(``imports.undo``) in chunks of the batch's history rows. A unit that fails stops its job
(``stop_on_failure``); the batch then says how far the step got (``on_stopped``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.imports import services
from api.jobs.context import UnitContext
from api.jobs.kinds import JobKind
from api.principal import Principal

# Units make a stop harmless (the next worker goes on at the first unfinished one), but a
# resumed run re-reads the file up to where it stopped: a generous limit keeps a slow
# million-row step from being cut again and again.
TIME_LIMIT = timedelta(hours=4)


def _job_id(unit: UnitContext) -> int:
    assert unit.job.job.id is not None
    return unit.job.job.id


def check_chunk(unit: UnitContext) -> dict[str, Any]:
    """One chunk of the dry run: validated and matched, nothing written; the counts and the
    first errors are added to the batch."""
    assert unit.session is not None
    return services.check_chunk(
        unit.session,
        unit.runtime.settings.imports_dir,
        unit.job.cache,
        unit.payload,
        Principal.from_payload(unit.job.payload.get("actor")),
        _job_id(unit),
    )


def run_chunk(unit: UnitContext) -> dict[str, Any]:
    """One chunk of rows, in its own transaction with the batch's counters."""
    assert unit.session is not None
    return services.run_chunk(
        unit.session,
        unit.runtime.settings.imports_dir,
        unit.job.cache,
        unit.payload,
        Principal.from_payload(unit.job.payload.get("actor")),
        _job_id(unit),
    )


def undo_chunk(unit: UnitContext) -> dict[str, Any]:
    assert unit.session is not None
    return services.undo_chunk(
        unit.session,
        unit.payload,
        Principal.from_payload(unit.job.payload.get("actor")),
        _job_id(unit),
    )


def _summary(payload: dict[str, Any]) -> str:
    return f"{payload.get('table', '')} #{payload.get('batch', '')}"


CHECK = JobKind(
    name="imports.check",
    side_effects=False,
    per_unit=check_chunk,
    summary=_summary,
    label={"ja": "インポートの事前確認", "en": "Import dry run"},
    time_limit=TIME_LIMIT,
    stop_on_failure=True,
    on_stopped=services.job_stopped,
)
RUN = JobKind(
    name="imports.run",
    side_effects=False,
    per_unit=run_chunk,
    summary=_summary,
    label={"ja": "インポート", "en": "Import"},
    time_limit=TIME_LIMIT,
    stop_on_failure=True,
    on_stopped=services.job_stopped,
)
UNDO = JobKind(
    name="imports.undo",
    side_effects=False,
    per_unit=undo_chunk,
    summary=_summary,
    label={"ja": "インポートの取り消し", "en": "Import undo"},
    time_limit=TIME_LIMIT,
    stop_on_failure=True,
    on_stopped=services.job_stopped,
)

KINDS = (CHECK, RUN, UNDO)
