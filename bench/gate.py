"""The gate under load: the embedded gate against a bare Litestar handler, and nginx with and
without the gate.

    .venv/bin/python bench/gate.py [--seconds 4] [--rounds 3] [--connections 16]

Needs ``wrk`` (Debian: ``apt-get install wrk``) and, for the nginx part, ``/usr/sbin/nginx``
(``nginx-light``). Starts everything itself on 127.0.0.1 and stops it at the end:

* a Kizuna (``kizuna run``, one process, SQLite, the demo members of ``kizuna demo-data``)
  serving a site written here: a 20 KB public page and a 20 KB page with ``Access: members``,
  with the access manifest (CONTRACT17 §1) and the nginx map (pipeline's ``render_map``);
* the **peer**: a bare Litestar app, one handler returning the same 20 KB from memory, under
  the same uvicorn settings (``python bench/gate.py --serve-bare``);
* nginx (one worker) twice: plain static (the ceiling) and with deploy/nginx/kizuna-gate.conf
  (map + ``auth_request`` to the Kizuna above, its 2 s auth cache on).

Measures requests/s with ``wrk -t1 -c<connections>`` over keep-alive, each figure the best of
``--rounds`` rounds run interleaved (so load from elsewhere on the shared machine falls on all
alike), and prints the figures and the ratios the issue asks for:
embedded public ÷ bare ≥ 0.8, embedded gated (valid member cookie) ÷ embedded public ≥ 0.8,
nginx gated within 2× of nginx ungated (ratio ≥ 0.5).
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
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIZUNA = str(Path(sys.executable).with_name("kizuna"))
NGINX = "/usr/sbin/nginx"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PAGE_BYTES = 20 * 1024


# The theme's header log-in state (base.html): the gate fills it for the member on a gated page.
HEADER = (
    '<header><!--kizuna:member-nav--><div class="member-nav" data-kizuna-member '
    'data-state="anonymous" data-api="/api/members" data-lang="ja">\n'
    '<a class="member-nav__login" href="/login/">ログイン</a>\n'
    '<form class="member-nav__logout" method="post" action="/api/members/logout" hidden>\n'
    '<span class="member-nav__name" data-kizuna-member-name></span>\n'
    '<button class="member-nav__button" type="submit">ログアウト</button>\n'
    "</form>\n</div><!--/kizuna:member-nav--></header>"
)


def page(title: str) -> bytes:
    head = f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{title}</title>'
    head += "</head><body>" + HEADER + "<main><h1>" + title + "</h1>\n"
    filler = "<p>会員向けのセミナー資料です。Seminar materials for members.</p>\n"
    body = head
    while len(body.encode()) < PAGE_BYTES - 64:
        body += filler
    body += "</main></body></html>\n"
    data = body.encode()
    return data + b" " * (PAGE_BYTES - len(data)) if len(data) < PAGE_BYTES else data


SPECIAL_PAGES = {
    "/login/": ("login/index.html", "special", "public", "ログイン"),
    "/forbidden/": ("forbidden/index.html", "special", "public", "閲覧できません"),
    "/404.html": ("404.html", "special", "public", "見つかりません"),
    "/": ("index.html", "index", "public", "ホーム"),
}


def write_files(site: Path, pages: dict[str, tuple[str, str, str, str]]) -> dict[str, bytes]:
    """public/ and meta/ as a build leaves them for ``pages`` (URL → file, kind, rule, title)
    and the special pages: the files, the access manifest and both nginx maps. Returns each
    URL's bytes."""
    sys.path.insert(0, str(ROOT))
    from api.access.rules import parse
    from pipeline.plugins.nginx_map import render_app_pages, render_map

    public, meta = site / "public", site / "meta"
    entries, bodies = {}, {}
    for path, (file, kind, rule, title) in {**pages, **SPECIAL_PAGES}.items():
        bodies[path] = page(title)
        (public / file).parent.mkdir(parents=True, exist_ok=True)
        (public / file).write_bytes(bodies[path])
        entries[path] = {"file": file, "kind": kind, **parse(rule).as_dict(), "source": file}
    manifest = {
        "version": 1,
        "build_id": "bench",
        "fields": [],
        "groups": [],
        "pages": {"login": "/login/", "forbidden": "/forbidden/", "not_found": "/404.html"},
        "entries": entries,
        "folders": {},
    }
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "access.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    (meta / "nginx-gated.map").write_text(render_map(manifest), "utf-8")
    (meta / "nginx-app-pages.map").write_text(render_app_pages(manifest), "utf-8")
    return bodies


def write_site(site: Path) -> bytes:
    """The gate bench's site: a public and a gated page; returns the public page's bytes."""
    return write_files(
        site,
        {
            "/bench/public/": ("bench/public/index.html", "page", "public", "公開ページ"),
            "/bench/gated/": ("bench/gated/index.html", "page", "members", "会員ページ"),
        },
    )["/bench/public/"]


