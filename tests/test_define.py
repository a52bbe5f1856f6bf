"""Define-XML 2.1: the default study's SDTM define (schema-valid, consistent with its XPT files,
byte-reproducible), every feature on the small fixture spec and on a small ADaM spec, and the
failures a reviewer would otherwise find: dangling references, data without spec, label and length
mismatches, values outside codelists, where clauses that select nothing, hrefs to nothing."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from lxml import etree

from conftest import SDTM_DIR
from submit.dataset_io import sas_format
from submit.define import DefineInputs, check_consistency, consistency_problems, schema_errors, write_define
from submit.define.inputs import DocumentEntry, StandardDocuments, load_define_inputs
from submit.define.measure import Digits, digits
from submit.errors import DataCheckError
from submit.sdtm.build import xpt_meta
from submit.spec.ct import codelist_from_ct, load_terminology
from submit.spec.model import (Codelist, Dataset, Method, Spec, Study, Term, ValueLevel, Variable, WhereClause,
                               WhereCondition)
from submit.spec.store import load_spec
from submit.xpt import write_xpt

FIXTURE = Path(__file__).parent / "fixtures" / "spec_small"
CT = "2025-03-28"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}
NO_STYLESHEET = DefineInputs(stylesheet="")


def xml(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def one(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert len(found) == 1, (xpath, len(found))
    return found[0]


def messages(exc: pytest.ExceptionInfo) -> str:
    return "\n".join(str(p) for p in exc.value.problems)


# ----------------------------------------------------------------------------- the default study
@pytest.fixture(scope="module")
def sdtm_define(default_sdtm, study, tmp_path_factory):
    """define.xml of the default SDTM, written into a copy of its XPT folder."""
    result, root = default_sdtm
    folder = tmp_path_factory.mktemp("define") / "sdtm"
    shutil.copytree(root / SDTM_DIR, folder)
    return result, folder, write_define(result.spec, result.domains, folder, study)


def test_default_sdtm_define_is_valid_and_describes_every_xpt(sdtm_define):
    result, folder, path = sdtm_define
    assert path == folder / "define.xml" and (folder / "define.html").is_file() and (folder / "define2-1.xsl").is_file()
    assert schema_errors(path) == [] and consistency_problems(path, folder) == []
    root = xml(path)
    names = {g.get("Name") for g in root.xpath("//odm:ItemGroupDef", namespaces=NS)}
    assert names == {p.stem.upper() for p in folder.glob("*.xpt")} == set(result.domains)
    assert root.get("CreationDateTime") == "2026-11-25T00:00:00"  # build_date of specs/study.yaml
    assert [s.get("Name") for s in root.xpath("//def:Standard", namespaces=NS)] == ["SDTMIG", "CDISC/NCI"]
    dm = result.domains["DM"]
    usubjid = one(root, "//odm:ItemDef[@OID='IT.DM.USUBJID']")
    assert int(usubjid.get("Length")) == dm["USUBJID"].str.len().max() == 17
    age = one(root, "//odm:ItemDef[@OID='IT.DM.AGE']")
    assert (age.get("DataType"), age.get("Length")) == ("integer", str(len(str(int(dm["AGE"].max())))))
    for dtc in root.xpath("//odm:ItemDef[substring(@Name, string-length(@Name) - 2) = 'DTC']", namespaces=NS):
        assert dtc.get("Length") is None and dtc.get("DataType") in ("date", "datetime", "partialDate",
                                                                      "partialDatetime", "incompleteDatetime")
    keys = [(r.get("ItemOID"), r.get("KeySequence")) for r in one(root, "//odm:ItemGroupDef[@Name='DM']")
            .xpath("odm:ItemRef[@KeySequence]", namespaces=NS)]
    assert keys == [("IT.DM.STUDYID", "1"), ("IT.DM.USUBJID", "2")]
    sex = one(root, "//odm:CodeList[@OID='CL.SEX']")
    assert sex.get("{%s}StandardOID" % NS["def"]) == "STD.CT.SDTM.2025-03-28"
    assert one(sex, "odm:Alias").get("Name") == "C66731"
    assert one(root, "//odm:CodeList[@OID='CL.EPOCH']/odm:CodeListItem[@CodedValue='RETREATMENT']") \
        .get("{%s}ExtendedValue" % NS["def"]) == "Yes"
    lod = one(root, "//odm:ItemDef[@OID='IT.SUPPPC.QVAL.PCLOD']")
    qval = result.domains["SUPPPC"].query("QNAM == 'PCLOD'")["QVAL"]
    assert lod.get("DataType") == "float" and lod.get("Length") == str(qval.str.replace(".", "").str.len().max())
    where = one(root, "//def:WhereClauseDef[@OID='WC.SUPPPC.PCLOD']/odm:RangeCheck")
    assert (where.get("{%s}ItemOID" % NS["def"]), where.findtext("odm:CheckValue", namespaces=NS)) == \
        ("IT.SUPPPC.QNAM", "PCLOD")
    method = one(root, "//odm:MethodDef[@OID='MT.USUBJID']")
    assert method.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == \
        next(m.description for m in result.spec.methods if m.id == "MT.USUBJID")
    html = (folder / "define.html").read_text(encoding="utf-8")
    assert "MT103-206" in html and "Demographics" in html and "Unique Subject Identifier" in html


def test_define_is_byte_reproducible_and_dated_by_the_build(sdtm_define, study, tmp_path):
    result, folder, path = sdtm_define
    again = tmp_path / "again"
    shutil.copytree(folder, again)
    write_define(result.spec, result.domains, again, study)
    assert (again / "define.xml").read_bytes() == path.read_bytes()
    assert (again / "define.html").read_bytes() == (folder / "define.html").read_bytes()
    later = study.with_build_date(study.dates.build_date.replace(year=2027))
    write_define(result.spec, result.domains, again, later)
    assert xml(again / "define.xml").get("CreationDateTime") == "2027-11-25T00:00:00"


def test_the_repository_define_inputs_load():
    inputs = load_define_inputs()
    assert inputs.stylesheet == "define2-1.xsl" and inputs.status == "Final"


# ---------------------------------------------------------------------- the small fixture spec
@pytest.fixture(scope="module")
def small_spec() -> Spec:
    return load_spec(FIXTURE, ct_version=CT)


def small_frames() -> dict[str, pd.DataFrame]:
    dm = pd.DataFrame({
        "STUDYID": ["XYZ-101"] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": ["XYZ-101-001", "XYZ-101-002", "XYZ-101-003"],
        "SUBJID": ["001", "002", "003"], "SITEID": ["01", "01", "02"], "AGE": [34.0, 51.0, 108.0],
        "AGEU": ["YEARS"] * 3, "SEX": ["F", "M", "F"], "ARMCD": ["DRUGX", "PLACEBO", "DRUGX"],
        "COUNTRY": ["USA", "USA", "DEU"]})
    vs = pd.DataFrame({
        "STUDYID": ["XYZ-101"] * 4, "DOMAIN": ["VS"] * 4, "USUBJID": ["XYZ-101-001"] * 2 + ["XYZ-101-002"] * 2,
        "VSSEQ": [1.0, 2.0, 1.0, 2.0], "VSTESTCD": ["HEIGHT", "WEIGHT"] * 2,
        "VSORRES": ["170", "70.5", "181", "92.3"], "VSORRESU": ["cm", "kg"] * 2,
        "VSSTRESN": [170.0, 70.5, 181.0, 92.3],
        "VSDTC": ["2020-01-01T10:00", "2020-01-01T10:05", "2020-02-03", "2020-02-03"]})
    return {"DM": dm, "VS": vs}


ACRF = DocumentEntry(id="LF.acrf", title="Annotated CRF", href="acrf.pdf")
SMALL_INPUTS = DefineInputs(stylesheet="", documents={"SDTMIG": StandardDocuments(annotated_crf=(ACRF,))})


def write_small(folder: Path, spec: Spec, frames: dict[str, pd.DataFrame], study, *, xpt_spec: Spec | None = None,
                inputs: DefineInputs = SMALL_INPUTS, files=("acrf.pdf", "sap.pdf")) -> Path:
    """XPT files of `frames` written with `xpt_spec` (default `spec`), the documents, then the define of `spec`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        write_xpt(df, xpt_meta(xpt_spec or spec, name), folder / f"{name.lower()}.xpt", created=study.dates.build_date)
    for name in files:
        (folder / name).write_bytes(b"%PDF-1.4\n")  # test stand-ins for the documents the define links
    return write_define(spec, frames, folder, study, inputs=inputs)


