"""WordprocessingML written as text: paragraphs, complex fields and whole tables.

python-docx adds table cells one Python object at a time (seconds for a listing of thousands of
rows); here a table body is built column by column with pandas string operations and parsed
once. Style ids refer to the styles `docx_writer.add_styles` defines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from submit.tlf.model import Table

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TWIPS_PER_INCH = 1440
WRAP_FLOOR = 8  # characters: the narrowest a column of wrapping text is made
CELL_MARGIN = 43  # twips left and right of the text in each cell (0.03 in)
CELL_PAD_TOP = 20  # twips above the text: keeps a row clear of the rule above it
RULE = 'w:val="single" w:sz="6" w:space="0" w:color="000000"'  # 3/4 pt black line
KEEP_SUFFIX = "Keep"  # style variant with keep-with-next (heading rows of a block)
INDENT_STYLES = ("TLFCell", "TLFCellIndent1", "TLFCellIndent2", "TLFCellIndent3", "TLFCellIndent4")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_NO_BREAK_HYPHEN = '</w:t><w:noBreakHyphen/><w:t xml:space="preserve">'  # U+2011 in the text
# One translation table: XML escapes, line breaks, tabs, and control characters XML 1.0 forbids.
_TRANSLATION = str.maketrans({**{chr(c): None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))},
                              "\ufffe": None, "\uffff": None, "\r": None, "\t": " ",
                              "&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": _BREAK,
                              "\u2011": _NO_BREAK_HYPHEN})


def escape(text: str) -> str:
    return text.translate(_TRANSLATION)


def escape_column(text: pd.Series) -> pd.Series:
    """`escape` over a column of text."""
    return text.astype(str).str.translate(_TRANSLATION)


def run(text: str, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def field(instruction: str, shown: str = "1") -> str:
    """A complex field (begin / instruction / separate / cached result / end), e.g. PAGE."""
    return ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve"> {instruction} </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f'<w:r><w:t>{escape(shown)}</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def text_with_fields(text: str, shown: dict[str, str] | None = None) -> str:
    """Runs for text in which {PAGE}, {NUMPAGES} and {SECTIONPAGES} stand for Word fields; `shown`
    gives a field's cached result (what a reader that does not compute the field shows)."""
    parts = re.split(r"\{(PAGE|NUMPAGES|SECTIONPAGES)\}", text)
    shown = shown or {}
    return "".join(field(part, shown.get(part, "1")) if i % 2 else (run(part) if part else "")
                   for i, part in enumerate(parts))


def paragraph(content: str, style: str, *, keep_next: bool = False, extra_ppr: str = "") -> str:
    keep = "<w:keepNext/>" if keep_next else ""
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{keep}{extra_ppr}</w:pPr>{content}</w:p>'


def header_paragraph(left: str, right: str, text_width: int, shown: dict[str, str] | None = None) -> str:
    """Left text, then right-aligned text at the right margin (with PAGE / SECTIONPAGES fields)."""
    tabs = (f'<w:tabs><w:tab w:val="clear" w:pos="4680"/><w:tab w:val="clear" w:pos="9360"/>'
            f'<w:tab w:val="right" w:pos="{text_width}"/></w:tabs>')
    body = text_with_fields(left, shown) + ('<w:r><w:tab/></w:r>' + text_with_fields(right, shown) if right else "")
    return paragraph(body, "Header", extra_ppr=tabs)


def page_break() -> str:
    return '<w:r><w:br w:type="page"/></w:r>'


def allocate_widths(natural, minimum, capacity: float, stretch=None) -> np.ndarray:
    """Column widths (characters) filling `capacity`: every column its natural width when all fit,
    the room left shared by the `stretch` weights (None: in proportion to the natural widths; the
    columns that share it are first made as wide as the widest of them, when that fits); otherwise each its minimum plus a share of the room left in
    proportion to how much it would still like (the automatic table layout of HTML). When even
    the minimums do not fit, the columns that can wrap (minimum below natural) give way first,
    down to WRAP_FLOOR characters; columns that cannot wrap (dates, identifiers) keep theirs."""
    minimum = np.asarray(minimum, dtype=float)
    natural = np.maximum(np.asarray(natural, dtype=float), minimum)
    if natural.sum() <= capacity:
        if stretch is None or not np.any(np.asarray(stretch) > 0):
            return natural * capacity / natural.sum()
        weight = np.asarray(stretch, dtype=float)
        even = np.where(weight > 0, natural[weight > 0].max(), natural)
        if even.sum() <= capacity:
            natural = even
        return natural + weight / weight.sum() * (capacity - natural.sum())
    if minimum.sum() <= capacity:
        slack = natural - minimum
        return minimum + slack * (capacity - minimum.sum()) / slack.sum()
    wraps = minimum < natural
    floor = np.where(wraps, np.minimum(minimum, WRAP_FLOOR), minimum)
    if floor.sum() >= capacity:
        room = capacity - floor[~wraps].sum()
        if wraps.any() and room >= 3 * wraps.sum():  # squeeze the wrapping text, keep the rest whole
            return np.where(wraps, floor * room / floor[wraps].sum(), floor)
        return floor * capacity / floor.sum()
    give = minimum - floor
    return minimum - give * (minimum.sum() - capacity) / give.sum()


