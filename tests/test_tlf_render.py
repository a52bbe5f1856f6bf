"""TLF rendering: shells + synthetic ARDs / listing frames / KM curves -> table grids and DOCX.

Expected texts are computed here independently of the renderer (decimal rounding half up on the
decimal value, scipy for the exact CI) and read back from the DOCX with python-docx."""

from __future__ import annotations

import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from PIL import Image
from scipy.stats import beta

from submit.errors import InputError
from submit.tlf import (KmCurve, expected_stats, km_figure, load_shells, render_listing,
                        render_output, render_table, write_docx, write_tlf_package)
from submit.tlf.analysis import AdamData, analyze
from submit.tlf.analysis.registry import bound_parameters
from submit.tlf.formatting import format_numbers, parse_cell

REPO = Path(__file__).resolve().parents[1]
COHORTS = ["Cohort A", "Cohort B"]


def half_up(value: float, decimals: int) -> str:
    """Reference rounding: the decimal number the float stands for, half away from zero."""
    q = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{q:.{decimals}f}"


def exact_ci(x: int, n: int) -> tuple[float, float]:
    low = 0.0 if x == 0 else beta.ppf(0.025, x, n - x + 1)
    high = 1.0 if x == n else beta.ppf(0.975, x + 1, n - x)
    return low, high


