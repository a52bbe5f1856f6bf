"""The spec layer: CSV folder and P21 workbook round trips, validation naming file and line, CDISC CT
lookups and checks, and the `submit spec` commands."""

from __future__ import annotations

import csv
import dataclasses
import logging
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from submit.cli import main
from submit.errors import InputError
from submit.spec.ct import SHIPPED_CT, codelist_from_ct, ct_file, load_terminology
from submit.spec.model import (Codelist, Comment, Dataset, Document, Method, Spec, Study, Term, ValueLevel,
                               Variable, WhereClause, WhereCondition)
from submit.spec.store import TABLES, load_spec, write_spec
from submit.spec.validate import validate_spec
from submit.spec.workbook import COLUMN_SYNONYMS, column_names, export_xlsx, import_xlsx

FIXTURE = Path(__file__).parent / "fixtures" / "spec_small"
REPO_SPECS = Path(__file__).resolve().parents[1] / "specs" / "mt103-206"
CT = "2025-03-28"


@pytest.fixture(scope="module")
def ct():
    return load_terminology(CT)


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(FIXTURE, ct_version=CT)


def messages(exc: InputError) -> list[str]:
    return [str(p) for p in exc.problems]


# ------------------------------------------------------------------------------------ CSV folder
def test_fixture_reads_into_the_model(spec):
    assert spec.study == Study("XYZ-101", "A Phase 2, Randomized, Placebo-Controlled Study of Drug X in Adults "
                               "with Condition Y", "XYZ-101", "SDTMIG", "3.4", "en")
    assert [d.name for d in spec.datasets] == ["DM", "VS"]
    assert spec.dataset("VS").keys == ("STUDYID", "USUBJID", "VSTESTCD", "VSDTC") and spec.dataset("VS").repeating
    sex = next(v for v in spec.variables if v.name == "SEX")
    assert (sex.codelist, sex.core, sex.mandatory, sex.length, sex.pages) == ("SEX", "Req", True, 1, "2")
    stresn = next(v for v in spec.variables if v.name == "VSSTRESN")
    assert (stresn.data_type, stresn.significant_digits, stresn.method) == ("float", 1, "MT.VSSTRESN")
    assert spec.codelist("UNIT").terms[2] == Term("lb", "", "Pound", 3, extended=True)
    assert spec.codelist("UNIT").extensible is True and spec.codelist("ARMCD").extensible is None
    assert spec.codelist("ARMCD").comment == "COM.ARMCD"
    weight = next(w for w in spec.where_clauses if w.id == "WC.VS.WEIGHT")
    assert weight.conditions == (WhereCondition("VS", "VSTESTCD", "EQ", ("WEIGHT",)),
                                 WhereCondition("VS", "VSORRESU", "EQ", ("kg",)))
    assert next(w for w in spec.where_clauses if w.id == "WC.VS.HTWT").conditions[0].values == ("HEIGHT", "WEIGHT")
    assert spec.value_level[0].notes == "Height in cm" and spec.value_level[2].codelist == "UNIT"
    assert "\nHEIGHT in cm" in spec.methods[1].description and spec.methods[1].document == "SAP"


def test_fixture_is_valid_without_warnings(spec, ct):
    found = validate_spec(spec, ct=ct)
    assert found.errors == [] and found.warnings == []


