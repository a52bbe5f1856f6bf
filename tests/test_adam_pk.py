"""ADPC and ADPP of the default study: Css and CL double-programmed from the SDTM XPT files with
plain pandas, the planted 10 h 00 min / 9 h 59 min samples, the registry's BLQ rules on a copy of
the data with planted BLQ results, CL against the simulator's latent clearance, and the timing
rules (dose step in force, interruption, pre-dose and follow-up windows) on tiny cases."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from submit.adam.build import build_adam
from submit.adam.context import AdamContext
from submit.adam.derive.pk import iso_duration_hours
from submit.adam.registry import DERIVATIONS, load_pipeline

from conftest import ADAM_DIR, SDTM_DIR, SPECS

LOD, LLOQ = 3.0, 50.0


def xpt(root, folder, name) -> pd.DataFrame:
    return pyreadstat.read_xport(str(root / folder / f"{name}.xpt"), dates_as_pandas_datetime=True)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory, default_sdtm, study):
    """ADaM from a copy of the spec with the lead's top-level sheets and the ADPC/ADPP parts only,
    so that another dataset's part under construction cannot break these tests."""
    spec = tmp_path_factory.mktemp("spec_pk")
    for f in (SPECS / "adam").glob("*.csv"):
        shutil.copy(f, spec)
    shutil.copytree(SPECS / "adam" / "derivations", spec / "derivations")
    for part in ("adpc", "adpp"):
        shutil.copytree(SPECS / "adam" / "parts" / part, spec / "parts" / part)
    root = tmp_path_factory.mktemp("adam_pk")
    result = build_adam(spec, default_sdtm[0].domains, study, root)
    return root, default_sdtm[1], result


@pytest.fixture(scope="module")
def adpc(built):
    return xpt(built[0], ADAM_DIR, "adpc")


@pytest.fixture(scope="module")
def adpp(built):
    return xpt(built[0], ADAM_DIR, "adpp")


@pytest.fixture(scope="module")
def sdtm(built):
    return {d: xpt(built[1], SDTM_DIR, d) for d in ("pc", "ex", "dm")}


def case(cases: pd.DataFrame, name: str) -> pd.Series:
    return cases.set_index("case").loc[name]


def clock(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="%Y-%m-%dT%H:%M")


# --- Css and CL, programmed a second time from SDTM ---------------------------------------------
def independent_css(pc: pd.DataFrame, ex: pd.DataFrame) -> pd.DataFrame:
    """Css per subject, core cycle 1/2 and dose step from PC and EX alone: the EX record running at
    the sample (the later one at a boundary), dose steps numbered by dose changes within a cycle,
    the 10 h clock restarting after a gap, < LOD -> 0, < LLOQ dropped."""
    ex = ex.assign(start=clock(ex.EXSTDTC), end=clock(ex.EXENDTC)).sort_values(["USUBJID", "start"])
    cyc = ex.groupby(["USUBJID", "EXCAT", "EXSCAT"])
    ex["step"] = cyc.EXDOSE.transform(lambda d: (d != d.shift()).cumsum())
    joined = (cyc.end.shift() == ex.start) & (cyc.EXDOSE.shift() == ex.EXDOSE)
    ex["clock"] = ex.start.where(~joined)
    ex["clock"] = ex.groupby(["USUBJID", "EXCAT", "EXSCAT"]).clock.ffill()
    s = pc.assign(t=clock(pc.PCDTC)).merge(ex, on="USUBJID")
    s = s[(s.start <= s.t) & (s.t <= s.end)].sort_values("start").drop_duplicates(["USUBJID", "PCSEQ"], keep="last")
    s = s[(s.EXCAT == "CORE STUDY") & s.EXSCAT.isin(["CYCLE 1", "CYCLE 2"]) & (s.t - s.clock >= pd.Timedelta(hours=10))]
    below = s.PCSTRESC.str.startswith("<")
    limit = pd.to_numeric(s.PCSTRESC.str[1:], errors="coerce")
    s = s.assign(value=np.where(below, np.where(limit <= LOD, 0.0, np.nan), s.PCSTRESN))
    s = s[s.value.notna()]
    out = s.groupby(["USUBJID", "EXSCAT", "step"]).agg(css=("value", "mean"), n=("value", "size"), dose=("EXDOSE", "first"))
    out["cl"] = out.dose / 24 / out.css * 1000
    return out.reset_index()


