"""The header's log-in state without JavaScript, through the embedded gate (SQLite and
PostgreSQL): public pages are the built bytes for everyone (the log-in link only, cacheable,
from the hot cache); a gated page, the "not permitted" and "not found" pages behind a rule and
the log-in page are filled for the member who asks (the name escaped, log out, no log-in link),
never cached."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.runtime import Runtime
from tests.fixtures.gate_probe import unfilled
from tests.integration.access.test_gate_app import example_site  # noqa: F401 - a fixture
from tests.integration.access.test_mypage_fill import log_in, member, tag  # noqa: F401
from tests.integration.members.conftest import (  # noqa: F401 - the members' fixtures
    _fresh_data_tables,
    actor,
)

ESCAPED = "&lt;b&gt;山田&lt;/b&gt; &amp; &quot;太郎&quot;"
GATED = "/news/members-webinar/"  # Access: members
NOT_PERMITTED = "/news/doctors-case-study/"  # Access: group:doctors


def nav(html: str) -> str:
    return html.split("<!--kizuna:member-nav-->", 1)[1].split("<!--/kizuna:member-nav-->", 1)[0]


def built(runtime: Runtime, path: str) -> bytes:
    return (runtime.settings.site_dir / "public" / path.strip("/") / "index.html").read_bytes()


def assert_anonymous(html: str) -> None:
    header = nav(html)
    assert 'data-state="anonymous"' in header
    assert " hidden" not in tag(header, "a", 'class="member-nav__login"')
    assert " hidden" in tag(header, "form", 'class="member-nav__logout"')
    assert "<noscript>" not in header


def assert_member(html: str, greeting: str) -> None:
    header = nav(html)
    assert 'data-state="member"' in header
    assert " hidden" in tag(header, "a", 'class="member-nav__login"')
    assert " hidden" not in tag(header, "form", 'class="member-nav__logout"')
    assert f"data-kizuna-member-name>{greeting}</span>" in header
    assert "<b>" not in header


@pytest.mark.usefixtures("member")
def test_public_pages_are_the_built_bytes_for_everyone(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    for path in ("/about/", "/en/about/", "/"):
        file = built(runtime, path)
        anonymous = client.get(path)
        assert anonymous.content == file, path
        assert anonymous.headers["cache-control"] == "public, max-age=300"
        assert_anonymous(anonymous.text)
    log_in(client)
    for path in ("/en/about/", "/about/"):
        # A member's cookie changes nothing: the same cached bytes, cacheable, validators kept.
        page = client.get(path)
        assert page.content == built(runtime, path)
        assert page.headers["cache-control"] == "public, max-age=300" and page.headers["etag"]
        assert_anonymous(page.text)
    assert client.get("/about/", headers={"If-None-Match": page.headers["etag"]}).status_code == 304


@pytest.mark.usefixtures("member")
def test_a_gated_page_shows_the_member_in_the_header(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    log_in(client)
    for path, greeting in ((GATED, f"{ESCAPED} さん"), ("/en/members/gold/", ESCAPED)):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "private, no-store"
        assert "etag" not in page.headers and "last-modified" not in page.headers
        assert_member(page.text, greeting)
        file = built(runtime, path)
        # Only the marked region differs from the built page.
        assert page.content != file and unfilled(page.content) == unfilled(file)
        # gzip (the parts around the region compressed once) reads back to the same page.
        zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == page.content  # httpx decodes it
        head = client.head(path, headers={"Accept-Encoding": "identity"})
        assert head.headers["content-length"] == str(len(page.content)) and not head.content
        part = client.get(path, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == page.content[:100]
        assert part.headers["content-range"] == f"bytes 0-99/{len(page.content)}"
    # A page the member may not read: "not permitted", and who is logged in.
    refused = client.get(NOT_PERMITTED)
    assert refused.status_code == 403
    assert refused.headers["cache-control"] == "private, no-store"
    assert_member(refused.text, f"{ESCAPED} さん")
    # A path behind a rule that is not there: "not found", and who is logged in.
    missing = client.get("/members/no-such-page/")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "private, no-store"
    assert_member(missing.text, f"{ESCAPED} さん")
    # Logged out: the gated page is a redirect to log in again, public pages as built.
    client.post("/api/members/logout")
    assert client.get(GATED, follow_redirects=False).status_code == 303


@pytest.mark.usefixtures("member")
def test_the_login_page_says_who_is_logged_in(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    anonymous = client.get("/login/")
    assert anonymous.content == built(runtime, "/login/")
    assert anonymous.headers["cache-control"] == "no-cache"  # revalidated: may change
    assert_anonymous(anonymous.text)
    assert " hidden" in tag(anonymous.text, "div", "data-kizuna-login-member")
    log_in(client)
    for path, lead in (("/login/", f"ログイン中: <strong data-kizuna-login-member-name>"
                                   f"{ESCAPED} さん</strong>"),
                       ("/en/login/", f"Logged in as <strong data-kizuna-login-member-name>"
                                      f"{ESCAPED}</strong>")):  # fmt: skip
        page = client.get(path, headers={"If-None-Match": anonymous.headers["etag"]})
        assert page.status_code == 200, path  # never the anonymous page's 304
        assert page.headers["cache-control"] == "private, no-store"
        assert_member(page.text, f"{ESCAPED} さん" if path == "/login/" else ESCAPED)
        assert lead in page.text
        assert " hidden" not in tag(page.text, "div", "data-kizuna-login-member")
        assert " hidden" in tag(page.text, "div", "data-kizuna-login-anonymous")
        assert re.search(r'<form [^>]*action="/api/members/logout"', page.text)
        assert 'href="/mypage/"' in page.text or 'href="/en/mypage/"' in page.text
    # Sent here by a link with a query (next, a message): still who is logged in.
    sent = client.get("/login/?next=/members/gold/&done=confirmed")
    assert sent.headers["cache-control"] == "private, no-store"
    assert " hidden" not in tag(sent.text, "div", "data-kizuna-login-member")
    client.post("/api/members/logout")
    assert client.get("/login/").content == built(runtime, "/login/")


def test_the_header_region_is_marked_once_on_every_built_page(example_site: Path) -> None:  # noqa: F811
    pages = list((example_site / "public").rglob("*.html"))
    assert len(pages) > 20
    for file in pages:
        text = file.read_text("utf-8")
        assert text.count("<!--kizuna:member-nav-->") == 1, file
        assert_anonymous(text)