def write_shells(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shells.yaml").write_text(text, encoding="utf-8")
    return folder


RESPONSE_SHELL = """
outputs:
  - id: "14.2.9"
    file: t_test_response
    kind: table
    title: ["Response of {{ study.study.drug }}"]
    population: {label: All treated subjects, flag: SAFFL}
    datasets: [ADSL, ADRS]
    columns:
      - {group: TRT01A, span: Cohort}
      - {level: Total, label: Total}
    rows:
      - variable: CRCRH
        level: "Y"
        label: "CR/CRh*"
        stats:
          - {label: "n (%)", cell: "{n} ({p:pct1})"}
          - {label: "95% CI", cell: "{ci_low:pct1}, {ci_high:pct1}"}
      - variable: AGE
        label: "Age (years)"
        stats:
          - {label: "Mean (SD)", cell: "{mean:d1} ({sd:d2})"}
    footnotes: ["Data cut-off {{ study.dates.data_cutoff }}."]
"""

COUNTS = {"Cohort A": (7, 16), "Cohort B": (0, 20), "Total": (7, 36)}  # responders, N
AGES = {"Cohort A": (40.25, 12.345), "Cohort B": (33.35, 2.675), "Total": (36.45, 9.995)}


def response_ard() -> pd.DataFrame:
    rows = []
    for level, (x, n) in COUNTS.items():
        group = "" if level == "Total" else "TRT01A"
        low, high = exact_ci(x, n)
        mean, sd = AGES[level]
        stats = [("BIGN", "", "N", n), ("CRCRH", "Y", "n", x), ("CRCRH", "Y", "p", x / n),
                 ("CRCRH", "Y", "ci_low", low), ("CRCRH", "Y", "ci_high", high),
                 ("AGE", "", "mean", mean), ("AGE", "", "sd", sd)]
        rows += [{"output": "14.2.9", "group": group, "group_level": level, "variable": v, "variable_level": vl,
                  "stat_name": s, "stat_label": s, "stat": value} for v, vl, s, value in stats]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def response_shell(tmp_path_factory):
    (shell,) = load_shells(write_shells(tmp_path_factory.mktemp("shells"), RESPONSE_SHELL))
    return shell


def expected_response_cells(level: str) -> list[str]:
    x, n = COUNTS[level]
    low, high = exact_ci(x, n)
    mean, sd = AGES[level]
    rate = "0" if x == 0 else f"{x} ({half_up(100 * x / n, 1)})"
    return [rate, f"{half_up(100 * low, 1)}, {half_up(100 * high, 1)}", f"{half_up(mean, 1)} ({half_up(sd, 2)})"]


# formatting ------------------------------------------------------------------------------------
def test_display_rounding_is_half_away_from_zero_on_the_decimal_value():
    values = [2.675, 0.125, -2.5, 1.005, -0.0001, np.nan]
    assert list(format_numbers(values, "d2")) == ["2.68", "0.13", "-2.50", "1.01", "0.00", "NE"]
    assert list(format_numbers([0.5, 1.5, 2.5, -0.5], "d0")) == ["1", "2", "3", "-1"]
    assert list(format_numbers([25 / 36, 0.00049, 1.0], "pct1")) == ["69.4", "0.0", "100.0"]
    assert list(format_numbers([0.0234567, 470.35, 1234.5, 9.996], "sig3")) == ["0.0235", "470", "1235", "10.0"]


def test_p_values_print_within_their_bounds_as_sas_pvalue_formats():
    # SAS PVALUE6.3 / PVALUE6.4: below 10^-d "<0.001", rounded half away from zero otherwise
    values = [0.00004, 0.00149, 0.0495, 0.04949, 0.9996, 1.0, np.nan]
    assert list(format_numbers(values, "pvalue3")) == ["<0.001", "0.001", "0.050", "0.049", ">0.999", ">0.999", "NE"]
    assert list(format_numbers([0.00009, 0.01234], "pvalue4")) == ["<0.0001", "0.0123"]
    with pytest.raises(ValueError, match="pvalue3-pvalue4"):
        parse_cell("{p_value:pvalue2}")


def test_cell_templates_require_a_format_for_non_counts():
    assert parse_cell("{n} ({p:pct1})").stats == ("n", "p")
    with pytest.raises(ValueError, match="median"):
        parse_cell("{median}")
    with pytest.raises(ValueError, match="pct9"):
        parse_cell("{p:pct9}")


# table layout ----------------------------------------------------------------------------------
def test_table_cells_come_from_the_ard(response_shell, context):
    table = render_table(response_shell, response_ard(), context)
    labels = table.body["c0"].tolist()
    assert labels == ["CR/CRh*", "n (%)", "95% CI", "", "Age (years)", "Mean (SD)"]
    assert table.indent.tolist() == [0, 1, 1, 0, 0, 1]
    for j, level in enumerate(["Cohort A", "Cohort B", "Total"], start=1):
        column = table.body[f"c{j}"]
        assert [column[1], column[2], column[5]] == expected_response_cells(level)
    assert [c.text for c in table.header[0]] == ["", "Cohort", ""]
    assert table.header[0][1].span == 2
    assert [c.text for c in table.header[1]] == ["", "Cohort A\n(N=16)", "Cohort B\n(N=20)", "Total\n(N=36)"]


def test_missing_stat_names_shell_stat_and_column(response_shell, context):
    ard = response_ard()
    ard = ard[~((ard["stat_name"] == "ci_high") & (ard["group_level"] == "Cohort B"))]
    with pytest.raises(InputError) as err:
        render_table(response_shell, ard, context)
    text = str(err.value)
    assert "14.2.9" in text and "'ci_high'" in text and "Cohort B" in text and "CRCRH" in text


def test_every_problem_is_reported_at_once(response_shell, context):
    ard = response_ard()
    ard = ard[~ard["stat_name"].isin(["sd", "N"])]
    with pytest.raises(InputError) as err:
        render_table(response_shell, ard, context)
    messages = [p.message for p in err.value.problems]
    assert sum("'sd'" in m for m in messages) == 3  # one per column
    assert sum("header N" in m for m in messages) == 3


SOC_SHELL = """
outputs:
  - id: "14.3.9"
    file: t_test_soc
    kind: table
    title: ["TEAEs"]
    population: {label: All treated subjects, flag: SAFFL}
    datasets: [ADAE]
    columns: [{group: TRT01A}, {level: Total}]
    header_n: null
    rows:
      - {variable: AEBODSYS, child: AEDECOD, levels: ard, sort: frequency, cell: "{n} ({p:pct1})"}
"""


def test_soc_pt_rows_nest_and_sort_by_descending_total(tmp_path, context):
    (shell,) = load_shells(write_shells(tmp_path, SOC_SHELL))
    counts = {("Infections", None): 3, ("Infections", "Sepsis"): 1, ("Infections", "Pneumonia"): 2,
              ("Nervous", None): 5, ("Nervous", "Tremor"): 4, ("Nervous", "Headache"): 4,
              ("Nervous", "Aphasia"): 1}
    rows = []
    for (soc, pt), total in counts.items():
        variable, level = ("AEBODSYS", soc) if pt is None else ("AEDECOD", f"{soc} | {pt}")
        for group, group_level, n in (("TRT01A", "A", total - 1), ("TRT01A", "B", 1), ("", "Total", total)):
            n = 0 if (pt == "Aphasia" and group_level == "A") else n
            rows += [{"output": "14.3.9", "group": group, "group_level": group_level, "variable": variable,
                      "variable_level": level, "stat_name": s, "stat_label": s, "stat": v}
                     for s, v in (("n", n), ("p", n / 10))]
    table = render_table(shell, pd.DataFrame(rows), context)
    assert table.body["c0"].tolist() == ["Nervous", "Headache", "Tremor", "Aphasia",
                                         "Infections", "Pneumonia", "Sepsis"]
    assert table.indent.tolist() == [0, 1, 1, 1, 0, 1, 1]
    assert table.body.loc[3, "c1"] == "0"  # a zero count prints without its percentage
    assert table.body.loc[0, "c3"] == "5 (50.0)"


def test_an_empty_soc_pt_block_prints_its_empty_text(tmp_path, context):
    """A study without serious TEAEs: the analysis names AEBODSYS, the ARD has no level of it."""
    text = SOC_SHELL.replace("    rows:\n", "    analysis: {kind: summary, layers: [{events: [AEBODSYS, AEDECOD], dataset: ADAE, "
                                          "any: TEAE}]}\n    rows:\n      - {variable: TEAE, level: ANY, label: Any, "
                                          "cell: \"{n}\"}\n")
    text = text.replace('cell: "{n} ({p:pct1})"}', 'cell: "{n} ({p:pct1})", empty_text: "No subjects with such an event"}')
    (shell,) = load_shells(write_shells(tmp_path, text))
    ard = pd.DataFrame([{"output": "14.3.9", "group": g, "group_level": lv, "variable": "TEAE", "variable_level": "ANY",
                         "stat_name": "n", "stat_label": "n", "stat": 0.0}
                        for g, lv in (("TRT01A", "A"), ("TRT01A", "B"), ("", "Total"))])
    table = render_table(shell, ard, context)
    assert table.body["c0"].tolist() == ["Any", "", "No subjects with such an event"]
    assert table.body.loc[2, ["c1", "c2", "c3"]].tolist() == ["", "", ""]


# listings --------------------------------------------------------------------------------------
LISTING_SHELL = """
outputs:
  - id: "16.2.9"
    file: l_test
    kind: listing
    title: ["Deaths"]
    population: {label: All treated subjects, flag: SAFFL}
    datasets: [ADSL]
    sort_by: [USUBJID, ADT]
    columns:
      - {name: USUBJID, label: Subject, repeat: false}
      - {name: ADT, label: Date}
      - {name: AVAL, label: Value, format: d1}
      - {name: TERM, label: Term}
"""


def test_listing_sorts_blanks_repeats_and_formats(tmp_path, context):
    (shell,) = load_shells(write_shells(tmp_path, LISTING_SHELL))
    frame = pd.DataFrame({"USUBJID": ["S2", "S1", "S1"],
                          "ADT": pd.to_datetime(["2011-01-05", "2011-03-01", "2011-02-01"]),
                          "AVAL": [1.25, np.nan, -0.05], "TERM": ["Sepsis", "A & B <c>", None]})
    table = render_listing(shell, frame, context)
    assert table.body.values.tolist() == [["S1", "2011-02-01", "-0.1", ""],
                                          ["", "2011-03-01", "", "A & B <c>"],
                                          ["S2", "2011-01-05", "1.3", "Sepsis"]]
    assert table.keep_with_next.tolist() == [True, False, False]  # S1's first row stays with its second
    with pytest.raises(InputError, match="TERM2"):
        render_listing(shell.model_copy(update={"sort_by": ("TERM2",)}), frame, context)


# DOCX ------------------------------------------------------------------------------------------
def _docx_xml(path: Path, member: str = "word/document.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(member).decode("utf-8")


def test_docx_holds_the_numbers_headers_fields_and_landscape(response_shell, context, layout, tmp_path):
    output = render_output(response_shell, response_ard(), context, layout, tmp_path)
    path = tmp_path / "t.docx"
    write_docx([output], path, layout, context, title="t")
    doc = Document(str(path))
    section = doc.sections[0]
    assert section.orientation == 1 and section.page_width > section.page_height  # WD_ORIENT.LANDSCAPE
    (table,) = doc.tables
    texts = [[cell.text for cell in row.cells] for row in table.rows]
    assert texts[0][0].startswith("Table 14.2.9") and "Response of blinatumomab" in texts[0][0]
    assert "All treated subjects" in texts[0][0]
    assert texts[2][1:] == ["Cohort A\n(N=16)", "Cohort B\n(N=20)", "Total\n(N=36)"]
    body = {row[0]: row[1:] for row in texts[3:]}
    for j, level in enumerate(["Cohort A", "Cohort B", "Total"]):
        expected = expected_response_cells(level)
        assert [body["n (%)"][j], body["95% CI"][j], body["Mean (SD)"][j]] == expected
    # the title and column header rows repeat on every page; body rows do not
    repeated = [row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None for row in table.rows]
    assert repeated == [True, True, True] + [False] * (len(table.rows) - 3)
    header_xml = _docx_xml(path, "word/header1.xml")
    assert header_xml.count('w:fldCharType="begin"') == 2
    assert "> PAGE <" in header_xml and "> SECTIONPAGES <" in header_xml
    # the page count is also the field's written result (LibreOffice has no SECTIONPAGES): 1 page here
    assert re.search(r"> SECTIONPAGES </w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
                     r"<w:r><w:t>1</w:t>", header_xml)
    assert "Protocol MT103-206" in header_xml
    notes = [p.text for p in doc.paragraphs]
    assert "Data cut-off 2012-10-15." in notes
    assert any(n.startswith("Source: ADSL, ADRS (SAFFL='Y').") and "2026-11-25" in n for n in notes)
    grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(grid) == round(layout.page.text_width_in * 1440)  # fills, never overflows, the text width


def test_docx_bytes_are_reproducible(response_shell, context, layout, tmp_path):
    output = render_output(response_shell, response_ard(), context, layout, tmp_path)
    first, second = tmp_path / "a.docx", tmp_path / "b.docx"
    write_docx([output], first, layout, context, title="t")
    write_docx([output], second, layout, context, title="t")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as z:
        assert z.namelist()[0] == "[Content_Types].xml"
        assert {info.date_time for info in z.infolist()} == {(2026, 11, 25, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
        assert "2026-11-25T00:00:00Z" in core and "docProps/thumbnail.jpeg" not in z.namelist()


def test_big_listing_is_cut_into_pages_between_subjects(tmp_path, context, layout):
    (shell,) = load_shells(write_shells(tmp_path / "s", LISTING_SHELL))
    n = 3000
    frame = pd.DataFrame({"USUBJID": [f"S{i // 7:04d}" for i in range(n)],  # blocks of 7 rows
                          "ADT": pd.Timestamp("2011-01-01") + pd.to_timedelta(np.arange(n) % 7, unit="D"),
                          "AVAL": np.arange(n) / 4, "TERM": ["x"] * n})
    output = render_output(shell, frame, context, layout, tmp_path)
    path = tmp_path / "l.docx"
    pages = write_docx([output], path, layout, context, title="l")
    tables = Document(str(path)).tables
    assert pages == [len(tables)] and len(tables) > 50
    rows = [len(t.rows) - 2 for t in tables]
    assert sum(rows) == n
    for table in tables:
        assert table.rows[2].cells[0].text.startswith("S")  # each page starts with its subject shown
        assert table.rows[0].cells[0].text.startswith("Listing")  # and with the title block
    assert all(r % 7 == 0 for r in rows[:-1])  # whole subjects on every page
    assert [c.text for c in tables[-1].rows[-1].cells] == ["", "2011-01-04", half_up((n - 1) / 4, 1), "x"]
    xml = _docx_xml(path)
    assert xml.count('<w:br w:type="page"/>') == len(tables) - 1 and xml.count('w:val="Heading1"') == 1


# figure ----------------------------------------------------------------------------------------
def _curve() -> KmCurve:
    return KmCurve("All treated (N=36)", time=np.array([1.0, 2.5, 4.0, 9.0]), survival=np.array([0.9, 0.7, 0.5, 0.3]),
                   censor_times=np.array([3.0, 10.0]), at_risk=np.array([36, 20, 9, 2]), median=4.0)


def test_km_figure_is_a_reproducible_300_dpi_png(tmp_path, context, layout):
    (shell,) = [s for s in load_shells(REPO / "specs" / "mt103-206" / "tlf") if s.id == "14.2.6.2"]
    spec = shell.figure.model_copy(update={"at_risk_times": (0.0, 3.0, 6.0, 9.0)})
    a = km_figure([_curve()], tmp_path / "a.png", spec, width_in=9, height_in=4.6)
    b = km_figure([_curve()], tmp_path / "b.png", spec, width_in=9, height_in=4.6)
    assert a.read_bytes() == b.read_bytes()
    with Image.open(a) as image:
        assert image.size == (2700, 1380)
        assert round(image.info["dpi"][0]) == 300
        assert "Software" not in image.info
    with pytest.raises(ValueError, match="at-risk"):
        km_figure([_curve()], tmp_path / "c.png", shell.figure)
    # embedded in a document with its title and footnotes, still byte-reproducible
    output = render_output(shell.model_copy(update={"figure": spec}), [_curve()], context, layout, tmp_path / "f")
    for name in ("a.docx", "b.docx"):
        write_docx([output], tmp_path / name, layout, context, title="f")
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()
    doc = Document(str(tmp_path / "a.docx"))
    assert len(doc.inline_shapes) == 1 and doc.inline_shapes[0].width <= int(layout.page.text_width_in * 914400)
    assert doc.paragraphs[0].text.startswith("Figure 14.2.6.2")


# shells and the package ------------------------------------------------------------------------
def test_shell_errors_are_reported_together(tmp_path):
    text = RESPONSE_SHELL.replace("{sd:d2}", "{sd:x9}").replace("population:", "colour: red\n    population:")
    text += RESPONSE_SHELL.split("outputs:\n", 1)[1].replace("{{ study", "{{ study }")
    with pytest.raises(InputError) as err:
        load_shells(write_shells(tmp_path, text))
    messages = " | ".join(str(p) for p in err.value.problems)
    assert "colour" in messages and "outputs[0] (id 14.2.9)" in messages
    assert "Jinja2" in messages and "id 14.2.9" in messages


def test_a_shell_analysis_needs_a_known_kind_and_its_parameters(tmp_path, study):
    """The loader checks the form of `analysis` (a kind); the analysis layer checks the kind and its
    parameters against the vocabulary, each problem naming the shell file and output id."""
    no_kind = RESPONSE_SHELL.replace("datasets: [ADSL, ADRS]", "datasets: [ADSL, ADRS]\n    analysis: {paramcd: CR}")
    with pytest.raises(InputError) as err:
        load_shells(write_shells(tmp_path / "a", no_kind))
    (problem,) = err.value.problems
    assert problem.file.endswith("shells.yaml") and problem.key == "outputs[0] (id 14.2.9).analysis.kind"

    two = RESPONSE_SHELL.replace("datasets: [ADSL, ADRS]", "datasets: [ADSL, ADRS]\n    analysis: {kind: rate_table}")
    two += RESPONSE_SHELL.split("outputs:\n", 1)[1].replace("14.2.9", "14.2.8").replace("t_test_response", "t_other") \
        .replace("datasets: [ADSL, ADRS]", "datasets: [ADSL, ADRS]\n    analysis: {kind: time_to_event, variable: [CR]}")
    shells = load_shells(write_shells(tmp_path / "b", two))  # well-formed: the vocabulary is the analysis layer's
    with pytest.raises(InputError) as err:
        analyze(AdamData({}, study), shells)
    found = {(Path(p.file).name, p.key): p.message for p in err.value.problems}
    assert set(found) == {("shells.yaml", "id 14.2.9.analysis.kind"), ("shells.yaml", "id 14.2.8.analysis.variable")}
    assert "unknown analysis kind 'rate_table'" in found[("shells.yaml", "id 14.2.9.analysis.kind")]
    assert "valid string" in found[("shells.yaml", "id 14.2.8.analysis.variable")]


def test_every_study_shell_names_a_runnable_analysis():
    for shell in load_shells(REPO / "specs" / "mt103-206" / "tlf"):
        fn, _, problems = bound_parameters(shell)
        assert fn is not None and problems == [], (shell.id, problems)


def synthetic_result(shell, rng: np.random.Generator):
    """Data shaped as the shell expects: every expected stat for every column, 3 levels where the
    shell takes them from the ARD (2 SOCs x 2 PTs for nested rows), 30-row listings, one curve."""
    if shell.kind == "listing":
        return pd.DataFrame({c.name: (rng.uniform(0, 100, 30) if c.format else [f"v{i % 7}" for i in range(30)])
                             for c in shell.columns})
    if shell.kind == "figure":
        times = shell.figure.at_risk_times
        return [KmCurve("All", np.array([1.0, 2.0]), np.array([0.8, 0.6]), np.array([max(times)]),
                        np.linspace(30, 1, len(times)).astype(int), median=float("nan"))]
    columns = []
    for col in shell.columns:
        levels = col.levels or ["L1", "L2"]
        columns += [(col.group or "", level) for level in levels]
    rows = []
    for item in expected_stats(shell):
        level = item["variable_level"]
        levels = {"*": ["S1", "S2"], "* | *": ["S1 | P1", "S1 | P2", "S2 | P1"]}.get(level, [level])
        for lv in levels:
            for group, group_level in columns:
                rows += [{"output": shell.id, "group": group, "group_level": group_level,
                          "variable": item["variable"], "variable_level": lv, "stat_name": s, "stat_label": s,
                          "stat": float(rng.integers(1, 30))} for s in item["stats"].split(", ")]
    return pd.DataFrame(rows)


def test_every_study_shell_renders_into_the_package(tmp_path, context, layout):
    shells = load_shells(REPO / "specs" / "mt103-206" / "tlf")
    ids = {s.id for s in shells}
    assert {"14.1.1", "14.1.2", "14.1.3", "14.2.1.1", "14.2.1.2", "14.2.1.3", "14.2.1.4", "14.2.2", "14.2.3",
            "14.2.4.1", "14.2.4.2", "14.2.5.1", "14.2.5.2", "14.2.6.1", "14.2.6.2", "14.3.1.1", "14.3.1.2",
            "14.3.1.3", "14.3.1.4", "14.3.1.5", "14.4.1", "14.4.2", "14.4.3", "16.2.6.1", "16.2.7.1",
            "16.2.7.2"} <= ids
    rng = np.random.default_rng(3)
    results = {s.id: synthetic_result(s, rng) for s in shells}
    index = write_tlf_package(shells, results, tmp_path / "tlf", context, layout)
    assert list(index.columns) == ["id", "kind", "title", "file", "rtf", "pdf_pages", "ard", "population", "datasets"]
    assert index["id"].tolist() == sorted(index["id"], key=lambda i: tuple(int(p) for p in i.split(".")))
    on_disk = pd.read_csv(tmp_path / "tlf" / "tlf_index.csv", dtype=str)
    assert on_disk.loc[on_disk["id"] == "14.1.3", "title"].item() == "Exposure to Blinatumomab"
    for file in [*index["file"], *index["rtf"]]:
        assert (tmp_path / "tlf" / file).is_file()
    assert sorted(p.name for p in (tmp_path / "tlf" / "ard").glob("*.csv")) == sorted(f"{i}.csv" for i in index["id"])
    assert (index["ard"] == "ard/" + index["id"] + ".csv").all()
    assert len(list((tmp_path / "tlf" / "figures").glob("*.png"))) == 3
    combined = _docx_xml(tmp_path / "tlf" / "tlf_all.docx")
    assert combined.count("<w:drawing>") == 3
    # the table of contents: one entry per output, linked to the bookmark on its heading
    refs = re.findall(r'<w:hyperlink w:anchor="(_TocTLF\d+)"', combined)
    marks = re.findall(r'<w:bookmarkStart w:id="\d+" w:name="(_TocTLF\d+)"/><w:r><w:t xml:space="preserve">'
                       r"(?:Table|Listing|Figure) ", combined)
    assert len(refs) == len(index) and refs == marks
    assert combined.count('w:val="Heading1"') == len(index)
    assert "updateFields" not in _docx_xml(tmp_path / "tlf" / "tlf_all.docx", "word/settings.xml")
    with pytest.raises(InputError, match="99.9"):
        write_tlf_package(shells, {"99.9": pd.DataFrame()}, tmp_path / "other", context, layout)


def test_docx_bytes_are_the_same_through_python_docx_public_save(response_shell, context, layout, tmp_path,
                                                                  monkeypatch):
    # The writer takes the package members from python-docx's private PackageWriter steps; a version
    # without them falls back on Document.save, which must give the very same file.
    output = render_output(response_shell, response_ard(), context, layout, tmp_path)
    write_docx([output], tmp_path / "private.docx", layout, context, title="t")
    monkeypatch.setattr("submit.tlf.docx_writer._WRITER_STEPS", ("_a_step_this_python_docx_lacks",))
    write_docx([output], tmp_path / "public.docx", layout, context, title="t")
    assert (tmp_path / "public.docx").read_bytes() == (tmp_path / "private.docx").read_bytes()
