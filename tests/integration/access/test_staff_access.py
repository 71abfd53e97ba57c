"""The staff's access endpoints on SQLite and PostgreSQL, over a hand-written manifest and web
root (CONTRACT17 §1): the matrix with its counts of members per distinct rule and its filters,
the last build's warnings, and "view as" (decision, reason, the page as served, the sandboxed
frame by its link key, without any member cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.access import staff
from api.customers import records, services
from api.customers.definitions import parse_field, parse_table
from api.groups import services as groups
from api.members import services as member_services
from api.principal import Principal, cli_principal
from api.runtime import Runtime
from api.settings import Settings
from tests.fixtures.access_staff_site import RULES, write_site
from tests.fixtures.app import StaffClient
from tests.integration.customers.conftest import drop_data_tables


@pytest.fixture(autouse=True)
def _fresh_data_tables(database_url: str) -> Iterator[None]:
    drop_data_tables(database_url)
    yield
    drop_data_tables(database_url)


@pytest.fixture
def actor() -> Principal:
    return cli_principal("tests")


@pytest.fixture
def members(runtime: Runtime, actor: Principal) -> dict[str, int]:
    """Five members who can log in: A (gold, oncology, doctors), B (gold, cardiology), C
    (platinum, oncology, pharmacists), D (free, doctors), E (no plan); and two who cannot, so
    never count: F (like A, no password set) and G (like A, suspended)."""
    people = {
        "A": {"plan": "gold", "specialty": "Oncology"},
        "B": {"plan": "gold", "specialty": "cardiology"},
        "C": {"plan": "platinum", "specialty": "oncology"},
        "D": {"plan": "free"},
        "E": {},
        "F": {"plan": "gold", "specialty": "oncology"},
        "G": {"plan": "gold", "specialty": "oncology"},
    }
    with runtime.db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "members", "is_member_table": True}),
            [
                parse_field({"key": "email", "type": "email"}),
                parse_field({"key": "name", "type": "text"}),
                parse_field(
                    {"key": "plan", "type": "select", "choices": ["free", "gold", "platinum"]}
                ),
                parse_field({"key": "specialty", "type": "text"}),
            ],
        )
        ids = {
            name: records.create_record(
                session, actor, "members",
                {"email": f"{name.lower()}@example.jp", "name": f"会員 {name}", **values},
            )["id"]
            for name, values in people.items()
        }  # fmt: skip
        groups.create_group(session, actor, "doctors", {"ja": "医師", "en": "Doctors"})
        groups.create_group(session, actor, "pharmacists", {"ja": "薬剤師", "en": "Pharmacists"})
        groups.change_members(
            session, actor, "doctors", [ids["A"], ids["D"], ids["F"], ids["G"]], add=True
        )
        for name in "ABCDEG":
            member_services.ensure_account(session, actor, ids[name], "demo-pass", check=False)
        member_services.set_status(session, actor, ids["G"], "suspended")
        groups.change_members(session, actor, "pharmacists", [ids["C"]], add=True)
    return {k: v for k, v in ids.items() if k not in "FG"}


@pytest.fixture
def site(settings: Settings) -> Path:
    write_site(settings.site_dir)
    return settings.site_dir


def test_matrix_counts_each_rule_over_the_members(
    admin: StaffClient, members: dict[str, int], site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff, "BATCH", 2)  # the keyset batches: four of them for seven members
    staff._count_cache.clear()
    response = admin.get("/api/access/matrix")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["manifest"] is True
    assert data["build_id"] == "20261129T154500-ab12cd"
    assert data["members"] == 7  # records of the member table; five can log in
    assert data["member_table"] == "members"
    paths = [i["path"] for i in data["items"]]
    assert "/theme/css/site.css" not in paths  # theme assets are not content
    assert paths == sorted(paths) and len(paths) == data["total"] == 11
    by_rule = {r["rule"]: (r["members"], r["urls"]) for r in data["rules"]}
    assert by_rule == {
        "public": (7, 5),
        "members": (5, 1),
        "group:doctors": (2, 3),
        'plan in ("gold", "platinum")': (3, 1),
        'plan == "gold" and specialty == "oncology"': (1, 1),  # "Oncology" matches
    }
    onc = next(i for i in data["items"] if i["path"] == "/onc/")
    assert onc == {
        "path": "/onc/", "kind": "page", "title": "Oncology", "lang": None, "source": None,
        "rule": RULES["onc"], "fields": ["plan", "specialty"], "groups": [], "public": False,
        "members": 1,
    }  # fmt: skip
    assert data["groups"] == ["doctors"]
    assert data["kinds"] == ["article", "file", "page", "special"]


def test_matrix_filters_and_pages(admin: StaffClient, members: dict[str, int], site: Path) -> None:
    def paths(**params: Any) -> list[str]:
        response = admin.get("/api/access/matrix", params=params)
        assert response.status_code == 200, response.text
        return [i["path"] for i in response.json()["items"]]

    assert paths(group="doctors") == ["/doctors/", "/doctors/pic.png", "/members/files/guide.pdf"]
    assert paths(group="DOCTORS") == paths(group="doctors")
    assert paths(kind="file") == ["/doctors/pic.png", "/members/files/guide.pdf"]
    assert paths(rule="members") == ["/members/seminar/"]
    assert paths(q="セミナー") == ["/members/seminar/"]  # by title
    assert paths(q="GOLD") == ["/gold/"]  # by URL and title, case-folded
    assert paths(q="guide", kind="page") == []
    assert paths(offset=2, limit=3) == ["/about/", "/doctors/", "/doctors/pic.png"]
    whole = admin.get("/api/access/matrix", params={"limit": 3}).json()
    assert whole["total"] == 11 and len(whole["items"]) == 3


def test_counts_follow_the_members_data(
    admin: StaffClient, runtime: Runtime, actor: Principal, members: dict[str, int], site: Path
) -> None:
    def doctors() -> int:
        rules = admin.get("/api/access/matrix").json()["rules"]
        return next(r["members"] for r in rules if r["rule"] == "group:doctors")

    assert doctors() == 2
    with runtime.db.transaction() as session:
        groups.change_members(session, actor, "doctors", [members["B"]], add=True)
    assert doctors() == 3  # the cache sees the change
    with runtime.db.transaction() as session:
        groups.change_members(session, actor, "doctors", [members["A"]], add=False)
    assert doctors() == 2


def test_without_manifest_or_member_table(admin: StaffClient, settings: Settings) -> None:
    data = admin.get("/api/access/matrix").json()
    assert data["manifest"] is False and data["items"] == [] and data["members"] == 0
    build = admin.get("/api/access/build").json()
    assert build["built"] is False and build["warnings"] == []
    write_site(settings.site_dir)
    data = admin.get("/api/access/matrix").json()
    assert data["manifest"] is True and data["member_table"] is None
    assert {r["members"] for r in data["rules"]} == {0}
    preview = admin.get("/api/access/preview", params={"path": "/", "member": 1})
    assert preview.status_code == 409 and preview.json()["code"] == "no_member_table"


def test_broken_manifest_is_a_409(admin: StaffClient, settings: Settings) -> None:
    write_site(settings.site_dir)
    (settings.site_dir / "meta" / "access.json").write_text("{not json", "utf-8")
    response = admin.get("/api/access/matrix")
    assert response.status_code == 409 and response.json()["code"] == "manifest_invalid"


def test_last_build_and_its_warnings(admin: StaffClient, settings: Settings) -> None:
    warnings = [
        "plain text warning",
        {"message": "Unknown field speciality", "source": "content/pages/onc.md", "line": 3,
         "code": "rule_unknown_field"},
        {"text": "a link to a missing file", "file": "content/a.md", "level": "WARNING"},
        {"no": "message"},
        42,
    ]  # fmt: skip
    write_site(settings.site_dir, warnings=warnings)
    data = admin.get("/api/access/build").json()
    assert data["built"] is True and data["manifest"] is True
    assert data["built_at"] == "2026-11-29T15:45:00+00:00"
    assert data["build_id"] == "20261129T154500-ab12cd"
    assert data["pages"] == 9 and data["files"] == 12
    assert data["warnings_total"] == 3
    assert data["warnings"] == [
        {"message": "plain text warning", "source": None, "line": None, "code": None,
         "level": "warning"},
        {"message": "Unknown field speciality", "source": "content/pages/onc.md", "line": 3,
         "code": "rule_unknown_field", "level": "warning"},
        {"message": "a link to a missing file", "source": "content/a.md", "line": None,
         "code": None, "level": "warning"},
    ]  # fmt: skip


def preview(client: StaffClient, path: str, **who: Any) -> dict[str, Any]:
    response = client.get("/api/access/preview", params={"path": path, **who})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_view_as_decides_like_the_gate(
    admin: StaffClient, members: dict[str, int], site: Path
) -> None:
    anon = preview(admin, "/members/seminar/", anonymous="true")
    assert anon["decision"] == "login" and anon["status"] == 303 and anon["reason"] == "anonymous"
    assert anon["location"] == "/login/?next=/members/seminar/"
    assert anon["shown_path"] == "/login/" and anon["rule"] == "members"
    assert anon["subject"] == {"kind": "anonymous", "label": "anonymous", "id": None,
                               "group": None, "groups": []}  # fmt: skip

    free = preview(admin, "/gold/", member=members["D"])
    assert (free["decision"], free["status"], free["reason"]) == ("forbidden", 403, "denied")
    assert free["terms"] == [{"term": 'plan in ("gold", "platinum")', "holds": False}]
    assert free["values"] == {"plan": "free"}
    assert free["subject"]["label"] == "会員 D" and free["subject"]["groups"] == ["doctors"]
    assert free["shown_path"] == "/forbidden/"

    onc = preview(admin, "/onc/", member=members["A"])
    assert (onc["decision"], onc["status"], onc["reason"]) == ("allow", 200, "allowed")
    assert onc["values"] == {"plan": "gold", "specialty": "Oncology"}
    assert [t["holds"] for t in onc["terms"]] == [True, True]
    assert onc["title"] == "Oncology" and onc["kind"] == "page"
    assert onc["media_type"] == "text/html; charset=utf-8" and onc["size"] > 0

    card = preview(admin, "/onc/", member=members["B"])
    assert card["decision"] == "forbidden"
    assert card["terms"] == [
        {"term": 'plan == "gold"', "holds": True},
        {"term": 'specialty == "oncology"', "holds": False},
    ]

    doctors = preview(admin, "/doctors/", group="doctors")
    assert doctors["decision"] == "allow" and doctors["subject"]["kind"] == "group"
    assert doctors["subject"]["label"] == "医師"
    assert preview(admin, "/gold/", group="doctors")["decision"] == "forbidden"
    assert preview(admin, "/members/seminar/", group="pharmacists")["decision"] == "allow"
    assert preview(admin, "/", anonymous="true")["reason"] == "public"

    # Spellings of a path: the manifest's key.
    assert preview(admin, "/onc", member=members["A"])["path"] == "/onc/"
    assert preview(admin, "/onc/index.html", member=members["A"])["path"] == "/onc/"
    assert preview(admin, "/x/../%6Fnc/", member=members["A"])["path"] == "/onc/"
    assert preview(admin, "http://example.jp/onc/?a=1", member=members["A"])["path"] == "/onc/"

    # Unknown paths: 404, but under a gated folder its rule comes first.
    missing = preview(admin, "/nowhere/", member=members["A"])
    assert (missing["decision"], missing["status"], missing["reason"]) == (
        "not_found", 404, "unknown",
    )  # fmt: skip
    assert missing["shown_path"] == "/404.html" and missing["rule"] is None
    under = preview(admin, "/members/nothing.zip", anonymous="true")
    assert (under["decision"], under["rule_from"]) == ("login", "folder")
    assert preview(admin, "/members/nothing.zip", member=members["E"])["decision"] == "not_found"


def test_view_as_refuses_bad_input(admin: StaffClient, members: dict[str, int], site: Path) -> None:
    def get(**params: Any) -> Any:
        return admin.get("/api/access/preview", params=params)

    for bad in ["/../etc/passwd", "/a\\b", "/a%00b", "/%ff"]:
        response = get(path=bad, anonymous="true")
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["code"] == "invalid_path"
    response = get(path="/", member=members["A"], group="doctors")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "subject_required"
    assert get(path="/").status_code == 422
    assert get(path="/", member=999_999).status_code == 404
    response = get(path="/", group="nobody")
    assert response.status_code == 404 and response.json()["code"] == "group_not_found"


def test_the_frame_serves_the_page_as_the_subject_sees_it(
    admin: StaffClient, members: dict[str, int], site: Path
) -> None:
    client = admin.client
    result = preview(admin, "/doctors/", group="doctors")
    frame = result["frame_url"]
    assert frame.startswith("/api/access/preview/frame/") and frame.endswith("/doctors/")
    prefix = frame.removesuffix("/doctors/")
    staff_cookies = dict(client.cookies)
    client.cookies.clear()  # the frame's requests carry no staff cookie: the key is enough
    response = client.get(frame)
    assert response.status_code == 200, response.text
    assert response.headers["x-kizuna-decision"] == "allow"
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "script-src 'none'" in csp
    assert "frame-ancestors 'self'" in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "private" in response.headers["cache-control"]
    assert "set-cookie" not in response.headers
    body = response.text
    assert "doctors only" in body
    assert f'href="{prefix}/theme/css/site.css"' in body  # root-relative links stay inside
    assert f'href="{prefix}/about/"' in body
    assert 'src="pic.png"' in body  # relative ones resolve there already
    assert 'href="//example.com/x"' in body  # other hosts are left alone
    image = client.get(prefix + "/doctors/pic.png")
    assert image.status_code == 200 and image.content == b"PNG"
    pdf = client.get(prefix + "/members/files/guide.pdf", params={"download": "true"})
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.4 guide"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == "attachment; filename*=UTF-8''guide.pdf"
    forbidden = client.get(prefix + "/gold/")
    assert forbidden.status_code == 403 and "閲覧できません" in forbidden.text
    assert forbidden.headers["x-kizuna-decision"] == "forbidden"
    assert client.get(prefix + "/nowhere/").status_code == 404
    assert client.get(prefix + "/").status_code == 200
    assert client.get(prefix).status_code == 200
    assert not client.cookies  # nothing was set

    # Anonymous: the login page, its next field filled as the gate fills it.
    client.cookies.update(staff_cookies)
    anon = preview(admin, "/members/seminar/", anonymous="true")
    client.cookies.clear()
    login = client.get(anon["frame_url"])
    assert login.status_code == 200 and login.headers["x-kizuna-decision"] == "login"
    assert 'name="next" value="/members/seminar/"' in login.text

    # A member: read again at each request (a change of groups shows at once).
    client.cookies.update(staff_cookies)
    as_d = preview(admin, "/doctors/", member=members["D"])["frame_url"]
    client.cookies.clear()
    assert client.get(as_d).status_code == 200

    # A forged or stale key: refused.
    assert client.get(frame.replace("/frame/", "/frame/x")).status_code == 403
    client.cookies.update(staff_cookies)
    assert admin.post("/api/staff/auth/logout").status_code in (200, 204)
    client.cookies.clear()
    response = client.get(frame)
    assert response.status_code == 403 and response.json()["code"] == "preview_expired"


def test_who_may_do_what(login_as: Any, members: dict[str, int], site: Path) -> None:
    viewer = login_as("viewer")
    assert viewer.get("/api/access/matrix").status_code == 200
    assert viewer.get("/api/access/build").status_code == 200
    assert (
        viewer.get("/api/access/preview", params={"path": "/", "anonymous": "true"}).status_code
        == 403
    )
    assert viewer.get("/api/access/subjects").status_code == 403
    sales = login_as("sales")
    assert sales.get("/api/access/matrix").status_code == 403
    marketer = login_as("marketer")
    assert (
        marketer.get("/api/access/preview", params={"path": "/", "anonymous": "true"}).status_code
        == 200
    )


def test_subjects_search_members_and_groups(
    admin: StaffClient, members: dict[str, int], site: Path
) -> None:
    data = admin.get("/api/access/subjects", params={"q": "c@example.jp"}).json()
    assert data["member_table"] == "members"
    assert data["members"] == [{"id": members["C"], "label": "会員 C", "email": "c@example.jp"}]
    assert data["groups"] == []
    data = admin.get("/api/access/subjects", params={"q": "会員"}).json()
    assert len(data["members"]) == 7
    data = admin.get("/api/access/subjects", params={"q": "医"}).json()
    assert [g["key"] for g in data["groups"]] == ["doctors"]
    data = admin.get("/api/access/subjects").json()
    assert data["members"] == [] and [g["key"] for g in data["groups"]] == [
        "doctors", "pharmacists",
    ]  # fmt: skip


def test_subjects_one_member_by_id(admin: StaffClient, members: dict[str, int], site: Path) -> None:
    data = admin.get("/api/access/subjects", params={"member": members["D"]}).json()
    assert data["members"] == [{"id": members["D"], "label": "会員 D", "email": "d@example.jp"}]
    response = admin.get("/api/access/subjects", params={"member": 999_999})
    assert response.status_code == 404


def test_the_page_as_served_for_api_clients(
    admin: StaffClient, members: dict[str, int], site: Path
) -> None:
    def page(path: str, **who: Any) -> Any:
        return admin.get("/api/access/preview/page", params={"path": path, **who})

    onc = page("/onc/", member=members["A"])
    assert onc.status_code == 200 and onc.headers["x-kizuna-decision"] == "allow"
    assert onc.content == (site / "public" / "onc" / "index.html").read_bytes()  # unchanged
    assert onc.headers["content-security-policy"].startswith("sandbox;")
    assert "set-cookie" not in onc.headers
    gold = page("/gold/", member=members["D"])
    assert gold.status_code == 403 and "閲覧できません" in gold.text
    anon = page("/members/seminar/", anonymous="true")
    assert anon.status_code == 200 and anon.headers["x-kizuna-decision"] == "login"
    assert 'name="next" value="/members/seminar/"' in anon.text
    assert page("/nowhere/", group="doctors").status_code == 404
    pdf = page("/members/files/guide.pdf", group="doctors", download="true")
    assert pdf.content == b"%PDF-1.4 guide" and "attachment" in pdf.headers["content-disposition"]


def test_inactive_members_read_public_pages_only(
    admin: StaffClient, runtime: Runtime, members: dict[str, int], site: Path
) -> None:
    """A suspended member (and one without a password: F, G of the fixture) counts for public
    pages only."""
    with runtime.db.transaction() as session:
        member_services.set_status(session, cli_principal("tests"), members["A"], "suspended")
    staff._count_cache.clear()
    rules = {r["rule"]: r["members"] for r in admin.get("/api/access/matrix").json()["rules"]}
    assert rules["public"] == 7 and rules["members"] == 4 and rules["group:doctors"] == 1
    assert rules['plan == "gold" and specialty == "oncology"'] == 0
    result = preview(admin, "/onc/", member=members["A"])
    assert (result["decision"], result["reason"]) == ("login", "inactive")
    assert [t["holds"] for t in result["terms"]] == [False, False]
