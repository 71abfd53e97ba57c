"""The ``kizuna`` command: run, build, worker, migrate, createstaff, demo-data, schema, access,
check."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from api import __version__
from api.errors import KizunaError
from api.settings import Settings, SettingsError, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Configuration and service errors end the command with a message, not a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SettingsError as exc:
            click.secho(str(exc), fg="red", err=True)
            sys.exit(2)
        except KizunaError as exc:
            click.secho(f"Error: {exc.detail}", fg="red", err=True)
            for err in exc.errors:
                click.secho(f"  {err.field}: {err.message}", fg="red", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _settings(**overrides: Any) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kizuna")
def main() -> None:
    """Kizuna: website, customer database and e-mail marketing on one base.

    Configuration comes from environment variables (DATABASE_URL, REDIS_URL, SMTP_URL,
    KIZUNA_*) or kizuna.toml; `kizuna check` says what is set and whether it works.
    """


@main.command("run")
@click.option("--host", default=None, help="address to listen on (KIZUNA_HOST, default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (KIZUNA_PORT, default 8000)")
@click.option("--reload", is_flag=True, help="restart on code changes (development)")
@click.option(
    "--processes", type=click.IntRange(1, 64), default=1, show_default=True,
    help="web server processes (more than 1 needs REDIS_URL)",
)  # fmt: skip
@friendly_errors
def run(host: str | None, port: int | None, reload: bool, processes: int) -> None:
    """Serve the site, the API and the admin panel (workers run in-process without REDIS_URL)."""
    import uvicorn

    from api.app import preflight
    from api.runtime import build_runtime

    settings = _settings(host=host, port=port)
    if processes > 1 and not settings.redis_url:
        # Each process keeps its own cache of verified member tokens and its own log-in
        # counters: only Redis carries a log-out, a suspension or a limit to the others.
        raise click.UsageError(
            "--processes above 1 needs REDIS_URL: a member's log-out or suspension must reach "
            "every process at once, and log-in limits must be shared (api/security/revocation.py)"
        )
    runtime = build_runtime(settings)
    try:
        preflight(runtime)
    finally:
        runtime.close()
    if host:
        os.environ["KIZUNA_HOST"] = host
    if port:
        os.environ["KIZUNA_PORT"] = str(port)
    mode = (
        "Redis broker; start workers with `kizuna worker`"
        if settings.redis_url
        else "in-process workers"
    )
    mail = (
        f"SMTP {settings.smtp_url.split('@')[-1]}"
        if settings.smtp_url
        else f"dev outbox {settings.outbox_dir}"
    )
    click.echo(
        f"Kizuna on http://{settings.host}:{settings.port}  "
        "(admin: /admin/, API schema: /api/schema)"
    )
    click.echo(f"  database: {_describe_db(settings)}; {mode}; mail: {mail}")
    uvicorn.run(
        "api.asgi:app",
        host=settings.host,
        port=settings.port,
        reload=reload,
        workers=None if reload else processes,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        log_level=settings.log_level.lower(),
    )


main.add_command(run, "serve")


def _describe_db(settings: Settings) -> str:
    from api.db import describe_url

    return describe_url(settings.effective_database_url)


def _build_missing_search(url: str) -> list[str]:
    """Data tables made before full-text search existed get their search data."""
    from api.customers.search import build_missing
    from api.db import Database

    db = Database(url, pool=False)
    try:
        with db.transaction() as session:
            return build_missing(session)
    finally:
        db.dispose()


@main.command()
@friendly_errors
def migrate() -> None:
    """Create or upgrade the database schema (safe to run at every deploy)."""
    from api.db import check_database, make_engine
    from api.migrate import current_revision, head_revision, upgrade

    settings = _settings()
    engine = make_engine(settings.effective_database_url, pool=False)
    check_database(engine)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    engine.dispose()
    built = _build_missing_search(settings.effective_database_url)
    if built:
        click.echo(f"Search data built for {', '.join(built)}.")
    if before == after:
        click.echo(f"Database {_describe_db(settings)} is up to date (revision {after}).")
    else:
        click.echo(
            f"Database {_describe_db(settings)} migrated: "
            f"{before or 'empty'} → {after} (head {head_revision()})."
        )


def _member_schema(settings: Settings) -> tuple[dict[str, str] | None, list[str] | None, str]:
    """The member table's field keys (-> type) and the groups, from the database when it is
    reachable and migrated: the build then warns about rules that name anything else. A build
    never needs the database, so any failure here just means "not known"."""
    import sqlalchemy as sa
    from sqlmodel import col, select

    from api.customers.models import CustomerField, CustomerTable
    from api.db import Database
    from api.groups.models import MemberGroup

    url = sa.make_url(settings.effective_database_url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not os.path.exists(file):
        return None, None, "no database yet: names not checked"  # connecting would create it
    db = Database(settings.effective_database_url, pool=False)
    try:
        with db.read() as session:
            table = session.exec(
                select(CustomerTable).where(col(CustomerTable.is_member_table))
            ).first()
            groups = list(session.exec(select(MemberGroup.key)).all())
            if table is None:
                return None, sorted(groups), "no member table yet: field names not checked"
            fields = session.exec(
                select(CustomerField.key, CustomerField.type).where(
                    CustomerField.table_id == table.id
                )
            ).all()
            known = dict(fields)
            if table.statuses:  # the record's status is a system column, not a field
                known.setdefault("status", "select")
            return known, sorted(groups), f"member table {table.key}"
    except Exception as exc:  # the build goes on without the names
        return None, None, f"database not reachable ({type(exc).__name__}): names not checked"
    finally:
        db.dispose()


@main.command()
@click.option("--content", "content_dir", type=click.Path(file_okay=False), default=None)
@click.option("--output", "site_dir", type=click.Path(file_okay=False), default=None)
@click.option("--watch", is_flag=True, help="rebuild whenever content or theme files change")
@click.option(
    "--no-cache", is_flag=True, help="parse every Markdown file again (no var/build-cache)"
)
@friendly_errors
def build(content_dir: str | None, site_dir: str | None, watch: bool, no_cache: bool) -> None:
    """Build the static site from content/ into site/public (and site/meta).

    Rules naming member fields or groups that do not exist are warned about when the database
    is reachable. With --watch, the site is rebuilt after every change until Ctrl-C; a failed
    build leaves the last good site published."""
    from pipeline.build import BuildError, build_site

    settings = _settings(content_dir=content_dir, site_dir=site_dir)
    fields, groups, known = _member_schema(settings)
    cache_dir = None if no_cache else settings.var_dir / "build-cache"

    def build_once() -> bool:
        try:
            result = build_site(
                content_dir=settings.content_dir,
                theme_dir=settings.theme_dir,
                output_dir=settings.public_dir,
                meta_dir=settings.meta_dir,
                site_url=settings.base_url or None,
                cache_dir=cache_dir,
                member_fields=fields,
                groups=groups,
            )
        except BuildError as exc:
            click.secho(
                "Build failed; nothing was changed in the published site:", fg="red", err=True
            )
            for problem in exc.problems:
                click.secho(f"  {problem}", fg="red", err=True)
            for warning in exc.warnings:
                click.secho(f"  warning: {warning}", fg="yellow", err=True)
            return False
        for warning in result.warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        click.echo(
            f"Built {len(result.pages)} page(s) into {settings.public_dir} "
            f"in {result.seconds:.1f}s ({known})."
        )
        return True

    ok = build_once()
    if not watch:
        if not ok:
            sys.exit(1)
        return

    from pipeline.watch import watch as watch_folders

    folders = [settings.content_dir, settings.theme_dir]

    def ready() -> None:
        shown = ", ".join(str(f) for f in folders)
        click.echo(f"Watching {shown} for changes (Ctrl-C to stop).")

    def rebuild(changes: list[str]) -> None:
        shown = ", ".join(os.path.relpath(c, settings.content_dir.parent) for c in changes[:3])
        more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
        click.echo(f"Changed: {shown}{more}")
        build_once()

    try:
        watch_folders(folders, rebuild, ready=ready)
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


@main.command()
@click.option(
    "--processes", "-p", type=int, default=None, help="worker processes (KIZUNA_WORKER_PROCESSES)"
)
@click.option(
    "--threads", "-t", type=int, default=None, help="threads per process (KIZUNA_WORKER_THREADS)"
)
@friendly_errors
def worker(processes: int | None, threads: int | None) -> None:
    """Run dramatiq workers against the Redis broker (REDIS_URL)."""
    from api.db import check_database, make_engine
    from api.workers.broker import check_redis

    settings = _settings()
    if not settings.redis_url:
        raise SettingsError(
            "kizuna worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0).\n"
            "Without it, `kizuna run` runs the workers inside the web process."
        )
    check_redis(settings.redis_url)
    engine = make_engine(settings.effective_database_url, pool=False)
    check_database(engine)
    engine.dispose()
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "api.workers.entry:setup",
        "--processes",
        str(processes or settings.worker_processes),
        "--threads",
        str(threads or settings.worker_threads),
    ]  # fmt: skip  (every queue the installed job kinds declare)
    click.echo(
        f"Starting {args[5]} worker process(es) × {args[7]} thread(s) "
        f"on {settings.redis_url.split('@')[-1]}"
    )
    sys.stdout.flush()
    os.execv(sys.executable, args)  # noqa: S606 (our own interpreter, fixed arguments)


@main.command()
@click.option("--email", prompt=True, help="login e-mail address")
@click.option("--name", prompt=True, help="display name")
@click.option(
    "--role",
    type=click.Choice(["admin", "marketer", "sales", "viewer"]),
    default="admin",
    show_default=True,
)
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="omit to be asked"
)
@click.option("--locale", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@friendly_errors
def createstaff(email: str, name: str, role: str, password: str, locale: str) -> None:
    """Create a staff account (the first admin, typically)."""
    from api.principal import cli_principal
    from api.runtime import build_runtime
    from api.staff import services

    runtime = build_runtime(_settings())
    try:
        with runtime.db.transaction() as session:
            staff = services.create_staff(
                session,
                cli_principal(),
                email=email,
                name=name,
                role=role,
                password=password,
                locale=locale,
            )
        click.echo(f"Created {role} {staff.email} (id {staff.id}).")
    finally:
        runtime.close()


@main.command()
@click.option("--email", prompt=True, help="the staff account's e-mail address")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="omit to be asked"
)
@friendly_errors
def setpassword(email: str, password: str) -> None:
    """Set a staff member's password (e.g. a locked-out admin); ends their sessions."""
    from api.principal import cli_principal
    from api.runtime import build_runtime
    from api.staff import services

    runtime = build_runtime(_settings())
    try:
        with runtime.db.transaction() as session:
            staff = services.find_staff(session, email)
            services.update_staff(session, cli_principal(), staff.id, {"password": password})  # type: ignore[arg-type]
        click.echo(f"Password of {staff.email} changed; their other sessions have ended.")
    finally:
        runtime.close()


