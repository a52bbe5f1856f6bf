"""Ordered events with confirmation (derive_param_extreme_event), relative flags, admiral's
time-to-event rules and date shifts in filters, on tiny frames whose expected values are worked
out by hand from the rules (RECIST 1.1 confirmation: a later CR at least 28 days after, at most
one NE in between, no PR after a CR)."""

from __future__ import annotations

import pandas as pd
import pytest

from submit.adam.context import AdamContext
from submit.adam.derive.extreme_event import derive_param_extreme_event
from submit.adam.derive.relative_flag import derive_var_relative_flag
from submit.adam.derive.tte import derive_param_tte
from submit.adam.filters import select
from submit.adam.registry import ArgumentError

D = pd.Timestamp


def ovr(rows: list[tuple]) -> pd.DataFrame:
    """(USUBJID, date, AVALC) records of the overall response parameter."""
    return pd.DataFrame({"USUBJID": [r[0] for r in rows], "PARAMCD": "OVR",
                         "ADT": pd.to_datetime([r[1] for r in rows]), "AVALC": [r[2] for r in rows]})


def context(study, subjects=("A", "B", "C", "D")) -> AdamContext:
    adsl = pd.DataFrame({"USUBJID": list(subjects), "RANDDT": D("2020-01-01")})
    return AdamContext(sdtm={}, study=study, adam={"ADSL": adsl}, dataset="ADRS")


CR_CONFIRMED = {"until": {"AVALC": "CR"}, "min_days": 28, "all": {"AVALC": ["CR", "NE"]},
                "at_most": [{"filter": {"AVALC": "NE"}, "count": 1}]}
PR_CONFIRMED = {"until": {"AVALC": ["CR", "PR"]}, "min_days": 28, "all": {"AVALC": ["CR", "PR", "NE"]},
                "at_most": [{"filter": {"AVALC": "NE"}, "count": 1}],
                "none_after": {"first": {"AVALC": "CR"}, "then": {"AVALC": "PR"}}}
CBOR_EVENTS = [{"filter": {"AVALC": "CR"}, "confirmed_by": CR_CONFIRMED, "set": {"AVALC": "CR"}},
               {"filter": {"AVALC": "PR"}, "confirmed_by": PR_CONFIRMED, "set": {"AVALC": "PR"}},
               {"filter": {"AVALC": ["CR", "PR", "SD"]}, "set": {"AVALC": "SD"}},
               {"dataset": "ADSL", "keep": ["RANDDT"], "set": {"AVALC": "MISSING"}}]


def cbor(df: pd.DataFrame, study) -> pd.Series:
    out = derive_param_extreme_event(df, context(study), events=CBOR_EVENTS, order=["event", "ADT"],
                                     source={"PARAMCD": "OVR"}, set_values={"PARAMCD": "CBOR"})
    return out[out["PARAMCD"] == "CBOR"].set_index("USUBJID")


def test_confirmed_best_response_by_hand(study):
    df = ovr([("A", "2020-02-01", "CR"), ("A", "2020-02-20", "NE"), ("A", "2020-03-01", "CR"),  # CR, 29 days
              ("B", "2020-02-01", "CR"), ("B", "2020-02-20", "CR"),  # 19 days: not confirmed -> SD
              ("C", "2020-02-01", "PR"), ("C", "2020-02-10", "CR"), ("C", "2020-03-10", "PR"),  # PR after CR
              ("D", "2020-02-01", "CR"), ("D", "2020-02-10", "NE"), ("D", "2020-02-20", "NE"),
              ("D", "2020-03-05", "CR")])  # two NE before the confirming CR -> SD
    best = cbor(df, study)
    assert best["AVALC"].to_dict() == {"A": "CR", "B": "SD", "C": "SD", "D": "SD"}
    assert best.loc["A", "ADT"] == D("2020-02-01")  # the confirmed CR, not the confirming one
    assert best.loc["B", "ADT"] == D("2020-02-01")  # the first CR/PR/SD


def test_pr_confirmed_by_later_cr_and_subjects_without_data(study):
    df = ovr([("A", "2020-02-01", "PR"), ("A", "2020-02-15", "PR"), ("A", "2020-03-05", "CR")])
    best = cbor(df, study)
    # A: the CR is unconfirmed; the PR of Feb 1 is confirmed by the CR 33 days later (PR before CR)
    assert best.loc["A", "AVALC"] == "PR" and best.loc["A", "ADT"] == D("2020-02-01")
    assert best.loc["B", "AVALC"] == "MISSING" and pd.isna(best.loc["B", "ADT"])
    assert best.loc["B", "RANDDT"] == D("2020-01-01")


def test_descending_order_takes_the_earliest_yes(study):
    # clinical benefit: the earliest of a response or a stable disease 42 days after randomization
    df = ovr([("A", "2020-02-01", "SD"), ("A", "2020-02-15", "SD"), ("A", "2020-02-20", "PR")])
    events = [{"filter": {"AVALC": ["CR", "PR"]}, "set": {"AVALC": "Y"}},
              {"filter": {"AVALC": ["SD"], "ADT": {"ge": {"var": "RANDDT", "days": 42}}}, "set": {"AVALC": "Y"}},
              {"dataset": "ADSL", "set": {"AVALC": "N"}}]
    df = df.assign(RANDDT=D("2020-01-01"))
    cb = derive_param_extreme_event(df, context(study), events=events, order=[{"AVALC": "desc"}, "ADT", "event"],
                                    source={"PARAMCD": "OVR"}, set_values={"PARAMCD": "CB"}, aval_map={"Y": 1, "N": 0})
    cb = cb[cb["PARAMCD"] == "CB"].set_index("USUBJID")
    assert cb.loc["A", "ADT"] == D("2020-02-15")  # Feb 1 is 31 days after randomization: not yet SD
    assert cb["AVAL"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0}
    first = derive_param_extreme_event(df, context(study), events=events, order=["event", "ADT"],
                                       source={"PARAMCD": "OVR"}, set_values={"PARAMCD": "CB"})
    # by event first: the response (listed first) wins over the earlier stable disease
    assert first[(first["PARAMCD"] == "CB") & (first["USUBJID"] == "A")]["ADT"].iloc[0] == D("2020-02-20")


