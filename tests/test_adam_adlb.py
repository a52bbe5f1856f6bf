"""ADLB of the default study: the cytokine peak per subject, cycle and dose step and the baseline
double-programmed from the SDTM XPT files with plain pandas, the planted result exactly at the
LLOQ, the nominal time points, and the LOD/LLOQ and peak rules on tiny cases."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from submit.adam.build import build_adam
from submit.adam.context import AdamContext
from submit.adam.derive.labs import blq_category
from submit.adam.registry import DERIVATIONS
from submit.errors import InputError

from conftest import ADAM_DIR, SDTM_DIR, SPECS

LOD, LLOQ = 20.0, 125.0
CYTOKINES = {"INTLK2", "INTLK6", "INTLK10", "TNF", "IFNG"}
HEMATOLOGY = {"PLAT", "NEUT", "WBC", "HGB", "BLASTLE"}


def xpt(root, folder, name) -> pd.DataFrame:
    return pyreadstat.read_xport(str(root / folder / f"{name}.xpt"), dates_as_pandas_datetime=True)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory, default_sdtm, study):
    """ADaM from a copy of the spec with the lead's top-level sheets and the ADLB part (and the ADPC
    part, which holds the timing methods and codelists ADLB shares)."""
    spec = tmp_path_factory.mktemp("spec_adlb")
    for f in (SPECS / "adam").glob("*.csv"):
        shutil.copy(f, spec)
    shutil.copytree(SPECS / "adam" / "derivations", spec / "derivations")
    for part in ("adpc", "adlb"):
        shutil.copytree(SPECS / "adam" / "parts" / part, spec / "parts" / part)
    root = tmp_path_factory.mktemp("adam_adlb")
    build_adam(spec, default_sdtm[0].domains, study, root)
    return root, default_sdtm[1]


@pytest.fixture(scope="module")
def adlb(built):
    return xpt(built[0], ADAM_DIR, "adlb")


@pytest.fixture(scope="module")
def sdtm(built):
    return {d: xpt(built[1], SDTM_DIR, d) for d in ("lb", "ex", "dm")}


def clock(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="%Y-%m-%dT%H:%M")


# --- programmed a second time from SDTM ------------------------------------------------------
def cytokine_values(lb: pd.DataFrame) -> pd.DataFrame:
    """Cytokine results with the documented rule: <LOD -> 10, <LLOQ -> 62.5, else the number."""
    c = lb[lb.LBCAT == "CYTOKINES"].copy()
    c["t"] = clock(c.LBDTC)
    c["imputed"] = c.LBSTRESC.isin(["<LOD", "<LLOQ"])
    c["value"] = c.LBSTRESC.map({"<LOD": LOD / 2, "<LLOQ": LLOQ / 2}).astype(float).fillna(c.LBSTRESN)
    return c


def independent_peaks(lb: pd.DataFrame, ex: pd.DataFrame) -> set:
    """(USUBJID, LBSEQ) of the highest value per subject, test, EX phase/cycle and dose step in force
    (the EX record running at the sample, the later one at a boundary; a step = a run of one dose);
    measured before imputed, then the earliest."""
    ex = ex.assign(start=clock(ex.EXSTDTC), end=clock(ex.EXENDTC)).sort_values(["USUBJID", "start"])
    ex["step"] = ex.groupby(["USUBJID", "EXCAT", "EXSCAT"]).EXDOSE.transform(lambda d: (d != d.shift()).cumsum())
    s = cytokine_values(lb).merge(ex[["USUBJID", "EXCAT", "EXSCAT", "step", "start", "end"]], on="USUBJID")
    s = s[(s.start <= s.t) & (s.t <= s.end)].sort_values("start").drop_duplicates(["USUBJID", "LBSEQ"], keep="last")
    s = s.assign(neg=-s.value).sort_values(["neg", "imputed", "t"])
    peaks = s.drop_duplicates(["USUBJID", "LBTESTCD", "EXCAT", "EXSCAT", "step"])
    return set(zip(peaks.USUBJID, peaks.LBSEQ))


def test_cytokine_peaks_match_an_independent_programming(adlb, sdtm):
    theirs = adlb[adlb.ANL01FL == "Y"]
    assert set(theirs.PARAMCD) == CYTOKINES
    mine = independent_peaks(sdtm["lb"], sdtm["ex"])
    assert set(zip(theirs.USUBJID, theirs.LBSEQ)) == mine
    assert len(mine) > 500
    assert not theirs.duplicated(["USUBJID", "PARAMCD", "APHASE", "ACYCLE", "DOSESTPN"]).any()


def test_cytokine_values_and_limits(adlb, sdtm):
    mine = cytokine_values(sdtm["lb"]).set_index(["USUBJID", "LBSEQ"])
    c = adlb[adlb.PARCAT1 == "CYTOKINES"].set_index(["USUBJID", "LBSEQ"])
    assert len(c) == len(mine)
    assert np.allclose(c.AVAL, mine.value.reindex(c.index))
    category = np.where(mine.LBSTRESC == "<LOD", "<LOD", np.where(mine.LBSTRESC == "<LLOQ", "<LLOQ", ">=LLOQ"))
    assert (c.AVALCAT1 == pd.Series(category, index=mine.index).reindex(c.index)).all()
    assert (c.ALOD == LOD).all() and (c.ALLOQ == LLOQ).all()
    h = adlb[adlb.PARCAT1 == "HEMATOLOGY"]
    assert set(h.PARAMCD) == HEMATOLOGY and (h.AVALCAT1 == "").all() and h.ALOD.isna().all()
    lb = sdtm["lb"].set_index(["USUBJID", "LBSEQ"])
    assert np.allclose(h.AVAL, lb.LBSTRESN.reindex(pd.MultiIndex.from_frame(h[["USUBJID", "LBSEQ"]])))


def test_result_exactly_at_the_lloq_is_quantified_and_can_be_the_peak(adlb, cases):
    subject = "MT103-206-" + cases.set_index("case").loc["CYTOKINE_EQ_LLOQ", "SUBJID"]
    rec = adlb[(adlb.USUBJID == subject) & (adlb.LBSTRESC == "125")]
    assert len(rec) == 1
    rec = rec.iloc[0]
    assert rec.AVAL == 125 and rec.AVALCAT1 == ">=LLOQ"
    group = adlb[(adlb.USUBJID == subject) & (adlb.PARAMCD == rec.PARAMCD) & (adlb.AVISITN == rec.AVISITN)
                 & (adlb.DOSESTPN == rec.DOSESTPN)]
    # The other samples of its step are below the LLOQ: the planted value is the step's peak.
    assert group.AVAL.max() == 125 and (group.AVALCAT1 != ">=LLOQ").sum() == len(group) - 1
    assert rec.ANL01FL == "Y" and (group.ANL01FL == "Y").sum() == 1


def test_baseline_is_the_last_result_before_the_first_infusion(adlb, sdtm):
    first = clock(sdtm["dm"].set_index("USUBJID").RFXSTDTC)
    lb = sdtm["lb"][sdtm["lb"].LBCAT.isin(["CYTOKINES", "HEMATOLOGY"])]
    lb = lb.assign(t=clock(lb.LBDTC), first=lb.USUBJID.map(first))
    pre = lb[(lb.t <= lb["first"]) & (lb.LBSTRESC != "")].sort_values(["t", "LBSEQ"])
    mine = pre.drop_duplicates(["USUBJID", "LBTESTCD"], keep="last")
    theirs = adlb[adlb.ABLFL == "Y"]
    assert set(zip(theirs.USUBJID, theirs.LBSEQ)) == set(zip(mine.USUBJID, mine.LBSEQ))
    assert len(theirs) == 36 * 10
    base = theirs.set_index(["USUBJID", "PARAMCD"]).AVAL
    assert np.allclose(adlb.BASE, base.reindex(pd.MultiIndex.from_frame(adlb[["USUBJID", "PARAMCD"]])))
    post = adlb.ADTM > adlb.USUBJID.map(first)
    assert np.allclose(adlb.CHG[post], (adlb.AVAL - adlb.BASE)[post]) and adlb.CHG[~post].isna().all()
    cyt = theirs[theirs.PARCAT1 == "CYTOKINES"]
    assert (cyt.ATPT == "PREDOSE").all() and (cyt.AVISIT == "CYCLE 1").all()


def test_nominal_time_points_of_the_cytokine_schedule(adlb, cases):
    c = adlb[adlb.PARCAT1 == "CYTOKINES"]
    assert (c.ATPT != "").all()
    assert ((c.ARRLT - c.NRRLT).abs() <= 1).all()
    assert (c.ATPTN == c.NRRLT).all() and (c.ATPTREF == c.AVISIT + " INFUSION START").all()
    # Five samples per step and cycle: before the start (in the step before: no dose for step 1), 2-48 h after.
    pre2 = c[c.ATPT == "BEFORE DOSE STEP 2 START"]
    assert len(pre2) and (pre2.DOSESTPN == 1).all() and (pre2.NSRLT == 168).all()
    after2 = c[c.ATPT == "6H AFTER DOSE STEP 2 START"]
    assert (after2.DOSESTPN == 2).all() and (after2.NSRLT == 6).all() and (after2.NRRLT == 174).all()
    assert c[c.ATPT == "PREDOSE"].DOSEA.isna().all()
    per_cycle = c.groupby(["USUBJID", "PARAMCD", "AVISITN"]).ATPT.nunique()
    short = set(per_cycle[~per_cycle.isin([5, 10, 15])].index.get_level_values("USUBJID"))
    assert short == {"MT103-206-" + cases.set_index("case").loc["NE_ONE_DAY", "SUBJID"]}  # stopped on day 1


def test_keys_unique_and_adsl_variables_equal_adsl(adlb, built):
    adsl = xpt(built[0], ADAM_DIR, "adsl").set_index("USUBJID")
    assert not adlb.duplicated(["USUBJID", "PARAMN", "ADTM", "LBSEQ"]).any()
    for v in ("SUBJID", "SITEID", "TRT01A", "TRT01AN", "SAFFL", "CYTFL"):
        assert (adlb[v].to_numpy() == adlb.USUBJID.map(adsl[v]).to_numpy()).all(), v


# --- the rules on tiny cases ----------------------------------------------------------------
def test_result_categories_at_the_limits():
    text = pd.Series(["<LOD", "<LLOQ", "<3", "<50", "125", "124.9", "19.9", "20", None, "NOT DONE"])
    got = blq_category(text, pd.Series(LOD, index=text.index), pd.Series(LLOQ, index=text.index))
    assert list(got.fillna("")) == ["<LOD", "<LLOQ", "<LOD", "<LLOQ", ">=LLOQ", "<LLOQ", "<LOD", "<LLOQ", "", ""]


def test_blq_imputations(study):
    df = pd.DataFrame({"USUBJID": "A", "R": ["<LOD", "<LLOQ", "125", "300"], "CAT": "C"})
    ctx = AdamContext(sdtm={}, study=study)
    half = DERIVATIONS["derive_vars_blq"](df, ctx, result="R", limits={"lod": 20, "lloq": 125}, below_lod="LOD/2",
                                         below_lloq="LLOQ/2")
    assert list(half.AVAL) == [10, 62.5, 125, 300] and list(half.ALOD) == [20] * 4
    pk = DERIVATIONS["derive_vars_blq"](df.assign(R=["<3", "<50", "50", "49.9"]), ctx, result="R",
                                        limits={"lod": 3, "lloq": 50},
                                        below_lod=0, below_lloq=None)
    assert np.array_equal(pk.AVAL, [0, np.nan, 50, np.nan], equal_nan=True)
    assert list(pk.AVALCAT1) == ["<LOD", "<LLOQ", ">=LLOQ", "<LLOQ"]
    skipped = DERIVATIONS["derive_vars_blq"](df.assign(AVAL=1.0), ctx, result="R",
                                             limits={"lod": 20, "lloq": 125}, filter={"CAT": "other"})
    assert (skipped.AVAL == 1).all() and skipped.AVALCAT1.isna().all()
    for bad in ({"lod": 50, "lloq": 3}, {"lod": 3}, "pk", {"lod": 3, "lloq": 50, "unit": "pg/mL"}):
        with pytest.raises(InputError) as err:
            DERIVATIONS["derive_vars_blq"](df, ctx, result="R", limits=bad)
        assert err.value.problems[0].key == "limits"


def test_peak_prefers_a_measured_value_to_an_equal_imputed_one_then_the_earliest(study):
    t = pd.Timestamp("2020-01-01 10:00")
    df = pd.DataFrame({
        "G": ["a", "a", "b", "b", "c", "c", "d"],
        "AVAL": [125.0, 125.0, 62.5, 62.5, 10.0, 300.0, np.nan],
        "AVALCAT1": ["<LLOQ", ">=LLOQ", "<LLOQ", "<LLOQ", "<LOD", ">=LLOQ", ">=LLOQ"],
        "ADTM": [t, t + pd.Timedelta(hours=4), t + pd.Timedelta(hours=6), t + pd.Timedelta(hours=2), t, t, t]})
    out = DERIVATIONS["derive_var_peak_flag"](df, AdamContext(sdtm={}, study=study), by=["G"], new="PEAK",
                                              imputed={"AVALCAT1": ["<LOD", "<LLOQ"]})
    assert list(out.PEAK.fillna("")) == ["", "Y", "", "Y", "", "Y", ""]
