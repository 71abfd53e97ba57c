"""Password hashing (argon2id) and the password policy (OWASP ASVS 5, chapter 6).

The policy is: a minimum length (live setting, at least 8), no truncation, a maximum of
1,024 characters (only to bound hashing cost), not on the list of 20,000 common passwords,
not the account's own e-mail address or name, and optional composition rules that staff may
switch on in the live settings.
"""

from __future__ import annotations

import gzip
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.errors import FieldError

MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")

# OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
# Verified against when the account does not exist, so timing does not reveal which e-mails exist.
_DUMMY_HASH = _hasher.hash("kizuna-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(_prepare(password))


def verify_password(password_hash: str | None, password: str) -> tuple[bool, bool]:
    """Return ``(matches, needs_rehash)``; costs the same time whether or not a hash exists."""
    candidate = _prepare(password)[:MAX_LENGTH]
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if password_hash is None:
        return False, False
    return True, _hasher.check_needs_rehash(password_hash)


def _prepare(password: str) -> str:
    # NFKC so that a password typed with full-width characters on a Japanese IME still matches.
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 12
    require_lowercase: bool = False
    require_uppercase: bool = False
    require_digit: bool = False
    require_symbol: bool = False


def check_password(
    password: str,
    policy: PasswordPolicy,
    *,
    field: str = "password",
    personal: tuple[str, ...] = (),
) -> list[FieldError]:
    """Every way ``password`` breaks the policy, as field errors with stable codes."""
    errors: list[FieldError] = []
    pw = _prepare(password)
    length = len(pw)
    if length < policy.min_length:
        errors.append(
            FieldError(
                field,
                f"must be at least {policy.min_length} characters long",
                "password_too_short",
                params={"min": policy.min_length},
            )
        )
    if length > MAX_LENGTH:
        errors.append(
            FieldError(
                field,
                f"must be at most {MAX_LENGTH} characters long",
                "password_too_long",
                params={"max": MAX_LENGTH},
            )
        )
    if pw.lower() in common_passwords():
        errors.append(
            FieldError(
                field, "is too common; choose one that is harder to guess", "password_too_common"
            )
        )
    lowered = pw.lower()
    for value in personal:
        value = (value or "").strip().lower()
        if value and (lowered == value or lowered == value.split("@")[0]):
            errors.append(
                FieldError(field, "must not be your e-mail address or name", "password_personal")
            )
            break
    rules = (
        (
            policy.require_lowercase,
            any(c.islower() for c in pw),
            "lowercase",
            "a lower-case letter",
        ),
        (
            policy.require_uppercase,
            any(c.isupper() for c in pw),
            "uppercase",
            "an upper-case letter",
        ),
        (policy.require_digit, any(c.isdigit() for c in pw), "digit", "a digit"),
        (
            policy.require_symbol,
            any(not c.isalnum() and not c.isspace() for c in pw),
            "symbol",
            "a symbol",
        ),
    )
    for required, present, code, what in rules:
        if required and not present:
            errors.append(FieldError(field, f"must contain {what}", f"password_needs_{code}"))
    return errors
