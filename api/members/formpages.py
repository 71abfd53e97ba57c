"""The member forms' live settings without JavaScript: what the built pages cannot know.

The theme's pages are built once, but what some of their forms ask is a live setting that
staff change in the admin: member-forms.js reads it from the API; without JavaScript the gate
asks :meth:`FormPages.personalise` for these pages (any language, any URL the build gave them),
which fills, in the page's own language (``data-lang``):

- ``/register/``: between ``<!--kizuna:register-fields-->`` and
  ``<!--/kizuna:register-fields-->``, the fields the site asks (``member.registration_fields``)
  as controls for their types, with ``required`` / ``maxlength`` from the field's rules and
  their hidden error texts — the markup of my page (``mypage.render_field``), which is the
  markup member-forms.js builds; while registration is closed, the page's
  ``error=registration_closed`` message is shown and its form hidden, as the script does;
- every new-password field (``/register/``, ``/mypage/password/``, ``/password/reset/``): the
  site's password rules (``rules.describe``: the always-on ones and the composition rules the
  site turned on) in the list ``data-kizuna-password-rules``, and their minimum length as the
  input's ``minlength``;
- for a logged-in member, the header's log-in state (``header.fill_header``), as on every
  gated page and my page.

The page is marked ``data-kizuna-filled="settings"``, so member-forms.js keeps this markup
instead of rendering the same from the API (a visitor typing meanwhile would lose it). The
answer is sent ``private, no-store`` (a setting changed in the admin shows at the next
request). The settings are read per request (one small read); the filled bytes are kept per
page and settings, so a page is not rendered twice for the same settings. Every value is
HTML-escaped. No Litestar here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from api.access.pages import fill as fill_messages
from api.members import rules, site
from api.members.header import MemberHeader, fill_header
from api.members.mypage import Personal, error_texts, page_lang, render_field
from api.members.site import FieldOut

if TYPE_CHECKING:
    from api.runtime import Runtime

MEMO_LIMIT = 256

_FIELDS = re.compile(rb"(<!--kizuna:register-fields-->).*?(<!--/kizuna:register-fields-->)", re.S)
_RULES = re.compile(rb"(<ul\b[^>]*\bdata-kizuna-password-rules\b[^>]*>).*?(</ul>)", re.S)
_MIN_LENGTH = re.compile(rb'(<input\b[^>]*\bautocomplete="new-password"[^>]*?\bminlength=")\d+"')
_STEP_FORM = re.compile(rb"(<form\b[^>]*\bdata-kizuna-step=\"[a-z]+\")")
_PAGE = re.compile(rb'(data-kizuna-page="[^"]*")')


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fill_rules(body: bytes, described: Mapping[str, Any], lang: str) -> bytes:
    """Every new-password field's rule list and ``minlength`` from the site's rules."""
    items = "".join(
        f'<li data-code="{_e(rule.get("code") or "")}">'
        f"{_e(rule.get(lang) or rule.get('ja') or rule.get('code') or '')}</li>"
        for rule in described.get("rules", ())
    ).encode()
    out = _RULES.sub(lambda m: m.group(1) + items + m.group(2), body)
    least = int(described.get("min_length") or 0)
    if least:
        out = _MIN_LENGTH.sub(lambda m: m.group(1) + str(least).encode() + b'"', out)
    return out


def fill_registration(body: bytes, fields: Sequence[FieldOut], mode: str, lang: str) -> bytes:
    """The registration form's asked fields; closed: the message shown, the form hidden."""
    texts = error_texts(body)
    markup = "".join(render_field(f, None, lang, "register", texts) for f in fields).encode()
    out = _FIELDS.sub(lambda m: m.group(1) + markup + m.group(2), body, count=1)
    if mode == "closed":  # marked for member-forms.js, which shows the same
        out = _PAGE.sub(lambda m: m.group(1) + b' data-kizuna-registration="closed"', out, 1)
        out = fill_messages(out, "error=registration_closed") or out
        out = _STEP_FORM.sub(lambda m: m.group(1) + b" hidden", out)
    return out


class FormPages:
    """The gate's personaliser of the pages whose forms depend on live settings
    (``api.access.gate.Personaliser``)."""

    pages = frozenset({"register", "mypage_password", "password_reset"})

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._header = MemberHeader(runtime)
        self._memo: dict[tuple[bytes, str], bytes] = {}

    def _settings(self, name: str) -> tuple[dict[str, Any], list[FieldOut], str]:
        with self.runtime.db.read() as session:
            if name == "register":
                form = site.registration_form(session)
                return form["password"], list(form["fields"]), str(form["mode"])
            return rules.describe(rules.member_policy(session)), [], "open"

    def fill(self, name: str, body: bytes) -> bytes:
        """The page for the settings of now (kept per page and settings)."""
        described, fields, mode = self._settings(name)
        key = (body, repr((name, described, fields, mode)))
        found = self._memo.get(key)
        if found is None:
            lang = page_lang(body)
            # member-forms.js keeps what the server filled (it would render the same).
            found = _PAGE.sub(lambda m: m.group(1) + b' data-kizuna-filled="settings"', body, 1)
            found = fill_rules(found, described, lang)
            if name == "register":
                found = fill_registration(found, fields, mode, lang)
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found

    async def personalise(self, name: str, body: bytes, cookies: Mapping[str, str]) -> Personal:
        out = await anyio.to_thread.run_sync(self.fill, name, body)
        identity = await self.runtime.member_auth.identify(cookies)
        if identity.member is not None:  # the page is private anyway: the member's header
            shown = await self._header.name_of(identity.member)
            if shown is not None:
                out = fill_header(out, shown)
        return Personal(out, list(identity.set_cookies))
