"""Value-level metadata of the SDTM findings results (specs/sdtm/parts/valuelevel/): the spec
loads with the part, the define of the default SDTM is schema-valid and consistent with its XPT
files, every test code in the data has its value-level items, their lengths and digits are those
of the data, and origins, methods and unit codelists agree with the mapping specs and raw schema
(all read here independently of the define generator)."""

from __future__ import annotations

import csv
import logging
import shutil
from decimal import Decimal

import pandas as pd
import pyreadstat
import pytest
import yaml
from lxml import etree

from conftest import SDTM_DIR, SPECS
from submit.define import DefineInputs, check_consistency, schema_errors, write_define
from submit.spec.store import load_spec

PART = SPECS / "sdtm" / "parts" / "valuelevel"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
# Domain -> its test code variable and the result variables that carry value-level items per test.
FINDINGS = {
    "LB": ("LBTESTCD", ("LBORRES", "LBSTRESC", "LBSTRESN")),
    "VS": ("VSTESTCD", ("VSORRES", "VSSTRESC", "VSSTRESN")),
    "PC": ("PCTESTCD", ("PCORRES", "PCSTRESC", "PCSTRESN")),
    "RS": ("RSTESTCD", ("RSORRES", "RSSTRESC")),
    "DD": ("DDTESTCD", ("DDORRES", "DDSTRESC")),
}


def _csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPECS / "sdtm")


@pytest.fixture(scope="module")
def define(default_sdtm, study, tmp_path_factory):
    """define.xml of the default SDTM beside a copy of its XPT files, and those files' data."""
    result, root = default_sdtm
    folder = tmp_path_factory.mktemp("valuelevel") / "sdtm"
    shutil.copytree(root / SDTM_DIR, folder)
    path = write_define(result.spec, result.domains, folder, study, inputs=DefineInputs(stylesheet=""))
    data = {ds: pyreadstat.read_xport(str(folder / f"{ds.lower()}.xpt"))[0] for ds in FINDINGS}
    return path, etree.parse(str(path)).getroot(), data


def value_items(root: etree._Element, dataset: str, variable: str) -> dict[str, etree._Element]:
    """The ItemDefs of VL.<dataset>.<variable> by the test code their where clause selects (the
    clause's one condition: <test code variable> EQ <code>)."""
    testcd = FINDINGS[dataset][0]
    out = {}
    for ref in root.xpath(f"//def:ValueListDef[@OID='VL.{dataset}.{variable}']/odm:ItemRef", namespaces=NS):
        clause = ref.find("def:WhereClauseRef", NS).get("WhereClauseOID")
        checks = root.xpath(f"//def:WhereClauseDef[@OID='{clause}']/odm:RangeCheck", namespaces=NS)
        assert len(checks) == 1, clause
        check = checks[0]
        assert (check.get(f"{{{NS['def']}}}ItemOID"), check.get("Comparator")) == (f"IT.{dataset}.{testcd}", "EQ")
        (code,) = [v.text for v in check.findall("odm:CheckValue", NS)]
        out[code] = root.xpath(f"//odm:ItemDef[@OID='{ref.get('ItemOID')}']", namespaces=NS)[0]
    return out


def codes_in(data: pd.DataFrame, variable: str) -> set[str]:
    return set(data[variable].str.rstrip()) - {""}


def codelist_terms(root: etree._Element, item: etree._Element) -> set[str]:
    oid = item.find("odm:CodeListRef", NS).get("CodeListOID")
    return {i.get("CodedValue") for i in root.xpath(f"//odm:CodeList[@OID='{oid}']/*[@CodedValue]", namespaces=NS)}


