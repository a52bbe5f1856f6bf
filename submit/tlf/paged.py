"""The pages of an output, decided once for every writer (DOCX, RTF): the column widths of its
table in twips and the table each page shows (submit.tlf.pages), measured against the text area
of the layout less the title block, column headers, footnotes and source line of every page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from submit.tlf import pages as paging
from submit.tlf import wordml
from submit.tlf.model import RenderedOutput, Table
from submit.tlf.text import Layout

CHAR_WIDTH_EM = 0.6  # Courier New; indentation steps are whole characters
FOOTNOTE_SPACE_PT = 6  # space above the footnotes of every page


@dataclass(frozen=True)
class Geometry:
    """The text area of a page in the units pagination counts in."""

    text_width: int  # twips
    char_twips: float
    line_chars: int  # characters of a full-width line
    line_pt: float
    height_pt: float  # text height less the page break paragraph and the safety room

    @classmethod
    def of(cls, layout: Layout) -> Geometry:
        char_twips = layout.font.size_pt * CHAR_WIDTH_EM * 20
        text_width = round(layout.page.text_width_in * wordml.TWIPS_PER_INCH)
        line = paging.line_pt(layout.font.size_pt)
        return cls(text_width, char_twips, int(text_width // char_twips), line,
                   layout.page.text_height_in * 72 - 1 - paging.SAFETY_LINES * line)

    def lines(self, texts: Sequence[str], width: int | None = None) -> int:
        return int(paging.wrapped_lines(list(texts), width or self.line_chars).sum()) if texts else 0


@dataclass(frozen=True, eq=False)
class PagedOutput:
    output: RenderedOutput
    widths: tuple[int, ...] = ()  # twips per table column, summing to the text width
    pages: tuple[Table, ...] = ()  # what each page of a table shows; a figure has one page and none here
    char_twips: float = 0.0  # of the layout the pages were decided for

    @property
    def n_pages(self) -> int:
        return len(self.pages) if self.output.table is not None else 1

    @cached_property
    def body_xml(self) -> tuple[str, ...]:
        """The WordprocessingML body rows of each page, built once for every DOCX that shows them
        (the output's own and the combined document)."""
        return tuple(wordml.bodies_xml(self.pages, self.widths, self.char_twips))


def trailer_pt(output: RenderedOutput, geometry: Geometry) -> float:
    """Footnotes and the source line, under the rows of every page."""
    return FOOTNOTE_SPACE_PT + geometry.lines([*output.footnotes, output.source]) * geometry.line_pt


def title_pt(output: RenderedOutput, geometry: Geometry) -> float:
    """The title block: heading, title lines, population and an empty line (wordml.title_cell_paragraphs)."""
    lines = geometry.lines([output.heading, *output.titles, output.population, ""])
    return lines * geometry.line_pt + paging.ROW_PAD_PT


def page_output(output: RenderedOutput, layout: Layout, geometry: Geometry | None = None) -> PagedOutput:
    """The column widths and pages of `output` (a figure: one page)."""
    if output.table is None:
        if output.figure is None:
            raise ValueError(f"output {output.id} has neither a table nor a figure")
        return PagedOutput(output)
    geometry = geometry or Geometry.of(layout)
    table = output.table
    widths = wordml.grid_widths(table, geometry.text_width, geometry.char_twips)
    chars = wordml.text_chars(widths, geometry.char_twips)
    headers = sum(paging.header_lines(table, chars)) * geometry.line_pt + paging.ROW_PAD_PT * len(table.header)
    room = geometry.height_pt - title_pt(output, geometry) - headers - trailer_pt(output, geometry)
    pages = paging.paginate(table, chars, room, layout.font.size_pt)
    return PagedOutput(output, tuple(widths), tuple(page.table for page in pages), geometry.char_twips)
