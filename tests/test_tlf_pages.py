"""TLF pages: deterministic pagination, footnotes on every page, "(continued)" rows, decimal
alignment, column widths, sections with their own Page X of Y, the computed table of contents,
KM figure options and the data CSVs of listings and figures.

Expected values are counted here from the document XML or by hand on tiny data; where LibreOffice
is installed the documents are also laid out by it and its page count and pages are checked."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document

from submit.stats.km import kaplan_meier
from submit.tlf import curve_from_km, km_figure, load_shells, render_output, write_docx
from submit.tlf.figure import figure_ard
from submit.tlf.formatting import decimal_align
from submit.tlf.package import write_output_data

FOOTNOTE = "Footnote on every page."


def shells_of(folder: Path, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shells.yaml").write_text(text, encoding="utf-8")
    return load_shells(folder)


SOC_SHELL = f"""
outputs:
  - id: "14.3.9"
    file: t_soc
    kind: table
    title: ["Adverse Events by System Organ Class", "and Preferred Term"]
    population: {{label: All treated subjects, flag: SAFFL}}
    datasets: [ADSL, ADAE]
    columns:
      - {{group: TRT01A, span: Cohort, label: "{{{{ level }}}}"}}
      - {{level: Total, label: Total}}
    rows:
      - variable: AEBODSYS
        levels: ard
        sort: alpha
        child: AEDECOD
        cell: "{{n}} ({{p:pct1}})"
    footnotes: ["{FOOTNOTE}"]
