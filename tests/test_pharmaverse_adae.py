"""ADAE of the pharmaverse study against admiral's (pharmaverseadam), record by record, and the
derivations it brought (datetime imputation to a level, admiral's treatment-emergent rule, the
last dose before an event) each on tiny frames with values worked out by hand from the rule."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from submit.adam.context import AdamContext
from submit.adam.derive.dates import impute_dtc_dtm, study_day
from submit.adam.registry import DERIVATIONS, ArgumentError

from pharmaverse import assert_matches, reference

T = pd.Timestamp
KEYS = ["USUBJID", "AESEQ"]
# Reference variables we do not derive, each with its reason (none: every variable is built).
NOT_DERIVED: dict[str, str] = {}


def test_adae_matches_admiral(pharmaverse_adam):
    ours, ref = pharmaverse_adam["ADAE"], reference("ADAE")
    assert len(ours) == len(ref) == 1191
    assert_matches(ours, ref, KEYS, NOT_DERIVED)


def run(name, df, ctx=None, **params) -> pd.DataFrame:
    return DERIVATIONS[name](df, ctx or AdamContext(sdtm={}, study=None, dataset="ADAE"), **params)


def listed(col: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in col]


# --- datetime imputation --------------------------------------------------------------------------
def test_impute_to_the_level_asked():
    dtc = pd.Series(["2014", "2014-02", "2014-02-03", "2014-02-03T10:15", "2014-02-03T10:15:20", None, "2014-02-30"])
    first, dtf, tmf = impute_dtc_dtm(dtc, "M", ignore_seconds_flag=True)
    assert listed(first) == [T("2014-01-01"), T("2014-02-01"), T("2014-02-03"), T("2014-02-03 10:15"),
                             T("2014-02-03 10:15:20"), None, None]
    assert listed(dtf) == ["M", "D", None, None, None, None, None]
    assert listed(tmf) == ["H", "H", "H", None, None, None, None]  # seconds alone are not flagged by default
    last, _, _ = impute_dtc_dtm(dtc, "M", "last", "last")
    assert listed(last)[:4] == [T("2014-12-31 23:59:59"), T("2014-02-28 23:59:59"), T("2014-02-03 23:59:59"),
                                T("2014-02-03 10:15:59")]
    assert listed(impute_dtc_dtm(dtc, "D")[0])[:2] == [None, T("2014-02-01")]  # a missing month is above D
    assert listed(impute_dtc_dtm(dtc, "h")[0])[1:3] == [None, T("2014-02-03")]
    assert listed(impute_dtc_dtm(dtc, "n")[0])[3:5] == [None, T("2014-02-03 10:15:20")]
    assert listed(impute_dtc_dtm(dtc, "M", ignore_seconds_flag=False)[2])[3] == "S"


def test_imputation_moved_within_the_partial_range_by_min_and_max_dates():
    df = pd.DataFrame({"DTC": ["2014-03", "2014-03", "2014-03-05", "2014", "2014-03"],
                       "TRTSDT": [T("2014-03-10"), T("2014-04-02"), T("2014-03-10"), T("2014-07-01"), pd.NaT],
                       "DTHDT": [T("2014-03-20"), pd.NaT, pd.NaT, T("2015-01-01"), T("2014-03-20")]})
    start = run("derive_vars_dtm", df, source="DTC", new="STM", date="SDT", date_flag="SDTF", time_flag="STMF",
                highest="M", min_dates=["TRTSDT"])
    # TRTSDT inside the month moves the first day up to it; outside the range (April) or against a
    # complete date nothing moves.
    assert listed(start.STM) == [T("2014-03-10"), T("2014-03-01"), T("2014-03-05"), T("2014-07-01"), T("2014-03-01")]
    assert listed(start.SDTF) == ["D", "D", None, "M", "D"]
    assert listed(start.STMF) == ["H"] * 5
    end = run("derive_vars_dtm", df, source="DTC", new="ETM", highest="M", date_imputation="last",
              time_imputation="last", max_dates=["DTHDT"])
    # a date bound caps at the end of its day
    assert listed(end.ETM) == [T("2014-03-20 23:59:59"), T("2014-03-31 23:59:59"), T("2014-03-05 23:59:59"),
                               T("2014-12-31 23:59:59"), T("2014-03-20 23:59:59")]
    with pytest.raises(ArgumentError, match="highest"):
        run("derive_vars_dtm", df, source="DTC", new="X", highest="Y")
    with pytest.raises(ArgumentError, match="min_dates"):
        run("derive_vars_dtm", df, source="DTC", new="X", min_dates=["NOPE"])


def test_study_day_takes_python_dates():
    days = study_day(pd.Series([date(2014, 1, 1), date(2014, 1, 2), date(2013, 12, 31)]), pd.Series([T("2014-01-02")] * 3))
    assert days.tolist() == [-1, 1, -2]


# --- treatment emergence ------------------------------------------------------------------------------
def test_trtemfl_rules_in_order():
    trt_start, trt_end = T("2014-01-10"), T("2014-03-01")
    df = pd.DataFrame({
        "ASTDT": [T("2014-01-10"), T("2014-03-31"), T("2014-04-01"), T("2014-01-05"), pd.NaT, pd.NaT, T("2014-02-01"),
                  T("2014-01-05"), T("2014-01-05")],
        "AENDT": [pd.NaT, pd.NaT, pd.NaT, T("2014-01-20"), T("2014-01-09"), pd.NaT, pd.NaT, T("2014-01-09"), pd.NaT],
        "TRTSDT": [trt_start] * 5 + [trt_start, pd.NaT, trt_start, trt_start],
        "TRTEDT": [trt_end] * 9,
        "INIT": [1, 1, 1, 1, 1, 1, 1, 1, 2], "GRADE": [1, 1, 1, 1, 1, 1, 1, 3, 3]})
    args = dict(start_date="ASTDT", end_date="AENDT", trt_start_date="TRTSDT", trt_end_date="TRTEDT", end_window=30)
    out = run("derive_var_trtemfl", df, **args)
    # on day 1; 30 days after the last dose; 31 days; before treatment (through it, same grade); no
    # start but ended before treatment; no start; never treated; worse but ended before treatment;
    # before treatment, ongoing and worse (only counted when intensities are given)
    assert listed(out.TRTEMFL) == ["Y", "Y", None, None, None, "Y", None, None, None]
    worse = run("derive_var_trtemfl", df, initial_intensity="INIT", intensity="GRADE", **args)
    assert listed(worse.TRTEMFL) == ["Y", "Y", None, None, None, "Y", None, None, "Y"]
    unlimited = run("derive_var_trtemfl", df, start_date="ASTDT", end_date="AENDT", trt_start_date="TRTSDT")
    assert listed(unlimited.TRTEMFL)[2] == "Y"
    with pytest.raises(ArgumentError, match="trt_end_date"):
        run("derive_var_trtemfl", df, start_date="ASTDT", end_date="AENDT", trt_start_date="TRTSDT", end_window=3)
    with pytest.raises(ArgumentError, match="end_window"):
        run("derive_var_trtemfl", df, **{**args, "end_window": -1})


# --- doses around an event ------------------------------------------------------------------------------
def dose_ctx(rows) -> AdamContext:
    ex = pd.DataFrame(rows, columns=["USUBJID", "EXTRT", "EXDOSE", "EXDOSU", "EXDOSFRQ", "EXSTDTC", "EXENDTC"])
    return AdamContext(sdtm={"EX": ex}, study=None, dataset="ADAE")


def test_last_dose_and_dose_on_the_day_of_onset():
    ctx = dose_ctx([("A", "DRUG", 54, "mg", "QD", "2014-01-01", "2014-01-10"),
                    ("A", "DRUG", 81, "mg", "QD", "2014-01-11", None),
                    ("B", "DRUG", 10, "mg", "Q2W", "2014-01-01", "2014-02-20"),
                    ("C", "PLACEBO", 0, "mg", "QD", "2014-01-01", "2014-01-05"),
                    ("C", "DRUG", 0, "mg", "QD", "2014-01-06", "2014-01-09")])
    events = pd.DataFrame({"USUBJID": ["A", "A", "A", "A", "B", "B", "C", "C"],
                           "ASTDTM": [T("2013-12-31"), T("2014-01-05 08:00"), T("2014-01-20"), pd.NaT,
                                      T("2014-01-20"), T("2014-03-01"), T("2014-01-08"), T("2014-01-03")]})
    given = {"any": [{"EXDOSE": {"gt": 0}}, {"all": [{"EXDOSE": 0}, {"EXTRT": {"contains": "PLACEBO"}}]}]}
    last = run("derive_vars_last_dose", events, ctx, date="ASTDTM", dose_datetime="LDOSEDTM",
               new_vars={"LDOSE": "EXDOSE"}, filter=given)
    # before the first dose: none; daily: that day's dose; A's open-ended record is not read, so
    # after 01-10 the last dose is 01-10; every 14 days from 01-01: 01-15, and 02-12 the last before
    # the end 02-20; C's zero doses count only for placebo
    assert listed(last.LDOSEDTM) == [None, T("2014-01-05"), T("2014-01-10"), None, T("2014-01-15"), T("2014-02-12"),
                                     T("2014-01-05"), T("2014-01-03")]
    assert listed(last.LDOSE) == [None, 54, 54, None, 10, 10, 0, 0]
    on = run("derive_vars_last_dose", events, ctx, date="ASTDTM", same_day=True, ongoing=True,
             new_vars={"DOSEON": "EXDOSE", "DOSEU": "EXDOSU"}, filter=given)
    # the open-ended 81 mg record doses on 01-20; no dose of B on 01-20 (01-15, 01-29) nor after its end
    assert listed(on.DOSEON) == [None, 54, 81, None, None, None, None, 0]
    assert listed(on.DOSEU) == [None, "mg", "mg", None, None, None, None, "mg"]


def test_last_dose_refuses_unknown_frequencies_and_empty_requests():
    ctx = dose_ctx([("A", "DRUG", 1, "mg", "EVERY FULL MOON", "2014-01-01", "2014-01-10")])
    events = pd.DataFrame({"USUBJID": ["A"], "ASTDTM": [T("2014-01-02")]})
    with pytest.raises(ArgumentError, match="EVERY FULL MOON"):
        run("derive_vars_last_dose", events, ctx, date="ASTDTM", dose_datetime="LDOSEDTM")
    with pytest.raises(ArgumentError, match="new_vars"):
        run("derive_vars_last_dose", events, ctx, date="ASTDTM")
    with pytest.raises(ArgumentError, match="new_vars"):
        run("derive_vars_last_dose", events, dose_ctx([]), date="ASTDTM", new_vars={"X": "NOPE"})