# ---------------------------------------------------------------------------------------- the spec
def test_the_spec_loads_with_the_part_and_nothing_unused_or_duplicated(caplog):
    with caplog.at_level(logging.WARNING):
        spec = load_spec(SPECS / "sdtm")
    assert not [r for r in caplog.records if "valuelevel" in r.getMessage()]
    rows = _csv(PART / "ValueLevel.csv")
    assert {(r["Dataset"], r["Variable"], r["Where Clause"]) for r in rows} <= \
        {(x.dataset, x.variable, x.where_clause) for x in spec.value_level}
    assert len(rows) == len({(r["Dataset"], r["Variable"], r["Where Clause"]) for r in rows})
    for sheet in ("WhereClauses", "Codelists", "Methods"):
        mine = {r["ID"] for r in _csv(PART / f"{sheet}.csv")}
        main = {r["ID"] for r in _csv(SPECS / "sdtm" / f"{sheet}.csv")}
        assert mine and not mine & main, sheet
    used = {x.where_clause for x in spec.value_level}
    assert {r["ID"] for r in _csv(PART / "WhereClauses.csv")} <= used
    # Lengths are left to the data: the define generator measures them.
    assert all(r["Length"] == "" and r["Significant Digits"] == "" for r in rows)


# -------------------------------------------------------------------------------------- the define
def test_the_define_is_schema_valid_and_consistent_with_the_xpt_files(define):
    path, root, _ = define
    assert schema_errors(path) == []
    found = check_consistency(path, path.parent)
    assert found.errors == []
    # Notes are values outside an extensible codelist: none may come from a value-level item.
    assert not [n for n in found.notes if " where " in n.message]
    assert len(root.xpath("//def:ValueListDef", namespaces=NS)) >= sum(len(v[1]) for v in FINDINGS.values())


@pytest.mark.parametrize("dataset", FINDINGS)
def test_every_test_code_in_the_data_has_its_value_level_items(define, dataset):
    _, root, data = define
    testcd, results = FINDINGS[dataset]
    codes = codes_in(data[dataset], testcd)
    assert codes
    for variable in results:
        assert set(value_items(root, dataset, variable)) == codes, variable


def test_the_lb_tests_are_named_by_their_code_alone(define):
    """One specimen and one category per LB test code: a where clause on LBTESTCD alone selects
    results of one kind (otherwise it would need a second condition, e.g. on LBSPEC)."""
    lb = define[2]["LB"]
    kinds = lb.groupby("LBTESTCD")[["LBSPEC", "LBCAT"]].nunique()
    assert (kinds == 1).all().all(), kinds[(kinds != 1).any(axis=1)]
    assert {"BLASTLE", "BLASTCE", "MRD", "IFNG"} <= set(kinds.index)


def _decimals(value: float) -> tuple[int, int]:
    """(integer digits, decimals) of a number as written with 12 significant digits."""
    text = format(abs(value), ".12g")
    exponent = Decimal(text).normalize().as_tuple().exponent
    return len(str(int(abs(value)))), max(0, -exponent)


@pytest.mark.parametrize("dataset", FINDINGS)
def test_value_level_lengths_and_digits_are_those_of_the_data(define, dataset):
    _, root, data = define
    testcd, results = FINDINGS[dataset]
    df = data[dataset]
    for variable in results:
        for code, item in value_items(root, dataset, variable).items():
            values = df.loc[df[testcd].str.rstrip() == code, variable]
            what = f"{dataset}.{variable} {code}"
            if item.get("DataType") == "text":
                assert int(item.get("Length")) == max(1, values.str.rstrip().str.encode("utf-8").str.len().max()), what
                continue
            assert item.get("DataType") == "float", what
            parts = [_decimals(v) for v in values.dropna()]
            integer, decimals = max(p[0] for p in parts), max(p[1] for p in parts)
            assert (int(item.get("Length")), int(item.get("SignificantDigits"))) == (integer + decimals, decimals), what


