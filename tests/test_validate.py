"""`submit validate`: every rule of the catalogue fires on a package broken for it and stays quiet
on a good one; the default study's SDTM has no errors but the missing define.xml and ADaM; reports.

The good package is a tiny hand-made study (3 subjects; DM, AE, LB, TS; ADSL, ADTTE) with a
define.xml per folder written here by a small writer of its own (independent of submit.define),
so that every define-versus-data rule has something to compare. Each broken case changes one thing.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import sys
import types
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner
from lxml import etree
from openpyxl import load_workbook

from submit.cli import main
from submit.qc.validate import load_rules, validate, validate_package, write_reports
from submit.qc.validate.checks import CHECKS
from submit.qc.validate.report import text_summary
from submit.xpt import XptDataset, XptVariable, write_xpt

CT = "2025-03-28"
STUDY = "XYZ-1"
CREATED = dt.date(2024, 1, 2)
ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SDTM_DIR = Path("m5/datasets/xyz-1/tabulations/sdtm")
ADAM_DIR = Path("m5/datasets/xyz-1/analysis/adam/datasets")
RULES = {r.id: r for r in load_rules()}


# ------------------------------------------------------------------------------ the fixture
@dataclass
class Var:
    name: str
    label: str
    data_type: str = "text"  # Define-XML data type; integer/float are SAS numbers
    mandatory: bool = False
    codelist: str | None = None
    length: int | None = None  # XPT length of a character variable; None: the longest value


@dataclass
class Ds:
    name: str
    label: str
    cls: str
    keys: tuple[str, ...]
    variables: list[Var]
    data: pd.DataFrame

    def var(self, name: str) -> Var:
        return next(v for v in self.variables if v.name == name)


@dataclass
class Codelist:
    oid: str
    values: list[str]
    nci: str = ""  # NCI codelist code of a CDISC codelist


@dataclass
class Vlm:
    dataset: str
    variable: str
    test: str  # value of `selector` the where clause selects
    data_type: str
    length: int | None = None
    mandatory: bool = False
    codelist: str | None = None
    selector: str = "LBTESTCD"


@dataclass
class Part:
    datasets: dict[str, Ds]
    codelists: dict[str, Codelist] = field(default_factory=dict)
    vlm: list[Vlm] = field(default_factory=list)
    define: bool = True
    define_labels: dict[tuple[str, str | None], str] = field(default_factory=dict)  # override labels in define
    define_types: dict[tuple[str, str], str] = field(default_factory=dict)
    define_lengths: dict[tuple[str, str], int] = field(default_factory=dict)
    extra_in_define: list[str] = field(default_factory=list)  # ItemGroupDefs without a file


@dataclass
class Package:
    sdtm: Part
    adam: Part

    def part(self, name: str) -> Part:
        return self.sdtm if name == "sdtm" else self.adam


SUBJECTS = [f"{STUDY}-00{i}" for i in (1, 2, 3)]
TS_PARAMS = sorted(["ADDON", "AGEMAX", "AGEMIN", "LENGTH", "PLANSUB", "RANDOM", "SEXPOP", "STOPRULE", "TBLIND",
                    "TCNTRL", "TITLE", "TPHASE", "TTYPE", "OBJPRIM", "SPONSOR", "REGID", "OUTMSPRI", "FCNTRY", "ADAPT",
                    "DCUTDTC", "DCUTDESC", "NARMS", "STYPE", "SSTDTC", "SENDTC", "ACTSUB", "HLTSUBJI", "TDIGRP",
                    "TINDTP", "TRT", "INTMODEL", "INTTYPE", "PCLAS", "EXTTIND", "NCOHORT", "OBJSEC", "PDPSTIND",
                    "PDSTIND", "PIPIND", "RDIND", "SDTIGVER", "SDTMVER", "THERAREA", "ONGOSIND"])
TS_VALUES = {"ADDON": "N", "HLTSUBJI": "N", "STYPE": "INTERVENTIONAL", "SSTDTC": "2020-01-01", "SENDTC": "2021-06-30"}
S1, S2, S3 = SUBJECTS
# ADSL.TRTSDT as SAS dates (days since 1960-01-01): 2020-01-10, 2020-02-01, 2020-03-04
TRTSDT = [float((dt.date(2020, 1, 10) - dt.date(1960, 1, 1)).days), float((dt.date(2020, 2, 1) - dt.date(1960, 1, 1)).days),
          float((dt.date(2020, 3, 4) - dt.date(1960, 1, 1)).days)]


def good() -> Package:
    """Rows are in key order (the XPT writer sorts by keys), so record numbers are frame positions + 1."""
    dm = Ds("DM", "Demographics", "SPECIAL PURPOSE", ("STUDYID", "USUBJID"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("DOMAIN", "Domain Abbreviation", mandatory=True),
        Var("USUBJID", "Unique Subject Identifier", mandatory=True),
        Var("SUBJID", "Subject Identifier for the Study", mandatory=True),
        Var("RFSTDTC", "Subject Reference Start Date/Time", "datetime"),
        Var("SITEID", "Study Site Identifier", mandatory=True, codelist="CL.SITE"),
        Var("SEX", "Sex", mandatory=True, codelist="CL.SEX"), Var("DMDTC", "Date/Time of Collection", "date"),
        Var("DMDY", "Study Day of Collection", "integer")],
        pd.DataFrame({"STUDYID": STUDY, "DOMAIN": "DM", "USUBJID": SUBJECTS, "SUBJID": ["001", "002", "003"],
                      "RFSTDTC": ["2020-01-10", "2020-02-01T08:30", "2020-03"], "SITEID": "01", "SEX": ["F", "M", "F"],
                      "DMDTC": ["2020-01-05", "2020-02-01", "2020-02-20"], "DMDY": [-5.0, 1.0, np.nan]}))
    ae = Ds("AE", "Adverse Events", "EVENTS", ("STUDYID", "USUBJID", "AESTDTC", "AETERM"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("DOMAIN", "Domain Abbreviation", mandatory=True),
        Var("USUBJID", "Unique Subject Identifier", mandatory=True), Var("AESEQ", "Sequence Number", "integer", True),
        Var("AETERM", "Reported Term for the Adverse Event", mandatory=True),
        Var("AEDECOD", "Dictionary-Derived Term", mandatory=True),
        Var("AESEV", "Severity/Intensity", codelist="CL.AESEV"),
        Var("AESTDTC", "Start Date/Time of Adverse Event", "datetime"),
        Var("AEENDTC", "End Date/Time of Adverse Event", "datetime"),
        Var("AESTDY", "Study Day of Start of Adverse Event", "integer"),
        Var("AEENDY", "Study Day of End of Adverse Event", "integer")],
        pd.DataFrame({"STUDYID": STUDY, "DOMAIN": "AE", "USUBJID": [S1, S1, S2], "AESEQ": [1.0, 2.0, 1.0],
                      "AETERM": ["FEVER", "HEADACHE", "NAUSEA"], "AEDECOD": ["Pyrexia", "Headache", "Nausea"],
                      "AESEV": ["SEVERE", "MILD", ""], "AESTDTC": ["2020-01-09T10:00", "2020-01-12", "2020-02"],
                      "AEENDTC": ["2020-01-09T12:00", "2020-01-15", ""],
                      "AESTDY": [-1.0, 3.0, np.nan], "AEENDY": [-1.0, 6.0, np.nan]}))
    lb = Ds("LB", "Laboratory Test Results", "FINDINGS", ("STUDYID", "USUBJID", "LBTESTCD", "LBDTC"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("DOMAIN", "Domain Abbreviation", mandatory=True),
        Var("USUBJID", "Unique Subject Identifier", mandatory=True), Var("LBSEQ", "Sequence Number", "integer", True),
        Var("LBTESTCD", "Lab Test or Examination Short Name", mandatory=True, codelist="CL.LBTESTCD"),
        Var("LBTEST", "Lab Test or Examination Name", mandatory=True),
        Var("LBORRES", "Result or Finding in Original Units"),
        Var("LBDTC", "Date/Time of Specimen Collection", "datetime"),
        Var("LBDY", "Study Day of Specimen Collection", "integer")],
        pd.DataFrame({"STUDYID": STUDY, "DOMAIN": "LB", "USUBJID": [S1, S1, S2, S3], "LBSEQ": [1.0, 2.0, 1.0, 1.0],
                      "LBTESTCD": ["HGB", "PLAT", "HGB", "HGB"],
                      "LBTEST": ["Hemoglobin", "Platelets", "Hemoglobin", "Hemoglobin"],
                      "LBORRES": ["12.5", "LOW", "9", "11.25"],
                      "LBDTC": ["2020-01-10T07:00", "2020-01-10T07:00", "2020-01-31", "2020-03-04"],
                      "LBDY": [1.0, 1.0, -1.0, np.nan]}))
    ts = Ds("TS", "Trial Summary", "TRIAL DESIGN", ("STUDYID", "TSPARMCD", "TSSEQ"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("DOMAIN", "Domain Abbreviation", mandatory=True),
        Var("TSSEQ", "Sequence Number", "integer", True),
        Var("TSPARMCD", "Trial Summary Parameter Short Name", mandatory=True),
        Var("TSVAL", "Parameter Value"), Var("TSVALNF", "Parameter Null Flavor")],
        pd.DataFrame({"STUDYID": STUDY, "DOMAIN": "TS", "TSSEQ": 1.0, "TSPARMCD": TS_PARAMS,
                      "TSVAL": [TS_VALUES.get(p, "X") for p in TS_PARAMS], "TSVALNF": ""}))
    sdtm = Part({d.name: d for d in (dm, ae, lb, ts)},
                {"CL.SEX": Codelist("CL.SEX", ["F", "M"], "C66731"),
                 "CL.AESEV": Codelist("CL.AESEV", ["MILD", "MODERATE", "SEVERE"], "C66769"),
                 "CL.LBTESTCD": Codelist("CL.LBTESTCD", ["HGB", "PLAT"], "C65047"),
                 "CL.SITE": Codelist("CL.SITE", ["01"]),
                 "CL.PLATCAT": Codelist("CL.PLATCAT", ["LOW", "NORMAL", "HIGH"])},
                [Vlm("LB", "LBORRES", "HGB", "float", length=5, mandatory=True),
                 Vlm("LB", "LBORRES", "PLAT", "text", codelist="CL.PLATCAT")])
    adsl = Ds("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET", ("STUDYID", "USUBJID"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("USUBJID", "Unique Subject Identifier", mandatory=True),
        Var("SUBJID", "Subject Identifier for the Study", mandatory=True), Var("SITEID", "Study Site Identifier"),
        Var("AGE", "Age", "integer"), Var("AGEU", "Age Units"), Var("SEX", "Sex"), Var("RACE", "Race"),
        Var("ARM", "Description of Planned Arm"), Var("ACTARM", "Description of Actual Arm"),
        Var("TRT01P", "Planned Treatment for Period 01"), Var("TRTSDT", "Date of First Exposure to Treatment", "integer"),
        Var("SAFFL", "Safety Population Flag", codelist="CL.NY")],
        pd.DataFrame({"STUDYID": STUDY, "USUBJID": SUBJECTS, "SUBJID": ["001", "002", "003"], "SITEID": "01",
                      "AGE": [34.0, 51.0, 28.0], "AGEU": "YEARS", "SEX": ["F", "M", "F"], "RACE": "WHITE",
                      "ARM": "Drug X", "ACTARM": "Drug X", "TRT01P": "Drug X", "TRTSDT": TRTSDT, "SAFFL": "Y"}))
    adtte = Ds("ADTTE", "Time-to-Event Analysis Dataset", "BASIC DATA STRUCTURE", ("STUDYID", "USUBJID", "PARAMCD"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("USUBJID", "Unique Subject Identifier", mandatory=True),
        Var("AGE", "Age", "integer"), Var("PARAMCD", "Parameter Code", mandatory=True, codelist="CL.PARAMCD"),
        Var("PARAM", "Parameter", mandatory=True), Var("AVAL", "Analysis Value", "float"),
        Var("AVALU", "Analysis Value Unit", codelist="CL.UNIT"),
        Var("CNSR", "Censor", "integer"), Var("SRCDOM", "Source Data"), Var("SRCVAR", "Source Variable"),
        Var("SRCSEQ", "Source Sequence Number", "integer"), Var("TRT01P", "Planned Treatment for Period 01"),
        Var("ADT", "Analysis Date", "integer")],
        pd.DataFrame({"STUDYID": STUDY, "USUBJID": [S1, S1, S2, S2, S3, S3],
                      "AGE": [34.0, 34.0, 51.0, 51.0, 28.0, 28.0], "TRT01P": "Drug X",
                      "ADT": [TRTSDT[0] + 99, TRTSDT[0] + 2, TRTSDT[1] + 80, TRTSDT[1], TRTSDT[2] + 19, TRTSDT[2] + 19],
                      "PARAMCD": ["OS", "TTAE"] * 3,
                      "PARAM": ["Overall Survival (days)", "Time to First AE (days)"] * 3,
                      "AVAL": [100.0, 3.0, 80.5, 1.0, 20.0, 20.0], "AVALU": "DAYS",
                      "CNSR": [0.0, 0.0, 1.0, 1.0, 1.0, 1.0],
                      "SRCDOM": ["DM", "AE", "DM", "ADSL", "", ""],
                      "SRCVAR": ["RFSTDTC", "AESTDTC", "RFSTDTC", "AGE", "", ""],
                      "SRCSEQ": [np.nan, 1.0, np.nan, np.nan, np.nan, np.nan]}))
    adam = Part({d.name: d for d in (adsl, adtte)},
                {"CL.NY": Codelist("CL.NY", ["N", "Y"], "C66742"),
                 "CL.UNIT": Codelist("CL.UNIT", ["DAYS"], "C71620"),
                 "CL.PARAMCD": Codelist("CL.PARAMCD", ["OS", "TTAE"])},
                [Vlm("ADTTE", "AVAL", "OS", "float", mandatory=True, selector="PARAMCD")])
    return Package(sdtm, adam)


def xpt_meta(ds: Ds) -> XptDataset:
    return XptDataset(ds.name, ds.label, tuple(
        XptVariable(v.name, v.label, "num" if v.data_type in ("integer", "float") else "char", v.length)
        for v in ds.variables), ds.keys)


def char_length(ds: Ds, v: Var) -> int:
    lengths = ds.data[v.name].fillna("").astype(str).str.encode("utf-8").str.len()
    return v.length or max(1, int(lengths.max()) if len(lengths) else 0)


def define_xml(part: Part) -> bytes:
    """A small Define-XML 2.1 document of the part (what the validator reads of it)."""
    def sub(parent, tag, ns=ODM, **attrs):
        return etree.SubElement(parent, f"{{{ns}}}{tag}", {k.replace("__", ":"): str(v) for k, v in attrs.items()})

    def described(parent, text):
        tt = sub(sub(parent, "Description"), "TranslatedText")
        tt.set(XML_LANG, "en")
        tt.text = text

    root = etree.Element(f"{{{ODM}}}ODM", nsmap={None: ODM, "def": DEF}, FileOID="F", ODMVersion="1.3.2")
    study = sub(root, "Study", OID="S")
    sub(sub(study, "GlobalVariables"), "StudyName").text = STUDY
    mdv = sub(study, "MetaDataVersion", OID="MDV", Name="test")
    sub(sub(mdv, "Standards", DEF), "Standard", DEF, OID="STD.CT", Name="CDISC/NCI", Type="CT", Version=CT)
    for vl in part.vlm:  # one value list per variable
        vld = mdv.find(f"{{{DEF}}}ValueListDef[@OID='VL.{vl.dataset}.{vl.variable}']")
        if vld is None:
            vld = sub(mdv, "ValueListDef", DEF, OID=f"VL.{vl.dataset}.{vl.variable}")
        ref = sub(vld, "ItemRef", ItemOID=f"IT.{vl.dataset}.{vl.variable}.{vl.test}",
                  Mandatory="Yes" if vl.mandatory else "No")
        sub(ref, "WhereClauseRef", DEF, WhereClauseOID=f"WC.{vl.dataset}.{vl.variable}.{vl.test}")
        wc = sub(mdv, "WhereClauseDef", DEF, OID=f"WC.{vl.dataset}.{vl.variable}.{vl.test}")
        rc = sub(wc, "RangeCheck", Comparator="EQ", SoftHard="Soft")
        rc.set(f"{{{DEF}}}ItemOID", f"IT.{vl.dataset}.{vl.selector}")
        sub(rc, "CheckValue").text = vl.test
    for name in [*part.datasets, *part.extra_in_define]:
        ds = part.datasets.get(name) or dataclasses.replace(next(iter(part.datasets.values())), name=name)
        group = sub(mdv, "ItemGroupDef", OID=f"IG.{name}", Name=name, SASDatasetName=name, Repeating="Yes",
                    Purpose="Tabulation")
        described(group, part.define_labels.get((name, None), ds.label))
        for i, v in enumerate(ds.variables, 1):
            attrs = {"ItemOID": f"IT.{name}.{v.name}", "OrderNumber": i, "Mandatory": "Yes" if v.mandatory else "No"}
            if v.name in ds.keys:
                attrs["KeySequence"] = ds.keys.index(v.name) + 1
            sub(group, "ItemRef", **attrs)
        cls = sub(group, "Class", DEF)
        cls.set("Name", ds.cls)
    for ds in part.datasets.values():
        for v in ds.variables:
            data_type = part.define_types.get((ds.name, v.name), v.data_type)
            attrs = {"OID": f"IT.{ds.name}.{v.name}", "Name": v.name, "DataType": data_type}
            if data_type not in ("integer", "float"):
                attrs["Length"] = part.define_lengths.get((ds.name, v.name), char_length(ds, v))
            item = sub(mdv, "ItemDef", **attrs)
            described(item, part.define_labels.get((ds.name, v.name), v.label))
            if v.codelist:
                sub(item, "CodeListRef", CodeListOID=v.codelist)
            if any(vl.dataset == ds.name and vl.variable == v.name for vl in part.vlm):
                sub(item, "ValueListRef", DEF, ValueListOID=f"VL.{ds.name}.{v.name}")
    for vl in part.vlm:
        attrs = {"OID": f"IT.{vl.dataset}.{vl.variable}.{vl.test}", "Name": vl.variable, "DataType": vl.data_type}
        if vl.length:
            attrs["Length"] = vl.length
        item = sub(mdv, "ItemDef", **attrs)
        if vl.codelist:
            sub(item, "CodeListRef", CodeListOID=vl.codelist)
    for cl in part.codelists.values():
        node = sub(mdv, "CodeList", OID=cl.oid, Name=cl.oid, DataType="text")
        for value in cl.values:
            sub(node, "EnumeratedItem", CodedValue=value)
        if cl.nci:
            sub(node, "Alias", Context="nci:ExtCodeID", Name=cl.nci)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def write_package(pkg: Package, root: Path) -> Path:
    for part, folder in ((pkg.sdtm, SDTM_DIR), (pkg.adam, ADAM_DIR)):
        out = root / folder
        out.mkdir(parents=True, exist_ok=True)
        for ds in part.datasets.values():
            write_xpt(ds.data, xpt_meta(ds), out / f"{ds.name.lower()}.xpt", created=CREATED)
        if part.define:
            (out / "define.xml").write_bytes(define_xml(part))
    return root


@pytest.fixture(autouse=True)
def schema_valid(monkeypatch):
    """define.xml schema validation is submit.define's (tested there): here it says "valid" unless a
    test says otherwise, as the hand-made define above is not a complete Define-XML document."""
    module = sys.modules.get("submit.define.schema")
    if module is None:
        try:
            import submit.define.schema as module  # noqa: PLC0415
        except ImportError:
            module = types.ModuleType("submit.define.schema")
            monkeypatch.setitem(sys.modules, "submit.define.schema", module)
    monkeypatch.setattr(module, "schema_errors", lambda path: [], raising=False)
    return module


def run(pkg: Package, tmp_path: Path, rules=None):
    return validate(write_package(pkg, tmp_path / "pkg"), ct_version=CT, rules=rules)


def fired(report, rule: str) -> pd.DataFrame:
    return report.issues[report.issues["rule"] == rule]


# ------------------------------------------------------------------------------ good package
def test_good_package_is_quiet_for_every_rule(tmp_path):
    report = run(good(), tmp_path)
    assert report.issues.empty, report.issues.to_string()
    skipped = {n.rule for n in report.notes}
    # Only the rule needing Expected designations (from a spec) cannot run on this package.
    assert skipped == {"SUB-SDTM-003"}


def test_catalogue_is_complete_and_registered():
    ids = list(RULES)
    assert len(ids) == len(set(ids))
    assert {r.check for r in RULES.values()} <= set(CHECKS)
    for rule in RULES.values():
        assert rule.severity in ("Error", "Warning", "Notice") and rule.message and rule.standard
    # every rule has a broken case below
    assert set(ids) == set(CASES) | set(DEFAULT_SDTM_CASES)


# ------------------------------------------------------------------------------ broken cases
def _set(part: str, dataset: str, variable: str, row: int, value):
    def mutate(pkg: Package, tmp: Path):
        pkg.part(part).datasets[dataset].data.loc[row, variable] = value
    return mutate


def _replace_file(part: str, dataset: str, writer):
    """Write the dataset with `writer(df, path)` after the package (outside our XPT writer)."""
    def after(pkg: Package, root: Path):
        folder = root / (SDTM_DIR if part == "sdtm" else ADAM_DIR)
        path = folder / f"{dataset.lower()}.xpt"
        path.unlink()
        writer(pkg.part(part).datasets[dataset], folder)
    return after


def _v8(name=None, rename=None, labels=None, long_value=None):
    def writer(ds: Ds, folder: Path):
        df = ds.data.rename(columns=rename or {})
        if long_value:
            df = df.copy()
            df.loc[0, long_value] = "x" * 300
        column_labels = [labels.get(c, c) if labels else c for c in df.columns]
        pyreadstat.write_xport(df, str(folder / f"{(name or ds.name).lower()}.xpt"), file_format_version=8,
                               table_name=name or ds.name, column_labels=column_labels, file_label=ds.label)
    return writer


def _garbage(ds: Ds, folder: Path):
    (folder / f"{ds.name.lower()}.xpt").write_bytes(b"this is not a transport file" * 10)


def _non_ascii(part: str, dataset: str, variable: str):
    def after(pkg: Package, root: Path):
        path = root / (SDTM_DIR if part == "sdtm" else ADAM_DIR) / f"{dataset.lower()}.xpt"
        raw = path.read_bytes()
        value = pkg.part(part).datasets[dataset].data[variable].iloc[0].encode()
        assert raw.count(value) >= 1
        path.write_bytes(raw.replace(value, b"\xe9" + value[1:], 1))
    return after


def _rename_file(part: str, dataset: str, new: str):
    def after(pkg: Package, root: Path):
        folder = root / (SDTM_DIR if part == "sdtm" else ADAM_DIR)
        (folder / f"{dataset.lower()}.xpt").rename(folder / new)
    return after


def _padded(part: str, dataset: str, variable: str):
    def mutate(pkg: Package, tmp: Path):
        ds = pkg.part(part).datasets[dataset]
        ds.var(variable).length = char_length(ds, ds.var(variable)) + 5
    return mutate


def _empty(part: str, dataset: str):
    def mutate(pkg: Package, tmp: Path):
        ds = pkg.part(part).datasets[dataset]
        ds.data = ds.data.iloc[0:0]
    return mutate


def _drop_dataset(part: str, dataset: str):
    def mutate(pkg: Package, tmp: Path):
        del pkg.part(part).datasets[dataset]
    return mutate


def _drop_variable(part: str, dataset: str, variable: str):
    def mutate(pkg: Package, tmp: Path):
        ds = pkg.part(part).datasets[dataset]
        ds.variables = [v for v in ds.variables if v.name != variable]
        ds.keys = tuple(k for k in ds.keys if k != variable)
        ds.data = ds.data.drop(columns=variable)
    return mutate


def _no_define(part: str):
    def mutate(pkg: Package, tmp: Path):
        pkg.part(part).define = False
    return mutate


def _define_attr(part: str, kind: str, key, value):
    def mutate(pkg: Package, tmp: Path):
        getattr(pkg.part(part), kind)[key] = value
    return mutate


def _define_drops(part: str, dataset: str, variable: str | None):
    """The variable (or dataset) is in the data but not in define.xml."""
    def after(pkg: Package, root: Path):
        path = root / (SDTM_DIR if part == "sdtm" else ADAM_DIR) / "define.xml"
        doc = etree.parse(str(path))
        if variable is None:
            for group in doc.iter(f"{{{ODM}}}ItemGroupDef"):
                if group.get("Name") == dataset:
                    group.getparent().remove(group)
        else:
            for ref in doc.iter(f"{{{ODM}}}ItemRef"):
                if ref.get("ItemOID") == f"IT.{dataset}.{variable}":
                    ref.getparent().remove(ref)
        doc.write(str(path))
    return after


def _schema_errors(part: str):
    def mutate(pkg: Package, tmp: Path):
        module = sys.modules["submit.define.schema"]
        module.schema_errors = lambda path: ["line 3: element X is not expected"] if part in str(path).lower() else []
    return mutate


def _malformed_define(part: str):
    def after(pkg: Package, root: Path):
        (root / (SDTM_DIR if part == "sdtm" else ADAM_DIR) / "define.xml").write_text("<ODM><Study>", encoding="utf-8")
    return after


def _small_limit(rule_id: str):
    """The rule with a 1-byte file size limit: rules are data, limits are parameters."""
    rule = RULES[rule_id]
    return dataclasses.replace(rule, params={**rule.params, "max_bytes": 1})


def _ts_without(code: str):
    def mutate(pkg: Package, tmp: Path):
        ts = pkg.sdtm.datasets["TS"]
        ts.data = ts.data[ts.data["TSPARMCD"] != code].reset_index(drop=True)
    return mutate


def _dup_row(part: str, dataset: str, row: int, **changes):
    def mutate(pkg: Package, tmp: Path):
        ds = pkg.part(part).datasets[dataset]
        extra = ds.data.iloc[[row]].assign(**changes)
        ds.data = pd.concat([ds.data, extra], ignore_index=True)
    return mutate


def _add(part: str, dataset: str, var: Var, values):
    """A new variable (in define.xml too) with these values, one per record or one for all."""
    def mutate(pkg: Package, tmp: Path):
        ds = pkg.part(part).datasets[dataset]
        ds.variables.append(var)
        ds.data[var.name] = values
    return mutate


def _add_dataset(part: str, ds: Ds):
    def mutate(pkg: Package, tmp: Path):
        pkg.part(part).datasets[ds.name] = ds
    return mutate


def _ds_domain() -> Ds:
    """DS with S1's end of study (last disposition event) on 2020-01-11: AE 2 starts after it, on 01-12."""
    return Ds("DS", "Disposition", "EVENTS", ("STUDYID", "USUBJID", "DSDECOD"), [
        Var("STUDYID", "Study Identifier", mandatory=True), Var("DOMAIN", "Domain Abbreviation", mandatory=True),
        Var("USUBJID", "Unique Subject Identifier", mandatory=True), Var("DSSEQ", "Sequence Number", "integer", True),
        Var("DSTERM", "Reported Term for the Disposition Event", mandatory=True),
        Var("DSDECOD", "Standardized Disposition Term", mandatory=True), Var("DSCAT", "Category for Disposition Event"),
        Var("DSSTDTC", "Start Date/Time of Disposition Event", "date"),
        Var("DSSTDY", "Study Day of Start of Disposition Event", "integer")],
        pd.DataFrame({"STUDYID": STUDY, "DOMAIN": "DS", "USUBJID": [S1], "DSSEQ": [1.0], "DSTERM": ["COMPLETED"],
                      "DSDECOD": ["COMPLETED"], "DSCAT": ["DISPOSITION EVENT"], "DSSTDTC": ["2020-01-11"],
                      "DSSTDY": [2.0]}))


