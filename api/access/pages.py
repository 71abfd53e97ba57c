"""The member pages' messages without JavaScript: a server-side fill of a built theme page.

The theme's member pages (``/register/``, ``/mypage/``…, and ``/login/``'s ``?done=``) ship
every message they may need, hidden, keyed like the server's redirect query
(themes/default/README.md, "Member pages"):

- ``<p … data-kizuna-message="done=sent" … hidden>`` / ``"error=rate_limited"`` / ``"error=*"``
- ``<span … data-kizuna-field-error="new_password:password_too_short" hidden>`` / ``"email:*"``
- ``<form … data-kizuna-step="start|ready">`` for the forms of a page's steps.

``fill(body, query)`` does to the bytes what the page's script does in the browser: it removes
``hidden`` from the messages the query names (``done``, ``error``, ``fields``; an unknown code
falls back to ``error=*`` / ``<field>:*``) and hides the forms that are not for this step. Only
attributes the theme wrote are touched and nothing from the query is copied into the page, so
nothing needs escaping. The gate calls it when it serves one of the manifest's member pages with
a query (``None``: nothing to change, send the cached bytes).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

_MESSAGE = re.compile(rb'(data-kizuna-message="([^"]*)"[^>]*?) hidden(?:="")?(?=[\s>])')
_FIELD_ERROR = re.compile(rb'(data-kizuna-field-error="([^"]*)"[^>]*?) hidden(?:="")?(?=[\s>])')
_STEP = re.compile(rb'(<form\b[^>]*\bdata-kizuna-step="(start|ready)")')
_KEY = re.compile(r"[a-z0-9_*]{1,64}")
_NEXT_INPUT = re.compile(rb"<input\b[^>]*\bname=\"next\"[^>]*>", re.IGNORECASE)
_VALUE_ATTR = re.compile(rb"\bvalue=\"[^\"]*\"", re.IGNORECASE)
_FIELD = re.compile(r"[a-z0-9_]{1,64}")


def _keys(query: str) -> tuple[set[str], set[str], str | None, bool]:
    params = dict(parse_qsl(query, keep_blank_values=True))
    messages: set[str] = set()
    done, error = params.get("done"), params.get("error")
    if done and _KEY.fullmatch(done):
        messages.add(f"done={done}")
    if error and _KEY.fullmatch(error):
        messages.add(f"error={error}")
    elif error:
        messages.add("error=*")
    fields: set[str] = set()
    for pair in (params.get("fields") or "").split(",")[:20]:
        field, _, code = pair.partition(":")
        if _FIELD.fullmatch(field) and _KEY.fullmatch(code):
            fields.add(f"{field}:{code}")
    return messages, fields, params.get("step"), bool(done)


def fill(body: bytes, query: str | bytes) -> bytes | None:
    """The page with the query's messages shown and the step's form alone; ``None`` when the
    query names nothing the page knows."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    messages, fields, step, done = _keys(text)
    if not messages and not fields and step != "ready":
        return None
    present_messages = {m.group(2).decode() for m in _MESSAGE.finditer(body)}
    shown = {m for m in messages if m in present_messages}
    for key in messages - shown:
        if key.startswith("error=") and "error=*" in present_messages:
            shown.add("error=*")
    present_fields = {m.group(2).decode() for m in _FIELD_ERROR.finditer(body)}
    shown_fields: set[str] = set()
    for key in fields:
        if key in present_fields:
            shown_fields.add(key)
        elif f"{key.partition(':')[0]}:*" in present_fields:
            shown_fields.add(f"{key.partition(':')[0]}:*")

    def reveal(keys: set[str]) -> Callable[[re.Match[bytes]], bytes]:
        def one(match: re.Match[bytes]) -> bytes:
            return match.group(1) if match.group(2).decode() in keys else match.group(0)

        return one

    out = _MESSAGE.sub(reveal(shown), body)
    out = _FIELD_ERROR.sub(reveal(shown_fields), out)
    steps = [m.group(2) for m in _STEP.finditer(out)]
    has_start = b"start" in steps
    error = any(k.startswith("error=") for k in messages)

    def step_form(match: re.Match[bytes]) -> bytes:
        this = match.group(2)
        if done:
            visible = False
        elif step == "ready":
            visible = this == b"ready"
        elif has_start:
            visible = this == b"start"
        else:
            visible = not error
        return match.group(1) if visible else match.group(1) + b" hidden"

    out = _STEP.sub(step_form, out)
    return out if out != body else None


def fill_next(body: bytes, target: str) -> bytes | None:
    """The login page with ``target`` (a path already found safe) as the value of its hidden
    ``next`` input, HTML-escaped; ``None`` when the page has no such input. The gate's fill
    and "view as" (api/access/staff.py) both use it."""
    match = _NEXT_INPUT.search(body)
    if match is None:
        return None
    value = b'value="' + html.escape(target, quote=True).encode() + b'"'
    tag = match.group(0)
    new_tag = (
        _VALUE_ATTR.sub(lambda _m: value, tag, count=1)
        if _VALUE_ATTR.search(tag)
        else tag[:-1].rstrip(b"/").rstrip() + b" " + value + b">"
    )
    return body[: match.start()] + new_tag + body[match.end() :]