def test_small_spec_define_has_every_feature(small_spec, study, tmp_path):
    path = write_small(tmp_path, small_spec, small_frames(), study)
    assert schema_errors(path) == [] and consistency_problems(path, tmp_path) == []
    root = xml(path)
    assert one(root, "//def:AnnotatedCRF/def:DocumentRef").get("leafID") == "LF.acrf"
    leafs = {leaf.get("ID"): leaf.get("{%s}href" % NS["xlink"]) for leaf in root.xpath("//odm:MetaDataVersion/def:leaf",
                                                                                        namespaces=NS)}
    assert leafs == {"LF.acrf": "acrf.pdf", "SAP": "sap.pdf"}
    sex_origin = one(root, "//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin")
    assert (sex_origin.get("Type"), sex_origin.get("Source")) == ("Collected", "Investigator")
    assert one(sex_origin, "def:DocumentRef").get("leafID") == "LF.acrf"
    assert one(sex_origin, "def:DocumentRef/def:PDFPageRef").attrib == {"PageRefs": "2", "Type": "PhysicalRef"}
    expression = one(root, "//odm:MethodDef[@OID='MT.USUBJID']/odm:FormalExpression")
    assert (expression.get("Context"), expression.text) == ("SAS", 'USUBJID = catx("-", STUDYID, SUBJID);')
    sap = one(root, "//odm:MethodDef[@OID='MT.VSSTRESN']/def:DocumentRef")
    assert (sap.get("leafID"), one(sap, "def:PDFPageRef").get("PageRefs")) == ("SAP", "12")
    assert one(root, "//odm:CodeList[@OID='CL.ISO3166']/odm:ExternalCodeList").attrib == \
        {"Dictionary": "ISO 3166", "Version": "2020"}
    pound = one(root, "//odm:CodeList[@OID='CL.UNIT']/odm:CodeListItem[@CodedValue='lb']")
    assert pound.get("{%s}ExtendedValue" % NS["def"]) == "Yes" and not pound.xpath("odm:Alias", namespaces=NS)
    armcd = one(root, "//odm:CodeList[@OID='CL.ARMCD']")
    assert armcd.get("{%s}StandardOID" % NS["def"]) is None and armcd.get("{%s}CommentOID" % NS["def"]) == "COM.ARMCD"
    weight = one(root, "//def:WhereClauseDef[@OID='WC.VS.WEIGHT']")
    assert [(r.get("{%s}ItemOID" % NS["def"]), r.findtext("odm:CheckValue", namespaces=NS))
            for r in weight.xpath("odm:RangeCheck", namespaces=NS)] == [("IT.VS.VSTESTCD", "WEIGHT"),
                                                                        ("IT.VS.VSORRESU", "kg")]
    refs = one(root, "//def:ValueListDef[@OID='VL.VS.VSORRES']").xpath("odm:ItemRef/def:WhereClauseRef/"
                                                                        "@WhereClauseOID", namespaces=NS)
    assert refs == ["WC.VS.HEIGHT", "WC.VS.WEIGHT"]
    assert one(root, "//odm:ItemDef[@OID='IT.VS.VSORRES']/def:ValueListRef").get("ValueListOID") == "VL.VS.VSORRES"
    # The spec's lengths win over the data's (AGE 3 digits, VSSTRESN 8 and 1 decimal); none for VSDTC.
    assert one(root, "//odm:ItemDef[@OID='IT.DM.AGE']").get("Length") == "3"
    stresn = one(root, "//odm:ItemDef[@OID='IT.VS.VSSTRESN']")
    assert (stresn.get("Length"), stresn.get("SignificantDigits")) == ("8", "1")
    assert one(root, "//odm:ItemDef[@OID='IT.VS.VSDTC']").get("Length") is None
    assert [g.get("Name") for g in root.xpath("//odm:ItemGroupDef", namespaces=NS)] == ["DM", "VS"]


