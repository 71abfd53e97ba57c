"""The staff side of access without a database: paths as the manifest keys them, the gate's
decision for a subject (entries, folder defaults, 404), the login page's ``next``, links kept
inside the preview frame, the build record's warnings, the manifest reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.access import staff
from api.access.rules import Member, parse
from api.errors import Conflict, ValidationFailed
from tests.fixtures.access_staff_site import write_site


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/", "/"),
        ("", None),
        ("about", "/about"),
        ("/about/", "/about/"),
        ("/about/index.html", "/about/index.html"),  # the gate serves /about/'s file for it
        ("/index.html", "/index.html"),
        ("//about//x/", "/about/x/"),
        ("/a/./b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/%61bout/", "/about/"),
        ("/%E5%8C%BB%E5%B8%AB/", "/医師/"),
        ("https://example.jp/about/?x=1#top", "/about/"),
        ("/..", None),
        ("/../etc/passwd", None),
        ("/%2e%2e/etc", None),
        ("/a\\b", None),
        ("/a%5cb", None),
        ("/a%00", None),
        ("/a\x7f", None),
        ("/%ff", None),
        ("/" + "a" * 2_001, None),
    ],
)
def test_normalize_path(raw: str, path: str | None) -> None:
    if path is None:
        with pytest.raises(ValidationFailed) as exc:
            staff.normalize_path(raw)
        assert exc.value.errors[0].code == "invalid_path"
    else:
        assert staff.normalize_path(raw) == path


@pytest.fixture
def manifest(tmp_path: Path) -> staff.Manifest:
    write_site(tmp_path)
    found = staff.load_manifest(tmp_path / "meta")
    assert found is not None
    return found


def subject(groups: frozenset[str] | set[str] = frozenset(), **fields: object) -> staff.Subject:
    return staff.Subject(
        kind="member", member=Member(id=1, groups=frozenset(groups), fields=fields), label="m"
    )


def test_decisions(manifest: staff.Manifest) -> None:
    def decide(path: str, who: staff.Subject) -> tuple[str, int, str, str | None]:
        r = staff.preview(manifest, path, who)
        return r.decision, r.status, r.reason, r.shown_path

    gold = subject(plan="Gold", specialty="ＯＮＣＯＬＯＧＹ")
    assert decide("/onc/", gold) == ("allow", 200, "allowed", "/onc/")
    assert decide("/gold/", subject(plan="free")) == ("forbidden", 403, "denied", "/forbidden/")
    assert decide("/gold/", staff.ANONYMOUS) == ("login", 303, "anonymous", "/login/")
    inactive = staff.Subject(kind="member", member=Member(id=1, active=False), label="x")
    assert decide("/members/seminar/", inactive) == ("login", 303, "inactive", "/login/")
    assert decide("/", staff.ANONYMOUS) == ("allow", 200, "public", "/")
    assert decide("/nope", gold) == ("not_found", 404, "unknown", "/404.html")
    assert decide("/members/x.pdf", staff.ANONYMOUS)[:2] == ("login", 303)
    assert decide("/members/x.pdf", gold) == ("not_found", 404, "folder_unknown", "/404.html")
    assert decide("/members/", staff.ANONYMOUS)[0] == "login"  # the folder itself
    r = staff.preview(manifest, "/members/files/guide.pdf", subject({"Doctors"}))
    assert (r.decision, r.file) == ("allow", "members/files/guide.pdf")
    assert staff.preview(manifest, "/members/seminar/", staff.ANONYMOUS).location == (
        "/login/?next=/members/seminar/"
    )


def test_terms_say_which_conditions_hold(manifest: staff.Manifest) -> None:
    r = staff.preview(manifest, "/onc/", subject(plan="gold"))
    assert [(t.term, t.holds) for t in r.terms] == [
        ('plan == "gold"', True),
        ('specialty == "oncology"', False),
    ]
    assert staff.preview(manifest, "/onc/", staff.ANONYMOUS).terms == []


def test_served_files_and_the_login_pages_next(tmp_path: Path, manifest: staff.Manifest) -> None:
    public = tmp_path / "public"
    r = staff.preview(manifest, '/members/seminar/"><script>', staff.ANONYMOUS)
    served = staff.served_file(public, r)
    assert served is not None and served.media_type == "text/html; charset=utf-8"
    assert b'value="/members/seminar/&quot;&gt;&lt;script&gt;"' in served.body
    pdf = staff.served_file(public, staff.preview(manifest, "/members/files/guide.pdf",
                                                  subject({"doctors"})))  # fmt: skip
    assert pdf == staff.Served(b"%PDF-1.4 guide", "application/pdf")
    (public / "onc" / "index.html").unlink()  # listed, but gone: nothing to send
    onc = staff.preview(manifest, "/onc/", subject(plan="gold", specialty="oncology"))
    assert onc.decision == "allow" and staff.served_file(public, onc) is None


def test_links_point_into_the_frame() -> None:
    body = (
        b"<a href=\"/about/\">a</a><A HREF='/x'>b</A><img src=/i.png>"
        b'<link rel="stylesheet" href="/theme/s.css"><a href="//evil/">c</a>'
        b'<a href="rel/">d</a><a href="https://x/">e</a><p>href="/not-a-tag"</p>'
        b'<form action="/api/members/login"></form><a href="/\\evil">f</a>'
    )
    out = staff.link_into(body, "/api/access/preview/frame/K")
    assert out == (
        b'<a href="/api/access/preview/frame/K/about/">a</a>'
        b"<A HREF='/api/access/preview/frame/K/x'>b</A>"
        b"<img src=/api/access/preview/frame/K/i.png>"
        b'<link rel="stylesheet" href="/api/access/preview/frame/K/theme/s.css">'
        b'<a href="//evil/">c</a><a href="rel/">d</a><a href="https://x/">e</a>'
        b'<p>href="/not-a-tag"</p>'
        b'<form action="/api/access/preview/frame/K/api/members/login"></form>'
        b'<a href="/\\evil">f</a>'
    )


def test_manifest_reader(tmp_path: Path) -> None:
    assert staff.load_manifest(tmp_path) is None
    write_site(tmp_path)
    meta = tmp_path / "meta"
    first = staff.load_manifest(meta)
    assert first is staff.load_manifest(meta)  # cached while the file is the same
    data = json.loads((meta / "access.json").read_text("utf-8"))
    for broken in ({**data, "version": 2}, {**data, "entries": []}, [1]):
        (meta / "access.json").write_text(json.dumps(broken), "utf-8")
        with pytest.raises(Conflict) as exc:
            staff.load_manifest(meta)
        assert exc.value.code == "manifest_invalid"
    data["entries"]["/x/"] = {"file": "x", "kind": "page", "rule": "plan ==", "fields": []}
    (meta / "access.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(Conflict) as exc:  # a rule that does not parse: build again
        staff.load_manifest(meta)
    assert exc.value.code == "manifest_invalid"


def test_build_record(tmp_path: Path) -> None:
    assert staff.last_build(tmp_path) == staff.LastBuild(built=False)
    write_site(tmp_path, warnings=["w", {"message": "m", "line": True}, None])
    last = staff.last_build(tmp_path / "meta")
    assert last.built and last.manifest and last.warnings_total == 2
    assert last.warnings[1] == staff.BuildWarning(message="m")  # a boolean is not a line
    (tmp_path / "meta" / "build.json").write_text("[]", "utf-8")
    with pytest.raises(Conflict):
        staff.last_build(tmp_path / "meta")


def test_rules_parse_as_the_manifest_says() -> None:
    assert parse('plan in ("gold", "platinum")').as_dict()["fields"] == ["plan"]


def test_other_spellings_and_nested_folders_are_guarded_as_by_the_gate(
    tmp_path: Path,
) -> None:
    write_site(tmp_path)
    meta = tmp_path / "meta"
    data = json.loads((meta / "access.json").read_text("utf-8"))
    data["folders"]["/members/doctors/"] = parse("group:doctors").as_dict()
    (meta / "access.json").write_text(json.dumps(data), "utf-8")
    manifest = staff.load_manifest(meta)
    assert manifest is not None

    def decide(path: str, who: staff.Subject) -> tuple[str, str]:
        r = staff.preview(manifest, path, who)
        return r.decision, r.reason

    gold = subject(plan="gold", specialty="oncology")
    # A spelling a lenient file system would take for /onc/: its rule first, never the page.
    assert decide("/ONC/", staff.ANONYMOUS) == ("login", "anonymous")
    assert decide("/Onc./", subject(plan="free")) == ("forbidden", "denied")
    assert decide("/ONC/", gold) == ("not_found", "folder_unknown")
    # Nested folder defaults: every one guards.
    assert decide("/members/doctors/x.pdf", subject()) == ("forbidden", "denied")
    assert decide("/members/doctors/x.pdf", subject({"doctors"})) == (
        "not_found", "folder_unknown",
    )  # fmt: skip
    r = staff.preview(manifest, "/members/doctors/x.pdf", staff.ANONYMOUS)
    assert (r.decision, r.rule, r.rule_from) == (
        "login",
        parse("group:doctors").as_dict(),
        "folder",
    )


def test_warnings_as_the_pipeline_writes_them(tmp_path: Path) -> None:
    write_site(tmp_path, warnings=[
        "content/pages/onc.md, line 3, column 9: Unknown field “speciality”.",
        "content/x.md, line 12: a link to a missing file",
        "Pelican: something without a place",
        "  ",
    ])  # fmt: skip
    found = staff.last_build(tmp_path / "meta").warnings
    assert found == [
        staff.BuildWarning("Unknown field “speciality”.", "content/pages/onc.md", 3),
        staff.BuildWarning("a link to a missing file", "content/x.md", 12),
        staff.BuildWarning("Pelican: something without a place"),
    ]


def test_theme_pages_in_the_language_of_the_path(tmp_path: Path) -> None:
    write_site(tmp_path)
    meta = tmp_path / "meta"
    data = json.loads((meta / "access.json").read_text("utf-8"))
    data["entries"]["/en/login/"] = {"file": "login/index.html", "kind": "special",
                                     **parse("public").as_dict()}  # fmt: skip
    data["folders"]["/en/members/"] = parse("members").as_dict()
    (meta / "access.json").write_text(json.dumps(data), "utf-8")
    manifest = staff.load_manifest(meta)
    assert manifest is not None
    en = staff.preview(manifest, "/en/members/x/", staff.ANONYMOUS)
    assert (en.shown_path, en.location) == ("/en/login/", "/en/login/?next=/en/members/x/")
    assert staff.preview(manifest, "/members/x/", staff.ANONYMOUS).shown_path == "/login/"
    assert staff.preview(manifest, "/en/nothing/", staff.ANONYMOUS).shown_path == "/404.html"
