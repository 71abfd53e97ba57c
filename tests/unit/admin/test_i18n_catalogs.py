"""The admin panel's ja/en catalogs agree with each other and with the code that uses them.

Checks: both catalogs have exactly the same keys, no empty values, the same {placeholders};
every literal ``t('key')`` / ``t("key")`` / ``t(`key`)`` in the JS and every ``data-i18n="key"``
in the HTML/JS exists; the codes the API contract defines (roles, job states, setting keys…),
which the JS looks up by building keys at run time, are translated; and no key is left unused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[3] / "api" / "admin" / "static"
LANGS = ("ja", "en")

# t('key'), t("key"), t(`key`) — a template literal with ${…} is dynamic and skipped.
T_CALL = re.compile(r"""(?<![\w$.])t\(\s*(?P<q>['"`])(?P<key>[^'"`\n]+?)(?P=q)""")
DATA_I18N = re.compile(r"""data-i18n\s*=\s*(?P<q>['"])(?P<key>[^'"]+)(?P=q)""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LINE_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

# The codes of a refused file or a bad row (api/tabular/messages.py MESSAGES).
TABULAR_CODES = (
    "file_empty", "file_not_utf8", "file_not_cp932", "file_encoding_unknown", "file_utf16",
    "file_not_xlsx", "file_xlsx_too_large", "file_xls", "header_missing", "header_blank",
    "header_duplicate", "header_control_chars", "row_too_many_cells", "row_too_few_cells",
    "row_unterminated_quote", "row_bad_quotes", "cp932_gap",
)  # fmt: skip

# The codes of an import's rows and mapping (api/imports/messages.py MESSAGES).
IMPORT_CODES = (
    "import_key_empty", "import_duplicate_key", "import_exists", "import_not_found",
    "import_key_ambiguous", "import_not_owner", "taken", "not_found", "import_aborted",
    "import_unknown_field", "import_retired_field", "import_file_field", "import_mapped_twice",
    "import_no_key", "import_key_not_mapped", "import_nothing_mapped", "import_too_large",
    "import_file_missing", "import_encoding", "import_state", "import_interrupted",
    "import_interrupted_none", "import_check_stopped", "import_undo_interrupted",
    "import_file_expired", "import_abandoned", "import_unknown_group",
)  # fmt: skip
IMPORT_STATES = ("uploaded", "checking", "checked", "running", "done", "failed", "undoing",
                 "undone", "interrupted", "undo_interrupted", "expired")  # fmt: skip

# Keys built at run time (tOr(`role.${name}`) …): the values the API contract defines must exist.
REQUIRED_DYNAMIC = [
    *(f"role.{r}" for r in ("admin", "marketer", "sales", "viewer")),
    *(f"locale.{c}" for c in ("ja", "en")),
    *(f"job.state.{s}" for s in ("queued", "running", "done", "failed", "uncertain", "cancelled")),
    *(f"audit.actor.{a}" for a in ("staff", "token", "system")),
    *(
        f"settings.key.{k}"
        for k in (
            "mail.sender_name",
            "mail.sender_address",
            "mail.footer",
            "password.min_length",
            "password.require_lowercase",
            "password.require_uppercase",
            "password.require_digit",
            "password.require_symbol",
            "site.name",
            "site.time_zone",
        )
    ),
    *(
        f"error.{c}"
        for c in (
            "invalid_credentials",
            "rate_limited",
            "csrf_failed",
            "email_taken",
            "cannot_change_self",
            "password_too_short",
            "password_too_common",
            "password_too_long",
            "password_needs_lowercase",
            "password_needs_uppercase",
            "password_needs_digit",
            "password_needs_symbol",
            "password_personal",
            "wrong_password",
            "required",
            "too_small",
            "too_large",
            "too_long",
            "invalid_choice",
            "job_state_conflict",
            "job_changed",
            "job_not_found",
            "invalid_email",
            "not_integer",
            "not_boolean",
            "not_text",
            "single_line",
            "control_chars",
            "unknown_setting",
            "out_of_range",
            "role_too_high",
            "unknown_field",
            "malformed_json",
            "cross_site",
            "staff_not_found",
            "token_not_found",
            "outbox_not_found",
            "not_staff",
            "internal_error",
        )
    ),
    # the kinds of file a customer file field accepts (api/customers/files.py FILE_KINDS)
    *(
        f"customers.fields.file_kind.{k}"
        for k in ("image", "pdf", "excel", "word", "powerpoint", "csv", "text")
    ),
    # the import wizard: modes, batch states, the suggestions of a refused file, and the codes
    # of api/tabular/messages.py (every refused file and bad row is explained in both languages)
    *(f"customers.import.mode.{m}" for m in ("insert", "update", "upsert")),
    *(f"customers.import.state.{s}" for s in IMPORT_STATES),
    *(f"customers.import.suggest.{s}" for s in ("cp932", "utf-8")),
    *(f"error.{c}" for c in TABULAR_CODES),
    *(f"error.{c}" for c in IMPORT_CODES),
    *(
        f"customers.import.undo.reason.{r}"
        for r in ("changed_since", "deleted_since", "cannot_restore", "in_use")
    ),
    *(
        f"audit.action.{a}"
        for a in ("staff.update", "staff.update_self", "job.retry", "job.cancel")
    ),
]
# Errors whose "error.<code>" message uses values the server sends with them: a field error's
# params ({"min": 12} …) or a problem body's members ({"reference": …} of an internal_error).
# Each needs exactly these placeholders, and an "error.<code>.plain" message for when the values
# are missing.
PARAM_CODES = {
    "password_too_short": {"min"},
    "password_too_long": {"max"},
    "too_small": {"min"},
    "too_large": {"max"},
    "too_long": {"max"},
    "internal_error": {"reference"},
    # the customer database (api/customers): record values, field keys, concurrent changes
    "scale": {"scale"},
    "changed": {"by"},
    "invalid_key": {"max_length"},
    "key_too_long": {"max_length"},
    # files refused by an import (api/tabular/messages.py)
    "file_not_utf8": {"line", "offset"},
    "file_not_cp932": {"line", "offset"},
    "file_encoding_unknown": {"utf8_line", "cp932_line"},
    "file_not_xlsx": {"reason"},
    "file_xlsx_too_large": {"max_mb"},
    "header_blank": {"column"},
    "header_duplicate": {"name", "first", "column"},
    "header_control_chars": {"column"},
    "row_too_many_cells": {"count", "expected"},
    "row_too_few_cells": {"count", "expected"},
    "cp932_gap": {"chars"},
    # an import's rows and mapping (api/imports/messages.py)
    "import_duplicate_key": {"first"},
    "import_exists": {"id"},
    "import_key_ambiguous": {"count"},
    "import_not_owner": {"id"},
    "import_aborted": {"invalid"},
    "import_unknown_field": {"field"},
    "import_retired_field": {"field"},
    "import_file_field": {"field"},
    "import_mapped_twice": {"field", "first", "column"},
    "import_key_not_mapped": {"field"},
    "import_too_large": {"limit"},
    "import_state": {"state", "action"},
    "import_unknown_group": {"groups"},
    # groups (api/groups)
    "member_not_found": {"ids"},
}
# Prefixes of keys looked up at run time; keys under them may look unused.
DYNAMIC_PREFIXES = (
    "role.",
    "locale.",
    "job.state.",
    "audit.actor.",
    "audit.action.",
    "settings.key.",
    "settings.group.",
    "settings.choice.",
    "error.",
    "customers.fields.file_kind.",
    "customers.import.mode.",
    "customers.import.state.",
    "customers.import.suggest.",
    "customers.import.undo.reason.",
)


def load(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def source_files() -> list[Path]:
    """The admin's own code (not the vendored libraries)."""
    files = [*STATIC.rglob("*.js"), *STATIC.rglob("*.html")]
    return sorted(p for p in files if "vendor" not in p.relative_to(STATIC).parts)


def strip_comments(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        return HTML_COMMENT.sub("", text)
    # Comments hold usage examples; only real code counts. (Line comments are removed only when
    # they start a line, so "//" inside strings such as URLs is left alone.)
    return LINE_COMMENT.sub("", BLOCK_COMMENT.sub("", text))


def used_keys() -> dict[str, set[str]]:
    """key → the files that use it."""
    used: dict[str, set[str]] = {}
    for path in source_files():
        text = strip_comments(path)
        for pattern in (T_CALL, DATA_I18N):
            for m in pattern.finditer(text):
                key = m.group("key")
                if "${" in key:
                    continue
                used.setdefault(key, set()).add(str(path.relative_to(STATIC)))
    return used


@pytest.fixture(scope="module")
def catalogs() -> dict[str, dict[str, str]]:
    return {lang: load(lang) for lang in LANGS}


def test_catalogs_are_flat_string_maps(catalogs: dict[str, dict[str, str]]) -> None:
    for lang, cat in catalogs.items():
        bad = [k for k, v in cat.items() if not isinstance(v, str)]
        assert not bad, f"{lang}.json: values must be strings: {bad}"


def test_same_keys_in_every_language(catalogs: dict[str, dict[str, str]]) -> None:
    ja, en = set(catalogs["ja"]), set(catalogs["en"])
    assert not ja - en, f"only in ja.json: {sorted(ja - en)}"
    assert not en - ja, f"only in en.json: {sorted(en - ja)}"


def test_no_empty_values(catalogs: dict[str, dict[str, str]]) -> None:
    for lang, cat in catalogs.items():
        empty = [k for k, v in cat.items() if not str(v).strip()]
        assert not empty, f"{lang}.json has empty values: {empty}"


def test_same_placeholders(catalogs: dict[str, dict[str, str]]) -> None:
    ja, en = catalogs["ja"], catalogs["en"]
    mismatched = {
        k: (sorted(set(PLACEHOLDER.findall(ja[k]))), sorted(set(PLACEHOLDER.findall(en[k]))))
        for k in ja.keys() & en.keys()
        if set(PLACEHOLDER.findall(ja[k])) != set(PLACEHOLDER.findall(en[k]))
    }
    assert not mismatched, f"placeholders differ between ja and en: {mismatched}"


def test_every_used_key_exists(catalogs: dict[str, dict[str, str]]) -> None:
    used = used_keys()
    assert used, "no t('…') calls found: is the regex or the path wrong?"
    for lang, cat in catalogs.items():
        missing = {k: sorted(files) for k, files in used.items() if k not in cat}
        assert not missing, f"{lang}.json lacks keys used in the code: {missing}"


def test_contract_codes_are_translated(catalogs: dict[str, dict[str, str]]) -> None:
    for lang, cat in catalogs.items():
        missing = [k for k in REQUIRED_DYNAMIC if k not in cat]
        assert not missing, f"{lang}.json lacks: {missing}"


def test_param_messages_use_params_and_have_a_plain_fallback(
    catalogs: dict[str, dict[str, str]],
) -> None:
    for lang, cat in catalogs.items():
        for code, params in PARAM_CODES.items():
            key = f"error.{code}"
            assert set(PLACEHOLDER.findall(cat.get(key, ""))) == params, (
                f"{lang}.json: {key} should use {sorted(params)}"
            )
            plain = cat.get(f"{key}.plain", "")
            assert plain and not PLACEHOLDER.findall(plain), (
                f"{lang}.json: {key}.plain should exist and have no placeholders"
            )


def test_no_unused_keys(catalogs: dict[str, dict[str, str]]) -> None:
    used = used_keys()
    unused = [k for k in catalogs["ja"] if k not in used and not k.startswith(DYNAMIC_PREFIXES)]
    assert not unused, f"keys no code uses (remove them or use them): {unused}"


# t(name) with a variable cannot be checked: build such keys with tOr() (see labels.js).
NON_LITERAL_T = re.compile(r"""(?<![\w$.])t\(\s*(?!['"`])""")


def test_every_screen_uses_the_catalog_and_t_takes_only_literals() -> None:
    """The scanner sees the components' htm templates; nothing hides a key in a variable."""
    used_by_file: dict[str, set[str]] = {}
    for key, files in used_keys().items():
        for f in files:
            used_by_file.setdefault(f, set()).add(key)
    for view in sorted((STATIC / "js" / "views").glob("*.js")):
        assert used_by_file.get(str(view.relative_to(STATIC))), f"no t('…') found in {view.name}"
    for path in source_files():
        if path.name == "i18n.js":
            continue  # defines t(key)
        calls = NON_LITERAL_T.findall(strip_comments(path))
        assert not calls, f"{path.relative_to(STATIC)}: t() with a non-literal key"


def test_regex_finds_the_usual_spellings() -> None:
    sample = """t('a.b'); t("c.d", { n: 1 }); t(`e.f`); x.t('no'); fmt('no'); t(`g.${x}`);
    <p data-i18n="h.i"></p>
    html`<p class="x">${t('j.k')}</p><${Button} label=${t("l.m", { n })} />`;"""
    found = {m.group("key") for m in T_CALL.finditer(sample)} | {
        m.group("key") for m in DATA_I18N.finditer(sample)
    }
    assert {"a.b", "c.d", "e.f", "h.i", "j.k", "l.m"} <= found
    assert "no" not in found


def test_every_refused_file_code_of_the_api_is_listed() -> None:
    from api.tabular.messages import MESSAGES

    assert set(TABULAR_CODES) == set(MESSAGES), "api/tabular/messages.py changed: translate it"


def test_every_import_code_of_the_api_is_listed() -> None:
    from api.imports.messages import MESSAGES

    assert set(IMPORT_CODES) == set(MESSAGES), "api/imports/messages.py changed: translate it"