# --------------------------------------------------------------------------------- failures
def replace_variable(spec: Spec, dataset: str, name: str, **changes) -> Spec:
    return dataclasses.replace(spec, variables=tuple(
        dataclasses.replace(v, **changes) if (v.dataset, v.name) == (dataset, name) else v for v in spec.variables))


def test_a_dangling_codelist_reference_fails(small_spec, study, tmp_path):
    spec = replace_variable(small_spec, "DM", "SEX", codelist="GENDER")
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, spec, small_frames(), study)
    assert "DM.SEX: codelist GENDER is neither a codelist nor a dictionary of the spec" in messages(exc)


def test_a_variable_in_the_data_but_not_in_the_spec_fails(small_spec, study, tmp_path):
    frames = small_frames()
    frames["DM"] = frames["DM"].assign(DMXTRA=["a", "b", "c"])
    extra = Variable("DM", "DMXTRA", "Extra", "text", None, 99)
    xpt_spec = dataclasses.replace(small_spec, variables=(*small_spec.variables, extra))
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, small_spec, frames, study, xpt_spec=xpt_spec)
    text = messages(exc)
    assert "DM.DMXTRA is in the data but not in the spec" in text
    assert "dm.xpt, column DMXTRA: variable DMXTRA is in the XPT file but not in define.xml dataset DM" in text


