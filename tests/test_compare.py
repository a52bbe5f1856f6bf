"""`submit compare`: PROC COMPARE semantics, reports and exit codes, on constructed differences."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from submit.cli import main
from submit.dataset_io import DatasetMeta, VariableMeta, read_dataset, sas_format
from submit.errors import InputError
from submit.qc.compare import CompareOptions, compare_datasets, numbers_equal, pair_folders
from submit.qc.compare_report import json_report, text_report
from submit.qc.compare_cmd import compare_paths


# ------------------------------------------------------------------------------------------ helpers

def ae_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["01-001", "01-001", "01-002", "01-003", "01-004"],
        "AESEQ": [1.0, 2.0, 1.0, 1.0, 1.0],
        "AETERM": ["Headache", "Nausea", "Rash", "Fever", "Cough"],
        "AVAL": [1.5, 2.0, 3.25, np.nan, 5.0],
    })


def meta(df: pd.DataFrame, fmt: str = "parquet", name: str = "AE", **attributes) -> DatasetMeta:
    """A meta as read_dataset would give it; `attributes` overrides per variable, e.g. AVAL={"label": ...}."""
    variables = {}
    for c in df.columns:
        kind = "num" if pd.api.types.is_numeric_dtype(df[c]) else "char"
        variables[c] = VariableMeta(name=c, type=kind, **attributes.get(c, {}))
    return DatasetMeta(name=name, variables=variables, source=f"{name.lower()}.{fmt}", format=fmt)


def run_compare(base: pd.DataFrame, comp: pd.DataFrame, **options):
    return compare_datasets(base, meta(base), comp, meta(comp), CompareOptions(**options))


def write_xpt(path, df: pd.DataFrame, label: str = "Adverse Events", labels=None, formats=None, name="AE"):
    pyreadstat.write_xport(df, str(path), file_label=label, column_labels=labels or {}, table_name=name,
                           variable_format=formats or {}, file_format_version=5)
    return path


def compare_files(base, comp, **options):
    (b, bm), (c, cm) = read_dataset(base, as_text=True), read_dataset(comp, as_text=True)
    return compare_datasets(b, bm, c, cm, CompareOptions(**options))


def cli(*args: str):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def write_dataset_json(path, df: pd.DataFrame, columns: list[dict], name="AE", label="Adverse Events"):
    rows = [[None if isinstance(v, float) and np.isnan(v) else v for v in r]
            for r in df.astype(object).itertuples(index=False, name=None)]
    doc = {"datasetJSONCreationDateTime": "2026-01-01T00:00:00", "datasetJSONVersion": "1.1.0",
           "itemGroupOID": f"IG.{name}", "records": len(rows), "name": name, "label": label,
           "columns": columns, "rows": rows}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


AE_COLUMNS = [
    {"itemOID": "IT.AE.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier", "dataType": "string",
     "length": 6, "keySequence": 1},
    {"itemOID": "IT.AE.AESEQ", "name": "AESEQ", "label": "Sequence Number", "dataType": "integer", "keySequence": 2},
    {"itemOID": "IT.AE.AETERM", "name": "AETERM", "label": "Reported Term", "dataType": "string", "length": 8},
    {"itemOID": "IT.AE.AVAL", "name": "AVAL", "label": "Analysis Value", "dataType": "double"},
]


# ------------------------------------------------------------------------------- differences by kind

def test_equal_frames_are_equal():
    result = run_compare(ae_frame(), ae_frame(), by=("USUBJID", "AESEQ"))
    assert result.equal
    assert result.observations_compared == 5 and result.observations_unequal == 0
    assert result.compared_variables == ["AETERM", "AVAL"]


def test_variables_in_one_only():
    base = ae_frame().assign(EXTRA=1.0)
    comp = ae_frame().drop(columns="AVAL").assign(NEW="x")
    result = run_compare(base, comp, by=("USUBJID",))
    assert [v.name for v in result.variables_only_in_base] == ["AVAL", "EXTRA"]
    assert [v.name for v in result.variables_only_in_compare] == ["NEW"]
    assert not result.equal


def test_variable_names_match_case_insensitively():
    comp = ae_frame().rename(columns=str.lower)
    result = run_compare(ae_frame(), comp, by=("usubjid", "aeseq"))
    assert result.equal and result.keys == ["USUBJID", "AESEQ"]


def test_attribute_differences_from_xpt(tmp_path):
    base = ae_frame().assign(AGE=[30.0, 30, 41, 52, 63])
    comp = base.assign(AGE=base["AGE"].map(lambda a: str(int(a))),   # type
                       AETERM=base["AETERM"].where(base.index != 0, "Headache "))  # length 8 -> 9, same value
    write_xpt(tmp_path / "base.xpt", base, labels={"AVAL": "Analysis Value"}, formats={"AVAL": "8.2"})
    write_xpt(tmp_path / "comp.xpt", comp, label="Adverse Event", labels={"AVAL": "Analysis Val"},
              formats={"AVAL": "8.3"})
    result = compare_files(tmp_path / "base.xpt", tmp_path / "comp.xpt", by=("USUBJID", "AESEQ"))

    found = {(d.variable, d.attribute): (d.base, d.compare) for d in result.attribute_differences}
    assert found == {("AGE", "type"): ("num", "char"), ("AETERM", "length"): (8, 9),
                     ("AVAL", "label"): ("Analysis Value", "Analysis Val"), ("AVAL", "format"): ("8.2", "8.3")}
    assert [(d.attribute, d.base, d.compare) for d in result.dataset_differences] == \
        [("label", "Adverse Events", "Adverse Event")]
    assert "AGE" not in result.compared_variables  # conflicting types: reported, values not compared
    assert result.value_differences == []  # the trailing blank XPT stores is padding, not a value
    text = text_report(_run(result))
    assert "Number of Variables with Conflicting Types: 1." in text
    assert "Number of Variables with Differing Attributes: 3." in text


def test_csv_does_not_report_attributes_it_cannot_store(tmp_path):
    write_xpt(tmp_path / "ae.xpt", ae_frame(), labels={"AVAL": "Analysis Value"}, formats={"AVAL": "8.2"})
    ae_frame().to_csv(tmp_path / "ae.csv", index=False)
    result = cli(tmp_path / "ae.xpt", tmp_path / "ae.csv", "--by", "USUBJID,AESEQ")
    assert result.exit_code == 0, result.output
    assert "Result: EQUAL" in result.output


def test_observations_in_one_only_listed_by_key():
    base = ae_frame()
    comp = pd.concat([base.iloc[1:], pd.DataFrame({"USUBJID": ["01-009"], "AESEQ": [1.0], "AETERM": ["X"],
                                                   "AVAL": [1.0]})], ignore_index=True)
    result = run_compare(base, comp, by=("USUBJID", "AESEQ"))
    assert result.only_in_base.count == 1
    assert result.only_in_base.rows.to_dict("records") == [{"USUBJID": "01-001", "AESEQ": 1.0}]
    assert result.only_in_compare.rows.to_dict("records") == [{"USUBJID": "01-009", "AESEQ": 1.0}]
    assert result.observations_compared == 4 and not result.equal


def test_duplicate_keys_reported_on_each_side_and_paired_in_order():
    base = ae_frame()
    comp = ae_frame()
    comp.loc[1, "AESEQ"] = 1.0  # 01-001/1 twice in COMPARE only
    result = run_compare(base, comp, by=("USUBJID", "AESEQ"))
    assert result.duplicates_base.count == 0
    assert result.duplicates_compare.count == 1 and result.duplicates_compare.observations == 2
    assert result.duplicates_compare.rows.to_dict("records") == [{"USUBJID": "01-001", "AESEQ": 1.0, "COUNT": 2}]
    # the first 01-001/1 pairs with base's; the second has no partner
    assert result.only_in_compare.count == 1 and result.only_in_base.count == 1

    same = run_compare(comp, comp.copy(), by=("USUBJID", "AESEQ"))
    assert same.duplicates_base.count == 1 and same.duplicates_compare.count == 1
    assert same.equal  # as in PROC COMPARE, duplicates alone are a warning, not a difference
    assert "WARNING: BY values occurring more than once in BASE: 1 (2 observations)" in text_report(_run(same))


def test_character_value_differences_listed_with_keys_and_both_values():
    comp = ae_frame()
    comp.loc[[0, 2, 3], "AETERM"] = ["HEADACHE", "Rash ", ""]
    result = run_compare(ae_frame(), comp, by=("USUBJID", "AESEQ"), max_print=1)
    (term,) = result.value_differences
    assert (term.variable, term.type, term.count, term.missing_count) == ("AETERM", "char", 2, 1)
    assert term.rows.to_dict("records") == [{"USUBJID": "01-001", "AESEQ": 1.0, "BASE": "Headache",
                                             "COMPARE": "HEADACHE"}]  # max_print=1
    assert term.max_difference is None
    assert result.observations_unequal == 2


def test_numeric_value_differences_count_and_largest_difference():
    comp = ae_frame()
    comp.loc[[0, 2, 3], "AVAL"] = [1.75, 3.0, 9.0]  # +0.25, -0.25, missing -> 9
    result = run_compare(ae_frame(), comp, by=("USUBJID", "AESEQ"))
    (aval,) = result.value_differences
    assert (aval.count, aval.missing_count, aval.max_difference) == (3, 1, 0.25)
    assert aval.rows["DIFF"].tolist()[:2] == [0.25, -0.25]  # compare - base, as SAS's Diff.
    assert np.isnan(aval.rows["DIFF"].iloc[2])


@pytest.mark.parametrize("method, base, comp, equal", [
    # absolute: unequal when |y - x| > criterion (1e-5)
    ("absolute", 100.0, 100.0 + 0.9e-5, True),
    ("absolute", 100.0, 100.0 + 1.1e-5, False),
    ("absolute", 1e-9, 2e-9, True),  # tiny values: equal in absolute terms...
    # relative: unequal when |y - x| / ((|x| + |y|) / 2) > criterion
    ("relative", 1e-9, 2e-9, False),  # ...but not in relative ones
    ("relative", 1000.0, 1000.0 * (1 + 0.9e-5), True),
    ("relative", 1000.0, 1000.0 * (1 + 1.1e-5), False),
    ("relative", 1e6, 1e6 + 9.0, True),  # absolute 9, far over 1e-5, relative 9e-6 under
    ("relative", 0.0, 0.0, True),  # 0/0: equal, as SAS defines it
    ("relative", 0.0, 1e-300, False),
    ("exact", 1.0, 1.0 + 2.0 ** -52, False),
    ("exact", 1.0, 1.0, True),
])
def test_numeric_criterion_just_under_and_over(method, base, comp, equal):
    b = pd.DataFrame({"K": [1.0], "X": [base]})
    c = pd.DataFrame({"K": [1.0], "X": [comp]})
    result = run_compare(b, c, by=("K",), method=method, criterion=1e-5)
    assert result.equal is equal
    assert numbers_equal(np.array([base]), np.array([comp]), method, 1e-5).tolist() == [equal]


def test_criterion_boundary_is_not_a_difference():
    # PROC COMPARE: unequal only when the measure is *greater* than the criterion
    assert numbers_equal(np.array([1.0]), np.array([1.5]), "absolute", 0.5).tolist() == [True]
    assert numbers_equal(np.array([1.0]), np.array([1.5]), "absolute", 0.4999).tolist() == [False]
    assert numbers_equal(np.array([1.0]), np.array([3.0]), "relative", 1.0).tolist() == [True]  # 2 / 2


def test_missing_equals_missing_only():
    x = np.array([np.nan, np.nan, 1.0, 1.0])
    y = np.array([np.nan, 1.0, np.nan, 1.0])
    for method in ("exact", "absolute", "relative"):
        assert numbers_equal(x, y, method, 1e-5).tolist() == [True, False, False, True]
    base = pd.DataFrame({"K": [1.0, 2.0], "C": ["", "A"]})
    comp = pd.DataFrame({"K": [1.0, 2.0], "C": pd.Series([np.nan, np.nan], dtype="str")})
    (c,) = run_compare(base, comp, by=("K",)).value_differences  # blank == missing in SAS
    assert (c.count, c.missing_count) == (1, 1)


def test_trailing_blanks_ignored_by_default_leading_never_and_case_on_request():
    base = pd.DataFrame({"K": [1.0, 2.0, 3.0], "C": ["A", "b", "X"]})
    comp = pd.DataFrame({"K": [1.0, 2.0, 3.0], "C": ["A  ", "B", " X"]})
    default = run_compare(base, comp, by=("K",))
    assert default.value_differences[0].rows["K"].tolist() == [2.0, 3.0]
    strict = run_compare(base, comp, by=("K",), ignore_trailing_blanks=False)
    assert strict.value_differences[0].count == 3
    lenient = run_compare(base, comp, by=("K",), ignore_case=True)
    assert lenient.value_differences[0].rows["K"].tolist() == [3.0]


def test_trailing_blanks_in_keys_do_not_break_matching():
    base = pd.DataFrame({"K": ["A", "B"], "V": [1.0, 2.0]})
    comp = pd.DataFrame({"K": ["A ", "B"], "V": [1.0, 2.0]})
    assert run_compare(base, comp, by=("K",)).equal
    assert run_compare(base, comp, by=("K",), ignore_trailing_blanks=False).only_in_base.count == 1


def test_without_by_observations_match_by_position():
    base = ae_frame()
    comp = pd.concat([ae_frame(), ae_frame().iloc[:1]], ignore_index=True)
    comp.loc[2, "AVAL"] = 99.0
    result = run_compare(base, comp)
    assert result.keys == ["Obs"] and result.by_position
    assert result.only_in_compare.rows.to_dict("records") == [{"Obs": 6}]
    assert result.value_differences[0].rows["Obs"].tolist() == [3]
    assert "Observations matched by position" in text_report(_run(result))


def test_csv_columns_take_the_types_of_the_other_side(tmp_path):
    base = pd.DataFrame({"USUBJID": ["01-001", "01-002"], "SITEID": ["101", "102"], "AGE": [30.0, np.nan]})
    write_xpt(tmp_path / "dm.xpt", base, name="DM")
    base.to_csv(tmp_path / "dm.csv", index=False)
    result = compare_files(tmp_path / "dm.xpt", tmp_path / "dm.csv", by=("USUBJID",))
    assert result.attribute_differences == [] and result.equal  # SITEID stays text, AGE becomes a number
    base.assign(AGE=["30", "n/a"]).to_csv(tmp_path / "dm.csv", index=False)  # AGE not a number: stays text
    result = compare_files(tmp_path / "dm.xpt", tmp_path / "dm.csv", by=("USUBJID",))
    assert [(d.variable, d.attribute) for d in result.attribute_differences] == [("AGE", "type")]


# ---------------------------------------------------------------------------------- CLI, exit codes

def test_cli_equal_exits_0_and_different_exits_1(tmp_path):
    write_xpt(tmp_path / "base.xpt", ae_frame())
    write_xpt(tmp_path / "same.xpt", ae_frame())
    comp = ae_frame()
    comp.loc[4, "AVAL"] = 5.5
    write_xpt(tmp_path / "diff.xpt", comp)

    same = cli(tmp_path / "base.xpt", tmp_path / "same.xpt", "--by", "USUBJID", "--by", "AESEQ")
    assert same.exit_code == 0, same.output
    assert "All values compared are exactly equal" in same.output and "Result: EQUAL" in same.output

    diff = cli(tmp_path / "base.xpt", tmp_path / "diff.xpt", "--by", "USUBJID,AESEQ")
    assert diff.exit_code == 1, diff.output
    assert "01-004" in diff.output and "Result: DIFFERENT" in diff.output

    # 5 vs 5.5 is a relative difference of 0.095: equal with --criterion 0.1 (method relative, as in SAS)
    tolerant = cli(tmp_path / "base.xpt", tmp_path / "diff.xpt", "--by", "USUBJID,AESEQ", "--criterion", "0.1")
    assert tolerant.exit_code == 0, tolerant.output
    assert "Method=RELATIVE, Criterion=0.1" in tolerant.output
    absolute = cli(tmp_path / "base.xpt", tmp_path / "diff.xpt", "--by", "USUBJID,AESEQ", "--criterion", "0.1",
                   "--method", "absolute")
    assert absolute.exit_code == 1


def test_cli_errors_exit_2(tmp_path):
    write_xpt(tmp_path / "base.xpt", ae_frame())
    missing_by = cli(tmp_path / "base.xpt", tmp_path / "base.xpt", "--by", "USUBJID,VISITNUM")
    assert missing_by.exit_code == 2
    assert "BY variable VISITNUM is not in the dataset" in missing_by.output

    (tmp_path / "broken.xpt").write_bytes(b"not a transport file")
    unreadable = cli(tmp_path / "base.xpt", tmp_path / "broken.xpt")
    assert unreadable.exit_code == 2 and "cannot read" in unreadable.output

    (tmp_path / "notes.txt").write_text("x")
    assert cli(tmp_path / "base.xpt", tmp_path / "notes.txt").exit_code == 2  # unknown format
    assert cli(tmp_path / "base.xpt", tmp_path / "absent.xpt").exit_code == 2
    assert cli(tmp_path / "base.xpt", tmp_path).exit_code == 2  # a file against a folder
    assert cli(tmp_path / "base.xpt", tmp_path / "base.xpt", "--method", "percent").exit_code == 2


def test_cli_out_file_and_json(tmp_path):
    write_xpt(tmp_path / "base.xpt", ae_frame())
    comp = ae_frame()
    comp.loc[0, "AETERM"] = "Migraine"
    write_xpt(tmp_path / "comp.xpt", comp)
    result = cli(tmp_path / "base.xpt", tmp_path / "comp.xpt", "--by", "USUBJID,AESEQ",
                 "--out", tmp_path / "report.txt", "--json", tmp_path / "report.json")
    assert result.exit_code == 1
    assert "Result:" not in result.stdout  # the report went to the file
    assert "Migraine" in (tmp_path / "report.txt").read_text()
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["equal"] is False
    assert doc["datasets"][0]["value_differences"][0]["listed"] == [
        {"key": {"USUBJID": "01-001", "AESEQ": 1.0}, "base": "Headache", "compare": "Migraine"}]


def test_text_report_sections_come_in_proc_compare_order():
    base = ae_frame().assign(EXTRA=1.0)
    comp = ae_frame().iloc[1:].reset_index(drop=True)
    comp.loc[0, "AVAL"] = 0.0
    comp = pd.concat([comp, comp.iloc[:1]], ignore_index=True)
    result = compare_datasets(base, meta(base, "xpt"), comp, meta(comp, "xpt", AVAL={"label": "Value"}),
                              CompareOptions(by=("USUBJID", "AESEQ")))
    text = text_report(_run(result))
    order = ["Data Set Summary", "Listing of Variables in BASE but not in COMPARE",
             "Listing of Common Variables with Differing Attributes", "Observation Summary",
             "Observations in BASE but not in COMPARE", "WARNING: BY values occurring more than once in COMPARE",
             "Values Comparison Summary", "Value Comparison Results for Variables", "Result: DIFFERENT"]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)


def test_max_print_limits_listings_not_counts():
    base = pd.DataFrame({"K": np.arange(10.0), "V": np.zeros(10)})
    comp = base.assign(V=1.0)
    result = run_compare(base, comp, by=("K",), max_print=3)
    assert result.value_differences[0].count == 10 and len(result.value_differences[0].rows) == 3
    assert "NOTE: 10 in all; the first 3 are listed (--max-print 3)." in text_report(_run(result))


# ------------------------------------------------------------------------------------------- JSON

def test_json_report_structure():
    base = ae_frame().assign(EXTRA=1.0)
    comp = ae_frame().iloc[1:].reset_index(drop=True)
    comp.loc[0, "AVAL"] = 2.5
    doc = json.loads(json.dumps(json_report(_run(run_compare(base, comp, by=("USUBJID", "AESEQ"))))))
    assert set(doc) == {"tool", "version", "base", "compare", "folders", "equal", "options", "datasets",
                        "datasets_only_in_base", "datasets_only_in_compare"}
    assert doc["options"] == {"by": ["USUBJID", "AESEQ"], "method": "exact", "criterion": None,
                              "ignore_case": False, "ignore_trailing_blanks": True, "max_print": 50}
    (ds,) = doc["datasets"]
    assert set(ds) == {"name", "equal", "base", "compare", "by", "matched_by_position", "notes",
                       "dataset_attribute_differences", "variables_only_in_base", "variables_only_in_compare",
                       "attribute_differences", "observations_only_in_base", "observations_only_in_compare",
                       "duplicate_keys", "observations_compared", "observations_with_differences",
                       "variables_compared", "value_differences"}
    assert ds["base"]["observations"] == 5 and ds["compare"]["observations"] == 4
    assert [v["name"] for v in ds["variables_only_in_base"]] == ["EXTRA"]
    assert ds["observations_only_in_base"] == {"count": 1, "listed": [{"USUBJID": "01-001", "AESEQ": 1.0}]}
    assert ds["duplicate_keys"]["base"] == {"count": 0, "listed": [], "observations": 0}
    (aval,) = ds["value_differences"]
    assert aval == {"variable": "AVAL", "type": "num", "length": None, "label": "", "differences": 1,
                    "missing_differences": 0, "max_difference": 0.5, "max_relative_difference": 0.5 / 2.25,
                    "listed": [{"key": {"USUBJID": "01-001", "AESEQ": 2.0}, "base": 2.0, "compare": 2.5,
                                "difference": 0.5}]}


def test_json_report_writes_missing_as_null():
    comp = ae_frame()
    comp.loc[3, "AVAL"] = 4.0  # base is missing there
    doc = json_report(_run(run_compare(ae_frame(), comp, by=("USUBJID", "AESEQ"))))
    listed = doc["datasets"][0]["value_differences"][0]["listed"]
    assert listed == [{"key": {"USUBJID": "01-003", "AESEQ": 1.0}, "base": None, "compare": 4.0, "difference": None}]
    json.dumps(doc, allow_nan=False)  # would raise on a NaN


# ----------------------------------------------------------------------------------------- folders

def test_folder_comparison_pairs_by_name_whatever_the_format(tmp_path):
    base_dir, comp_dir = tmp_path / "prod", tmp_path / "qc"
    base_dir.mkdir(), comp_dir.mkdir()
    write_xpt(base_dir / "ae.xpt", ae_frame())
    ae_frame().to_csv(comp_dir / "AE.csv", index=False)
    dm = pd.DataFrame({"USUBJID": ["01-001", "01-002"], "AGE": [30.0, 41.0]})
    write_xpt(base_dir / "dm.xpt", dm, name="DM", label="Demographics")
    dm.assign(AGE=[30.0, 42.0]).to_parquet(comp_dir / "dm.parquet")
    write_xpt(base_dir / "ts.xpt", pd.DataFrame({"TSPARMCD": ["X"]}), name="TS")
    write_xpt(comp_dir / "lb.xpt", pd.DataFrame({"USUBJID": ["01-001"]}), name="LB")
    (comp_dir / "readme.txt").write_text("not a dataset")

    pairing = pair_folders(base_dir, comp_dir)
    assert [(b.name, c.name) for b, c in pairing.pairs] == [("ae.xpt", "AE.csv"), ("dm.xpt", "dm.parquet")]
    assert [p.name for p in pairing.only_in_base] == ["ts.xpt"]
    assert [p.name for p in pairing.only_in_compare] == ["lb.xpt"]

    result = cli(base_dir, comp_dir, "--by", "USUBJID", "--json", tmp_path / "r.json")
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["folders"] is True
    assert {d["name"]: d["equal"] for d in doc["datasets"]} == {"AE": True, "DM": False}
    assert [p.endswith("ts.xpt") for p in doc["datasets_only_in_base"]] == [True]
    assert [p.endswith("lb.xpt") for p in doc["datasets_only_in_compare"]] == [True]
    assert "only in BASE" in result.output and "only in COMPARE" in result.output


def test_folder_with_two_files_for_one_dataset_is_an_error(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    ae_frame().to_csv(tmp_path / "a" / "ae.csv", index=False)
    ae_frame().to_parquet(tmp_path / "a" / "AE.parquet")
    with pytest.raises(InputError, match="more than one file"):
        pair_folders(tmp_path / "a", tmp_path / "b")
    assert cli(tmp_path / "a", tmp_path / "b").exit_code == 2


def test_folder_by_variable_absent_from_a_dataset_is_dropped_for_it(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    ts = pd.DataFrame({"TSPARMCD": ["AGEMIN", "AGEMAX"], "TSVAL": ["18", "65"]})
    for folder in ("a", "b"):
        write_xpt(tmp_path / folder / "ts.xpt", ts, name="TS")
    run = compare_paths(tmp_path / "a", tmp_path / "b", CompareOptions(by=("USUBJID",)))
    (ts_result,) = run.comparisons
    assert ts_result.by_position and run.equal
    assert ts_result.notes == ["BY variable USUBJID is in neither dataset: not used for this one"]


# ------------------------------------------------------------------------------------ input formats

def test_reads_parquet_and_csv(tmp_path):
    ae_frame().to_parquet(tmp_path / "ae.parquet")
    ae_frame().to_csv(tmp_path / "ae.csv", index=False)
    result = cli(tmp_path / "ae.parquet", tmp_path / "ae.csv", "--by", "USUBJID,AESEQ")
    assert result.exit_code == 0, result.output
    assert "parquet" in result.output and "csv" in result.output


def test_reads_dataset_json_11_with_attributes(tmp_path):
    write_dataset_json(tmp_path / "ae.json", ae_frame(), AE_COLUMNS)
    write_xpt(tmp_path / "ae.xpt", ae_frame(), labels={c["name"]: c["label"] for c in AE_COLUMNS})
    result = cli(tmp_path / "ae.xpt", tmp_path / "ae.json", "--by", "USUBJID,AESEQ")
    assert result.exit_code == 0, result.output

    relabelled = [dict(c, label="Term") if c["name"] == "AETERM" else c for c in AE_COLUMNS]
    write_dataset_json(tmp_path / "ae.json", ae_frame(), relabelled)
    result = cli(tmp_path / "ae.xpt", tmp_path / "ae.json", "--by", "USUBJID,AESEQ")
    assert result.exit_code == 1 and "Reported Term" in result.output


def test_dataset_json_dates_compare_with_sas_dates(tmp_path):
    sas = pd.DataFrame({"USUBJID": ["01-001", "01-002"], "TRTSDT": [22000.0, np.nan], "TRTSDTM": [1.9e9, 0.0]})
    write_xpt(tmp_path / "adsl.xpt", sas, name="ADSL", label="", formats={"TRTSDT": "DATE9.", "TRTSDTM": "DATETIME20."})
    iso = pd.DataFrame({"USUBJID": ["01-001", "01-002"], "TRTSDT": ["2020-03-26", None],
                        "TRTSDTM": ["2020-03-16T17:46:40", "1960-01-01T00:00:00"]})
    columns = [{"itemOID": "IT.USUBJID", "name": "USUBJID", "label": "", "dataType": "string"},
               {"itemOID": "IT.TRTSDT", "name": "TRTSDT", "label": "", "dataType": "date",
                "targetDataType": "integer", "displayFormat": "DATE9."},
               {"itemOID": "IT.TRTSDTM", "name": "TRTSDTM", "label": "", "dataType": "datetime",
                "targetDataType": "integer", "displayFormat": "DATETIME20."}]
    write_dataset_json(tmp_path / "adsl.json", iso, columns, name="ADSL", label="")
    df, m = read_dataset(tmp_path / "adsl.json", as_text=True)
    assert m.variables["TRTSDT"].type == "num" and df["TRTSDT"].iloc[0] == 22000.0
    result = cli(tmp_path / "adsl.xpt", tmp_path / "adsl.json", "--by", "USUBJID")
    assert result.exit_code == 0, result.output


def test_reads_dataset_json_ndjson(tmp_path):
    lines = [json.dumps({"datasetJSONVersion": "1.1.0", "name": "AE", "label": "Adverse Events",
                         "columns": AE_COLUMNS})]
    lines += [json.dumps([None if isinstance(v, float) and np.isnan(v) else v for v in row])
              for row in ae_frame().astype(object).itertuples(index=False, name=None)]
    (tmp_path / "ae.ndjson").write_text("\n".join(lines) + "\n")
    write_dataset_json(tmp_path / "ae.json", ae_frame(), AE_COLUMNS)
    assert cli(tmp_path / "ae.json", tmp_path / "ae.ndjson", "--by", "USUBJID,AESEQ").exit_code == 0


def test_reads_sas7bdat_through_pyreadstat(tmp_path, monkeypatch):
    # pyreadstat cannot write SAS7BDAT and no sample file ships with the packages we use, so the reader
    # is fed an XPT through read_sas7bdat: this checks the dispatch and the attributes, not the decoder.
    write_xpt(tmp_path / "ae.xpt", ae_frame(), labels={"AVAL": "Analysis Value"}, formats={"AVAL": "8.2"})
    (tmp_path / "ae.sas7bdat").write_bytes(b"")
    monkeypatch.setattr(pyreadstat, "read_sas7bdat",
                        lambda path, **kw: pyreadstat.read_xport(str(tmp_path / "ae.xpt"), **kw))
    df, m = read_dataset(tmp_path / "ae.sas7bdat", as_text=True)
    assert m.format == "sas7bdat" and m.variables["AVAL"].format == "8.2" and len(df) == 5
    result = cli(tmp_path / "ae.sas7bdat", tmp_path / "ae.xpt", "--by", "USUBJID,AESEQ")
    assert result.exit_code == 0, result.output


def test_sas_format_is_written_as_sas_prints_it():
    assert [sas_format(f) for f in ("DATE9", "date9.", "8.2", "$CHAR20", "", None)] == \
        ["DATE9.", "DATE9.", "8.2", "$CHAR20.", "", ""]


# ---------------------------------------------------------------------------------------- helpers

def _run(result):
    from submit.qc.compare import ComparisonRun

    return ComparisonRun("base", "compare", result.options, [result])
