"""The gate in the real app (SQLite and PostgreSQL): the example site as `kizuna build` makes
it, the real MemberAuth, members logged in by the member API. The embedded gate, and
``GET /api/access/check`` for nginx, decide from the same manifest and the same cookies."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.access.gate import Gate
from api.runtime import Runtime
from pipeline.build import build_site
from tests.fixtures.live import ROOT
from tests.integration.members.conftest import (  # noqa: F401 - the members' fixtures
    PASSWORD,
    _fresh_data_tables,
    actor,
    people,
)


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example content built once for the session (copied into each test's site_dir)."""
    base = tmp_path_factory.mktemp("example-site")
    build_site(
        content_dir=ROOT / "content",
        theme_dir=ROOT / "themes" / "default",
        output_dir=base / "public",
        meta_dir=base / "meta",
    )
    return base


@pytest.fixture
def site(runtime: Runtime, request: pytest.FixtureRequest, example_site: Path) -> Path:
    request.getfixturevalue("people")  # a member table, groups, members with passwords
    target = runtime.settings.site_dir
    shutil.rmtree(target / "meta", ignore_errors=True)  # the members' stub manifest
    shutil.copytree(example_site / "meta", target / "meta")
    shutil.copytree(example_site / "public", target / "public", dirs_exist_ok=True)
    runtime.member_auth.fields.refresh(force=True)
    return target