@main.command("demo-data")
@friendly_errors
def demo_data() -> None:
    """Add the demo data (staff accounts for each role...). Safe to run again."""
    from api.demo import seed
    from api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        for line in seed(runtime):
            click.echo(line)
    finally:
        runtime.close()


@main.group()
def schema() -> None:
    """The customer database's tables and fields as a TOML file (schema as code)."""


@schema.command("export")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
    help="write to this file instead of printing",
)  # fmt: skip
@friendly_errors
def schema_export(output: str | None) -> None:
    """Print every table and field as TOML (what `kizuna schema apply` reads)."""
    from api.customers import schema_file
    from api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        with runtime.db.read() as session:
            text = schema_file.export(session)
    finally:
        runtime.close()
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"Schema written to {output}.")
    else:
        click.echo(text, nl=False)


@schema.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="print the plan and change nothing")
@click.option(
    "--allow-destructive", is_flag=True,
    help="apply type changes that empty the values that do not convert",
)  # fmt: skip
@friendly_errors
def schema_apply(file: str, dry_run: bool, allow_destructive: bool) -> None:
    """Make the tables and fields match FILE: print the plan, then apply it (all or nothing).

    Tables and fields the file leaves out are retired (hidden, data kept). A change that would
    lose data is refused, naming what, unless --allow-destructive is given."""
    from pathlib import Path

    from api.customers import schema_file
    from api.principal import cli_principal
    from api.runtime import build_runtime

    desired = schema_file.parse(Path(file).read_text("utf-8"))
    runtime = build_runtime(_settings())
    try:
        with runtime.db.transaction() as session:
            steps = schema_file.plan(session, desired)
            for step in steps:
                click.echo(step.describe())
            if not steps:
                click.echo("Nothing to change: the database matches the file.")
                return
            lost = [s for s in steps if s.destructive]
            if dry_run:
                note = f" ({len(lost)} destructive)" if lost else ""
                click.echo(f"Dry run: {len(steps)} change(s) planned{note}, nothing applied.")
                return
            if lost and not allow_destructive:
                click.secho(
                    f"Refused: {len(lost)} change(s) would lose data (listed above as "
                    "DESTRUCTIVE); nothing was changed. Run again with --allow-destructive "
                    "to apply them.",
                    fg="red",
                    err=True,
                )
                sys.exit(1)
            schema_file.apply(
                session, cli_principal("kizuna schema apply"), desired,
                allow_destructive=allow_destructive,
            )  # fmt: skip
        click.echo(f"Applied {len(steps)} change(s).")
    finally:
        runtime.close()


