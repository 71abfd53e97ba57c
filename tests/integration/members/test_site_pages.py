"""Where the member site's form posts go back to (issue 18, part 6): the page in the form's
language, at the URL the last build wrote it (`pages_by_lang` of site/meta/access.json, moved
by `[pages]` of site.toml), or the default URLs without a build."""

from __future__ import annotations

import json

from litestar import Litestar
from litestar.testing import TestClient

from api.runtime import Runtime
from tests.integration.members.conftest import Members
from tests.integration.members.site_helpers import FORM, configure


def write_pages(runtime: Runtime, register: str, reset: str) -> None:
    meta = runtime.settings.meta_dir
    meta.mkdir(parents=True, exist_ok=True)
    pages = {"ja": {"register": register, "password_reset": reset},
             "en": {"register": "/en" + register, "password_reset": "/en" + reset}}  # fmt: skip
    data = {"version": 1, "fields": [], "pages": pages["ja"], "pages_by_lang": pages}
    (meta / "access.json").write_text(json.dumps(data), "utf-8")
    runtime.member_auth.fields.refresh(force=True)


def post(client: TestClient[Litestar], path: str, **form: str) -> str:
    response = client.post(path, data=form, headers=FORM, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_forms_go_back_to_their_language_and_the_built_urls(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    configure(runtime, **{"member.registration": "open"})
    # Without a build: the defaults, /en/ for English.
    assert post(client, "/api/members/password/reset", email="a@example.jp") == (
        "/password/reset/?done=sent"
    )
    assert post(client, "/api/members/password/reset", email="a@example.jp", lang="en") == (
        "/en/password/reset/?done=sent"
    )
    # A build that moved the pages.
    write_pages(runtime, "/join/", "/forgot/")
    assert post(client, "/api/members/password/reset", email="b@example.jp", lang="ja") == (
        "/forgot/?done=sent"
    )
    assert post(client, "/api/members/register", email="bad", password="x", lang="en").startswith(
        "/en/join/?error=validation_failed&fields="
    )
    # A page the manifest does not name keeps its default URL.
    assert (
        post(client, "/api/members/confirm", lang="en")
        == "/en/register/confirm/?error=link_invalid"
    )