def log_in(client: TestClient[Litestar], email: str) -> None:
    client.cookies.clear()
    response = client.post("/api/members/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text


def check(client: TestClient[Litestar], path: str) -> tuple[int, str]:
    response = client.get("/api/access/check", headers={"X-Original-URI": path})
    return response.status_code, response.headers.get("cache-control", "")


def test_embedded_gate_and_check_endpoint_agree(client: TestClient[Litestar], site: Path) -> None:
    cases = {
        # path: (anonymous, doctor, pharmacist) as embedded statuses
        "/about/": (200, 200, 200),
        "/members/doctors/assay-guide/": (303, 200, 403),
        "/members/doctors/assay-guide/files/dosing-guide.pdf": (303, 200, 403),
        "/members/pharmacists/handbook/files/handling-checklists.zip": (303, 403, 200),
        "/members/gold/": (303, 200, 403),
        "/members/seminar-materials/": (303, 200, 200),
        "/members/no-such-page/": (303, 404, 404),
        "/no-such-page/": (404, 404, 404),
    }
    to_check = {200: 204, 303: 401, 403: 403, 404: 404}
    for who, index in (("anonymous", 0), ("doctor@example.jp", 1), ("pharma@example.jp", 2)):
        if who == "anonymous":
            client.cookies.clear()
        else:
            log_in(client, who)
        for path, statuses in cases.items():
            response = client.get(path, follow_redirects=False)
            assert response.status_code == statuses[index], (who, path)
            status, cache = check(client, path)
            assert status == to_check[statuses[index]], (who, path, status)
            gated = path.startswith("/members/")
            if gated:
                assert cache == "private, no-store"
                assert response.headers["cache-control"] == "private, no-store"
            # nginx passes $uri, already decoded: the check never decodes it again.
            if status == 204 and gated:
                assert check(client, path.replace("/members/", "/members/%2e%2e/members/"))[0] in (
                    401,
                    404,
                )
    assert check(client, "")[0] == 404
    assert check(client, "/a\x7fb")[0] == 404


def test_site_pages_carry_the_security_headers_and_the_app_still_answers(
    client: TestClient[Litestar], site: Path
) -> None:
    page = client.get("/about/")
    assert page.status_code == 200
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/admin/").status_code == 200
    problem = client.get("/api/no-such-endpoint")
    assert problem.status_code == 404
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/health").status_code == 200


def test_login_round_trip_without_javascript(
    client: TestClient[Litestar], runtime: Runtime, site: Path
) -> None:
    client.cookies.clear()
    gated = client.get("/members/gold/", follow_redirects=False)
    assert gated.status_code == 303
    assert gated.headers["location"] == "/login/?next=/members/gold/"
    login_page = client.get(gated.headers["location"])
    assert '<input type="hidden" name="next" value="/members/gold/">' in login_page.text
    sent = client.post(
        "/api/members/login",
        data={"email": "doctor@example.jp", "password": PASSWORD, "next": "/members/gold/"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/members/gold/"
    page = client.get("/members/gold/")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    english = client.get("/en/members/pharmacists/handbook/", follow_redirects=False)
    assert english.status_code == 403 and 'lang="en"' in english.text
    # The access token gone, the refresh cookie renews it at the gate, which sets it again.
    access = runtime.member_auth.access_name
    client.cookies.delete(access)
    renewed = client.get("/members/gold/")
    assert renewed.status_code == 200
    assert access in renewed.headers.get("set-cookie", "")
    # Log-out: refused again at once.
    client.post("/api/members/logout", json={})
    assert client.get("/members/gold/", follow_redirects=False).status_code == 303


def test_theme_pages_show_the_messages_of_their_query_without_javascript(
    client: TestClient[Litestar], site: Path
) -> None:
    """The gate fills a theme page from its query (api.access.pages.fill, login_page): the
    texts the theme ships hidden are shown; nothing of the query is copied into the page."""
    client.cookies.clear()
    plain = client.get("/register/").text
    sent = client.get("/register/?done=sent")
    assert sent.status_code == 200 and sent.text != plain
    assert 'data-kizuna-message="done=sent" role="status" hidden' in plain
    assert 'data-kizuna-message="done=sent" role="status">' in sent.text
    hostile = client.get("/register/?error=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in hostile.text
    assert re.search(r'data-kizuna-message="error=\*"[^>]*role="alert">', hostile.text)
    login = client.get("/login/?error=rate_limited&next=/members/gold/")
    assert 'class="kizuna-login-message"' in login.text and "しばらく" in login.text
    assert 'name="next" value="/members/gold/"' in login.text
    done = client.get("/login/?done=logged_out")
    assert re.search(r'data-kizuna-message="done=logged_out"[^>]*role="status">', done.text)
    forbidden_query = client.get("/forbidden/?done=sent")
    assert forbidden_query.text == client.get("/forbidden/").text


def test_a_running_app_takes_a_new_build(
    client: TestClient[Litestar], site: Path, example_site: Path
) -> None:
    assert client.get("/about/").status_code == 200
    gate: Gate = client.app.state.gate
    before = gate.site
    # A new build: swap meta then public, as pipeline.build does.
    for name in ("meta", "public"):
        fresh = site / f"{name}.new"
        shutil.copytree(example_site / name, fresh)
        (site / name).rename(site / f"{name}.old")
        fresh.rename(site / name)
        shutil.rmtree(site / f"{name}.old")
    gate.watcher._next_check = 0  # as if a second had passed
    assert client.get("/about/").status_code == 200
    assert gate.site is not before


def test_the_documented_route_answers_like_the_fast_path(
    client: TestClient[Litestar], site: Path
) -> None:
    """install_gate answers /api/access/check itself; the Litestar route (reached here by its
    trailing-slash spelling, which the fast path leaves to the router) says the same."""
    log_in(client, "pharma@example.jp")
    for path in ("/about/", "/members/gold/", "/members/pharmacists/handbook/", "/x/", ""):
        headers = {"X-Original-URI": path} if path else {}
        fast = client.get("/api/access/check", headers=headers)
        routed = client.get("/api/access/check/", headers=headers)
        assert routed.status_code == fast.status_code, path
        for name in ("cache-control", "x-kizuna-decision", "content-type"):
            assert routed.headers.get(name) == fast.headers.get(name), (path, name)
        if fast.status_code != 204:
            assert routed.json() == fast.json()
