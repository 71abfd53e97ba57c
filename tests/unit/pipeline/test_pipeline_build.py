"""Build the example content/ with the default theme and check what comes out.

Each build runs Pelican in a child process (as in production), so these tests take a second or
two each; the example site is built once per module and shared by the read-only checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.build import BuildError, BuildResult, build_site

ROOT = Path(__file__).resolve().parents[3]
CONTENT = ROOT / "content"
THEME = ROOT / "themes" / "default"
GOLDEN = Path(__file__).with_name("golden")
SITE_URL = "https://www.example.jp"


def build(tmp: Path, content: Path = CONTENT, **kwargs: str) -> BuildResult:
    return build_site(
        content_dir=content,
        theme_dir=THEME,
        output_dir=tmp / "site" / "public",
        meta_dir=tmp / "site" / "meta",
        **kwargs,
    )


def copy_content(tmp: Path) -> Path:
    target = tmp / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, Path, Path]:
    tmp = tmp_path_factory.mktemp("example")
    result = build(tmp)
    return result, tmp / "site" / "public", tmp / "site" / "meta"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class _Tags(HTMLParser):
    """Collect the attributes of every <link> and <script> tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("link", "script"):
            self.tags.append((tag, {k: v or "" for k, v in attrs}))


# --- the example site -------------------------------------------------------------------------


def test_home_page_presents_the_company_in_japanese_with_an_english_line(
    example: tuple[BuildResult, Path, Path],
) -> None:
    _, public, _ = example
    html = read(public / "index.html")
    assert '<html lang="ja">' in html
    assert "株式会社キズナ" in html
    assert "架空" in html  # the site says it is a demo of a fictional company
    assert "fictional" in html
    assert 'href="/en/about/"' in html
    # the public articles and the teasers of two gated ones, newest first
    titles = [
        "夏季休業のお知らせ",
        "プラチナ会員向け：稼働状況レポートの提供を始めました",
        "会員向けウェビナー「装置の日常点検」の録画を公開しました",
        "2026年度 オンライン技術セミナーのご案内",
        "ウェブサイトを公開しました",
    ]
    positions = [html.index(t) for t in titles]
    assert positions == sorted(positions)


def test_article_page_has_date_body_and_resolved_attachment(
    example: tuple[BuildResult, Path, Path],
) -> None:
    _, public, _ = example
    html = read(public / "news" / "seminar-2026" / "index.html")
    assert "<h1" in html
    assert "2026年度 オンライン技術セミナーのご案内" in html
    assert '<time datetime="2026-03-10T00:00:00+09:00">2026年3月10日</time>' in html
    assert "<table>" in html  # Markdown tables extension
    assert 'href="/news/seminar-2026/files/seminar-2026-program.pdf"' in html
    pdf = public / "news" / "seminar-2026" / "files" / "seminar-2026-program.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_no_intrasite_link_is_left_unresolved(example: tuple[BuildResult, Path, Path]) -> None:
    _, public, _ = example
    for page in public.rglob("*.html"):
        html = read(page)
        for marker in ("{attach}", "{static}", "{filename}", "{index}", "|filename|"):
            assert marker not in html, f"{marker} left in {page.relative_to(public)}"


def test_no_third_party_css_js_or_fonts(example: tuple[BuildResult, Path, Path]) -> None:
    _, public, _ = example
    for page in public.rglob("*.html"):
        parser = _Tags()
        parser.feed(read(page))
        for tag, attrs in parser.tags:
            url = attrs.get("href") or attrs.get("src") or ""
            if tag == "script" or attrs.get("rel") in ("stylesheet", "icon", "preload"):
                assert re.match(r"^/(?!/)", url), (page, url)
            elif re.match(r"^(https?:)?//", url):
                # canonical and hreflang links may only point at the site itself
                assert url.startswith(SITE_URL + "/"), (page, url)
    css = read(public / "theme" / "css" / "main.css")
    assert "@import" not in css
    assert "http" not in css.replace("https://", "")
    assert "Hiragino Sans" in css
    assert "Noto Sans JP" in css


