"""The dose and value derivations of ADPC on tiny frames, expected values written from the rules:
single doses expanded from EX by frequency, the previous / next dose by actual and nominal time,
nominal times from time point texts, and the generic value derivations (values.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from submit.adam.context import AdamContext
from submit.adam.derive.doses import single_doses, timepoint_hours
from submit.adam.derive.values import significant_text
from submit.adam.registry import DERIVATIONS, ArgumentError

T = pd.Timestamp

EX = pd.DataFrame({"USUBJID": ["A", "A", "B"], "EXSEQ": [1, 2, 1], "EXDOSE": [54.0, 54.0, 10.0],
                   "EXDOSFRQ": ["QD", "QD", "BID"], "EXSTDTC": ["2014-01-02", "2014-01-05", "2014-03-01T08:00"],
                   "EXENDTC": ["2014-01-04", None, "2014-03-02T08:00"], "VISITDY": [1, 4, 1]})
DOSES = {"frequency": "EXDOSFRQ", "start": "EXSTDTC", "end": "EXENDTC", "nominal_day": "VISITDY"}


def ctx(ex=EX, **adam):
    return AdamContext(sdtm={"EX": ex}, study=None, adam=adam, dataset="ADPC")


def run(name, df, c=None, **params):
    return DERIVATIONS[name](df, c or ctx(), **params)


def test_single_doses_by_frequency():
    doses = single_doses(ctx(), DOSES, "t")
    a = doses[doses["USUBJID"] == "A"]
    # QD from Jan 2 through the whole day of Jan 4: 3 doses; no end date: one dose.
    assert a["_DOSETM"].tolist() == [T("2014-01-02"), T("2014-01-03"), T("2014-01-04"), T("2014-01-05")]
    assert a["_DOSENOM"].tolist() == [0.0, 24.0, 48.0, 72.0]
    b = doses[doses["USUBJID"] == "B"]
    # BID every 12 h from 08:00 up to the end time (inclusive).
    assert b["_DOSETM"].tolist() == [T("2014-03-01 08:00"), T("2014-03-01 20:00"), T("2014-03-02 08:00")]


def test_unknown_frequency_is_refused_with_its_term():
    ex = EX.assign(EXDOSFRQ=["QD", "SOMETIMES", "BID"])
    with pytest.raises(ArgumentError, match="SOMETIMES"):
        single_doses(ctx(ex), DOSES, "t")
    extra = single_doses(ctx(ex), {**DOSES, "frequencies": {"SOMETIMES": 24}}, "t")
    assert len(extra) == 7


def test_adjacent_dose_previous_strictly_before_next_at_or_after():
    df = pd.DataFrame({"USUBJID": ["A", "A", "A"], "ADTM": [T("2014-01-01 23:30"), T("2014-01-03"), T("2014-01-03 06:00")],
                       "NFRLT": [0.0, 24.0, 30.0]})
    out = run("derive_vars_adjacent_dose", df, doses=DOSES, direction="previous", new_vars={"P": "time", "PD": "EXSEQ"})
    out = run("derive_vars_adjacent_dose", out, doses=DOSES, direction="next", new_vars={"N": "time"})
    assert out["P"].tolist()[1:] == [T("2014-01-02"), T("2014-01-03")] and pd.isna(out["P"].iloc[0])
    assert out["N"].tolist() == [T("2014-01-02"), T("2014-01-03"), T("2014-01-04")]
    assert out["PD"].tolist()[1:] == [1, 1]
    nom = run("derive_vars_adjacent_dose", df, doses=DOSES, direction="previous", compare="nominal", time="NFRLT",
              new_vars={"NP": "nominal"})
    assert np.isnan(nom["NP"].iloc[0]) and nom["NP"].tolist()[1:] == [0.0, 24.0]


def test_dose_records_up_to_the_last_sample_date():
    df = pd.DataFrame({"USUBJID": ["A", "A"], "ADT": [T("2014-01-02"), T("2014-01-03")], "PARAMCD": ["X", "X"]})
    out = run("derive_param_doses", df, doses=DOSES, not_after="ADT",
              new_vars={"USUBJID": "USUBJID", "ADTM": "time", "NFRLT": "nominal", "AVAL": "EXDOSE"},
              set_values={"PARAMCD": "DOSE"})
    dose = out[out["PARAMCD"] == "DOSE"]
    assert dose["ADTM"].tolist() == [T("2014-01-02"), T("2014-01-03")]  # not Jan 4 or 5; not subject B
    assert dose["NFRLT"].tolist() == [0.0, 24.0] and dose["AVAL"].tolist() == [54.0, 54.0]


def test_timepoint_hours():
    text = pd.Series(["Pre-dose", "5 Min Post-dose", "1.5h Post-dose", "24-48h Post-dose", "Day 2", "Morning", None])
    hours = timepoint_hours(text)
    assert hours.iloc[:5].tolist() == pytest.approx([0, 5 / 60, 1.5, 36, 48])
    assert hours.iloc[5:].isna().all()
    assert timepoint_hours(pd.Series(["0-6h Post-dose"]), "end").tolist() == [6.0]


def test_nfrlt_adds_the_planned_day():
    df = pd.DataFrame({"TPT": ["Pre-dose", "2h Post-dose", "2h Post-dose"], "DY": [1, 1, 8]})
    out = run("derive_var_nfrlt", df, tpt="TPT", day="DY")
    assert out["NFRLT"].tolist() == [0.0, 2.0, 170.0]


def test_significant_text_as_r_prints():
    values = pd.Series([0.0107061, 24.94, 1.9, 0.54690, 1234567.0, 0.00001234, 0.0001, 0.0, np.nan, -2.345])
    assert significant_text(values, 3).tolist() == ["0.0107", "24.9", "1.9", "0.547", "1230000", "1.23e-05",
                                                    "1e-04", "0", None, "-2.35"]


def test_arithmetic_concat_and_cases_with_variables():
    df = pd.DataFrame({"A": [10.0, 5.0, np.nan], "B": [4.0, 0.0, 1.0], "F": ["Y", "N", "Y"]})
    out = run("derive_var_arithmetic", df, new="C", left={"var": "A"}, op="subtract", right={"var": "B"})
    assert out["C"].tolist()[:2] == [6.0, 5.0] and np.isnan(out["C"].iloc[2])
    out = run("derive_var_arithmetic", out, new="C", left={"var": "A"}, op="divide", right={"var": "B"}, filter={"F": "N"})
    assert np.isnan(out["C"].iloc[1]) and out["C"].iloc[0] == 6.0  # division by 0 is missing; others kept
    out = run("derive_var_arithmetic", out, new="D", left={"var": "A"}, op="floor_divide", right=4)
    assert out["D"].tolist()[:2] == [2.0, 1.0]
    out = run("derive_var_concat", out, new="V", parts=["Day ", {"var": "D"}])
    assert out["V"].tolist()[:2] == ["Day 2", "Day 1"] and pd.isna(out["V"].iloc[2])
    out = run("derive_var_cases", out, new="E", cases=[{"filter": {"F": "N"}, "value": 0}], default={"var": "A"})
    assert out["E"].tolist()[:2] == [10.0, 0.0] and pd.api.types.is_float_dtype(out["E"])
    with pytest.raises(ArgumentError, match="op"):
        run("derive_var_arithmetic", df, new="C", left=1, op="power", right=2)


def test_copied_records_filter_summary_base_and_time_parts():
    df = pd.DataFrame({"USUBJID": ["A", "A", "B"], "AVAL": [np.nan, 2.0, 3.0], "LLOQ": [0.5, 0.5, 0.5],
                       "BL": ["Y", None, "Y"], "ADTM": [T("2014-01-02 23:30"), T("2014-01-03"), T("2014-01-04 06:15")]})
    out = run("derive_records_copied", df, filter={"AVAL": {"present": False}}, set_values={"DTYPE": "HALF", "AVAL": {"var": "LLOQ"}})
    assert len(out) == 4 and out.iloc[3][["DTYPE", "AVAL"]].tolist() == ["HALF", 0.5] and out["DTYPE"].iloc[:3].isna().all()
    out = run("derive_var_merged_summary", out, by=["USUBJID"], source="AVAL", new="MX", function="max")
    assert out["MX"].tolist() == [2.0, 2.0, 3.0, 2.0]
    out["BLF"] = np.where((out["BL"] == "Y") & (out["DTYPE"] == "HALF"), "Y", None)
    out = run("derive_var_base", out, by=["USUBJID"], flag="BLF")
    assert out["BASE"].tolist()[:2] == [0.5, 0.5] and np.isnan(out["BASE"].iloc[2])
    with pytest.raises(Exception, match="several records"):
        run("derive_var_base", out, by=["USUBJID"], flag="BL")  # A has two Y records (the copy too)
    out = run("filter_records", out, filter={"USUBJID": "B"})
    out = run("derive_vars_dtm_to_dt", out, source="ADTM", date="D", time="TM")
    assert out["D"].tolist() == [T("2014-01-04")] and out["TM"].tolist() == [6 * 3600 + 15 * 60]


def test_bmi():
    out = run("derive_var_computed", pd.DataFrame({"H": [180.0], "W": [81.0]}), kind="bmi",
              inputs={"height": "H", "weight": "W"}, new="BMI")
    assert out["BMI"].iloc[0] == pytest.approx(25.0)
