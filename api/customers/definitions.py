"""Table and field definitions as plain values: what the services, the schema file and the
physical layer agree on. Built from the metadata rows or from input, compared for plans."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from api.customers.models import CustomerField, CustomerTable
from api.customers.types import (
    DECIMAL_PRECISION,
    DEFAULT_DECIMAL_SCALE,
    DEFAULT_TEXT_LENGTH,
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    MAX_DECIMAL_SCALE,
    MAX_LENGTHS,
    NOT_INDEXABLE,
    TEXT_TYPES,
    FieldType,
    check_key,
    check_type,
)
from api.errors import FieldError, ValidationFailed
from api.fields.types import SITE_TIMEZONE

LANGUAGES = ("ja", "en")
ON_DELETE = ("restrict", "set_null")


@dataclass(frozen=True)
class Choice:
    value: str  # what is stored; never changes once in use
    label: dict[str, str]  # what people see; may be renamed
    retired: bool = False  # kept on the records that have it, refused for new values

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value, "label": dict(self.label)}
        if self.retired:
            data["retired"] = True
        return data


@dataclass(frozen=True)
class FieldSpec:
    key: str
    type: FieldType
    label: dict[str, str] = field(default_factory=dict)
    required: bool = False
    unique: bool = False
    indexed: bool = False
    shown_in_list: bool = True
    max_length: int | None = None  # string types
    min: int | float | None = None  # numbers (and date strings for dates)
    max: int | float | None = None
    pattern: str | None = None
    decimal_places: int | None = None  # of a decimal field (the schema file also says `scale`)
    choices: tuple[Choice, ...] = ()
    default: Any = None
    help: dict[str, str] = field(default_factory=dict)
    references: str | None = None  # the target table's key
    on_delete: str = "restrict"
    max_size: int | None = None  # file: bytes (api.customers.files.DEFAULT_MAX_SIZE when None)
    file_types: tuple[str, ...] = ()  # file: kinds (image, pdf…); () = the default kinds
    # Not part of the design: the site's time zone (live setting site.time_zone) when the spec
    # was read, in which dates and times typed without an offset are read.
    time_zone: str = field(default=SITE_TIMEZONE, compare=False)

    # ---- derived

    @property
    def length_limit(self) -> int:
        limit = MAX_LENGTHS.get(self.type, DEFAULT_TEXT_LENGTH)
        if self.max_length is not None:
            return min(self.max_length, limit)
        return DEFAULT_TEXT_LENGTH if self.type == FieldType.text else limit

    @property
    def decimal_scale(self) -> int:
        return DEFAULT_DECIMAL_SCALE if self.decimal_places is None else self.decimal_places

    def storage(self) -> str:
        """What the column is physically: a type change within the same storage needs no DDL,
        only a check of the values."""
        if self.type in TEXT_TYPES or self.type == FieldType.select:
            return "text"
        if self.type == FieldType.decimal:
            return f"decimal({DECIMAL_PRECISION},{self.decimal_scale})"
        if self.type == FieldType.reference:
            return f"reference({self.references},{self.on_delete})"
        return str(self.type)  # file: a JSON column of the file's metadata

    def active_choice_values(self) -> set[str]:
        return {c.value for c in self.choices if not c.retired}

    def options(self) -> dict[str, Any]:
        """What goes into ``customer_field.options`` (everything without a column of its own)."""
        data: dict[str, Any] = {}
        for name in ("max_length", "min", "max", "pattern", "decimal_places", "default"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.choices:
            data["choices"] = [c.as_dict() for c in self.choices]
        if self.help:
            data["help"] = dict(self.help)
        if self.type == FieldType.reference:
            data["on_delete"] = self.on_delete
        if self.max_size is not None:
            data["max_size"] = self.max_size
        if self.file_types:
            data["file_types"] = list(self.file_types)
        return data

    def as_dict(self) -> dict[str, Any]:
        """Every attribute, for plans, audit entries and the API."""
        data: dict[str, Any] = {
            "key": self.key,
            "type": str(self.type),
            "label": dict(self.label),
            "required": self.required,
            "unique": self.unique,
            "indexed": self.indexed,
            "shown_in_list": self.shown_in_list,
        }
        if self.references is not None:
            data["references"] = self.references
        data.update(self.options())
        return data

    def differences(self, other: FieldSpec) -> list[str]:
        """Names of the attributes that differ from ``other``'s."""
        return [
            f.name
            for f in fields(self)
            if f.compare and getattr(self, f.name) != getattr(other, f.name)
        ]