def test_404_page(example: tuple[BuildResult, Path, Path]) -> None:
    _, public, _ = example
    html = read(public / "404.html")
    assert "ページが見つかりません" in html
    assert 'name="robots" content="noindex"' in html
    assert 'rel="canonical"' not in html
    # shown at any depth, so every link must be root-relative
    assert 'href="/"' in html
    assert 'href="/news/"' in html
    assert 'href="theme/' not in html
    english = read(public / "en" / "404.html")
    assert '<html lang="en">' in english
    assert "Page not found" in english
    assert 'href="/theme/css/main.css"' in english


def test_news_listing_and_english_translation(example: tuple[BuildResult, Path, Path]) -> None:
    _, public, _ = example
    listing = read(public / "news" / "index.html")
    # three public articles, two gated ones as teasers; the third gated one has Teaser: none
    assert listing.count('class="news-list__item"') == 5
    assert listing.count('class="members-mark"') == 2
    english = read(public / "en" / "about" / "index.html")
    assert '<html lang="en">' in english
    assert 'hreflang="ja"' in english
    assert 'href="/about/"' in english
    assert "Kizuna Inc." in english


def test_nothing_unwanted_is_written(example: tuple[BuildResult, Path, Path]) -> None:
    _, public, _ = example
    unwanted_names = ("feeds", "tag", "tags.html", "category", "author", "drafts", "archives.html")
    for unwanted in unwanted_names:
        assert not (public / unwanted).exists(), unwanted
    assert not list(public.rglob("*.md")), "Markdown sources must not be copied"
    assert not list(public.rglob("README*")), "editors' notes must not be published"
    assert not (public / "site.toml").exists()


def test_build_record_and_result(example: tuple[BuildResult, Path, Path]) -> None:
    result, public, meta = example
    record = json.loads(read(meta / "build.json"))
    assert record["site_url"] == SITE_URL
    assert record["access_defaults"]["members/**"] == "members"
    assert record["access_defaults"]["members/doctors/**"] == "group:doctors"
    assert record["warnings"] == []
    by_path = {page["path"]: page for page in record["pages"]}
    assert by_path["index.html"]["source"] == "pages/index.md"
    assert by_path["news/website-launch/index.html"] == {
        "path": "news/website-launch/index.html",
        "url": "/news/website-launch/",
        "kind": "article",
        "source": "news/2026-01-15-website-launch.md",
        "title": "ウェブサイトを公開しました",
        "lang": "ja",
        "date": "2026-01-15T00:00:00+09:00",
    }
    assert "news/seminar-2026/files/seminar-2026-program.pdf" in record["files"]
    assert result.pages == sorted(p.relative_to(public).as_posix() for p in public.rglob("*.html"))
    assert result.warnings == [], "the example site must build without warnings"
    assert result.seconds > 0
    assert not (public / "build.json").exists(), "meta is never in the web root"


def test_golden_article_page(example: tuple[BuildResult, Path, Path]) -> None:
    """The full HTML of one article. Regenerate after a deliberate theme or content change:
    KIZUNA_UPDATE_GOLDEN=1 pytest tests/unit/pipeline -k golden"""
    _, public, _ = example
    html = read(public / "news" / "website-launch" / "index.html")
    golden = GOLDEN / "news-website-launch.html"
    if os.environ.get("KIZUNA_UPDATE_GOLDEN"):
        golden.write_text(html, encoding="utf-8")
    assert html == read(golden), "built page differs from the golden file (see docstring)"


# --- options ----------------------------------------------------------------------------------


def test_site_url_override_prefixes_links_and_canonical(tmp_path: Path) -> None:
    build(tmp_path, site_url="https://staging.example.jp/corp")
    html = read(tmp_path / "site" / "public" / "about" / "index.html")
    assert 'href="/corp/theme/css/main.css"' in html
    assert 'href="/corp/news/"' in html
    assert '<link rel="canonical" href="https://staging.example.jp/corp/about/">' in html


def test_empty_site_url_leaves_out_canonical_links(tmp_path: Path) -> None:
    build(tmp_path, site_url="")
    html = read(tmp_path / "site" / "public" / "about" / "index.html")
    assert 'rel="canonical"' not in html
    assert 'href="/theme/css/main.css"' in html


