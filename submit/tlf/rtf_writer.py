"""RTF of one output, from the same pages as the DOCX (submit.tlf.paged): every page its own table
whose title block and column header rows are flagged as header rows (\\trhdr), its rows, then the
footnotes and the source line, and an explicit page break. The page header carries the layout's
header lines with "Page X of Y" as PAGE and NUMPAGES fields whose written results are the computed
numbers (one output per file, so NUMPAGES is the output's page count). Figures are embedded PNG.

Written by hand (RTF 1.9 control words, ASCII only, anything else as \\uN? escapes) rather than
with rtflite: rtflite builds its own pages from a data frame (rows per page, its own column
headers and group handling) and would re-paginate what submit.tlf.pages has already decided
("(continued)" rows, listing keys refilled, footnotes on every page, the same pages as the DOCX),
and it brings polars for what is here a few hundred lines of text. Body rows are built per column
with pandas string operations, as for the DOCX, so a listing of thousands of rows stays fast.

Byte-reproducible: no timestamps but the build date in \\info.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from submit import __version__
from submit.tlf import wordml
from submit.tlf.model import RenderedOutput, Table
from submit.tlf.paged import FOOTNOTE_SPACE_PT, Geometry, PagedOutput, page_output
from submit.tlf.text import Layout, TlfContext, render_text

RULE = r"\brdrs\brdrw15"  # 3/4 pt single line, as wordml.RULE
_PAGE_BREAK = "\\pard\\plain\\sl-20\\slmult0\\f0\\fs2\\page\\par\n"  # a paragraph of no visible height
_ROW_PROPS = (f"\\trgaph{wordml.CELL_MARGIN}\\trleft0\\trqc\\trkeep"
              f"\\trpaddl{wordml.CELL_MARGIN}\\trpaddr{wordml.CELL_MARGIN}\\trpaddt{wordml.CELL_PAD_TOP}"
              "\\trpaddfl3\\trpaddfr3\\trpaddft3")
_HEX_LINE = 128  # hex digits per line of picture data


class _Escapes(dict):
    """str.translate table: RTF specials, line breaks, and every non-ASCII character as \\uN?
    (N a signed 16-bit number; characters beyond the BMP as a UTF-16 surrogate pair)."""

    def __missing__(self, code: int) -> str:
        if code < 0x80:
            raise LookupError  # ASCII without a meaning in RTF: kept as it is
        units = struct.unpack("<" + "h" * (len(chr(code).encode("utf-16-le")) // 2), chr(code).encode("utf-16-le"))
        self[code] = "".join(f"\\u{u}?" for u in units)
        return self[code]


_ESCAPES = _Escapes({
    **{c: c for c in range(0x20, 0x7F)},  # printable ASCII as itself: found in the table, not by __missing__
    **{c: None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)},
    ord("\\"): "\\\\", ord("{"): "\\{", ord("}"): "\\}", ord("\r"): None, ord("\t"): " ",
    ord("\n"): "\\line ", 0x2011: "\\_", 0xA0: "\\~", 0xFFFE: None, 0xFFFF: None,
})


def escape(text: str) -> str:
    return str(text).translate(_ESCAPES)


def escape_column(text: pd.Series) -> pd.Series:
    return text.astype(str).str.translate(_ESCAPES)


def write_rtf(output: RenderedOutput, path: Path, layout: Layout, context: TlfContext, *, title: str,
              paged: PagedOutput | None = None) -> int:
    """Write `output` to `path` as RTF; returns its number of pages."""
    geometry = Geometry.of(layout)
    paged = paged or page_output(output, layout, geometry)
    n_pages = paged.n_pages
    font = f"\\f0\\fs{round(layout.font.size_pt * 2)}"  # every paragraph: the monospaced font, half-points
    header = [tuple(render_text(text, context, "layout header") for text in (line.left, line.right))
              for line in layout.header]
    parts = [_prologue(layout, title, context.build_date),
             _section(layout, header, geometry.text_width, n_pages, font)]
    trailer = _trailer(output, font)
    if output.table is not None:
        titles = _title_paragraphs(output, font, in_table=True)
        bodies = _bodies(paged.pages, paged.widths, font, geometry.char_twips)
        for k, (page, body) in enumerate(zip(paged.pages, bodies)):
            if k:
                parts.append(_PAGE_BREAK)
            parts.append(_table(page, paged.widths, titles, font) + body)
            parts.append(trailer)
    else:
        titles = _title_paragraphs(output, font, in_table=False)[:-1]
        parts += ["".join(t + "\\par\n" for t in titles), _picture(output.figure, layout, geometry, font), trailer]
    parts.append("}\n")
    Path(path).write_bytes("".join(parts).encode("ascii"))
    return n_pages


def _twips(inches: float) -> int:
    return round(inches * wordml.TWIPS_PER_INCH)


def _prologue(layout: Layout, title: str, build_date: dt.date) -> str:
    stamp = f"\\yr{build_date.year}\\mo{build_date.month}\\dy{build_date.day}\\hr0\\min0"
    page, m = layout.page, layout.page.margins_in
    return ("{\\rtf1\\ansi\\ansicpg1252\\uc1\\deff0\\deflang1033\n"
            f"{{\\fonttbl{{\\f0\\fmodern\\fprq1\\fcharset0 {escape(layout.font.name)};}}}}\n"
            "{\\colortbl;\\red0\\green0\\blue0;}\n"
            f"{{\\info{{\\title {escape(title)}}}{{\\author submit}}{{\\operator submit}}"
            f"{{\\creatim{stamp}}}{{\\revtim{stamp}}}{{\\doccomm submit {escape(__version__)}}}}}\n"
            f"\\paperw{_twips(page.width_in)}\\paperh{_twips(page.height_in)}"
            f"\\margl{_twips(m.left)}\\margr{_twips(m.right)}\\margt{_twips(m.top)}\\margb{_twips(m.bottom)}"
            "\\landscape\\widowctrl\\viewkind1\n")


def _section(layout: Layout, header: Sequence[tuple[str, str]], text_width: int, n_pages: int, font: str) -> str:
    """Landscape page, margins, pages numbered from 1, and the page header: left text, right text
    at the right margin, a rule under the last line."""
    page, m = layout.page, layout.page.margins_in
    props = (f"\\sectd\\lndscpsxn\\pgwsxn{_twips(page.width_in)}\\pghsxn{_twips(page.height_in)}"
             f"\\marglsxn{_twips(m.left)}\\margrsxn{_twips(m.right)}\\margtsxn{_twips(m.top)}"
             f"\\margbsxn{_twips(m.bottom)}\\headery{_twips(m.header)}\\footery{_twips(m.header)}"
             "\\pgnrestart\\pgnstarts1\n")
    shown = {"SECTIONPAGES": str(n_pages), "NUMPAGES": str(n_pages)}
    lines = list(header) or [("", "")]
    out = []
    for i, (left, right) in enumerate(lines):
        rule = f"\\brdrb{RULE}\\brsp20" if i == len(lines) - 1 else ""
        text = _with_fields(left, shown) + ("\\tab " + _with_fields(right, shown) if right else "")
        out.append(f"\\pard\\plain\\ql{rule}\\tqr\\tx{text_width}{font} {text}\\par\n")
    return props + "{\\header\n" + "".join(out) + "}\n"


def _with_fields(text: str, shown: dict[str, str]) -> str:
    """Text in which {PAGE}, {NUMPAGES} and {SECTIONPAGES} stand for fields, each written with its
    computed result. A file holds one output, so SECTIONPAGES (which RTF readers do not all know)
    is written as NUMPAGES."""
    parts = re.split(r"\{(PAGE|NUMPAGES|SECTIONPAGES)\}", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            instruction = "PAGE" if part == "PAGE" else "NUMPAGES"
            out.append(f"{{\\field{{\\*\\fldinst {instruction} }}{{\\fldrslt {escape(shown.get(part, '1'))}}}}}")
        elif part:
            out.append(escape(part))
    return "".join(out)


def _title_paragraphs(output: RenderedOutput, font: str, in_table: bool) -> list[str]:
    """The title block as in the DOCX, bold and centred: "Table 14.x" and the first title line,
    the other title lines, the population and an empty line (paragraphs without their end)."""
    intbl = "\\intbl" if in_table else ""
    head = escape(output.heading) + ("\\line " + escape(output.titles[0]) if output.titles else "")
    texts = [head, *(escape(t) for t in output.titles[1:]), escape(output.population), ""]
    return [f"\\pard\\plain{intbl}\\qc\\keepn{font}\\b {text}" for text in texts]


def _table(table: Table, widths: Sequence[int], titles: list[str], font: str) -> str:
    """The head of one page's table: a title row across the table and the column header rows,
    all header rows (\\trhdr); no row breaks across pages (\\trkeep)."""
    edges = np.cumsum(widths).tolist()
    out = [f"\\trowd{_ROW_PROPS}\\trhdr\\clvertalt\\cellx{edges[-1]}\n" + "\\par\n".join(titles) + "\\cell\\row\n"]
    last = len(table.header) - 1
    for r, row in enumerate(table.header):
        defs, cells, col = [], [], 0
        for cell in row:
            borders = (f"\\clbrdrt{RULE}" if r == 0 else "") + (f"\\clbrdrb{RULE}" if r == last or cell.underline else "")
            defs.append(f"{borders}\\clvertalt\\cellx{edges[col + cell.span - 1]}")
            align = "\\ql" if col == 0 or table.align[col] == "left" else "\\qc"
            cells.append(f"\\pard\\plain\\intbl{align}{font} {escape(cell.text)}\\cell")
            col += cell.span
        out.append(f"\\trowd{_ROW_PROPS}\\trhdr" + "".join(defs) + "\n" + "".join(cells) + "\\row\n")
    return "".join(out)


def _bodies(pages: Sequence[Table], widths: Sequence[int], font: str, char_twips: float) -> list[str]:
    """The body rows of every page, built per column over the rows of all pages at once (pandas
    costs the same for a page of twenty rows as for thousands); each page's last row carries the
    table's bottom rule. Indentation of the first column and the decimal alignment room of
    centred cells (table.pad_left / pad_right, characters) are \\li / \\ri in twips, as in the DOCX."""
    edges = np.cumsum(widths).tolist()
    lengths = [len(page.body) for page in pages]
    if not sum(lengths):
        return ["" for _ in pages]
    first = pages[0]
    body = pd.concat([page.body for page in pages], ignore_index=True)
    indent = np.concatenate([page.indent for page in pages])
    padded = all(p.pad_left is not None and p.pad_right is not None for p in pages)
    pad_left = np.concatenate([p.pad_left for p in pages]) if padded else None
    pad_right = np.concatenate([p.pad_right for p in pages]) if padded else None
    plain = f"\\trowd{_ROW_PROPS}" + "".join(f"\\clvertalt\\cellx{e}" for e in edges) + "\n"
    ruled = f"\\trowd{_ROW_PROPS}" + "".join(f"\\clbrdrb{RULE}\\clvertalt\\cellx{e}" for e in edges) + "\n"
    cells = np.full(len(body), "", dtype=object)  # object arrays: numpy joins the strings, no pandas overhead
    for j, name in enumerate(body.columns):
        if j == 0:
            steps = np.round(indent * 2 * char_twips).astype(int).astype(str).astype(object)
            para = "\\pard\\plain\\intbl\\ql\\li" + steps + font + " "
        elif first.align[j] == "left":
            para = "\\pard\\plain\\intbl\\ql" + font + " "
        elif padded:
            left = np.round(pad_left[:, j] * char_twips).astype(int).astype(str).astype(object)
            right = np.round(pad_right[:, j] * char_twips).astype(int).astype(str).astype(object)
            para = "\\pard\\plain\\intbl\\qc\\li" + left + "\\ri" + right + font + " "
        else:
            para = "\\pard\\plain\\intbl\\qc" + font + " "
        cells = cells + para + escape_column(body[name]).to_numpy(dtype=object) + "\\cell"
    rows = (cells + "\\row\n").tolist()
    out, start = [], 0
    for n in lengths:
        page_rows = rows[start:start + n]
        out.append("".join(plain + r for r in page_rows[:-1]) + (ruled + page_rows[-1] if n else ""))
        start += n
    return out


def _trailer(output: RenderedOutput, font: str) -> str:
    """Footnotes and the source line, under the rows of every page (space above the first)."""
    space = f"\\sb{FOOTNOTE_SPACE_PT * 20}"
    return "".join(f"\\pard\\plain\\ql{space if i == 0 else ''}{font} {escape(text)}\\par\n"
                   for i, text in enumerate([*output.footnotes, output.source]))


def _picture(path: Path, layout: Layout, geometry: Geometry, font: str) -> str:
    """The PNG at the text width, scaled down to the figure height of the layout (as the DOCX)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    px, py = struct.unpack(">II", data[16:24])  # IHDR: width and height in pixels
    width = geometry.text_width
    height = round(width * py / px)
    limit = _twips(layout.figure_height_in)
    if height > limit:
        width, height = round(width * limit / height), limit
    digits = data.hex()
    lines = "\n".join(digits[i:i + _HEX_LINE] for i in range(0, len(digits), _HEX_LINE))
    return (f"\\pard\\plain\\qc\\keepn{font} {{\\pict\\pngblip\\picw{px}\\pich{py}"
            f"\\picwgoal{width}\\pichgoal{height}\n{lines}\n}}\\par\n")