@main.command("import")
@click.argument("table")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--mode",
    type=click.Choice(["insert", "update", "upsert"]),
    default=None,
    help="insert only, update only, or both (default upsert)",
)
@click.option("--key", default=None, help="the key field(s) matching rows to records: a,b")
@click.option(
    "--encoding", type=click.Choice(["auto", "utf-8", "cp932"]), default="auto", show_default=True
)
@click.option("--dry-run", is_flag=True, help="count new, updated, unchanged and invalid rows")
@click.option(
    "--errors",
    "errors_out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="write the refused rows and their reasons to this CSV",
)
@click.option("--all-or-nothing", is_flag=True, help="write nothing if any row is refused")
@friendly_errors
def import_(
    table: str,
    file: str,
    mode: str | None,
    key: str | None,
    encoding: str,
    dry_run: bool,
    errors_out: str | None,
    all_or_nothing: bool,
) -> None:
    """Import FILE (CSV or .xlsx) into TABLE. Exit 0: every row in; 1: some rows refused (the
    valid rows are in unless --all-or-nothing); 2: the file or its mapping refused."""
    from pathlib import Path

    from api.imports.cli import run_import
    from api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        code = run_import(
            runtime,
            table,
            Path(file),
            mode=mode,
            key=[k.strip() for k in key.split(",") if k.strip()] if key else None,
            encoding=encoding,
            dry_run=dry_run,
            errors_out=Path(errors_out) if errors_out else None,
            all_or_nothing=all_or_nothing,
        )
    finally:
        runtime.close()
    sys.exit(code)  # fmt: skip