def test_bad_site_url_is_refused_before_building(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="not a site address"):
        build(tmp_path, site_url="www.example.jp")


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('name_en = "Kizuna Inc."', "name_en = 3", "site.toml: site.name_en must be text"),
        ('name_en = "Kizuna Inc."', 'nmae_en = "x"', "unknown key site.nmae_en"),
        ('timezone = "Asia/Tokyo"', 'timezone = "Asia/Tokio"', "site.timezone"),
        ('url = "/about/"', 'url = "about"', "menu.main[2].url"),
        ('name_en = "Kizuna Inc."', 'name_en = "Kizuna', "not valid TOML"),
    ],
)
def test_broken_site_toml_names_the_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    content = copy_content(tmp_path)
    settings = content / "site.toml"
    text = read(settings)
    assert old in text
    settings.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(tmp_path, content)
    assert expected in str(caught.value)
    assert "content/site.toml" in str(caught.value)


def test_broken_metadata_fails_naming_the_file(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    (content / "news" / "bad-date.md").write_text(
        "Title: 日付の誤り\nDate: 2026-02-30\n\n本文\n", encoding="utf-8"
    )
    (content / "pages" / "no-title.md").write_text("Lang: ja\n\n本文\n", encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(tmp_path, content)
    problems = "\n".join(caught.value.problems)
    assert "content/news/bad-date.md" in problems
    assert "not a valid date" in problems
    assert "content/pages/no-title.md" in problems
    assert "title" in problems
    assert str(tmp_path) not in str(caught.value), "paths are shown as editors know them"


def test_template_error_names_the_template(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(THEME, theme)
    page = theme / "templates" / "page.html"
    page.write_text(read(page).replace("{% endblock %}", "{% endblok %}", 1), encoding="utf-8")
    with pytest.raises(BuildError, match=r"page\.html"):
        build_site(
            content_dir=CONTENT,
            theme_dir=theme,
            output_dir=tmp_path / "public",
            meta_dir=tmp_path / "meta",
        )


def test_failed_build_leaves_the_previous_site_in_place(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    build(tmp_path, content)
    public = tmp_path / "site" / "public"
    before = {p: p.read_bytes() for p in public.rglob("*") if p.is_file()}
    record_before = read(tmp_path / "site" / "meta" / "build.json")

    (content / "pages" / "about.md").write_text("本文だけ（タイトルなし）\n", encoding="utf-8")
    (content / "pages" / "new.md").write_text("Title: 新しいページ\n\n新しい本文\n", "utf-8")
    with pytest.raises(BuildError):
        build(tmp_path, content)

    after = {p: p.read_bytes() for p in public.rglob("*") if p.is_file()}
    assert after == before
    assert read(tmp_path / "site" / "meta" / "build.json") == record_before
    leftovers = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert leftovers == [".public.lock", "meta", "public"]


def test_rebuild_replaces_the_whole_output(tmp_path: Path) -> None:
    build(tmp_path)
    public = tmp_path / "site" / "public"
    (public / "stale.html").write_text("old", encoding="utf-8")
    build(tmp_path)
    assert not (public / "stale.html").exists()
    assert (public / "index.html").is_file()
    # readable by the web server (temporary folders are created 0700)
    assert stat.S_IMODE(public.stat().st_mode) == 0o755


def test_output_inside_content_is_refused(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    with pytest.raises(BuildError, match="overlaps the content folder"):
        build_site(
            content_dir=content,
            theme_dir=THEME,
            output_dir=content,
            meta_dir=tmp_path / "meta",
        )
    assert (content / "site.toml").is_file()
    with pytest.raises(BuildError, match="outside the output folder"):
        build_site(
            content_dir=content,
            theme_dir=THEME,
            output_dir=tmp_path / "public",
            meta_dir=tmp_path / "public" / "meta",
        )


def test_missing_site_toml(tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    (content / "site.toml").unlink()
    with pytest.raises(BuildError, match=r"content/site\.toml: file not found"):
        build(tmp_path, content)