def test_write_reproduces_the_canonical_files_byte_for_byte(spec, tmp_path):
    write_spec(spec, tmp_path / "sdtm")
    assert sorted(p.name for p in (tmp_path / "sdtm").iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for path in FIXTURE.glob("*.csv"):
        assert (tmp_path / "sdtm" / path.name).read_bytes() == path.read_bytes(), path.name
    assert load_spec(tmp_path / "sdtm", ct_version=CT) == spec
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def awkward_spec() -> Spec:
    """Text that CSV and Excel both like to mangle, and every optional field set."""
    return Spec(
        study=Study("S-1", 'Study "one", with\nnewline', "S-1", "SDTMIG", "3.4", "en"),
        datasets=(Dataset("DM", "Demographics, \"quoted\"", "SPECIAL PURPOSE", "One record per subject",
                          "Tabulation", ("STUDYID", "USUBJID"), False, True, comment="C1", order=3,
                          notes="=SUM(A1)"),),
        variables=(Variable("DM", "STUDYID", "Study Identifier", "text", 12, 1, core="Req", origin="Protocol",
                            source="Sponsor", role="Identifier", assigned_value="S-1", display_format="$12."),
                   Variable("DM", "USUBJID", "Unique Subject Identifier", "text", None, 2, core="Req",
                            origin="Derived", source="Sponsor", method="M1", notes="001, 002\n003"),
                   Variable("DM", "AGE", "Age", "float", 8, 3, significant_digits=2, core="Exp",
                            codelist="CL1", origin="Collected", source="Investigator", pages="2 3")),
        value_level=(ValueLevel("DM", "AGE", "W1", "integer", 3, 1, codelist="CL1", origin="Assigned",
                                source="Sponsor", mandatory=True, assigned_value="0", notes="n", comment="C1"),),
        where_clauses=(WhereClause("W1", (WhereCondition("DM", "STUDYID", "IN", ("S-1", "a, b", "=x")),
                                          WhereCondition("DM", "USUBJID", "NE", ("S-1-001",)))),),
        codelists=(Codelist("CL1", "Sponsor list", "float", terms=(Term("1.5", decode="one and a half", order=2),
                                                                      Term("0", order=1)), comment="C1"),),
        methods=(Method("M1", "Derive", "Imputation", "line 1\nline 2", "R", 'paste0("a", b)', "D1", "5"),),
        comments=(Comment("C1", "A comment; with | bar", "D1", "1-2"),),
        documents=(Document("D1", "Document Ä", "docs/d1.pdf"),),
    )


def test_awkward_text_survives_csv_and_xlsx(tmp_path):
    spec = awkward_spec()
    assert validate_spec(spec).errors == []
    write_spec(spec, tmp_path / "csv")
    assert load_spec(tmp_path / "csv") == spec
    assert import_xlsx(export_xlsx(spec, tmp_path / "s.xlsx")) == spec
    assert (tmp_path / "csv" / "Study.csv").read_bytes().count(b"\r") == 0


def test_missing_optional_files_are_empty_tables(tmp_path):
    spec = Spec(study=awkward_spec().study, datasets=awkward_spec().datasets[:1],
                variables=(dataclasses.replace(awkward_spec().variables[0], order=1),))
    spec = dataclasses.replace(spec, datasets=(dataclasses.replace(spec.datasets[0], keys=("STUDYID",),
                                                                   comment=""),))
    write_spec(spec, tmp_path)
    for name in ("ValueLevel", "WhereClauses", "Codelists", "Dictionaries", "Methods", "Comments", "Documents"):
        (tmp_path / f"{name}.csv").unlink()
    assert load_spec(tmp_path) == spec


def test_missing_required_file_and_unknown_column(tmp_path):
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "Study.csv").unlink()
    text = (tmp_path / "Comments.csv").read_text()
    (tmp_path / "Comments.csv").write_text(text.replace("Pages", "Pagez", 1))
    with pytest.raises(InputError) as err:
        load_spec(tmp_path, ct_version=CT)
    found = messages(err.value)
    assert any(m.startswith(f"{tmp_path / 'Study.csv'}: required file is missing") for m in found)
    assert any(m.startswith(f"{tmp_path / 'Comments.csv'}:1, column Pagez: unknown column") for m in found)


