"""The header's log-in state without JavaScript: one place that writes it into a built page.

The theme's header (themes/default/templates/base.html) carries, between
``<!--kizuna:member-nav-->`` and ``<!--/kizuna:member-nav-->``, the anonymous state: the log-in
link, and the log-out form ``hidden`` with an empty ``data-kizuna-member-name``. member.js
shows a logged-in member from ``GET /api/members/me``; without JavaScript:

- public pages stay as built (cacheable, the same bytes for everyone): the log-in link only;
- :func:`fill_header` writes a member's state (the name, "log out", no log-in link) — my page
  (``api.members.mypage``) and :class:`MemberHeader`, which the gate asks for
  - every gated HTML page it sends a member (already ``private, no-store``): only the marked
    region is filled (a few substitutions in about 700 bytes, the rest of the page is copied);
  - the log-in page when the visitor is a logged-in member (:func:`fill_login`): "ログイン中:
    name さん", log out and a link to my page instead of the log-in form.

The name is the member's label as ``GET /api/members/me`` gives it, from the profile cache of
``runtime.member_auth`` (read once per member and kept until the member changes): no database
read per request. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING

from api.access.rules import Member

if TYPE_CHECKING:
    from api.runtime import Runtime

log = logging.getLogger("kizuna.members.header")

NAV_START = b"<!--kizuna:member-nav-->"
NAV_END = b"<!--/kizuna:member-nav-->"

_NAV = re.compile(rb'(<div\b[^>]*\bdata-kizuna-member(?=[\s>])[^>]*?\bdata-state=")[a-z]*(")')
_NAV_LANG = re.compile(rb'\bdata-kizuna-member\b[^>]*\bdata-lang="([a-z]{2})"')
_NAV_LOGIN = re.compile(rb'(<a class="member-nav__login"[^>]*?)>')
_NAV_LOGOUT = re.compile(rb'(<form class="member-nav__logout"[^>]*?) hidden(?:="")?(?=[\s>])')
_NAV_NAME = re.compile(rb"(<span\b[^>]*\bdata-kizuna-member-name\b[^>]*>)(</span>)")
# The log-in page (login.html): the card for a logged-in member, and the log-in form's part.
_LOGIN_MEMBER = re.compile(
    rb"(<div\b[^>]*\bdata-kizuna-login-member\b[^>]*?) hidden(?:=\"\")?(?=[\s>])"
)
_LOGIN_NAME = re.compile(rb"(<(\w+)\b[^>]*\bdata-kizuna-login-member-name\b[^>]*>)(</\2>)")
_LOGIN_FORM = re.compile(rb"(<div\b[^>]*\bdata-kizuna-login-anonymous\b)")

MEMO_LIMIT = 10_000


def greeting(name: str, lang: str) -> str:
    """The name as the header shows it (member.js's ``greeting``): 山田 太郎 さん / Taro Yamada."""
    return f"{name} さん" if lang == "ja" else name


def nav_lang(body: bytes) -> str:
    found = _NAV_LANG.search(body)
    return "en" if found and found.group(1) == b"en" else "ja"


def fill_header(body: bytes, name: str, lang: str | None = None) -> bytes:
    """``body`` (a page, or only its marked header region) with the header as member.js shows
    a logged-in member: ``data-state="member"``, the name (escaped), log-out, no log-in link."""
    lang = lang or nav_lang(body)
    text = html.escape(greeting(name, lang), quote=True).encode()
    out = _NAV.sub(lambda m: m.group(1) + b"member" + m.group(2), body, count=1)
    out = _NAV_LOGIN.sub(lambda m: m.group(1) + b" hidden>", out, count=1)
    out = _NAV_LOGOUT.sub(lambda m: m.group(1), out, count=1)
    return _NAV_NAME.sub(lambda m: m.group(1) + text + m.group(2), out, count=1)


def fill_login(body: bytes, name: str) -> bytes:
    """The log-in page for a member who is logged in already: the header filled, "ログイン中:
    name さん" with log out and my page shown, the log-in form hidden."""
    out = fill_header(body, name)
    text = html.escape(greeting(name, nav_lang(body)), quote=True).encode()
    out = _LOGIN_MEMBER.sub(lambda m: m.group(1), out, count=1)
    out = _LOGIN_NAME.sub(lambda m: m.group(1) + text + m.group(3), out, count=1)
    return _LOGIN_FORM.sub(lambda m: m.group(1) + b" hidden", out, count=1)


def display_name(profile: dict[str, object] | None) -> str | None:
    """The member's name as ``/me`` gives it (its label, else the address); None: not active."""
    if profile is None:
        return None
    return str(profile.get("name") or "") or str(profile.get("email") or "") or None


class MemberHeader:
    """The gate's header filler (``api.access.gate.HeaderFiller``), declared with my page in
    the members domain's ``page_fillers``."""

    member_pages = frozenset({"login"})  # theme pages shown otherwise to a logged-in member

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._memo: dict[tuple[bytes, str], bytes] = {}

    async def name_of(self, member: Member) -> str | None:
        if member.id is None or not member.active:
            return None
        try:
            found = await self.runtime.member_auth.profile(member.id)
        except Exception:  # the database away: the page is still sent, its header as built
            log.warning("member %s: no name for the header", member.id, exc_info=True)
            return None
        return display_name(found)

    async def member_header(self, region: bytes, member: Member) -> bytes | None:
        """The marked header region as ``member`` sees it; None: leave it as built."""
        name = await self.name_of(member)
        if name is None:
            return None
        key = (region, name)  # the build's own region object: its hash is computed once
        filled = self._memo.get(key)
        if filled is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            filled = self._memo[key] = fill_header(region, name)
        return filled

    async def member_page(self, name: str, body: bytes, member: Member) -> bytes | None:
        """A theme page of :attr:`member_pages` as ``member`` sees it; None: as built."""
        shown = await self.name_of(member)
        if shown is None or name != "login":
            return None
        return fill_login(body, shown)
