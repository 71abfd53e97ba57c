"""My page without JavaScript (issue 18, part 6): the theme's ``/mypage/`` filled for the
member who asks it, and the profile form read back.

The gate (``api.access.gate``) serves the built page; for the pages of :attr:`MyPage.pages` it
asks :meth:`MyPage.personalise` first, which fills, in the page's own language
(``data-lang``), what themes/default/templates/mypage.html marks:

- the lead ``data-kizuna-member-email``: "ログイン中: <address>";
- between ``<!--kizuna:profile-fields-->`` and ``<!--/kizuna:profile-fields-->``: one control
  per member-editable field (``member.editable_fields``) for its type, with the current value,
  ``required`` / ``maxlength`` from the field's rules, labels and choices in the page's
  language, and the field's error texts (copied from ``<template
  data-kizuna-field-error-texts>``, hidden, for ``api.access.pages.fill`` to reveal); the
  other registration fields as a read-only list;
- between ``<!--kizuna:sessions-->`` and ``<!--/kizuna:sessions-->``: the page's
  ``<template data-kizuna-session-template>`` once per live session (device, last used, IP,
  "this device"), its form posting to ``/api/members/sessions/{id}/end``;
- the header's log-in state (the name and "log out", no "log in"), as member.js shows it
  (``api.members.header.fill_header``, as on every gated page);
- ``data-kizuna-filled="member"`` on the page, so member-forms.js keeps this markup (and builds
  the same when it renders the answer of a JSON save itself), and ``data-kizuna-time-zone``
  (the site's zone, in which a ``datetime-local`` value is shown and read back).

An anonymous visitor (or one whose account is no longer active) gets the page with its
"please log in" message shown, the member sections hidden and ``data-kizuna-filled=
"anonymous"``. Every value is HTML-escaped; nothing of the request is copied into the page.
The answer depends on the cookies: the gate sends it ``private, no-store``.

``site.form_values`` reads a plain form post of the profile form back (a multi-select's
checkboxes as a list, a boolean's checkbox over its hidden ``false``). No Litestar here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import anyio.to_thread

from api.errors import KizunaError
from api.livesettings import services as live
from api.members import site
from api.members.header import fill_header
from api.members.site import FieldOut

if TYPE_CHECKING:
    from api.runtime import Runtime

WORDS = {  # as member-forms.js's WORDS
    "ja": {"optional": "（任意）", "yes": "はい", "choose": "選んでください",
           "unknown": "不明な端末", "never": "—", "logged_in_as": "ログイン中: "},
    "en": {"optional": "(optional)", "yes": "Yes", "choose": "Choose…",
           "unknown": "Unknown device", "never": "—", "logged_in_as": "Logged in as "},
}  # fmt: skip
INPUT_TYPES = {
    "email": "email",
    "phone": "tel",
    "url": "url",
    "integer": "number",
    "decimal": "number",
    "date": "date",
    "datetime": "datetime-local",
}
AUTOCOMPLETE = {"name": "name", "phone": "tel", "postal_code": "postal-code"}
TOKYO = ZoneInfo("Asia/Tokyo")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_LANG = re.compile(rb'data-kizuna-page="[^"]*"[^>]*?\bdata-lang="([a-z]{2})"')
_PAGE = re.compile(rb'(data-kizuna-page="[^"]*")')
_LEAD = re.compile(rb"(<p\b[^>]*\bdata-kizuna-member-email\b[^>]*?) hidden(?:=\"\")?(\s*>)\s*</p>")
_FIELDS = re.compile(rb"(<!--kizuna:profile-fields-->).*?(<!--/kizuna:profile-fields-->)", re.S)
_SESSIONS = re.compile(rb"(<!--kizuna:sessions-->).*?(<!--/kizuna:sessions-->)", re.S)
_SESSION_LIST = re.compile(rb"(<ul\b[^>]*\bdata-kizuna-sessions\b[^>]*?) hidden(?:=\"\")?(?=[\s>])")
_SESSION_TEMPLATE = re.compile(
    rb"<template\b[^>]*\bdata-kizuna-session-template\b[^>]*>(.*?)</template>", re.S
)
_ERROR_TEXT = re.compile(
    rb'<span\b[^>]*\bdata-kizuna-field-error="\*:([a-z_*]+)"[^>]*>(.*?)</span>', re.S
)
_PROFILE_FORM = re.compile(rb'(<form\b[^>]*\bdata-kizuna-form="profile")')
_ANONYMOUS = re.compile(rb'(data-kizuna-when="anonymous"[^>]*?) hidden(?:="")?(?=[\s>])')
_SECTION = re.compile(rb'<section class="member-section"')


@dataclass(frozen=True)
class View:
    """What my page shows: from ``site.my_profile`` and ``site.my_sessions``."""

    email: str
    fields: list[FieldOut]
    values: dict[str, Any]
    sessions: list[dict[str, Any]] = field(default_factory=list)
    zone: ZoneInfo = TOKYO


# ------------------------------------------------------------------ words


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _label(label: Mapping[str, str] | None, lang: str, fallback: str) -> str:
    label = label or {}
    return label.get(lang) or label.get("ja") or fallback


def choice_label(f: FieldOut, value: Any, lang: str) -> str:
    for choice in f.choices:
        if choice.get("value") == value:
            return _label(choice.get("label"), lang, str(value))
    return str(value)


def agent_name(user_agent: str | None, lang: str) -> str:
    """A browser and system name from a User-Agent (as member-forms.js's ``agentName``)."""
    ua = user_agent or ""
    if not ua:
        return WORDS[lang]["unknown"]
    browser = (
        "Edge" if "Edg/" in ua else "Firefox" if "Firefox/" in ua
        else "Chrome" if re.search(r"Chrom(e|ium)/", ua) else "Safari" if "Safari/" in ua else ""
    )  # fmt: skip
    system = (
        "iOS" if re.search(r"iPhone|iPad", ua) else "Android" if "Android" in ua
        else "Windows" if "Windows" in ua else "macOS" if "Mac OS X" in ua
        else "Linux" if "Linux" in ua else ""
    )  # fmt: skip
    return " / ".join(x for x in (browser, system) if x) or ua[:60]


def when(value: datetime | None, lang: str, zone: ZoneInfo) -> str:
    """A time in the site's zone: 2026年11月29日 18:25 / 29 Nov 2026, 18:25."""
    if value is None:
        return WORDS[lang]["never"]
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    t = value.astimezone(zone)
    if lang == "en":
        return f"{t.day} {MONTHS[t.month - 1]} {t.year}, {t.hour:02d}:{t.minute:02d}"
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"


def _shown(f: FieldOut, value: Any, lang: str) -> str:
    words = WORDS[lang]
    if value is None or value == "" or value == []:
        return words["never"]
    if f.type == "select":
        return choice_label(f, value, lang)
    if isinstance(value, list):
        return ", ".join(choice_label(f, v, lang) for v in value)
    if value is True:
        return words["yes"]
    if value is False:
        return "—"
    return str(value)


# ------------------------------------------------------------------ the profile form


def _attrs(pairs: Iterable[tuple[str, Any]]) -> str:
    """`` name="value"`` for each pair; ``True`` → the bare attribute, ``None``/``False`` → none."""
    out = []
    for name, value in pairs:
        if value is None or value is False:
            continue
        out.append(f" {name}" if value is True else f' {name}="{_e(value)}"')
    return "".join(out)


def local_datetime(value: str, zone: ZoneInfo) -> str:
    """A stored date and time (ISO 8601) as ``datetime-local`` wants it, in the site's zone —
    where the value typed back is read (api/fields)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value[:16]
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone)
    return parsed.strftime("%Y-%m-%dT%H:%M")


def _control(f: FieldOut, value: Any, control_id: str, lang: str, zone: ZoneInfo) -> str:
    words = WORDS[lang]
    described = f"{control_id}-errors"
    required = f.required and f.type != "boolean"
    if f.type == "select":
        choices = list(f.choices)
        if value not in (None, "") and all(c.get("value") != value for c in choices):
            choices.append({"value": value, "label": {}})  # a retired choice it still has
        options = [f'<option value="">{_e(words["choose"])}</option>']
        for c in choices:
            chosen = _attrs([("value", c.get("value")), ("selected", c.get("value") == value)])
            text = _e(_label(c.get("label"), lang, str(c.get("value"))))
            options.append(f"<option{chosen}>{text}</option>")
        attrs = _attrs([("class", "auth-form__input"), ("id", control_id), ("name", f.key),
                        ("data-kizuna-nullable", True), ("required", required),
                        ("aria-describedby", described)])  # fmt: skip
        return f"<select{attrs}>{''.join(options)}</select>"
    if f.type == "multi_select":
        picked = value if isinstance(value, list) else []
        boxes = []
        for c in f.choices:
            ticked = c.get("value") in picked
            attrs = _attrs([("type", "checkbox"), ("name", f.key), ("value", c.get("value")),
                            ("data-kizuna-multi", True), ("checked", ticked)])  # fmt: skip
            boxes.append(
                f"<label><input{attrs}> {_e(_label(c.get('label'), lang, str(c.get('value'))))}"
                "</label>"
            )
        # Nothing ticked still says "this field, empty" to a plain form post.
        empty = f'<input type="hidden" name="{_e(f.key)}" value="" data-kizuna-form-default>'
        return f'<div class="member-choices" id="{_e(control_id)}">{"".join(boxes)}{empty}</div>'
    if f.type == "boolean":
        attrs = _attrs([("type", "checkbox"), ("id", control_id), ("name", f.key),
                        ("value", "true"), ("checked", value is True),
                        ("aria-describedby", described)])  # fmt: skip
        # Unticked, a plain form sends only the hidden "false" (a ticked box comes first).
        return (f'<input{attrs}><input type="hidden" name="{_e(f.key)}" value="false" '
                "data-kizuna-form-default>")  # fmt: skip
    common = [("class", "auth-form__input"), ("id", control_id), ("name", f.key)]
    limits = [("required", required), ("maxlength", f.max_length or None),
              ("aria-describedby", described)]  # fmt: skip
    text = "" if value is None else str(value)
    if f.type == "long_text":
        return f"<textarea{_attrs([*common, ('rows', 4), *limits])}>{_e(text)}</textarea>"
    kind = INPUT_TYPES.get(f.type, "text")
    if f.type == "datetime" and text:
        text = local_datetime(text, zone)
    extra = [
        ("step", "any" if f.type == "decimal" else None),
        ("value", text if text else None),
        ("data-kizuna-nullable", f.type not in ("text", "email")),
        ("autocomplete", AUTOCOMPLETE.get(f.key) or AUTOCOMPLETE.get(f.type)),
    ]
    return f"<input{_attrs([*common, ('type', kind), *extra, *limits])}>"


def error_texts(body: bytes) -> list[tuple[str, str]]:
    """The page's field-error words: ``(code, escaped text)`` of its
    ``data-kizuna-field-error-texts`` template."""
    return [(m.group(1).decode(), m.group(2).decode()) for m in _ERROR_TEXT.finditer(body)]


def render_field(
    f: FieldOut,
    value: Any,
    lang: str,
    page: str,
    texts: Sequence[tuple[str, str]],
    zone: ZoneInfo = TOKYO,
) -> str:
    """One editable field as member-forms.js's ``renderFields`` builds it."""
    control_id = f"f-{page}-{f.key}"
    optional = (
        "" if f.required
        else f'<span class="member-field__optional"> {_e(WORDS[lang]["optional"])}</span>'
    )  # fmt: skip
    tag = "span" if f.type == "multi_select" else "label"
    target = "" if tag == "span" else f' for="{_e(control_id)}"'
    text = _e(_label(f.label, lang, f.key))
    label = f'<{tag} class="auth-form__label"{target}>{text}{optional}</{tag}>'
    errors = "".join(
        f'<span class="member-field__error" data-kizuna-field-error="{_e(f.key)}:{_e(code)}" '
        f"hidden>{text}</span>"  # the theme's own words, already escaped
        for code, text in texts
    )
    return (
        f'<div class="auth-form__field member-field" data-kizuna-field="{_e(f.key)}">{label}'
        f"{_control(f, value, control_id, lang, zone)}"
        f'<span class="member-field__errors" id="{_e(control_id)}-errors" '
        f'data-kizuna-errors-for="{_e(f.key)}">{errors}</span></div>'
    )


def render_fields(view: View, lang: str, texts: Sequence[tuple[str, str]]) -> str:
    editable = [f for f in view.fields if f.editable]
    fixed = [f for f in view.fields if not f.editable]
    out = [
        render_field(f, view.values.get(f.key), lang, "mypage", texts, view.zone) for f in editable
    ]
    if fixed:
        items = "".join(
            f"<dt>{_e(_label(f.label, lang, f.key))}</dt>"
            f"<dd>{_e(_shown(f, view.values.get(f.key), lang))}</dd>"
            for f in fixed
        )
        out.append(f'<dl class="member-readonly">{items}</dl>')
    return "".join(out)


# ------------------------------------------------------------------ the sessions


def _slot(markup: str, name: str, text: str) -> str:
    """The text into the empty element ``data-kizuna-session-<name>``."""
    pattern = re.compile(r"(<(\w+)\b[^>]*\bdata-kizuna-session-" + name + r"\b[^>]*>)(</\2>)")
    return pattern.sub(lambda m: m.group(1) + _e(text) + m.group(3), markup, count=1)


def render_session(template: str, one: Mapping[str, Any], lang: str, zone: ZoneInfo) -> str:
    item = template.strip()
    item = item.replace('data-session=""', f'data-session="{_e(one["id"])}"', 1)
    item = _slot(item, "agent", agent_name(one.get("user_agent"), lang))
    item = _slot(item, "used", when(one.get("last_used_at") or one.get("created_at"), lang, zone))
    item = _slot(item, "ip", one.get("ip") or WORDS[lang]["never"])
    if one.get("current"):
        item = re.sub(r"(data-kizuna-session-current\b[^>]*?) hidden(?:=\"\")?(?=[\s>])",
                      r"\1", item, count=1)  # fmt: skip
    return item.replace("{id}", _e(quote(str(one["id"]), safe="")), 1)


# ------------------------------------------------------------------ the page


def page_lang(body: bytes) -> str:
    found = _LANG.search(body)
    return "en" if found and found.group(1) == b"en" else "ja"


def fill_member(body: bytes, view: View, lang: str | None = None) -> bytes:
    """My page for the member of ``view``."""
    lang = lang or page_lang(body)
    # The site's zone, for the script's own rendering of a date and time (after a save).
    marks = f' data-kizuna-filled="member" data-kizuna-time-zone="{_e(view.zone.key)}"'.encode()
    out = _PAGE.sub(lambda m: m.group(1) + marks, body, count=1)
    # The header's log-in state, as on every gated page (api.members.header).
    out = fill_header(out, str(view.values.get("name") or "") or view.email, lang)
    lead = _e(WORDS[lang]["logged_in_as"] + view.email).encode()
    out = _LEAD.sub(lambda m: m.group(1) + m.group(2) + lead + b"</p>", out, count=1)
    fields = render_fields(view, lang, error_texts(body)).encode()
    out = _FIELDS.sub(lambda m: m.group(1) + fields + m.group(2), out, count=1)
    if not any(f.editable for f in view.fields):
        out = _PROFILE_FORM.sub(lambda m: m.group(1) + b" hidden", out, count=1)
    template = _SESSION_TEMPLATE.search(body)
    if template is not None and view.sessions:
        markup = template.group(1).decode()
        items = "".join(render_session(markup, s, lang, view.zone) for s in view.sessions)
        out = _SESSIONS.sub(lambda m: m.group(1) + items.encode() + m.group(2), out, count=1)
        out = _SESSION_LIST.sub(lambda m: m.group(1), out, count=1)
    return out


def fill_anonymous(body: bytes) -> bytes:
    """My page for a visitor who is not logged in: the "please log in" message, no sections."""
    out = _PAGE.sub(lambda m: m.group(1) + b' data-kizuna-filled="anonymous"', body, count=1)
    out = _ANONYMOUS.sub(lambda m: m.group(1), out)
    return _SECTION.sub(b'<section class="member-section" hidden', out)


# ------------------------------------------------------------------ reading


def view_of(session: Any, record_id: int, session_id: str | None) -> View:
    """The member's page (``Unauthenticated`` when the account is not active)."""
    profile = site.my_profile(session, record_id)
    return View(
        email=str(profile["email"] or ""),
        fields=list(profile["fields"]),
        values=dict(profile["values"]),
        sessions=site.my_sessions(session, record_id, session_id),
        zone=live.site_time_zone(session),
    )


@dataclass(frozen=True)
class Personal:
    body: bytes
    set_cookies: list[Any]  # litestar Cookie objects (a renewed access token)


class MyPage:
    """The gate's personaliser of my page (``api.access.gate.Personaliser``)."""

    pages = frozenset({"mypage"})

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def personalise(self, name: str, body: bytes, cookies: Mapping[str, str]) -> Personal:
        identity = await self.runtime.member_auth.identify(cookies)
        member = identity.member
        if member is None or member.id is None:
            return Personal(fill_anonymous(body), list(identity.set_cookies))
        record_id, session_id = member.id, identity.session_id

        def read() -> View | None:
            with self.runtime.db.read() as session:
                try:
                    return view_of(session, record_id, session_id)
                except KizunaError:  # no longer active, or no member table
                    return None

        view = await anyio.to_thread.run_sync(read)
        if view is None:
            return Personal(fill_anonymous(body), list(identity.set_cookies))
        return Personal(fill_member(body, view), list(identity.set_cookies))