def test_parts_are_appended_and_named_in_problems(spec, tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "sdtm")
    part = tmp_path / "sdtm" / "parts" / "ae"
    part.mkdir(parents=True)
    (part / "Datasets.csv").write_text("Dataset,Description,Class,Structure,Purpose,Key Variables,Repeating\n"
                                       "AE,Adverse Events,EVENTS,One record per event,Tabulation,STUDYID,Yes\n")
    (part / "Variables.csv").write_text("Order,Dataset,Variable,Label,Data Type,Origin,Source,Core\n"
                                        "1,AE,STUDYID,Study Identifier,text,Protocol,Sponsor,Req\n"
                                        "2,AE,AETERM,Reported Term,text,CRF,Investigator,Req\n")
    with pytest.raises(InputError) as err:
        load_spec(tmp_path / "sdtm", ct_version=CT)
    assert messages(err.value) == [f"{part / 'Variables.csv'}:3, column Origin: AE.AETERM: Origin 'CRF' is not one "
                                   "of Collected, Derived, Assigned, Protocol, Predecessor, Not Available"]
    (part / "Variables.csv").write_text((part / "Variables.csv").read_text().replace("CRF", "Collected"))
    loaded = load_spec(tmp_path / "sdtm", ct_version=CT)
    assert [d.name for d in loaded.datasets] == ["DM", "VS", "AE"] and loaded.variables[-1].name == "AETERM"
    with pytest.raises(InputError, match="comes in parts"):
        write_spec(loaded, tmp_path / "sdtm")


def test_ct_version_comes_from_the_study_yaml_beside_the_folder(tmp_path, caplog):
    shutil.copytree(FIXTURE, tmp_path / "specs" / "sdtm")
    rows = (tmp_path / "specs" / "sdtm" / "Codelists.csv").read_text().replace(",C20197,", ",C99999,")
    (tmp_path / "specs" / "sdtm" / "Codelists.csv").write_text(rows)
    with caplog.at_level(logging.WARNING, logger="submit.spec"):
        load_spec(tmp_path / "specs" / "sdtm")  # no study.yaml: CT rules skipped, and said so
    assert "not checked against CT" in caplog.text
    shutil.copy(REPO_SPECS / "study.yaml", tmp_path / "specs" / "study.yaml")
    with pytest.raises(InputError, match="has NCI Term Code C20197 in CDISC CT, not 'C99999'"):
        load_spec(tmp_path / "specs" / "sdtm")


