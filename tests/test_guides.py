"""The reviewer's guides of a build: cSDRG beside the SDTM, ADRG beside the ADaM (DOCX), with the
sections of the PHUSE templates, every dataset with its record count as the XPT holds it, every
validation finding with the study's explanation, referenced from define.xml and the manifest, and
the same bytes from two builds.

Expected values come from outside the guide code: the XPT files read by pyreadstat, the validation
report and validation_explanations.yaml of the build, the section names of the PHUSE templates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyreadstat
import pytest
import yaml
from click.testing import CliRunner
from docx import Document
from lxml import etree

from submit.cli import main
from submit.define import schema_errors
from submit.errors import DataCheckError
from submit.guides import check_document_links
from submit.guides.common import findings
from submit.guides.inputs import NOT_EXPLAINED, GuideInputs
from submit.guides.model import Table

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs" / "mt103-206"
SDTM = "m5/datasets/mt103-206/tabulations/sdtm"
ADAM = "m5/datasets/mt103-206/analysis/adam/datasets"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"

# Section names of the PHUSE templates (cSDRG template and completion guidelines, ADRG template),
# plus the topics issue 16 asks for (subject data flow, split datasets, SUPP--, program inventory).
CSDRG_SECTIONS = ("Introduction", "Study Data Standards and Dictionary Inventory", "Protocol Description",
                  "Protocol Number and Title", "Protocol Design", "Trial Design Datasets", "Subject Data Description",
                  "Subject Data Flow", "Split Datasets", "Supplemental Qualifiers", "Data Conformance Summary",
                  "Conformance Inputs", "Issues Summary", "Inclusion/Exclusion Criteria")
ADRG_SECTIONS = ("Introduction", "Study Data Standards and Dictionary Inventory", "Protocol Description",
                 "Analysis Considerations Related to Multiple Analysis Datasets", "Treatment Variables",
                 "Analysis Populations", "Imputation", "Analysis Data Creation and Processing Issues",
                 "Analysis Dataset Descriptions", "Parameters", "Derivation Highlights", "Data Conformance Summary",
                 "Issues Summary", "Submission of Programs")


def build(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(main, [*args, "build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("guides") / "out")


def headings(doc) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]


def table_rows(doc, first_column: str) -> list[dict[str, str]]:
    """Rows (header -> text) of every table whose first header cell is `first_column`."""
    rows = []
    for table in doc.tables:
        header = [c.text for c in table.rows[0].cells]
        if header[0] == first_column:
            rows += [dict(zip(header, (c.text for c in r.cells))) for r in table.rows[1:]]
    return rows


def xpt_records(folder: Path) -> dict[str, int]:
    return {p.stem.upper(): len(pyreadstat.read_xport(str(p))[0]) for p in sorted(folder.glob("*.xpt"))}


def test_both_guides_open_and_hold_the_template_sections(package):
    for path, sections in ((package / SDTM / "csdrg.docx", CSDRG_SECTIONS), (package / ADAM / "adrg.docx", ADRG_SECTIONS)):
        found = headings(Document(str(path)))
        missing = [s for s in sections if not any(s in h for h in found)]
        assert not missing, f"{path.name} lacks {missing}"


@pytest.mark.parametrize("folder, guide", [(SDTM, "csdrg.docx"), (ADAM, "adrg.docx")])
def test_every_dataset_is_listed_with_the_record_count_of_its_xpt(package, folder, guide):
    expected = xpt_records(package / folder)
    overview = {r["Dataset"]: r for r in table_rows(Document(str(package / folder / guide)), "Dataset") if "Records" in r}
    assert set(expected) <= set(overview)
    assert {name: int(overview[name]["Records"]) for name in expected} == expected


def test_csdrg_says_which_domains_have_supplemental_qualifiers(package):
    files = {p.stem.upper() for p in (package / SDTM).glob("*.xpt")}
    overview = {r["Dataset"]: r["SUPP--"] for r in table_rows(Document(str(package / SDTM / "csdrg.docx")), "Dataset")
                if "SUPP--" in r}
    assert overview and {d: ("Yes" if f"SUPP{d}" in files else "No") for d in overview} == overview
    qnams = {(r["Dataset"], r["QNAM"]) for r in table_rows(Document(str(package / SDTM / "csdrg.docx")), "Dataset")
             if "QNAM" in r}
    for name in (f for f in files if f.startswith("SUPP")):
        data, _ = pyreadstat.read_xport(str(package / SDTM / f"{name.lower()}.xpt"))
        assert {(name, q) for q in data["QNAM"].unique()} <= qnams


def test_adrg_parameters_and_population_counts_match_the_xpt(package):
    doc = Document(str(package / ADAM / "adrg.docx"))
    tables = [{r.cells[0].text: int(r.cells[2].text) for r in t.rows[1:]} for t in doc.tables
              if [c.text for c in t.rows[0].cells] == ["PARAMCD", "PARAM", "Records", "Subjects"]]
    for name in ("adtte", "adrs", "adlb"):
        data, _ = pyreadstat.read_xport(str(package / ADAM / f"{name}.xpt"))
        expected = data["PARAMCD"].value_counts().to_dict()
        assert [t for t in tables if set(t) == set(expected)] == [expected], name
    adsl, _ = pyreadstat.read_xport(str(package / ADAM / "adsl.xpt"))
    flags = {r["Flag"]: r for r in table_rows(doc, "Flag")}
    for flag in ("SAFFL", "FASFL"):
        assert int(flags[flag]["Y"]) == int((adsl[flag] == "Y").sum())


def test_every_finding_of_the_report_is_in_the_csdrg_with_its_explanation(package):
    report = json.loads((package / "qc" / "validation.json").read_text(encoding="utf-8"))
    explanations = yaml.safe_load((SPECS / "validation_explanations.yaml").read_text(encoding="utf-8"))
    sdtm_rules = {r["id"] for r in report["rules"] if r["scope"] in ("sdtm", "package")}
    expected = [s for s in report["issue_summary"] if s["rule"] in sdtm_rules]
    assert expected, "the default package has findings to explain"
    shown = {(r["Rule"], r["Dataset"]): r for r in table_rows(Document(str(package / SDTM / "csdrg.docx")), "Rule")}
    for s in expected:
        row = shown[(s["rule"], s["dataset"])]
        assert int(row["Count"]) == s["found"]
        assert " ".join(row["Explanation"].split()) == " ".join(explanations[s["rule"]].split())


def test_an_unexplained_finding_is_listed_as_such():
    report = {"rules": [{"id": "X-1", "scope": "sdtm"}, {"id": "X-2", "scope": "adam"}],
              "issue_summary": [{"rule": "X-1", "cdisc": "CG0001", "p21": "", "severity": "Warning", "dataset": "AE",
                                 "message": "something", "found": 3},
                                {"rule": "X-2", "severity": "Warning", "dataset": "ADSL", "message": "other", "found": 1}]}
    inputs = GuideInputs(None, SPECS, "SDTM", None, {}, report, {}, True, "0")
    table = next(b for b in findings(inputs) if isinstance(b, Table))
    assert table.rows == (("X-1", "CG0001", "Warning", "AE", "something", "3", NOT_EXPLAINED),)  # not the ADaM one


def test_each_define_references_its_guide_and_stays_schema_valid(package):
    for folder, leaf, href in ((SDTM, "LF.csdrg", "csdrg.docx"), (ADAM, "LF.adrg", "adrg.docx")):
        define = package / folder / "define.xml"
        root = etree.parse(str(define)).getroot()
        refs = root.findall(f".//{{{DEF}}}SupplementalDoc/{{{DEF}}}DocumentRef")
        assert [r.get("leafID") for r in refs] == [leaf]
        leaves = {e.get("ID"): e.get(f"{{{XLINK}}}href") for e in root.iter(f"{{{DEF}}}leaf")}
        assert leaves[leaf] == href and (package / folder / href).is_file()
        assert schema_errors(define) == []


def test_the_manifest_lists_the_guides(package):
    files = {f["path"]: f["sha256"] for f in json.loads((package / "manifest.json").read_text())["files"]}
    assert f"{SDTM}/csdrg.docx" in files and f"{ADAM}/adrg.docx" in files


def test_a_define_referencing_a_missing_guide_is_refused(package, tmp_path):
    shutil.copy(package / SDTM / "define.xml", tmp_path / "define.xml")
    with pytest.raises(DataCheckError, match="not written"):
        check_document_links(tmp_path / "define.xml")


def test_two_builds_give_byte_identical_guides(package, tmp_path):
    again = build(tmp_path / "again")
    for path in (f"{SDTM}/csdrg.docx", f"{ADAM}/adrg.docx"):
        assert (again / path).read_bytes() == (package / path).read_bytes(), path


def test_an_sdtm_only_study_gets_a_csdrg_and_no_adrg(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--specs", str(REPO / "tests/studies/xan-tiny"), "build", "--raw",
                                       str(REPO / "tests/studies/xan-tiny-raw"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    sdtm = out / "m5/datasets/xan-tiny/tabulations/sdtm"
    assert not list(out.rglob("adrg.docx"))
    overview = {r["Dataset"]: int(r["Records"]) for r in table_rows(Document(str(sdtm / "csdrg.docx")), "Dataset")
                if "Records" in r}
    assert overview == xpt_records(sdtm)
