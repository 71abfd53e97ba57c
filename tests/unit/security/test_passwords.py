from __future__ import annotations

from api.security.passwords import PasswordPolicy, check_password, hash_password, verify_password

DEFAULT = PasswordPolicy()


def codes(password: str, policy: PasswordPolicy = DEFAULT, **kw: tuple[str, ...]) -> set[str]:
    return {e.code for e in check_password(password, policy, **kw)}


def test_argon2id_round_trip_and_no_truncation() -> None:
    long = "長いパスフレーズ" * 20 + "a"
    hashed = hash_password(long)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, long) == (True, False)
    assert verify_password(hashed, long[:-1])[0] is False  # the last character matters


def test_full_width_input_matches_half_width() -> None:
    hashed = hash_password("Passphrase 2026!")
    assert verify_password(hashed, "Ｐａｓｓｐｈｒａｓｅ　２０２６！")[0]


def test_unknown_account_costs_a_verification_and_fails() -> None:
    assert verify_password(None, "anything") == (False, False)


def test_policy() -> None:
    assert codes("short") >= {"password_too_short"}
    assert "password_too_common" in codes("password1234")
    assert codes("a calm river at dusk") == set()
    assert "password_too_long" in codes("x" * 1025)
    assert "password_personal" in codes("hanako.sato", personal=("hanako.sato@example.jp",))
    strict = PasswordPolicy(min_length=8, require_lowercase=True, require_uppercase=True,
                            require_digit=True, require_symbol=True)  # fmt: skip
    assert codes("ALLUPPERCASEONLY", strict) == {
        "password_needs_lowercase", "password_needs_digit", "password_needs_symbol"
    }  # fmt: skip
    assert codes("Str0ng!pass", strict) == set()
