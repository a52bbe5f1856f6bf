"""Date imputation to a chosen level with --DTF/--TMF, dates from several sources, groupings by a
table of conditions and the extreme event of several sources: one tiny frame per behaviour,
expected values written by hand from admiral's rules."""

from __future__ import annotations

import pandas as pd
import pytest

from submit.adam.context import AdamContext
from submit.adam.derive.basics import derive_var_extreme_date, derive_vars_merged
from submit.adam.derive.dates import (derive_var_dt_coalesce, derive_vars_dt, derive_vars_dtm,
                                      dtc_to_date, dtc_to_datetime, impute_dtc_dt, impute_dtc_dtm)
from submit.adam.derive.extreme_event import derive_vars_extreme_event
from submit.adam.derive.values import derive_vars_dtm_to_dt
from submit.errors import InputError

DTC = pd.Series(["2019-07-18T15:25:40", "2019-07-18T15:25", "2019-07-18T15", "2019-07-18", "2019-07", "2019",
                 "2019---07", "", None, "18JUL2019"])


def text(dates: pd.Series, fmt: str = "%Y-%m-%d") -> list:
    return [None if pd.isna(d) else d.strftime(fmt) for d in dates]


def flags(values: pd.Series) -> list:
    return [None if pd.isna(v) or v == "" else v for v in values]


@pytest.mark.parametrize("highest, imputation, dates, dtf", [
    ("n", "first", ["2019-07-18"] * 4 + [None] * 6, [None] * 10),
    ("D", "first", ["2019-07-18"] * 4 + ["2019-07-01"] + [None] * 5, [None] * 4 + ["D"] + [None] * 5),
    ("M", "first", ["2019-07-18"] * 4 + ["2019-07-01", "2019-01-01", "2019-01-01"] + [None] * 3,
     [None] * 4 + ["D", "M", "M"] + [None] * 3),
    ("M", "last", ["2019-07-18"] * 4 + ["2019-07-31", "2019-12-31", "2019-12-31"] + [None] * 3,
     [None] * 4 + ["D", "M", "M"] + [None] * 3),
    ("M", "mid", ["2019-07-18"] * 4 + ["2019-07-15", "2019-06-30", "2019-06-30"] + [None] * 3,
     [None] * 4 + ["D", "M", "M"] + [None] * 3),
    ("M", "03-10", ["2019-07-18"] * 4 + ["2019-07-10", "2019-03-10", "2019-03-10"] + [None] * 3,
     [None] * 4 + ["D", "M", "M"] + [None] * 3),
])
def test_date_imputed_up_to_the_highest_level(highest, imputation, dates, dtf):
    value, flag = impute_dtc_dt(DTC, highest, imputation)
    assert text(value) == dates
    assert flags(flag) == dtf


def test_last_day_of_the_month_knows_february_and_leap_years():
    value, _ = impute_dtc_dt(pd.Series(["2019-02", "2020-02", "2019-04"]), "D", "last")
    assert text(value) == ["2019-02-28", "2020-02-29", "2019-04-30"]


@pytest.mark.parametrize("highest, times, tmf", [
    ("n", ["2019-07-18 15:25:40"] + [None] * 9, [None] * 10),
    ("s", ["2019-07-18 15:25:40", "2019-07-18 15:25:59"] + [None] * 8, [None, "S"] + [None] * 8),
    ("m", ["2019-07-18 15:25:40", "2019-07-18 15:25:59", "2019-07-18 15:59:59"] + [None] * 7,
     [None, "S", "M"] + [None] * 7),
    ("h", ["2019-07-18 15:25:40", "2019-07-18 15:25:59", "2019-07-18 15:59:59", "2019-07-18 23:59:59"] + [None] * 6,
     [None, "S", "M", "H"] + [None] * 6),
    ("D", ["2019-07-18 15:25:40", "2019-07-18 15:25:59", "2019-07-18 15:59:59", "2019-07-18 23:59:59",
           "2019-07-31 23:59:59"] + [None] * 5, [None, "S", "M", "H", "H"] + [None] * 5),
])
def test_datetime_imputed_up_to_the_highest_level(highest, times, tmf):
    value, _, flag = impute_dtc_dtm(DTC, highest, "last", "last")
    assert text(value, "%Y-%m-%d %H:%M:%S") == times
    assert flags(flag) == tmf


def test_seconds_imputed_alone_are_not_flagged_when_asked():
    _, _, tmf = impute_dtc_dtm(pd.Series(["2019-07-18T15:25", "2019-07-18"]), ignore_seconds_flag=True)
    assert flags(tmf) == [None, "H"]


