"""Loading, checking and resolving the access manifest (api.access.manifest)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.access.manifest import ManifestError, load_manifest, parse_manifest
from api.access.rules import Decision
from tests.fixtures.access_site import VISITORS, write_site


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Any]:
    _, meta = write_site(tmp_path / "site")
    return json.loads((meta / "access.json").read_text())


def test_the_example_loads(tmp_path: Path, data: dict[str, Any]) -> None:
    manifest = parse_manifest(data)
    assert manifest.build_id == "test-1"
    assert manifest.page("login") is not None and manifest.page("login").path == "/login/"  # type: ignore[union-attr]
    assert manifest.entries["/members/doctors/"].rule.groups() == {"doctors"}
    assert load_manifest(tmp_path / "site" / "meta" / "access.json").build_id == "test-1"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.pop("build_id"), "build_id"),
        (lambda d: d["entries"]["/about/"].update(rule="plan =="), "/about/"),
        (lambda d: d["entries"]["/about/"].update(fields=["x"]), "fields"),
        (lambda d: d["entries"]["/about/"].update(kind="weird"), "kind"),
        (lambda d: d["entries"]["/about/"].update(file="../etc/passwd"), "plain path"),
        (lambda d: d["entries"]["/about/"].update(file="/etc/passwd"), "plain path"),
        (lambda d: d["entries"].update({"/a/../b": d["entries"]["/about/"]}), "normalised"),
        (lambda d: d["entries"].update({"about": d["entries"]["/about/"]}), "URL path"),
        (lambda d: d["folders"].update({"/x": {"rule": "members"}}), "normalised"),
        (lambda d: d["pages"].update(login="/nowhere/"), "no entry"),
        (lambda d: d["pages"].update(login="/members/seminar/"), "public"),
        (lambda d: d["entries"]["/"].update(rule="members"), "public"),
    ],
)
def test_a_bad_manifest_is_refused_saying_where(
    data: dict[str, Any], change: Any, says: str
) -> None:
    broken = copy.deepcopy(data)
    change(broken)
    with pytest.raises(ManifestError, match=None) as caught:
        parse_manifest(broken)
    assert says in str(caught.value)


def test_resolution_and_folder_defaults(data: dict[str, Any]) -> None:
    manifest = parse_manifest(data)
    about = manifest.resolve("/about/")
    assert about.entry is not None and about.public
    alias = manifest.resolve("/members/seminar/index.html")
    assert alias.entry is not None and alias.entry.path == "/members/seminar/"
    slash = manifest.resolve("/members/seminar")
    assert slash.entry is None and slash.redirect == "/members/seminar/"
    assert slash.decide(None) is Decision.login
    unknown = manifest.resolve("/members/unknown.pdf")
    assert unknown.entry is None and unknown.decide(None) is Decision.login
    assert unknown.decide(VISITORS["member"]) is Decision.allow  # then 404
    folded = manifest.resolve("/MEMBERS/DOCTORS/")
    assert folded.entry is None
    assert folded.decide(VISITORS["member"]) is Decision.forbidden
    assert folded.decide(VISITORS["doctor"]) is Decision.allow
    assert manifest.resolve("/elsewhere/").rules == ()
    assert manifest.resolve("/members").decide(None) is Decision.login
