"""The simulated MT103-206 extract: published counts, consistency of every raw measurement with
the latent course (recomputed from the raw data by an independent route), boundary cases,
determinism and other sizes."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import load_csv_folder
from submit.raw.reader import read_raw
from submit.simulate import simulate_study, write_extract

# Conversions to 10^9/L and g/dL written out here independently of the simulator's tables.
TO_GIGA = {"/uL": 1e-3, "10^9/L": 1.0, "/nL": 1.0}
TO_G_DL = {"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1 / 0.6206}
RANK = {"CR": 4, "CRh*": 3, "PR": 2, "NR": 1}


def response_from_raw(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Registry criteria applied to each day-29 marrow: blasts, circulating blasts, EMD and the
    blood counts of the marrow date, or the latest within 7 days before it."""
    bm = raw["bm"][(raw["bm"].BMDONE == "Y") & raw["bm"].VISIT.str.match(r"^C[12]D29$")].copy()
    bm["blasts"] = bm.BLASTPCT.astype(float)
    bm["date"] = pd.to_datetime(bm.BMDT)
    emd = raw["emd"][["SUBJID", "VISIT", "EMDSTAT"]]
    h = raw["hema"].copy()
    h["date"] = pd.to_datetime(h.LBDT)
    h["value"] = pd.to_numeric(h.RESULT)
    h.loc[h.TEST.isin(["PLATELETS", "ANC"]), "value"] *= h.UNIT.map(TO_GIGA)
    h.loc[h.TEST == "HEMOGLOBIN", "value"] *= h.UNIT.map(TO_G_DL)
    wide = h.pivot_table(index=["SUBJID", "date"], columns="TEST", values="value").reset_index()
    m = bm.merge(emd, on=["SUBJID", "VISIT"]).merge(wide, on="SUBJID", suffixes=("", "_lab"))
    m = m[(m.date_lab <= m.date) & (m.date_lab >= m.date - pd.Timedelta(days=7))]
    m = m.sort_values("date_lab").groupby(["SUBJID", "VISIT"]).tail(1)
    clear = (m.blasts <= 5) & (m.BLASTS == 0) & (m.EMDSTAT == "Absent")
    cr = clear & (m.PLATELETS > 100) & (m.HEMOGLOBIN >= 11) & (m.ANC > 1.5)
    crh = clear & (m.PLATELETS > 50) & (m.HEMOGLOBIN >= 7) & (m.ANC > 0.5)
    m["resp"] = np.select([cr, crh, m.blasts <= 25], ["CR", "CRh*", "PR"], "NR")
    return m[["SUBJID", "VISIT", "resp"]]


def best_of(resp: pd.DataFrame, subjects: pd.Series) -> pd.Series:
    best = resp.assign(rank=resp.resp.map(RANK)).groupby("SUBJID")["rank"].max()
    names = {v: k for k, v in RANK.items()}
    return best.reindex(subjects).map(names).fillna("NE")


def test_published_counts_in_the_latent_truth(truth):
    assert truth.BOR.value_counts().to_dict() == {"CR": 15, "CRh*": 10, "NR": 8, "PR": 2, "NE": 1}
    responders = truth[truth.CRCRH == "Y"]
    assert len(truth) == 36 and len(responders) == 25
    assert (responders.MRDRESP == "Y").sum() == 22
    assert (truth.MRDRESP == "Y").sum() == 22  # no MRD response without remission
    assert (responders.HSCTIMM == "Y").sum() == 13
    assert truth.groupby("COHORT").size().to_dict() == {"1": 7, "2a": 5, "2b": 6, "3": 18}


def test_enrolment_window_and_cutoff(raw, truth, study):
    assert truth.TRTSDT.min() == str(study.dates.first_patient_dosed)
    assert truth.TRTSDT.max() == str(study.dates.last_patient_dosed)
    first_infusion = raw["infusion"].groupby("SUBJID").STDT.min()
    assert (first_infusion.reindex(truth.SUBJID).to_numpy() == truth.TRTSDT.to_numpy()).all()
    cutoff = str(study.dates.data_cutoff)
    for name, df in raw.items():
        for col in [c for c in df.columns if c.endswith("DT")]:
            known = df[col][df[col] != ""].str.replace("UN", "01")
            assert (known <= cutoff).all(), f"{name}.{col} has a date after the cut-off"


def test_best_response_recomputed_from_raw_equals_truth(raw, truth):
    derived = best_of(response_from_raw(raw), truth.SUBJID)
    assert derived.to_numpy().tolist() == truth.BOR.tolist()
    assert derived.value_counts()[["CR", "CRh*"]].tolist() == [15, 10]


