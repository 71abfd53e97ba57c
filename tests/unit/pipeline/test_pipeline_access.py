"""The access side of the build: the manifest, the content index, the nginx map, teasers, the
leak check, and the rules' errors and warnings, on the example content/ and on broken copies.

Golden files (tests/unit/pipeline/golden/) hold the manifest, the content index and the nginx
map of the example site. Regenerate after a deliberate content change:
KIZUNA_UPDATE_GOLDEN=1 pytest tests/unit/pipeline -k golden
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.build import BuildError, BuildResult, build_site

ROOT = Path(__file__).resolve().parents[3]
CONTENT = ROOT / "content"
THEME = ROOT / "themes" / "default"
GOLDEN = Path(__file__).with_name("golden")

Example = tuple[BuildResult, Path, Path]


def build(tmp: Path, content: Path = CONTENT, theme: Path = THEME, **kwargs: Any) -> BuildResult:
    return build_site(
        content_dir=content,
        theme_dir=theme,
        output_dir=tmp / "site" / "public",
        meta_dir=tmp / "site" / "meta",
        **kwargs,
    )


def copy_content(tmp: Path) -> Path:
    target = tmp / "content"
    shutil.copytree(CONTENT, target)
    return target


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load(path: Path) -> Any:
    return json.loads(read(path))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    tmp = tmp_path_factory.mktemp("example")
    result = build(tmp)
    return result, tmp / "site" / "public", tmp / "site" / "meta"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KIZUNA_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == read(path), f"{name} differs from the golden file (see module docstring)"


# --- the manifest -----------------------------------------------------------------------------


def test_manifest_lists_every_output_file(example: Example) -> None:
    _, public, meta = example
    manifest = load(meta / "access.json")
    files = sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file())
    assert sorted(e["file"] for e in manifest["entries"].values()) == files
    for url, entry in manifest["entries"].items():
        if entry["file"].endswith("index.html"):
            assert url == "/" + entry["file"].removesuffix("index.html"), url
        else:
            assert url == "/" + entry["file"], url
        assert entry["kind"] in {"page", "article", "index", "file", "asset", "special"}
        assert set(entry) >= {"file", "kind", "rule", "fields", "groups"}


def test_manifest_has_the_contract_shape(example: Example) -> None:
    _, _, meta = example
    manifest = load(meta / "access.json")
    assert manifest["version"] == 1
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", manifest["build_id"])
    assert manifest["fields"] == ["plan", "specialty"]
    assert manifest["groups"] == ["doctors", "pharmacists"]
    assert manifest["pages"] == {
        "login": "/login/",
        "forbidden": "/forbidden/",
        "not_found": "/404.html",
        # the member site's pages (issue 18): an addition to the contract's three
        "register": "/register/",
        "register_confirm": "/register/confirm/",
        "mypage": "/mypage/",
        "mypage_email": "/mypage/email/",
        "mypage_password": "/mypage/password/",
        "password_reset": "/password/reset/",
        "withdraw": "/withdraw/",
    }
    assert manifest["pages_by_lang"]["en"]["mypage_email"] == "/en/mypage/email/"
    entries = manifest["entries"]
    assert entries["/"] == {
        "file": "index.html",
        "kind": "page",
        "rule": "public",
        "fields": [],
        "groups": [],
        "source": "pages/index.md",
        "title": "ホーム",
        "lang": "ja",
    }
    assert entries["/members/seminar-materials/"]["rule"] == "members"  # folder default
    assert entries["/members/gold/"]["rule"] == 'plan in ("gold", "platinum")'  # metadata
    assert entries["/members/gold/"]["fields"] == ["plan"]
    assert entries["/members/join/"]["rule"] == "public"  # Access: public overrides the folder
    assert entries["/members/"]["rule"] == "public"
    pdf = entries["/members/doctors/assay-guide/files/dosing-guide.pdf"]
    assert (pdf["kind"], pdf["rule"], pdf["groups"]) == ("file", "group:doctors", ["doctors"])
    assert pdf["source"] == "pages/members/doctors/files/dosing-guide.pdf"
    zip_ = entries["/members/pharmacists/handbook/files/handling-checklists.zip"]
    assert zip_["rule"] == "group:pharmacists"
    assert entries["/news/doctors-case-study/"]["kind"] == "article"
    assert entries["/news/doctors-case-study/"]["rule"] == "group:doctors"
    assert entries["/news/"]["kind"] == "index"
    assert entries["/theme/js/member.js"]["kind"] == "asset"
    for url in ("/login/", "/forbidden/", "/404.html", "/en/login/", "/en/404.html",
                "/register/", "/en/mypage/password/", "/password/reset/"):  # fmt: skip
        assert entries[url]["kind"] == "special", url
        assert entries[url]["rule"] == "public", url
    assert manifest["folders"]["/members/"] == {"rule": "members", "fields": [], "groups": []}
    assert manifest["folders"]["/members/doctors/"]["rule"] == "group:doctors"
    assert manifest["folders"]["/en/members/pharmacists/"]["rule"] == "group:pharmacists"


def test_golden_manifest(example: Example) -> None:
    _, _, meta = example
    manifest = load(meta / "access.json")
    manifest["build_id"] = "<build id>"
    golden("access.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


def test_golden_content_index(example: Example) -> None:
    _, _, meta = example
    index = load(meta / "content.json")
    items = {item["url"]: item for item in index["items"]}
    assert items["/news/platinum-report/"]["teaser"] == "summary"
    assert items["/news/doctors-case-study/"]["teaser"] == "none"
    assert items["/news/website-launch/"]["teaser"] == "full"
    assert items["/news/website-launch/"]["date"] == "2026-01-15T00:00:00+09:00"
    assert items["/en/members/gold/"]["lang"] == "en"
    golden("content.json", read(meta / "content.json"))


def test_golden_nginx_map(example: Example) -> None:
    _, _, meta = example
    text = read(meta / "nginx-gated.map")
    assert '"~^/members/" 1;' in text
    assert '"/members/gold/" 1;' in text
    assert '"/members/gold/index.html" 1;' in text
    assert '"/members/join/" 0;' in text  # public below a gated folder: exact beats regex
    assert '"/about/"' not in text
    app_pages = read(meta / "nginx-app-pages.map")
    assert '"/mypage/" 1;' in app_pages and '"/en/withdraw/index.html" 1;' in app_pages
    assert '"/forbidden/"' not in app_pages and '"/about/"' not in app_pages
    golden("nginx-gated.map", re.sub(r"kizuna build \S+;", "kizuna build <build id>;", text))


def test_golden_login_and_forbidden_pages(example: Example) -> None:
    _, public, _ = example
    login = read(public / "login" / "index.html")
    # CONTRACT17 section 3: the form the gate and the members API rely on
    assert '<form class="auth-form" method="post" action="/api/members/login"' in login
    assert '<input type="hidden" name="next" value="">' in login
    assert 'name="email"' in login and 'name="password"' in login
    assert "<!--kizuna:login-message-->" in login
    assert '<html lang="ja">' in login
    assert "Member log-in" in read(public / "en" / "login" / "index.html")
    golden("login.html", login)
    golden("forbidden.html", read(public / "forbidden" / "index.html"))


def test_every_page_has_the_login_state_header(example: Example) -> None:
    _, public, _ = example
    for page in public.rglob("*.html"):
        text = read(page)
        assert "data-kizuna-member" in text, page
        assert 'src="/theme/js/member.js"' in text, page
        assert 'action="/api/members/logout"' in text, page  # log-out also without JavaScript
    script = read(public / "theme" / "js" / "member.js")
    assert "/me" in script


# --- no gated text in public files ------------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")


def _text_of(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", markup)))


def _prose(page: Path) -> str:
    """The body of a page or article (the home page's is a div)."""
    match = re.search(r'class="prose[^"]*">(.*?)</(?:article|div)>', read(page), re.DOTALL)
    assert match, page
    return match.group(1)


def test_no_gated_text_in_any_public_file(example: Example) -> None:
    """Independent of the build's own leak check: every paragraph of every gated page must be
    absent from every public file (only titles, and summaries with Teaser: summary, may be)."""
    _, public, meta = example
    manifest = load(meta / "access.json")
    index = {item["url"]: item for item in load(meta / "content.json")["items"]}
    public_files = [e["file"] for e in manifest["entries"].values() if e["rule"] == "public"]
    public_text = {
        f: _text_of(read(public / f))
        for f in public_files
        if f.endswith((".html", ".xml", ".json", ".js", ".css", ".txt", ".svg"))
    }
    public_bytes = {hashlib.sha256((public / f).read_bytes()).hexdigest() for f in public_files}
    public_prose = " ".join(
        _text_of(_prose(public / e["file"]))
        for e in manifest["entries"].values()
        if e["rule"] == "public" and e["kind"] in ("page", "article")
    )
    checked = 0
    for url, entry in manifest["entries"].items():
        if entry["rule"] == "public":
            continue
        if entry["kind"] == "file":
            digest = hashlib.sha256((public / entry["file"]).read_bytes()).hexdigest()
            assert digest not in public_bytes, f"{url}: the same bytes are public"
            continue
        allowed = index[url]["summary"] if index[url]["teaser"] == "summary" else ""
        for paragraph in re.findall(r"<p>(.*?)</p>", _prose(public / entry["file"])):
            text = _text_of(paragraph).strip()
            if len(text) < 16 or text in public_prose or text == allowed:
                continue
            checked += 1
            for name, body in public_text.items():
                assert text not in body, f"{url}: {text!r} appears in public {name}"
                if len(text) >= 40:  # a summary cut short
                    assert text[:30] not in body, f"{url}: the start of {text!r} is in {name}"
    assert checked > 20, "the example has gated paragraphs to look for"


def test_teasers_show_only_what_metadata_allows(example: Example) -> None:
    _, public, _ = example
    for listing in ("news/index.html", "index.html"):
        text = read(public / listing)
        assert "会員向けウェビナー「装置の日常点検」の録画を公開しました" in text  # title only
        assert "始業前の五分間" not in text
        assert "プラチナプランの会員の方に、分析機器の稼働状況レポートを毎月お届けします。" in text
        assert "医師向け：大学病院検査部での導入事例" not in text  # Teaser: none
    assert (public / "news" / "doctors-case-study" / "index.html").is_file()  # still written


# --- bad input --------------------------------------------------------------------------------


def test_a_rule_that_does_not_parse_fails_naming_file_line_and_column(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    (content / "pages" / "bad-rule.md").write_text(
        "Title: 誤ったルール\nLang: ja\nAccess: plan ==\n\n本文\n", encoding="utf-8"
    )
    with pytest.raises(BuildError) as caught:
        build(tmp_path, content)
    message = str(caught.value)
    assert "content/pages/bad-rule.md, line 3, column 16" in message
    assert "Expected a value" in message
    assert str(tmp_path) not in message
    assert not (tmp_path / "site" / "public").exists(), "nothing is published"


def test_a_bad_folder_default_fails_naming_site_toml(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    settings = content / "site.toml"
    text = read(settings)
    settings.write_text(
        text.replace('"members/**" = "members"', '"members/**" = "members &&"', 1), "utf-8"
    )
    with pytest.raises(BuildError) as caught:
        build(tmp_path, content)
    message = str(caught.value)
    assert "content/site.toml, line" in message
    assert "members/**" in message
    assert "and" in message  # && -> "write and"


def test_an_unknown_teaser_fails(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    (content / "news" / "2026-08-01-bad-teaser.md").write_text(
        "Title: x\nAccess: members\nTeaser: everything\n\n本文\n", encoding="utf-8"
    )
    with pytest.raises(BuildError, match=r"2026-08-01-bad-teaser\.md, line 3, column 9: Teaser"):
        build(tmp_path, content)


def test_unknown_fields_and_groups_warn_only_when_the_member_table_is_known(
    tmp_path: Path,
) -> None:
    result = build(
        tmp_path,
        member_fields={"email": "email", "name": "text", "plan": "select"},
        groups=["doctors"],
    )
    warnings = "\n".join(result.warnings)
    assert "specialty" in warnings
    assert "content/pages/members/oncology.md, line 2" in warnings
    assert "pharmacists" in warnings
    assert "content/site.toml" in warnings
    record = load(tmp_path / "site" / "meta" / "build.json")
    assert record["warnings"] == result.warnings


@pytest.mark.parametrize(
    "shown",
    [
        "{{ a.content }}",
        "{{ a.content|striptags|truncate(60) }}",  # cut short, with "..."
        '<meta name="x" content="{{ a.content|striptags|trim }}">',
    ],
    ids=["body", "cut-short", "attribute"],
)
def test_a_template_that_shows_gated_text_fails_the_build(tmp_path: Path, shown: str) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(THEME, theme)
    home = theme / "templates" / "home.html"
    leaky = "{% for a in hidden_articles %}<p>" + shown + "</p>{% endfor %}{% endblock %}"
    text = read(home)
    home.write_text(text[: text.rindex("{% endblock %}")] + leaky, encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(tmp_path, theme=theme)
    message = str(caught.value)
    assert "gated text leaks into the public file index.html" in message
    assert re.search(r"content/news/2026-0[456]-\d\d-[a-z-]+\.md: gated text leaks", message)


def test_a_public_static_file_that_quotes_a_gated_page_fails_the_build(tmp_path: Path) -> None:
    """Files Pelican copies (static files, not written from templates) are checked too."""
    content = copy_content(tmp_path)
    (content / "files").mkdir(exist_ok=True)
    (content / "files" / "notes.txt").write_text(
        "メモ\nゴールド以上のプランでは、年二回の定期点検に加えて、故障時の代替機の手配を"
        "翌営業日までに行います。\n",
        encoding="utf-8",
    )
    with pytest.raises(BuildError) as caught:
        build(tmp_path, content)
    message = str(caught.value)
    assert "content/pages/members/gold.md: gated text leaks into the public file " in message
    assert "files/notes.txt" in message


def test_a_static_file_copied_over_a_written_page_is_checked_as_copied(tmp_path: Path) -> None:
    """The check reads what ends up in the output: a static file that replaces a page Pelican
    wrote (same output path) is what is checked."""
    content = copy_content(tmp_path)
    (content / "files").mkdir(exist_ok=True)
    (content / "files" / "notes.txt").write_text(
        "ゴールド以上のプランでは、年二回の定期点検に加えて、故障時の代替機の手配を"
        "翌営業日までに行います。\n",
        encoding="utf-8",
    )
    (content / "pages" / "notes.md").write_text(
        "Title: メモ\nSave_as: files/notes.txt\n\nただのメモです。\n", encoding="utf-8"
    )
    with pytest.raises(BuildError, match=r"members/gold\.md: gated text leaks .*notes\.txt"):
        build(tmp_path, content)


def test_gated_pages_may_quote_what_is_public_anyway(tmp_path: Path) -> None:
    """Public titles, the site's description and other gated pages' titles shown as teasers are
    no leak when a gated page repeats them."""
    content = copy_content(tmp_path)
    (content / "pages" / "members" / "quotes.md").write_text(
        "Title: 引用の多いページ\n\n"
        "2026年度 オンライン技術セミナーのご案内\n\n"
        "研究機関・医療機関向けの分析機器と消耗品を扱う架空の会社です。\n\n"
        "会員向けウェビナー「装置の日常点検」の録画を公開しました\n\n"
        "この段落だけは会員の方にしかお見せしない、とても大事な内容です。\n",
        encoding="utf-8",
    )
    build(tmp_path, content)
    public = tmp_path / "site" / "public"
    assert "とても大事な内容" not in read(public / "index.html")


def test_gated_pages_may_repeat_public_bodies(tmp_path: Path) -> None:
    """A gated article that repeats a public article's first paragraph (which the public
    listings show as its summary) is no leak: the public bodies are read when a listing shows
    a sentence that a gated page has too."""
    content = copy_content(tmp_path)
    (content / "news" / "2026-08-01-repeat.md").write_text(
        "Title: 公開記事の再掲\nAccess: members\nTeaser: none\n\n"
        "株式会社キズナのウェブサイトを公開しました。製品やセミナーの情報、各種のお知らせを"
        "こちらで順次お届けしてまいります。\n\n"
        "この段落だけは会員の方にしかお見せしない、とても大事な内容です。\n",
        encoding="utf-8",
    )
    build(tmp_path, content)
    listing = read(tmp_path / "site" / "public" / "news" / "index.html")
    assert "各種のお知らせをこちらで順次お届けしてまいります。" in listing
    assert "とても大事な内容" not in listing


def test_a_missing_template_names_it(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(THEME, theme)
    (theme / "templates" / "forbidden.html").unlink()
    with pytest.raises(BuildError, match="forbidden"):
        build(tmp_path, theme=theme)


def test_broken_markdown_names_the_file(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    (content / "pages" / "members" / "broken.md").write_bytes(b"Title: \xff\xfe broken\n\nx\n")
    with pytest.raises(BuildError, match=r"content/pages/members/broken\.md"):
        build(tmp_path, content)


# --- incremental builds -----------------------------------------------------------------------


def test_cached_rebuild_gives_the_same_site_and_sees_edits(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    cache = tmp_path / "cache"
    build(tmp_path, content, cache_dir=cache)
    public = tmp_path / "site" / "public"
    first = {p.relative_to(public): p.read_bytes() for p in public.rglob("*") if p.is_file()}
    assert any(cache.rglob("*")), "the reader cache is written"
    build(tmp_path, content, cache_dir=cache)
    second = {p.relative_to(public): p.read_bytes() for p in public.rglob("*") if p.is_file()}
    assert second == first

    page = content / "pages" / "members" / "gold.md"
    page.write_text(read(page).replace('plan in ("gold", "platinum")', 'plan == "platinum"'))
    os.utime(page, (page.stat().st_atime, page.stat().st_mtime + 5))
    build(tmp_path, content, cache_dir=cache)
    manifest = load(tmp_path / "site" / "meta" / "access.json")
    assert manifest["entries"]["/members/gold/"]["rule"] == 'plan == "platinum"'
