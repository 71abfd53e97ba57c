"""A real nginx (Debian's, deploy/nginx/ as shipped) in front of a live Kizuna (`kizuna run`
with the example site built and the demo members): for every path of the example manifest,
with traversal and encoding spellings, GET, HEAD and a Range request, as an anonymous visitor,
a member of no group, a doctor and a pharmacist, nginx and the embedded gate must decide the
same, and no refusal may carry anything but a theme page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.access.rules import Member, Rule
from tests.fixtures.gate_probe import (
    classify,
    load,
    probe_paths,
    refusal_bodies,
    request,
    unfilled,
)
from tests.fixtures.live import ROOT, LiveServer, kizuna, kizuna_env, start_server, stop_server
from tests.fixtures.nginx import local_config
from tests.fixtures.services import free_port, unavailable

NGINX = "/usr/sbin/nginx"
NGINX_ETAG = re.compile(r'"[0-9a-f]+-[0-9a-f]+"')  # mtime-size; the app's are not
DEPLOY = ROOT / "deploy" / "nginx"
VISITORS = {
    "anonymous": None,
    "member": "member@example.jp",
    "doctor": "doctor@example.jp",
    "pharmacist": "pharmacist@example.jp",
}

# The demo members (api/demo.py DEMO_MEMBERS), as the rules see them.
MEMBERS: dict[str, Member | None] = {
    "anonymous": None,
    "member": Member(id=1, groups=frozenset(), fields={"plan": "free", "specialty": ""}),
    "doctor": Member(
        id=2, groups=frozenset({"doctors"}), fields={"plan": "gold", "specialty": "oncology"}
    ),
    "pharmacist": Member(
        id=3,
        groups=frozenset({"pharmacists"}),
        fields={"plan": "platinum", "specialty": "pharmacy"},
    ),
}


@dataclass
class Stack:
    app: LiveServer
    nginx_url: str
    site: Path
    password: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(NGINX).exists():
        unavailable("nginx", f"{NGINX} not found (apt-get install nginx-light)")
    base = tmp_path_factory.mktemp("nginx")
    var_dir, site = base / "var", base / "site"
    env = kizuna_env(var_dir, KIZUNA_SITE_DIR=str(site), KIZUNA_LOGIN_RATE_LIMIT="600")
    kizuna(env, "migrate")
    kizuna(env, "demo-data")
    kizuna(env, "build")
    password = json.loads((var_dir / "demo-credentials.json").read_text())["password"]
    app = start_server(env, var_dir, free_port())
    port = free_port()
    config = local_config(base, site, int(app.url.rsplit(":", 1)[1]), port)
    check = subprocess.run([NGINX, "-t", "-c", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-c", str(config)], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(url + "/api/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (base / "error.log").read_text()
                    raise RuntimeError(f"nginx did not start: {log}") from None
                time.sleep(0.1)
        yield Stack(app, url, site, password)
    finally:
        process.terminate()
        process.wait(timeout=10)
        stop_server(app)
        shutil.rmtree(base / "auth-cache", ignore_errors=True)


def clients(base_url: str, stack: Stack) -> dict[str, httpx.Client]:
    found = {}
    for name, email in VISITORS.items():
        client = httpx.Client(base_url=base_url, timeout=10)
        if email is not None:
            response = client.post(
                "/api/members/login", json={"email": email, "password": stack.password}
            )
            assert response.status_code == 200, response.text
        found[name] = client
    return found


def test_the_login_page_comes_from_the_app_with_next_filled(stack: Stack) -> None:
    for page in ("/login/", "/en/login/"):
        response = httpx.get(stack.nginx_url + page, params={"next": "/members/gold/"})
        assert response.status_code == 200
        assert '<input type="hidden" name="next" value="/members/gold/">' in response.text
    anonymous = httpx.get(stack.nginx_url + "/members/gold/?a=1", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login/?next=/members/gold/%3Fa%3D1"
    assert anonymous.headers["cache-control"] == "private, no-store"


def test_member_pages_work_without_javascript_behind_nginx(stack: Stack) -> None:
    """A plain form post's 303 comes back with its message shown, and my page is filled for
    the member who asks it, never cached — through nginx, as in the embedded gate."""
    with httpx.Client(base_url=stack.nginx_url, timeout=10) as visitor:
        sent = visitor.post("/api/members/password/reset", data={"email": "x@example.jp",
                            "lang": "en"})  # fmt: skip
        assert sent.status_code == 303
        assert sent.headers["location"] == "/en/password/reset/?done=sent"
        page = visitor.get(sent.headers["location"])
        assert page.status_code == 200 and "etag" not in page.headers
        shown = re.search(r'<p [^>]*data-kizuna-message="done=sent"[^>]*>', page.text)
        assert shown is not None and " hidden" not in shown.group(0)
        # The same page without a query: every message still hidden.
        plain = visitor.get("/en/password/reset/").text
        assert 'data-kizuna-message="done=sent" role="status" hidden' in plain
        anonymous = visitor.get("/mypage/")
        assert anonymous.headers["cache-control"] == "private, no-store"
        assert 'data-kizuna-filled="anonymous"' in anonymous.text
        assert visitor.get("/mypage", follow_redirects=False).headers["location"] == "/mypage/"
    with httpx.Client(base_url=stack.nginx_url, timeout=10) as member:
        logged_in = member.post(
            "/api/members/login", json={"email": "doctor@example.jp", "password": stack.password}
        )
        assert logged_in.status_code == 200
        for path, lead in (("/mypage/", "ログイン中: doctor@example.jp"),
                           ("/en/mypage/index.html", "Logged in as doctor@example.jp")):  # fmt: skip
            page = member.get(path)
            assert page.status_code == 200, path
            assert page.headers["cache-control"] == "private, no-store"
            assert lead in page.text and 'data-kizuna-filled="member"' in page.text
            assert re.search(r'action="/api/members/sessions/[^"/]+/end"', page.text)
        # nginx sends a gated page itself: its header as built (the log-in link), which leads
        # to the log-in page, from the app, saying who is logged in.
        gated = member.get("/members/gold/")
        assert gated.status_code == 200 and 'data-state="anonymous"' in gated.text
        login = member.get("/login/")
        assert login.headers["cache-control"] == "private, no-store"
        assert re.search(r"<div [^>]*data-kizuna-login-member>", login.text)
        assert 'data-kizuna-member data-state="member"' in login.text
        saved = member.post("/api/members/profile", data={"name": "医師 一郎"})
        assert saved.headers["location"] == "/mypage/?done=saved"
        again = member.get(saved.headers["location"]).text
        shown = re.search(r'<p [^>]*data-kizuna-message="done=saved"[^>]*>', again)
        assert shown is not None and " hidden" not in shown.group(0)
        assert 'value="医師 一郎"' in again


def test_nginx_and_the_embedded_gate_decide_alike_and_leak_nothing(stack: Stack) -> None:
    manifest = load(stack.site / "meta")
    public = stack.site / "public"
    refusals = refusal_bodies(public, manifest)
    paths = probe_paths(manifest)
    # The log-in and member pages come from the app behind nginx too (nginx-app-pages.map).
    app_pages = {
        spelling
        for pages in manifest["pages_by_lang"].values()
        for name, url in pages.items()
        if name not in ("forbidden", "not_found")
        for spelling in (url, url + "index.html")
    }
    assert len(paths) > 150
    behind_nginx = clients(stack.nginx_url, stack)
    embedded = clients(stack.app.url, stack)
    disagreements: list[str] = []
    leaks: list[str] = []
    decided: dict[str, set[str]] = {}
    served_by_nginx: list[str] = []
    try:
        for visitor in VISITORS:
            for path in paths:
                methods = ("GET", "HEAD", "RANGE") if "." in path[-6:] else ("GET",)
                for method in methods:
                    ours = classify(request(embedded[visitor], method, path))
                    raw = request(behind_nginx[visitor], method, path)
                    theirs = classify(raw)
                    if theirs.kind == "allow" and path in manifest["entries"]:
                        # nginx sent the file itself (its ETag is mtime-size), not the app;
                        # the member pages come from the app (no ETag: filled per request).
                        by_nginx = bool(NGINX_ETAG.fullmatch(raw.headers.get("etag", "")))
                        if by_nginx == (path in app_pages):
                            served_by_nginx.append(
                                f"{visitor} {path}: ETag {raw.headers.get('etag')}"
                            )
                    decided.setdefault(ours.kind, set()).add(visitor)
                    where = f"{visitor} {method} {path[:80]}"
                    if (ours.kind, ours.detail) != (theirs.kind, theirs.detail):
                        disagreements.append(
                            f"{where}: embedded {ours.kind} {ours.detail} / "
                            f"nginx {theirs.kind} {theirs.detail}"
                        )
                    for name, answer in (("embedded", ours), ("nginx", theirs)):
                        refusal = answer.kind in ("login", "forbidden", "refused", "redirect")
                        if (
                            refusal
                            and answer.body not in refusals
                            and not answer.body.startswith(b"<html>\r\n<head><title>400")
                        ):
                            leaks.append(f"{name} {where}: {answer.kind} with another body")
                        if path in manifest["entries"] and method == "GET":
                            entry = manifest["entries"][path]
                            expected = Rule.from_dict(entry).decide(MEMBERS[visitor]).value
                            if answer.kind != expected:
                                leaks.append(f"{name} {where}: {answer.kind}, rule: {expected}")
                            if (
                                expected == "allow"
                                and answer.body != unfilled((public / entry["file"]).read_bytes())
                                and path not in app_pages
                            ):
                                leaks.append(f"{name} {where}: not the file's bytes")
                        gated = ours.cache_control.startswith("private")
                        if (
                            answer.kind == "allow"
                            and gated
                            and "no-store" not in answer.cache_control
                        ):
                            leaks.append(f"{name} {where}: gated without no-store")
    finally:
        for client in [*behind_nginx.values(), *embedded.values()]:
            client.close()
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(
        disagreements[:60]
    )
    assert not leaks, "\n".join(leaks[:60])
    assert not served_by_nginx, "\n".join(served_by_nginx[:20])
    # The probe saw every outcome, and the right visitors got them.
    assert decided["login"] == {"anonymous"}
    assert {"member", "doctor", "pharmacist"} <= decided["forbidden"]
    assert set(VISITORS) <= decided["allow"] and set(VISITORS) <= decided["refused"]


def test_the_shipped_site_config_passes_nginx_t(tmp_path: Path) -> None:
    """deploy/nginx/kizuna.conf as shipped (TLS server, both includes), with this run's paths,
    a throw-away certificate and loopback ports: `nginx -t` accepts it."""
    if not Path(NGINX).exists():
        unavailable("nginx", f"{NGINX} not found (apt-get install nginx-light)")
    if not shutil.which("openssl"):
        unavailable("openssl", "not found (apt-get install openssl)")
    site = tmp_path / "site"
    (site / "meta").mkdir(parents=True)
    (site / "public").mkdir()
    (site / "meta" / "nginx-gated.map").write_text('"~^/members/" 1;\n"/members/" 0;\n')
    (site / "meta" / "nginx-app-pages.map").write_text('"/login/" 1;\n"/mypage/" 1;\n')
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=kizuna.test", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    http = (DEPLOY / "kizuna-http.conf").read_text("utf-8")
    http = http.replace("/srv/kizuna/site", str(site))
    http = http.replace("/var/cache/nginx/kizuna-auth", str(tmp_path / "cache"))
    (tmp_path / "kizuna-http.conf").write_text(http, "utf-8")
    replacements = {
        "/srv/kizuna/app/deploy/nginx/kizuna-http.conf": str(tmp_path / "kizuna-http.conf"),
        "/srv/kizuna/app/deploy/nginx/kizuna-gate.conf": str(DEPLOY / "kizuna-gate.conf"),
        "/srv/kizuna/site": str(site),
        "/etc/letsencrypt/live/www.example.jp/fullchain.pem": str(tmp_path / "cert.pem"),
        "/etc/letsencrypt/live/www.example.jp/privkey.pem": str(tmp_path / "key.pem"),
        "listen [::]:80;": "",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{free_port()} ssl http2;",
    }
    site_conf = (DEPLOY / "kizuna.conf").read_text("utf-8")
    for old, new in replacements.items():
        assert old in site_conf or old in http or old.startswith("/srv/kizuna/site"), old
        site_conf = site_conf.replace(old, new)
    (tmp_path / "site.conf").write_text(site_conf, "utf-8")
    temp = tmp_path / "temp"
    temp.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n access_log off;\n"
        f" client_body_temp_path {temp}/b; proxy_temp_path {temp}/p;"
        f" fastcgi_temp_path {temp}/f; uwsgi_temp_path {temp}/u; scgi_temp_path {temp}/s;\n"
        f" include {tmp_path}/site.conf;\n}}\n",
        "utf-8",
    )
    result = subprocess.run([NGINX, "-t", "-c", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