@dataclass(frozen=True)
class Case:
    changes: tuple  # functions (pkg, tmp) run before writing
    after: tuple = ()  # functions (pkg, root) run after writing
    where: tuple = ()  # (dataset, variable, row) the issue must name; row None = any
    rule_override: object = None


def case(*changes, after=(), where=(), rule=None) -> Case:
    return Case(tuple(changes), tuple(after if isinstance(after, (list, tuple)) else [after]), where, rule)


def _file_cases(prefix: str, part: str, dataset: str, char_var: str, idx: int) -> dict[str, Case]:
    n = lambda k: f"SUB-{prefix}-{idx + k:03d}"  # noqa: E731
    return {
        n(1): case(after=_replace_file(part, dataset, _garbage), where=(dataset, "", None)),
        n(2): case(after=_rename_file(part, dataset, f"{dataset.lower()}x.xpt"), where=(dataset, "", None)),
        n(3): case(after=_replace_file(part, dataset, _v8(name=dataset + "_TOO_LONG")),
                   where=(dataset + "_TOO_LONG", "", None)),
        n(4): case(after=_replace_file(part, dataset, _v8(rename={char_var: char_var + "LONGER"})),
                   where=(dataset, char_var + "LONGER", None)),
        n(5): case(after=_replace_file(part, dataset, _v8(labels={char_var: "L" * 41})),
                   where=(dataset, char_var, None)),
        n(7): case(after=_non_ascii(part, dataset, char_var), where=(dataset, char_var, 1)),
        n(8): case(after=_replace_file(part, dataset, _v8(long_value=char_var)), where=(dataset, char_var, None)),
        n(9): case(_padded(part, dataset, char_var), where=(dataset, char_var, None)),
        n(10): case(where=(dataset, "", None), rule=_small_limit(n(10))),
        n(11): case(_empty(part, dataset), where=(dataset, "", None)),
    }


