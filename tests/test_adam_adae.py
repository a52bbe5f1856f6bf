"""ADAE of the default study: treatment emergence double-programmed from the SDTM XPT files with
plain pandas, the planted boundary cases (AE 30 / 31 days after the last infusion, partial start
in the month of the first infusion), the groupings and flags, and each rule on tiny cases."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from submit.adam.build import build_adam
from submit.adam.context import AdamContext
from submit.adam.registry import DERIVATIONS

from conftest import ADAM_DIR, SDTM_DIR, SPECS

D = pd.Timestamp


def xpt(root, folder, name) -> pd.DataFrame:
    return pyreadstat.read_xport(str(root / folder / f"{name}.xpt"), dates_as_pandas_datetime=True)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory, default_sdtm, study):
    """ADaM from a copy of the spec with only the lead's top-level sheets and the ADAE/ADEX parts,
    so that another dataset's part under construction cannot break these tests."""
    spec = tmp_path_factory.mktemp("spec_adae")
    for f in (SPECS / "adam").glob("*.csv"):
        shutil.copy(f, spec)
    shutil.copytree(SPECS / "adam" / "derivations", spec / "derivations")
    for part in ("adae", "adex"):
        shutil.copytree(SPECS / "adam" / "parts" / part, spec / "parts" / part)
    root = tmp_path_factory.mktemp("adam_adae")
    build_adam(spec, default_sdtm[0].domains, study, root)
    return root, default_sdtm[1]


@pytest.fixture(scope="module")
def adae(built):
    return xpt(built[0], ADAM_DIR, "adae")


@pytest.fixture(scope="module")
def sdtm(built):
    return {d: xpt(built[1], SDTM_DIR, d) for d in ("ae", "ex", "dm")}


def case_subject(cases: pd.DataFrame, name: str) -> str:
    return cases.rename(columns=str.lower).set_index("case").loc[name, "subjid"]


# --- treatment emergence, programmed a second time from SDTM ---------------------------------
def independent_teae(sdtm) -> pd.Series:
    """TRTEMFL from AE and EX alone: windows per subject and EXCAT from the first infusion start
    date to the last infusion end date + 30 days; a partial start date is the first day of its
    month (or year), or the first infusion date when that falls in the same month (or year) and
    is later, but never after a complete end date."""
    ae, ex = sdtm["ae"].copy(), sdtm["ex"].copy()
    ex["s"], ex["e"] = pd.to_datetime(ex.EXSTDTC.str[:10]), pd.to_datetime(ex.EXENDTC.str[:10])
    win = ex.groupby(["USUBJID", "EXCAT"]).agg(s=("s", "min"), e=("e", "max")).reset_index()
    first = win.groupby("USUBJID").s.min()
    trtsdt = ae.USUBJID.map(first)
    text = ae.AESTDTC.fillna("")
    start = pd.to_datetime(text.where(text.str.len() == 10), errors="coerce")
    month = text.str.len() == 7
    year = text.str.len() == 4
    m_first = pd.to_datetime(text.where(month) + "-01", errors="coerce")
    y_first = pd.to_datetime(text.where(year) + "-01-01", errors="coerce")
    same_month = trtsdt.dt.strftime("%Y-%m") == text
    same_year = trtsdt.dt.strftime("%Y") == text
    start = start.fillna(m_first.where(~(same_month & (trtsdt > m_first)), trtsdt))
    start = start.fillna(y_first.where(~(same_year & (trtsdt > y_first)), trtsdt))
    end = pd.to_datetime(ae.AEENDTC.where(ae.AEENDTC.str.len() == 10), errors="coerce")
    start = start.where(~(end < start), end)
    te = pd.Series(False, index=ae.index)
    for _, w in win.iterrows():  # a handful of windows: a loop keeps the second program plain
        te |= (ae.USUBJID == w.USUBJID) & (start >= w.s) & (start <= w.e + pd.Timedelta(days=30))
    return pd.Series(te.to_numpy(), index=pd.MultiIndex.from_frame(ae[["USUBJID", "AESEQ"]]))


def test_teae_double_programmed_from_sdtm(adae, sdtm):
    expected = independent_teae(sdtm)
    got = adae.set_index(["USUBJID", "AESEQ"]).TRTEMFL.eq("Y").reindex(expected.index)
    assert got.tolist() == expected.tolist()
    per_subject = expected.groupby(level="USUBJID").sum()
    assert (adae[adae.TRTEMFL == "Y"].groupby("USUBJID").size().reindex(per_subject.index, fill_value=0)
            == per_subject).all()
    assert 0 < per_subject.sum() < len(adae)  # some AEs are not treatment-emergent


