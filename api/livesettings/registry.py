"""The settings staff may change live: each key is a typed field (``api.fields``). Domains add
theirs here.

Only keys listed here can be stored; the admin screen is generated from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.fields import Field

# The API's ``type`` of a setting (what the admin screen builds its input from) for each field
# type; a field type not listed here is sent under its own name.
API_TYPES = {
    "text": "string",
    "long_text": "text",
    "integer": "int",
    "boolean": "bool",
    "email": "email",
    "select": "choice",
}


@dataclass(frozen=True)
class SettingDef:
    key: str
    field: Field  # type, bounds and default: the one definition of what the value may be
    public: bool = False  # readable without staff login (e.g. by the site's scripts)

    @property
    def type(self) -> str:
        return API_TYPES.get(self.field.type, self.field.type)

    @property
    def default(self) -> Any:
        return self.field.default

    @property
    def min(self) -> int | None:
        return self.field.min if isinstance(self.field.min, int) else None

    @property
    def max(self) -> int | None:
        return self.field.max if isinstance(self.field.max, int) else None

    @property
    def max_length(self) -> int | None:
        return self.field.max_length

    @property
    def choices(self) -> tuple[str, ...] | None:
        return self.field.choices


# The site's time zone: dates and times typed without an offset are read in it, and the admin
# and mails show moments in it. The zones of the countries Kizuna's users work from; the IANA
# database has more, but a long list of every zone helps nobody choose.
TIME_ZONES = (
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Jakarta",
    "Asia/Manila",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "UTC",
)


def _flag(key: str) -> SettingDef:
    return SettingDef(key, Field("boolean", required=True, default=False))


SETTINGS: tuple[SettingDef, ...] = (
    SettingDef(
        "site.name", Field("text", required=True, max_length=200, default="Kizuna"), public=True
    ),
    SettingDef(
        "site.time_zone",
        Field("select", required=True, choices=TIME_ZONES, default="Asia/Tokyo"),
        public=True,
    ),
    SettingDef("mail.sender_name", Field("text", required=True, max_length=200, default="Kizuna")),
    SettingDef("mail.sender_address", Field("email", required=True, default="no-reply@example.jp")),
    SettingDef(
        "mail.footer",
        Field(
            "long_text",
            max_length=4000,
            default="このメールは Kizuna から送信されています。\nThis message was sent by Kizuna.",
        ),
    ),
    SettingDef("password.min_length", Field("integer", required=True, min=8, max=128, default=12)),
    _flag("password.require_lowercase"),
    _flag("password.require_uppercase"),
    _flag("password.require_digit"),
    _flag("password.require_symbol"),
)


# ---------------------------------------------------------------- the member site (issue 18)
# The mails' texts: the first line is the subject, the rest the body; {site}, {name}, {link},
# {email}, {hours} and {fields} are replaced (api.members.mails).
MEMBER_MAILS: dict[str, dict[str, str]] = {
    "confirm": {
        "ja": "【{site}】会員登録の確認\n{name} 様\n\n{site} への会員登録をお申し込みいただき"
        "ありがとうございます。\n次のリンクを開き、「登録を完了する」を押してください"
        "（{hours} 時間有効・1 回のみ）。\n\n{link}\n\nお心当たりのない場合は、このメールを"
        "破棄してください。",
        "en": "[{site}] Confirm your registration\nDear {name},\n\nThank you for registering "
        'with {site}.\nOpen the link below and press "Complete registration" (valid for '
        "{hours} hours, once).\n\n{link}\n\nIf you did not register, ignore this message.",
    },
    "already": {
        "ja": "【{site}】会員登録のお申し込みについて\n{site} で、このメールアドレス（{email}）に"
        "よる会員登録のお申し込みがありましたが、このアドレスはすでに登録されています。\n"
        "パスワードをお忘れの場合は、次のページから再設定できます。\n\n{link}\n\n"
        "お心当たりのない場合は、このメールを破棄してください。",
        "en": "[{site}] About your registration\nSomeone asked to register {email} with "
        "{site}, but this address is already registered.\nIf you forgot your password, you "
        "can reset it here:\n\n{link}\n\nIf it was not you, ignore this message.",
    },
    "taken": {
        "ja": "【{site}】会員登録のお申し込みについて\n{site} で、このメールアドレス（{email}）に"
        "よる会員登録のお申し込みがありましたが、入力された「{fields}」はすでに別の会員の登録に"
        "使われているため、登録できませんでした。\nご自身の登録にお心当たりがある場合は、次の"
        "ページからログインまたはパスワードの再設定ができます。それ以外の場合は {site} まで"
        "お問い合わせください。\n\n{link}\n\nお心当たりのない場合は、このメールを破棄してください。",
        "en": "[{site}] About your registration\nSomeone asked to register {email} with "
        "{site}, but the {fields} entered is already used by another member, so the "
        "registration could not be made.\nIf you registered before, you can log in or reset "
        "your password here; otherwise please contact {site}.\n\n{link}\n\nIf it was not "
        "you, ignore this message.",
    },
    "welcome": {
        "ja": "【{site}】会員登録が完了しました\n{name} 様\n\n{site} への会員登録が完了しました。"
        "\n次のページからログインできます。\n\n{link}",
        "en": "[{site}] Welcome\nDear {name},\n\nYour registration with {site} is complete.\n"
        "You can log in here:\n\n{link}",
    },
    "approval": {
        "ja": "【{site}】会員登録を受け付けました\n{name} 様\n\nメールアドレスを確認しました。"
        "担当者が承認すると、ログインできるようになります。承認後にあらためてご連絡します。",
        "en": "[{site}] Registration received\nDear {name},\n\nYour address is confirmed. You "
        "can log in once the registration is approved; we will write to you then.",
    },
    "reset": {
        "ja": "【{site}】パスワードの再設定\n{name} 様\n\nパスワード再設定のお申し込みを受け付け"
        "ました。次のリンクから新しいパスワードを設定してください（{hours} 時間有効・1 回"
        "のみ）。\n\n{link}\n\nお心当たりのない場合は、このメールを破棄してください。"
        "パスワードは変わりません。",
        "en": "[{site}] Reset your password\nDear {name},\n\nOpen the link below to choose a "
        "new password (valid for {hours} hours, once).\n\n{link}\n\nIf you did not ask for "
        "it, ignore this message: your password stays as it is.",
    },
    "email_new": {
        "ja": "【{site}】メールアドレス変更の確認\n{name} 様\n\nログイン用メールアドレスを"
        "このアドレス（{email}）に変更するお申し込みを受け付けました。次のリンクを開き、"
        "「変更を確定する」を押してください（{hours} 時間有効・1 回のみ）。\n\n{link}",
        "en": "[{site}] Confirm your new e-mail address\nDear {name},\n\nOpen the link below "
        'and press "Confirm the change" to log in with {email} from now on (valid for '
        "{hours} hours, once).\n\n{link}",
    },
    "email_old": {
        "ja": "【{site}】メールアドレスが変更されました\n{name} 様\n\nログイン用メールアドレスが"
        "{email} に変更されました。お心当たりのない場合は、すぐに {site} までご連絡ください。",
        "en": "[{site}] Your e-mail address was changed\nDear {name},\n\nYour log-in address "
        "is now {email}. If you did not change it, contact {site} at once.",
    },
    "withdrawn": {
        "ja": "【{site}】退会手続きが完了しました\n{name} 様\n\n{site} の退会手続きが完了しました。"
        "これまでのご利用ありがとうございました。",
        "en": "[{site}] You have left {site}\nDear {name},\n\nYour membership of {site} has "
        "ended. Thank you for having been with us.",
    },
}

MEMBER_SETTINGS: tuple[SettingDef, ...] = (
    SettingDef(
        "member.registration",
        Field("select", required=True, choices=("open", "closed", "approval"), default="closed"),
        public=True,
    ),
    # Field keys asked at registration besides the e-mail and password (comma-separated).
    SettingDef(
        "member.registration_fields", Field("text", max_length=500, default="name"), public=True
    ),
    # Field keys members may edit on their page (comma-separated); never groups.
    SettingDef(
        "member.editable_fields", Field("text", max_length=500, default="name"), public=True
    ),
    SettingDef(
        "member.withdrawal",
        Field(
            "select",
            required=True,
            choices=("keep", "deactivate", "anonymise"),
            default="deactivate",
        ),
    ),
    SettingDef("member.link_hours", Field("integer", required=True, min=1, max=168, default=24)),
    SettingDef(
        "member.password_min_length",
        Field("integer", required=True, min=8, max=64, default=8),
        public=True,
    ),
    *(
        SettingDef(f"member.password_require_{rule}", _flag("x").field, public=True)
        for rule in ("lowercase", "uppercase", "digit", "symbol")
    ),
    *(
        SettingDef(
            f"member.mail.{kind}.{lang}",
            Field("long_text", required=True, max_length=4000, default=text),
        )
        for kind, texts in MEMBER_MAILS.items()
        for lang, text in texts.items()
    ),
)

SETTINGS = SETTINGS + MEMBER_SETTINGS
BY_KEY: dict[str, SettingDef] = {s.key: s for s in SETTINGS}
