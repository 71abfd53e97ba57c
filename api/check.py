"""``kizuna check``: each setting that names a service is tried for real."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from api.settings import Settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    message: str


def run_checks(settings: Settings) -> Iterator[CheckResult]:
    from api.db import check_database, describe_url, make_engine
    from api.errors import KizunaError
    from api.migrate import current_revision, head_revision

    yield CheckResult("configuration", True, f"valid (KIZUNA_ENV={settings.env})")

    url = settings.effective_database_url
    engine = make_engine(url, pool=False)
    try:
        check_database(engine)
        yield CheckResult("DATABASE_URL", True, f"connected to {describe_url(url)}")
        current, head = current_revision(engine), head_revision()
        if current == head:
            yield CheckResult("schema", True, f"up to date (revision {head})")
        else:
            yield CheckResult(
                "schema", False, f"at {current or 'empty'}, needs {head}: run `kizuna migrate`"
            )
    except KizunaError as exc:
        yield CheckResult("DATABASE_URL", False, exc.detail)
    finally:
        engine.dispose()

    if settings.redis_url:
        from api.workers.broker import check_redis

        try:
            check_redis(settings.redis_url)
            yield CheckResult("REDIS_URL", True, "Redis answers; run workers with `kizuna worker`")
        except KizunaError as exc:
            yield CheckResult("REDIS_URL", False, exc.detail)
    else:
        yield CheckResult(
            "REDIS_URL", True, "not set: workers run inside `kizuna run` (embedded mode)"
        )

    if settings.smtp_url:
        from api.mail.transport import check_smtp

        where = settings.smtp_url.rsplit("@", 1)[-1]
        try:
            check_smtp(settings.smtp_url, settings.smtp_ca_file, timeout=10)
            yield CheckResult("SMTP_URL", True, f"connected and greeted by {where}")
        except KizunaError as exc:
            yield CheckResult("SMTP_URL", False, exc.detail)
    else:
        outbox = settings.outbox_dir
        try:
            outbox.mkdir(parents=True, exist_ok=True)
            writable = os.access(outbox, os.W_OK)
        except OSError:
            writable = False
        if settings.env == "production":
            yield CheckResult(
                "SMTP_URL",
                False,
                "not set: in production no mail would be delivered (it would only be kept in "
                f"the dev outbox {outbox}). Set SMTP_URL to your relay or ESP.",
            )
        else:
            yield CheckResult(
                "SMTP_URL",
                writable,
                f"not set: mail goes to the dev outbox {outbox}"
                + ("" if writable else " — but that folder is not writable (KIZUNA_VAR_DIR)"),
            )

    if settings.secret_key:
        yield CheckResult("KIZUNA_SECRET_KEY", True, "set")
    elif settings.env == "production":
        yield CheckResult("KIZUNA_SECRET_KEY", False, "must be set in production")
    else:
        yield CheckResult(
            "KIZUNA_SECRET_KEY",
            True,
            f"not set: dev key kept in {settings.var_dir / 'secrets.json'}",
        )

    index = settings.public_dir / "index.html"
    yield CheckResult(
        "site",
        index.exists(),
        f"built ({settings.public_dir})"
        if index.exists()
        else f"not built yet: run `kizuna build` ({settings.public_dir})",
    )