@main.group("imports")
def imports_group() -> None:
    """Go on with or undo an import batch (its id is printed by kizuna import)."""


@imports_group.command("resume")
@click.argument("table")
@click.argument("batch", type=int)
@click.option(
    "--errors",
    "errors_out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="write the refused rows and their reasons to this CSV",
)
@friendly_errors
def imports_resume(table: str, batch: int, errors_out: str | None) -> None:
    """Resume a stopped import from its first unfinished chunk (or a stopped undo where it
    stopped). Exit codes as kizuna import; 2: it cannot be resumed."""
    from pathlib import Path

    from api.imports.cli import resume_import
    from api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        code = resume_import(
            runtime, table, batch, errors_out=Path(errors_out) if errors_out else None
        )
    finally:
        runtime.close()
    sys.exit(code)


@imports_group.command("undo")
@click.argument("table")
@click.argument("batch", type=int)
@friendly_errors
def imports_undo(table: str, batch: int) -> None:
    """Undo an import: records it created are deleted, fields it changed restored, except
    where they changed since (listed). Exit 0: all undone; 1: some left or it stopped; 2:
    refused."""
    from api.imports.cli import undo_import
    from api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        code = undo_import(runtime, table, batch)
    finally:
        runtime.close()
    sys.exit(code)


@main.command("housekeeping")
@friendly_errors
def housekeeping_() -> None:
    """Run every domain's periodic clean-up now (old login sessions, import files past their
    retention, leftover export files); the janitor of a running worker does it on its own."""
    from api.domain import housekeeping
    from api.domains import DOMAINS
    from api.runtime import build_runtime
    from api.workers.janitor import housekeeping as run_housekeeping

    runtime = build_runtime(_settings())
    try:
        done = run_housekeeping(runtime, housekeeping(DOMAINS))
    finally:
        runtime.close()
    for name, count in done.items():
        click.echo(f"{name}: {count}")


