"""JSON files of `site/meta/`: one entry a line, written by json's C encoder."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)


def dumps(document: dict[str, Any]) -> str:
    """JSON with one top-level key, and one element of each large table or list, a line: easy
    to read and to diff, and written by the C encoder (`indent=` makes json use its pure-Python
    encoder, several times slower on a manifest of thousands of entries)."""
    out = ["{"]
    for n, (key, value) in enumerate(document.items()):
        comma = "," if n < len(document) - 1 else ""
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            inner = ",\n".join(f"  {_compact(k)}: {_compact(v)}" for k, v in value.items())
            out.append(f" {_compact(key)}: {{\n{inner}\n }}{comma}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            inner = ",\n".join(f"  {_compact(v)}" for v in value)
            out.append(f" {_compact(key)}: [\n{inner}\n ]{comma}")
        else:
            out.append(f" {_compact(key)}: {_compact(value)}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"
