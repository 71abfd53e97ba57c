"""The member site's theme pages (issue 18, part 6) as the build writes them: every page in both
languages, forms that the members API accepts as plain posts (the input names it knows, no
inline script or style for the gate's CSP), every message in the page for the server's redirect
query, the password rules next to every new password, and the server-side fill
(`api.access.pages.fill`) on the built bytes. Golden files: register.html and the English reset
page (KIZUNA_UPDATE_GOLDEN=1 pytest tests/unit/pipeline -k golden)."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.access.pages import fill
from pipeline.build import build_site

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).with_name("golden")

PAGES = {
    "register/": "会員登録",
    "register/confirm/": "会員登録の確認",
    "mypage/": "マイページ",
    "mypage/email/": "メールアドレスの変更",
    "mypage/password/": "パスワードの変更",
    "password/reset/": "パスワードの再設定",
    "withdraw/": "退会",
}
PAGES_EN = {
    "register/": "Create an account",
    "register/confirm/": "Confirm your registration",
    "mypage/": "My page",
    "mypage/email/": "Change your e-mail address",
    "mypage/password/": "Change your password",
    "password/reset/": "Reset your password",
    "withdraw/": "Leave",
}
# What each endpoint accepts from a form (api/members/schemas.py, site.REGISTRATION_INPUTS; the
# registration and profile also take the configured field keys: "name" by default).
ACCEPTS = {
    "/api/members/register": {"email", "password", "lang", "next", "name"},
    "/api/members/confirm": {"token", "lang", "next"},
    "/api/members/password/reset": {"email", "lang", "next"},
    "/api/members/password/reset/complete": {"new_password", "token", "lang", "next"},
    "/api/members/profile": {"lang", "next", "name"},
    "/api/members/password": {"current_password", "new_password", "lang", "next"},
    "/api/members/email": {"email", "current_password", "lang", "next"},
    "/api/members/email/confirm": {"token", "lang", "next"},
    "/api/members/sessions/end": {"lang"},
    # my page's session template: the fill (or the script) puts the session's id in
    "/api/members/sessions/{id}/end": {"lang"},
    "/api/members/withdraw": {"current_password", "lang", "next"},
    "/api/members/login": {"email", "password", "next"},
    "/api/members/logout": set(),
}


class Forms(HTMLParser):
    """The forms of a page: action, method and the names of their enabled inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.current: dict[str, object] | None = None
        self.scripts: list[dict[str, str | None]] = []
        self.styles = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "style" in a:
            self.styles += 1
        if tag == "style":
            self.styles += 1
        if tag == "script":
            self.scripts.append(a)
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "form":
            self.current = {"action": a.get("action"), "method": a.get("method"), "names": []}
            self.forms.append(self.current)
        if tag in ("input", "select", "textarea", "button") and self.current is not None:
            name = a.get("name")
            if name and "disabled" not in a:
                names = self.current["names"]
                assert isinstance(names, list)
                names.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("member-pages")
    build_site(
        content_dir=ROOT / "content",
        theme_dir=ROOT / "themes" / "default",
        output_dir=tmp / "public",
        meta_dir=tmp / "meta",
    )
    return tmp / "public"


def page(public: Path, url: str) -> str:
    return (public / url / "index.html").read_text(encoding="utf-8")


def parse(text: str) -> Forms:
    forms = Forms()
    forms.feed(text)
    return forms


def all_pages(public: Path) -> list[tuple[str, str, str]]:
    out = [("ja", url, page(public, url)) for url in PAGES]
    out += [("en", "en/" + url, page(public, "en/" + url)) for url in PAGES_EN]
    out += [
        ("ja", "login/", page(public, "login/")),
        ("en", "en/login/", page(public, "en/login/")),
    ]
    return out


def test_every_page_in_both_languages(public: Path) -> None:
    for url, title in PAGES.items():
        text = page(public, url)
        assert '<html lang="ja">' in text and f">{title}</h1>" in text, url
        assert '<meta name="robots" content="noindex">' in text, url
        assert f'href="/en/{url}" hreflang="en"' in text, url  # the other language
    for url, title in PAGES_EN.items():
        text = page(public, "en/" + url)
        assert '<html lang="en">' in text and f">{title}</h1>" in text, url
        assert f'href="/{url}" hreflang="ja"' in text, url
        assert '<input type="hidden" name="lang" value="en">' in text, url
        # no Japanese words on the English pages (the site's name in the header aside)
        main = text.split('<main id="main"', 1)[1].split("</main>", 1)[0]
        assert not re.search(r"[\u3040-\u30ff]", main.replace("日本語", "")), url