@main.command("export")
@click.argument("table")
@click.option("--view", default=None, help="a saved view's id or name (its filter and sort)")
@click.option("--where", default=None, help="a filter: a condition tree as JSON")
@click.option("--q", "query", default=None, help="full-text search, as in the list")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option(
    "--encoding", type=click.Choice(["utf-8", "utf-8-bom", "cp932"]), default="utf-8",
    help="CSV encoding: utf-8-bom or cp932 for Excel",
)  # fmt: skip
@click.option("--columns", default=None, help="field keys and system columns, comma-separated")
@click.option("--labels", type=click.Choice(["ja", "en", "keys"]), default="ja",
              help="header labels")  # fmt: skip
@click.option("--values", type=click.Choice(["display", "stored"]), default="display",
              help="choices, references and owners by label (display) or as stored")  # fmt: skip
@click.option("--replace", is_flag=True, help="CP932: write 〓 for characters it cannot hold")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="write to this file (default: standard output)")  # fmt: skip
@friendly_errors
def export(
    table: str, view: str | None, where: str | None, query: str | None, fmt: str,
    encoding: str, columns: str | None, labels: str, values: str, replace: bool,
    output: str | None,
) -> None:  # fmt: skip
    """Export TABLE's records (all, a view, a filter) as CSV or .xlsx.

    Exit 0: written. Exit 2: refused (bad option, or CP932 cannot hold some values: each
    record and field is listed; --replace writes 〓 for them instead)."""
    import json
    from pathlib import Path

    from api.customers import record_set
    from api.errors import ValidationFailed
    from api.exports import services
    from api.principal import cli_principal
    from api.runtime import build_runtime

    actor = cli_principal("kizuna export")
    runtime = build_runtime(_settings())
    try:
        options = services.parse_options(
            format=fmt, encoding=encoding, columns=columns, labels=labels, values=values,
            replace=replace,
        )  # fmt: skip
        target = Path(output) if output else None
        directory = target.resolve().parent if target else services.exports_dir(
            runtime.settings.var_dir
        )  # fmt: skip
        with runtime.db.read() as session:
            view_id: int | None = None
            if view is not None:
                view_id = record_set.find_view(session, actor, table, view)
            rs = record_set.record_set(
                session, actor, table, view=view_id, q=query,
                where=json.loads(where) if where else None,
            )  # fmt: skip
            try:
                path, result = services.export_file(session, rs, options, directory)
            except ValidationFailed as exc:
                if exc.code != "cp932_gaps":
                    raise
                click.secho(exc.detail, fg="red", err=True)
                for e in exc.errors:
                    p = e.params or {}
                    click.echo(f"  record {p.get('record_id')} {p.get('field')}: {e.message}",
                               err=True)  # fmt: skip
                sys.exit(2)
        with runtime.db.transaction() as session:
            services.record_export(session, actor, rs, options, result)
        if target is not None:
            path.replace(target)
            note = f", {result.gap_count} value(s) replaced by 〓" if result.gap_count else ""
            click.echo(f"{result.rows} record(s) written to {target}{note}.", err=True)
        else:
            stdout = sys.stdout.buffer
            for block in services.chunks(path):
                stdout.write(block)
            stdout.flush()
            path.unlink(missing_ok=True)
    finally:
        runtime.close()


