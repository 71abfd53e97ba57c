"""The member site's mails: confirmation, already registered, a unique value taken, welcome,
waiting for approval, password reset, e-mail change (new and old address) and withdrawal.

The words are live settings staff edit in both languages (``member.mail.<kind>.<ja|en>``:
first line the subject, the rest the body); the look is the theme's MJML layout
(``themes/default/email/member.mjml``), filled by Jinja (autoescaped) and rendered with
mjml-python. Mails are queued in the caller's transaction through the job system
(:func:`api.mail.services.queue_mail`), so a rolled-back registration sends nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from mjml import mjml2html
from sqlmodel import Session

from api.livesettings import services as live
from api.livesettings.registry import MEMBER_MAILS
from api.mail import services as mail
from api.principal import Principal

KINDS = tuple(MEMBER_MAILS)
LANGS = ("ja", "en")
SITE_ACTOR = Principal(kind="system", id=None, label="member site")
LAYOUT = "member.mjml"

BUTTONS: dict[str, dict[str, str]] = {
    "confirm": {"ja": "登録を完了する", "en": "Complete registration"},
    "already": {"ja": "パスワードを再設定する", "en": "Reset the password"},
    "taken": {"ja": "ログイン", "en": "Log in"},
    "welcome": {"ja": "ログイン", "en": "Log in"},
    "reset": {"ja": "新しいパスワードを設定する", "en": "Choose a new password"},
    "email_new": {"ja": "変更を確定する", "en": "Confirm the change"},
}
PLACEHOLDER = re.compile(r"\{(site|name|link|email|hours|fields)\}")


def lang_of(value: Any) -> str:
    return value if value in LANGS else "ja"


@lru_cache(maxsize=8)
def _layout(path: str, mtime: float) -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(Path(path).read_text("utf-8"))


def layout(theme_dir: Path) -> jinja2.Template:
    path = theme_dir / "email" / LAYOUT
    return _layout(str(path), path.stat().st_mtime)


def fill(template: str, values: dict[str, str]) -> str:
    """The staff's text with the known ``{placeholders}`` replaced (others are left as typed)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def compose(
    session: Session,
    theme_dir: Path,
    kind: str,
    lang: str,
    *,
    to: str,
    name: str = "",
    link: str = "",
    email: str = "",
    hours: int = 24,
    fields: str = "",
) -> mail.OutgoingMail:
    """One mail, as subject, plain text and HTML, in ``lang``."""
    lang = lang_of(lang)
    values = live.get_many(session, "")
    site = str(values["site.name"])
    footer = str(values["mail.footer"] or "")
    words = fill(
        str(values[f"member.mail.{kind}.{lang}"]),
        {"site": site, "name": name or email or to, "link": link, "email": email or to,
         "hours": str(hours), "fields": fields},
    )  # fmt: skip
    subject, _, body = words.partition("\n")
    subject = " ".join(subject.split())[:200]
    body = body.strip("\n")
    text = f"{body}\n\n-- \n{footer}\n" if footer else f"{body}\n"
    blocks: list[dict[str, Any]] = []
    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if link and paragraph == link:
            blocks.append({"link": link, "text": ""})
        else:  # escaped line by line, the breaks kept
            lines = [markupsafe.escape(line) for line in paragraph.split("\n")]
            blocks.append({"link": "", "text": markupsafe.Markup("<br>").join(lines)})
    mjml = layout(theme_dir).render(
        lang=lang,
        subject=subject,
        preview=" ".join(body.split())[:120],
        site=site,
        blocks=blocks,
        button=BUTTONS.get(kind, {}).get(lang, link),
        footer=footer,
    )
    return mail.OutgoingMail(to=to, subject=subject, text=text, html=mjml2html(mjml))


def send(
    session: Session,
    theme_dir: Path,
    kind: str,
    lang: str,
    *,
    to: str,
    name: str = "",
    link: str = "",
    email: str = "",
    hours: int = 24,
    fields: str = "",
) -> None:
    """Compose a mail and queue it (a ``mail.send`` job) in the caller's transaction."""
    message = compose(
        session, theme_dir, kind, lang, to=to, name=name, link=link, email=email, hours=hours,
        fields=fields,
    )  # fmt: skip
    mail.queue_mail(session, SITE_ACTOR, [message], about=f"member.{kind}")