def test_boundary_ae_30_and_31_days_after_last_infusion(adae, sdtm, cases):
    subject = case_subject(cases, "AE_30_DAYS_AFTER")
    assert case_subject(cases, "AE_31_DAYS_AFTER") == subject
    ex = sdtm["ex"][sdtm["ex"].USUBJID.str.endswith(subject)]
    last_end = pd.to_datetime(ex.EXENDTC.str[:10]).max()
    rows = adae[adae.SUBJID == subject].set_index("ASTDT")
    day30, day31 = rows.loc[last_end + pd.Timedelta(days=30)], rows.loc[last_end + pd.Timedelta(days=31)]
    assert day30.TRTEMFL == "Y" and day30.APHASE == "CORE STUDY"
    assert pd.isna(day31.TRTEMFL) or day31.TRTEMFL == ""
    assert day31.APHASE == "FOLLOW-UP"


def test_boundary_partial_start_in_the_month_of_the_first_infusion(adae, cases):
    subject = case_subject(cases, "AE_PARTIAL_START_FIRST_MONTH")
    rows = adae[adae.SUBJID == subject]
    first_month = rows.TRTSDT.iloc[0].strftime("%Y-%m")
    hit = rows[rows.AESTDTC == first_month]
    assert len(hit) == 1
    assert hit.ASTDT.iloc[0] == hit.TRTSDT.iloc[0]  # not the 1st of the month, before the infusion
    assert hit.ASTDTF.iloc[0] == "D" and hit.TRTEMFL.iloc[0] == "Y" and hit.ASTDY.iloc[0] == 1


def test_every_partial_date_is_flagged_and_complete_dates_are_kept(adae):
    complete = adae.AESTDTC.str.len() == 10
    assert (adae.ASTDT[complete] == pd.to_datetime(adae.AESTDTC[complete])).all()
    assert (adae.ASTDTF[complete] == "").all()
    assert set(adae.ASTDTF[adae.AESTDTC.str.len() == 7]) == {"D"}
    assert set(adae.ASTDTF[adae.AESTDTC.str.len() == 4]) == {"M"}
    partial_end = adae.AEENDTC.str.len() == 7
    assert partial_end.any()
    month_end = pd.to_datetime(adae.AEENDTC[partial_end] + "-01") + pd.offsets.MonthEnd(0)
    assert (adae.AENDT[partial_end] <= month_end).all() and set(adae.AENDTF[partial_end]) == {"D"}
    ongoing = adae.AEENRTPT == "ONGOING"
    assert adae.AENDT[ongoing].isna().all() and adae.ADURN[ongoing].isna().all()


def test_groupings_grade_and_action_flags(adae):
    related = {"NOT RELATED": "NOT RELATED", "UNLIKELY": "NOT RELATED", "POSSIBLE": "RELATED",
               "PROBABLE": "RELATED", "CERTAIN": "RELATED"}
    assert (adae.AREL == adae.AEREL.map(related)).all()
    assert (adae.ARELN == (adae.AREL == "RELATED").astype(float)).all()
    assert (adae.ATOXGR == adae.AETOXGR).all()
    assert (adae.ATOXGRN == adae.AETOXGR.astype(int)).all()
    assert (adae.DRINTFL.eq("Y") == adae.AEACN.eq("DRUG INTERRUPTED")).all()
    assert (adae.DRWDFL.eq("Y") == adae.AEACN.eq("DRUG WITHDRAWN")).all()
    assert set(adae.DRINTFL) == {"Y", "N"} and adae.DRWDFL.eq("Y").any()
    assert (adae.ADURN.dropna() == ((adae.AENDT - adae.ASTDT).dt.days + 1).dropna()).all()
    assert (adae.TRTA == adae.TRT01A).all() and (adae.TRTAN == adae.TRT01AN).all()