def test_label_and_length_mismatches_with_the_xpt_fail(small_spec, study, tmp_path):
    spec = replace_variable(small_spec, "DM", "SUBJID", label="Subject ID", length=9)
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, spec, small_frames(), study, xpt_spec=small_spec)
    text = messages(exc)
    assert "DM.SUBJID: label 'Subject Identifier for the Study' but define.xml says 'Subject ID'" in text
    assert "DM.SUBJID: length 7 in the XPT file but Length 9 in define.xml" in text


def test_a_dataset_label_mismatch_and_an_xpt_without_dataset_fail(small_spec, study, tmp_path):
    spec = dataclasses.replace(small_spec, datasets=tuple(
        dataclasses.replace(d, label="Vital Sign") if d.name == "VS" else d for d in small_spec.datasets))
    write_xpt(small_frames()["DM"], xpt_meta(small_spec, "DM"), tmp_path / "dm2.xpt", created=study.dates.build_date)
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, spec, small_frames(), study, xpt_spec=small_spec)
    text = messages(exc)
    assert "vs.xpt: dataset label 'Vital Signs' but define.xml says 'Vital Sign'" in text
    assert "dm2.xpt: this XPT file is not a dataset of define.xml" in text


def test_values_outside_codelists_fail_unless_the_codelist_is_extensible(small_spec, study, tmp_path):
    frames = small_frames()
    frames["DM"].loc[1, "SEX"] = "X"  # SEX is not extensible
    frames["VS"].loc[0, "VSORRESU"] = "in"  # UNIT is
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, small_spec, frames, study)
    text = messages(exc)
    assert "DM.SEX: values not in codelist CL.SEX: 'X'" in text
    assert "VSORRESU" not in text
    found = check_consistency(tmp_path / "define.xml", tmp_path)
    assert any("VS.VSORRESU: values not in codelist CL.UNIT: 'in'" in str(n) for n in found.notes)


