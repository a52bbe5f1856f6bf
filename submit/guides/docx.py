"""A reviewer's guide as DOCX: portrait pages, numbered headings (Word's Heading styles, so the
navigation pane and a PDF's bookmarks show the outline), tables whose header row repeats on each
page, the guide's name in the page header and Page X of Y in the footer.

python-docx sets up the package, styles and properties; tables are WordprocessingML text parsed
once. Byte-reproducible like the TLFs: the same zip normalisation and document properties dated
at the build date (`submit.tlf.docx_writer`).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

from submit.guides.model import GuideDocument, Heading, Paragraph, Table
from submit.tlf import wordml
from submit.tlf.docx_writer import _set_properties as set_properties  # one way to date a document
from submit.tlf.docx_writer import reproducible_zip

FONT = "Arial"
BODY_PT, TABLE_PT = 10, 8
HEADING_PT = {1: 14, 2: 12, 3: 11}
MARGIN_IN = 1.0
PAGE_IN = (8.5, 11.0)  # US Letter portrait, as FDA reviewers print
HEAD_FILL = "D9D9D9"


def write_guide(document: GuideDocument, path: Path, build_date: dt.date) -> None:
    """Write `document` to `path` (DOCX), byte-identical for the same content and build date."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Inches(PAGE_IN[0]), Inches(PAGE_IN[1])
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Inches(MARGIN_IN))
    _styles(doc)
    text_width = round((PAGE_IN[0] - 2 * MARGIN_IN) * wordml.TWIPS_PER_INCH)
    _header_footer(section, document.header)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    _cover(doc, document)
    for block in document.blocks:
        if isinstance(block, Heading):
            doc.add_paragraph(block.full, style=f"Heading {min(block.level, 3)}")
        elif isinstance(block, Paragraph):
            doc.add_paragraph(block.text, style="Normal")
        elif isinstance(block, Table):
            if block.caption:
                doc.add_paragraph(block.caption, style="Caption")
            body.sectPr.addprevious(parse_xml(_table_xml(block, text_width)))
            doc.add_paragraph("", style="GuideSpacer")
        else:
            raise TypeError(f"unknown block {block!r}")
    set_properties(doc, f"{document.title}: {document.cover[0] if document.cover else ''}".strip(": "), build_date)
    buffer = io.BytesIO()
    doc.save(buffer)
    Path(path).write_bytes(reproducible_zip(buffer.getvalue(), build_date))


def _font(style, size: float, bold: bool = False) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.rPr.find(qn("w:rFonts"))
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)  # a theme font would override the named one
    fonts.set(qn("w:cs"), FONT)
    fonts.set(qn("w:eastAsia"), FONT)


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    _font(normal, BODY_PT)
    normal.paragraph_format.space_before, normal.paragraph_format.space_after = Pt(0), Pt(6)
    for level, size in HEADING_PT.items():
        style = doc.styles[f"Heading {level}"]
        _font(style, size, bold=True)
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(12), Pt(6)
        style.paragraph_format.keep_with_next = True
        style.paragraph_format.page_break_before = level == 1  # each chapter on a new page
    _font(doc.styles["Title"], 20, bold=True)
    doc.styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption = doc.styles["Caption"]
    _font(caption, BODY_PT - 1, bold=True)
    caption.paragraph_format.keep_with_next = True
    caption.paragraph_format.space_after = Pt(3)
    for name in ("Header", "Footer"):
        _font(doc.styles[name], TABLE_PT)
    own = [_paragraph_style("GuideCell", TABLE_PT), _paragraph_style("GuideCellHead", TABLE_PT, bold=True),
           _paragraph_style("GuideSpacer", 4), _paragraph_style("GuideCover", 12, align="center")]
    for style in parse_xml(f'<w:styles xmlns:w="{wordml.W_NS}">{"".join(own)}</w:styles>'):
        doc.styles.element.append(style)


def _paragraph_style(style_id: str, size_pt: float, bold: bool = False, align: str = "left") -> str:
    half = round(size_pt * 2)
    return (f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="{style_id}"><w:name w:val="{style_id}"/>'
            f'<w:basedOn w:val="Normal"/><w:pPr><w:spacing w:before="0" w:after="0"/><w:jc w:val="{align}"/></w:pPr>'
            f'<w:rPr><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'
            + ("<w:b/>" if bold else "") + f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr></w:style>')


def _header_footer(section, header: str) -> None:
    for part, xml in ((section.header, wordml.paragraph(wordml.run(header), "Header")),
                      (section.footer, wordml.paragraph(wordml.text_with_fields("Page {PAGE} of {NUMPAGES}"), "Footer",
                                                        extra_ppr='<w:jc w:val="center"/>'))):
        part.is_linked_to_previous = False
        element = part._element
        for child in list(element):
            element.remove(child)
        for paragraph in parse_xml(f'<w:fragment xmlns:w="{wordml.W_NS}">{xml}</w:fragment>'):
            element.append(paragraph)


def _cover(doc, document: GuideDocument) -> None:
    for _ in range(6):
        doc.add_paragraph("", style="GuideCover")
    doc.add_paragraph(document.title, style="Title")
    for line in document.cover:
        doc.add_paragraph(line, style="GuideCover")
    doc.add_paragraph("", style="GuideCover").add_run().add_break(WD_BREAK.PAGE)


def _table_xml(table: Table, text_width: int) -> str:
    weights = table.widths or (1.0,) * len(table.columns)
    total = sum(weights)
    widths = [int(text_width * w / total) for w in weights]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)

    def cell(text: str, width: int, head: bool) -> str:
        shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{HEAD_FILL}"/>' if head else ""
        style = "GuideCellHead" if head else "GuideCell"
        return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}</w:tcPr>'
                f'{wordml.paragraph(wordml.run(text), style)}</w:tc>')

    head = ('<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>'
            + "".join(cell(c, w, True) for c, w in zip(table.columns, widths)) + "</w:tr>")
    rows = "".join('<w:tr><w:trPr><w:cantSplit/></w:trPr>' + "".join(cell(v, w, False) for v, w in zip(row, widths))
                   + "</w:tr>" for row in table.rows)
    return (f'<w:tbl xmlns:w="{wordml.W_NS}"><w:tblPr><w:tblStyle w:val="TableGrid"/>'
            f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
            '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
            f'</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{head}{rows}</w:tbl>')
