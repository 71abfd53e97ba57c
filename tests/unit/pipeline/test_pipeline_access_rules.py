"""pipeline/access.py: folder defaults (globs, the most specific wins, URL folders), Access: and
Teaser: metadata with their positions, combining rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.access.rules import PUBLIC, parse
from pipeline.access import (
    AccessError,
    FolderRules,
    both,
    content_access,
    metadata_positions,
    site_path,
)


def folders(tmp_path: Path, defaults: dict[str, str]) -> FolderRules:
    lines = ["[access]", *(f'"{glob}" = "{rule}"' for glob, rule in defaults.items())]
    config = tmp_path / "site.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return FolderRules(defaults, source=str(config))


def test_site_path_drops_pages_only() -> None:
    assert site_path("pages/members/a.md") == "members/a.md"
    assert site_path("news/members/a.md") == "news/members/a.md"
    assert site_path("files/a.pdf") == "files/a.pdf"


def test_most_specific_folder_wins(tmp_path: Path) -> None:
    rules = folders(
        tmp_path,
        {
            "members/doctors/**": "group:doctors",
            "members/**": "members",
            "**/*.zip": "group:pharmacists",
        },
    )
    assert str(rules.rule_for("members/a.md")) == "members"
    assert str(rules.rule_for("members/doctors/a.md")) == "group:doctors"
    assert str(rules.rule_for("members/doctors/files/x.pdf")) == "group:doctors"
    assert str(rules.rule_for("members/x.zip")) == "members"  # longer fixed part wins
    assert str(rules.rule_for("files/x.zip")) == "group:pharmacists"
    assert rules.rule_for("about.md") is PUBLIC
    assert rules.rule_for("membersonly/a.md") is PUBLIC
    assert {p: str(r) for p, r in rules.url_folders().items()} == {
        "/members/": "members",
        "/members/doctors/": "group:doctors",
    }


def test_single_star_stays_in_its_folder(tmp_path: Path) -> None:
    rules = folders(tmp_path, {"private/*": "members"})
    assert str(rules.rule_for("private/a.md")) == "members"
    assert rules.rule_for("private/sub/a.md") is PUBLIC


def test_bad_folder_rule_names_the_line_of_site_toml(tmp_path: Path) -> None:
    with pytest.raises(AccessError) as caught:
        folders(tmp_path, {"a/**": "members", "b/**": "plan =="})
    message = str(caught.value)
    assert "site.toml, line 3, column 18" in message
    assert '"b/**"' in message


def test_metadata_positions_stop_at_the_first_blank_line(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("Title: x\nACCESS:   group:doctors\n\nAccess: not metadata\n", encoding="utf-8")
    found = metadata_positions(str(page))
    assert (found["access"].line, found["access"].column) == (2, 11)
    assert found["access"].text == "group:doctors"


def test_content_access_from_metadata_folder_and_teaser(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("Title: x\nAccess: plan ==\n\nbody\n", encoding="utf-8")
    with pytest.raises(AccessError, match=r"content/p\.md, line 2, column 16"):
        content_access({"access": "plan =="}, str(page), "content/p.md", PUBLIC)
    members = parse("members")
    inherited = content_access({}, str(page), "content/p.md", members)
    assert (inherited.rule, inherited.teaser, inherited.from_metadata) == (members, "title", False)
    own = content_access({"access": "public", "teaser": "Summary"}, str(page), "p", members)
    assert own.rule.is_public and own.teaser == "summary"
    with pytest.raises(AccessError, match="Teaser"):
        content_access({"teaser": "all"}, str(page), "p", members)


def test_both_needs_each_rule() -> None:
    members, doctors = parse("members"), parse("group:doctors")
    assert both(PUBLIC, doctors) == doctors
    assert both(doctors, PUBLIC) == doctors
    assert both(doctors, doctors) == doctors
    assert str(both(parse("plan == 1 or members"), doctors)) == (
        "(plan == 1 or members) and group:doctors"
    )
    assert str(both(members, doctors)) == "members and group:doctors"