"""
COHORTS = ["Cohort 1: 5-15 ug/m2/day", "Cohort 2"]
SOCS, PTS = 4, 25  # 4 x 26 rows: several pages


def soc_ard() -> pd.DataFrame:
    rows = []
    for group, level in [("TRT01A", c) for c in COHORTS] + [("", "Total")]:
        n = 40
        rows.append(("BIGN", "", "N", n, group, level))
        for s in range(SOCS):
            soc = f"SOC {s:02d}"
            rows += [("AEBODSYS", soc, "n", 12, group, level), ("AEBODSYS", soc, "p", 12 / n, group, level)]
            for p in range(PTS):
                count = 1 + (p % 11)
                rows += [("AEDECOD", f"{soc} | PT {p:02d}", "n", count, group, level),
                         ("AEDECOD", f"{soc} | PT {p:02d}", "p", count / n, group, level)]
    return pd.DataFrame([{"output": "14.3.9", "group": g, "group_level": lv, "variable": v, "variable_level": vl,
                          "stat_name": s, "stat_label": s, "stat": float(x)} for v, vl, s, x, g, lv in rows])


@pytest.fixture(scope="module")
def soc_output(tmp_path_factory, context, layout):
    (shell,) = shells_of(tmp_path_factory.mktemp("soc"), SOC_SHELL)
    return render_output(shell, soc_ard(), context, layout, tmp_path_factory.mktemp("fig"))


def document_xml(path: Path, member: str = "word/document.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(member).decode("utf-8")


def page_blocks(xml: str) -> list[str]:
    """The document body cut at its explicit page breaks and section breaks."""
    body = xml.split("<w:body>", 1)[1]
    return re.split(r'<w:br w:type="page"/>|<w:sectPr', body)[:-1] or [body]


def cell_texts(table_xml: str) -> list[list[str]]:
    rows = re.findall(r"<w:tr>(.*?)</w:tr>", table_xml)
    return [["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", c)) for c in re.findall(r"<w:tc>(.*?)</w:tc>", r)]
            for r in rows]


# decimal alignment -------------------------------------------------------------------------------
def test_decimal_alignment_pads_numbers_within_a_template_and_aligns_the_first_on_its_point():
    texts, left, right = decimal_align(["12 (66.7)", "1 (5.6)", "0", "38.6 (15.95)", "(42.1, 99.6)", "(5.2, 45.1)",
                                        "NE", ""], ["a", "a", "a", "b", "c", "c", "a", "a"])
    shown = [" " * a + t + " " * b for t, a, b in zip(texts, left, right)]
    # by hand: the first numbers end in column 3 (after "(42"), the widest cell is 13 characters
    assert shown[:2] == [" 12 (66.7)   ", "  1 ( 5.6)   "]  # "1" under "2", "5.6" under "66.7"
    assert shown[2] == "  0" + " " * 10
    assert shown[3] == " 38.6 (15.95)"  # the decimal point of 38.6 after the units of 12
    assert shown[4] == "(42.1, 99.6) " and shown[5] == " (5.2, 45.1) "  # ")" of a CI lines up
    assert shown[6] == "     NE      " and shown[7] == ""
    assert len({len(s) for s in shown[:7]}) == 1  # centred, every cell is one width
    assert texts[1] == "1 ( 5.6)"  # inner padding is text; the room at the sides is indentation


def test_table_cells_carry_the_alignment_as_indentation(soc_output, layout, context, tmp_path):
    table = soc_output.table
    column = table.body["c1"]
    point = table.pad_left[:, 1] + column.str.split(" ").str[0].str.len()  # end of the first number
    assert (point[column != ""] == point[column != ""].max()).all()
    write_docx([soc_output], tmp_path / "t.docx", layout, context, title="t")
    xml = document_xml(tmp_path / "t.docx")
    char = round(layout.font.size_pt * 0.6 * 20)
    # a count of one digit under counts of two: one character of room on its left
    assert re.search(rf'<w:ind w:left="{char}" w:right="0"/></w:pPr><w:r><w:t xml:space="preserve">1 \( 2\.5\)<', xml)


def test_header_hyphens_do_not_break_and_stat_columns_share_the_width(soc_output, layout, context, tmp_path):
    write_docx([soc_output], tmp_path / "t.docx", layout, context, title="t")
    xml = document_xml(tmp_path / "t.docx")
    assert "Cohort 1: 5</w:t><w:noBreakHyphen/><w:t xml:space=\"preserve\">15 ug/m2/day" in xml
    (table,) = Document(str(tmp_path / "t.docx")).tables[:1]
    assert table.rows[2].cells[1].text == "Cohort 1: 5-15 ug/m2/day\n(N=40)"  # Word reads the hyphen back
    grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"/>', xml.split("</w:tblGrid>")[0])]
    assert grid[1] == grid[2] or abs(grid[1] - grid[2]) <= 1 and abs(grid[2] - grid[3]) <= 1  # equal stat columns
    assert sum(grid) == round(layout.page.text_width_in * 1440)
    longest_label = max(len(t) for t in soc_output.table.body["c0"])  # "SOC 00" or "PT 00"
    assert grid[0] >= longest_label * layout.font.size_pt * 0.6 * 20  # the row labels keep their room


# pages ------------------------------------------------------------------------------------------
def test_every_page_holds_titles_headers_footnotes_and_the_source(soc_output, layout, context, tmp_path):
    path = tmp_path / "t.docx"
    (count,) = write_docx([soc_output], path, layout, context, title="t")
    blocks = page_blocks(document_xml(path))
    assert count == len(blocks) >= 3
    for block in blocks:
        assert block.count("<w:tbl>") == 1
        assert "Table 14.3.9" in block and "Cohort 2" in block  # title block and column headers
        assert FOOTNOTE in block and "Source: ADSL, ADAE (SAFFL=&apos;Y&apos;)" in block.replace("'", "&apos;")
    # all the body rows, once each, in order; a page starting inside a SOC repeats it, continued
    shown, continued = [], []
    for block in blocks:
        rows = [r[0] for r in cell_texts(block)[3:]]
        continued.append(rows[0] if rows[0].endswith("(continued)") else None)
        shown += [r for r in rows if not r.endswith("(continued)")]
    expected = [label for s in range(SOCS) for label in [f"SOC {s:02d}", *(f"PT {p:02d}" for p in range(PTS))]]
    assert shown == expected
    for block in blocks[1:]:  # no page opens with a PT: a SOC, or the SOC it continues, comes first
        assert cell_texts(block)[3][0].startswith("SOC")
    assert any(c is not None for c in continued)
    for k, label in enumerate(continued):
        if label is not None:
            soc = label.removesuffix(" (continued)")
            before = [r for b in blocks[:k] for r in (x[0] for x in cell_texts(b)[3:]) if r.startswith("SOC")]
            assert soc == before[-1]  # the SOC the page continues
            assert cell_texts(blocks[k])[3][1:] == ["", "", ""]  # no numbers repeated


def test_sections_number_their_own_pages_and_the_contents_give_computed_pages(soc_output, layout, context,
                                                                               tmp_path):
    path = tmp_path / "all.docx"
    small = render_output(load_shells_small(tmp_path), small_ard(), context, layout, tmp_path)
    outputs = [small, soc_output, small]
    counts = write_docx(outputs, path, layout, context, title="All", toc=True)
    xml = document_xml(path)
    sections = xml.split("<w:body>", 1)[1].split("<w:sectPr")
    # the contents, then one section per output; its pages = its tables
    assert [s.count("<w:tbl>") for s in sections[1:-1]] == counts
    assert counts[0] == 1 and counts[1] >= 3
    with zipfile.ZipFile(path) as z:
        rels = z.read("word/_rels/document.xml.rels").decode()
        headers = {rid: z.read("word/" + target).decode()
                   for rid, target in re.findall(r'Id="(rId\d+)"[^>]*Target="(header\d+\.xml)"', rels)}
    refs = re.findall(r'<w:headerReference w:type="default" r:id="(rId\d+)"/>', xml)
    assert len(refs) == 4 and len(set(refs)) == 4  # a header per section
    shown = [int(re.search(r"> SECTIONPAGES </w:instrText>.*?<w:t>(\d+)</w:t>", headers[r]).group(1)) for r in refs]
    toc_pages = shown[0]
    assert shown[1:] == counts
    assert xml.count('<w:pgNumType w:start="1"/>') == 4  # each section counts from 1
    # contents: every title line, the page where each output starts in the document
    contents = sections[0]
    entries = re.findall(r'<w:hyperlink w:anchor="(_TocTLF\d+)".*?</w:hyperlink>', contents)
    assert len(entries) == 3
    texts = ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", e))
             for e in re.findall(r"<w:hyperlink .*?</w:hyperlink>", contents)]
    starts = [toc_pages + 1, toc_pages + 1 + counts[0], toc_pages + 1 + counts[0] + counts[1]]
    assert texts[1] == f"Table 14.3.9Adverse Events by System Organ Classand Preferred Term{starts[1]}"
    assert [int(re.search(r"(\d+)$", t).group(1)) for t in texts] == starts
    assert "PAGEREF" not in xml and "updateFields" not in document_xml(path, "word/settings.xml")


SMALL_SHELL = """
outputs:
  - id: "14.1.9"
    file: t_small
    kind: table
    title: ["Small"]
    population: {label: All, flag: null}
    datasets: [ADSL]
    columns:
      - {level: Total, label: Total}
    rows:
      - {variable: AGE, label: "Age", stats: [{label: "Mean (SD)", cell: "{mean:d1} ({sd:d2})"}]}
    footnotes: []