@dataclass(frozen=True)
class TableSpec:
    key: str
    label: dict[str, str] = field(default_factory=dict)
    statuses: tuple[Choice, ...] = ()
    transitions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    is_member_table: bool = False
    owner_only: bool = False
    # The person's name and company fields of the duplicates' name + company key (None:
    # chosen automatically, ``api.customers.duplicates.rule``).
    name_field: str | None = None
    company_field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "label": dict(self.label)}
        if self.statuses:
            data["statuses"] = [s.as_dict() for s in self.statuses]
        if self.transitions:
            data["transitions"] = {k: list(v) for k, v in self.transitions.items()}
        data["is_member_table"] = self.is_member_table
        data["owner_only"] = self.owner_only
        data["name_field"] = self.name_field
        data["company_field"] = self.company_field
        return data

    def options(self) -> dict[str, Any]:
        """The settings kept in ``customer_table.options``."""
        return {
            k: v
            for k, v in (("name_field", self.name_field), ("company_field", self.company_field))
            if v is not None
        }

    def differences(self, other: TableSpec) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


# ------------------------------------------------------------------ from rows


def field_spec(
    row: CustomerField, tables_by_id: dict[int, CustomerTable], time_zone: str = SITE_TIMEZONE
) -> FieldSpec:
    options = row.options or {}
    target = tables_by_id.get(row.ref_table_id) if row.ref_table_id else None
    return FieldSpec(
        key=row.key,
        type=FieldType(row.type),
        label=dict(row.label or {}),
        required=row.required,
        unique=row.unique,
        indexed=row.indexed,
        shown_in_list=row.shown_in_list,
        max_length=options.get("max_length"),
        min=options.get("min"),
        max=options.get("max"),
        pattern=options.get("pattern"),
        decimal_places=options.get("decimal_places", options.get("scale")),
        choices=tuple(_choice(c) for c in options.get("choices", [])),
        default=options.get("default"),
        help=dict(options.get("help") or {}),
        references=target.key if target else None,
        on_delete=options.get("on_delete", "restrict"),
        max_size=options.get("max_size"),
        file_types=tuple(options.get("file_types") or ()),
        time_zone=time_zone,
    )


def table_spec(row: CustomerTable) -> TableSpec:
    return TableSpec(
        key=row.key,
        label=dict(row.label or {}),
        statuses=tuple(_choice(s) for s in row.statuses or []),
        transitions={k: tuple(v) for k, v in (row.transitions or {}).items()},
        is_member_table=row.is_member_table,
        owner_only=row.owner_only,
        name_field=(row.options or {}).get("name_field"),
        company_field=(row.options or {}).get("company_field"),
    )


def _choice(data: Any) -> Choice:
    if isinstance(data, str):
        return Choice(value=data, label=dict.fromkeys(LANGUAGES, data))
    return Choice(
        value=str(data["value"]),
        label=dict(data.get("label") or {}),
        retired=bool(data.get("retired", False)),
    )


# ------------------------------------------------------------------ from input


class _Errors:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.items: list[FieldError] = []

    def add(self, name: str, message: str, code: str = "invalid") -> None:
        self.items.append(FieldError(f"{self.prefix}{name}", message, code))

    def raise_if_any(self) -> None:
        if self.items:
            summary = "; ".join(f"{e.field}: {e.message}" for e in self.items)
            raise ValidationFailed(detail=summary, errors=list(self.items))