def test_css_and_cl_match_an_independent_programming(adpp, sdtm):
    mine = independent_css(sdtm["pc"], sdtm["ex"]).rename(columns={"EXSCAT": "AVISIT", "step": "DOSESTPN"})
    mine["DOSESTPN"] = mine.DOSESTPN.astype(float)
    for paramcd, column in (("CSS", "css"), ("CL", "cl")):
        theirs = adpp[adpp.PARAMCD == paramcd][["USUBJID", "AVISIT", "DOSESTPN", "AVAL", "NSAMP", "DOSEA"]]
        both = mine.merge(theirs, on=["USUBJID", "AVISIT", "DOSESTPN"], how="outer", indicator=True)
        assert (both._merge == "both").all(), both[both._merge != "both"]
        assert np.allclose(both.AVAL, both[column], rtol=1e-12)
        assert (both.NSAMP == both.n).all() and (both.DOSEA == both.dose).all()
    assert len(mine) > 90


def test_cl_is_r0_over_css_in_l_per_h_per_m2(adpp, study):
    """R0 = 15/24 = 0.625 ug/m2/h and Css 550 pg/mL give 1.136 L/h/m2 (x 1.8 m2 ~ 2 L/h)."""
    new = DERIVATIONS["derive_param_clearance"](
        pd.DataFrame({"USUBJID": ["A", "B"], "PARAMCD": ["CSS", "CSS"], "AVAL": [550.0, 0.0], "DOSEA": [15.0, 15.0]}),
        AdamContext(sdtm={}, study=study))
    cl = new[new.PARAMCD == "CL"]
    assert list(cl.USUBJID) == ["A"]  # no CL where Css = 0
    assert cl.AVAL.iloc[0] == pytest.approx(0.625 / 550 * 1000) and cl.AVAL.iloc[0] == pytest.approx(1.13636, abs=1e-5)
    assert (new.R0 == 0.625).all()
    css, cl = adpp[adpp.PARAMCD == "CSS"], adpp[adpp.PARAMCD == "CL"]
    assert set(adpp.AVALU) == {"pg/mL", "L/h/m2"} and (cl.R0 == cl.DOSEA / 24).all()
    assert np.allclose(cl.AVAL.to_numpy(), (css.R0 / css.AVAL * 1000).to_numpy())


def test_clearance_agrees_with_the_latent_truth_and_the_publication(adpp, truth):
    """Per-subject mean CL within 25% of the simulator's clearance (a few noisy samples per step),
    the median ratio near 1; Css at 15 ug/m2/day and CL x BSA near the published values."""
    cl = adpp[adpp.PARAMCD == "CL"].assign(SUBJID=lambda d: d.USUBJID.str[-7:]).groupby("SUBJID").AVAL.mean()
    latent = truth.set_index("SUBJID").CL.astype(float)
    ratio = (cl / latent.reindex(cl.index))
    assert len(ratio) >= 30 and ratio.notna().all()
    assert ratio.between(0.75, 1.33).all(), ratio[~ratio.between(0.75, 1.33)]
    assert 0.9 < ratio.median() < 1.1
    css15 = adpp[(adpp.PARAMCD == "CSS") & (adpp.DOSEA == 15)].AVAL
    assert 400 < css15.median() < 700  # published about 470-620 pg/mL
    liters = adpp[adpp.PARAMCD == "CL"].eval("AVAL * BSABL")
    assert 1.5 < liters.median() < 3.0  # published about 2 L/h


