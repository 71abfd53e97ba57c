"""The embedded gate's decisions and HTTP behaviour, on a hand-written manifest
(tests/fixtures/access_site.py) and a test-only identity (a cookie naming a visitor)."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from api.access.gate import Gate, login_page, parse_range
from api.web.problems import EXCEPTION_HANDLERS
from api.web.site import install_gate
from tests.fixtures.access_site import PAGES, CookieIdentity, cookie_for, write_site


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    write_site(tmp_path / "site", big=["/members/files/data.zip", "/news/files/program.pdf"])
    return tmp_path / "site"


@pytest.fixture
def identity() -> CookieIdentity:
    return CookieIdentity()


@pytest.fixture
def gate(site_dir: Path, identity: CookieIdentity) -> Gate:
    return Gate(site_dir / "public", site_dir / "meta", lambda: identity)


@pytest.fixture
def client(gate: Gate) -> Iterator[TestClient[Litestar]]:
    @get("/api/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app = gated_app(gate, health)
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


def fetch(client: TestClient[Litestar], path: str, visitor: str = "anonymous", **kw: object):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    for name, value in cookie_for(visitor).items():
        client.cookies.set(name, value)
    method = str(kw.pop("method", "GET"))
    return client.request(method, path, follow_redirects=False, **kw)  # type: ignore[arg-type]


def gated_app(gate: Gate, *handlers: object) -> Litestar:
    app = Litestar(list(handlers), exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    install_gate(app, gate)
    return app


# ------------------------------------------------------------------------------ decisions

EXPECTED = {
    # path: {visitor: status}; 303 = login, 403 = forbidden page
    "/": {"anonymous": 200, "member": 200, "doctor": 200},
    "/members/seminar/": {"anonymous": 303, "member": 200, "doctor": 200, "suspended": 303},
    "/members/doctors/": {"anonymous": 303, "member": 403, "doctor": 200, "pharmacist": 403},
    "/members/gold/": {"anonymous": 303, "member": 403, "doctor": 200},
    "/members/files/guide.pdf": {"anonymous": 303, "pharmacist": 403, "doctor": 200},
    "/members/files/data.zip": {"anonymous": 303, "doctor": 403, "pharmacist": 200},
    "/oncology/": {"anonymous": 303, "member": 403, "doctor": 200},
    "/news/files/program.pdf": {"anonymous": 200},
    "/members/nothing-here/": {"anonymous": 303, "member": 404},
    "/members/files/": {"anonymous": 303, "member": 404},
    "/nothing-here/": {"anonymous": 404, "member": 404},
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_visitor_gets_the_rule_s_answer(client: TestClient[Litestar], path: str) -> None:
    for visitor, status in EXPECTED[path].items():
        response = fetch(client, path, visitor)
        assert response.status_code == status, (path, visitor, response.text[:80])
        if status == 303:
            assert response.headers["location"] == "/login/?next=" + path
            assert response.headers["cache-control"] == "private, no-store"
            assert "SECRET" not in response.text
        elif status == 403:
            assert "FORBIDDEN-PAGE" in response.text and "SECRET" not in response.text
            assert response.headers["cache-control"] == "private, no-store"
        elif status == 404:
            assert "NOT-FOUND-PAGE" in response.text


def test_gated_and_public_answers_carry_their_cache_headers(client: TestClient[Litestar]) -> None:
    public = fetch(client, "/about/")
    assert public.headers["cache-control"] == "public, max-age=300"
    assert public.headers["content-type"] == "text/html; charset=utf-8"
    assert public.headers["etag"].startswith('"') and public.headers["last-modified"]
    assert "default-src 'self'" in public.headers["content-security-policy"]
    assert fetch(client, "/theme/css/main.css").headers["cache-control"].endswith("86400")
    assert fetch(client, "/theme/css/main.css").headers["content-type"].startswith("text/css")
    gated = fetch(client, "/members/seminar/", "member")
    assert gated.headers["cache-control"] == "private, no-store"
    assert "SEMINAR-SECRET" in gated.text
    pdf = fetch(client, "/members/files/guide.pdf", "doctor")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "private, no-store"


def test_public_pages_ask_nobody(client: TestClient[Litestar], identity: CookieIdentity) -> None:
    fetch(client, "/about/", "doctor")
    fetch(client, "/theme/css/main.css", "doctor")
    assert identity.calls == 0
    fetch(client, "/members/seminar/")  # anonymous, no cookie: no lookup either
    assert identity.calls == 0
    fetch(client, "/members/seminar/", "doctor")
    assert identity.calls == 1


@pytest.mark.parametrize(
    "spelling",
    [
        "/members/seminar",
        "/members/seminar/index.html",
        "/members//seminar/",
        "/members/./seminar/",
        "/about/../members/seminar/",
        "/%6dembers/seminar/",
        "/members%2Fseminar/",
        "/members/%2e/seminar/",
        "/news/%2e%2e/members/seminar/",
        "/MEMBERS/SEMINAR/",
        "/Members/Seminar/index.HTML",
        "/members/seminar./",
        "/members/files/guide.PDF",
        "/members/files/guide.pdf.",
        "/members/files/guide.pdf%20",
        "/members/files/%2e%2e/files/guide.pdf",
        "/members/nothing/../seminar/",
        "/members",
    ],
)
def test_no_spelling_of_a_gated_path_slips_through(
    client: TestClient[Litestar], spelling: str
) -> None:
    for method in ("GET", "HEAD"):
        response = fetch(client, spelling, method=method)
        assert response.status_code in (303, 400, 404), (spelling, response.status_code)
        assert "SECRET" not in response.text, spelling
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login/?next=/")
    ranged = fetch(client, spelling, headers={"Range": "bytes=0-10"})
    assert ranged.status_code in (303, 400, 404) and "SECRET" not in ranged.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/%00", 400),
        ("/a%00b.html", 400),
        ("/members/%00", 400),
        ("/..%2f..%2fetc/passwd", 400),
        ("/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/members\\seminar/", 400),
        ("/members%5cseminar/", 400),
        ("/%zz/", 400),
        ("/" + "a" * 3000, 404),
        ("/members/" + "a" * 3000, 404),
    ],
)
def test_odd_paths_get_400_or_404_with_the_404_page(
    client: TestClient[Litestar], path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert "NOT-FOUND-PAGE" in response.text and "SECRET" not in response.text


def test_files_outside_the_manifest_are_never_served(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(site, extra_files={"stray.html": b"STRAY-SECRET", "members/x.pdf": b"X-SECRET"})
    (site / "meta" / "notes.txt").write_text("META-SECRET")
    gate = Gate(site / "public", site / "meta", lambda: CookieIdentity())
    with TestClient(gated_app(gate)) as client:
        for path in ("/stray.html", "/members/x.pdf", "/../meta/access.json", "/access.json"):
            client.cookies.set("kizuna_member", "doctor")
            response = client.get(path)
            assert response.status_code in (400, 404) and "SECRET" not in response.text


def test_folder_without_slash_redirects_once_allowed(client: TestClient[Litestar]) -> None:
    response = fetch(client, "/about?x=1")
    assert response.status_code == 301 and response.headers["location"] == "/about/?x=1"
    assert fetch(client, "/members/seminar").status_code == 303
    allowed = fetch(client, "/members/seminar", "member")
    assert allowed.status_code == 301 and allowed.headers["location"] == "/members/seminar/"
    assert fetch(client, "/members/doctors", "member").status_code == 403


def test_index_html_is_the_same_page(client: TestClient[Litestar]) -> None:
    assert fetch(client, "/about/index.html").text == fetch(client, "/about/").text
    assert fetch(client, "/index.html").text == fetch(client, "/").text


def test_login_redirect_keeps_the_query_in_next(client: TestClient[Litestar]) -> None:
    response = fetch(client, "/members/seminar/?page=2")
    assert response.headers["location"] == "/login/?next=/members/seminar/%3Fpage%3D2"


def test_login_page_gets_next_filled_server_side(client: TestClient[Litestar]) -> None:
    page = fetch(client, "/login/?next=/members/seminar/")
    assert '<input type="hidden" name="next" value="/members/seminar/">' in page.text
    assert page.headers["cache-control"] == "private, no-store"
    hostile = fetch(client, '/login/?next=/a"><script>alert(1)</script>')
    assert "<script>alert" not in hostile.text and "&quot;&gt;&lt;script&gt;" in hostile.text
    for off_site in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page = fetch(client, "/login/", params={"next": off_site})
        assert '<input type="hidden" name="next" value="">' in page.text, off_site
    assert 'role="alert"' in fetch(client, "/login/?error=invalid").text
    plain = fetch(client, "/login/")
    # Revalidated each time: a member who logged in meanwhile gets it filled for them.
    assert plain.headers["cache-control"] == "no-cache"
    assert fetch(client, "/about/").headers["cache-control"] == "public, max-age=300"


def test_conditional_requests(client: TestClient[Litestar]) -> None:
    first = fetch(client, "/about/")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert fetch(client, "/about/", headers={"If-None-Match": etag}).status_code == 304
    assert fetch(client, "/about/", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert fetch(client, "/about/", headers={"If-None-Match": '"other"'}).status_code == 200
    assert fetch(client, "/about/", headers={"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert fetch(client, "/about/", headers={"If-Modified-Since": old}).status_code == 200
    # Gated: the gate answers first, a conditional never reveals anything.
    gated = fetch(client, "/members/doctors/", "doctor")
    tag = gated.headers["etag"]
    assert (
        fetch(client, "/members/doctors/", "doctor", headers={"If-None-Match": tag}).status_code
        == 304
    )
    assert (
        fetch(client, "/members/doctors/", "member", headers={"If-None-Match": tag}).status_code
        == 403
    )
    assert fetch(client, "/members/doctors/", headers={"If-None-Match": tag}).status_code == 303


def test_head_matches_get_without_a_body(client: TestClient[Litestar]) -> None:
    for path, visitor in (("/about/", "anonymous"), ("/members/files/data.zip", "pharmacist")):
        got = fetch(client, path, visitor)
        head = fetch(client, path, visitor, method="HEAD")
        assert head.status_code == got.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["etag"] == got.headers["etag"]


@pytest.mark.parametrize("path", ["/members/files/guide.pdf", "/members/files/data.zip"])
def test_ranges_on_hot_and_streamed_files(client: TestClient[Litestar], path: str) -> None:
    visitor = "doctor" if path.endswith(".pdf") else "pharmacist"
    whole = fetch(client, path, visitor).content
    size = len(whole)
    for spec, first, last in (
        ("bytes=0-3", 0, 3),
        ("bytes=5-", 5, size - 1),
        ("bytes=-4", size - 4, size - 1),
        (f"bytes=2-{size + 100}", 2, size - 1),
    ):
        part = fetch(client, path, visitor, headers={"Range": spec})
        assert part.status_code == 206, spec
        assert part.content == whole[first : last + 1]
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert part.headers["cache-control"] == "private, no-store"
    unsatisfiable = fetch(client, path, visitor, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    several = fetch(client, path, visitor, headers={"Range": "bytes=0-1,4-5"})
    assert several.status_code == 200 and several.content == whole
    stale = fetch(client, path, visitor, headers={"Range": "bytes=0-1", "If-Range": '"old"'})
    assert stale.status_code == 200
    assert fetch(client, path, "member", headers={"Range": "bytes=0-3"}).status_code == 403
    assert fetch(client, path, headers={"Range": "bytes=0-3"}).status_code == 303


def test_parse_range() -> None:
    assert parse_range(b"bytes=0-0", 10) == (0, 0)
    assert parse_range(b"bytes=-20", 10) == (0, 9)
    assert parse_range(b"bytes=10-", 10) is False
    assert parse_range(b"bytes=-0", 10) is False
    for ignored in (b"items=0-1", b"bytes=a-b", b"bytes=5-2", b"bytes=-", b"bytes=0-1,3-4"):
        assert parse_range(ignored, 10) is None


def test_gzip_copy_for_clients_that_accept_it(client: TestClient[Litestar]) -> None:
    plain = fetch(client, "/about/", headers={"Accept-Encoding": "identity"})
    packed = client.get("/about/", headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("content-encoding") == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["etag"] != plain.headers["etag"]
    assert packed.content == plain.content  # httpx decodes the gzip body
    raw_gzip = gzip.compress(plain.content)
    assert int(packed.headers["content-length"]) < len(raw_gzip) + 64


def test_methods_other_than_get_and_head(client: TestClient[Litestar]) -> None:
    assert fetch(client, "/about/", method="POST").status_code == 405
    assert fetch(client, "/members/seminar/", method="POST").status_code == 303
    assert fetch(client, "/members/doctors/", "member", method="DELETE").status_code == 403


def test_unknown_api_paths_get_problem_details(client: TestClient[Litestar]) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert client.get("/api/health").json() == {"status": "ok"}


def test_not_built_and_no_manifest(tmp_path: Path) -> None:
    gate = Gate(tmp_path / "public", tmp_path / "meta")
    with TestClient(gated_app(gate)) as client:
        assert client.get("/").status_code == 503
        (tmp_path / "public").mkdir()
        (tmp_path / "public" / "index.html").write_text("HOME")
        response = client.get("/")
        assert response.status_code == 503 and "HOME" not in response.text  # default deny


def test_a_new_build_is_taken_without_restart(site_dir: Path, gate: Gate) -> None:
    with TestClient(gated_app(gate)) as client:
        assert "ABOUT-PUBLIC" in client.get("/about/").text
        pages = dict(PAGES)
        pages["/about/"] = ("about/index.html", "page", "members", "ABOUT-NOW-SECRET")
        pages["/fresh/"] = ("fresh/index.html", "page", "public", "FRESH-PUBLIC")
        write_site(site_dir, build_id="test-2", pages=pages)
        gate.watcher._next_check = 0  # as if a second had passed
        response = client.get("/about/", follow_redirects=False)
        assert response.status_code == 303
        assert "FRESH-PUBLIC" in client.get("/fresh/").text
        assert gate.site is not None and gate.site.manifest.build_id == "test-2"


def test_a_new_manifest_waits_for_its_public_folder(site_dir: Path, gate: Gate) -> None:
    assert gate.current() is not None
    first = gate.site
    meta = site_dir / "meta" / "access.json"
    data = json.loads(meta.read_text())
    data["build_id"] = "meta-only"
    meta.write_text(json.dumps(data))
    os.utime(meta, ns=(time.time_ns(), time.time_ns() + 10**9))
    gate.watcher._next_check = 0
    assert gate.current() is first  # site/public not swapped yet: keep the old build
    gate.watcher.swap_wait = 0
    gate.watcher._next_check = 0
    assert gate.current() is not first and gate.site.manifest.build_id == "meta-only"  # type: ignore[union-attr]


def test_a_broken_manifest_keeps_the_previous_build(site_dir: Path, gate: Gate) -> None:
    assert gate.current() is not None
    first = gate.site
    (site_dir / "meta" / "access.json").write_text("{not json")
    gate.watcher.swap_wait = 0
    gate.watcher._next_check = 0
    assert gate.current() is first
    assert gate.watcher.error and "not JSON" in gate.watcher.error


def test_login_page_without_the_mark_or_input(tmp_path: Path) -> None:
    write_site(tmp_path / "site")
    gate = Gate(tmp_path / "site" / "public", tmp_path / "site" / "meta")
    site = gate.current()
    assert site is not None
    served = site.pages["login"]
    assert login_page(served, b"other=1") is None
    filled = login_page(served, b"next=/x/&error=invalid")
    assert filled is not None and b'value="/x/"' in filled and b'role="alert"' in filled


def test_a_server_without_raw_path_is_not_decoded_twice(gate: Gate) -> None:
    import anyio

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def run(path: str) -> int:
        sent.clear()
        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
                 "headers": []}  # fmt: skip
        await gate(scope, None, send)
        return int(sent[0]["status"])  # type: ignore[call-overload]

    assert anyio.run(run, "/about/") == 200
    # "%2e%2e" here is what the client sent as %252e%252e: a name, not "..".
    assert anyio.run(run, "/members/%2e%2e/about/") == 303
    assert anyio.run(run, "/about/%2e%2e/") == 404


def test_a_filled_header_region_is_gzipped_around_the_parts_compressed_once() -> None:
    """gzip_spliced: the page with its marked region replaced reads back exactly, for a
    region shorter, longer or empty, and one larger than a stored block holds."""
    import gzip as gz
    import os

    from api.access.gate import NAV_END, NAV_START, Served, gzip_spliced

    before = os.urandom(4000).hex().encode() + b"<header>" + NAV_START
    after = NAV_END + b"</header><main>" + "会員のページ".encode() * 2000 + b"</main>"
    body = before + b'<div data-state="anonymous">log in</div>' + after
    start, end = len(before), len(body) - len(after)
    served = Served(
        entry=None,  # type: ignore[arg-type]
        disk="",
        size=len(body),
        mtime=0,
        etag=b"",
        last_modified=b"",
        content_type=b"text/html; charset=utf-8",
        cache_control=b"private, no-store",
        body=body,
        compressible=True,
        nav=body[start:end],
        nav_at=(start, end),
    )
    for region in (b"", b'<div data-state="member">\xe5\xb1\xb1</div>' * 3, b"x" * 70_000):
        zipped = gzip_spliced(served, region)
        assert gz.decompress(zipped) == before + region + after
    assert len(gzip_spliced(served, b"")) < len(body) // 2  # compressed, not stored
