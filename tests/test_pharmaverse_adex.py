"""ADEX of the pharmaverse study against admiral's (pharmaverseadam), record by record, and the
derivations of computed values it brought, each on tiny frames with values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from submit.adam.context import AdamContext
from submit.adam.registry import DERIVATIONS, ArgumentError

from pharmaverse import differences, reference

T = pd.Timestamp
KEYS = ["USUBJID", "ASEQ"]
# Reference variables we do not derive, each with its reason (none: every variable is built).
NOT_DERIVED: dict[str, str] = {}
# admiral's template invents dose adjustments its EX does not hold: EXADJ "ADVERSE EVENT" with
# EXDOSE 0 on two records of 01-701-1034 (WEEK 2, WEEK 24) and "MEDICATION ERROR" with EXDOSE 0 on
# one of 01-701-1148 (WEEK 24). We derive from the SDTM as given, so these records differ, and the
# subjects' totals built from them: variable -> records differing.
INVENTED = ("01-701-1034", "01-701-1148")
KNOWN_DIFFERENCES = {
    "EXDOSE": 15,  # the 3 records x 5 parameters
    "EXADJ": 15,
    "DOSEO": 15,
    "AVAL": 15,  # DOSE x3, TDOSE, AVDDSE, TDOSINT, PDOSE, PAVDDSE, PDOSINT x2 subjects
    "AVALC": 11,  # ADJ x3, ADJAE x2, TADJ, PADJ x2 subjects, TADJAE and PADJAE of 01-701-1034
    "AVALCAT1": 1,  # PDOSE of 01-701-1034: < 100 mg with the invented zero doses
}


def test_adex_matches_admiral(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADEX"], reference("ADEX")
    assert sorted(set(ref.columns) - set(ours.columns)) == sorted(NOT_DERIVED)
    assert len(ours) == len(ref) == 6315
    diff = differences(ours, ref, KEYS)
    assert diff["_records_only_in_ours"] == diff["_records_only_in_ref"] == 0
    assert {k: n for k, n in diff.items() if n} == KNOWN_DIFFERENCES
    # and every one of them is on the two subjects whose data the template changed
    others = differences(ours[~ours.USUBJID.isin(INVENTED)], ref[~ref.USUBJID.isin(INVENTED)], KEYS)
    assert {k: n for k, n in others.items() if n} == {}


def run(name, df, **params) -> pd.DataFrame:
    return DERIVATIONS[name](df, AdamContext(sdtm={}, study=None, dataset="ADEX"), **params)


def listed(col: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in col]


def test_dose_times_duration():
    df = pd.DataFrame({"EXDOSE": [54, 0, 81], "EXDURD": [15, 10, np.nan]})
    out = run("derive_var_arithmetic", df, new="DOSEO", left={"var": "EXDOSE"}, op="multiply", right={"var": "EXDURD"})
    assert listed(out.DOSEO) == [810, 0, None]


def test_one_parameter_per_variable_of_each_record():
    df = pd.DataFrame({"USUBJID": ["A", "B"], "DUR": [15, 3], "WHY": [None, "ADVERSE EVENT"]})
    out = run("derive_params_from_vars", df, params={"DURD": {"AVAL": "DUR"}, "ADJ": {"AVALC": "WHY"}},
              set_values={"PARCAT1": "INDIVIDUAL"})
    assert out[["USUBJID", "PARAMCD"]].values.tolist() == [["A", "DURD"], ["A", "ADJ"], ["B", "DURD"], ["B", "ADJ"]]
    assert listed(out.AVAL) == [15, None, 3, None]
    assert listed(out.AVALC) == [None, None, None, "ADVERSE EVENT"]
    assert set(out.PARCAT1) == {"INDIVIDUAL"}
    with pytest.raises(ArgumentError, match="params"):
        run("derive_params_from_vars", df, params={"DURD": {"AVAL": "DUR", "AVALC": "WHY"}})


def test_summary_of_a_parameter_per_group():
    df = pd.DataFrame({"USUBJID": ["A", "A", "A", "B", "A", "B"],
                       "PARAMCD": ["DOSE", "DOSE", "DOSE", "DOSE", "ADJ", "ADJ"],
                       "VISIT": ["W0", "W2", "W24", "W0", "W2", "W0"],
                       "AVAL": [810, 8370, np.nan, np.nan, np.nan, np.nan], "AVALC": [None, None, None, None, "Y", None],
                       "ASTDTM": [T("2014-01-02"), T("2014-01-17"), T("2014-06-19"), T("2014-02-01"), T("2014-01-17"),
                                  T("2014-02-01")],
                       "AENDTM": [T("2014-01-16"), T("2014-06-18"), pd.NaT, pd.NaT, T("2014-06-18"), pd.NaT]})
    out = run("derive_param_summary", df, source="DOSE", new="TDOSE", by=["USUBJID"], function="sum",
              first=["ASTDTM"], last={"AENDTM": "ASTDTM"}, set_values={"PARCAT1": "OVERALL"})
    new = out[out.PARAMCD == "TDOSE"]
    # A: 810 + 8370, the open W24 record left out of the sum and of the end; B: nothing known sums
    # to 0 and, never ended, ends at its start
    assert listed(new.AVAL) == [9180, 0]
    assert listed(new.ASTDTM) == [T("2014-01-02"), T("2014-02-01")]
    assert listed(new.AENDTM) == [T("2014-06-18"), T("2014-02-01")]
    assert set(new.PARCAT1) == {"OVERALL"} and len(out) == len(df) + 2
    weeks = run("derive_param_summary", df, source="DOSE", new="PDOSE", by=["USUBJID"], function="sum",
                filter={"VISIT": ["W2", "W24"]})
    assert listed(weeks[weeks.PARAMCD == "PDOSE"].AVAL) == [8370]
    flags = run("derive_param_summary", df, source="ADJ", new="TADJ", by=["USUBJID"], function="any", value="AVALC")
    assert listed(flags[flags.PARAMCD == "TADJ"].AVALC) == ["Y", None]
    count = run("derive_param_summary", df, source="DOSE", new="N", by=["USUBJID"], function="count")
    assert listed(count[count.PARAMCD == "N"].AVAL) == [2, 0]
    with pytest.raises(ArgumentError, match="function"):
        run("derive_param_summary", df, source="DOSE", new="X", by=["USUBJID"], function="median")


def test_ratio_of_two_parameters():
    df = pd.DataFrame({"USUBJID": ["A", "A", "B", "B", "C"], "PARAMCD": ["TDOSE", "TPDOSE"] * 2 + ["TDOSE"],
                       "AVAL": [810, 9882, 0, 0, 5]})
    out = run("derive_param_ratio", df, numerator="TDOSE", denominator="TPDOSE", new="TDOSINT", by=["USUBJID"],
              factor=100, set_values={"PARCAT1": "OVERALL"})
    new = out[out.PARAMCD == "TDOSINT"]
    # A: 100 x 810 / 9882; B: zero planned dose gives no intensity; C has no planned dose record
    assert new.USUBJID.tolist() == ["A", "B"]
    assert new.AVAL.iloc[0] == pytest.approx(8.196721, abs=1e-6) and pd.isna(new.AVAL.iloc[1])
    with pytest.raises(ArgumentError, match="by"):
        run("derive_param_ratio", pd.concat([df, df]), numerator="TDOSE", denominator="TPDOSE", new="X",
            by=["USUBJID"])