# --- the planted 10 h boundary ------------------------------------------------------------------
@pytest.mark.parametrize("name, minutes, used", [("PK_10H_AFTER_STEP", 600, True), ("PK_UNDER_10H_AFTER_STEP", 599, False)])
def test_sample_ten_hours_after_the_step_is_steady_state_and_one_minute_less_is_not(adpc, adpp, sdtm, cases, name, minutes,
                                                                                    used):
    c = case(cases, name)
    assert c.visit == "C1 D15"
    subject = sdtm["dm"].USUBJID[sdtm["dm"].USUBJID.str.endswith(c.SUBJID)].iloc[0]
    ex = sdtm["ex"][(sdtm["ex"].USUBJID == subject) & (sdtm["ex"].EXCAT == "CORE STUDY") & (sdtm["ex"].EXSCAT == "CYCLE 1")]
    step3 = clock(ex.EXSTDTC).sort_values().iloc[2]
    rec = adpc[(adpc.USUBJID == subject) & (adpc.AVISITN == 1) & (adpc.ATPT == "DAY 15")].iloc[0]
    assert (rec.ADTM - step3) == pd.Timedelta(minutes=minutes)  # independent of the derivation
    assert rec.DOSESTPN == 3 and rec.DOSEA == 30 and rec.STPSTDTM == step3
    assert rec.ASRLT == pytest.approx(minutes / 60, abs=1e-9)
    assert rec.SSFL == ("Y" if used else "N")
    assert (rec.ANL01FL == "Y") == used
    assert (rec.CSSXRS or "") == ("" if used else "LESS THAN 10 H AFTER DOSE STEP START")
    steady = adpc[(adpc.USUBJID == subject) & (adpc.AVISITN == 1) & (adpc.DOSESTPN == 3) & (adpc.ANL01FL == "Y")]
    css = adpp[(adpp.USUBJID == subject) & (adpp.PARAMCD == "CSS") & (adpp.AVISITN == 1) & (adpp.DOSESTPN == 3)].iloc[0]
    assert css.NSAMP == len(steady) == (4 if used else 3)
    assert css.AVAL == pytest.approx(steady.AVAL.mean())


# --- the registry's BLQ rules, on a copy of the data with planted results ----------------------------
def run_pipelines(domains: dict, study, adsl: pd.DataFrame, names: list[str]) -> dict[str, pd.DataFrame]:
    ctx = AdamContext(sdtm=domains, study=study, adam={"ADSL": adsl})
    for name in names:
        ctx.dataset, df = name, pd.DataFrame()
        for step in load_pipeline(SPECS / "adam" / "derivations" / f"{name.lower()}.yaml").steps:
            df = DERIVATIONS[step.name](df, ctx, **step.params)
        ctx.adam[name] = df
    return ctx.adam


def test_below_lod_counts_as_zero_and_below_lloq_is_excluded(built, default_sdtm, study):
    domains = dict(default_sdtm[0].domains)
    pc = domains["PC"].copy()
    subject = "MT103-206-109-001"  # cohort 1: one step per cycle, samples on days 8-29 at steady state
    at = {tpt: pc.index[(pc.USUBJID == subject) & (pc.PCTPTREF == "CYCLE 1 INFUSION START") & (pc.PCTPT == tpt)][0]
          for tpt in ("DAY 8", "DAY 15", "DAY 22")}
    pc.loc[at["DAY 15"], ["PCORRES", "PCSTRESC", "PCSTRESN"]] = ["<LOD", "<3", np.nan]
    pc.loc[at["DAY 22"], ["PCORRES", "PCSTRESC", "PCSTRESN"]] = ["<LLOQ", "<50", np.nan]
    domains["PC"] = pc
    before = built[2].datasets
    after = run_pipelines(domains, study, before["ADSL"], ["ADPC", "ADPP"])
    a = after["ADPC"].set_index(["USUBJID", "PCSEQ"])
    lod, lloq = (subject, pc.loc[at["DAY 15"], "PCSEQ"]), (subject, pc.loc[at["DAY 22"], "PCSEQ"])
    assert a.loc[lod, "AVAL"] == 0 and a.loc[lod, "AVALCAT1"] == "<LOD" and a.loc[lod, "ANL01FL"] == "Y"
    assert np.isnan(a.loc[lloq, "AVAL"]) and a.loc[lloq, "AVALCAT1"] == "<LLOQ"
    assert a.loc[lloq, "CSSXRS"] == "BELOW LLOQ" and pd.isna(a.loc[lloq, "ANL01FL"])
    # By hand: the cycle 1 steady-state values of the subject, with 0 for one and the other dropped.
    pc1 = default_sdtm[0].domains["PC"]
    kept = pc1[(pc1.USUBJID == subject) & (pc1.PCTPTREF == "CYCLE 1 INFUSION START") & pc1.PCSTRESN.notna()]
    values = {tpt: v for tpt, v in zip(kept.PCTPT, kept.PCSTRESN)}
    expected = np.mean([values["48H AFTER INFUSION START"], values["DAY 8"], 0.0, values["DAY 29"]])
    css = after["ADPP"].query("USUBJID == @subject and PARAMCD == 'CSS' and AVISITN == 1").iloc[0]
    assert css.AVAL == pytest.approx(expected) and css.NSAMP == 4
    old = before["ADPP"].query("USUBJID == @subject and PARAMCD == 'CSS' and AVISITN == 1").iloc[0]
    assert old.NSAMP == 5 and old.AVAL != pytest.approx(css.AVAL)