def test_event_from_another_dataset_with_copy(study):
    ctx = context(study)
    ctx.adam["ADSL"]["DTHDT"] = [D("2020-05-01"), pd.NaT, pd.NaT, pd.NaT]
    out = derive_param_extreme_event(pd.DataFrame(), ctx, order=["event"], set_values={"PARAMCD": "DEATH"},
                                     events=[{"dataset": "ADSL", "filter": {"DTHDT": {"present": True}},
                                              "copy": {"ADT": "DTHDT"}, "set": {"AVALC": "Y"}},
                                             {"dataset": "ADSL", "set": {"AVALC": "N"}}]).set_index("USUBJID")
    assert out["AVALC"].to_dict() == {"A": "Y", "B": "N", "C": "N", "D": "N"}
    assert out.loc["A", "ADT"] == D("2020-05-01") and "DTHDT" not in out


def test_event_arguments_are_checked(study):
    with pytest.raises(ArgumentError, match="unknown fields"):
        derive_param_extreme_event(ovr([("A", "2020-02-01", "CR")]), context(study), events=[{"when": {}}],
                                   order=["event"], set_values={"PARAMCD": "X"})
    with pytest.raises(ArgumentError, match="needs until"):
        derive_param_extreme_event(ovr([("A", "2020-02-01", "CR")]), context(study), order=["event"],
                                   events=[{"confirmed_by": {"min_days": 28}}], set_values={"PARAMCD": "X"})
    with pytest.raises(ArgumentError, match="order"):
        derive_param_extreme_event(ovr([("A", "2020-02-01", "CR")]), context(study), events=[{}],
                                   order=[{"ADT": "down"}], set_values={"PARAMCD": "X"})


def test_relative_flag_up_to_first_progression(study):
    df = ovr([("A", "2020-02-01", "SD"), ("A", "2020-03-01", "PD"), ("A", "2020-04-01", "SD"),
              ("B", "2020-02-01", "SD")])
    out = derive_var_relative_flag(df, context(study), new="ANL02FL", order=["ADT"], condition={"AVALC": "PD"})
    assert out["ANL02FL"].tolist() == ["Y", "Y", None, "Y"]  # B has no PD: every record
    excl = derive_var_relative_flag(df, context(study), new="F", order=["ADT"], condition={"AVALC": "PD"},
                                    inclusive=False, flag_no_reference=False)
    assert excl["F"].tolist() == ["Y", None, None, None]


def test_date_shift_in_filters():
    df = pd.DataFrame({"ADT": pd.to_datetime(["2020-02-11", "2020-02-12"]), "RANDDT": D("2020-01-01")})
    assert len(select(df, {"ADT": {"ge": {"var": "RANDDT", "days": 42}}})) == 1  # Jan 1 + 42 days = Feb 12
    with pytest.raises(ArgumentError, match="days"):
        select(df, {"ADT": {"ge": {"var": "RANDDT", "days": "six weeks"}}})


def test_tte_admiral_rules(study):
    adsl = pd.DataFrame({"USUBJID": ["A", "B"], "RANDDT": [D("2020-01-10"), D("2020-01-10")],
                         "LSTALVDT": [D("2020-01-10"), D("2020-01-05")]})
    ctx = AdamContext(sdtm={}, study=study, adam={"ADSL": adsl}, dataset="ADTTE")
    kw = dict(paramcd="OS", param="OS", start={"dataset": "ADSL", "date": "RANDDT"},
              events=[{"dataset": "ADSL", "date": "LSTALVDT", "filter": {"USUBJID": "none"}, "description": "Death"}],
              censors=[{"dataset": "ADSL", "date": "LSTALVDT", "description": "Alive During Study",
                        "set": {"EVNTDESC": "Alive"}},
                       {"dataset": "ADSL", "date": "RANDDT", "description": "Randomization"}])
    admiral = derive_param_tte(pd.DataFrame(), ctx, before_start="start_date", censor_ties="last_listed", **kw)
    # A: a tie of the two censoring dates goes to the one listed last; B: last alive before the start
    # is moved to the start, and the randomization date (equal to it) is listed last
    assert admiral["CNSDTDSC"].tolist() == ["Randomization", "Randomization"]
    default = derive_param_tte(pd.DataFrame(), ctx, **kw)
    assert default["CNSDTDSC"].tolist() == ["Alive During Study", "Randomization"]
    assert default["EVNTDESC"].tolist() == ["Alive", None]
    assert default["AVAL"].tolist() == [1.0, 1.0]
    with pytest.raises(ArgumentError, match="before_start"):
        derive_param_tte(pd.DataFrame(), ctx, before_start="keep", **kw)