# ------------------------------------------------------------------------------ processes


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def running(args: list[str], url: str, env: dict[str, str] | None = None) -> Iterator[None]:
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(url, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def kizuna_env(var_dir: Path, site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL"):
        env.pop(name, None)
    env.update(
        KIZUNA_ENV="test",
        KIZUNA_VAR_DIR=str(var_dir),
        KIZUNA_SITE_DIR=str(site),
        KIZUNA_SECRET_KEY=SECRET,
        KIZUNA_CONFIG=str(var_dir / "no-kizuna.toml"),
        KIZUNA_LOG_LEVEL="WARNING",
    )
    return env


def member_cookie(base: str, password: str) -> str:
    request = urllib.request.Request(
        base + "/api/members/login",
        data=json.dumps({"email": "member@example.jp", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    return "; ".join(c.split(";", 1)[0] for c in cookies)


def nginx_config(base: Path, site: Path, app_port: int, port: int, name: str) -> Path:
    """``name``: plain (static only), gated (deploy/nginx as shipped), nocache (gated with
    the auth cache off); the configuration the real-nginx test runs too."""
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.nginx import local_config

    folder = base / f"nginx-{name}"
    return local_config(
        folder, site, app_port, port, gated=name != "plain", auth_cache=name != "nocache"
    )


# ------------------------------------------------------------------------------ load


def wrk(url: str, seconds: int, connections: int, cookie: str | None = None) -> float:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: errors under load:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(out)
    return float(match.group(1))


def check(
    url: str, expected: bytes | None, cookie: str | None = None, contains: bytes = b""
) -> None:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        if response.status != 200 or (expected is not None and body != expected):
            raise RuntimeError(f"{url}: status {response.status}, {len(body)} bytes")
        if contains not in body:
            raise RuntimeError(f"{url}: {contains!r} not in the page")


def serve_bare(port: int, file: str) -> None:
    """The peer: a bare Litestar handler returning the page's bytes from memory."""
    import uvicorn
    from litestar import Litestar, MediaType, get

    body = Path(file).read_bytes()

    @get("/bench/public/", media_type=MediaType.HTML, sync_to_thread=False)
    def public_page() -> bytes:
        return body

    app = Litestar([public_page])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return 0
    if not shutil.which("wrk"):
        print("bench/gate.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    use_nginx = not args.no_nginx and Path(NGINX).exists()
    seconds, conns = args.seconds, args.connections

    with tempfile.TemporaryDirectory(prefix="kizuna-bench-gate-") as scratch:
        base = Path(scratch)
        var_dir, site = base / "var", base / "site"
        public_bytes = write_site(site)
        env = kizuna_env(var_dir, site)
        for command in (["migrate"], ["demo-data"]):
            subprocess.run([KIZUNA, *command], env=env, cwd=ROOT, check=True, capture_output=True)
        password = json.loads((var_dir / "demo-credentials.json").read_text())["password"]
        app_port, bare_port = free_port(), free_port()
        app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        page_file = site / "public" / "bench" / "public" / "index.html"
        bare_cmd = [sys.executable, __file__, "--serve-bare", str(bare_port), str(page_file)]
        kizuna_cmd = [KIZUNA, "run", "--port", str(app_port)]
        with (
            running(kizuna_cmd, app_url + "/api/health", env),
            running(bare_cmd, bare_url + "/bench/public/"),
        ):
            cookie = member_cookie(app_url, password)
            # The embedded gate fills the gated page's header for the member (the measured work).
            check(app_url + "/bench/gated/", None, cookie, b'data-state="member"')
            targets: dict[str, tuple[str, str | None]] = {
                "bare Litestar handler, bytes from memory": (bare_url + "/bench/public/", None),
                "embedded gate, public page": (app_url + "/bench/public/", None),
                "embedded gate, gated page + member cookie": (app_url + "/bench/gated/", cookie),
            }
            nginx_ports = {"plain": free_port(), "gated": free_port(), "nocache": free_port()}
            stack = ExitStack()
            if use_nginx:
                for name, port in nginx_ports.items():
                    config = nginx_config(base, site, app_port, port, name)
                    stack.enter_context(
                        running([NGINX, "-c", str(config)], f"http://127.0.0.1:{port}/")
                    )
                plain = f"http://127.0.0.1:{nginx_ports['plain']}"
                gated = f"http://127.0.0.1:{nginx_ports['gated']}"
                targets["nginx ungated (plain static)"] = (plain + "/bench/public/", None)
                targets["nginx + gate config, public page (map)"] = (gated + "/bench/public/", None)
                targets["nginx + gate config, gated page (auth_request)"] = (
                    gated + "/bench/gated/",
                    cookie,
                )
                nocache = f"http://127.0.0.1:{nginx_ports['nocache']}"
                targets["nginx gated, auth cache off (every request asks)"] = (
                    nocache + "/bench/gated/",
                    cookie,
                )
            with stack:
                for url, with_cookie in targets.values():
                    check(url, public_bytes if "public" in url else None, with_cookie)
                    wrk(url, 1, conns, with_cookie)  # warm up
                best: dict[str, float] = {}
                for round_no in range(1, args.rounds + 1):
                    figures = []
                    for label, (url, with_cookie) in targets.items():
                        rate = wrk(url, seconds, conns, with_cookie)
                        best[label] = max(best.get(label, 0.0), rate)
                        figures.append(f"{rate:,.0f}")
                    print(f"round {round_no}: " + " / ".join(figures))

    print(f"\n20 KB page, wrk -t1 -c{conns}, {seconds:g} s per run, best of {args.rounds}:")
    for label, rate in best.items():
        print(f"  {label:<50} {rate:>10,.0f} req/s")
    labels = list(best)

    def ratio(a: str, b: str, floor: float) -> None:
        value = best[a] / best[b]
        verdict = "ok" if value >= floor else "BELOW"
        print(f"  {a} ÷ {b}: {value:.2f} (≥ {floor}: {verdict})")

    print("ratios:")
    ratio(labels[1], labels[0], 0.8)
    ratio(labels[2], labels[1], 0.8)
    if use_nginx:
        ratio(labels[4], labels[3], 0.0)
        ratio(labels[5], labels[3], 0.5)
        ratio(labels[6], labels[3], 0.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