def test_reported_response_differs_from_the_data_only_at_the_planted_case(raw, cases):
    derived = response_from_raw(raw).merge(raw["resp"], on=["SUBJID", "VISIT"])
    differ = derived[derived.resp != derived.RESP]
    planted = cases[cases.case == "PLAT_EQ_100K_CRH"]
    assert differ[["SUBJID", "VISIT"]].values.tolist() == planted[["SUBJID", "visit"]].values.tolist()
    assert differ.RESP.tolist() == ["CR"] and differ.resp.tolist() == ["CRh*"]


def test_mrd_response_recomputed_from_raw_equals_truth(raw, truth):
    mrd = raw["mrd"][raw["mrd"].VISIT.str.match(r"^C[1-5]D29$")]
    value = pd.to_numeric(mrd.MRDVAL, errors="coerce").where(mrd.MRDRES != "NEGATIVE", 0.0)
    responders = set(mrd.SUBJID[value < 1e-4])
    assert sorted(responders) == sorted(truth.SUBJID[truth.MRDRESP == "Y"])


def test_immediate_hsct_recomputed_from_raw_equals_truth(raw, truth):
    hsct = raw["hsct"].merge(raw["altx"][["SUBJID", "TXSTDT"]], on="SUBJID", how="left").fillna("")
    other_first = (hsct.TXSTDT != "") & (hsct.TXSTDT.str.replace("UN", "01") < hsct.HSCTDT)
    immediate = hsct[hsct.REMSTAT.isin(["CR", "CRh*"]) & ~other_first]
    assert sorted(immediate.SUBJID) == sorted(truth.SUBJID[truth.HSCTIMM == "Y"])
    assert len(raw["hsct"]) > len(immediate)  # a transplant after salvage therapy exists too


def _km_median(time: np.ndarray, event: np.ndarray) -> float:
    order = np.lexsort((~event, time))
    t, e = time[order], event[order]
    at_risk = len(t) - np.arange(len(t))
    surv = np.cumprod(np.where(e, 1 - 1 / at_risk, 1.0))
    return float(t[np.argmax(surv <= 0.5)]) if (surv <= 0.5).any() else np.nan


def test_survival_medians_near_published(raw, truth, study):
    last = pd.concat([df[["SUBJID", c]].rename(columns={c: "d"}) for df in raw.values()
                      for c in df.columns if c.endswith("DT")])
    last = last[last.d.str.match(r"^\d{4}-\d{2}-\d{2}$")].groupby("SUBJID").d.max()
    start = pd.to_datetime(truth.TRTSDT)
    dead = truth.DEATH == "Y"
    end = pd.to_datetime(truth.DTHDT.where(dead, last.reindex(truth.SUBJID).to_numpy()))
    os_months = ((end - start).dt.days + 1) / 30.4375
    assert 8.5 <= _km_median(os_months.to_numpy(), dead.to_numpy()) <= 11.5  # published 9.8

    r = truth[truth.CRCRH == "Y"]
    event = (r.RELAPSE == "Y") | (r.DEATH == "Y")
    event_date = r.RELAPSDT.where(r.RELAPSE == "Y", r.DTHDT)
    end = pd.to_datetime(event_date.where(event, last.reindex(r.SUBJID).to_numpy()))
    rfs_months = ((end - pd.to_datetime(r.FIRSTREMDT)).dt.days + 1) / 30.4375
    assert 6.0 <= _km_median(rfs_months.to_numpy(), event.to_numpy()) <= 9.5  # published 7.6


EXPECTED_CASES = {
    "HGB_EQ_11_CR", "PLAT_EQ_100K_CRH", "ANC_EQ_1500_CRH", "HGB_EQ_7_CRH", "BLAST_EQ_5_CR", "BLAST_EQ_5_LATER",
    "BLAST_EQ_25_PR", "PLAT_EQ_50K_PR", "ANC_EQ_500_PR", "CIRC_BLASTS_PR", "MRD_EQ_1E-4", "BM_NOT_DONE",
    "HEMA_D29_MISSING", "DEATH_NO_RELAPSE", "RELAPSE_AFTER_HSCT", "DEATH_PD_NO_RELAPSE", "EMD_RELAPSE",
    "LOST_TO_FOLLOW_UP", "NE_ONE_DAY", "UPGRADE_CRH_TO_CR", "AGE_RANGE", "PK_10H_AFTER_STEP",
    "PK_UNDER_10H_AFTER_STEP", "CYTOKINE_EQ_LLOQ", "AE_30_DAYS_AFTER", "AE_31_DAYS_AFTER",
    "AE_PARTIAL_START_FIRST_MONTH", "HSCT_AFTER_SALVAGE", "INFUSION_INTERRUPTED",
}