def test_value_level_units_hold_the_units_of_the_data(define):
    _, root, data = define
    lb = data["LB"]
    for variable in ("LBORRESU", "LBSTRESU"):
        for code, item in value_items(root, "LB", variable).items():
            units = codes_in(lb[lb.LBTESTCD.str.rstrip() == code], variable)
            assert units and units <= codelist_terms(root, item), (variable, code)
    rs, dd = data["RS"], data["DD"]
    assert codes_in(rs, "RSORRES") <= codelist_terms(root, value_items(root, "RS", "RSORRES")["OVRLRESP"])
    assert codes_in(dd, "DDORRES") <= codelist_terms(root, value_items(root, "DD", "DDORRES")["PRCDTH"])


# --------------------------------------------------------------------------- against the mappings
def _lb_sources() -> tuple[dict[str, dict], dict]:
    """Per LB test code the variables of its mapping source; the standardize step's units."""
    mapping = yaml.safe_load((SPECS / "sdtm" / "mapping" / "lb.yaml").read_text(encoding="utf-8"))
    by_code = {}
    for source in mapping["sources"]:
        (algorithm, params), = source["variables"]["LBTESTCD"].items()
        codes = [params["value"]] if algorithm == "hardcode" else list(params["values"].values())
        by_code.update({code: source["variables"] for code in codes})
    (units,) = [step["standardize"]["units"] for step in mapping["then"] if "standardize" in step]
    return by_code, units


def test_lb_origins_methods_and_unit_codelists_follow_the_mapping(spec):
    sources, units = _lb_sources()
    codelists = {c.id: set(c.values()) for c in spec.codelists}
    rows = {(x.variable, x.where_clause.rsplit(".", 1)[1]): x for x in spec.value_level if x.dataset == "LB"}
    assert {code for variable, code in rows if variable == "LBORRES"} == set(sources)
    for code, variables in sources.items():
        assert rows["LBORRES", code].origin == "Collected" and next(iter(variables["LBORRES"])) in ("text_of", "assign")
        unit = variables.get("LBORRESU")
        if unit is None:
            assert ("LBORRESU", code) not in rows
        else:
            expected = {"hardcode": "Assigned", "assign": "Collected"}[next(iter(unit))]
            assert rows["LBORRESU", code].origin == expected, code
            assert codelists[rows["LBORRESU", code].codelist] == set(units[code]["from"]), code
        converted = code in units and any(float(f) != 1 for f in units[code]["from"].values())
        for variable in ("LBSTRESC", "LBSTRESN", "LBSTRESU"):
            x = rows.get((variable, code))
            if x is None:
                assert variable == "LBSTRESU" and code not in units  # no unit: none to standardize to
                continue
            method = "MT.LBSTRES" if converted else "MT.LBSTRES.ASIS"
            assert (x.origin, x.method) == ("Derived", method), (variable, code)
        if code in units:
            assert codelists[rows["LBSTRESU", code].codelist] == {units[code]["unit"]}, code


def test_collected_response_and_cause_of_death_codelists_are_the_forms_answers(spec):
    codelists = {c.id: c for c in spec.codelists}
    rows = {(x.dataset, x.variable): x for x in spec.value_level if x.dataset in ("RS", "DD")}
    for domain, raw, column in (("RS", "resp", "RESP"), ("DD", "death", "DTHCAUS")):
        schema = yaml.safe_load((SPECS / "raw" / f"{raw}.yaml").read_text(encoding="utf-8"))
        (allowed,) = [c["allowed"] for c in schema["columns"] if c["name"] == column]
        mapping = yaml.safe_load((SPECS / "sdtm" / "mapping" / f"{domain.lower()}.yaml").read_text(encoding="utf-8"))
        variables = mapping["sources"][0]["variables"]
        collected, standard = rows[domain, f"{domain}ORRES"], rows[domain, f"{domain}STRESC"]
        assert [t.value for t in codelists[collected.codelist].terms] == allowed
        assert (collected.origin, standard.origin) == ("Collected", "Derived")
        to_standard = variables[f"{domain}STRESC"]["assign_ct"]["values"]
        assert set(to_standard) == set(allowed)
        assert set(to_standard.values()) <= set(codelists[standard.codelist].values())