def _define_cases(part: str, idx: int, dataset: str, char_var: str, num_var: str, cl_cases: dict) -> dict[str, Case]:
    n = lambda k: f"SUB-DEF-{idx + k:03d}"  # noqa: E731
    cases = {
        n(1): case(_schema_errors(part), where=("define.xml", "", None)),
        n(2): case(after=_define_drops(part, dataset, None), where=(dataset, "", None)),
        n(3): case(lambda pkg, tmp: pkg.part(part).extra_in_define.append("QS"), where=("QS", "", None)),
        n(4): case(after=_define_drops(part, dataset, char_var), where=(dataset, char_var, None)),
        n(5): case(_add_extra_variable(part, dataset), after=_drop_column_in_file(part, dataset),
                   where=(dataset, "EXTRA", None)),
        n(6): case(_define_attr(part, "define_labels", (dataset, None), "Something Else"), where=(dataset, "", None)),
        n(7): case(_define_attr(part, "define_labels", (dataset, char_var), "Another Label"),
                   where=(dataset, char_var, None)),
        n(8): case(_define_attr(part, "define_types", (dataset, num_var), "text"), where=(dataset, num_var, None)),
        n(9): case(_define_attr(part, "define_lengths", (dataset, char_var), 199), where=(dataset, char_var, None)),
    }
    cases.update({n(k): v for k, v in cl_cases.items()})
    return cases


