"""A running `kizuna run` takes a new `kizuna build` without a restart: a page made
members-only in the content is gated within seconds of the build, and requests made while
the build swaps the site in get only the old or the new answer — never an error."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.fixtures.live import ROOT, kizuna, kizuna_env, start_server, stop_server
from tests.fixtures.services import free_port


def test_a_new_build_is_gated_without_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("switch")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    env = kizuna_env(
        base / "var", KIZUNA_SITE_DIR=str(base / "site"), KIZUNA_CONTENT_DIR=str(content)
    )
    kizuna(env, "migrate")
    kizuna(env, "build")
    server = start_server(env, base / "var", free_port())
    seen: Counter[tuple[str, int]] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not stop.is_set():
                for path in ("/about/", "/", "/theme/css/main.css"):
                    seen[(path, client.get(path, follow_redirects=False).status_code)] += 1

    try:
        assert httpx.get(server.url + "/about/").status_code == 200
        about = content / "pages" / "about.md"
        about.write_text("Access: members\n" + about.read_text("utf-8"), "utf-8")
        thread = threading.Thread(target=hammer, daemon=True)
        thread.start()
        kizuna(env, "build")
        deadline = time.monotonic() + 10
        status = 200
        while time.monotonic() < deadline:
            status = httpx.get(server.url + "/about/", follow_redirects=False).status_code
            if status == 303:
                break
            time.sleep(0.1)
        stop.set()
        thread.join(timeout=10)
    finally:
        stop.set()
        stop_server(server)
    assert status == 303, "the new build's rule was not taken"
    statuses = set(seen)
    assert statuses <= {
        ("/about/", 200),
        ("/about/", 303),
        ("/", 200),
        ("/theme/css/main.css", 200),
    }, seen
    assert seen[("/", 200)] > 0
