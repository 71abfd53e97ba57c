"""What a domain adds to Kizuna, declared in one place: ``api/<domain>/domain.py``.

Each domain folder has a ``domain.py`` with one ``DOMAIN = Domain(...)``; ``api/domains.py``
lists them. ``create_app`` collects the controllers, the worker entry point and the app collect
the job kinds and the periodic housekeeping. Nothing is wired by importing a module: a domain
that is not listed adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from api.jobs.kinds import JobKind, JobRegistry
from api.permissions import Permission, PermissionRegistry


@dataclass(frozen=True, kw_only=True)
class Housekeeping:
    """A periodic clean-up: takes a session (and with ``settings=True`` the settings too:
    where the files are, how long they are kept), returns how many rows or files it removed
    or changed. Files go only once the session's changes are committed
    (``api.db.run_after_commit``)."""

    name: str
    run: Callable[..., int]
    every: timedelta = timedelta(hours=1)
    settings: bool = False


@dataclass(frozen=True, kw_only=True)
class Domain:
    name: str
    controllers: Sequence[Any] = ()  # Litestar controllers and route handlers
    permissions: Sequence[Permission] = ()  # what its routes need, and which roles hold each
    job_kinds: Sequence[JobKind] = ()
    housekeeping: Sequence[Housekeeping] = ()
    # Display names the admin panel shows for this domain's codes (audit actions, statuses…):
    # {"audit.action.forms.publish": {"ja": "フォームを公開", "en": "Published a form"}}.
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Theme pages it fills for the visitor who asks (the gate's ``Personaliser``, e.g. my
    # page): each made once from the app's runtime by ``create_app``.
    page_fillers: Sequence[Callable[[Any], Any]] = ()


def job_registry(domains: Iterable[Domain]) -> JobRegistry:
    return JobRegistry(kind for domain in domains for kind in domain.job_kinds)


def permission_registry(domains: Iterable[Domain]) -> PermissionRegistry:
    return PermissionRegistry(p for domain in domains for p in domain.permissions)


def admin_labels(domains: Sequence[Domain]) -> dict[str, dict[str, str]]:
    """Every display name the domains declare, by key and language, for the admin panel: their
    own labels, their permissions' (``permission.<value>``) and job kinds' (``jobs.kind.<name>``).
    Each needs Japanese and English."""
    labels: dict[str, dict[str, str]] = {}
    for domain in domains:
        entries = [
            *domain.labels.items(),
            *((f"permission.{p.value}", p.label) for p in domain.permissions),
            *((f"jobs.kind.{k.name}", k.label) for k in domain.job_kinds),
        ]
        for key, by_language in entries:
            if set(by_language) != {"ja", "en"}:
                raise ValueError(f"label {key!r} of domain {domain.name!r} needs ja and en")
            labels[key] = dict(by_language)
    return labels


def housekeeping(domains: Iterable[Domain]) -> list[Housekeeping]:
    return [task for domain in domains for task in domain.housekeeping]


def page_fillers(domains: Iterable[Domain], runtime: Any) -> list[Any]:
    """The domains' page fillers, made from ``runtime`` (for the gate)."""
    return [make(runtime) for domain in domains for make in domain.page_fillers]


def controllers(domains: Iterable[Domain]) -> list[Any]:
    return [handler for domain in domains for handler in domain.controllers]
