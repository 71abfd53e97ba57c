"""`kizuna access check RULE`: an editor's way to try a rule without building the site."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["access", "check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_prints_the_canonical_rule_and_what_it_reads() -> None:
    code, out, _ = run('Plan IN ("gold",) and (group:Doctors or specialty contains "腫瘍")')
    assert code == 0
    assert out.splitlines() == [
        'rule:   plan in ("gold") and (group:doctors or specialty contains "腫瘍")',
        "fields: plan, specialty",
        "groups: doctors",
    ]


def test_warns_about_unknown_fields_and_groups() -> None:
    code, out, _ = run('specialty == "x" or group:nurses', "--fields", "plan", "--groups",
                       "doctors", "--locale", "ja")  # fmt: skip
    assert code == 0
    assert "warning: 1行目 1文字目：会員テーブルに項目「specialty」がありません。" in out
    assert "warning: 1行目 21文字目：グループ「nurses」はありません。" in out


def test_says_what_the_gate_would_do_for_a_member() -> None:
    member = '{"groups": ["doctors"], "fields": {"plan": "GOLD"}}'
    assert run('plan == "gold"', "--member", member)[1].endswith("member: allow\n")
    assert run("group:nurses", "--member", member)[1].endswith("member: forbidden\n")
    assert run("members", "--member", "null")[1].endswith("member: login\n")
    assert run("public", "--member", "null")[1].endswith("member: allow\n")
    code, _, err = run("members", "--member", "[1]")
    assert code == 2 and "not a member as JSON" in err


def test_a_rule_that_does_not_parse_exits_1_with_the_place() -> None:
    code, out, err = run("plan ==")
    assert code == 1 and out == ""
    assert err.startswith("line 1, column 8: Expected a value after “==”")
    code, _, err = run("plan ==", "--locale", "ja")
    assert err.startswith("1行目 8文字目：「==」の後に値")