def _add_extra_variable(part: str, dataset: str):
    def mutate(pkg: Package, tmp: Path):
        ds = pkg.part(part).datasets[dataset]
        ds.variables.append(Var("EXTRA", "Extra"))
        ds.data["EXTRA"] = "x"
    return mutate


def _drop_column_in_file(part: str, dataset: str):
    """The XPT file without the variable define.xml lists (EXTRA)."""
    def after(pkg: Package, root: Path):
        ds = pkg.part(part).datasets[dataset]
        trimmed = dataclasses.replace(ds, variables=[v for v in ds.variables if v.name != "EXTRA"])
        write_xpt(ds.data.drop(columns="EXTRA"), xpt_meta(trimmed),
                  root / (SDTM_DIR if part == "sdtm" else ADAM_DIR) / f"{dataset.lower()}.xpt", created=CREATED)
    return after


def _add_vlm(part: str, vlm: Vlm):
    def mutate(pkg: Package, tmp: Path):
        pkg.part(part).vlm.append(vlm)
    return mutate


def _retype_vlm(part: str, index: int, **changes):
    def mutate(pkg: Package, tmp: Path):
        vlms = pkg.part(part).vlm
        vlms[index] = dataclasses.replace(vlms[index], **changes)
    return mutate


SDTM_DEFINE = _define_cases("sdtm", 0, "AE", "AETERM", "AESEQ", {
    10: case(_set("sdtm", "DM", "SEX", 1, "U"), where=("DM", "SEX", 2)),  # U is CT, but not in the study's subset
    11: case(_set("sdtm", "LB", "LBTESTCD", 3, "WBC"), _set("sdtm", "LB", "LBTEST", 3, "Leukocytes"),
             where=("LB", "LBTESTCD", 4)),
    12: case(_set("sdtm", "DM", "SITEID", 2, "02"), where=("DM", "SITEID", 3)),
    13: case(_set("sdtm", "LB", "LBORRES", 1, "VERY LOW"), where=("LB", "LBORRES", 2)),
    14: case(_set("sdtm", "LB", "LBORRES", 2, ""), where=("LB", "LBORRES", 3)),
    15: case(_set("sdtm", "LB", "LBORRES", 2, "9,5"), where=("LB", "LBORRES", 3)),
    16: case(_set("sdtm", "LB", "LBORRES", 3, "11.255"), where=("LB", "LBORRES", 4)),
})
ADAM_DEFINE = _define_cases("adam", 100, "ADTTE", "PARAM", "AVAL", {
    10: case(_set("adam", "ADSL", "SAFFL", 2, "U"), where=("ADSL", "SAFFL", 3)),
    11: case(_set("adam", "ADTTE", "AVALU", 0, "MONTHS"), where=("ADTTE", "AVALU", 1)),
    12: case(_set("adam", "ADTTE", "PARAMCD", 5, "PFS"), _set("adam", "ADTTE", "PARAM", 5, "Progression-free"),
             where=("ADTTE", "PARAMCD", 6)),
    13: case(_add_vlm("adam", Vlm("ADTTE", "PARAM", "OS", "text", codelist="CL.PARAMCD", selector="PARAMCD")),
             where=("ADTTE", "PARAM", 1)),
    14: case(_set("adam", "ADTTE", "AVAL", 2, np.nan), where=("ADTTE", "AVAL", 3)),
    15: case(_retype_vlm("adam", 0, data_type="integer"), where=("ADTTE", "AVAL", 3)),
    16: case(_add_vlm("adam", Vlm("ADTTE", "PARAM", "OS", "text", length=5, selector="PARAMCD")),
             where=("ADTTE", "PARAM", 1)),
})