def test_a_where_clause_selecting_nothing_is_left_out_but_a_listed_value_absent_fails(small_spec, study, tmp_path):
    # Without WEIGHT records the value-level entry of WC.VS.WEIGHT describes nothing and is left out
    # of define.xml (a study without deaths has no DD record of its death test); a where clause
    # listing WEIGHT among values that do occur still names a value the data lack.
    frames = small_frames()
    frames["VS"] = frames["VS"][frames["VS"]["VSTESTCD"] == "HEIGHT"].reset_index(drop=True)
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, small_spec, frames, study)
    text = messages(exc)
    assert "WC.VS.WEIGHT" not in text
    assert "where clause WC.VS.HTWT: no VS record has VSTESTCD = 'WEIGHT'" in text
    assert 'WhereClauseDef OID="WC.VS.WEIGHT"' not in (tmp_path / "define.xml").read_text(encoding="utf-8")


def test_value_level_numbers_must_be_numbers_and_fit(small_spec, study, tmp_path):
    frames = small_frames()
    frames["VS"].loc[0, "VSORRES"] = "tall"
    frames["VS"].loc[1, "VSORRES"] = "70.55"  # SignificantDigits 1 in the spec
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, small_spec, frames, study)
    text = messages(exc)
    assert "VS.VSORRES where WC.VS.HEIGHT: DataType float but values that are no numbers: 'tall'" in text
    assert "VS.VSORRES where WC.VS.WEIGHT: values with 2 decimals, over SignificantDigits 1" in text


def test_hrefs_must_name_files_and_pages_need_an_annotated_crf(small_spec, study, tmp_path):
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, small_spec, small_frames(), study, files=("acrf.pdf",))
    assert "def:leaf SAP: href 'sap.pdf' names no file beside define.xml" in messages(exc)
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path / "no_crf", small_spec, small_frames(), study, inputs=NO_STYLESHEET)
    assert "DM.SEX: annotated CRF pages '2' but the define has no annotated CRF" in messages(exc)


def test_schema_errors_name_the_line(small_spec, study, tmp_path):
    spec = dataclasses.replace(small_spec, datasets=tuple(
        dataclasses.replace(d, cls="SPECIAL-PURPOSE") if d.name == "DM" else d for d in small_spec.datasets))
    with pytest.raises(DataCheckError) as exc:
        write_small(tmp_path, spec, small_frames(), study)
    lines = (tmp_path / "define.xml").read_text().splitlines()
    bad = next(p.message for p in exc.value.problems if "SPECIAL-PURPOSE" in p.message)
    number = int(bad.split(":")[0].removeprefix("line "))
    assert 'Name="SPECIAL-PURPOSE"' in lines[number - 1]
    assert not (tmp_path / "define.html").exists()


def test_schema_errors_report_references_to_nothing(small_spec, study, tmp_path):
    path = write_small(tmp_path, small_spec, small_frames(), study)
    root = xml(path)
    sex = one(root, "//odm:CodeList[@OID='CL.SEX']")
    sex.getparent().remove(sex)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(etree.tostring(root))
    errors = schema_errors(broken)
    assert len(errors) == 1 and "CodeListRef CodeListOID 'CL.SEX' names no CodeList" in errors[0]
    (tmp_path / "cut.xml").write_text(path.read_text()[:500])
    assert schema_errors(tmp_path / "cut.xml")[0].startswith("line ")


