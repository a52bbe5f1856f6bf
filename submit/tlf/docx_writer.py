"""Native DOCX of one or more outputs: landscape pages, a page header with Page X of Y (Word PAGE and
NUMPAGES fields), title blocks and column headers repeated on every page, footnotes and a source
line; optionally a table of contents (entries with PAGEREF fields) in front.

python-docx sets up the package, page, styles, pictures and properties; the table and text bodies
are WordprocessingML built by `wordml` (fast for big listings). The file is byte-reproducible:
document properties carry the build date, the zip members a fixed date and order.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

from submit import __version__
from submit.tlf import wordml
from submit.tlf.model import RenderedOutput
from submit.tlf.text import Font, Layout, Page, TlfContext, render_text

TABLE_ROWS = 1000  # body rows per table of a long output (see _add_output)
# Between two tables of one output: a page break in a paragraph of no visible height.
_CONTINUATION_BREAK = ('<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
                       '</w:pPr><w:r><w:br w:type="page"/></w:r></w:p>')
CHAR_WIDTH_EM = 0.6  # Courier New; indentation steps are whole characters
APP_XML = ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           f"<Application>submit {__version__}</Application></Properties>")


def write_docx(outputs: Sequence[RenderedOutput], path: Path, layout: Layout, context: TlfContext, *,
               title: str, toc: bool = False) -> None:
    """Write `outputs` (one per page run, in order) to `path`; `toc` puts a table of contents first
    (page numbers by PAGEREF fields, which Word updates on opening: w:updateFields is set)."""
    doc = Document()
    section = doc.sections[0]
    _page_setup(section, layout.page)
    _add_styles(doc, layout.font)
    text_width = round(layout.page.text_width_in * wordml.TWIPS_PER_INCH)
    header_lines = [tuple(render_text(text, context, "layout header") for text in (line.left, line.right))
                    for line in layout.header]
    _set_header(section, header_lines, text_width)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    chunks = _Chunks(doc)
    if toc:
        chunks.add(_toc_xml(outputs, title, text_width))
    for i, output in enumerate(outputs):
        _add_output(doc, chunks, output, layout, text_width, last=i == len(outputs) - 1, bookmark=i if toc else None)
    _set_properties(doc, title, context.build_date)
    if toc:
        _request_field_update(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    Path(path).write_bytes(reproducible_zip(buffer.getvalue(), context.build_date,
                                            {"word/document.xml": chunks.splice}))


class _Chunks:
    """Body WordprocessingML kept as text and spliced into word/document.xml when it is written.

    Parsing a big table and moving it into python-docx's tree costs lxml a namespace fix-up per
    node that grows with the document (minutes for a 5,000-row listing); python-docx writes a
    placeholder paragraph instead, replaced by the text in the serialized part."""

    def __init__(self, doc):
        self.doc = doc
        self.texts: list[str] = []

    def add(self, xml: str) -> None:
        self.doc.add_paragraph(self._token(len(self.texts)))
        self.texts.append(xml)

    @staticmethod
    def _token(i: int) -> str:
        return f"TLF-CHUNK-{i:06d}"

    def splice(self, part: bytes) -> bytes:
        pieces = []
        rest = part
        for i, xml in enumerate(self.texts):
            marker = f"<w:p><w:r><w:t>{self._token(i)}</w:t></w:r></w:p>".encode()
            before, found, rest = rest.partition(marker)
            if not found:
                raise RuntimeError(f"placeholder {self._token(i)} not found in word/document.xml")
            pieces += [before, xml.encode("utf-8")]
        pieces.append(rest)
        return b"".join(pieces)


def _page_setup(section, page: Page) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Inches(page.width_in), Inches(page.height_in)
    m = page.margins_in
    section.top_margin, section.bottom_margin = Inches(m.top), Inches(m.bottom)
    section.left_margin, section.right_margin = Inches(m.left), Inches(m.right)
    section.header_distance, section.footer_distance = Inches(m.header), Inches(m.header)


def _plain_font(style, font: Font, bold: bool = False) -> None:
    style.font.name = font.name
    style.font.size = Pt(font.size_pt)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.rPr.find(qn("w:rFonts"))
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)  # theme fonts would override the named font
    fonts.set(qn("w:cs"), font.name)
    fonts.set(qn("w:eastAsia"), font.name)


def _style_xml(style_id: str, font: Font, align: str = "left", indent_chars: int = 0, bold: bool = False,
               keep_next: bool = False) -> str:
    """A paragraph style as WordprocessingML (python-docx's add_style rescans every style by name:
    slow when each document defines a dozen)."""
    size = round(font.size_pt * 2)  # half-points
    indent = f'<w:ind w:left="{round(indent_chars * CHAR_WIDTH_EM * font.size_pt * 20)}"/>' if indent_chars else ""
    return (f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="{style_id}"><w:name w:val="{style_id}"/>'
            '<w:basedOn w:val="Normal"/><w:qFormat/><w:pPr>' + ("<w:keepNext/>" if keep_next else "")
            + f'<w:spacing w:before="0" w:after="0"/>{indent}<w:jc w:val="{align}"/></w:pPr>'
            f'<w:rPr><w:rFonts w:ascii="{font.name}" w:hAnsi="{font.name}" w:eastAsia="{font.name}" '
            f'w:cs="{font.name}"/>' + ("<w:b/>" if bold else "")
            + f'<w:color w:val="000000"/><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr></w:style>')


def _add_styles(doc, font: Font) -> None:
    normal = doc.styles["Normal"]
    _plain_font(normal, font)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    heading = doc.styles["Heading 1"]  # the TOC collects this style (outline level 1)
    _plain_font(heading, font, bold=True)
    heading.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.paragraph_format.space_before = heading.paragraph_format.space_after = Pt(0)
    _plain_font(doc.styles["Header"], font)
    styles = [_style_xml("TLFTitle", font, "center", bold=True, keep_next=True),
              _style_xml("TLFHead", font, "center"), _style_xml("TLFHeadLeft", font),
              _style_xml("TLFCellCenter", font, "center"), _style_xml("TLFFootnote", font),
              _style_xml("TLFFigure", font, "center", keep_next=True), _style_xml("TLFContents", font)]
    for level, name in enumerate(wordml.INDENT_STYLES):
        styles.append(_style_xml(name, font, indent_chars=2 * level))
        styles.append(_style_xml(name + wordml.KEEP_SUFFIX, font, indent_chars=2 * level, keep_next=True))
    for style in list(parse_xml(f'<w:styles xmlns:w="{wordml.W_NS}">{"".join(styles)}</w:styles>')):
        doc.styles.element.append(style)


def _set_header(section, lines: list[tuple[str, str]], text_width: int) -> None:
    header = section.header
    header.is_linked_to_previous = False
    element = header._element
    for child in list(element):
        element.remove(child)
    rule = f'<w:pBdr><w:bottom {wordml.RULE}/></w:pBdr>'  # a line under the header; pBdr precedes w:tabs
    xml = [wordml.header_paragraph(left, right, text_width) for left, right in lines]
    xml = xml or [wordml.paragraph("", "Header")]
    xml[-1] = xml[-1].replace('<w:pStyle w:val="Header"/>', f'<w:pStyle w:val="Header"/>{rule}', 1)
    for paragraph in list(parse_xml(f'<w:fragment xmlns:w="{wordml.W_NS}">{"".join(xml)}</w:fragment>')):
        element.append(paragraph)  # a few small paragraphs: moving them between trees is cheap


def _trailer_xml(output: RenderedOutput, last: bool) -> str:
    """Footnotes and the source line; a page break closes the output unless it is the last."""
    notes = [wordml.paragraph(wordml.run(note), "TLFFootnote") for note in output.footnotes]
    closing = wordml.run(output.source) + ("" if last else wordml.page_break())
    notes.append(wordml.paragraph(closing, "TLFFootnote"))
    space = '<w:spacing w:before="120"/>'
    notes[0] = notes[0].replace("</w:pPr>", f"{space}</w:pPr>", 1)
    return "".join(notes)


def _add_output(doc, chunks: _Chunks, output: RenderedOutput, layout: Layout, text_width: int, last: bool,
                bookmark: int | None = None) -> None:
    titles = wordml.title_cell_paragraphs(output.heading, output.titles, output.population, bookmark)
    if output.table is not None:
        char_twips = layout.font.size_pt * CHAR_WIDTH_EM * 20
        # A long listing goes out as several tables, each starting a page: LibreOffice lays out one
        # table of thousands of rows in time that grows faster than its length (a 2,000-row table
        # takes 3 times as long as a 1,000-row one), Word and LibreOffice are fine with several.
        for k, part in enumerate(output.table.parts(TABLE_ROWS)):
            if k:
                chunks.add(_CONTINUATION_BREAK)
                titles = wordml.title_cell_paragraphs(output.heading, output.titles, output.population, outline=False)
            chunks.add(wordml.table_xml(part, text_width, char_twips, titles))
    elif output.figure is not None:
        chunks.add("".join(titles[:-1]))
        picture = doc.add_paragraph(style="TLFFigure")
        picture.add_run().add_picture(str(output.figure), width=Inches(layout.page.text_width_in))
        _limit_height(picture, layout)
    else:
        raise ValueError(f"output {output.id} has neither a table nor a figure")
    chunks.add(_trailer_xml(output, last))


def _limit_height(picture, layout: Layout) -> None:
    """Scale a picture down to the figure height of the layout, keeping its aspect ratio."""
    extent = picture._p.find(".//" + qn("wp:extent"))
    cx, cy = int(extent.get("cx")), int(extent.get("cy"))
    limit = int(Inches(layout.figure_height_in))
    if cy > limit:
        cx, cy = cx * limit // cy, limit
        extent.set("cx", str(cx)), extent.set("cy", str(cy))
        ext = picture._p.find(".//" + qn("a:ext"))
        ext.set("cx", str(cx)), ext.set("cy", str(cy))


def _toc_xml(outputs: Sequence[RenderedOutput], title: str, text_width: int) -> str:
    """The table of contents: one entry per output with a PAGEREF field to the bookmark on its
    heading. Plain entries rather than a TOC field: LibreOffice shows a TOC field's text as
    written, page numbers included, while it computes PAGEREF fields when it lays the document
    out, and Word updates them on opening (w:updateFields)."""
    tabs = f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{text_width}"/></w:tabs>'
    paragraphs = [wordml.paragraph(wordml.run(f"{o.heading}  {o.titles[0] if o.titles else ''}") + "<w:r><w:tab/></w:r>"
                                   + wordml.field(f"PAGEREF {wordml.bookmark_name(i)} \\h", "1"),
                                   "TLFContents", extra_ppr=tabs)
                  for i, o in enumerate(outputs)]
    heading = "".join(wordml.paragraph(wordml.run(text), "TLFTitle") for text in (title, "Table of Contents"))
    spacer = wordml.paragraph("", "TLFContents")
    return heading + spacer + "".join(paragraphs) + wordml.paragraph(wordml.page_break(), "TLFContents")


def _set_properties(doc, title: str, build_date: dt.date) -> None:
    stamp = dt.datetime(build_date.year, build_date.month, build_date.day, tzinfo=dt.timezone.utc)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "submit", "submit"
    props.comments, props.keywords, props.subject, props.category = "", "", "", ""
    props.created = props.modified = stamp
    props.revision = 1
    package = doc.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # the template's preview of an empty page
            package.rels.pop(rel_id)
    for part in package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = APP_XML.encode("utf-8")  # the template's says "Microsoft Macintosh Word"


def _request_field_update(doc) -> None:
    settings = doc.settings.element
    update = parse_xml(f'<w:updateFields xmlns:w="{wordml.W_NS}" w:val="true"/>')
    later = [qn(f"w:{name}") for name in ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids")]
    anchor = next((child for child in settings if child.tag in later), None)
    if anchor is not None:
        anchor.addprevious(update)
    else:
        settings.append(update)


def reproducible_zip(data: bytes, build_date: dt.date,
                     transforms: dict[str, Callable[[bytes], bytes]] | None = None) -> bytes:
    """The same package with members in a fixed order ([Content_Types].xml first), every member
    dated at the build date (equal content gives equal bytes), and `transforms` applied to the
    named members."""
    stamp = (max(build_date.year, 1980), build_date.month, build_date.day, 0, 0, 0)
    transforms = transforms or {}
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 0
                info.external_attr = 0
                content = source.read(name)
                if name in transforms:
                    content = transforms[name](content)
                target.writestr(info, content, compresslevel=6)
    return out.getvalue()