def test_every_boundary_case_is_in_the_default_study(cases):
    assert EXPECTED_CASES <= set(cases.case)


def _lab(raw, cases, case, test):
    c = cases[cases.case == case].iloc[0]
    h = raw["hema"]
    bm_date = raw["bm"].query("SUBJID == @c.SUBJID and VISIT == @c.visit").BMDT.iloc[0]
    row = h[(h.SUBJID == c.SUBJID) & (h.LBDT == bm_date) & (h.TEST == test)].iloc[0]
    return float(row.RESULT), row.UNIT


@pytest.mark.parametrize("case, test, expected_giga_or_gdl", [
    ("PLAT_EQ_100K_CRH", "PLATELETS", 100.0), ("ANC_EQ_1500_CRH", "ANC", 1.5), ("PLAT_EQ_50K_PR", "PLATELETS", 50.0),
    ("ANC_EQ_500_PR", "ANC", 0.5), ("HGB_EQ_11_CR", "HEMOGLOBIN", 11.0), ("HGB_EQ_7_CRH", "HEMOGLOBIN", 7.0),
])
def test_blood_counts_sit_exactly_on_the_thresholds(raw, cases, case, test, expected_giga_or_gdl):
    value, unit = _lab(raw, cases, case, test)
    factor = TO_G_DL[unit] if test == "HEMOGLOBIN" else TO_GIGA[unit]
    assert value * factor == pytest.approx(expected_giga_or_gdl, abs=1e-12)


@pytest.mark.parametrize("case, blasts", [("BLAST_EQ_5_CR", "5.0"), ("BLAST_EQ_5_LATER", "5.0"), ("BLAST_EQ_25_PR", "25.0")])
def test_marrow_blasts_sit_exactly_on_the_thresholds(raw, cases, case, blasts):
    c = cases[cases.case == case].iloc[0]
    assert raw["bm"].query("SUBJID == @c.SUBJID and VISIT == @c.visit").BLASTPCT.tolist() == [blasts]


def test_course_boundary_cases_in_the_data(raw, truth, cases):
    subject = lambda case: cases[cases.case == case].SUBJID.iloc[0]  # noqa: E731
    t = truth.set_index("SUBJID")
    s = subject("MRD_EQ_1E-4")
    assert "1.0E-04" in raw["mrd"][raw["mrd"].SUBJID == s].MRDRES.tolist() and t.MRDRESP[s] == "N"
    c = cases[cases.case == "BM_NOT_DONE"].iloc[0]
    assert raw["bm"].query("SUBJID == @c.SUBJID and VISIT == @c.visit").BMDONE.tolist() == ["N"]
    assert raw["resp"].query("SUBJID == @c.SUBJID and VISIT == @c.visit").empty
    c = cases[cases.case == "HEMA_D29_MISSING"].iloc[0]
    assert raw["hema"].query("SUBJID == @c.SUBJID and VISIT == 'C1D29'").empty
    s = subject("DEATH_NO_RELAPSE")
    assert (t.CRCRH[s], t.DEATH[s], t.RELAPSE[s]) == ("Y", "Y", "N")
    s = subject("RELAPSE_AFTER_HSCT")
    assert t.RELAPSE[s] == "Y" and t.RELAPSDT[s] > t.HSCTDT[s] != ""
    s = subject("DEATH_PD_NO_RELAPSE")
    assert raw["death"].set_index("SUBJID").DTHCAUS[s] == "Disease progression" and t.RELAPSE[s] == "N"
    s = subject("EMD_RELAPSE")
    relapse = raw["emd"][(raw["emd"].SUBJID == s) & (raw["emd"].EMDDT == t.RELAPSDT[s])]
    assert relapse.EMDSTAT.tolist() == ["Present"]
    assert float(raw["bm"][(raw["bm"].SUBJID == s) & (raw["bm"].BMDT == t.RELAPSDT[s])].BLASTPCT.iloc[0]) <= 5
    s = subject("LOST_TO_FOLLOW_UP")
    assert raw["ds"].query("SUBJID == @s and DSCAT == 'End of study'").DSREAS.tolist() == ["Lost to follow-up"]
    s = subject("NE_ONE_DAY")
    inf = raw["infusion"][raw["infusion"].SUBJID == s]
    assert inf.ENDRSN.tolist() == ["Stopped - adverse event"] and raw["bm"].query("SUBJID == @s").VISIT.tolist() == ["SCR"]
    assert sorted(raw["dm"].AGE.astype(int))[::35] == [18, 77]
    assert raw["ae"].AESTDT.str.endswith("-UN").any() and raw["disease"].DIAGDT.str.contains("UN").any()
    assert (raw["cytokine"].RESULT == "125.0").any()