CASES: dict[str, Case] = {
    **_file_cases("XPT", "sdtm", "AE", "AETERM", 0),
    **_file_cases("XPT", "adam", "ADTTE", "PARAM", 100),
    **SDTM_DEFINE, **ADAM_DEFINE,
    "SUB-FDA-001": case(_drop_dataset("sdtm", "TS"), where=("TS", "", None)),
    "SUB-FDA-002": case(_set("sdtm", "TS", "TSVAL", TS_PARAMS.index("SSTDTC"), "2020-01"),
                        where=("TS", "TSVAL", TS_PARAMS.index("SSTDTC") + 1)),
    "SUB-FDA-003": case(_drop_dataset("sdtm", "DM"), where=("DM", "", None)),
    "SUB-FDA-004": case(_drop_dataset("adam", "ADSL"), where=("ADSL", "", None)),
    "SUB-FDA-005": case(_no_define("adam"), where=("define.xml", "", None)),
    "SUB-FDA-006": case(_ts_without("PDPSTIND"), where=("TS", "TSPARMCD", None)),
    "SUB-SDTM-013": case(_ts_without("TDIGRP"), where=("TS", "TSPARMCD", None)),  # conditional: HLTSUBJI = N
    # AETERM is Required by the Events class, whatever define.xml says
    "SUB-SDTM-001": case(_drop_variable("sdtm", "AE", "AETERM"), where=("AE", "AETERM", None)),
    "SUB-SDTM-002": case(_set("sdtm", "LB", "LBTEST", 2, ""), where=("LB", "LBTEST", 3)),
    "SUB-SDTM-004": case(_set("sdtm", "LB", "LBTESTCD", 1, "HGB"), _set("sdtm", "LB", "LBTEST", 1, "Hemoglobin"),
                         _set("sdtm", "LB", "LBORRES", 1, "12"), where=("LB", "", 2)),
    "SUB-SDTM-005": case(_set("sdtm", "AE", "AESEQ", 1, 1.0), where=("AE", "AESEQ", 2)),
    "SUB-SDTM-006": case(_set("sdtm", "AE", "USUBJID", 2, f"{STUDY}-009"), where=("AE", "USUBJID", 3)),
    "SUB-SDTM-007": case(_dup_row("sdtm", "DM", 0, SUBJID="009"), where=("DM", "USUBJID", 1)),
    "SUB-SDTM-008": case(_set("sdtm", "AE", "AEENDTC", 1, "2020-02-30"), where=("AE", "AEENDTC", 2)),
    "SUB-SDTM-009": case(_set("sdtm", "LB", "LBDY", 0, 0.0), where=("LB", "LBDY", 1)),
    "SUB-SDTM-010": case(_set("sdtm", "AE", "AEENDTC", 0, "2020-01-09T09:59"), where=("AE", "AESTDTC", 1)),
    "SUB-SDTM-011": case(_set("sdtm", "LB", "DOMAIN", 3, "LX"), where=("LB", "DOMAIN", 4)),
    "SUB-ADAM-001": case(_dup_row("adam", "ADSL", 1), where=("ADSL", "USUBJID", 2)),
    "SUB-ADAM-002": case(_set("adam", "ADTTE", "PARAMCD", 0, "OVERALLSURV"), where=("ADTTE", "PARAMCD", 1)),
    "SUB-ADAM-003": case(_set("adam", "ADTTE", "PARAM", 2, "Overall Survival (months)"), where=("ADTTE", "PARAMCD", 3)),
    "SUB-ADAM-004": case(_set("adam", "ADTTE", "CNSR", 4, 2.0), where=("ADTTE", "CNSR", 5)),
    "SUB-ADAM-005": case(_set("adam", "ADTTE", "AGE", 5, 29.0), where=("ADTTE", "AGE", 6)),
    "SUB-ADAM-006": case(_set("adam", "ADTTE", "USUBJID", 5, f"{STUDY}-009"), where=("ADTTE", "USUBJID", 6)),
    "SUB-ADAM-007": case(_set("adam", "ADSL", "USUBJID", 2, f"{STUDY}-009"), where=("ADSL", "USUBJID", 3)),
    "SUB-ADAM-008": case(_set("adam", "ADTTE", "SRCVAR", 0, "RFXSTDTC"), where=("ADTTE", "SRCVAR", 1)),
    "SUB-ADAM-009": case(_set("adam", "ADTTE", "SRCSEQ", 1, 5.0), where=("ADTTE", "SRCSEQ", 2)),
    # SDTM across records and domains
    "SUB-SDTM-014": case(_add("sdtm", "LB", Var("VISITNUM", "Visit Number", "float"), [1.0, 1.0, 1.0, 2.0]),
                         where=("LB", "VISITNUM", 1)),  # no SV at all
    "SUB-SDTM-015": case(_drop_variable("sdtm", "AE", "AESTDY"), where=("AE", "AESTDY", None)),
    "SUB-SDTM-016": case(_add("sdtm", "AE", Var("AELNKID", "Link ID"), ["A1", "", ""]), where=("AE", "AELNKID", None)),
    "SUB-SDTM-017": case(_add("sdtm", "LB", Var("LBSTRESC", "Character Result/Finding in Std Format"),
                              ["12.5", "LOW", "9", "3.8e-05"]),
                         _add("sdtm", "LB", Var("LBSTRESN", "Numeric Result/Finding in Standard Units", "float"),
                              [12.5, np.nan, 9.0, 3.8e-05]),
                         where=("LB", "LBSTRESC", 4)),
    "SUB-SDTM-018": case(_add("sdtm", "DM", Var("RFPENDTC", "Date/Time of End of Participation", "datetime"),
                              ["2020-01-14", "2020-03-01", "2020-04-01"]),
                         where=("AE", "AEENDTC", 2)),  # S1's AE 2 ends 2020-01-15
    "SUB-SDTM-019": case(_add("sdtm", "LB", Var("LBSTNRLO", "Normal Range Lower Limit-Std Units", "float"),
                              [12.0, np.nan, 12.0, 0.0]),
                         _add("sdtm", "LB", Var("LBSTNRHI", "Normal Range Upper Limit-Std Units", "float"),
                              [16.0, np.nan, 16.0, 0.0]),
                         where=("LB", "LBSTNRLO", 4)),
    "SUB-SDTM-020": case(_add("sdtm", "LB", Var("LBSTAT", "Completion Status"), ["", "", "NOT DONE", ""]),
                         _add("sdtm", "LB", Var("LBREASND", "Reason Test Not Done"), ""),
                         where=("LB", "LBSTAT", 3)),
    "SUB-SDTM-021": case(_add_dataset("sdtm", _ds_domain()), where=("AE", "AESTDTC", 2)),
    "SUB-SDTM-022": case(_add("sdtm", "DM", Var("DTHFL", "Subject Death Flag"), ["", "Y", ""]),
                         where=("DM", "DTHFL", 2)),
    "SUB-SDTM-023": case(_add("sdtm", "AE", Var("EPOCH", "Epoch"), ["SCREENING", "", ""]),
                         where=("AE", "EPOCH", 2)),  # AE 3 has a partial date: no EPOCH expected
    # ADaMIG structures (the good ADTTE: OS and TTAE for S1, S2, S3; ADT = TRTSDT + 99, 2, 80, 0, 19, 19)
    "SUB-ADAM-010": case(_drop_variable("adam", "ADSL", "SEX"), where=("ADSL", "SEX", None)),
    "SUB-ADAM-011": case(_drop_variable("adam", "ADTTE", "TRT01P"), where=("ADTTE", "TRTP|TRTA|TRT01P|TRT01A", None)),
    "SUB-ADAM-012": case(_add("adam", "ADTTE", Var("ADTM", "Analysis Datetime", "integer"),
                              [(d + (1 if i == 4 else 0)) * 86400 + 3600 for i, d in enumerate(
                                  [TRTSDT[0] + 99, TRTSDT[0] + 2, TRTSDT[1] + 80, TRTSDT[1], TRTSDT[2] + 19,
                                   TRTSDT[2] + 19])]),
                         where=("ADTTE", "ADT", 5)),
    "SUB-ADAM-013": case(_add("adam", "ADTTE", Var("ADY", "Analysis Relative Day", "integer"),
                              [100.0, 3.0, 81.0, 0.0, 20.0, 20.0]),  # day 0 does not exist: 1 on TRTSDT
                         where=("ADTTE", "ADY", 4)),
    "SUB-ADAM-014": case(_add("adam", "ADTTE", Var("PARAMN", "Parameter (N)", "integer"), [1.0, 2.0, 1.0, 2.0, 3.0, 2.0]),
                         where=("ADTTE", "PARAMCD", 5)),
    "SUB-ADAM-015": case(_add("adam", "ADTTE", Var("AVALC", "Analysis Value (C)"), ["100", "3", "100", "1", "20", "20"]),
                         where=("ADTTE", "AVAL", 3)),
    "SUB-ADAM-016": case(_add("adam", "ADTTE", Var("ABLFL", "Baseline Record Flag"), ["Y", "", "Y", "", "", ""]),
                         _dup_row("adam", "ADTTE", 0, AVAL=101.0), where=("ADTTE", "ABLFL", 1)),
    "SUB-ADAM-017": case(_add("adam", "ADTTE", Var("BASE", "Baseline Value", "float"), 10.0),
                         _add("adam", "ADTTE", Var("CHG", "Change from Baseline", "float"),
                              [90.0, -7.0, 70.5, -9.0, 10.0, 11.0]),
                         where=("ADTTE", "CHG", 6)),
    "SUB-ADAM-018": case(_add("adam", "ADTTE", Var("EVNTDESC", "Event or Censoring Description"),
                              ["DEATH", "", "", "", "", ""]),
                         where=("ADTTE", "EVNTDESC", 2)),  # S1's TTAE is an event (CNSR 0)
    "SUB-ADAM-019": case(_add("adam", "ADTTE", Var("TRTEMFL", "Treatment Emergent Analysis Flag"), "Y"),
                         _add("adam", "ADTTE", Var("ASTDT", "Analysis Start Date", "integer"),
                              [TRTSDT[0], TRTSDT[0] + 1, TRTSDT[1] - 1, TRTSDT[1], TRTSDT[2], TRTSDT[2]]),
                         where=("ADTTE", "TRTEMFL", 3)),
    "SUB-ADAM-020": case(_add("adam", "ADTTE", Var("ASEQ", "Analysis Sequence Number", "integer"),
                              [1.0, 2.0, 1.0, 1.0, 1.0, 2.0]),
                         where=("ADTTE", "ASEQ", 3)),
}
# Rules whose broken case needs the study's spec (Expected designations): tested on the default SDTM.
DEFAULT_SDTM_CASES = {"SUB-SDTM-003"}
# XPT can hold no dataset label over 40 characters (the member header has 40 bytes, v5 and v8 alike):
# those rules guard other readers' files and are tested on the check directly.
DIRECT_CASES = {"SUB-XPT-006", "SUB-XPT-106"}
CASES.update({k: None for k in DIRECT_CASES})


