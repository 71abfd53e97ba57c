"""The theme's member pages in a real browser, on the built example site served as plain files:
the login state in the header (from GET /api/members/me, answered here by Playwright), the log-in
page's `?error=` message and `next`, and the same pages with JavaScript off. The gate and the
members API are not involved: this is the theme's side of CONTRACT17 section 3."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.build import build_site

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The example site built and served as plain files: (base URL, public folder)."""
    tmp = tmp_path_factory.mktemp("theme")
    build_site(
        content_dir=ROOT / "content",
        theme_dir=ROOT / "themes" / "default",
        output_dir=tmp / "public",
        meta_dir=tmp / "meta",
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp / "public"))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp / "public"
    server.shutdown()


@pytest.fixture(scope="module")
def site(built: tuple[str, Path]) -> str:
    return built[0]


def answer_me(page: Any, member: dict[str, Any] | None) -> None:
    page.route(
        "**/api/members/me",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
            body=json.dumps({"member": member}),
        ),
    )


def test_header_shows_the_member_and_a_log_out_button(
    page: Any, site: str, screenshot: Any
) -> None:
    answer_me(page, {"id": 3, "name": "山田 花子", "email": "hanako@example.jp"})
    page.goto(site + "/news/")
    page.wait_for_selector(".member-nav[data-state=member]")
    assert page.inner_text(".member-nav__name") == "山田 花子 さん"
    assert page.is_visible("form.member-nav__logout button")
    assert not page.is_visible(".member-nav__login")
    assert page.get_attribute("form.member-nav__logout", "action") == "/api/members/logout"
    screenshot(page, "member")


def test_header_for_an_anonymous_visitor_and_the_english_pages(
    page: Any, site: str, screenshot: Any
) -> None:
    answer_me(page, None)
    page.goto(site + "/en/about/")
    page.wait_for_selector(".member-nav[data-state=anonymous]")
    assert page.inner_text(".member-nav__login") == "Log in"
    assert page.get_attribute(".member-nav__login", "href") == "/en/login/"
    assert not page.is_visible("form.member-nav__logout")


def test_login_page_shows_the_error_and_keeps_a_safe_next(
    page: Any, site: str, screenshot: Any
) -> None:
    answer_me(page, None)
    page.goto(site + "/login/?error=invalid&next=/members/gold/")
    page.wait_for_selector("[data-kizuna-login-error]:not([hidden])")
    assert "正しくありません" in page.inner_text("[data-kizuna-login-error]")
    assert page.input_value("input[name=next]") == "/members/gold/"
    screenshot(page, "error")
    for unsafe in ("//evil.example/", "https://evil.example/", "/\\evil"):
        page.goto(site + "/login/?next=" + unsafe)
        assert page.input_value("input[name=next]") == "", unsafe


def test_without_javascript_the_pages_still_work(browser: Any, site: str, screenshot: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(site + "/members/")
        assert page.is_visible(".member-nav__login")
        assert page.is_visible(".member-nav__logout--noscript button")  # log-out without JS
        page.goto(site + "/login/")
        form = "form[data-kizuna-login]"
        assert page.get_attribute(form, "action") == "/api/members/login"
        assert page.get_attribute(form, "method") == "post"
        assert page.is_visible(form + " input[name=email]")
        screenshot(page, "nojs-login")
        page.goto(site + "/forbidden/")
        assert "このページは閲覧できません" in page.inner_text("h1")
    finally:
        context.close()


def test_no_page_scrolls_sideways_on_a_phone(browser: Any, built: tuple[str, Path]) -> None:
    """Every page of the example site, gated ones too, fits a 390 px wide phone: a long
    first-column label of a table once pushed /members/ to 523 px."""
    base, public = built
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    paths = sorted(
        "/" + str(f.relative_to(public)).removesuffix("index.html")
        for f in public.rglob("*.html")
        if "theme" not in f.parts
    )
    assert len(paths) > 20, paths
    wide = {}
    for path in paths:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    context.close()
    assert wide == {}
