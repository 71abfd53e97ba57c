"""`kizuna import` as scripts run it (a subprocess on SQLite): the summary, the progress line
and the exit codes 0, 1 and 2."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.live import kizuna, kizuna_env

SCHEMA = """
[tables.customers]
[[tables.customers.fields]]
key = "email"
type = "email"
unique = true
label = { ja = "メールアドレス", en = "E-mail" }
[[tables.customers.fields]]
key = "name"
type = "text"
required = true
label = { ja = "氏名", en = "Name" }
"""


def test_exit_codes(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var")
    kizuna(env, "migrate")
    (tmp_path / "schema.toml").write_text(SCHEMA, "utf-8")
    kizuna(env, "schema", "apply", str(tmp_path / "schema.toml"))
    good = tmp_path / "good.csv"
    good.write_bytes("メールアドレス,氏名\r\nＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ,髙橋①\r\n".encode("cp932"))
    done = kizuna(env, "import", "customers", str(good), check=False)
    assert done.returncode == 0, done.stderr
    assert "1 created" in done.stdout and "rows" in done.stderr  # the progress line
    bad = tmp_path / "bad.csv"
    bad.write_text("E-mail,Name\r\na@example.com,again\r\nb@example.com,\r\n", "utf-8")
    report = tmp_path / "errors.csv"
    some = kizuna(env, "import", "customers", str(bad), "--mode", "update", "--key", "email",
                  "--errors", str(report), check=False)  # fmt: skip
    assert some.returncode == 1, some.stdout + some.stderr
    assert "1 updated" in some.stdout and "1 refused" in some.stdout
    assert "b@example.com" in report.read_text("utf-8")
    refused = kizuna(env, "import", "customers", str(good), "--encoding", "utf-8", check=False)
    assert refused.returncode == 2 and "CP932" in refused.stderr
    dry = kizuna(env, "import", "customers", str(good), "--dry-run", check=False)
    assert dry.returncode == 0 and "1 updated" in dry.stdout, dry.stdout  # "again" → 髙橋①
    unknown = kizuna(env, "import", "nope", str(good), check=False)
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_undo_and_housekeeping_commands(tmp_path: Path) -> None:
    env = kizuna_env(tmp_path / "var")
    kizuna(env, "migrate")
    (tmp_path / "schema.toml").write_text(SCHEMA, "utf-8")
    kizuna(env, "schema", "apply", str(tmp_path / "schema.toml"))
    good = tmp_path / "good.csv"
    good.write_text("E-mail,Name\r\na@example.com,A\r\nb@example.com,B\r\n", "utf-8")
    done = kizuna(env, "import", "customers", str(good), check=False)
    assert done.returncode == 0 and "Import 1: Read 2 of 2 rows" in done.stdout, done.stdout
    resumed = kizuna(env, "imports", "resume", "customers", "1", check=False)
    assert resumed.returncode == 2 and "cannot be resumed" in resumed.stderr
    undone = kizuna(env, "imports", "undo", "customers", "1", check=False)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "2 records deleted" in undone.stdout and "changes" in undone.stderr  # progress
    again = kizuna(env, "imports", "undo", "customers", "1", check=False)
    assert again.returncode == 2 and "undone" in again.stderr
    house = kizuna(env, "housekeeping")
    assert "import files past their retention: 0" in house.stdout, house.stdout
    assert "leftover export files: 0" in house.stdout
