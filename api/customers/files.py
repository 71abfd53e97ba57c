"""File fields: limits and kinds (the rest lands below)."""

from __future__ import annotations

MIB = 1024 * 1024
DEFAULT_MAX_SIZE = 10 * MIB
HARD_MAX_SIZE = 100 * MIB
FILE_KINDS: dict[str, tuple[str, ...]] = {
    "image": ("image/png", "image/jpeg", "image/gif", "image/webp"),
    "pdf": ("application/pdf",),
}