# ------------------------------------------------------------------------------------------ ADaM
def adam_spec() -> Spec:
    ct = load_terminology(CT)
    sex = codelist_from_ct("SEX", ["F", "M"], ct=ct)
    datefl = codelist_from_ct("DATEFL", ["D"], ct=ct)
    paramcd = Codelist("PARAMCD", "Parameter Code", "text", terms=(Term("OS", decode="Overall Survival"),
                                                                    Term("RFS", decode="Relapse-Free Survival")))
    common = (Variable("ADSL", "STUDYID", "Study Identifier", "text", None, 1, core="Req", origin="Predecessor",
                       predecessor="DM.STUDYID"),
              Variable("ADSL", "USUBJID", "Unique Subject Identifier", "text", None, 2, core="Req",
                       origin="Predecessor", predecessor="DM.USUBJID"))
    variables = (
        *common,
        Variable("ADSL", "SEX", "Sex", "text", None, 3, codelist="SEX", origin="Predecessor", predecessor="DM.SEX"),
        Variable("ADSL", "TRTSDT", "Date of First Exposure to Treatment", "integer", None, 4, display_format="DATE9.",
                 origin="Derived", method="MT.TRTSDT"),
        *(dataclasses.replace(v, dataset="ADTTE") for v in common),
        Variable("ADTTE", "PARAMCD", "Parameter Code", "text", None, 3, codelist="PARAMCD", origin="Assigned",
                 source="Sponsor"),
        Variable("ADTTE", "AVAL", "Analysis Value", "float", None, 4, origin="Derived", method="MT.AVAL"),
        Variable("ADTTE", "ADT", "Analysis Date", "integer", None, 5, display_format="DATE9.", origin="Derived",
                 method="MT.AVAL"),
        Variable("ADTTE", "ADTF", "Analysis Date Imputation Flag", "text", None, 6, codelist="DATEFL",
                 origin="Derived", method="MT.AVAL"),
        Variable("ADTTE", "CNSR", "Censor", "integer", None, 7, origin="Derived", method="MT.AVAL"))
    return Spec(
        study=Study("MT103-206", "Blinatumomab in R/R ALL", "MT103-206", "ADaMIG", "1.3"),
        datasets=(Dataset("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
                          "One record per subject", "Analysis", ("STUDYID", "USUBJID"), False, False),
                  Dataset("ADTTE", "Time-to-Event Analysis Dataset", "BASIC DATA STRUCTURE",
                          "One record per subject per parameter", "Analysis", ("STUDYID", "USUBJID", "PARAMCD"),
                          True, False, subclass="TIME-TO-EVENT")),
        variables=variables,
        value_level=(ValueLevel("ADTTE", "AVAL", "WC.ADTTE.OS", "float", None, 1, origin="Derived", method="MT.AVAL"),
                     ValueLevel("ADTTE", "AVAL", "WC.ADTTE.RFS", "integer", None, 2, origin="Derived",
                                method="MT.AVAL")),
        where_clauses=(WhereClause("WC.ADTTE.OS", (WhereCondition("ADTTE", "PARAMCD", "EQ", ("OS",)),)),
                       WhereClause("WC.ADTTE.RFS", (WhereCondition("ADTTE", "PARAMCD", "EQ", ("RFS",)),))),
        codelists=(sex, datefl, paramcd),
        methods=(Method("MT.TRTSDT", "TRTSDT", "Computation", "Date part of DM.RFXSTDTC."),
                 Method("MT.AVAL", "AVAL", "Computation", "Days from TRTSDT to the event or censoring date, plus 1.")))


