"""One PDF of every output, `tlf_all.pdf`, as reviewers read a package: each output's document
converted by LibreOffice (headless, one call for all files, its own profile in a temporary folder
so that it neither meets a running LibreOffice nor leaves anything behind), joined with pypdf.
The bookmarks are the TLF index (under one bookmark of the bundle's title, one per output: its
number and full title, opening its first page), the page labels the output's number and the page
within it ("<id>-1", "<id>-2"); the viewer opens with the bookmarks shown.

LibreOffice is optional: without it the build logs why and writes no PDF. Reproducible: pypdf
copies the pages only (not LibreOffice's document information with its creation time), the
information dictionary carries the build date, and no /ID is written (optional in an unencrypted
PDF; pypdf's identifiers would be random).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from submit import __version__

log = logging.getLogger("submit.tlf")

BUNDLE_FILE = "tlf_all.pdf"
CONVERT_TIMEOUT_S = 900


@dataclass(frozen=True)
class BundleEntry:
    id: str  # the output id: the page label prefix
    title: str  # the bookmark: "<Table|Listing|Figure> <id> <first title line>"
    document: Path  # DOCX or RTF


def libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_pdf_bundle(entries: Sequence[BundleEntry], path: Path, title: str, build_date: dt.date) -> list[int] | None:
    """Convert and join `entries` into `path`; returns the pages of each entry, or None (and no
    file) when LibreOffice is not installed or did not convert every document."""
    program = libreoffice()
    if program is None:
        log.warning("LibreOffice (soffice) is not installed: no %s (install libreoffice-writer to get it)", path.name)
        return None
    with tempfile.TemporaryDirectory(prefix="submit-pdf-") as tmp:
        pdfs = _convert(program, [e.document for e in entries], Path(tmp))
        if pdfs is None:
            return None
        writer = PdfWriter()
        root = writer.add_outline_item(title=title, page_number=0)
        counts = []
        for entry, pdf in zip(entries, pdfs):
            start = len(writer.pages)
            writer.append(PdfReader(pdf), import_outline=False)
            counts.append(len(writer.pages) - start)
            writer.add_outline_item(title=entry.title, page_number=start, parent=root)
            writer.set_page_label(start, len(writer.pages) - 1, style="/D", prefix=f"{entry.id}-", start=1)
        stamp = f"D:{build_date:%Y%m%d}000000Z"
        writer.add_metadata({"/Title": title, "/Creator": f"submit {__version__}", "/Producer": f"submit {__version__}",
                             "/CreationDate": stamp, "/ModDate": stamp})
        writer.page_mode = "/UseOutlines"
        partial = path.with_name(path.name + ".part")
        with open(partial, "wb") as handle:
            writer.write(handle)
        partial.replace(path)
    return counts


def _convert(program: str, documents: Sequence[Path], tmp: Path) -> list[Path] | None:
    """PDFs of `documents` in `tmp/pdf`, one LibreOffice run; None (logged) when any is missing."""
    out = tmp / "pdf"
    # Documents of the same name in different folders would meet in one output folder.
    names = [d.stem for d in documents]
    if len(set(names)) != len(names):
        raise ValueError("documents of the PDF bundle must have distinct names")
    command = [program, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out), *(str(d) for d in documents)]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        log.error("LibreOffice did not finish converting the TLFs in %d s: no %s", CONVERT_TIMEOUT_S, BUNDLE_FILE)
        return None
    pdfs = [out / f"{d.stem}.pdf" for d in documents]
    missing = [d.name for d, p in zip(documents, pdfs) if not p.is_file()]
    if missing:
        log.error("LibreOffice did not convert %s (exit %d: %s): no %s", ", ".join(missing), run.returncode,
                  (run.stderr or run.stdout).strip()[-500:], BUNDLE_FILE)
        return None
    return pdfs
