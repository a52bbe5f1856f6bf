"""ADEX of the default study: exposure double-programmed from the SDTM EX XPT file with plain
pandas, a few subjects computed by hand (the interrupted infusion, the one-day infusion, a full
5-15-30 schedule with retreatment), the structure of the BDS records, and the rules on tiny cases."""

from __future__ import annotations

import shutil

import pandas as pd
import pyreadstat
import pytest

from submit.adam.build import build_adam
from submit.adam.context import AdamContext
from submit.adam.derive.dosing import planned_cycle_dose
from submit.adam.registry import DERIVATIONS
from submit.config import DoseStep
from submit.spec.store import load_spec

from conftest import ADAM_DIR, SDTM_DIR, SPECS

DAY_MINUTES = 24 * 60


def xpt(root, folder, name) -> pd.DataFrame:
    return pyreadstat.read_xport(str(root / folder / f"{name}.xpt"), dates_as_pandas_datetime=True)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory, default_sdtm, study):
    """ADaM from a copy of the spec with only the lead's top-level sheets and the ADAE/ADEX parts."""
    spec = tmp_path_factory.mktemp("spec_adex")
    for f in (SPECS / "adam").glob("*.csv"):
        shutil.copy(f, spec)
    shutil.copytree(SPECS / "adam" / "derivations", spec / "derivations")
    for part in ("adae", "adex"):
        shutil.copytree(SPECS / "adam" / "parts" / part, spec / "parts" / part)
    root = tmp_path_factory.mktemp("adam_adex")
    build_adam(spec, default_sdtm[0].domains, study, root)
    return root, default_sdtm[1]


@pytest.fixture(scope="module")
def adex(built):
    return xpt(built[0], ADAM_DIR, "adex")


@pytest.fixture(scope="module")
def ex(built):
    return xpt(built[1], SDTM_DIR, "ex")


def case_subject(cases: pd.DataFrame, name: str) -> str:
    return cases.rename(columns=str.lower).set_index("case").loc[name, "subjid"]


def aval(adex: pd.DataFrame, subjid: str, paramcd: str, avisit: str) -> float:
    hit = adex[(adex.SUBJID == subjid) & (adex.PARAMCD == paramcd) & (adex.AVISIT == avisit)]
    assert len(hit) == 1, (subjid, paramcd, avisit)
    return float(hit.AVAL.iloc[0])


# --- double programming from SDTM EX ---------------------------------------------------------
def independent_exposure(ex: pd.DataFrame) -> pd.DataFrame:
    """Per subject over the whole treatment: days infused, dose given, cycles started, gaps of
    more than 60 minutes between consecutive records of one cycle."""
    e = ex.copy()
    e["s"], e["e"] = pd.to_datetime(e.EXSTDTC), pd.to_datetime(e.EXENDTC)
    e["days"] = (e.e - e.s).dt.total_seconds() / 60 / DAY_MINUTES
    e["dose"] = e.EXDOSE * e.days
    e = e.sort_values(["USUBJID", "s"])
    gap = e.s - e.groupby(["USUBJID", "EXCAT", "EXSCAT"]).e.shift()
    e["gap"] = gap > pd.Timedelta(minutes=60)
    return pd.DataFrame({"TRTDURD": e.groupby("USUBJID").days.sum(), "CUMDOSE": e.groupby("USUBJID").dose.sum(),
                         "NCYCLE": e.groupby("USUBJID").apply(lambda g: len(g[["EXCAT", "EXSCAT"]].drop_duplicates())),
                         "NINTRP": e.groupby("USUBJID").gap.sum()})


def test_exposure_double_programmed_from_sdtm(adex, ex):
    expected = independent_exposure(ex)
    overall = adex[adex.AVISIT == "OVERALL"].pivot(index="USUBJID", columns="PARAMCD", values="AVAL")
    assert sorted(overall.index) == sorted(expected.index)
    for paramcd in expected.columns:
        assert overall.loc[expected.index, paramcd].to_numpy() == pytest.approx(
            expected[paramcd].astype(float).to_numpy(), abs=1e-9), paramcd
    assert overall.TRTDURD.median() == pytest.approx(expected.TRTDURD.median())


PLANNED = {"COH1": (420, 420), "COH2A": (350, 420), "COH2B": (560, 840), "COH3": (350, 420)}  # by hand


