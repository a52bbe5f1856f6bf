"""Native DOCX of one or more outputs, paginated here (submit.tlf.pages) rather than by the word
processor: every page of a table holds its title block and column headers, its rows (with
"(continued)" labels where it starts inside a block), the footnotes and the source line; pages
end in explicit page breaks. Each output is a section numbered from 1, its page header saying
"Page X of Y" with Word's PAGE and SECTIONPAGES fields (Y, known from the pagination, is also the
field's written result, which LibreOffice shows as it has no SECTIONPAGES). A combined document
opens with a table of contents whose entries give every title line and the page where the output
starts, computed, so correct without any field update.

python-docx sets up the package, sections, page headers, styles, pictures and properties; the
table and text bodies are WordprocessingML built by `wordml` (fast for big listings). The file is
byte-reproducible: document properties carry the build date, the zip members a fixed date and order.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.pkgwriter import PackageWriter
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

from submit import __version__
from submit.tlf import wordml
from submit.tlf.model import RenderedOutput
from submit.tlf.paged import CHAR_WIDTH_EM, FOOTNOTE_SPACE_PT, Geometry, PagedOutput, page_output
from submit.tlf.text import Font, Layout, Page, TlfContext, render_text

# Between two pages: a page break in a paragraph of no visible height.
_PAGE_BREAK = ('<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
               '</w:pPr><w:r><w:br w:type="page"/></w:r></w:p>')
TOC_INDENT_CHARS = 18  # "Listing 16.2.7.2" and a space: where the title lines of a contents entry start
TOC_PAGE_CHARS = 6  # room kept at the right of an entry for the dot leader and the page number
APP_XML = ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           f"<Application>submit {__version__}</Application></Properties>")


def write_docx(outputs: Sequence[RenderedOutput], path: Path, layout: Layout, context: TlfContext, *,
               title: str, toc: bool = False, paged: Sequence[PagedOutput] | None = None) -> list[int]:
    """Write `outputs` (each a section of its own pages, in order) to `path`; `toc` puts a table of
    contents first; `paged` are their pages when already decided (paged.page_output). Returns the
    number of pages of each output."""
    doc = Document()
    section = doc.sections[0]
    _page_setup(section, layout.page)
    _add_styles(doc, layout.font)
    geometry = Geometry.of(layout)
    header_lines = [tuple(render_text(text, context, "layout header") for text in (line.left, line.right))
                    for line in layout.header]
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    section._sectPr.append(parse_xml(f'<w:pgNumType xmlns:w="{wordml.W_NS}" w:start="1"/>'))
    paged = paged or [page_output(output, layout, geometry) for output in outputs]
    blocks = [_output_pages(doc, p, layout, bookmark=i if toc else None) for i, p in enumerate(paged)]
    counts = [len(b) for b in blocks]
    if toc:
        blocks.insert(0, _toc_pages(outputs, counts, title, geometry))
    total = sum(len(b) for b in blocks)
    chunks = _Chunks(doc)
    for k, block in enumerate(blocks):
        if k:
            _end_section(doc)
        _set_header(doc.sections[-1], header_lines, geometry.text_width,
                    {"SECTIONPAGES": str(len(block)), "NUMPAGES": str(total)})
        for j, page in enumerate(block):
            if j:
                chunks.add(_PAGE_BREAK)
            chunks.add(page) if isinstance(page, str) else page(chunks)
    _set_properties(doc, title, context.build_date)
    members = _package_members(doc)
    members["word/document.xml"] = chunks.splice(members["word/document.xml"])
    Path(path).write_bytes(zip_members(members, context.build_date))
    return counts


class _Members:
    """Stands in for python-docx's zip writer: keeps each member's bytes by name."""

    def __init__(self):
        self.files: dict[str, bytes] = {}

    def write(self, uri, blob: bytes) -> None:
        self.files[uri.membername] = blob


_WRITER_STEPS = ("_write_content_types_stream", "_write_pkg_rels", "_write_parts")  # python-docx 1.1-1.2


def _package_members(doc) -> dict[str, bytes]:
    """The members `doc.save` would zip, by name, without zipping them (they are zipped once, by
    zip_members): python-docx's OpcPackage.save with a writer that keeps the bytes. Those steps are
    private to python-docx: a version without them gets the members from its public save (slower,
    the same members)."""
    if not all(hasattr(PackageWriter, step) for step in _WRITER_STEPS):
        saved = io.BytesIO()
        doc.save(saved)
        with zipfile.ZipFile(saved) as package:
            return {name: package.read(name) for name in package.namelist()}
    package = doc.part.package
    for part in package.parts:
        part.before_marshal()
    members = _Members()
    PackageWriter._write_content_types_stream(members, package.parts)
    PackageWriter._write_pkg_rels(members, package.rels)
    PackageWriter._write_parts(members, package.parts)
    return members.files


def _end_section(doc) -> None:
    """Close the section so far (its properties go into a last paragraph of no visible height) and
    start a new one on a new page, with a page header of its own."""
    new = doc.add_section(WD_SECTION.NEW_PAGE)
    ended = doc.element.body.findall(qn("w:p"))[-1]
    ended.pPr.insert(0, parse_xml(f'<w:spacing xmlns:w="{wordml.W_NS}" w:before="0" w:after="0" w:line="20" '
                                  'w:lineRule="exact"/>'))
    new.header.is_linked_to_previous = True  # drop the reference copied from the section before
    new.header.is_linked_to_previous = False  # and give the section a header part of its own


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


def _set_header(section, lines: list[tuple[str, str]], text_width: int, shown: dict[str, str]) -> None:
    header = section.header
    header.is_linked_to_previous = False
    element = header._element
    for child in list(element):
        element.remove(child)
    rule = f'<w:pBdr><w:bottom {wordml.RULE}/></w:pBdr>'  # a line under the header; pBdr precedes w:tabs
    xml = [wordml.header_paragraph(left, right, text_width, shown) for left, right in lines]
    xml = xml or [wordml.paragraph("", "Header")]
    xml[-1] = xml[-1].replace('<w:pStyle w:val="Header"/>', f'<w:pStyle w:val="Header"/>{rule}', 1)
    for paragraph in list(parse_xml(f'<w:fragment xmlns:w="{wordml.W_NS}">{"".join(xml)}</w:fragment>')):
        element.append(paragraph)  # a few small paragraphs: moving them between trees is cheap


def _trailer_xml(output: RenderedOutput) -> str:
    """Footnotes and the source line, under the rows of every page."""
    notes = [wordml.paragraph(wordml.run(note), "TLFFootnote") for note in output.footnotes]
    notes.append(wordml.paragraph(wordml.run(output.source), "TLFFootnote"))
    space = f'<w:spacing w:before="{FOOTNOTE_SPACE_PT * 20}"/>'
    notes[0] = notes[0].replace("</w:pPr>", f"{space}</w:pPr>", 1)
    return "".join(notes)


def _output_pages(doc, paged: PagedOutput, layout: Layout, bookmark: int | None) -> list:
    """The pages of one output: WordprocessingML text of each (a figure page is a function that
    adds its parts, the picture going through python-docx)."""
    output, geometry = paged.output, Geometry.of(layout)
    trailer = _trailer_xml(output)
    if output.table is not None:
        widths = list(paged.widths)
        out = []
        bodies = (paged.body_xml if paged.char_twips == geometry.char_twips  # paged for this layout
                  else wordml.bodies_xml(paged.pages, widths, geometry.char_twips))
        for k, (page, body) in enumerate(zip(paged.pages, bodies)):
            titles = wordml.title_cell_paragraphs(output.heading, output.titles, output.population,
                                                  bookmark if k == 0 else None, outline=k == 0)
            out.append(wordml.table_xml(page, geometry.text_width, geometry.char_twips, titles, widths, body)
                       + trailer)
        return out
    if output.figure is not None:
        titles = wordml.title_cell_paragraphs(output.heading, output.titles, output.population, bookmark)

        def figure_page(chunks: _Chunks) -> None:
            chunks.add("".join(titles[:-1]))
            picture = doc.add_paragraph(style="TLFFigure")
            picture.add_run().add_picture(str(output.figure), width=Inches(layout.page.text_width_in))
            _limit_height(picture, layout)
            chunks.add(trailer)
        return [figure_page]
    raise ValueError(f"output {output.id} has neither a table nor a figure")


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


def _toc_pages(outputs: Sequence[RenderedOutput], counts: Sequence[int], title: str,
               geometry: Geometry) -> list[str]:
    """The table of contents: per output its number, every title line and the page of the
    document where it starts (from the pagination: the contents' own pages, then each output's),
    linked to the bookmark on its heading. Plain text numbers, right for Word and LibreOffice
    alike without a field update (each output's pages are numbered from 1 in its header, so a
    PAGEREF would say 1 for every entry)."""
    indent = round(TOC_INDENT_CHARS * geometry.char_twips)
    ppr = (f'<w:tabs><w:tab w:val="left" w:pos="{indent}"/>'
           f'<w:tab w:val="right" w:leader="dot" w:pos="{geometry.text_width}"/></w:tabs>'
           f'<w:ind w:left="{indent}" w:hanging="{indent}"/>')
    width = geometry.line_chars - TOC_INDENT_CHARS - TOC_PAGE_CHARS
    heights = [geometry.lines(o.titles or ("",), width) * geometry.line_pt for o in outputs]
    heading = "".join(wordml.paragraph(wordml.run(text), "TLFTitle") for text in (title, "Table of Contents"))
    room = geometry.height_pt - 3 * geometry.line_pt
    groups: list[list[int]] = [[]]
    used = 0.0
    for i, height in enumerate(heights):  # entries per contents page
        if groups[-1] and used + height > room:
            groups.append([])
            used = 0.0
        groups[-1].append(i)
        used += height
    first = len(groups) + 1 + np.cumsum([0, *counts[:-1]])
    pages = []
    for group in groups:
        entries = []
        for i in group:
            output = outputs[i]
            lines = "<w:r><w:br/></w:r>".join(wordml.run(t) for t in output.titles)
            text = wordml.run(output.heading) + "<w:r><w:tab/></w:r>" + lines + "<w:r><w:tab/></w:r>" \
                + wordml.run(str(int(first[i])))
            link = f'<w:hyperlink w:anchor="{wordml.bookmark_name(i)}" w:history="1">{text}</w:hyperlink>'
            entries.append(wordml.paragraph(link, "TLFContents", extra_ppr=ppr))
        pages.append(heading + wordml.paragraph("", "TLFContents") + "".join(entries))
    return pages


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


def reproducible_zip(data: bytes, build_date: dt.date,
                     transforms: dict[str, Callable[[bytes], bytes]] | None = None) -> bytes:
    """The same package with members in a fixed order ([Content_Types].xml first), every member
    dated at the build date (equal content gives equal bytes), and `transforms` applied to the
    named members."""
    transforms = transforms or {}
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    return zip_members({name: transforms[name](content) if name in transforms else content
                        for name, content in members.items()}, build_date)


def zip_members(members: dict[str, bytes], build_date: dt.date) -> bytes:
    """A zip of `members` (name -> bytes) in a fixed order ([Content_Types].xml first), every member
    dated at the build date: equal content gives equal bytes."""
    stamp = (max(build_date.year, 1980), build_date.month, build_date.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in sorted(members, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, members[name], compresslevel=6)
    return out.getvalue()
