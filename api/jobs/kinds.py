"""Job kinds: what each kind of job is, declared once and read by everyone.

``create_job``, the runner, the janitor and the jobs screen all read the same
:class:`JobKind`, so a kind's side effects, retry policy, queue and summary cannot disagree
between the call site and the worker.

Two shapes of work:

* ``run(ctx)`` — work that only touches the database. It runs in one transaction together with
  marking the job done, so it happens exactly once or not at all. ``side_effects=False``.
* ``per_unit(ctx)`` — work split into units (one recipient, one chunk of rows). The runner
  drives the loop and records each unit's outcome in a short transaction of its own:
  with ``side_effects=True`` it commits the unit's claim *before* the external call and its
  outcome right after, so a crash never forgets a mail that left, and a unit caught in flight
  becomes ``uncertain`` instead of being sent again. Without side effects each unit runs in a
  transaction of its own together with its outcome (import chunks).

A kind with side effects must use units: there is no other way to declare it.

Units that depend on the ones before them (the chunks of a file) say ``stop_on_failure``: a
failed unit ends the job (the rest "not tried"), so nothing runs after a gap. ``on_stopped``
lets the kind's domain record on its own rows that the job stopped for good (failed,
uncertain, cancelled), in the transaction that settles it — an import batch then says how far
it got instead of "running" for ever.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from api.jobs.context import JobContext, UnitContext
from api.jobs.models import Job

log = logging.getLogger(__name__)

KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One unit of work to create: ``key`` is what a person recognises (a recipient)."""

    key: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When a failure is worth trying again, how often, and after how long.

    ``retry_on``: errors that mean "nothing happened, try later" (an SMTP 4xx before the message
    was accepted). ``fail_on``: errors that mean "nothing happened, and never will" (5xx); the
    unit fails without retrying. Anything else raised during a side effect is ``uncertain``, as
    is any error carrying ``uncertain = True`` (the connection broke after the data was sent).
    """

    max_attempts: int = 1
    retry_on: tuple[type[BaseException], ...] = ()
    fail_on: tuple[type[BaseException], ...] = ()
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempt: int) -> timedelta:
        """Backoff before attempt ``attempt + 1`` (attempt counts from 1)."""
        seconds = self.first_delay.total_seconds() * 2 ** max(0, attempt - 1)
        return min(timedelta(seconds=seconds), self.max_delay)


@dataclass(frozen=True, kw_only=True)
class JobKind:
    name: str  # "domain.what", also the dramatiq actor name
    side_effects: bool  # True when doing it twice could repeat something outside (a mail)
    run: Callable[[JobContext], dict[str, Any] | None] | None = None
    per_unit: Callable[[UnitContext], dict[str, Any] | None] | None = None
    # Units made at the job's first run (e.g. the audience snapshot of a campaign), when they
    # were not given to create_job. Committed before any unit runs.
    plan: Callable[[dict[str, Any]], Iterable[UnitSpec]] | None = None
    queue: str = "default"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    time_limit: timedelta = timedelta(minutes=10)
    # A one-line description of a payload for the jobs screen (e.g. the recipient), so a person
    # can check an uncertain job; a payload from an older version must not break it.
    summary: Callable[[dict[str, Any]], str] | None = None
    label: Mapping[str, str] = field(default_factory=dict)  # {"ja": "…", "en": "…"}
    # Units that depend on the ones before them (the chunks of a file): after a unit fails,
    # the rest are not tried (failed, "not tried") and the job fails, so a person or the
    # domain resumes it from the first unfinished unit instead of leaving a gap.
    stop_on_failure: bool = False
    # Called in the transaction that settles the job as failed, uncertain or cancelled (not
    # when it is only queued again): ``(session, job, state, error)``. The domain records
    # what happened on its own rows (an import batch says how far it got).
    on_stopped: Callable[[Session, Job, str, str], None] | None = None

    def __post_init__(self) -> None:
        if not KIND_NAME.match(self.name):
            raise ValueError(f"job kind {self.name!r}: use 'domain.what' in lower case")
        if (self.run is None) == (self.per_unit is None):
            raise ValueError(f"job kind {self.name!r}: give exactly one of run= or per_unit=")
        if self.side_effects and self.per_unit is None:
            raise ValueError(
                f"job kind {self.name!r} has side effects: it must do them in per_unit= so "
                "each one's outcome is recorded on its own"
            )
        if self.plan is not None and self.per_unit is None:
            raise ValueError(f"job kind {self.name!r}: plan= needs per_unit=")

    @property
    def uses_units(self) -> bool:
        return self.per_unit is not None

    def stopped(self, session: Session, job: Job, state: str, error: str) -> None:
        """Tell the kind's domain that its job stopped for good (see ``on_stopped``)."""
        if self.on_stopped is None:
            return
        try:
            with session.begin_nested():
                self.on_stopped(session, job, state, error or "")
        except Exception:  # the job's own outcome is recorded whatever the domain's hook does
            log.exception("job kind %s: on_stopped failed", self.name)

    def describe(self, payload: dict[str, Any]) -> str | None:
        if self.summary is None:
            return None
        try:
            return self.summary(payload)[:300]
        except Exception:  # a payload from an older version must not break the listing
            return None


class JobRegistry:
    """Every job kind of the installed domains, by name."""

    def __init__(self, kinds: Iterable[JobKind] = ()) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"job kind {kind.name!r} is declared twice")
            self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        return self._kinds.get(name)

    def __getitem__(self, name: str) -> JobKind:
        kind = self._kinds.get(name)
        if kind is None:
            raise LookupError(f"no job kind {name!r} is declared by the installed domains")
        return kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[JobKind]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)

    def summary(self, job: Job) -> str | None:
        kind = self._kinds.get(job.kind)
        return kind.describe(job.payload) if kind else None