"""


def load_shells_small(folder: Path):
    (shell,) = shells_of(folder / "small", SMALL_SHELL)
    return shell


def small_ard() -> pd.DataFrame:
    return pd.DataFrame([{"output": "14.1.9", "group": "", "group_level": "Total", "variable": "AGE",
                          "variable_level": "", "stat_name": s, "stat_label": s, "stat": v}
                         for s, v in [("mean", 40.25), ("sd", 3.5)]] + [
        {"output": "14.1.9", "group": "", "group_level": "Total", "variable": "BIGN", "variable_level": "",
         "stat_name": "N", "stat_label": "N", "stat": 9.0}])


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler lay the document out")
def test_libreoffice_lays_out_the_pages_as_computed(soc_output, layout, context, tmp_path):
    path = tmp_path / "all.docx"
    small = render_output(load_shells_small(tmp_path), small_ard(), context, layout, tmp_path)
    counts = write_docx([soc_output, small], path, layout, context, title="All", toc=True)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "all.pdf"
    pages = [subprocess.run(["pdftotext", "-layout", "-f", str(p), "-l", str(p), str(pdf), "-"], capture_output=True,
                            text=True, check=True).stdout for p in range(1, 2 + sum(counts))]
    assert "Table of Contents" in pages[0]
    assert subprocess.run(["pdftotext", "-f", str(2 + sum(counts)), str(pdf), "-"], capture_output=True).returncode != 0
    soc_pages = pages[1:1 + counts[0]]
    for k, text in enumerate(soc_pages, start=1):
        assert f"Page {k} of {counts[0]}" in text and FOOTNOTE in text and "Source:" in text
    assert "Page 1 of 1" in pages[-1] and "Small" in pages[-1]
    assert re.search(rf"Table 14\.1\.9\s+Small\s*\.+\s*{2 + counts[0]}\s*$", pages[0], re.M)


# figures and data ------------------------------------------------------------------------------
TIMES = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # days; scale 1 keeps them as drawn
EVENTS = np.array([1, 0, 1, 1, 0, 1])


def test_figure_data_are_the_km_fit(tmp_path):
    fit = kaplan_meier(TIMES, EVENTS)
    curve = curve_from_km("All (N=6)", fit, [0, 2, 4], time_scale=1.0)
    frame = figure_ard("14.2.9", [curve], [0, 2, 4])
    got = frame.set_index(["variable", "variable_level", "stat_name"])["stat"]
    # by hand: S(1) = 5/6, S(3) = 5/6 * 3/4, S(4) = S(3) * 2/3, S(6) = 0; at risk 6, 5, 3 at 0, 2, 4
    assert got[("survival", "1.0", "survival")] == pytest.approx(5 / 6)
    assert got[("survival", "3.0", "survival")] == pytest.approx(5 / 6 * 3 / 4)
    assert got[("survival", "4.0", "survival")] == pytest.approx(5 / 6 * 3 / 4 * 2 / 3)
    assert got[("survival", "6.0", "survival")] == pytest.approx(0.0)
    assert [got[("at_risk", t, "n_risk")] for t in ("0.0", "2.0", "4.0")] == [6, 5, 3]
    assert [got[("censored", t, "censored")] for t in ("2.0", "5.0")] == [1, 1]
    # median: the first time S <= 0.5 is 4 (S(3) = 0.625, S(4) = 0.417)
    assert got[("curve", "", "median")] == 4.0 and got[("curve", "", "n")] == 6 and got[("curve", "", "events")] == 4
    assert set(frame.columns) == {"output", "group", "group_level", "variable", "variable_level", "stat_name",
                                  "stat_label", "stat"}


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R survival is the reference for the CIs")
def test_figure_confidence_limits_match_r_survival():
    fit = kaplan_meier(TIMES, EVENTS)
    curve = curve_from_km("All", fit, [0], time_scale=1.0)
    script = ("suppressMessages(library(survival)); f <- survfit(Surv(c(1,2,3,4,5,6), c(1,0,1,1,0,1)) ~ 1, "
              "conf.type='log-log'); e <- f$n.event > 0; cat(f$lower[e], '\\n'); cat(f$upper[e], '\\n'); "
              "q <- quantile(f, 0.5); cat(q$quantile, q$lower, q$upper, '\\n')")
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        pytest.skip(f"R survival not available: {out.stderr[:200]}")
    lines = out.stdout.strip().split("\n")
    low, high = (np.array([float(x) if x != "NA" else np.nan for x in line.split()]) for line in lines[:2])
    finite = np.isfinite(low)
    np.testing.assert_allclose(curve.ci_low[finite], low[finite], rtol=1e-6)
    np.testing.assert_allclose(curve.ci_high[np.isfinite(high)], high[np.isfinite(high)], rtol=1e-6)
    median = [float(x) if x != "NA" else np.nan for x in lines[2].split()]
    assert curve.median == median[0]
    assert curve.median_ci[0] == median[1]


def test_km_figure_with_curves_band_and_font_is_reproducible(tmp_path):
    (shell,) = [s for s in load_shells(Path(__file__).resolve().parents[1] / "specs" / "mt103-206" / "tlf")
                if s.kind == "figure"][:1]
    spec = shell.figure.model_copy(update={"at_risk_times": (0.0, 2.0, 4.0, 6.0), "ci_band": True, "x_max": 6.0})
    fits = [kaplan_meier(TIMES, EVENTS), kaplan_meier(TIMES + 0.5, 1 - EVENTS * 0)]
    curves = [curve_from_km(f"Arm {k}", fit, spec.at_risk_times, time_scale=1.0) for k, fit in enumerate(fits)]
    a = km_figure(curves, tmp_path / "a.png", spec, width_in=9, height_in=4.6, font="Courier New")
    b = km_figure(curves, tmp_path / "b.png", spec, width_in=9, height_in=4.6, font="Courier New")
    assert a.read_bytes() == b.read_bytes()
    plain = km_figure(curves, tmp_path / "c.png", spec.model_copy(update={"ci_band": False}), width_in=9,
                      height_in=4.6, font="Courier New")
    assert plain.read_bytes() != a.read_bytes()  # the band is drawn


def test_listing_data_csv_is_the_listing_as_printed(tmp_path, context):
    text = """
outputs:
  - id: "16.2.9"
    file: l_test
    kind: listing
    title: ["Test listing"]
    population: {label: All, flag: null}
    datasets: [ADAE]
    sort_by: [USUBJID, ADT]
    columns:
      - {name: USUBJID, label: Subject, repeat: false}
      - {name: ADT, label: Date}
      - {name: AVAL, label: Value, format: d1}
    footnotes: []
"""
    (shell,) = shells_of(tmp_path / "s", text)
    frame = pd.DataFrame({"USUBJID": ["S2", "S1", "S1"], "ADT": pd.to_datetime(["2011-01-05", "2011-01-03", "2011-01-01"]),
                          "AVAL": [1.25, 2.0, np.nan]})
    write_output_data(shell, frame, tmp_path / "l.csv")
    assert (tmp_path / "l.csv").read_text() == ("USUBJID,ADT,AVAL\nS1,2011-01-01,\nS1,2011-01-03,2.0\n"
                                                "S2,2011-01-05,1.3\n")
