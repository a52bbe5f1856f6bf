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
    return start_pdf_bundle(entries, path, title, build_date).finish()


def start_pdf_bundle(entries: Sequence[BundleEntry], path: Path, title: str, build_date: dt.date) -> PdfBundleJob:
    """Start LibreOffice on `entries` and return at once: the build goes on with its other stages on
    the other core while LibreOffice converts (it is most of the TLF stage), and `finish()` joins."""
    return PdfBundleJob(list(entries), path, title, build_date)


class PdfBundleJob:
    """One LibreOffice conversion running in the background; `finish()` waits for it and writes the
    bundle, `cancel()` stops it. Either removes its temporary folder."""

    def __init__(self, entries: list[BundleEntry], path: Path, title: str, build_date: dt.date):
        self.entries, self.path, self.title, self.build_date = entries, path, title, build_date
        self.process: subprocess.Popen | None = None
        program = libreoffice()
        if program is None:
            log.warning("LibreOffice (soffice) is not installed: no %s (install libreoffice-writer to get it)",
                        path.name)
            return
        # Documents of the same name in different folders would meet in one output folder.
        names = [e.document.stem for e in entries]
        if len(set(names)) != len(names):
            raise ValueError("documents of the PDF bundle must have distinct names")
        self.tmp = Path(tempfile.mkdtemp(prefix="submit-pdf-"))
        command = [program, f"-env:UserInstallation={(self.tmp / 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(self.tmp / "pdf"), *(str(e.document) for e in entries)]
        # Its messages go to a file: a pipe nobody reads while the build goes on could fill and stall it.
        with open(self.tmp / "soffice.log", "wb") as messages:
            self.process = subprocess.Popen(command, stdout=messages, stderr=subprocess.STDOUT)

    def finish(self) -> list[int] | None:
        if self.process is None:
            return None
        try:
            try:
                self.process.wait(timeout=CONVERT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.error("LibreOffice did not finish converting the TLFs in %d s: no %s", CONVERT_TIMEOUT_S,
                          self.path.name)
                return None
            pdfs = [self.tmp / "pdf" / f"{e.document.stem}.pdf" for e in self.entries]
            missing = [e.document.name for e, p in zip(self.entries, pdfs) if not p.is_file()]
            if missing:
                log.error("LibreOffice did not convert %s (exit %d: %s): no %s", ", ".join(missing),
                          self.process.returncode,
                          (self.tmp / "soffice.log").read_text(errors="replace").strip()[-500:], self.path.name)
                return None
            return self._join(pdfs)
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop LibreOffice if it still runs and remove the temporary folder (idempotent)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _join(self, pdfs: list[Path]) -> list[int]:
        writer = PdfWriter()
        root = writer.add_outline_item(title=self.title, page_number=0)
        counts = []
        for entry, pdf in zip(self.entries, pdfs):
            start = len(writer.pages)
            writer.append(PdfReader(pdf), import_outline=False)
            counts.append(len(writer.pages) - start)
            writer.add_outline_item(title=entry.title, page_number=start, parent=root)
            writer.set_page_label(start, len(writer.pages) - 1, style="/D", prefix=f"{entry.id}-", start=1)
        stamp = f"D:{self.build_date:%Y%m%d}000000Z"
        writer.add_metadata({"/Title": self.title, "/Creator": f"submit {__version__}",
                             "/Producer": f"submit {__version__}", "/CreationDate": stamp, "/ModDate": stamp})
        writer.page_mode = "/UseOutlines"
        partial = self.path.with_name(self.path.name + ".part")
        with open(partial, "wb") as handle:
            writer.write(handle)
        partial.replace(self.path)
        return counts
