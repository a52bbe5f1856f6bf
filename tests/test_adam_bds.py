"""The BDS derivations (submit/adam/derive/bds.py) on tiny frames, expected values by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from submit.adam.context import AdamContext
from submit.adam.derive import bds
from submit.adam.derive.pk import derive_var_cases
from submit.errors import InputError

CTX = AdamContext(sdtm={}, study=None, dataset="ADXX")
D = pd.Timestamp


def test_lookup_merges_the_spec_table_and_refuses_unmatched_values_when_asked():
    df = pd.DataFrame({"TESTCD": ["SYS", "K", None]})
    table = [{"TESTCD": "SYS", "PARAMCD": "SYSBP", "PARAMN": 1}, {"TESTCD": "K", "PARAMCD": "POTAS", "PARAMN": 2}]
    out = bds.derive_vars_merged_lookup(df, CTX, by=["TESTCD"], table=table)
    assert out["PARAMCD"].tolist()[:2] == ["SYSBP", "POTAS"] and pd.isna(out["PARAMCD"][2])
    assert out["PARAMN"].tolist()[:2] == [1, 2]
    with pytest.raises(InputError, match="no row for"):
        bds.derive_vars_merged_lookup(df.iloc[:2].assign(TESTCD=["SYS", "X"]), CTX, by=["TESTCD"], table=table,
                                      unmatched="error")
    with pytest.raises(InputError, match="lack some"):
        bds.derive_vars_merged_lookup(df, CTX, by=["TESTCD"], table=[{"TESTCD": "A", "P": 1}, {"TESTCD": "B"}])


def _vitals():
    return pd.DataFrame({
        "USUBJID": ["A"] * 6 + ["B"] * 2,
        "VISIT": ["V1", "V1", "V1", "V2", "V2", "SCR", "V1", "V1"],
        "PARAMCD": ["SYSBP", "DIABP", "WEIGHT", "SYSBP", "WEIGHT", "HEIGHT", "SYSBP", "DIABP"],
        "AVAL": [120, 90, 80, 130, 90, 200, 110, np.nan],
        "STAT": [None] * 8,
    })


def test_mean_arterial_pressure_needs_both_pressures_at_the_time_point():
    out = bds.derive_param_computed(_vitals(), CTX, kind="mean_arterial_pressure",
                                    inputs={"systolic": "SYSBP", "diastolic": "DIABP"}, by=["USUBJID", "VISIT"],
                                    set_values={"PARAMCD": "MAP"})
    new = out[out.PARAMCD == "MAP"]
    assert new[["USUBJID", "VISIT"]].values.tolist() == [["A", "V1"]]  # A/V2 has no DIABP, B's DIABP is missing
    assert new["AVAL"].iloc[0] == pytest.approx(100.0)  # (120 + 2 x 90) / 3
    assert new["STAT"].isna().all()  # only the by variables are set


def test_bmi_and_bsa_take_a_height_measured_once():
    common = dict(inputs={"weight": "WEIGHT", "height": "HEIGHT"}, by=["USUBJID", "VISIT"], constant=["height"],
                  constant_by=["USUBJID"])
    bmi = bds.derive_param_computed(_vitals(), CTX, kind="bmi", set_values={"PARAMCD": "BMI"}, **common)
    assert bmi[bmi.PARAMCD == "BMI"]["AVAL"].tolist() == pytest.approx([20.0, 22.5])  # 80 / 2^2, 90 / 2^2
    bsa = bds.derive_param_computed(_vitals(), CTX, kind="bsa_mosteller", set_values={"PARAMCD": "BSA"}, **common)
    assert bsa[bsa.PARAMCD == "BSA"]["AVAL"].tolist() == pytest.approx([math.sqrt(200 * 80 / 3600),
                                                                        math.sqrt(200 * 90 / 3600)])
    with pytest.raises(InputError, match="takes the roles"):
        bds.derive_param_computed(_vitals(), CTX, kind="bmi", inputs={"weight": "WEIGHT"}, by=["USUBJID"],
                                  set_values={"PARAMCD": "BMI"})
    with pytest.raises(InputError, match="must be one of"):
        bds.derive_param_computed(_vitals(), CTX, kind="eval", inputs={}, by=["USUBJID"], set_values={})


def test_computed_parameter_skips_groups_that_already_have_it():
    df = pd.DataFrame({"USUBJID": ["A", "A", "A", "A", "A"], "VISIT": ["V1", "V1", "V2", "V2", "V2"],
                       "PARAMCD": ["WBC", "LYMLE", "WBC", "LYMLE", "LYM"], "AVAL": [5.0, 0.2, 4.0, 0.25, 1.1]})
    out = bds.derive_param_computed(df, CTX, kind="fraction_of", inputs={"total": "WBC", "fraction": "LYMLE"},
                                    by=["USUBJID", "VISIT"], set_values={"PARAMCD": "LYM", "DTYPE": "CALCULATION"},
                                    skip_existing=True)
    new = out[out.DTYPE == "CALCULATION"]
    assert new[["VISIT", "AVAL"]].values.tolist() == [["V1", 1.0]]  # 5 x 0.2; V2 reported LYM itself


def test_computed_parameter_refuses_an_input_given_twice_in_a_group():
    df = pd.DataFrame({"USUBJID": ["A"] * 3, "PARAMCD": ["SYSBP", "SYSBP", "DIABP"], "AVAL": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="several records"):
        bds.derive_param_computed(df, CTX, kind="mean_arterial_pressure", by=["USUBJID"], set_values={},
                                  inputs={"systolic": "SYSBP", "diastolic": "DIABP"})


def test_summary_records_average_each_group_missing_visits_included():
    df = pd.DataFrame({"USUBJID": ["A", "A", "A", "A"], "AVISIT": ["W1", "W1", None, None],
                       "AVAL": [1.0, 2.0, 4.0, np.nan]})
    out = bds.derive_summary_records(df, CTX, by=["USUBJID", "AVISIT"], set_values={"DTYPE": "AVERAGE"})
    new = out[out.DTYPE == "AVERAGE"]
    assert new["AVAL"].tolist() == [1.5, 4.0] and new["AVISIT"].isna().tolist() == [False, True]
    with pytest.raises(InputError, match="function"):
        bds.derive_summary_records(df, CTX, by=["USUBJID"], set_values={}, function="mode")


def test_extreme_records_copy_the_chosen_record_descending_order_and_missing_last():
    df = pd.DataFrame({"USUBJID": ["A"] * 3 + ["B"], "AVAL": [3.0, 7.0, 7.0, np.nan],
                       "ADT": [D("2020-01-01"), D("2020-01-03"), D("2020-01-02"), D("2020-01-01")], "ONTRTFL": "Y"})
    out = bds.derive_extreme_records(df, CTX, by=["USUBJID"], order=[{"desc": "AVAL"}, "ADT"], mode="first",
                                     set_values={"DTYPE": "MAXIMUM", "AVISITN": 9998})
    new = out[out.DTYPE == "MAXIMUM"]
    # A: the highest value, of two equal ones the earlier; B: its only record, its value missing
    assert new[["USUBJID", "ADT"]].values.tolist() == [["A", D("2020-01-02")], ["B", D("2020-01-01")]]
    assert new["AVAL"].fillna(-1).tolist() == [7.0, -1]
    assert len(out) == 6 and (new["ONTRTFL"] == "Y").all()


def test_ontrtfl_from_the_first_dose_day_to_the_end_with_the_window():
    df = pd.DataFrame({
        "ADT": [D("2020-01-01"), D("2020-01-01"), D("2020-01-05"), D("2020-01-12"), D("2020-01-13"), pd.NaT,
                D("2019-12-31")],
        "AVISIT": ["Baseline", "Week 0", None, None, None, None, None],
        "TRTSDT": D("2020-01-01"), "TRTEDT": D("2020-01-10")})
    out = bds.derive_var_ontrtfl(df, CTX, start="ADT", ref_start="TRTSDT", ref_end="TRTEDT", ref_end_window=2,
                                 filter_pre_timepoint={"AVISIT": "Baseline"})
    assert out["ONTRTFL"].fillna("-").tolist() == ["-", "Y", "Y", "Y", "-", "Y", "-"]
    with pytest.raises(InputError, match="ref_end_window"):
        bds.derive_var_ontrtfl(df, CTX, start="ADT", ref_start="TRTSDT", ref_end_window=-1)


def test_anrind_with_and_without_the_extreme_limits():
    df = pd.DataFrame({"AVAL": [5, 1, 12, 30, 0.5, 5, 5, np.nan], "ANRLO": [2, 2, 2, 2, 2, np.nan, 6, 2],
                       "ANRHI": [10, 10, 10, 10, 10, 10, np.nan, 10], "A1LO": 1, "A1HI": 20})
    assert bds.derive_var_anrind(df, CTX)["ANRIND"].fillna("-").tolist() == [
        "NORMAL", "LOW", "HIGH", "HIGH", "LOW", "NORMAL", "LOW", "-"]
    assert bds.derive_var_anrind(df, CTX, low_low="A1LO", high_high="A1HI")["ANRIND"].tolist()[3:5] == [
        "HIGH HIGH", "LOW LOW"]


def test_basetype_records_repeat_a_record_meeting_several_types():
    df = pd.DataFrame({"ATPTN": [815, np.nan, 999]})
    out = bds.derive_basetype_records(df, CTX, basetypes={"LAST: SUPINE": {"ATPTN": 815},
                                                          "LAST": {"any": [{"ATPTN": 815}, {"ATPTN": {"present": False}}]}})
    assert out.fillna({"ATPTN": -1, "BASETYPE": "-"}).values.tolist() == [
        [815, "LAST: SUPINE"], [815, "LAST"], [-1, "LAST"], [999, "-"]]


def test_base_chg_pchg_and_shift():
    df = pd.DataFrame({"USUBJID": ["A"] * 4 + ["B"] * 2, "AVISITN": [-1, 0, 2, 4, 0, 2],
                       "AVAL": [9.0, 10.0, 12.0, 5.0, 0.0, 3.0], "ABLFL": [None, "Y", None, None, "Y", None],
                       "ANRIND": ["LOW", "NORMAL", "HIGH", None, None, "HIGH"]})
    out = bds.derive_var_base(df, CTX, by=["USUBJID"])
    out = bds.derive_var_base(out, CTX, by=["USUBJID"], source="ANRIND", new="BNRIND")
    out = bds.derive_var_chg(out, CTX, filter={"AVISITN": {"gt": 0}})
    out = bds.derive_var_pchg(out, CTX, filter={"AVISITN": {"gt": 0}})
    out = bds.derive_var_shift(out, CTX, source="BNRIND", to="ANRIND", new="SHIFT1")
    out = bds.derive_var_analysis_ratio(out, CTX, numerator="AVAL", denominator="BASE")
    assert out["BASE"].tolist() == [10, 10, 10, 10, 0, 0]
    assert out["CHG"].fillna(-99).tolist() == [-99, -99, 2, -5, -99, 3]
    assert out["PCHG"].fillna(-99).tolist() == [-99, -99, 20, -50, -99, -99]  # no percentage of a 0 baseline
    assert out["SHIFT1"].tolist() == ["NORMAL to LOW", "NORMAL to NORMAL", "NORMAL to HIGH", "NORMAL to NULL",
                                      "NULL to NULL", "NULL to HIGH"]
    assert out["R2BASE"].fillna(-99).tolist() == [0.9, 1.0, 1.2, 0.5, -99, -99]
    with pytest.raises(InputError, match="several records"):
        bds.derive_var_base(df.assign(ABLFL="Y"), CTX, by=["USUBJID"])


def test_criterion_flags():
    df = pd.DataFrame({"PARAMCD": ["ALT", "ALT", "ALT", "AST"], "AVAL": [100.0, 20.0, np.nan, 500.0], "ANRHI": 40.0})
    df = bds.derive_var_analysis_ratio(df, CTX, numerator="AVAL", denominator="ANRHI", new="R2")
    out = bds.derive_vars_crit_flag(df, CTX, crit="CRIT1", description="ALT > 2 x ULN", flag="CRIT1FL",
                                    numeric="CRIT1FN", values_yn=True, condition={"R2": {"gt": 2}},
                                    filter={"PARAMCD": "ALT"})
    assert out["CRIT1"].fillna("-").tolist() == ["ALT > 2 x ULN"] * 3 + ["-"]
    assert out["CRIT1FL"].fillna("-").tolist() == ["Y", "N", "-", "-"]
    assert out["CRIT1FN"].fillna(-1).tolist() == [1, 0, -1, -1]


def test_cases_take_another_variable_as_value():
    df = pd.DataFrame({"AVISIT": ["Baseline", "Week 2"], "VISITNUM": [1.0, 4.0]})
    out = derive_var_cases(df, CTX, new="AVISITN", cases=[{"filter": {"AVISIT": "Baseline"}, "value": 0},
                                                         {"filter": {}, "value": {"var": "VISITNUM"}}])
    assert out["AVISITN"].tolist() == [0, 4.0]