# --- timing variables of the default study ------------------------------------------------------
def test_times_agree_with_the_sdtm_references(adpc, sdtm):
    pc = sdtm["pc"].set_index(["USUBJID", "PCSEQ"])
    a = adpc.set_index(["USUBJID", "PCSEQ"])
    ref = clock(pc.PCRFTDTC)
    assert (a.PCRFTDTM == ref.reindex(a.index)).all()
    minutes = ((a.ADTM - ref.reindex(a.index)) / pd.Timedelta(minutes=1))
    assert np.allclose(a.ARRLT * 60, minutes)
    assert np.allclose(a.NRRLT, pc.PCTPTNUM.reindex(a.index))  # PCTPTNUM is the nominal hour here
    cycle = pc.PCTPTREF.str.extract(r"CYCLE (\d) INFUSION START")[0].astype(float)
    assert (a.AVISITN == cycle.reindex(a.index)).all()
    first = clock(sdtm["dm"].set_index("USUBJID").RFXSTDTC)
    assert np.allclose(a.AFRLT * 60, (a.ADTM - a.index.get_level_values(0).map(first)) / pd.Timedelta(minutes=1))
    step2 = adpc[adpc.ATPT == "48H AFTER DOSE STEP 2 START"]
    assert (step2.DOSESTPN == 2).all() and (step2.NSRLT == 48).all() and (step2.NRRLT == 216).all()
    predose = adpc[adpc.ATPT == "PREDOSE"]
    assert predose.DOSEA.isna().all() and (predose.ARRLT < 0).all() and (predose.SSFL == "N").all()
    assert (predose[predose.AVISITN == 2].NFRLT == 42 * 24).all()


def test_interrupted_infusion_restarts_the_clock_but_not_the_step(adpc, sdtm, cases):
    subject = "MT103-206-" + case(cases, "INFUSION_INTERRUPTED").SUBJID
    ex = sdtm["ex"][(sdtm["ex"].USUBJID == subject) & (sdtm["ex"].EXSCAT == "CYCLE 2")].sort_values("EXSTDTC")
    assert len(ex) == 2 and ex.EXDOSE.nunique() == 1
    resumed = clock(ex.EXSTDTC).iloc[1]
    after = adpc[(adpc.USUBJID == subject) & (adpc.AVISITN == 2) & (adpc.ADTM > resumed)]
    assert len(after) and (after.STPSTDTM == resumed).all() and (after.DOSESTPN == 1).all()