def test_pk_samples_around_ten_hours_after_a_step(raw, cases):
    inf = raw["infusion"]
    for case, minutes in (("PK_10H_AFTER_STEP", 600), ("PK_UNDER_10H_AFTER_STEP", 599)):
        s = cases[cases.case == case].SUBJID.iloc[0]
        step = inf[(inf.SUBJID == s) & (inf.CYCLE == "1") & (inf.STEP == "3")].iloc[0]
        sample = raw["pk"].query("SUBJID == @s and CYCLE == '1' and SAMPLE == 'D15'").iloc[0]
        gap = pd.Timestamp(f"{sample.PKDT} {sample.PKTM}") - pd.Timestamp(f"{step.STDT} {step.STTM}")
        assert gap == pd.Timedelta(minutes=minutes)


def test_ae_at_the_edges_of_the_treatment_emergent_window(raw, cases, truth):
    s = cases[cases.case == "AE_30_DAYS_AFTER"].SUBJID.iloc[0]
    last = pd.Timestamp(raw["infusion"][raw["infusion"].SUBJID == s].ENDT.max())
    starts = pd.to_datetime(raw["ae"][raw["ae"].SUBJID == s].AESTDT.str.replace("UN", "01"))
    offsets = set((starts - last).dt.days)
    assert {30, 31} <= offsets


def test_predose_pk_is_below_detection_and_infusions_are_ordered(raw):
    assert set(raw["pk"][raw["pk"].SAMPLE == "PREDOSE"].RESULT) == {"<LOD"}
    inf = raw["infusion"][raw["infusion"].ENDT != ""]
    start = pd.to_datetime(inf.STDT + " " + inf.STTM)
    end = pd.to_datetime(inf.ENDT + " " + inf.ENTM)
    assert (end > start).all()


def test_default_extract_passes_the_reader(default_raw, schema, study):
    extract = read_raw(default_raw, schema, study)
    assert set(extract.frames) == set(schema.names)


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.csv"))}


def test_same_seed_same_bytes(tmp_path, study, simulation, schema, default_raw):
    write_extract(simulate_study(study, simulation), tmp_path / "raw", schema)
    assert _digest(tmp_path / "raw") == _digest(default_raw)
    assert _digest(tmp_path / "raw_truth") == _digest(default_raw.with_name("raw_truth"))
    write_extract(simulate_study(study, simulation, seed=7), tmp_path / "other", schema)
    assert _digest(tmp_path / "other") != _digest(default_raw)


@pytest.mark.parametrize("n", [1, 5, 400])
def test_other_sizes_are_valid_extracts(tmp_path, study, simulation, schema, n):
    write_extract(simulate_study(study, simulation, n_subjects=n, seed=11), tmp_path / "raw", schema)
    extract = read_raw(tmp_path / "raw", schema, study)
    assert len(extract.frames["dm"]) == n
    truth = pd.read_csv(tmp_path / "raw_truth" / "subjects.csv", dtype=str, keep_default_na=False)
    if n == 400:  # rates drawn at random around the published ones (25/36 = 0.69)
        assert 0.55 < (truth.CRCRH == "Y").mean() < 0.83
        raw = load_csv_folder(tmp_path / "raw")
        assert best_of(response_from_raw(raw), truth.SUBJID).tolist() == truth.BOR.tolist()


def test_each_interrupting_ae_matches_an_interruption_in_the_infusion_log(raw):
    ae = raw["ae"][raw["ae"].AEACN == "Infusion interrupted"]
    inf = raw["infusion"]
    stops = inf[inf.ENDRSN == "Interrupted - adverse event"]
    assert len(ae) == len(stops) > 0
    assert sorted(zip(ae.SUBJID, ae.AESTDT)) == sorted(zip(stops.SUBJID, stops.ENDT))
    # the infusion resumes later the same cycle, or that cycle's infusion ends there
    nxt = inf.groupby(["SUBJID", "PHASE", "CYCLE"]).shift(-1)
    resumed = nxt.loc[stops.index].dropna(subset=["STDT"])
    assert (resumed.STDT + resumed.STTM > stops.loc[resumed.index].ENDT + stops.loc[resumed.index].ENTM).all()