def test_occurrence_flags_count_subjects(adae):
    te = adae[adae.TRTEMFL == "Y"]
    assert set(adae.loc[adae.TRTEMFL != "Y", ["AOCCFL", "AOCCSFL", "AOCCPFL", "AOCCIFL"]].stack()) <= {""}
    for flag, by in (("AOCCFL", ["USUBJID"]), ("AOCCSFL", ["USUBJID", "AEBODSYS"]),
                     ("AOCCPFL", ["USUBJID", "AEBODSYS", "AEDECOD"])):
        flagged = te[te[flag] == "Y"]
        assert len(flagged) == len(te[by].drop_duplicates()), flag
        earliest = te.sort_values(["ASTDT", "AESEQ"]).groupby(by).AESEQ.first()
        assert (flagged.set_index(by).AESEQ.sort_index() == earliest.sort_index()).all(), flag
    for flag, by in (("AOCCIFL", ["USUBJID"]), ("AOCCSIFL", ["USUBJID", "AEBODSYS"]),
                     ("AOCCPIFL", ["USUBJID", "AEBODSYS", "AEDECOD"])):
        flagged = te[te[flag] == "Y"].set_index(by).sort_index()
        worst = te.groupby(by).ATOXGRN.max().sort_index()
        assert len(flagged) == len(worst) and (flagged.ATOXGRN == worst).all(), flag
        first_worst = (te.merge(worst.rename("_w").reset_index(), on=by).query("ATOXGRN == _w")
                       .sort_values(["ASTDT", "AESEQ"]).groupby(by).AESEQ.first().sort_index())
        assert (flagged.AESEQ == first_worst).all(), flag


def test_dose_and_cycle_at_onset(adae, cases):
    subject = case_subject(cases, "INFUSION_INTERRUPTED")
    interrupted = adae[(adae.SUBJID == subject) & (adae.DRINTFL == "Y")].iloc[0]
    assert (interrupted.DOSEON, interrupted.ACYCLE, interrupted.DOSEU) == (15, 2, "ug/m2/day")
    ne = adae[(adae.SUBJID == case_subject(cases, "NE_ONE_DAY")) & (adae.ASTDY == 1)].iloc[0]
    assert (ne.DOSEON, ne.ACYCLE, ne.DRWDFL) == (5, 1, "Y")
    before = adae.ASTDY < 1
    assert before.any() and adae.DOSEON[before].isna().all() and adae.APHASE[before].eq("").all()
    assert adae.DOSEON[adae.TRTEMFL == "Y"].notna().all()


def test_structure_keys_and_adsl_variables(adae, built, sdtm):
    assert len(adae) == len(sdtm["ae"])
    assert not adae.duplicated(["STUDYID", "USUBJID", "AEDECOD", "ASTDT", "AESEQ"]).any()
    adsl = xpt(built[0], ADAM_DIR, "adsl").set_index("USUBJID")
    for var in ("SUBJID", "SITEID", "AGE", "SEX", "RACE", "SAFFL", "TRT01A", "TRT01AN", "TRTSDT", "TRTEDT"):
        assert adae[var].tolist() == adae.USUBJID.map(adsl[var]).tolist(), var
    assert set(adae.APHASE) <= {"CORE STUDY", "RETREATMENT", "FOLLOW-UP", ""}


# --- each rule on tiny cases -------------------------------------------------------------------
def ctx_of(study, ex_rows, adsl=None) -> AdamContext:
    ex = pd.DataFrame(ex_rows, columns=["USUBJID", "EXSEQ", "EXCAT", "EXSCAT", "EXDOSE", "EXDOSU", "EXSTDTC",
                                        "EXENDTC"])
    return AdamContext(sdtm={"EX": ex}, study=study, adam={"ADSL": adsl if adsl is not None else pd.DataFrame()})


def run(name, df, ctx, **params) -> pd.DataFrame:
    return DERIVATIONS[name](df, ctx, **params)


def values(col: pd.Series) -> list:
    """The column as a list, any missing value as None (pandas may hold it as NaN)."""
    return [None if pd.isna(v) else v for v in col]


EX_TWO_PHASES = [
    ("S1", 1, "CORE STUDY", "CYCLE 1", 5, "ug/m2/day", "2011-01-01T10:00", "2011-01-08T10:00"),
    ("S1", 2, "CORE STUDY", "CYCLE 1", 15, "ug/m2/day", "2011-01-08T10:00", "2011-01-29T10:00"),
    ("S1", 3, "RETREATMENT", "CYCLE 1", 5, "ug/m2/day", "2011-02-20T09:00", "2011-03-20T09:00"),
]


def test_window_ends_on_day_30_and_later_phase_wins_an_overlap(study):
    ctx = ctx_of(study, EX_TWO_PHASES)
    df = pd.DataFrame({"USUBJID": "S1", "ASTDT": [D("2010-12-31"), D("2011-01-01"), D("2011-02-19"),
                                                  D("2011-02-20"), D("2011-04-19"), D("2011-04-20"), pd.NaT]})
    out = run("derive_vars_trtemfl", df, ctx, date="ASTDT", end_window_days=30, otherwise="FOLLOW-UP")
    assert values(out.TRTEMFL) == [None, "Y", "Y", "Y", "Y", None, "Y"]
    # 2011-02-19 is in the core window (01-29 + 30 = 02-28); from 02-20 the retreatment window wins.
    assert values(out.APHASE) == [None, "CORE STUDY", "CORE STUDY", "RETREATMENT", "RETREATMENT", "FOLLOW-UP",
                                   None]
    assert set(ctx.qc) == {"adae_te_windows"}
    short = run("derive_vars_trtemfl", df, ctx, date="ASTDT", end_window_days=0)
    assert values(short.TRTEMFL)[4] is None