def test_fixed_time_and_date_flag_of_a_datetime():
    value, dtf, tmf = impute_dtc_dtm(pd.Series(["2019-07"]), "M", "first", "12:30:00")
    assert text(value, "%Y-%m-%d %H:%M:%S") == ["2019-07-01 12:30:00"]
    assert (flags(dtf), flags(tmf)) == (["D"], ["H"])


def test_the_older_helpers_keep_their_contract():
    date, dtf = dtc_to_date(pd.Series(["2011-03", "2011-03-05", None]), "last")
    assert text(date) == ["2011-03-31", "2011-03-05", None] and dtf.tolist() == ["D", "", ""]
    dtm, tmf = dtc_to_datetime(pd.Series(["2011-03-05T14:30", "2011-03-05", "2011-03"]))
    assert text(dtm, "%Y-%m-%d %H:%M") == ["2011-03-05 14:30", "2011-03-05 00:00", None]
    assert tmf.tolist() == ["", "H", ""]


@pytest.mark.parametrize("kwargs, argument", [
    ({"highest": "Y"}, "highest"),
    ({"date_imputation": "later"}, "date_imputation"),
    ({"time_imputation": "25:00:00"}, "time_imputation"),
])
def test_imputation_arguments_are_checked(kwargs, argument):
    with pytest.raises(InputError, match=argument):
        derive_vars_dtm(pd.DataFrame({"X": ["2019"]}), ctx({}), source="X", new="XDTM", **kwargs)


def ctx(sdtm: dict, dataset: str = "ADSL") -> AdamContext:
    return AdamContext(sdtm=sdtm, study=None, dataset=dataset)


def test_derive_vars_dtm_and_its_date():
    df = pd.DataFrame({"EXENDTC": ["2014-07-02", "2014-07-02T10:05", None]})
    out = derive_vars_dtm(df, ctx({}), source="EXENDTC", new="TRTEDTM", time_imputation="last", time_flag="TRTETMF")
    out = derive_vars_dtm_to_dt(out, ctx({}), source="TRTEDTM", date="TRTEDT")
    assert text(out.TRTEDTM, "%Y-%m-%d %H:%M:%S") == ["2014-07-02 23:59:59", "2014-07-02 10:05:59", None]
    assert flags(out.TRTETMF) == ["H", "S", None]
    assert text(out.TRTEDT, "%Y-%m-%d %H:%M:%S") == ["2014-07-02 00:00:00", "2014-07-02 00:00:00", None]


def test_derive_vars_dt_with_a_day_level_leaves_a_year_missing():
    df = pd.DataFrame({"DTHDTC": ["2014-07", "2014", "2014-07-09"]})
    out = derive_vars_dt(df, ctx({}), source="DTHDTC", new="DTHDT", impute="last", highest="D", flag="DTHDTF")
    assert text(out.DTHDT) == ["2014-07-31", None, "2014-07-09"]
    assert flags(out.DTHDTF) == ["D", None, None]


SUBJECTS = pd.DataFrame({"USUBJID": ["A", "B", "C"], "TRTEDT": pd.to_datetime(["2014-03-01", None, None])})
EX = pd.DataFrame({"USUBJID": ["A", "A", "B"], "EXENDTC": ["2014-02-01", "2014-02-20", "2014-02"]})
DS = pd.DataFrame({"USUBJID": ["A", "B", "C"], "DSCAT": ["DISPOSITION EVENT"] * 3,
                   "DSSTDTC": ["2014-04-01", "2014-04-02", "2014-04"]})


def test_coalesce_takes_the_first_source_with_a_date():
    out = derive_var_dt_coalesce(SUBJECTS, ctx({"EX": EX, "DS": DS}), new="LDOSEDT", source_var="_SRC", sources=[
        {"domain": "EX", "date": "EXENDTC"},                           # last complete end: A 2014-02-20
        {"domain": "DS", "date": "DSSTDTC", "highest": "D", "filter": {"DSCAT": "DISPOSITION EVENT"}}])
    assert text(out.LDOSEDT) == ["2014-02-20", "2014-04-02", "2014-04-01"]  # B: partial EX end ignored
    assert out._SRC.tolist() == [1, 2, 2]


