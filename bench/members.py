"""Member log-in under load: log-ins per second against raw argon2, and a public page during a
flood of wrong passwords.

    .venv/bin/python bench/members.py [--seconds 5] [--rounds 3] [--members 200]
        [--concurrency N] [--connections 16] [--processes N] [--redis URL]

Needs ``wrk`` (Debian: ``apt-get install wrk``). Starts everything itself on 127.0.0.1 and
stops it at the end: a ``kizuna run`` (a fresh SQLite database in a temporary folder,
``kizuna demo-data`` plus ``--members`` members with the same password) serving a site
written here (a 20 KB public ``/about/`` and the special pages).

1. **Log-ins per second**: ``wrk -t1 -c<concurrency>`` (default: as many connections as
   cores) posting ``POST /api/members/login`` with the right password, cycling over the
   members (successful log-ins never count towards an account's limit, and no member gets
   more than 1/``--members`` of them). The per-IP limit (``KIZUNA_LOGIN_RATE_LIMIT``, 10 a
   minute by default) is raised to 10,000,000 for this server, as it is the only thing that
   would otherwise stop a single client: the figure is throughput, not the limit. The peer:
   ``argon2.PasswordHasher.verify`` of a member's stored hash with the right password, the
   hasher built with the parameters of ``api.security.passwords`` (read from it), in as many
   threads as connections (argon2-cffi releases the GIL), for the same time. Target: ours ÷
   peer ≥ 0.9. ``--processes N`` runs N web server processes (revocations and limits shared
   through Redis, ``--redis``, database 15 by default); one process (the default) did better
   here at two connections (see bench/README.md).
2. **A public page during a flood**: ``wrk -c<connections>`` on ``GET /about/`` alone, then
   the same while another ``wrk -c<connections>`` posts wrong passwords for one member from
   one address (``X-Forwarded-For: 198.51.100.7``, the server trusting 127.0.0.1 as its
   proxy), with the default per-IP limit: after 10 attempts a minute every attempt from that
   address is refused (429). Prints both page rates, their ratio and the flood's own rate.
   One server process: the page and the flood share one event loop, the harder case.

Rounds run interleaved (ours, peer, …) so load from elsewhere on the shared machine falls on
both alike; each figure is the best of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gate import KIZUNA, ROOT, free_port, kizuna_env, wait_for, write_files

FLOOD_IP = "198.51.100.7"


def write_site(site: Path) -> bytes:
    """public/ and meta/ as a build leaves them: a public /about/ and the special pages."""
    pages = {"/about/": ("about/index.html", "page", "public", "私たちについて")}
    return write_files(site, pages)["/about/"]


def add_members(count: int, password: str) -> None:
    """``count`` members ``bench-<n>@example.jp`` (run with the server's environment). One
    argon2 hash is made and given to all of them: verifying it costs the same for each."""
    from api.cli import _settings
    from api.customers import records
    from api.members import services as members
    from api.members.models import MemberAccount
    from api.principal import cli_principal
    from api.runtime import build_runtime

    runtime = build_runtime(_settings())
    actor = cli_principal("bench")
    try:
        with runtime.db.transaction() as session:
            first: MemberAccount | None = None
            for n in range(count):
                record = records.create_record(
                    session, actor, "members",
                    {"email": f"bench-{n}@example.jp", "name": f"会員 {n}", "plan": "free"},
                    source="system",
                )  # fmt: skip
                if first is None:
                    first = members.ensure_account(session, actor, record["id"], password,
                                                   check=False)  # fmt: skip
                    continue
                account = members.ensure_account(session, actor, record["id"], "x", check=False)
                account.password_hash = first.password_hash
                session.add(account)
    finally:
        runtime.close()


# ------------------------------------------------------------------------------ load

LOGIN_SCRIPT = """
local emails = {%(emails)s}
local n = 0
local headers = {["Content-Type"] = "application/json"%(extra)s}
request = function()
  n = n + 1
  local body = '{"email":"' .. emails[(n %% #emails) + 1] .. '","password":"%(password)s"}'
  return wrk.format("POST", "/api/members/login", headers, body)
end
"""


def login_script(folder: Path, name: str, emails: list[str], password: str, ip: str = "") -> Path:
    extra = f', ["X-Forwarded-For"] = "{ip}"' if ip else ""
    text = LOGIN_SCRIPT % {
        "emails": ", ".join(f'"{e}"' for e in emails),
        "extra": extra,
        "password": password,
    }
    path = folder / f"{name}.lua"
    path.write_text(text, "utf-8")
    return path


def wrk(
    url: str, seconds: float, connections: int, script: Path | None = None, ok: bool = True
) -> tuple[float, str]:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if ok and ("Non-2xx" in out or "Socket errors" in out):
        raise RuntimeError(f"{url}: errors under load:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(out)
    return float(match.group(1)), out


def flood_run(
    result: list[tuple[float, str]], url: str, seconds: float, connections: int, script: Path
) -> None:
    """The wrong-password flood (answers 401 then 429: not errors here)."""
    result.append(wrk(url, seconds, connections, script, ok=False))


@contextmanager
def server(port: int, env: dict[str, str], processes: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """``kizuna run`` on 127.0.0.1:``port`` (its process, to read its CPU time and its
    children's)."""
    args = [KIZUNA, "run", "--port", str(port), "--processes", str(processes)]
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/health", process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) and of its live descendants (the
    web server processes of ``--processes``), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                todo.append(child)
    ticks = 0
    for member in tree:
        try:
            fields = _stat(member)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def requests_done(out: str) -> int:
    match = re.search(r"(\d+) requests in", out)
    return int(match.group(1)) if match else 0


def argon2_verifies(
    seconds: float, threads: int, stored_hash: str, password: str
) -> tuple[float, float]:
    """The peer: raw verify calls per second in ``threads`` threads, the hasher built with the
    parameters of api.security.passwords."""
    from argon2 import PasswordHasher

    from api.security.passwords import _hasher as ours

    hasher = PasswordHasher(
        time_cost=ours.time_cost,
        memory_cost=ours.memory_cost,
        parallelism=ours.parallelism,
        hash_len=ours.hash_len,
        salt_len=ours.salt_len,
        type=ours.type,
    )
    assert hasher.verify(stored_hash, password)
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(slot: int) -> None:
        while time.perf_counter() < stop:
            hasher.verify(stored_hash, password)
            counts[slot] += 1

    start, cpu = time.perf_counter(), time.process_time()
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done = sum(counts)
    return done / (time.perf_counter() - start), (time.process_time() - cpu) / done


def stored_hash(var_dir: Path) -> str:
    import sqlite3

    files = sorted(var_dir.rglob("*.sqlite*")) + sorted(var_dir.rglob("*.db"))
    for file in files:
        with sqlite3.connect(file) as conn:
            try:
                row = conn.execute(
                    "SELECT password_hash FROM member_account WHERE password_hash IS NOT NULL"
                    " ORDER BY id DESC LIMIT 1"
                ).fetchone()
            except sqlite3.Error:
                continue
            if row:
                return str(row[0])
    raise RuntimeError(f"no member password hash found under {var_dir}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--processes", type=int, default=1,
        help="web server processes of the log-in run (default 1; more than 1 uses Redis, "
        "--redis)",
    )  # fmt: skip
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--add-members", nargs=2, metavar=("N", "PW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.add_members:
        add_members(int(args.add_members[0]), args.add_members[1])
        return 0
    if not shutil.which("wrk"):
        print("bench/members.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    seconds, conc, conns = args.seconds, args.concurrency, args.connections

    with tempfile.TemporaryDirectory(prefix="kizuna-bench-members-") as scratch:
        base = Path(scratch)
        var_dir, site = base / "var", base / "site"
        about = write_site(site)
        env = kizuna_env(var_dir, site)
        for command in (["migrate"], ["demo-data"]):
            subprocess.run([KIZUNA, *command], env=env, cwd=ROOT, check=True, capture_output=True)
        password = json.loads((var_dir / "demo-credentials.json").read_text())["password"]
        subprocess.run(
            [sys.executable, __file__, "--add-members", str(args.members), password],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
        emails = [f"bench-{n}@example.jp" for n in range(args.members)]
        hashed = stored_hash(var_dir)
        good = login_script(base, "good", emails, password)
        wrong = login_script(base, "wrong", emails[:1], "wrong-" + password, ip=FLOOD_IP)

        # 1. log-ins per second, per-IP limit raised
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        fast_env = {**env, "KIZUNA_LOGIN_RATE_LIMIT": "10000000"}
        if args.processes > 1:
            fast_env["REDIS_URL"] = args.redis
        logins: list[float] = []
        verifies: list[float] = []
        cpu_login: list[float] = []
        cpu_verify: list[float] = []
        with server(port, fast_env, args.processes) as process:
            wrk(url + "/api/members/login", 1, conc, good)  # warm up (and check: all 200)
            argon2_verifies(1, conc, hashed, password)
            for round_no in range(1, args.rounds + 1):
                before = cpu_seconds(process.pid)
                ours, out = wrk(url + "/api/members/login", seconds, conc, good)
                cpu_login.append((cpu_seconds(process.pid) - before) / requests_done(out))
                peer, cpu = argon2_verifies(seconds, conc, hashed, password)
                cpu_verify.append(cpu)
                logins.append(ours)
                verifies.append(peer)
                print(
                    f"round {round_no}: log-ins {ours:,.1f}/s ({cpu_login[-1] * 1000:.1f} ms of "
                    f"server CPU each), argon2 verify {peer:,.1f}/s ({cpu * 1000:.1f} ms CPU each)"
                )

        # 2. a public page, alone and during a flood of wrong passwords from one address
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        flood_env = {**env, "KIZUNA_TRUSTED_PROXIES": '["127.0.0.1"]'}
        alone: list[float] = []
        flooded: list[float] = []
        flood_rates: list[float] = []
        with server(port, flood_env):
            import urllib.request

            with urllib.request.urlopen(url + "/about/", timeout=10) as response:
                assert response.read() == about
            wrk(url + "/about/", 1, conns)  # warm up
            for round_no in range(1, args.rounds + 1):
                rate, _ = wrk(url + "/about/", seconds, conns)
                alone.append(rate)
                result: list[tuple[float, str]] = []
                flood = threading.Thread(
                    target=flood_run,
                    args=(result, url + "/api/members/login", seconds + 2, conns, wrong),
                )
                flood.start()
                time.sleep(1)
                rate, _ = wrk(url + "/about/", seconds, conns)
                flood.join()
                flooded.append(rate)
                flood_rate, out = result[0]
                flood_rates.append(flood_rate)
                refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
                print(
                    f"round {round_no}: /about/ alone {alone[-1]:,.0f}/s, during the flood "
                    f"{rate:,.0f}/s (flood {flood_rate:,.0f} attempts/s, "
                    f"{refused.group(1) if refused else 0} refused or failed)"
                )

    best_login, best_verify = max(logins), max(verifies)
    print(f"\nlog-ins, wrk -t1 -c{conc}, {args.members} members, {seconds:g} s a run, "
          f"{args.processes} server process(es), best of {args.rounds}:")  # fmt: skip
    print(f"  POST /api/members/login (right password)     {best_login:>10,.1f} /s")
    print(f"  argon2 PasswordHasher.verify, {conc} threads    {best_verify:>10,.1f} /s")
    ratio = best_login / best_verify
    print(f"  ratio: {ratio:.2f} (≥ 0.9: {'ok' if ratio >= 0.9 else 'BELOW'})")
    paired = [a / b for a, b in zip(logins, verifies, strict=True)]
    print("  per round: " + ", ".join(f"{r:.2f}" for r in paired))
    login_ms, verify_ms = min(cpu_login) * 1000, min(cpu_verify) * 1000
    print(f"  CPU per log-in (server process) {login_ms:.1f} ms, per verify {verify_ms:.1f} ms:")
    print(f"  verify ÷ log-in {verify_ms / login_ms:.2f} (the steadier figure on a busy machine)")
    print(f"\nGET /about/, wrk -t1 -c{conns}, best of {args.rounds}:")
    print(f"  alone                                        {max(alone):>10,.0f} req/s")
    print(f"  during a wrong-password flood (-c{conns})       {max(flooded):>10,.0f} req/s")
    print(f"  the flood itself                             {max(flood_rates):>10,.0f} attempts/s")
    print(f"  ratio: {max(flooded) / max(alone):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