@pytest.mark.parametrize("rule_id", sorted(k for k in CASES if k not in DIRECT_CASES))
def test_rule_fires_on_its_broken_package(rule_id, tmp_path):
    c = CASES[rule_id]
    pkg = good()
    for change in c.changes:
        change(pkg, tmp_path)
    root = write_package(pkg, tmp_path / "pkg")
    for after in c.after:
        after(pkg, root)
    rules = None if c.rule_override is None else tuple(c.rule_override if r.id == rule_id else r
                                                       for r in RULES.values())
    report = validate(root, ct_version=CT, rules=rules)
    hits = fired(report, rule_id)
    assert len(hits), f"{rule_id} did not fire; issues:\n{report.issues.to_string()}\nnotes: {report.notes}"
    dataset, variable, row = c.where
    named = hits[(hits["dataset"] == dataset) & (hits["variable"] == variable)]
    assert len(named), hits.to_string()
    if row is not None:
        assert row in set(named["row"].dropna().astype(int)), named.to_string()
    assert (hits["severity"] == RULES[rule_id].severity).all()


@pytest.mark.parametrize("rule_id", sorted(DIRECT_CASES))
def test_dataset_label_rule_on_a_long_label(rule_id, tmp_path):
    from submit.qc.validate.checks import Context  # noqa: PLC0415
    from submit.qc.validate.package import read_package  # noqa: PLC0415

    pkg = read_package(write_package(good(), tmp_path / "pkg"), ct_version=CT)
    part = pkg.sdtm if RULES[rule_id].scope == "sdtm" else pkg.adam
    rule = RULES[rule_id]
    assert CHECKS[rule.check](Context(rule, part, pkg)).empty
    name = next(iter(part.datasets))
    ds = part.datasets[name]
    part.datasets[name] = dataclasses.replace(ds, meta=dataclasses.replace(ds.meta, label="D" * 41))
    out = CHECKS[rule.check](Context(rule, part, pkg))
    assert list(out["dataset"]) == [name]