def test_keys_unique_and_adsl_variables_equal_adsl(adpc, adpp, built):
    adsl = xpt(built[0], ADAM_DIR, "adsl").set_index("USUBJID")
    assert not adpc.duplicated(["USUBJID", "PARAMN", "ADTM", "PCSEQ"]).any()
    assert not adpp.duplicated(["USUBJID", "PARAMN", "AVISITN", "DOSESTPN"]).any()
    for ds, names in ((adpc, ["SUBJID", "SITEID", "TRT01A", "TRT01AN", "PKFL"]), (adpp, ["PKFL", "BSABL"])):
        for v in names:
            assert (ds[v].to_numpy() == ds.USUBJID.map(adsl[v]).to_numpy()).all(), v
    assert set(adpp.PARAMCD) == {"CSS", "CL"} and set(adpp.AVISITN) == {1, 2}


# --- the timing rules on tiny cases -----------------------------------------------------------
def tiny_ex() -> pd.DataFrame:
    rows = [("CYCLE 1", 5.0, "2020-01-01T10:00", "2020-01-08T10:00"),   # step 1
            ("CYCLE 1", 15.0, "2020-01-08T10:00", "2020-01-10T12:00"),  # step 2, interrupted
            ("CYCLE 1", 15.0, "2020-01-11T08:00", "2020-01-29T10:00")]  # step 2 resumed
    return pd.DataFrame([{"STUDYID": "S", "USUBJID": "A", "EXSEQ": float(i + 1), "EXCAT": "CORE STUDY", "EXSCAT": c,
                          "EXDOSE": d, "EXDOSU": "ug/m2/day", "EXSTDTC": s, "EXENDTC": e}
                         for i, (c, d, s, e) in enumerate(rows)])


def test_dose_in_force_steps_interruptions_and_windows(study):
    ctx = AdamContext(sdtm={"EX": tiny_ex()}, study=study)
    times = ["2019-12-20T08:00", "2020-01-01T09:30", "2020-01-01T19:59", "2020-01-01T20:00", "2020-01-08T10:00",
             "2020-01-10T12:00", "2020-01-10T18:00", "2020-01-11T13:00", "2020-01-11T18:00", "2020-01-29T10:00",
             "2020-02-05T08:00", "2020-03-01T08:00"]
    df = pd.DataFrame({"USUBJID": "A", "ADTM": clock(pd.Series(times))})
    out = DERIVATIONS["derive_vars_infusion_timing"](
        df, ctx, time="ADTM", phases={"CORE STUDY": {"visit": "CYCLE", "visitn": 0}}, cycle_days=42,
        before={"visit": "SCREENING", "visitn": 0}, after={"visit": "FOLLOW-UP", "visitn": 99},
        new_vars={"visit": "AVISIT", "dose": "DOSEA", "step": "DOSESTPN", "step_start": "STPSTDTM",
                  "from_cycle": "ARRLT", "from_step": "ASRLT"})
    out = DERIVATIONS["derive_var_steady_state"](out, ctx, new="SSFL")
    assert list(out.AVISIT) == ["SCREENING"] + ["CYCLE 1"] * 10 + ["FOLLOW-UP"]
    nan = np.nan
    assert np.array_equal(out.DOSEA, [nan, nan, 5, 5, 15, 15, nan, 15, 15, 15, nan, nan], equal_nan=True)
    assert np.array_equal(out.DOSESTPN, [nan, nan, 1, 1, 2, 2, nan, 2, 2, 2, nan, nan], equal_nan=True)
    assert list(out.SSFL) == ["N", "N", "N", "Y", "N", "Y", "N", "N", "Y", "Y", "N", "N"]
    assert out.ARRLT[1] == -0.5 and out.ASRLT[2] == pytest.approx(9 + 59 / 60) and out.ASRLT[3] == 10
    assert out.STPSTDTM[7] == pd.Timestamp("2020-01-11 08:00") and out.ASRLT[7] == 5  # clock restarted
    assert out.STPSTDTM[5] == pd.Timestamp("2020-01-08 10:00")


def test_iso_durations_in_hours():
    hours = iso_duration_hours(pd.Series(["PT48H", "P1DT2H30M", "-PT30M", "PT0H", "48H", None]))
    assert np.array_equal(hours, [48, 26.5, -0.5, 0, np.nan, np.nan], equal_nan=True)