def test_missing_start_is_emergent_unless_it_ended_before_treatment(study):
    ctx = ctx_of(study, EX_TWO_PHASES)
    df = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S2"], "ASTDT": pd.NaT,
                       "AENDT": [D("2010-12-31"), D("2011-01-01"), pd.NaT, pd.NaT]})
    out = run("derive_vars_trtemfl", df, ctx, date="ASTDT", end_window_days=30, end_date="AENDT")
    assert values(out.TRTEMFL) == [None, "Y", "Y", None]  # S2 was never treated


def test_partial_dates_are_bounded(study):
    df = pd.DataFrame({"DTC": ["2011-03", "2011-03", "2011", "2011-03-05", "2011-03", "", "2011-02"],
                       "TRTSDT": [D("2011-03-15"), D("2011-04-02"), D("2011-06-01"), D("2011-03-10"),
                                  D("2011-03-15"), D("2011-03-15"), D("2011-03-15")],
                       "END": [pd.NaT, pd.NaT, D("2011-05-20"), pd.NaT, D("2011-03-12"), pd.NaT, pd.NaT]})
    out = run("derive_vars_dt_bounded", df, ctx_of(study, []), source="DTC", new="ASTDT", flag="ASTDTF",
              impute="first", min_dates=["TRTSDT"], max_dates=["END"])
    assert out.ASTDT.tolist() == [D("2011-03-15"), D("2011-03-01"), D("2011-05-20"), D("2011-03-05"),
                                  D("2011-03-12"), pd.NaT, D("2011-02-01")]
    assert out.ASTDTF.tolist() == ["D", "D", "M", "", "D", "", "D"]
    end = run("derive_vars_dt_bounded", df.assign(DTH=D("2011-03-20")), ctx_of(study, []), source="DTC", new="AENDT",
              impute="last", max_dates=["DTH"])
    assert end.AENDT.tolist()[:2] == [D("2011-03-20"), D("2011-03-20")]
    # "2011" could end on 2011-12-31, but not after the death date within that year.
    assert end.AENDT.tolist()[2] == D("2011-03-20") and end.AENDT.tolist()[6] == D("2011-02-28")
    assert end.AENDT.tolist()[3] == D("2011-03-05")


def test_dose_at_onset_takes_the_step_started_last_by_that_day(study):
    ex = EX_TWO_PHASES + [("S1", 4, "RETREATMENT", "CYCLE 2", 15, "ug/m2/day", "2011-04-03T09:00", "2011-05-01T09:00")]
    df = pd.DataFrame({"USUBJID": "S1", "ASTDT": [D("2010-12-31"), D("2011-01-01"), D("2011-01-07"),
                                                  D("2011-01-08"), D("2011-02-10"), D("2011-02-20"),
                                                  D("2011-04-10"), pd.NaT]})
    out = run("derive_vars_dose_at", df, ctx_of(study, ex), date="ASTDT", dose="DOSEON", unit="DOSEU", cycle="ACYCLE",
              phase="_PH")
    assert out.DOSEON.tolist()[1:7] == [5, 5, 15, 15, 5, 15]
    assert np.isnan(out.DOSEON.iloc[0]) and np.isnan(out.DOSEON.iloc[7])
    assert out.ACYCLE.tolist()[1:7] == [1, 1, 1, 1, 1, 2]
    assert out._PH.tolist()[1:7] == ["CORE STUDY"] * 4 + ["RETREATMENT"] * 2
    assert values(out.DOSEU)[:2] == [None, "ug/m2/day"]


def test_worst_flag_takes_the_first_of_the_highest_grade(study):
    df = pd.DataFrame({"USUBJID": ["A", "A", "A", "A", "B"], "GR": [2, 3, 3, 4, np.nan],
                       "ASTDT": [D("2011-01-01"), D("2011-01-05"), D("2011-01-02"), D("2011-01-09"), D("2011-01-01")],
                       "AESEQ": [1, 2, 3, 4, 1], "TE": ["Y", "Y", "Y", None, "Y"]})
    out = run("derive_var_worst_flag", df, ctx_of(study, []), by=["USUBJID"], grade="GR", order=["ASTDT", "AESEQ"],
              new="F", filter={"TE": "Y"})
    assert values(out.F) == [None, None, "Y", None, "Y"]