def parse_label(value: Any, errors: _Errors, name: str = "label") -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        value = dict.fromkeys(LANGUAGES, value)
    if not isinstance(value, dict):
        errors.add(name, "must be a text or {ja, en}")
        return {}
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            errors.add(f"{name}.{lang}", "is not a language (ja, en)", "unknown_field")
        elif not isinstance(text, str) or not text.strip() or len(text) > 200:
            errors.add(f"{name}.{lang}", "must be a text of 1 to 200 characters")
        elif any(ord(ch) < 32 for ch in text):
            errors.add(f"{name}.{lang}", "must be one line without control characters")
        else:
            out[lang] = text.strip()
    return out


def parse_choices(value: Any, errors: _Errors, name: str = "choices") -> tuple[Choice, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.add(name, "must be a list")
        return ()
    out: list[Choice] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if isinstance(item, str):
            item = {"value": item, "label": item}
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            errors.add(where, "must be a text or {value, label}")
            continue
        extra = set(item) - {"value", "label", "retired"}
        if extra:
            errors.add(where, f"has unknown keys: {', '.join(sorted(extra))}", "unknown_field")
        choice_value = item["value"].strip()
        if not choice_value or len(choice_value) > MAX_LENGTHS[FieldType.select]:
            errors.add(where, "value must be a text of 1 to 200 characters")
            continue
        if any(ord(ch) < 32 for ch in choice_value):
            errors.add(where, "value must be one line without control characters")
            continue
        if choice_value in seen:
            errors.add(where, f"“{choice_value}” is listed twice", "duplicate_choice")
            continue
        seen.add(choice_value)
        label = parse_label(item.get("label", choice_value), errors, f"{where}.label")
        out.append(Choice(choice_value, label, bool(item.get("retired", False))))
    return tuple(out)


FIELD_KEYS = frozenset(
    {
        "key", "type", "label", "required", "unique", "indexed", "shown_in_list", "list",
        "max_length", "min", "max", "pattern", "decimal_places", "scale", "choices", "default",
        "help",
        "references", "on_delete", "position", "max_size", "file_types",
    }
)  # fmt: skip


def parse_field(data: dict[str, Any], prefix: str = "") -> FieldSpec:
    """A field definition from input (the API or a schema file); a 422 listing every problem."""
    errors = _Errors(prefix)
    unknown = set(data) - FIELD_KEYS
    for name in sorted(unknown):
        errors.add(name, "is not a field attribute", "unknown_field")
    key = check_key(data.get("key"), f"{prefix}key")
    ftype = check_type(data.get("type"), f"{prefix}type")
    flags: dict[str, bool] = {}
    for name, default in (("required", False), ("unique", False), ("indexed", False)):
        value = data.get(name, default)
        if not isinstance(value, bool):
            errors.add(name, "must be true or false")
            value = default
        flags[name] = value
    shown = data.get("shown_in_list", data.get("list", True))
    if not isinstance(shown, bool):
        errors.add("shown_in_list", "must be true or false")
        shown = True
    if ftype in NOT_INDEXABLE and flags["unique"]:
        errors.add("unique", f"a {ftype} field cannot be unique")
    if ftype == FieldType.long_text and flags["indexed"]:
        errors.add("indexed", "a long_text field is found by full-text search, not an index")
    max_length = data.get("max_length")
    if max_length is not None:
        limit = MAX_LENGTHS.get(ftype)
        if ftype not in TEXT_TYPES or limit is None:
            errors.add("max_length", f"does not apply to a {ftype} field")
            max_length = None
        elif (
            not isinstance(max_length, int)
            or isinstance(max_length, bool)
            or not (1 <= max_length <= limit)
        ):
            errors.add("max_length", f"must be a whole number from 1 to {limit}")
            max_length = None
    bounds: dict[str, int | float | None] = {}
    for name in ("min", "max"):
        value = data.get(name)
        if value is not None and (
            ftype not in (FieldType.integer, FieldType.decimal)
            or isinstance(value, bool)
            or not isinstance(value, int | float)
        ):
            errors.add(name, "applies to number fields and must be a number")
            value = None
        elif isinstance(value, float) and ftype == FieldType.integer:
            if not value.is_integer():
                errors.add(name, "must be a whole number for an integer field")
                value = None
            else:
                value = int(value)
        bounds[name] = value
    if None not in (bounds["min"], bounds["max"]) and bounds["min"] > bounds["max"]:  # type: ignore[operator]
        errors.add("max", "must not be less than min")
    pattern = data.get("pattern")
    if pattern is not None:
        pattern = _parse_pattern(ftype, pattern, errors)
    places_name = "decimal_places" if "decimal_places" in data else "scale"
    places = data.get(places_name)
    if places is not None and (
        ftype != FieldType.decimal
        or not isinstance(places, int)
        or isinstance(places, bool)
        or not 0 <= places <= MAX_DECIMAL_SCALE
    ):
        errors.add(places_name, f"applies to decimal fields: 0 to {MAX_DECIMAL_SCALE} places")
        places = None
    choices = parse_choices(data.get("choices"), errors)
    max_size, file_types = _parse_file_options(ftype, data, errors)
    if ftype in (FieldType.select, FieldType.multi_select):
        if not choices:
            errors.add("choices", f"a {ftype} field needs at least one choice", "required")
    elif choices:
        errors.add("choices", f"does not apply to a {ftype} field")
        choices = ()
    references = data.get("references")
    on_delete = data.get("on_delete", "restrict")
    if ftype == FieldType.reference:
        if references is None:
            errors.add("references", "a reference field names the table it refers to", "required")
        else:
            references = check_key(references, f"{prefix}references")
        if on_delete not in ON_DELETE:
            errors.add("on_delete", f"must be one of {', '.join(ON_DELETE)}")
            on_delete = "restrict"
    else:
        if references is not None:
            errors.add("references", "applies to reference fields only")
        references = None
        on_delete = "restrict"
    errors.raise_if_any()
    spec = FieldSpec(
        key=key,
        type=ftype,
        label=parse_label(data.get("label"), errors),
        required=flags["required"],
        unique=flags["unique"],
        indexed=flags["indexed"],
        shown_in_list=shown,
        max_length=max_length,
        min=bounds["min"],
        max=bounds["max"],
        pattern=pattern,
        decimal_places=places,
        choices=choices,
        help=parse_label(data.get("help"), errors, "help"),
        references=references,
        on_delete=on_delete,
        max_size=max_size,
        file_types=file_types,
    )
    errors.raise_if_any()
    if data.get("default") is not None:
        from api.customers.values import normalise

        try:
            spec = replace(spec, default=to_plain(spec, normalise(spec, data["default"])))
        except ValidationFailed as exc:
            raise ValidationFailed(
                detail=f"{prefix}default: {exc.errors[0].message if exc.errors else exc.detail}",
                errors=[FieldError(f"{prefix}default", e.message, e.code) for e in exc.errors],
            ) from None
    return spec


def _parse_file_options(
    ftype: FieldType, data: dict[str, Any], errors: _Errors
) -> tuple[int | None, tuple[str, ...]]:
    """A file field's ``max_size`` (bytes) and ``file_types`` (kinds: image, pdf, excel…)."""
    from api.customers.files import FILE_KINDS, HARD_MAX_SIZE

    max_size, kinds = data.get("max_size"), data.get("file_types")
    if ftype != FieldType.file:
        for name, value in (("max_size", max_size), ("file_types", kinds)):
            if value is not None:
                errors.add(name, "applies to file fields only")
        return None, ()
    if max_size is not None and (
        not isinstance(max_size, int) or isinstance(max_size, bool)
        or not 1 <= max_size <= HARD_MAX_SIZE
    ):  # fmt: skip
        errors.add("max_size", f"must be a number of bytes from 1 to {HARD_MAX_SIZE}")
        max_size = None
    out: tuple[str, ...] = ()
    if kinds is not None:
        if not isinstance(kinds, list) or not kinds or any(k not in FILE_KINDS for k in kinds):
            errors.add("file_types", f"must list some of: {', '.join(FILE_KINDS)}")
        else:
            out = tuple(k for k in FILE_KINDS if k in kinds)
    return max_size, out


# Types whose value is text a person typed, where a staff-defined pattern applies (the same
# types as api/fields' ``text_like``; a postal code has its own fixed form).
PATTERN_TYPES = frozenset(TEXT_TYPES - {FieldType.postal_code})


def _parse_pattern(ftype: FieldType, pattern: Any, errors: _Errors) -> str | None:
    """A staff-defined pattern, refused when it is not a regular expression or could make
    matching take forever (``api.fields.patterns``: nested quantifiers, back-references…)."""
    import re

    from api.fields.patterns import MAX_PATTERN_LENGTH, UnsafePattern, check_pattern

    if ftype not in PATTERN_TYPES:
        errors.add("pattern", f"does not apply to a {ftype} field")
        return None
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        errors.add(
            "pattern", f"must be a regular expression of 1 to {MAX_PATTERN_LENGTH} characters"
        )
        return None
    try:
        check_pattern(pattern)
    except re.error as exc:
        errors.add("pattern", f"is not a regular expression: {exc}", "invalid_pattern")
        return None
    except UnsafePattern as exc:
        errors.add(
            "pattern",
            f"{exc.reason}. Write it without repeating a repeated part, e.g. "
            "[a-z0-9-]+ instead of ([a-z0-9]+-?)+",
            "unsafe_pattern",
        )
        return None
    return pattern


TABLE_KEYS = frozenset(
    {"key", "label", "statuses", "transitions", "is_member_table", "member", "owner_only",
     "name_field", "company_field", "fields"}
)  # fmt: skip


def parse_table(data: dict[str, Any], prefix: str = "") -> TableSpec:
    errors = _Errors(prefix)
    for name in sorted(set(data) - TABLE_KEYS):
        errors.add(name, "is not a table attribute", "unknown_field")
    key = check_key(data.get("key"), f"{prefix}key")
    statuses = parse_choices(data.get("statuses"), errors, "statuses")
    values = {s.value for s in statuses}
    transitions: dict[str, tuple[str, ...]] = {}
    raw = data.get("transitions") or {}
    if not isinstance(raw, dict):
        errors.add("transitions", "must map a status to the statuses it may change to")
        raw = {}
    for source, targets in raw.items():
        if source not in values:
            errors.add(f"transitions.{source}", "is not one of the statuses")
        elif not isinstance(targets, list) or any(t not in values for t in targets):
            errors.add(f"transitions.{source}", "must list statuses of this table")
        else:
            transitions[source] = tuple(targets)
    flags: dict[str, bool] = {}
    for name, value in (
        ("is_member_table", data.get("is_member_table", data.get("member", False))),
        ("owner_only", data.get("owner_only", False)),
    ):
        if not isinstance(value, bool):
            errors.add(name, "must be true or false")
            value = False
        flags[name] = value
    chosen: dict[str, str | None] = {}
    for name in ("name_field", "company_field"):
        value = data.get(name)
        if value is not None and (
            not isinstance(value, str)
            or len(value) > KEY_MAX_LENGTH
            or not KEY_PATTERN.fullmatch(value)
        ):
            errors.add(name, "must be the key of a field of this table, or null (automatic)")
            value = None
        chosen[name] = value
    label = parse_label(data.get("label"), errors)
    errors.raise_if_any()
    return TableSpec(
        key=key,
        label=label,
        statuses=statuses,
        transitions=transitions,
        is_member_table=flags["is_member_table"],
        owner_only=flags["owner_only"],
        name_field=chosen["name_field"],
        company_field=chosen["company_field"],
    )


def to_plain(spec: FieldSpec, stored: Any) -> Any:
    """A stored value as JSON shows it (dates as ISO text, decimals as text)."""
    from api.customers.values import to_json

    return to_json(spec, stored)
