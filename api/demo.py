"""Demo data for `make run` / `kizuna demo-data`: every capability adds what shows it off.

Idempotent: running it again changes nothing and prints the same credentials.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

from sqlmodel import select

from api.jobs.runner import run_job
from api.mail import tasks
from api.mail.outbox import list_messages
from api.mail.services import queue_test_mail
from api.principal import cli_principal
from api.runtime import Runtime
from api.staff import services as staff_services
from api.staff.models import Staff

DEMO_STAFF = (
    ("admin@example.jp", "管理 太郎", "admin", "ja"),
    ("marketer@example.jp", "佐藤 花子", "marketer", "ja"),
    ("sales@example.jp", "鈴木 一郎", "sales", "ja"),
    ("viewer@example.com", "Alex Viewer", "viewer", "en"),
)


def _demo_password(runtime: Runtime) -> str:
    """One random password for the demo accounts, kept in var/ so it is printed every run."""
    path = runtime.settings.var_dir / "demo-credentials.json"
    if path.exists():
        return str(json.loads(path.read_text("utf-8"))["password"])
    password = "kizuna-" + secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"password": password}), "utf-8")
    path.chmod(0o600)
    return password


def _demo_outbox(runtime: Runtime) -> Iterator[str]:
    """One captured mail, so the dev outbox viewer has something to open on first run."""
    settings = runtime.settings
    if not settings.uses_outbox or list_messages(settings.outbox_dir, limit=1)[1] > 0:
        return
    with runtime.db.transaction() as session:  # through the job table, run here and now
        job = queue_test_mail(session, cli_principal("demo-data"), DEMO_STAFF[0][0])
    assert job.id is not None
    run_job(runtime, tasks.TEST_MAIL, job.id)
    yield f"Demo mail: a test message is in the dev outbox ({settings.outbox_dir})."


def seed(runtime: Runtime) -> Iterator[str]:
    password = _demo_password(runtime)
    actor = cli_principal("demo-data")
    with runtime.db.transaction() as session:
        existing = set(session.exec(select(Staff.email)).all())
        created = 0
        for email, name, role, locale in DEMO_STAFF:
            if email in existing:
                continue
            staff_services.create_staff(
                session, actor, email=email, name=name, role=role, password=password, locale=locale
            )
            created += 1
    yield f"Demo staff accounts: {created} created, {len(DEMO_STAFF) - created} already there."
    yield from _demo_outbox(runtime)
    yield "Log in at /admin/ with any of these (password for all: " + password + "):"
    for email, name, role, _ in DEMO_STAFF:
        yield f"  {role:<8} {email:<22} {name}"
