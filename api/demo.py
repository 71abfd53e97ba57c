"""Demo data for `make run` / `kizuna demo-data`: every capability adds what shows it off.

Idempotent: running it again changes nothing and prints the same credentials.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

from sqlmodel import select

from api.customers import records, schema_file
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


DEMO_SCHEMA = Path(__file__).resolve().parent / "customers" / "demo_schema.toml"


def _demo_customers(runtime: Runtime) -> Iterator[str]:
    """The demo's tables from the schema file in the repo (beside any that staff made), and a
    few records when the customers table is empty."""
    actor = cli_principal("demo-data")
    desired = schema_file.parse(DEMO_SCHEMA.read_text("utf-8"))
    with runtime.db.transaction() as session:
        steps = schema_file.apply(session, actor, desired, keep_other_tables=True)
    tables = ", ".join(t.spec.key for t in desired)
    yield f"Demo customer database ({tables}): {len(steps)} schema change(s) applied."
    with runtime.db.transaction() as session:
        if records.list_records(session, actor, "customers", limit=1).items:
            return
        sales = session.exec(select(Staff).where(Staff.email == DEMO_STAFF[2][0])).first()
        owner = sales.id if sales else None
        company = records.create_record(
            session, actor, "companies",
            {"name": "株式会社絆商事", "name_kana": "キズナショウジ",
             "website": "https://example.jp", "employees": 120},
            source="system",
        )  # fmt: skip
        people = (
            ("山田 太郎", "ヤマダ タロウ", "yamada@example.jp", "東京都", ["製品A"]),
            ("山田 花子", "ヤマダ ハナコ", "hanako.yamada@example.jp", "大阪府", ["製品B"]),
            ("佐藤 健", "サトウ ケン", "ken.sato@example.com", "福岡県", ["製品A", "サポート"]),
        )
        first = None
        for name, kana, email, prefecture, interests in people:
            record = records.create_record(
                session, actor, "customers",
                {"name": name, "name_kana": kana, "email": email, "prefecture": prefecture,
                 "interests": interests, "company": company["id"]},
                owner_id=owner, source="system",
            )  # fmt: skip
            first = first or record
        assert first is not None
        records.create_record(
            session, actor, "purchases",
            {"customer": first["id"], "product": "製品A", "amount": "198000",
             "purchased_at": "2026-10-01T10:30:00+09:00"},
            source="system",
        )  # fmt: skip
        records.create_record(
            session, actor, "seminar_applications",
            {"customer": first["id"], "seminar": "顧客データベース入門", "held_on": "2026-12-10"},
            source="system",
        )  # fmt: skip
    yield "Demo records: 1 company, 3 customers, 1 purchase, 1 seminar application."


# Members of the member table (log in on the site at /login/), in groups and with the
# attributes the example content's rules read (plan, specialty).
DEMO_MEMBERS = (
    ("doctor@example.jp", "医師 一郎", "doctors", "gold", "oncology"),
    ("cardio@example.com", "Alex Heart", "doctors", "free", "cardiology"),
    ("pharmacist@example.jp", "薬剤 花子", "pharmacists", "platinum", "pharmacy"),
    ("member@example.jp", "会員 次郎", "", "free", ""),
)
DEMO_GROUPS = (
    ("doctors", {"ja": "医師", "en": "Doctors"}),
    ("pharmacists", {"ja": "薬剤師", "en": "Pharmacists"}),
)


def _demo_members(runtime: Runtime, password: str) -> Iterator[str]:
    """The demo's groups and members with passwords, when the member table has no records."""
    from api.groups import services as groups
    from api.livesettings import services as live
    from api.members import services as members

    actor = cli_principal("demo-data")
    with runtime.db.transaction() as session:
        known = {g.group.key for g in groups.list_groups(session)}
        for key, label in DEMO_GROUPS:
            if key not in known:
                groups.create_group(session, actor, key, label)
        if records.list_records(session, actor, "members", limit=1).items:
            return
        for email, name, group, plan, specialty in DEMO_MEMBERS:
            record = records.create_record(
                session, actor, "members",
                {"email": email, "name": name, "plan": plan, "specialty": specialty or None},
                source="system",
            )  # fmt: skip
            if group:
                groups.change_members(session, actor, group, [record["id"]], add=True)
            members.ensure_account(session, actor, record["id"], password, check=False)
        # Registration is closed until staff open it; the demo site shows it working.
        live.update(session, actor, {"member.registration": "open"})
    yield f"Demo members: {len(DEMO_MEMBERS)} with passwords, groups doctors and pharmacists."
    yield "Member registration is open on the demo site (/register/; Admin → Settings)."


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
    yield from _demo_customers(runtime)
    yield from _demo_members(runtime, password)
    yield "Log in at /admin/ with any of these (password for all: " + password + "):"
    for email, name, role, _ in DEMO_STAFF:
        yield f"  {role:<8} {email:<22} {name}"
    yield "Members log in on the site at /login/ (same password):"
    for email, name, group, plan, specialty in DEMO_MEMBERS:
        about = ", ".join(x for x in (group or "no group", f"plan {plan}", specialty) if x)
        yield f"  {email:<24} {name} ({about})"
