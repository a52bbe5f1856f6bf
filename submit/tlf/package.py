"""All outputs of a study into `outputs/tlf/`: each output as DOCX and RTF (the formats the
study's TLF settings name), the data behind each as CSV, the figures as PNG, the index
`tlf_index.csv`, one combined DOCX with a table of contents and, with `pdf`, one bookmarked PDF.

    tlf/<file>.docx  tlf/<file>.rtf  tlf/ard/<id>.csv  tlf/figures/<file>.png  tlf/tlf_index.csv
    tlf/tlf_all.docx  tlf/tlf_all.pdf

Both documents of an output are written from the same pages (submit.tlf.paged). The index has a
row per output: id, kind, title, file (the DOCX), rtf (the RTF), pdf_pages (its pages in
tlf_all.pdf, "first-last"), ard, population, datasets; a format not written leaves its column empty.

`ard/<id>.csv` holds every number an output prints: for a table its ARD (long, DESIGN.md); for a
figure the same long columns with group "curve" (figure.figure_ard: n, events, median and CI per
curve; survival and pointwise CI at each event time; number at risk at each at-risk time;
subjects censored at each censoring time; times unrounded in the drawn unit); for a listing the
listing as printed, wide: one column per listing column, named by its variable, one row per
printed row in printed order, repeated key values shown (not blanked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.tlf.ard import write_ard
from submit.tlf.docx_writer import write_docx
from submit.tlf.figure import figure_ard, km_figure
from submit.tlf.layout import render_table
from submit.tlf.listing import printed_listing, render_listing
from submit.tlf.model import RenderedOutput
from submit.tlf.paged import PagedOutput, page_output
from submit.tlf.pdf_bundle import BUNDLE_FILE, BundleEntry, PdfBundleJob, start_pdf_bundle
from submit.tlf.rtf_writer import write_rtf
from submit.tlf.settings import DEFAULT_FORMATS
from submit.tlf.shell import FigureShell, ListingShell, TableShell
from submit.tlf.text import Layout, TlfContext, load_layout, render_text

COMBINED_FILE = "tlf_all.docx"
INDEX_FILE = "tlf_index.csv"
INDEX_COLUMNS = ("id", "kind", "title", "file", "rtf", "pdf_pages", "ard", "population", "datasets")


def output_order(shell) -> tuple[int, ...]:
    """CSR order: 14.1.2 before 14.1.10."""
    return tuple(int(part) for part in shell.id.split("."))


def render_output(shell: TableShell | ListingShell | FigureShell, result, context: TlfContext, layout: Layout,
                  figure_dir: Path) -> RenderedOutput:
    """One output with its text resolved; `result` is the ARD (table), the listing frame (listing)
    or the KmCurve sequence (figure). Figures are written to `figure_dir/<file>.png`."""
    where = f"{shell.source or 'shell'}, id {shell.id}"
    table = figure = None
    if isinstance(shell, TableShell):
        table = render_table(shell, result, context)
    elif isinstance(shell, ListingShell):
        table = render_listing(shell, result, context)
    else:
        figure_dir.mkdir(parents=True, exist_ok=True)
        figure = km_figure(result, figure_dir / f"{shell.file}.png", shell.figure,
                           width_in=layout.page.text_width_in, height_in=layout.figure_height_in,
                           font=layout.font.name)
    flag = shell.population.flag
    return RenderedOutput(
        id=shell.id, kind=shell.kind_label, file=shell.file,
        titles=tuple(render_text(t, context, f"{where}.title") for t in shell.title),
        population=render_text(shell.population.label, context, f"{where}.population"),
        population_flag=flag, datasets=shell.datasets,
        footnotes=tuple(render_text(f, context, f"{where}.footnotes") for f in shell.footnotes),
        source=" ".join(render_text(layout.source, context, "layout source", datasets=list(shell.datasets),
                                    population=shell.population.label, population_flag=flag).split()),
        table=table, figure=figure)


def write_tlf_package(shells: Sequence, results: Mapping[str, object], out_dir: Path, context: TlfContext,
                      layout: Layout | None = None, formats: Sequence[str] = DEFAULT_FORMATS) -> pd.DataFrame:
    """Render every shell that has a result (keyed by output id) into `out_dir` in `formats`
    (docx, rtf, pdf: see submit.tlf.settings); returns the index.

    Every problem of every output is reported at once; a result without a shell is an error."""
    return start_tlf_package(shells, results, out_dir, context, layout, formats).finish()


@dataclass
class PendingTlfPackage:
    """Every output written but the PDF bundle, which LibreOffice converts in the background:
    `finish()` waits for it and writes the index (its pdf_pages come from the bundle)."""
    index: pd.DataFrame
    path: Path  # tlf_index.csv
    bundle: PdfBundleJob | None = None

    def finish(self) -> pd.DataFrame:
        counts = self.bundle.finish() if self.bundle is not None else None
        if counts is not None:
            last = np.cumsum(counts)
            self.index["pdf_pages"] = [f"{b - n + 1}-{b}" for b, n in zip(last, counts)]
        self.index.to_csv(self.path, index=False, lineterminator="\n")
        return self.index

    def cancel(self) -> None:
        if self.bundle is not None:
            self.bundle.cancel()


def start_tlf_package(shells: Sequence, results: Mapping[str, object], out_dir: Path, context: TlfContext,
                      layout: Layout | None = None, formats: Sequence[str] = DEFAULT_FORMATS) -> PendingTlfPackage:
    """`write_tlf_package` up to the PDF bundle, which is started and left running."""
    layout = layout or load_layout()
    by_id = {s.id: s for s in shells}
    unknown = sorted(set(results) - set(by_id))
    if unknown:
        raise InputError("TLF results without a shell",
                         [Problem("TLF results", f"no shell has id {i}") for i in unknown])
    out_dir = Path(out_dir)
    (out_dir / "ard").mkdir(parents=True, exist_ok=True)
    rendered: list[RenderedOutput] = []
    pages: list[PagedOutput] = []
    problems: list[Problem] = []
    for shell in sorted((s for s in shells if s.id in results), key=output_order):
        try:
            output = render_output(shell, results[shell.id], context, layout, out_dir / "figures")
        except InputError as exc:
            problems += exc.problems or [Problem(shell.source or shell.id, exc.summary)]
            continue
        write_output_data(shell, results[shell.id], out_dir / "ard" / f"{shell.id}.csv")
        paged = page_output(output, layout)
        if "docx" in formats:
            write_docx([output], out_dir / f"{shell.file}.docx", layout, context, title=_doc_title(output),
                       paged=[paged])
        if "rtf" in formats:
            write_rtf(output, out_dir / f"{shell.file}.rtf", layout, context, title=_doc_title(output), paged=paged)
        rendered.append(output)
        pages.append(paged)
    if problems:
        raise InputError("TLF outputs cannot be rendered", problems)
    index = pd.DataFrame([{"id": o.id, "kind": o.kind, "title": " ".join(o.titles),
                           "file": f"{o.file}.docx" if "docx" in formats else "",
                           "rtf": f"{o.file}.rtf" if "rtf" in formats else "", "pdf_pages": "",
                           "ard": f"ard/{o.id}.csv",
                           "population": o.population, "datasets": " ".join(o.datasets)} for o in rendered],
                         columns=list(INDEX_COLUMNS))
    bundle = None
    if rendered:
        title = render_text(layout.combined_title, context, "layout combined_title")
        if "docx" in formats:
            write_docx(rendered, out_dir / COMBINED_FILE, layout, context, title=title, toc=True, paged=pages)
        if "pdf" in formats:
            kind = "docx" if "docx" in formats else "rtf"
            entries = [BundleEntry(o.id, _doc_title(o), out_dir / f"{o.file}.{kind}") for o in rendered]
            bundle = start_pdf_bundle(entries, out_dir / BUNDLE_FILE, title, context.build_date)
    return PendingTlfPackage(index, out_dir / INDEX_FILE, bundle)


def write_output_data(shell, result, path: Path) -> None:
    """The CSV of the numbers an output prints (see the module docstring)."""
    if isinstance(shell, TableShell):
        write_ard(result, path)
    elif isinstance(shell, ListingShell):
        printed_listing(shell, result).to_csv(path, index=False, lineterminator="\n")
    else:
        figure_ard(shell.id, result, shell.figure.at_risk_times).to_csv(path, index=False, lineterminator="\n")


def _doc_title(output: RenderedOutput) -> str:
    return f"{output.heading} {' '.join(output.titles)}"
