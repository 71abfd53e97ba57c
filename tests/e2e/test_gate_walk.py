"""A member's walk through the gate in a real browser (issue 17, "Done when"): a public page,
sent to the log-in by a gated page, logged in as a demo member, the page read, a gated PDF
fetched by the browser (whole and a range), the 403 page for another group's page, logged out, refused again. Against a live
`kizuna run` (embedded gate) with the example site built and `kizuna demo-data`'s members."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fixtures.live import LiveServer, kizuna, kizuna_env, start_server, stop_server
from tests.fixtures.services import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    base = tmp_path_factory.mktemp("gate-walk")
    var_dir = base / "var"
    env = kizuna_env(var_dir, KIZUNA_SITE_DIR=str(base / "site"), KIZUNA_LOGIN_RATE_LIMIT="600")
    kizuna(env, "migrate")
    kizuna(env, "demo-data")
    kizuna(env, "build")
    password = json.loads((var_dir / "demo-credentials.json").read_text())["password"]
    server = start_server(env, var_dir, free_port())
    yield server, password
    stop_server(server)


def test_a_member_walks_through_the_gate(
    page: Any, demo_server: tuple[LiveServer, str], screenshot: Any
) -> None:
    server, password = demo_server
    base = server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    public = page.goto(base + "/news/")
    assert public.status == 200

    page.goto(base + "/members/gold/")  # gated: the log-in page, with next filled in
    assert urlsplit(page.url).path == "/login/"
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/members/gold/"]
    assert page.input_value("input[name=next]") == "/members/gold/"
    screenshot(page, "login")
    page.fill("input[name=email]", "doctor@example.jp")
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button.auth-form__submit")
    assert urlsplit(page.url).path == "/members/gold/"
    assert page.locator("main").inner_text().strip()
    screenshot(page, "gold")

    page.goto(base + "/members/doctors/assay-guide/")
    href = page.get_attribute("a[href$='dosing-guide.pdf']", "href")
    assert href is not None
    # The browser's own fetch, with its cookies (a headless viewer would open the PDF inline).
    pdf = page.context.request.get(base + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert pdf.headers["cache-control"] == "private, no-store"
    ranged = page.context.request.get(base + href, headers={"Range": "bytes=0-3"})
    assert ranged.status == 206 and ranged.body() == b"%PDF"

    other = page.goto(base + "/members/pharmacists/handbook/")
    assert other.status == 403
    assert other.headers["cache-control"] == "private, no-store"
    screenshot(page, "forbidden")

    page.goto(base + "/news/")
    page.wait_for_selector(".member-nav[data-state=member]")
    with page.expect_navigation():
        page.click(".member-nav__logout:not([hidden]) button")
    page.goto(base + "/members/gold/")
    assert urlsplit(page.url).path == "/login/"
    refused = page.context.request.get(base + href, max_redirects=0)
    assert refused.status == 303 and b"%PDF" not in refused.body()
    assert not errors, errors
