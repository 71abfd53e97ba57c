"""The members' password rules (issue 18, part 2), on top of the shared checks of
:mod:`api.security.passwords`.

Always on: at least 8 characters; up to 1,024 allowed (never truncated: the whole password is
hashed); not the member's e-mail address (nor its local part) or name; not on the shipped list
of common passwords. Configurable in the live settings (``member.password_*``), off by default
as OWASP ASVS advises: a longer minimum (8–64) and lower-case, upper-case, digit and symbol
required. Every new member password passes here: registration, reset, change on my page and
the one staff set on the record.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from api.errors import FieldError, ValidationFailed
from api.livesettings import services as live
from api.security.passwords import MAX_LENGTH, PasswordPolicy, check_password

ALWAYS_MIN_LENGTH = 8


def member_policy(session: Session) -> PasswordPolicy:
    values = live.get_many(session, "member.password_")
    return PasswordPolicy(
        min_length=max(ALWAYS_MIN_LENGTH, int(values["member.password_min_length"])),
        require_lowercase=bool(values["member.password_require_lowercase"]),
        require_uppercase=bool(values["member.password_require_uppercase"]),
        require_digit=bool(values["member.password_require_digit"]),
        require_symbol=bool(values["member.password_require_symbol"]),
    )


def check(
    session: Session, password: str, *, field: str = "password", personal: tuple[str, ...] = ()
) -> None:
    """Refuse a new member password that breaks a rule: 422 with every code at fault."""
    errors: list[FieldError] = check_password(
        password, member_policy(session), field=field, personal=personal
    )
    if errors:
        raise ValidationFailed(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors),
            code="password_rules",
            errors=errors,
        )


def describe(policy: PasswordPolicy) -> dict[str, Any]:
    """The rules as pages show them next to a new-password field: each with its code (the
    same codes a refusal carries) and its words in Japanese and English."""
    rules: list[dict[str, Any]] = [
        {
            "code": "password_too_short",
            "params": {"min": policy.min_length},
            "ja": f"{policy.min_length} 文字以上",
            "en": f"At least {policy.min_length} characters",
        },
        {
            "code": "password_too_long",
            "params": {"max": MAX_LENGTH},
            "ja": f"{MAX_LENGTH} 文字まで（長いパスフレーズも使えます）",
            "en": f"Up to {MAX_LENGTH} characters (long passphrases are welcome)",
        },
        {
            "code": "password_personal",
            "ja": "メールアドレスや名前と同じものは使えません",
            "en": "Not your e-mail address or name",
        },
        {
            "code": "password_too_common",
            "ja": "よく使われるパスワードは使えません",
            "en": "Not a commonly used password",
        },
    ]
    composition = (
        (policy.require_lowercase, "lowercase", "英小文字を含める", "A lower-case letter"),
        (policy.require_uppercase, "uppercase", "英大文字を含める", "An upper-case letter"),
        (policy.require_digit, "digit", "数字を含める", "A digit"),
        (policy.require_symbol, "symbol", "記号を含める", "A symbol"),
    )
    for required, code, ja, en in composition:
        if required:
            rules.append({"code": f"password_needs_{code}", "ja": ja, "en": en})
    return {
        "min_length": policy.min_length,
        "max_length": MAX_LENGTH,
        "require_lowercase": policy.require_lowercase,
        "require_uppercase": policy.require_uppercase,
        "require_digit": policy.require_digit,
        "require_symbol": policy.require_symbol,
        "rules": rules,
    }
