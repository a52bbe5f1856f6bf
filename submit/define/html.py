"""define.html for reviewers: the define.xml rendered with the CDISC define2-1.xsl stylesheet (by
Lex Jansen, MIT licence, shipped by the defineutils package and read from there), applied with
lxml's XSLT 1.0. The same stylesheet is also written beside define.xml, which names it in its
xml-stylesheet instruction, so that the define opens readably in a browser as well."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from submit.define.schema import defineutils_file

_STYLESHEET = ("definehtml", "define2-1.xsl")


def stylesheet_bytes() -> bytes:
    return defineutils_file(*_STYLESHEET).read_bytes()


@lru_cache(maxsize=1)
def define_transform() -> etree.XSLT:
    return etree.XSLT(etree.fromstring(stylesheet_bytes(), etree.XMLParser(huge_tree=True)))


def write_define_html(define_path: Path, html_path: Path) -> Path:
    """Render `define_path` into `html_path` (bytes as the stylesheet's xsl:output says)."""
    result = define_transform()(etree.parse(str(define_path), etree.XMLParser(huge_tree=True)))
    Path(html_path).write_bytes(bytes(result))
    return Path(html_path)


def write_stylesheet(path: Path) -> Path:
    Path(path).write_bytes(stylesheet_bytes())
    return Path(path)