# ------------------------------------------------------------------------------------ validation
def _edit(path: Path, match: dict[str, str], **cells: str) -> None:
    """Set cells (column names with _ for blanks) of the rows matching `match` in a one-line-per-row CSV."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    hits = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert hits, (path, match)
    for r in hits:
        r.update({k.replace("_", " "): v for k, v in cells.items()})
    _write(path, rows)


def _append(path: Path, **cells: str) -> None:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    _write(path, rows + [{k.replace("_", " "): v for k, v in cells.items()}])


def _write(path: Path, rows: list[dict]) -> None:
    header = path.read_text().splitlines()[0].split(",")
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, header, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> tuple[Path, list[str]]:
    """The fixture with one instance of every error kind; the messages of the one InputError."""
    folder = tmp_path_factory.mktemp("broken")
    shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
    v, d, c = folder / "Variables.csv", folder / "Datasets.csv", folder / "Codelists.csv"
    _edit(v, {"Dataset": "DM", "Variable": "SEX"}, Codelist="SEXX")                       # line 9
    _edit(v, {"Dataset": "DM", "Variable": "USUBJID"}, Method="MT.NOPE")                  # line 4
    _edit(v, {"Dataset": "DM", "Variable": "SITEID"}, Comment="COM.NOPE", Length="0")     # line 6
    _edit(v, {"Dataset": "DM", "Variable": "AGE"}, Data_Type="number", Length="abc")      # line 7
    _edit(v, {"Dataset": "DM", "Variable": "AGEU"}, Label="Age Units " * 5, Core="Required")  # line 8 (stripped: 49)
    _edit(v, {"Dataset": "DM", "Variable": "ARMCD"}, Origin="Derived", Length="201")      # line 10
    _edit(v, {"Dataset": "DM", "Variable": "COUNTRY"}, Variable="country_of_residence")  # line 11
    _edit(v, {"Dataset": "VS", "Variable": "VSDTC"}, Label="", Origin="CRF")             # line 20
    _append(v, Order="11", Dataset="DM", Variable="AGE", Label="Age", Data_Type="integer",
            Origin="Collected", Core="Exp")                                               # line 21
    _append(v, Order="1", Dataset="XX", Variable="XXSEQ", Label="Sequence", Data_Type="integer",
            Origin="Assigned", Core="Req")                                                # line 22
    _edit(d, {"Dataset": "VS"}, Key_Variables="STUDYID USUBJID VSNOPE", Class="")        # line 3
    _append(d, Dataset="DM", Description="Demographics of every randomized and treated subject",
            Class="SPECIAL PURPOSE", Structure="One record per subject", Purpose="Tabulation",
            Key_Variables="STUDYID USUBJID", Repeating="No")                              # line 4
    _edit(folder / "ValueLevel.csv", {"Where Clause": "WC.VS.HTWT"}, Where_Clause="WC.NOPE")  # line 4
    _edit(c, {"ID": "SEX", "Term": "M"}, NCI_Term_Code="C99999")                          # line 6
    _edit(c, {"ID": "SEX", "Term": "U"}, Term="F", NCI_Term_Code="C16576")      # line 7
    _edit(c, {"ID": "UNIT", "Term": "lb"}, Extended="")                                   # line 12
    _append(c, ID="AGEU", Name="Age Unit", NCI_Codelist_Code="C66781", Data_Type="text", Terminology="CDISC/NCI",
            Extensible="No", Order="2", Term="DECADES", Extended="Y")                       # line 15
    _edit(folder / "Comments.csv", {"ID": "COM.SITEID"}, Description="")                  # line 2
    # Methods.csv has a two-line description on lines 3-4: MT.SEQ is on line 5.
    text = (folder / "Methods.csv").read_text()
    (folder / "Methods.csv").write_text(text.replace("in key order.\",,,,", "in key order.\",,,PROTOCOL,")
                                        + "MT.SEQ,Again,Computation,Duplicate id,,,,\n")     # line 6
    with pytest.raises(InputError) as err:
        load_spec(folder, ct_version=CT)
    return folder, messages(err.value)


ERRORS = [  # (file:line, column, message fragment)
    ("Variables.csv:9", "Codelist", "DM.SEX: unknown codelist or dictionary 'SEXX'"),
    ("Variables.csv:4", "Method", "DM.USUBJID: unknown method 'MT.NOPE'"),
    ("Variables.csv:6", "Comment", "DM.SITEID: unknown comment 'COM.NOPE'"),
    ("Variables.csv:6", "Length", "DM.SITEID: Length 0 is not within 1-200"),
    ("Variables.csv:7", "Length", "Length 'abc' is not an integer"),
    ("Variables.csv:7", "Data Type", "DM.AGE: Data Type 'number' is not one of text, integer"),
    ("Variables.csv:8", "Label", "DM.AGEU: Label is 49 characters, at most 40 allowed"),
    ("Variables.csv:8", "Core", "DM.AGEU: Core 'Required' is not one of Req, Exp, Perm, Cond"),
    ("Variables.csv:10", "Method", "DM.ARMCD: Derived needs a Method"),
    ("Variables.csv:10", "Length", "DM.ARMCD: Length 201 is not within 1-200"),
    ("Variables.csv:11", "Variable", "DM.country_of_residence: Variable 'country_of_residence' must be 1-8"),
    ("Variables.csv:20", "Label", "VS.VSDTC: Label is required"),
    ("Variables.csv:20", "Origin", "VS.VSDTC: Origin 'CRF' is not one of Collected"),
    ("Variables.csv:21", None, "duplicate variable DM.AGE (first at "),
    ("Variables.csv:22", "Dataset", "XX.XXSEQ: dataset XX is not in Datasets"),
    ("Datasets.csv:3", "Key Variables", "dataset VS: key variable VSNOPE is not a variable of VS"),
    ("Datasets.csv:3", "Class", "dataset VS: Class is required"),
    ("Datasets.csv:4", None, "duplicate dataset DM (first at "),
    ("Datasets.csv:4", "Description", "dataset DM: Description is 52 characters, at most 40 allowed"),
    ("ValueLevel.csv:4", "Where Clause", "VS.VSORRESU where WC.NOPE: unknown where clause 'WC.NOPE'"),
    ("Codelists.csv:6", "NCI Term Code", "codelist SEX: term 'M' has NCI Term Code C20197 in CDISC CT, not 'C99999'"),
    ("Codelists.csv:7", "Term", "codelist SEX: duplicate term 'F' (first at "),
    ("Codelists.csv:12", "Extended", "codelist UNIT: term 'lb' is not in CDISC CT 2025-03-28; mark it Extended"),
    ("Codelists.csv:15", "Term", "codelist AGEU: term 'DECADES' is not in CDISC CT 2025-03-28 and C66781 is not "
                                 "extensible"),
    ("Comments.csv:2", "Description", "comment COM.SITEID: Description is required"),
    ("Methods.csv:5", "Document", "method MT.SEQ: unknown document 'PROTOCOL'"),
    ("Methods.csv:6", None, "duplicate method id MT.SEQ (first at "),
]


@pytest.mark.parametrize("where, column, fragment", ERRORS, ids=[f"{w} {f[:30]}" for w, _, f in ERRORS])
def test_each_error_names_file_line_and_column(broken, where, column, fragment):
    folder, found = broken
    prefix = f"{folder / where}" + (f", column {column}: " if column else ": ")
    assert any(m.startswith(prefix) and fragment in m for m in found), "\n".join(found)


def test_every_error_is_reported_at_once(broken):
    _, found = broken
    assert len(found) == len(ERRORS), "\n".join(found)


def test_warnings_for_unused_items_and_stray_methods(spec, caplog):
    unused = dataclasses.replace(
        spec, methods=(*spec.methods, Method("MT.UNUSED", "Unused", "Computation", "Not used.")),
        variables=tuple(dataclasses.replace(v, method="MT.SEQ") if v.name == "AGE" else v for v in spec.variables))
    found = validate_spec(unused)
    assert found.errors == []
    assert [p.message for p in found.warnings] == ["DM.AGE: Method MT.SEQ on an item whose origin is Collected",
                                                    "method MT.UNUSED is not referred to"]


def test_mandatory_must_agree_with_core(tmp_path):
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    _edit(tmp_path / "Variables.csv", {"Dataset": "DM", "Variable": "AGE"}, Mandatory="Yes")
    with pytest.raises(InputError) as err:
        load_spec(tmp_path, ct_version=CT)
    assert messages(err.value) == [f"{tmp_path / 'Variables.csv'}:7, column Mandatory: Mandatory Yes contradicts "
                                   "Core Exp (Mandatory is Yes exactly when Core is Req)"]


def test_where_clause_comparators_and_value_counts(spec):
    bad = dataclasses.replace(spec, where_clauses=(
        WhereClause("WC.VS.HEIGHT", (WhereCondition("VS", "VSTESTCD", "EQ", ("HEIGHT", "WEIGHT")),)),
        WhereClause("WC.VS.WEIGHT", (WhereCondition("VS", "VSTESTCD", "LIKE", ("W%",)),)),
        WhereClause("WC.VS.HTWT", (WhereCondition("VS", "VSTESTCD", "IN", ()),
                                   WhereCondition("VS", "VSNOPE", "EQ", ("BMI",)))),
    ))
    assert [p.message for p in validate_spec(bad).errors] == [
        "where clause WC.VS.HEIGHT: VS.VSTESTCD: EQ needs exactly one value, got 2",
        "where clause WC.VS.WEIGHT: VS.VSTESTCD: Comparator 'LIKE' is not one of EQ, NE, LT, LE, GT, GE, IN, NOTIN",
        "where clause WC.VS.HTWT: VS.VSTESTCD: IN needs at least one value",
        "where clause WC.VS.HTWT: VS.VSNOPE: VS.VSNOPE is not in Variables",
    ]
    assert [p.message for p in validate_spec(bad).warnings] == [
        "where clause WC.VS.WEIGHT: VS.VSTESTCD: ['W%'] not in codelist VSTESTCD"]


# ------------------------------------------------------------------------------------ CT
def test_sex_by_code_or_name(ct):
    sex = ct.codelist("C66731")
    assert sex == ct.codelist("sex") and sex.id == "SEX" and sex.name == "Sex"
    assert sex.extensible is False and sex.nci_code == "C66731" and sex.terminology == "CDISC/NCI"
    assert [(t.value, t.nci_code, t.decode) for t in sex.terms] == [
        ("F", "C16576", "Female"), ("INTERSEX", "C45908", "Intersex"), ("M", "C20197", "Male"),
        ("U", "C17998", "Unknown")]


def test_codelist_from_ct_subset_keeps_the_given_order(ct):
    unit = codelist_from_ct("C71620", ["kg", "cm"], id="VSUNIT", ct=ct)
    assert (unit.id, unit.extensible) == ("VSUNIT", True)
    assert unit.terms == (Term("kg", "C28252", "Kilogram", 1), Term("cm", "C49668", "Centimeter", 2))
    with pytest.raises(KeyError, match="'lb'"):
        codelist_from_ct("UNIT", ["kg", "lb"], ct=ct)
    with pytest.raises(KeyError, match="no codelist 'C00000'"):
        codelist_from_ct("C00000", ct=ct)


def test_codelist_from_ct_takes_the_callers_ct_version(ct):
    with pytest.raises(TypeError):  # no default study's CT behind the caller's back
        codelist_from_ct("SEX", ["M"])
    assert codelist_from_ct("SEX", ["M"], ct=ct).terms == (Term("M", "C20197", "Male", 1),)


def test_adam_ct_is_loaded_beside_sdtm_ct(ct):
    assert ct.codelist("PARAMTYP").nci_code == "C81225" and ct.codelist("SEX").nci_code == "C66731"
    assert len(ct.terms) > 40_000 and not ct.terms.duplicated(["codelist", "code"]).any()


def _with_codelist(spec: Spec, codelist: Codelist) -> Spec:
    return dataclasses.replace(spec, codelists=tuple(codelist if c.id == codelist.id else c for c in spec.codelists))


def ct_errors(spec: Spec, ct) -> list[str]:
    return [p.message for p in validate_spec(spec, ct=ct).errors]


def test_extensible_unit_accepts_an_extension_only_when_marked(spec, ct):
    unit = codelist_from_ct("UNIT", ["cm", "kg"], ct=ct)
    extra = Term("lb", decode="Pound", order=3)
    assert ct_errors(_with_codelist(spec, dataclasses.replace(unit, terms=(*unit.terms, extra))), ct) == [
        "codelist UNIT: term 'lb' is not in CDISC CT 2025-03-28; mark it Extended if it is a sponsor extension"]
    marked = dataclasses.replace(unit, terms=(*unit.terms, dataclasses.replace(extra, extended=True)))
    assert ct_errors(_with_codelist(spec, marked), ct) == []
    in_ct = dataclasses.replace(unit, terms=(dataclasses.replace(unit.terms[0], extended=True), *unit.terms[1:]))
    assert ct_errors(_with_codelist(spec, in_ct), ct) == [
        "codelist UNIT: term 'cm' is in CDISC CT (C49668), so it is not an extension"]


def test_non_extensible_codelist_cannot_be_extended(spec, ct):
    sex = codelist_from_ct("SEX", ["F", "M"], ct=ct)
    extended = dataclasses.replace(sex, terms=(*sex.terms, Term("X", order=3, extended=True)))
    assert ct_errors(_with_codelist(spec, extended), ct) == [
        "codelist SEX: term 'X' is not in CDISC CT 2025-03-28 and C66731 is not extensible"]
    assert ct_errors(_with_codelist(spec, dataclasses.replace(sex, extensible=True)), ct) == [
        "codelist SEX: Extensible is No in CDISC CT 2025-03-28"]
    assert ct_errors(_with_codelist(spec, dataclasses.replace(sex, nci_code="C00001")), ct) == [
        "codelist SEX: C00001 is not a codelist of CDISC CT 2025-03-28"]


def test_ct_folder_from_the_environment(tmp_path, monkeypatch):
    (tmp_path / "sdtm-ct-1999-01-01.txt").write_text(
        "Code\tCodelist Code\tCodelist Extensible (Yes/No)\tCodelist Name\tCDISC Submission Value\t"
        "CDISC Synonym(s)\tCDISC Definition\tNCI Preferred Term\n"
        "C1\t\tNo\tYes No\tYN\t\tdef\tpt\n"
        'C2\tC1\t\tYes No\tY\t\tA "quoted" definition\tYes\n')
    monkeypatch.setenv("SUBMIT_CT", str(tmp_path))
    assert load_terminology("1999-01-01").codelist("YN").terms == (Term("Y", "C2", "Yes", 1),)
    with pytest.raises(InputError, match="CDISC CT 2000-01-01 not found"):
        load_terminology("2000-01-01")


def test_the_package_ships_the_ct_of_its_studies(monkeypatch):
    """Without $SUBMIT_CT the packaged CT serves; it is the NCI EVS file as published (gzipped)."""
    import gzip  # noqa: PLC0415

    monkeypatch.delenv("SUBMIT_CT", raising=False)
    path = ct_file("sdtm-ct-2025-03-28.txt")
    assert path.parent == SHIPPED_CT and path.suffix == ".gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
    assert header[:2] == ["Code", "Codelist Code"]
    assert load_terminology("2025-03-28").codelist("SEX").terms[0].value == "F"


# ------------------------------------------------------------------------------------ workbook
def test_xlsx_round_trip_is_lossless(spec, tmp_path):
    assert import_xlsx(export_xlsx(spec, tmp_path / "spec.xlsx"), ct_version=CT) == spec


def test_xlsx_layout(spec, tmp_path):
    wb = openpyxl.load_workbook(export_xlsx(spec, tmp_path / "spec.xlsx"))
    assert wb.sheetnames == list(TABLES)
    for name in TABLES:
        ws = wb[name]
        assert [c.value for c in ws[1]] == list(TABLES[name])
        assert all(c.font.bold for c in ws[1]) and ws.freeze_panes == "A2"
    ws = wb["Variables"]
    assert ws.column_dimensions["D"].width == len("Numeric Result/Finding in Standard Units") + 2
    assert ws["A2"].value == 1 and ws["F2"].value == 7  # Order and Length are numbers, as in P21
    assert wb.properties.creator == "submit"


def test_xlsx_is_byte_reproducible(spec, tmp_path):
    one = export_xlsx(spec, tmp_path / "one.xlsx").read_bytes()
    two = export_xlsx(spec, tmp_path / "two.xlsx").read_bytes()
    assert one == two
    with zipfile.ZipFile(tmp_path / "one.xlsx") as z:  # entries stamped with a constant, not the clock
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in z.read("docProps/core.xml")


def test_xlsx_headers_match_leniently(spec, tmp_path, caplog):
    path = export_xlsx(spec, tmp_path / "spec.xlsx")
    wb = openpyxl.load_workbook(path)
    renames = {"Variables": {"Variable": "Variable Name", "Codelist": "Controlled Terms or Format",
                             "Origin": "origin type", "Data Type": "TYPE", "Significant Digits": "sig_digits"},
               "Datasets": {"Key Variables": "Keys", "Description": "Label"},
               "Codelists": {"Decoded Value": "Decode", "Term": "Submission Value", "NCI Term Code": "Code",
                             "Name": "Codelist Name"},
               "ValueLevel": {"Where Clause": "WHERE-CLAUSE"}}
    for sheet, names in renames.items():
        for cell in wb[sheet][1]:
            cell.value = names.get(cell.value, cell.value)
    wb["Variables"].cell(1, wb["Variables"].max_column + 1, "Valid")
    wb["ValueLevel"].title = "Value Level"
    wb.create_sheet("Analysis Displays")
    wb.save(path)
    with caplog.at_level(logging.WARNING, logger="submit.spec"):
        assert import_xlsx(path, ct_version=CT) == spec
    assert "column 'Valid' is not a column of Variables, ignored" in caplog.text
    assert "['Analysis Displays']" in caplog.text


def test_xlsx_missing_required_column_names_sheet_and_column(spec, tmp_path):
    path = export_xlsx(spec, tmp_path / "spec.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Variables"].delete_cols(5)  # Data Type
    del wb["Datasets"]
    wb.save(path)
    with pytest.raises(InputError) as err:
        import_xlsx(path, ct_version=CT)
    assert messages(err.value) == [
        f"{path}: required sheet 'Datasets' is missing (also accepted: Dataset, Domains, Tables)",
        f"{path}[Variables], column Data Type: required column 'Data Type' is missing (also accepted: Type, DataType)"]


def test_xlsx_problems_name_sheet_and_row(spec, tmp_path):
    path = export_xlsx(spec, tmp_path / "spec.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Variables"]["L9"] = "CRF"  # DM.SEX, Origin
    wb.save(path)
    with pytest.raises(InputError) as err:
        import_xlsx(path, ct_version=CT)
    assert messages(err.value) == [f"{path}[Variables]:9, column Origin: DM.SEX: Origin 'CRF' is not one of "
                                   "Collected, Derived, Assigned, Protocol, Predecessor, Not Available"]


def test_synonym_table_is_unambiguous():
    for sheet in TABLES:
        names = column_names(sheet)
        assert set(names.values()) == set(TABLES[sheet])
    assert set(COLUMN_SYNONYMS) - {"*"} <= set(TABLES)


# ------------------------------------------------------------------------------------ CLI
@pytest.fixture()
def specs(tmp_path) -> Path:
    folder = tmp_path / "specs"
    shutil.copytree(FIXTURE, folder / "sdtm")
    shutil.copy(REPO_SPECS / "study.yaml", folder / "study.yaml")
    return folder


def run(specs: Path, *args):
    return CliRunner().invoke(main, ["--specs", str(specs), "spec", *map(str, args)])


def test_cli_help_lists_the_spec_commands():
    result = CliRunner().invoke(main, ["spec", "--help"])
    assert result.exit_code == 0 and "export" in result.output and "import" in result.output


def test_cli_export_then_import(specs, spec, tmp_path):
    xlsx = tmp_path / "out" / "sdtm.xlsx"
    result = run(specs, "export", "--xlsx", xlsx)
    assert result.exit_code == 0, result.output
    assert import_xlsx(xlsx, ct_version=CT) == spec
    wb = openpyxl.load_workbook(xlsx)
    wb["Variables"]["D7"] = "Age at Consent"  # DM.AGE label
    wb.save(xlsx)
    result = run(specs, "import", xlsx)
    assert result.exit_code == 0, result.output
    assert next(v for v in load_spec(specs / "sdtm", ct_version=CT).variables if v.name == "AGE").label == \
        "Age at Consent"
    assert "DM,AGE,Age at Consent," in (specs / "sdtm" / "Variables.csv").read_text()
    assert sorted(p.name for p in specs.iterdir()) == ["sdtm", "study.yaml"]  # no temporary folder left


def test_cli_import_of_an_invalid_workbook_changes_nothing(specs, spec, tmp_path):
    xlsx = export_xlsx(spec, tmp_path / "sdtm.xlsx")
    wb = openpyxl.load_workbook(xlsx)
    wb["Variables"]["K9"] = "SEXX"  # DM.SEX codelist
    wb.save(xlsx)
    before = {p.name: p.read_bytes() for p in (specs / "sdtm").iterdir()}
    result = run(specs, "import", xlsx)
    assert result.exit_code == 2
    assert f"{xlsx}[Variables]:9, column Codelist: DM.SEX: unknown codelist or dictionary 'SEXX'" in result.output
    assert {p.name: p.read_bytes() for p in (specs / "sdtm").iterdir()} == before


def test_cli_import_refuses_another_standard(specs, spec, tmp_path):
    xlsx = export_xlsx(spec, tmp_path / "sdtm.xlsx")
    result = run(specs, "import", xlsx, "--standard", "adam")
    assert result.exit_code == 2 and "StandardName is 'SDTMIG'" in result.output
    assert not (specs / "adam").exists()


def test_cli_export_of_an_invalid_spec_exits_2(specs, tmp_path):
    _edit(specs / "sdtm" / "Variables.csv", {"Dataset": "DM", "Variable": "SEX"}, Codelist="SEXX")
    result = run(specs, "export", "--xlsx", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "Variables.csv:9" in result.output and not (tmp_path / "x.xlsx").exists()
