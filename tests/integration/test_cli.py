"""The `kizuna` command as a user runs it: real processes, real databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.live import KIZUNA, ROOT, kizuna, kizuna_env
from tests.fixtures.services import free_port


def test_help_lists_every_command() -> None:
    out = subprocess.run([KIZUNA, "--help"], capture_output=True, text=True, check=True).stdout
    for command in (
        "run",
        "serve",
        "build",
        "worker",
        "migrate",
        "createstaff",
        "demo-data",
        "access",
        "check",
    ):
        assert command in out


def test_fresh_setup_on_sqlite(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var")
    first = kizuna(env, "migrate").stdout
    assert "migrated: empty →" in first
    assert "up to date" in kizuna(env, "migrate").stdout
    seeded = kizuna(env, "demo-data").stdout
    assert "4 created" in seeded and "admin@example.jp" in seeded
    assert "Members log in on the site" in seeded and "doctor@example.jp" in seeded
    again = kizuna(env, "demo-data").stdout
    assert "0 created" in again
    # the same password is printed each time, so `make run` always shows working credentials
    assert (
        seeded.split("password for all: ")[1].split(")")[0]
        == again.split("password for all: ")[1].split(")")[0]
    )
    created = kizuna(env, "createstaff", "--email", "Ops@Example.JP", "--name", "Ops", "--role", "viewer",
                     "--password", "a long enough passphrase")  # fmt: skip
    assert "ops@example.jp" in created.stdout
    weak = kizuna(
        env,
        "createstaff",
        "--email",
        "x@example.jp",
        "--name",
        "X",
        "--password",
        "password",
        check=False,
    )
    assert weak.returncode == 1 and "password" in weak.stderr and "too common" in weak.stderr


@pytest.mark.postgres
def test_migrate_on_postgres_with_a_usual_url(postgres_session_url: str, tmp_path: Path) -> None:
    # postgresql://user@host/db, as people write it (no driver name)
    url = postgres_session_url.replace("postgresql+psycopg://", "postgresql://")
    env = kizuna_env(tmp_path / "var", DATABASE_URL=url)
    assert "up to date" in kizuna(env, "migrate").stdout
    report = kizuna(env, "check", check=False)
    assert "[ok  ] DATABASE_URL: connected to postgresql" in report.stdout


def test_check_names_what_is_wrong(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
                     REDIS_URL="redis://127.0.0.1:1/0", SMTP_URL="smtp://127.0.0.1:1")  # fmt: skip
    result = kizuna(env, "check", check=False)
    assert result.returncode == 1
    lines = {
        line.split("]")[1].split(":")[0].strip(): line
        for line in result.stdout.splitlines()
        if "]" in line
    }
    assert "FAIL" in lines["DATABASE_URL"] and "127.0.0.1:1" in lines["DATABASE_URL"]
    assert "FAIL" in lines["REDIS_URL"]
    assert "FAIL" in lines["SMTP_URL"] and "127.0.0.1:1" in lines["SMTP_URL"]


def test_invalid_setting_stops_with_the_variable_name(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var", KIZUNA_PORT="http")
    result = kizuna(env, "check", check=False)
    assert result.returncode == 2
    assert "KIZUNA_PORT" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none"),
        ("REDIS_URL", "redis://127.0.0.1:1/0"),
    ],
)
def test_run_fails_fast_on_unreachable_services(tmp_path: Path, variable: str, value: str) -> None:
    env = kizuna_env(tmp_path / "var", **{variable: value})
    if variable == "REDIS_URL":
        kizuna(env, "migrate")
    result = subprocess.run([KIZUNA, "run", "--port", str(free_port())], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert variable in result.stderr and "Traceback" not in result.stderr


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var")
    result = subprocess.run([KIZUNA, "run", "--port", str(free_port())], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1 and "kizuna migrate" in result.stderr


def test_python_dash_m_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert "kizuna" in out.stdout


def test_check_reports_a_malformed_smtp_url_instead_of_crashing(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var", SMTP_URL="smtp://127.0.0.1:notaport")
    kizuna(env, "migrate")
    result = kizuna(env, "check", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert any("FAIL" in line and "SMTP_URL" in line for line in result.stdout.splitlines())


def test_check_against_a_real_smtp_server(tmp_path: Path, smtp_sink: object) -> None:
    env = kizuna_env(tmp_path / "var", SMTP_URL=smtp_sink.url)  # type: ignore[attr-defined]
    kizuna(env, "migrate")
    result = kizuna(env, "check", check=False)
    assert "[ok  ] SMTP_URL: connected" in result.stdout


def test_setpassword_recovers_a_locked_out_admin(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var")
    kizuna(env, "migrate")
    kizuna(
        env,
        "createstaff",
        "--email",
        "boss@example.jp",
        "--name",
        "Boss",
        "--password",
        "the first passphrase",
    )
    result = kizuna(
        env, "setpassword", "--email", "BOSS@example.jp", "--password", "the second passphrase"
    )
    assert "boss@example.jp" in result.stdout
    missing = kizuna(
        env,
        "setpassword",
        "--email",
        "nobody@example.jp",
        "--password",
        "whatever it is 123",
        check=False,
    )
    assert missing.returncode == 1 and "No staff account" in missing.stderr
    weak = kizuna(
        env, "setpassword", "--email", "boss@example.jp", "--password", "short", check=False
    )
    assert weak.returncode == 1 and "at least 12" in weak.stderr


def test_check_in_production_requires_smtp(tmp_path: Path) -> None:
    env = kizuna_env(
        tmp_path / "var", KIZUNA_ENV="production", KIZUNA_BASE_URL="https://www.example.jp"
    )
    kizuna(env, "migrate")
    result = kizuna(env, "check", check=False)
    assert result.returncode == 1
    assert any(
        "FAIL" in line and "SMTP_URL" in line and "no mail would be delivered" in line
        for line in result.stdout.splitlines()
    )


def test_run_serves_with_several_processes(tmp_path: Path, redis_url: str) -> None:
    import time
    import urllib.request

    alone = kizuna_env(tmp_path / "var")
    kizuna(alone, "migrate")
    refused = kizuna(alone, "run", "--processes", "2", check=False)
    assert refused.returncode == 2 and "needs REDIS_URL" in refused.stderr  # revocation
    env = kizuna_env(tmp_path / "var", REDIS_URL=redis_url)
    port = free_port()
    process = subprocess.Popen([KIZUNA, "run", "--port", str(port), "--processes", "2"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/health", timeout=1
                ) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError("server did not start")
    finally:
        process.terminate()
        out = process.communicate(timeout=30)[0].decode()
    assert out.count("Application startup complete") == 2, out


def test_build_names_the_broken_file_and_keeps_the_published_site(tmp_path: Path) -> None:
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    env = kizuna_env(tmp_path / "var", KIZUNA_SITE_DIR=str(tmp_path / "site"))
    assert "Built" in kizuna(env, "build", "--content", str(content)).stdout
    home = (tmp_path / "site" / "public" / "index.html").read_bytes()
    (content / "news" / "2026-02-30-bad.md").write_text(
        "Title: 壊れた日付\nDate: 2026-02-30\n\n本文\n", "utf-8"
    )
    result = kizuna(env, "build", "--content", str(content), check=False)
    assert result.returncode == 1
    assert "2026-02-30-bad.md" in result.stderr and "not a valid date" in result.stderr
    assert (tmp_path / "site" / "public" / "index.html").read_bytes() == home


def test_build_checks_rule_names_against_the_member_table(tmp_path: Path) -> None:
    """With a migrated database and the demo schema, `kizuna build` knows the member table's
    fields: a rule naming a field that does not exist is a warning, and the build succeeds."""
    import json
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "pages" / "members" / "typo.md").write_text(
        'Title: 綴り違い\nAccess: speciality == "oncology"\n\n本文です。\n', "utf-8"
    )
    env = kizuna_env(tmp_path / "var", KIZUNA_SITE_DIR=str(tmp_path / "site"))
    without_db = kizuna(env, "build", "--content", str(content))
    assert "speciality" not in without_db.stderr  # names unknown: no warning
    assert "no database yet" in without_db.stdout
    assert not (tmp_path / "var" / "kizuna.db").exists(), "a build creates no database"
    kizuna(env, "migrate")
    kizuna(env, "demo-data")
    result = kizuna(env, "build", "--content", str(content))
    assert "member table members" in result.stdout
    assert "content/pages/members/typo.md, line 2, column 9" in result.stderr
    assert "speciality" in result.stderr
    record = json.loads((tmp_path / "site" / "meta" / "build.json").read_text("utf-8"))
    assert any("speciality" in w for w in record["warnings"])
    assert (tmp_path / "var" / "build-cache").is_dir()


def test_build_watch_rebuilds_after_a_change(tmp_path: Path) -> None:
    import queue
    import shutil
    import threading
    import time

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    env = kizuna_env(tmp_path / "var", KIZUNA_SITE_DIR=str(tmp_path / "site"))
    process = subprocess.Popen(
        [KIZUNA, "build", "--watch", "--content", str(content)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    output = process.stdout
    assert output is not None
    threading.Thread(target=lambda: [lines.put(x) for x in output], daemon=True).start()

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} in {seen}")

    try:
        wait_for("Watching")  # the first build is done and the watcher has its first scan
        page = content / "pages" / "about.md"
        page.write_text(page.read_text("utf-8").replace("私たちについて", "私たちのこと"), "utf-8")
        wait_for("Changed: content/pages/about.md")
        wait_for("Built ")
        about = tmp_path / "site" / "public" / "about" / "index.html"
        assert "私たちのこと" in about.read_text("utf-8")
    finally:
        process.terminate()
        process.wait(timeout=30)