def test_planned_dose_and_intensity(adex, built, ex):
    adsl = xpt(built[0], ADAM_DIR, "adsl").set_index("USUBJID")
    cycles = ex[["USUBJID", "EXCAT", "EXSCAT"]].drop_duplicates()
    first = cycles.EXSCAT == "CYCLE 1"
    arm = cycles.USUBJID.map(adsl.ACTARMCD)
    cycles["planned"] = [PLANNED[a][0 if f else 1] for a, f in zip(arm, first)]
    expected = cycles.groupby("USUBJID").planned.sum()
    overall = adex[adex.AVISIT == "OVERALL"].pivot(index="USUBJID", columns="PARAMCD", values="AVAL")
    assert overall.PLDOSE.reindex(expected.index).tolist() == expected.astype(float).tolist()
    assert overall.DOSEINT.to_numpy() == pytest.approx((100 * overall.CUMDOSE / overall.PLDOSE).to_numpy())
    assert (overall.DOSEINT <= 100 + 1e-9).all() and (overall.DOSEINT < 100).any()


def test_subjects_computed_by_hand(adex, cases):
    # The interrupted infusion: cycle 2 ran 2010-11-17T11:15 to 11-26T12:00 (9 d 45 min), paused,
    # then 11-29T15:10 to 12-15T11:15 (15 d 20 h 05 min), at 15 ug/m2/day (cohort 1).
    subject = case_subject(cases, "INFUSION_INTERRUPTED")
    cycle2 = 9 + 45 / DAY_MINUTES + 15 + (20 * 60 + 5) / DAY_MINUTES
    assert aval(adex, subject, "TRTDURD", "CYCLE 2") == pytest.approx(cycle2)
    assert aval(adex, subject, "TRTDURD", "OVERALL") == pytest.approx(28 + cycle2)
    assert aval(adex, subject, "CUMDOSE", "OVERALL") == pytest.approx(15 * (28 + cycle2))
    assert aval(adex, subject, "NINTRP", "CYCLE 2") == 1
    assert aval(adex, subject, "NINTRP", "CYCLE 1") == 0
    assert aval(adex, subject, "NINTRP", "OVERALL") == 1
    assert aval(adex, subject, "DOSEINT", "CYCLE 2") == pytest.approx(100 * 15 * cycle2 / 420)
    # The one-day infusion: 2011-09-25T11:35 to 09-26T07:35 (20 h) at 5 ug/m2/day, cohort 3.
    subject = case_subject(cases, "NE_ONE_DAY")
    assert aval(adex, subject, "TRTDURD", "OVERALL") == pytest.approx(20 / 24)
    assert aval(adex, subject, "CUMDOSE", "OVERALL") == pytest.approx(5 * 20 / 24)
    assert aval(adex, subject, "PLDOSE", "OVERALL") == 350
    assert aval(adex, subject, "NCYCLE", "OVERALL") == 1
    # 101-004, cohort 2b: three full core cycles (5-15-30, then 30 and 30) and one full
    # retreatment cycle (5-15-30 again): 7x5 + 7x15 + 14x30 = 560, then 840, 840, and 560.
    assert aval(adex, "101-004", "TRTDURD", "OVERALL") == pytest.approx(4 * 28)
    assert aval(adex, "101-004", "CUMDOSE", "CORE STUDY TOTAL") == pytest.approx(560 + 840 + 840)
    assert aval(adex, "101-004", "CUMDOSE", "RETREATMENT CYCLE 1") == pytest.approx(560)
    assert aval(adex, "101-004", "NCYCLE", "CORE STUDY TOTAL") == 3
    assert aval(adex, "101-004", "NCYCLE", "RETREATMENT TOTAL") == 1
    assert aval(adex, "101-004", "DOSEINT", "OVERALL") == pytest.approx(100)