def test_adam_define_has_classes_subclasses_predecessors_and_both_ct_packages(study, tmp_path):
    spec = adam_spec()
    start = pd.to_datetime(pd.Series(["2011-03-08", "2011-04-03"]))
    frames = {
        "ADSL": pd.DataFrame({"STUDYID": ["MT103-206"] * 2, "USUBJID": ["MT103-206-101-001", "MT103-206-101-002"],
                              "SEX": ["F", "M"], "TRTSDT": start}),
        "ADTTE": pd.DataFrame({"STUDYID": ["MT103-206"] * 4, "USUBJID": ["MT103-206-101-001"] * 2
                               + ["MT103-206-101-002"] * 2, "PARAMCD": ["OS", "RFS"] * 2,
                               "AVAL": [292.5, 157.0, 1200.0, 30.0], "ADT": pd.to_datetime(pd.Series(
                                   ["2011-12-24", "2011-08-11", "2014-07-15", "2011-05-02"])),
                               "ADTF": ["D", None, None, None], "CNSR": [0.0, 0.0, 1.0, 1.0]})}
    for name, df in frames.items():
        meta = xpt_meta(spec, name)
        write_xpt(df, meta, tmp_path / f"{name.lower()}.xpt", created=study.dates.build_date)
    path = write_define(spec, frames, tmp_path, study, inputs=NO_STYLESHEET)
    assert schema_errors(path) == [] and consistency_problems(path, tmp_path) == []
    root = xml(path)
    adtte = one(root, "//odm:ItemGroupDef[@Name='ADTTE']")
    assert adtte.get("Domain") is None and adtte.get("Purpose") == "Analysis"
    assert one(adtte, "def:Class").get("Name") == "BASIC DATA STRUCTURE"
    assert one(adtte, "def:Class/def:SubClass").get("Name") == "TIME-TO-EVENT"
    assert not one(root, "//odm:ItemGroupDef[@Name='ADSL']").xpath("def:Class/def:SubClass", namespaces=NS)
    standards = {(s.get("Name"), s.get("PublishingSet"), s.get("Version"))
                 for s in root.xpath("//def:Standard", namespaces=NS)}
    assert standards == {("ADaMIG", None, "1.3"), ("CDISC/NCI", "SDTM", CT), ("CDISC/NCI", "ADaM", CT)}
    assert one(root, "//odm:CodeList[@OID='CL.DATEFL']").get("{%s}StandardOID" % NS["def"]) == f"STD.CT.ADaM.{CT}"
    assert one(root, "//odm:CodeList[@OID='CL.SEX']").get("{%s}StandardOID" % NS["def"]) == f"STD.CT.SDTM.{CT}"
    origin = one(root, "//odm:ItemDef[@OID='IT.ADSL.SEX']/def:Origin")
    assert origin.get("Type") == "Predecessor"
    assert origin.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == "DM.SEX"
    adt = one(root, "//odm:ItemDef[@OID='IT.ADTTE.ADT']")
    days = (pd.Timestamp("2014-07-15") - pd.Timestamp("1960-01-01")).days  # SAS date of the latest ADT
    assert (adt.get("DataType"), adt.get("Length"), adt.get("{%s}DisplayFormat" % NS["def"])) == \
        ("integer", str(len(str(days))), "DATE9.")
    aval = one(root, "//odm:ItemDef[@OID='IT.ADTTE.AVAL']")
    assert (aval.get("Length"), aval.get("SignificantDigits")) == ("5", "1")  # 1200.0 and 292.5
    os_item = one(root, "//odm:ItemDef[@OID='IT.ADTTE.AVAL.OS']")
    rfs_item = one(root, "//odm:ItemDef[@OID='IT.ADTTE.AVAL.RFS']")
    assert (os_item.get("Length"), os_item.get("SignificantDigits")) == ("5", "1")  # OS: 292.5, 1200
    assert (rfs_item.get("DataType"), rfs_item.get("Length")) == ("integer", "3")  # RFS: 157, 30
    data, meta = pyreadstat.read_xport(str(tmp_path / "adtte.xpt"), disable_datetime_conversion=True)
    assert data["ADT"].max() == days and sas_format(meta.original_variable_types["ADT"]) == "DATE9."


# --------------------------------------------------------------------------------- measurement
@pytest.mark.parametrize("values, expected", [
    ([12.5, -3.25, 100.0], Digits(3, 2)),
    ([0.1 + 0.2, 7.0], Digits(1, 1)),  # 0.30000000000000004 is 0.3
    ([0.0], Digits(1, 0)),
    ([np.nan], Digits(1, 0)),
    ([], Digits(1, 0)),
    ([123456.789], Digits(6, 3)),
])
def test_digits_of_numbers(values, expected):
    assert digits(np.array(values, dtype="float64")) == expected