def test_forms_post_what_the_members_api_accepts(public: Path) -> None:
    seen: set[str] = set()
    for _lang, url, text in all_pages(public):
        for form in parse(text).forms:
            action, names = str(form["action"]), form["names"]
            assert isinstance(names, list)
            assert form["method"] == "post", (url, action)
            assert action in ACCEPTS, (url, action)
            assert set(names) <= ACCEPTS[action], (url, action, names)  # no unknown_field
            seen.add(action)
            if action not in ("/api/members/login", "/api/members/logout"):
                assert "lang" in names, (url, action)  # the answer comes back in this language
    assert seen == set(ACCEPTS)


def test_no_inline_script_or_style_and_root_relative_links(public: Path) -> None:
    for _, url, text in all_pages(public):
        parsed = parse(text)
        assert parsed.styles == 0, url  # style-src 'self'
        assert all(s.get("src") for s in parsed.scripts), url  # script-src 'self'
        assert {"/theme/js/member.js", "/theme/js/member-forms.js"} <= {
            str(s.get("src")) for s in parsed.scripts
        }, url
        for href in parsed.links:
            assert href.startswith(("/", "#", "https://")), (url, href)


def test_messages_for_every_answer_are_in_the_page(public: Path) -> None:
    expected = {
        "register/": ["done=sent", "error=registration_closed", "error=rate_limited"],
        "register/confirm/": ["done=approval", "error=link_invalid", "error=link_expired",
                              "error=link_used"],
        "mypage/": ["done=saved", "error=not_logged_in", "done=session_ended",
                    "error=session_not_found"],
        "mypage/email/": ["done=sent", "done=changed", "error=email_taken", "error=link_used"],
        "mypage/password/": ["done=changed", "error=password_rules"],
        "password/reset/": ["done=sent", "error=link_expired", "error=password_rules"],
        "withdraw/": ["done=withdrawn"],
        "login/": ["done=confirmed", "done=reset", "done=logged_out"],
    }  # fmt: skip
    for url, keys in expected.items():
        for prefix in ("", "en/"):
            text = page(public, prefix + url)
            assert "<!--kizuna:message-->" in text, url
            for key in keys:
                assert re.search(rf'data-kizuna-message="{key}"[^>]*hidden>[^<]{{8,}}</p>', text), (
                    prefix + url,
                    key,
                )
            if url != "login/":  # the log-in page's errors are member.js's and the gate's
                assert 'data-kizuna-message="error=*"' in text, url


def test_password_rules_next_to_every_new_password(public: Path) -> None:
    count = 0
    for _, url, text in all_pages(public):
        fields = re.findall(r'autocomplete="new-password"', text)
        rules = re.findall(r"data-kizuna-password-rules", text)
        assert len(fields) == len(rules), url
        count += len(fields)
        if fields:
            assert ("8 文字以上" in text) or ("At least 8 characters" in text), url
            for name in re.findall(r'name="(\w+)" autocomplete="new-password"', text):
                for code in ("password_too_short", "password_too_common", "password_personal"):
                    assert f'data-kizuna-field-error="{name}:{code}"' in text, (url, name, code)
    assert count == 6  # register, my password, reset: in two languages