def _cell_pad(char_twips: float) -> float:
    # Half a character more than the text needs: a cell exactly as wide as its text wraps its last
    # letter in LibreOffice ("Da/y").
    return 2 * CELL_MARGIN + char_twips / 2


def grid_widths(table: Table, text_width: int, char_twips: float) -> list[int]:
    """Integer twips per column, summing exactly to `text_width` (cell margins included)."""
    n = table.n_columns
    pad = _cell_pad(char_twips)
    capacity = (text_width - n * pad) / char_twips
    chars = allocate_widths(table.widths, table.min_widths, capacity, table.stretch)
    edges = np.round(np.cumsum(chars * char_twips + pad)).astype(int)
    edges[-1] = text_width
    return np.diff(np.concatenate(([0], edges))).tolist()


def text_chars(widths: list[int], char_twips: float) -> list[int]:
    """Whole characters of text each column of `widths` (twips) holds in one line: the width less
    the cell margins, with a quarter character to spare (a text exactly as wide as its cell may wrap)."""
    return [max(1, int((w - 2 * CELL_MARGIN) / char_twips - 0.25)) for w in widths]


def _cell(text_xml: str, width: int, style: str, span: int = 1, borders: str = "") -> str:
    span_xml = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    border_xml = f"<w:tcBorders>{borders}</w:tcBorders>" if borders else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{span_xml}{border_xml}</w:tcPr>'
            f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{text_xml}</w:p></w:tc>')


def _header_row(cells: str) -> str:
    return f"<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>{cells}</w:tr>"


def table_xml(table: Table, text_width: int, char_twips: float, title_paragraphs: tuple[str, ...] = (),
              widths: list[int] | None = None, body: str | None = None) -> str:
    """A whole `w:tbl`: optional title rows, column header rows (all repeated on every page),
    then the body. `title_paragraphs` are complete `w:p` elements set in one full-width cell;
    `widths` (twips) default to grid_widths (pages of one output pass the widths of the whole);
    `body` is the table's bodies_xml when already built."""
    widths = widths or grid_widths(table, text_width, char_twips)
    n = table.n_columns
    parts = [f'<w:tbl><w:tblPr><w:tblW w:w="{text_width}" w:type="dxa"/><w:jc w:val="center"/>'
             f'<w:tblBorders><w:bottom {RULE}/></w:tblBorders><w:tblLayout w:type="fixed"/>'
             f'<w:tblCellMar><w:top w:w="{CELL_PAD_TOP}" w:type="dxa"/><w:left w:w="{CELL_MARGIN}" w:type="dxa"/>'
             f'<w:right w:w="{CELL_MARGIN}" w:type="dxa"/></w:tblCellMar>'
             '</w:tblPr>',
             "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"]
    if title_paragraphs:
        span = f'<w:gridSpan w:val="{n}"/>' if n > 1 else ""
        parts.append(_header_row(f'<w:tc><w:tcPr><w:tcW w:w="{text_width}" w:type="dxa"/>{span}</w:tcPr>'
                                 f'{"".join(title_paragraphs)}</w:tc>'))
    last = len(table.header) - 1
    for r, row in enumerate(table.header):
        cells, col = [], 0
        for cell in row:
            borders = (f"<w:top {RULE}/>" if r == 0 else "") + (
                f"<w:bottom {RULE}/>" if r == last or cell.underline else "")
            style = "TLFHeadLeft" if col == 0 or table.align[col] == "left" else "TLFHead"
            cells.append(_cell(run(cell.text) if cell.text else "", sum(widths[col:col + cell.span]), style,
                               cell.span, borders))
            col += cell.span
        parts.append(_header_row("".join(cells)))
    parts.append(bodies_xml([table], widths, char_twips)[0] if body is None else body)
    parts.append("</w:tbl>")
    return "".join(parts)


