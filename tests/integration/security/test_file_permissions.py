"""``var/``, the SQLite database (with its WAL/SHM files), the dev secret and the outbox are
readable by their owner only: directories 0700, files 0600, even under a permissive umask and
when an older version left them readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text

from api.mail.transport import OutboxTransport
from api.migrate import upgrade
from api.runtime import build_runtime
from api.security.files import sqlite_files
from api.settings import load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o002)  # what a shared-group server might run with
    try:
        yield
    finally:
        os.umask(old)


def test_fresh_var_dir_database_secret_and_outbox_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    settings = load_settings(
        env="test", var_dir=tmp_path / "var", site_dir=tmp_path / "site",
        database_url="", secret_key="", redis_url="", smtp_url="",
    )  # fmt: skip
    runtime = build_runtime(settings)
    try:
        upgrade(runtime.db.engine)
        with runtime.db.transaction() as session:  # a write: the WAL and SHM files exist now
            session.execute(text("CREATE TABLE probe (x INTEGER)"))
            session.execute(text("INSERT INTO probe VALUES (1)"))
            database = settings.var_dir / "kizuna.db"
            files = sqlite_files(database)
            assert all(f.exists() for f in files), files
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.jp", "b@example.jp", "x"
        message.set_content("hello")
        OutboxTransport(settings.outbox_dir).send(message)
    finally:
        runtime.close()
    assert mode(settings.var_dir) == 0o700
    assert mode(settings.var_dir / "secrets.json") == 0o600
    assert mode(settings.outbox_dir) == 0o700
    mails = list(settings.outbox_dir.glob("*.eml"))
    assert mails and all(mode(m) == 0o600 for m in mails)


def test_files_left_readable_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    var = tmp_path / "var"
    (var / "outbox").mkdir(parents=True)
    var.chmod(0o755)
    (var / "outbox").chmod(0o755)
    database = var / "kizuna.db"
    for path in (*sqlite_files(database), var / "secrets.json"):
        path.write_text('{"secret_key": "%s"}' % ("k" * 48) if path.suffix == ".json" else "")
        path.chmod(0o644)
    settings = load_settings(
        env="test", var_dir=var, site_dir=tmp_path / "site",
        database_url="", secret_key="", redis_url="", smtp_url="",
    )  # fmt: skip
    build_runtime(settings).close()
    assert mode(var) == 0o700 and mode(var / "outbox") == 0o700
    assert mode(var / "secrets.json") == 0o600
    assert {f.name: mode(f) for f in sqlite_files(database)} == {
        f.name: 0o600 for f in sqlite_files(database)
    }
