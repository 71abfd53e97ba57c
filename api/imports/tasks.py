"""The import's job kinds: the dry run (``imports.check``), the run in chunks
(``imports.run``) and the undo (``imports.undo``)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from api.imports import services
from api.imports.models import CustomerImport
from api.jobs.context import JobContext, UnitContext
from api.jobs.kinds import JobKind


def _batch(ctx: JobContext) -> CustomerImport:
    return ctx.session.exec(
        select(CustomerImport).where(CustomerImport.id == int(ctx.payload["batch"]))
    ).one()


def check(ctx: JobContext) -> dict[str, Any]:
    """The dry run: every row validated and matched against the table, nothing written; the
    counts and the first errors are kept on the batch."""
    batch = _batch(ctx)
    actor = services.actor_of(ctx.payload)
    result = services.check_batch(ctx.session, ctx.runtime.settings.imports_dir, batch, actor)
    batch.check = result
    batch.state = "checked"
    ctx.session.add(batch)
    return {k: v for k, v in result.items() if k != "errors"}


def run_chunk(unit: UnitContext) -> dict[str, Any]:
    """One chunk of rows, in its own transaction with the batch's counters."""
    assert unit.session is not None
    return services.run_chunk(
        unit.session,
        unit.runtime.settings.imports_dir,
        unit.job.cache,
        unit.payload,
        services.actor_of(unit.job.payload),
    )


def undo(ctx: JobContext) -> dict[str, Any]:
    batch = _batch(ctx)
    result = services.undo_batch(ctx.session, batch, services.actor_of(ctx.payload))
    batch.undo = result
    batch.state = "undone"
    ctx.session.add(batch)
    return {k: v for k, v in result.items() if k != "skipped"}


def _summary(payload: dict[str, Any]) -> str:
    return f"{payload.get('table', '')} #{payload.get('batch', '')}"


CHECK = JobKind(
    name="imports.check",
    side_effects=False,
    run=check,
    summary=_summary,
    label={"ja": "インポートの事前確認", "en": "Import dry run"},
)
RUN = JobKind(
    name="imports.run",
    side_effects=False,
    per_unit=run_chunk,
    summary=_summary,
    label={"ja": "インポート", "en": "Import"},
)
UNDO = JobKind(
    name="imports.undo",
    side_effects=False,
    run=undo,
    summary=_summary,
    label={"ja": "インポートの取り消し", "en": "Import undo"},
)

KINDS = (CHECK, RUN, UNDO)
