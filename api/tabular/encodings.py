"""Which encoding a file is in, checked over the whole file before anything is written.

Excel on Japanese Windows writes "CSV" in CP932 (Microsoft's Shift_JIS, with the NEC and IBM
extension characters ① ㈱ 髙 that plain Shift_JIS lacks) and "CSV UTF-8" with a BOM; other
tools write UTF-8 without one. ``auto`` reads a BOM if there is one, else decodes the whole
file as UTF-8 and, failing that, as CP932: a sample of the first kilobytes is not enough (an
ASCII header and a thousand ASCII rows say nothing of row 1,001). Strict UTF-8 almost never
accepts CP932 text by accident, so trying it first is safe; the reverse is not.

Nothing is guessed past that: a file that decodes as neither is refused, saying where each
stopped, and a chosen encoding that fails is refused with the line, the byte and a hint when
the other encoding would have worked. Never mojibake.

Writing CP932: a handful of characters have a twin that CP932 holds and that looks the same
(WAVE DASH 〜 vs FULLWIDTH TILDE ～, MINUS SIGN − vs FULLWIDTH HYPHEN-MINUS －…); text typed on a
Mac or copied from the web carries the former. They are written as their twin, as Excel and
every Japanese mail client do. Anything else CP932 cannot hold (emoji, 𠮷) is a *gap*: listed,
and replaced only when asked.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from api.tabular.messages import FileRefused

Encoding = Literal["utf-8", "utf-8-sig", "cp932"]
Requested = Literal["auto", "utf-8", "cp932"]

CHUNK = 1 << 20

# JIS X 0208 code points Unicode maps twice: the left one is what Shift_JIS tables and Macs
# produce, the right one what CP932 has at the same byte pair.
CP932_TWINS = str.maketrans(
    {
        "\u301c": "\uff5e",  # 〜 WAVE DASH → ～ FULLWIDTH TILDE
        "\u2016": "\u2225",  # ‖ DOUBLE VERTICAL LINE → ∥ PARALLEL TO
        "\u2212": "\uff0d",  # − MINUS SIGN → － FULLWIDTH HYPHEN-MINUS
        "\u00a2": "\uffe0",  # ¢ → ￠
        "\u00a3": "\uffe1",  # £ → ￡
        "\u00ac": "\uffe2",  # ¬ → ￢
        "\u2014": "\u2015",  # — EM DASH → ― HORIZONTAL BAR
    }
)
# What a gap becomes when the user asks for replacement: the geta mark, the traditional
# stand-in for a character the type case did not have.
GETA = "\u3013"


@dataclass(frozen=True)
class DecodeFailure:
    line: int  # 1-based line of the file (physical line, as an editor shows it)
    offset: int  # 0-based byte offset


def first_failure(stream: BinaryIO, encoding: str) -> DecodeFailure | None:
    """Decode the whole stream; where it first fails, or None.

    Reads 1 MB at a time and decodes up to the chunk's last line feed: 0x0A is never part of a
    multi-byte character in UTF-8 or CP932, so every piece starts on a character and an error's
    position is exact.
    """
    done = 0  # bytes decoded so far
    lines = 0  # line feeds in them
    pending = b""
    while True:
        chunk = stream.read(CHUNK)
        data = pending + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        piece = data[:cut]
        try:
            piece.decode(encoding)
        except UnicodeDecodeError as exc:
            return DecodeFailure(lines + piece.count(b"\n", 0, exc.start) + 1, done + exc.start)
        if not chunk:
            return None
        lines += piece.count(b"\n")
        done += cut
        pending = data[cut:]


def detect(path: Path, requested: Requested = "auto") -> Encoding:
    """The encoding to read ``path`` with, checked over the whole file, or :class:`FileRefused`."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if not head:
            raise FileRefused.of("file_empty")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileRefused.of("file_utf16")
        bom = head.startswith(codecs.BOM_UTF8)
        fh.seek(0)
        if requested in ("auto", "utf-8"):
            utf8 = first_failure(fh, "utf-8")
            if utf8 is None:
                return "utf-8-sig" if bom else "utf-8"
            if bom or requested == "utf-8":
                fh.seek(0)
                other = None if bom else first_failure(fh, "cp932")
                raise FileRefused.of(
                    "file_not_utf8",
                    line=utf8.line,
                    offset=utf8.offset,
                    suggest="cp932" if not bom and other is None else "",
                )
            fh.seek(0)
            cp932 = first_failure(fh, "cp932")
            if cp932 is None:
                return "cp932"
            raise FileRefused.of(
                "file_encoding_unknown", utf8_line=utf8.line, cp932_line=cp932.line
            )
        cp932 = first_failure(fh, "cp932")
        if cp932 is None:
            return "cp932"
        fh.seek(0)
        utf8 = first_failure(fh, "utf-8")
        raise FileRefused.of(
            "file_not_cp932",
            line=cp932.line,
            offset=cp932.offset,
            suggest="utf-8" if utf8 is None else "",
        )


def cp932_gaps(text: str) -> str:
    """The characters of ``text`` CP932 cannot hold (after the twins are mapped), in order, once."""
    seen: dict[str, None] = {}
    for char in text.translate(CP932_TWINS):
        if char not in seen and not _cp932_has(char):
            seen[char] = None
    return "".join(seen)


def _cp932_has(char: str) -> bool:
    if char < "\x80":
        return True
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def to_cp932(text: str, *, replace: bool = False) -> bytes:
    """``text`` in CP932, twins mapped; a gap raises UnicodeEncodeError unless ``replace``."""
    mapped = text.translate(CP932_TWINS)
    if not replace:
        return mapped.encode("cp932")
    return "".join(c if _cp932_has(c) else GETA for c in mapped).encode("cp932")