def test_server_side_fill_on_the_built_pages(public: Path) -> None:
    raw = (public / "password" / "reset" / "index.html").read_bytes()
    assert fill(raw, "") is None and fill(raw, "next=/x") is None

    done = fill(raw, "done=sent")
    assert done is not None
    assert b'data-kizuna-message="done=sent" role="status">' in done
    assert re.search(rb'<form [^>]*data-kizuna-step="start" hidden>', done)  # no form after it

    ready = fill(raw, "step=ready&error=password_rules&fields=new_password:password_too_short")
    assert ready is not None
    assert b'data-kizuna-message="error=password_rules" role="alert">' in ready
    assert b'data-kizuna-field-error="new_password:password_too_short">' in ready
    assert re.search(rb'<form [^>]*data-kizuna-step="start" hidden>', ready)
    assert re.search(rb'<form [^>]*data-kizuna-step="ready">', ready)

    # Unknown or hostile codes fall back to the general texts; nothing of the query is copied.
    odd = fill(raw, "error=%3Cscript%3E&fields=new_password:nope,x%22:y")
    assert odd is not None
    assert b'data-kizuna-message="error=*" role="alert">' in odd
    assert b'data-kizuna-field-error="new_password:*">' in odd
    assert b"<script>" not in odd.replace(b"<script src=", b"")
    assert b"nope" not in odd

    confirm = (public / "register" / "confirm" / "index.html").read_bytes()
    used = fill(confirm, "error=link_used")
    assert used is not None and re.search(rb'data-kizuna-step="ready" hidden>', used)
    assert fill(confirm, "step=ready") is None  # the one press, as built

    login = (public / "login" / "index.html").read_bytes()
    confirmed = fill(login, "done=confirmed")
    assert confirmed is not None and b'data-kizuna-message="done=confirmed" role="status">' in (
        confirmed
    )


@pytest.mark.parametrize(
    ("url", "name"),
    [("register/", "register.html"), ("en/password/reset/", "password-reset-en.html")],
)
def test_golden_member_pages(public: Path, url: str, name: str) -> None:
    text = page(public, url)
    path = GOLDEN / name
    if os.environ.get("KIZUNA_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


# --- [pages] of site.toml: the member pages' URLs ----------------------------------------------


def _config(pages: object) -> object:
    from pipeline.config import parse_site_config

    data = {"site": {"name": "サイト", "name_en": "Site", "url": "https://example.jp"}}
    if pages is not None:
        data["pages"] = pages  # type: ignore[assignment]
    return parse_site_config(data, path=Path("content/site.toml"))


def test_pages_config_defaults_and_checks() -> None:
    from pipeline.config import MEMBER_PAGE_DEFAULTS, ConfigError

    assert _config(None).pages == MEMBER_PAGE_DEFAULTS  # type: ignore[attr-defined]
    moved = _config({"register": "/join/", "mypage": "/members-area/me/"})
    assert moved.pages["register"] == "/join/"  # type: ignore[attr-defined]
    assert moved.pages["withdraw"] == "/withdraw/"  # type: ignore[attr-defined]
    for bad, words in [
        ({"signup": "/join/"}, "unknown key pages.signup"),
        ({"register": "join"}, "starts and ends with /"),
        ({"register": "/Join/"}, "lowercase"),
        ({"register": "/api/join/"}, "cannot start with /api/"),
        ({"register": "/en/join/"}, "cannot start with /en/"),
        ({"register": "/withdraw/"}, "are both '/withdraw/'"),
        ("/join/", "must be a table"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(words)):
            _config(bad)


def test_pages_moved_by_site_toml(tmp_path: Path) -> None:
    import json
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    toml = content / "site.toml"
    toml.write_text(
        toml.read_text("utf-8") + '\n[pages]\nregister = "/join/"\npassword_reset = "/forgot/"\n',
        "utf-8",
    )
    build_site(
        content_dir=content,
        theme_dir=ROOT / "themes" / "default",
        output_dir=tmp_path / "public",
        meta_dir=tmp_path / "meta",
    )
    public = tmp_path / "public"
    assert (public / "join" / "index.html").exists() and (public / "en" / "join").is_dir()
    assert (public / "forgot" / "index.html").exists()
    assert not (public / "register" / "index.html").exists()
    assert (public / "register" / "confirm" / "index.html").exists()  # not moved
    manifest = json.loads((tmp_path / "meta" / "access.json").read_text("utf-8"))
    assert manifest["pages"]["register"] == "/join/"
    assert manifest["pages_by_lang"]["en"]["password_reset"] == "/en/forgot/"
    assert manifest["entries"]["/en/join/"]["kind"] == "special"
    login = (public / "login" / "index.html").read_text("utf-8")
    assert 'href="/join/"' in login and 'href="/forgot/"' in login
    assert 'href="/en/join/" hreflang="en"' in (public / "join" / "index.html").read_text("utf-8")