def test_bds_structure(adex, built):
    assert not adex.duplicated(["STUDYID", "USUBJID", "PARAMN", "AVISITN"]).any()
    assert adex.PARAMCD.str.len().max() <= 8
    pairs = adex[["PARAMCD", "PARAM", "PARAMN"]].drop_duplicates()
    assert len(pairs) == adex.PARAMCD.nunique() == adex.PARAM.nunique() == 6
    assert len(adex[["AVISIT", "AVISITN"]].drop_duplicates()) == adex.AVISIT.nunique() == adex.AVISITN.nunique()
    spec = load_spec(SPECS / "adam")
    clauses = {w.id: w for w in spec.where_clauses}
    vlm = {clauses[v.where_clause].conditions[0].values[0] for v in spec.value_level if v.dataset == "ADEX"}
    assert vlm == set(adex.PARAMCD)
    assert adex[adex.PARAMCD == "NCYCLE"].AVISIT.isin(["CORE STUDY TOTAL", "RETREATMENT TOTAL", "OVERALL"]).all()
    # Additive parameters: cycles add up to their phase, phases to the whole treatment.
    additive = adex[adex.PARAMCD.isin(["TRTDURD", "CUMDOSE", "PLDOSE", "NINTRP"])]
    cycles = additive[additive.AVISIT.str.contains("CYCLE")].groupby(["USUBJID", "PARAMCD", "APHASE"]).AVAL.sum()
    phases = additive[additive.AVISIT.str.endswith("TOTAL")].set_index(["USUBJID", "PARAMCD", "APHASE"]).AVAL
    assert cycles.sort_index().to_numpy() == pytest.approx(phases.sort_index().to_numpy())
    overall = additive[additive.AVISIT == "OVERALL"].set_index(["USUBJID", "PARAMCD"]).AVAL.sort_index()
    assert phases.groupby(level=[0, 1]).sum().sort_index().to_numpy() == pytest.approx(overall.to_numpy())
    adsl = xpt(built[0], ADAM_DIR, "adsl").set_index("USUBJID")
    for var in ("SUBJID", "SITEID", "AGE", "SEX", "SAFFL", "TRT01A", "TRT01AN", "TRTSDT"):
        assert adex[var].tolist() == adex.USUBJID.map(adsl[var]).tolist(), var
    assert (adex.TRTA == adex.TRT01A).all()
    assert set(adex.USUBJID) == set(adsl.index[adsl.SAFFL == "Y"])


# --- the rules on tiny cases ---------------------------------------------------------------------
def test_planned_cycle_dose_counts_each_steps_days():
    assert planned_cycle_dose((DoseStep(start=1, dose=15),), 28) == 420
    assert planned_cycle_dose((DoseStep(start=1, dose=5), DoseStep(start=8, dose=15)), 28) == 5 * 7 + 15 * 21
    steps = (DoseStep(start=1, dose=5), DoseStep(start=8, dose=15), DoseStep(start=15, dose=30))
    assert planned_cycle_dose(steps, 28) == 5 * 7 + 15 * 7 + 30 * 14


def test_only_gaps_longer_than_an_hour_are_interruptions(study):
    rows = [("S1", 1, "CORE STUDY", "CYCLE 1", 15, "2011-01-01T10:00", "2011-01-05T10:00"),
            ("S1", 2, "CORE STUDY", "CYCLE 1", 15, "2011-01-05T11:00", "2011-01-10T10:00"),  # 60 min: no
            ("S1", 3, "CORE STUDY", "CYCLE 1", 15, "2011-01-10T11:01", "2011-01-29T10:00"),  # 61 min: yes
            ("S1", 4, "CORE STUDY", "CYCLE 2", 15, "2011-02-12T10:00", "2011-02-20T10:00")]  # next cycle: no
    ex = pd.DataFrame(rows, columns=["USUBJID", "EXSEQ", "EXCAT", "EXSCAT", "EXDOSE", "EXSTDTC", "EXENDTC"])
    ex = ex.assign(STUDYID="X", EXDOSU="ug/m2/day")
    ctx = AdamContext(sdtm={"EX": ex}, study=study, adam={"ADSL": pd.DataFrame({"USUBJID": ["S1"],
                                                                                "ACTARMCD": ["COH1"]})})
    out = DERIVATIONS["derive_param_exposure"](
        pd.DataFrame(), ctx, measures={"N": "interruptions", "D": "duration_days", "C": "cycles_started",
                                       "I": "dose_intensity"},
        phases=[{"value": "CORE STUDY", "cycle_visit": "CYCLE", "total_visit": "TOTAL", "visitn": 0}],
        overall_visit="ALL", dose_plan="cohorts", infusion_days=28)
    got = out.set_index(["PARAMCD", "AVISIT"]).AVAL
    assert (got["N", "CYCLE 1"], got["N", "CYCLE 2"], got["N", "ALL"]) == (1, 0, 1)
    assert got["D", "CYCLE 2"] == 8 and got["C", "ALL"] == 2 and ("C", "CYCLE 1") not in got.index
    assert got["I", "CYCLE 2"] == pytest.approx(100 * 8 / 28)
    assert list(out.columns[:2]) == ["STUDYID", "USUBJID"]
