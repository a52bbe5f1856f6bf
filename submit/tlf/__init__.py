"""Tables, listings and figures: shells (specs/<study>/tlf) + ARDs / listing frames / KM curves -> DOCX.

    shells = load_shells(specs / "tlf")
    context = TlfContext(study=study_config, build_date=study_config.dates.build_date)
    index = write_tlf_package(shells, {table.id: ard, listing.id: frame, figure.id: curves},
                              out_dir / "tlf", context)
"""

from submit.tlf.ard import ARD_COLUMNS, read_ard, write_ard
from submit.tlf.docx_writer import write_docx
from submit.tlf.figure import KmCurve, curve_from_km, km_figure
from submit.tlf.layout import render_table
from submit.tlf.listing import render_listing
from submit.tlf.model import HeaderCell, RenderedOutput, Table
from submit.tlf.package import render_output, write_tlf_package
from submit.tlf.shell import (LEVEL_PATH_SEPARATOR, TOTAL, FigureShell, ListingShell, TableShell, expected_stats,
                              load_shells)
from submit.tlf.text import Layout, TlfContext, load_layout

__all__ = [
    "ARD_COLUMNS", "LEVEL_PATH_SEPARATOR", "TOTAL", "FigureShell", "HeaderCell", "KmCurve", "Layout", "ListingShell",
    "RenderedOutput", "Table", "TableShell", "TlfContext", "curve_from_km", "expected_stats", "km_figure",
    "load_layout", "load_shells", "read_ard", "render_listing", "render_output", "render_table", "write_ard",
    "write_docx", "write_tlf_package",
]