@main.group()
def access() -> None:
    """Access rules: who may read a page (the rule language of `Access:` metadata)."""


@access.command("check")
@click.argument("rule")
@click.option(
    "--fields",
    "known_fields",
    default=None,
    help="the member table's field keys, comma-separated: warn about any other",
)
@click.option(
    "--groups",
    "known_groups",
    default=None,
    help="the groups there are, comma-separated: warn about any other",
)
@click.option(
    "--member",
    "member_json",
    default=None,
    help='a member as JSON, e.g. \'{"groups": ["doctors"], "fields": {"plan": "gold"}}\' '
    "(or null for an anonymous visitor): say what the gate would do",
)
@click.option("--locale", type=click.Choice(["ja", "en"]), default="en", show_default=True)
def access_check(
    rule: str,
    known_fields: str | None,
    known_groups: str | None,
    member_json: str | None,
    locale: str,
) -> None:
    """Parse RULE; print its canonical form, the member fields and groups it reads, and warnings.

    Exit status 1 when the rule does not parse (the message names the line, the column and
    what was expected)."""
    import json

    from api.access.rules import Member, RuleError, check, parse

    try:
        compiled = parse(rule)
    except RuleError as exc:
        click.secho(exc.describe(locale), fg="red", err=True)
        sys.exit(1)
    click.echo(f"rule:   {compiled}")
    click.echo(f"fields: {', '.join(sorted(compiled.fields())) or '-'}")
    click.echo(f"groups: {', '.join(sorted(compiled.groups())) or '-'}")
    if known_fields is not None or known_groups is not None:

        def listed(value: str) -> list[str]:
            return [item.strip() for item in value.split(",") if item.strip()]

        # Only --groups given: the fields are taken as known.
        fields = compiled.fields() if known_fields is None else listed(known_fields)
        groups = None if known_groups is None else listed(known_groups)
        for warning in check(compiled, fields, groups=groups):
            click.secho(f"warning: {warning.describe(locale)}", fg="yellow")
    if member_json is not None:
        try:
            data = json.loads(member_json)
            member = (
                None
                if data is None
                else Member(
                    id=data.get("id"),
                    active=bool(data.get("active", True)),
                    groups=frozenset(map(str, data.get("groups", []))),
                    fields=dict(data.get("fields", {})),
                )
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise click.BadParameter(f"not a member as JSON: {exc}", param_hint="--member") from exc
        click.echo(f"member: {compiled.decide(member).value}")


@main.command()
@friendly_errors
def check() -> None:
    """Validate the configuration and reach every service it names; say exactly what is wrong."""
    from api.check import run_checks

    settings = _settings()
    failures = 0
    for result in run_checks(settings):
        mark = click.style("ok  ", fg="green") if result.ok else click.style("FAIL", fg="red")
        click.echo(f"[{mark}] {result.name}: {result.message}")
        failures += 0 if result.ok else 1
    if failures:
        click.secho(f"{failures} check(s) failed.", fg="red", err=True)
        sys.exit(1)
    click.echo("Everything Kizuna needs is configured and reachable.")


if __name__ == "__main__":
    main()
