"""Write the example site's gated attachments (small, real, byte-for-byte reproducible files).

    .venv/bin/python bench/example_files.py [--content content]

Makes one-page PDFs (PDF 1.4, Helvetica, text in English: the standard fonts have no Japanese)
and a ZIP with fixed timestamps, so running it again changes nothing. The files are committed
under content/; this script is how to remake or change them.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

PDFS: dict[str, tuple[str, list[str]]] = {
    "pages/members/files/seminar-2026-slides.pdf": (
        "Kizuna Inc. - Seminar 2026 slides (members only)",
        [
            "Part 1: sample preparation basics",
            "Part 2: daily care of analytical instruments",
            "A fictional demo document of Kizuna CMS.",
        ],
    ),
    "pages/members/doctors/files/dosing-guide.pdf": (
        "Kizuna Inc. - Assay guide for physicians (group: doctors)",
        [
            "Reference ranges and sample handling for the K-200 analyser.",
            "For members of the doctors group only.",
            "A fictional demo document of Kizuna CMS.",
        ],
    ),
    "pages/en/members/doctors/files/dosing-guide-en.pdf": (
        "Kizuna Inc. - Assay guide for physicians, English edition",
        [
            "Reference ranges and sample handling for the K-200 analyser.",
            "For members of the doctors group only.",
            "A fictional demo document of Kizuna CMS.",
        ],
    ),
}

ZIPS: dict[str, dict[str, str]] = {
    "pages/members/pharmacists/files/handling-checklists.zip": {
        "README.txt": "Kizuna Inc. - reagent handling checklists (group: pharmacists).\n"
        "A fictional demo archive of Kizuna CMS.\n",
        "checklist-storage.csv": "item,temperature,check\nreagent A,2-8 C,daily\n"
        "reagent B,room temperature,weekly\n",
        "checklist-disposal.csv": "item,method\nused cartridges,return to Kizuna\n",
    },
    "pages/en/members/pharmacists/files/handling-checklists-en.zip": {
        "README.txt": "Kizuna Inc. - reagent handling checklists, English edition.\n"
        "A fictional demo archive of Kizuna CMS.\n",
        "checklist-storage.csv": "item,temperature,check\nreagent A,2-8 C,daily\n",
    },
}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a title and a few lines of text."""
    ops = [f"/F1 18 Tf 1 0 0 1 72 760 Tm ({_escape(title)}) Tj"]
    y = 720
    for text in lines:
        ops.append(f"/F1 11 Tf 1 0 0 1 72 {y} Tm ({_escape(text)}) Tj")
        y -= 20
    stream = ("BT\n" + "\n".join(ops) + "\nET\n").encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref))  # fmt: skip
    return out.getvalue()


def zip_archive(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 4, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--content", type=Path, default=Path("content"))
    args = parser.parse_args()
    for path, (title, lines) in PDFS.items():
        target = args.content / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pdf(title, lines))
        print(f"wrote {target}")
    for path, files in ZIPS.items():
        target = args.content / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(zip_archive(files))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