# ------------------------------------------------------------------------ skipping, inputs
def test_without_define_the_define_rules_are_skipped_and_rejection_fires(tmp_path):
    pkg = good()
    pkg.sdtm.define = False
    report = run(pkg, tmp_path)
    assert set(fired(report, "SUB-FDA-005")["detail"].str.contains("tabulations")) == {True}
    skipped = {n.rule for n in report.notes if n.standard == "SDTM"}
    assert {"SUB-DEF-002", "SUB-DEF-007", "SUB-DEF-010", "SUB-SDTM-004"} <= skipped
    assert report.has_errors


def test_define_that_is_not_xml_is_reported_and_skips_the_define_rules(tmp_path):
    pkg = good()
    root = write_package(pkg, tmp_path / "pkg")
    _malformed_define("sdtm")(pkg, root)
    report = validate(root, ct_version=CT)
    hits = fired(report, "SUB-DEF-001")
    assert list(hits["dataset"]) == ["define.xml"] and "not well-formed" in hits["detail"].iloc[0]
    assert "SUB-DEF-007" in {n.rule for n in report.notes if n.standard == "SDTM"}


def test_one_dataset_folder_is_validated_alone(tmp_path):
    root = write_package(good(), tmp_path / "pkg")
    report = validate(root / SDTM_DIR, ct_version=CT)
    assert report.issues.empty
    assert set(report.datasets["standard"]) == {"SDTM"}
    assert {"SUB-FDA-004"} <= {n.rule for n in report.notes}  # no ADSL expected of an SDTM folder