def test_coalesce_with_the_dataset_itself_and_first_mode():
    out = derive_var_dt_coalesce(SUBJECTS, ctx({"EX": EX}), new="X", sources=[
        {"date": "TRTEDT"}, {"domain": "EX", "date": "EXENDTC", "mode": "first", "highest": "D"}])
    assert text(out.X) == ["2014-03-01", "2014-02-01", None]


def test_extreme_date_over_imputed_sources_and_the_dataset_itself():
    out = derive_var_extreme_date(SUBJECTS, ctx({"EX": EX, "DS": DS}), new="LSTALVDT", sources=[
        {"domain": "EX", "date": "EXENDTC", "highest": "M"}, {"date": "TRTEDT"}])
    assert text(out.LSTALVDT) == ["2014-03-01", "2014-02-01", None]


def test_a_date_source_names_its_keys():
    with pytest.raises(InputError, match=r"sources\[0\]"):
        derive_var_extreme_date(SUBJECTS, ctx({}), new="X", sources=[{"date": "TRTEDT", "impute": "first"}])


def test_merge_after_preparing_the_source():
    ex = pd.DataFrame({"USUBJID": ["A", "A", "B"], "EXSEQ": [1, 2, 1], "EXDOSE": [0, 54, 0],
                       "EXSTDTC": ["2014-01-05", "2014-01-02T08:00", "2014-02"]})
    out = derive_vars_merged(SUBJECTS[["USUBJID"]], ctx({"EX": ex}), domain="EX", order=["_DTM", "EXSEQ"],
                             prepare=[{"derive_vars_dtm": {"source": "EXSTDTC", "new": "_DTM", "time_flag": "_TMF"}}],
                             filter={"_DTM": {"present": True}}, new_vars={"TRTSDTM": "_DTM", "TRTSTMF": "_TMF"})
    assert text(out.TRTSDTM, "%Y-%m-%d %H:%M") == ["2014-01-02 08:00", None, None]
    assert flags(out.TRTSTMF) == ["S", None, None]


def test_prepare_steps_are_checked():
    with pytest.raises(InputError, match="prepare"):
        derive_vars_merged(SUBJECTS, ctx({"EX": EX}), domain="EX", new_vars={"X": "EXENDTC"},
                           prepare=[{"derive_vars_dtm": {"source": "EXENDTC"}}])


AE = pd.DataFrame({"USUBJID": ["A", "A", "B"], "AESEQ": [2, 1, 1], "AEOUT": ["FATAL", "FATAL", "RECOVERED"],
                   "AEDECOD": ["SEPSIS", "STROKE", "RASH"], "AESTDTC": ["2014-01-02", "2014-01-01", "2014-01-01"]})
DEATHS = pd.DataFrame({"USUBJID": ["A", "B"], "DSSEQ": [3, 3], "DSDECOD": ["DEATH", "DEATH"],
                       "DSTERM": ["DEATH DUE TO X", "DEATH DUE TO PROGRESSIVE DISEASE"]})
CAUSE = [{"dataset": "AE", "filter": {"AEOUT": "FATAL"}, "copy": {"DTHCAUS": "AEDECOD"}, "keep": ["AESTDTC"],
          "set": {"DTHDOM": "AE"}},
         {"dataset": "DS", "filter": {"DSTERM": {"contains": "DEATH DUE TO"}}, "copy": {"DTHCAUS": "DSTERM"},
          "set": {"DTHDOM": "DS"}}]


def test_extreme_event_variables_by_priority_then_date():
    out = derive_vars_extreme_event(SUBJECTS, ctx({"AE": AE, "DS": DEATHS}), events=CAUSE,
                                    order=["event", "AESTDTC"], new_vars=["DTHCAUS", "DTHDOM"])
    assert flags(out.DTHCAUS) == ["STROKE", "DEATH DUE TO PROGRESSIVE DISEASE", None]  # A: the earlier fatal AE
    assert flags(out.DTHDOM) == ["AE", "DS", None]
    assert out.columns.tolist() == [*SUBJECTS.columns, "DTHCAUS", "DTHDOM"]


def test_extreme_event_variables_must_be_set_by_an_event():
    with pytest.raises(InputError, match="new_vars"):
        derive_vars_extreme_event(SUBJECTS, ctx({"AE": AE, "DS": DEATHS}), events=CAUSE, order=["event"],
                                  new_vars=["DTHCGR1"])


def test_a_column_without_any_date_gives_missing_dates():
    value, dtf = impute_dtc_dt(pd.Series([None, None], dtype="string[pyarrow]"), "M")
    assert value.isna().all() and dtf.isna().all()