def bodies_xml(pages: Sequence[Table], widths: Sequence[int], char_twips: float = 0.0) -> list[str]:
    """The body rows of each of `pages` (the pages of one output: same columns), built per column
    over the rows of all pages at once, as rtf_writer does: a column operation costs about the same
    for a page of twenty rows as for thousands. The decimal alignment room of a centred cell
    (table.pad_left / pad_right, characters) is paragraph indentation."""
    lengths = [len(page.body) for page in pages]
    if not sum(lengths):
        return ["" for _ in pages]
    body = pd.concat([page.body for page in pages], ignore_index=True)
    indent = np.concatenate([page.indent for page in pages])
    keep = np.concatenate([page.keep_with_next if page.keep_with_next is not None
                           else np.zeros(len(page.body), dtype=bool) for page in pages])
    padded = [page.pad_left is not None and page.pad_right is not None for page in pages]
    if any(padded):  # a page without padding has none: zero room writes no indentation
        pad_left, pad_right = (np.concatenate([getattr(page, side) if ok else np.zeros(page.body.shape, dtype=int)
                                               for page, ok in zip(pages, padded)])
                               for side in ("pad_left", "pad_right"))
    align = pages[0].align
    rows = np.full(len(body), "<w:tr><w:trPr><w:cantSplit/></w:trPr>", dtype=object)
    for j, name in enumerate(body.columns):
        if j == 0:
            styles = np.asarray(INDENT_STYLES, dtype=object)[np.clip(indent, 0, len(INDENT_STYLES) - 1)]
            styles = np.where(keep, styles + KEEP_SUFFIX, styles)
        else:
            styles = "TLFCell" if align[j] == "left" else "TLFCellCenter"
        room = ""
        if any(padded) and j:
            left = np.round(pad_left[:, j] * char_twips).astype(int)
            right = np.round(pad_right[:, j] * char_twips).astype(int)
            room = np.where((left > 0) | (right > 0), '<w:ind w:left="' + left.astype(str).astype(object)
                            + '" w:right="' + right.astype(str).astype(object) + '"/>', "")
        opening = (f'<w:tc><w:tcPr><w:tcW w:w="{widths[j]}" w:type="dxa"/></w:tcPr><w:p><w:pPr><w:pStyle w:val="'
                   + styles + '"/>' + room + '</w:pPr><w:r><w:t xml:space="preserve">')
        rows = rows + opening + escape_column(body[name]).to_numpy(dtype=object) + "</w:t></w:r></w:p></w:tc>"
    rows = (rows + "</w:tr>").tolist()
    ends = np.cumsum(lengths).tolist()
    return ["".join(rows[end - n:end]) for n, end in zip(lengths, ends)]


def bookmark_name(number: int) -> str:
    """The bookmark on the heading of the `number`-th output, which its TOC entry's PAGEREF names."""
    return f"_TocTLF{number:04d}"


def title_cell_paragraphs(heading: str, titles: tuple[str, ...], population: str,
                          bookmark: int | None = None, outline: bool = True) -> tuple[str, ...]:
    """The title block: "Table 14.x" and the first title line as the (TOC) heading, the other title
    lines, the population line, and an empty line before the column headers. With `bookmark`, the
    heading carries bookmark_name(bookmark) for the page number of its table of contents entry;
    without `outline` (a continued table) it is a plain title line, not a Heading 1."""
    head = run(heading) + "<w:r><w:br/></w:r>" + run(titles[0]) if titles else run(heading)
    if bookmark is not None:
        head = (f'<w:bookmarkStart w:id="{bookmark}" w:name="{bookmark_name(bookmark)}"/>{head}'
                f'<w:bookmarkEnd w:id="{bookmark}"/>')
    out = [paragraph(head, "Heading1" if outline else "TLFTitle", keep_next=True)]
    out += [paragraph(run(t), "TLFTitle", keep_next=True) for t in titles[1:]]
    out.append(paragraph(run(population), "TLFTitle", keep_next=True))
    out.append(paragraph("", "TLFTitle", keep_next=True))
    return tuple(out)