def test_bad_input_is_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "empty")])
    assert result.exit_code == 2, result.output


# ------------------------------------------------------------------------- the default SDTM
@pytest.fixture(scope="module")
def default_report(default_sdtm):
    from submit.project import Specs, default_specs_dir  # noqa: PLC0415

    _, root = default_sdtm
    return validate_package(root, Specs(default_specs_dir()))


def test_default_sdtm_has_no_errors_but_the_missing_define_and_adam(default_report):
    errors = default_report.issues[default_report.issues["severity"] == "Error"]
    assert set(errors["rule"]) <= {"SUB-FDA-004", "SUB-FDA-005"}, errors.to_string()
    assert default_report.sources["SDTM"].endswith("sdtm")  # checked against the spec: no define.xml yet
    ran = {r.id for r in default_report.rules} - {n.rule for n in default_report.notes}
    assert {"SUB-SDTM-001", "SUB-SDTM-003", "SUB-SDTM-004", "SUB-SDTM-009", "SUB-DEF-010", "SUB-DEF-013"} <= ran


def test_default_sdtm_warnings_are_explained(default_report):
    warnings = set(default_report.issues.loc[default_report.issues["severity"] == "Warning", "rule"])
    assert warnings <= set(default_report.explanations), warnings - set(default_report.explanations)


def test_expected_variable_missing_fires_against_the_spec(default_sdtm, tmp_path):
    import shutil  # noqa: PLC0415

    from submit.project import Specs, default_specs_dir  # noqa: PLC0415
    from conftest import SDTM_DIR as DEFAULT_DIR  # noqa: PLC0415
    from submit.sdtm.build import xpt_meta as spec_meta  # noqa: PLC0415

    result, root = default_sdtm
    copy_root = tmp_path / "copy"
    shutil.copytree(root / DEFAULT_DIR, copy_root / DEFAULT_DIR)
    meta = spec_meta(result.spec, "DM")
    meta = dataclasses.replace(meta, variables=tuple(v for v in meta.variables if v.name != "RACE"))
    write_xpt(result.domains["DM"].drop(columns="RACE"), meta, copy_root / DEFAULT_DIR / "dm.xpt", created=CREATED)
    report = validate_package(copy_root, Specs(default_specs_dir()))
    hits = fired(report, "SUB-SDTM-003")
    assert list(zip(hits["dataset"], hits["variable"])) == [("DM", "RACE")]


# -------------------------------------------------------------------------------- reports
def test_reports_are_reproducible_and_laid_out_like_p21(tmp_path):
    pkg = good()
    pkg.sdtm.datasets["AE"].data.loc[1, "AESEQ"] = 1.0
    report = run(pkg, tmp_path)
    first = write_reports(report, tmp_path / "qc1", CREATED)
    second = write_reports(run(copy.deepcopy(pkg), tmp_path), tmp_path / "qc2", CREATED)
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    wb = load_workbook(first[0])
    assert wb.sheetnames == ["Summary", "Issue Summary", "Details", "Rules"]
    assert wb.properties.created == dt.datetime(2024, 1, 2)
    details = list(wb["Details"].values)
    header = details[0]
    rows = [dict(zip(header, r)) for r in details[1:]]
    assert [(r["Dataset"], r["Record"], r["Rule ID"]) for r in rows] == [("AE", 1, "SUB-SDTM-005"),
                                                                        ("AE", 2, "SUB-SDTM-005")]
    rules = list(wb["Rules"].values)
    assert len(rules) - 1 == len(RULES)
    summary = {r["dataset"]: r for r in json.loads(first[1].read_text())["datasets"]}
    assert summary["AE"]["Error"] == 2 and summary["AE"]["records"] == 3
    with zipfile.ZipFile(first[0]) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_cli_exit_codes_and_files(tmp_path):
    root = write_package(good(), tmp_path / "pkg")
    ok = CliRunner().invoke(main, ["validate", str(root), "--json", str(tmp_path / "v.json")])
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "v.json").read_text())["summary"]["errors"] == 0
    (root / SDTM_DIR / "define.xml").unlink()
    bad = CliRunner().invoke(main, ["validate", str(root), "--xlsx", str(tmp_path / "v.xlsx")])
    assert bad.exit_code == 1 and "SUB-FDA-005" in bad.output
    assert (tmp_path / "v.xlsx").is_file()


def test_console_summary_names_the_variables_of_each_issue(tmp_path):
    pkg = good()
    _set("sdtm", "DM", "SEX", 1, "U")(pkg, tmp_path)
    _set("sdtm", "DM", "SITEID", 2, "02")(pkg, tmp_path)
    summary = text_summary(run(pkg, tmp_path))
    lines = [line for line in summary.splitlines() if " DM " in line]
    assert any("(SEX)" in line for line in lines) and any("(SITEID)" in line for line in lines), summary
