"""Assemble the raw datasets from the latent course (all columns vectorized over subjects)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.simulate import Extract, boundary, marrow, safety, treatment
from submit.simulate.course import NEVER, categorical, draw_course
from submit.simulate.params import SimulationParams
from submit.simulate.text import fixed as fmt
from submit.simulate.text import hhmm
from submit.simulate.treatment import DAY

HB_FACTOR = {"g/dL": 1.0, "g/L": 10.0, "mmol/L": 0.6206}  # from g/dL
COUNT_FACTOR = {"/uL": 1000.0, "10^9/L": 1.0, "/nL": 1.0}  # from 10^9/L
NORMAL = {  # reference ranges in the reported unit
    ("PLATELETS", "/uL"): (150000, 400000), ("PLATELETS", "10^9/L"): (150, 400),
    ("ANC", "/uL"): (1800, 7700), ("ANC", "10^9/L"): (1.8, 7.7),
    ("WBC", "/uL"): (4000, 10000), ("WBC", "10^9/L"): (4.0, 10.0), ("WBC", "/nL"): (4.0, 10.0),
    ("HEMOGLOBIN", "g/dL"): (12.0, 16.0), ("HEMOGLOBIN", "g/L"): (120, 160), ("HEMOGLOBIN", "mmol/L"): (7.4, 9.9),
    # Circulating blasts: the local laboratories report them with no normal range (none are expected in
    # healthy blood; a range of 0-0 is not a range, FDA FB3901/FB3902), so the raw NRLO/NRHI are empty.
    ("BLASTS", "%"): (None, None),
}


def dates(base: np.ndarray, days) -> np.ndarray:
    """ISO dates (YYYY-MM-DD) of day offsets from each subject's first infusion date."""
    return (base + np.asarray(days, dtype="int64").astype("timedelta64[D]")).astype("datetime64[D]").astype(str).astype(object)


def clock(minutes) -> tuple[np.ndarray, np.ndarray]:
    """(day offset, HH:MM) of clock minutes counted from midnight of study day 1."""
    day, rem = np.divmod(np.asarray(minutes, dtype="int64"), DAY)
    return day, hhmm(rem)


def yn(flags) -> np.ndarray:
    return np.where(np.asarray(flags, bool), "Y", "N").astype(object)


def partial(iso: np.ndarray, rng: np.random.Generator, p_day: float, p_month: float = 0.0) -> np.ndarray:
    """Blank out the day (and sometimes the month) of some dates, as an EDC records unknowns."""
    iso = np.asarray(iso, dtype=object)
    u = rng.random(len(iso))
    s = pd.Series(iso, dtype=object)
    no_day = s.str.slice(0, 8) + "UN"
    no_month = s.str.slice(0, 5) + "UN-UN"
    out = np.where(u < p_month, no_month, np.where(u < p_month + p_day, no_day, s))
    return np.where(s.str.len() == 10, out, iso).astype(object)


def build_extract(study: StudyConfig, p: SimulationParams, n: int, rng: np.random.Generator) -> Extract:
    cases = boundary.Cases()
    course = boundary.adjust_course(draw_course(study, p, n, rng), cases)
    base = course.trtsdt.to_numpy().astype("datetime64[D]")
    idx = np.arange(n)
    cutoff = course.to_cutoff.to_numpy()

    # --- subjects, sites and lab units ---------------------------------------------------------
    sites = np.array([s.id for s in study.sites], dtype=object)
    w = np.array(p.site_weights[: len(sites)])
    site_pos = rng.choice(len(sites), size=n, p=w / w.sum())
    seq = pd.Series(site_pos).groupby(site_pos).cumcount().to_numpy() + 1
    width = max(3, len(str(int(seq.max()))))
    subjid = (pd.Series(sites[site_pos]) + "-" + pd.Series(seq).astype(str).str.zfill(width)).to_numpy(dtype=object)
    units = {test: np.empty(len(sites), dtype=object) for test in ("PLATELETS", "ANC", "WBC", "HEMOGLOBIN")}
    for group in p.lab_units:
        for test in units:
            units[test][[s - 1 for s in group.sites]] = getattr(group, test)
    subj_units = {test: u[site_pos] for test, u in units.items()}
    exact_hb = np.isin(subj_units["HEMOGLOBIN"], ["g/dL", "g/L"])
    frames: dict[str, pd.DataFrame] = {}

    # --- demographics, disease, consent, cohort --------------------------------------------------
    d = p.demographics
    age = np.clip(np.round(d.age_range[0] + np.exp(rng.normal(np.log(d.age_median - d.age_range[0]), 0.75, n))),
                  *d.age_range).astype(int)
    if n >= 2:  # the published range ends
        age[np.argmin(age)], age[np.argmax(age)] = d.age_range
        cases.add("AGE_RANGE", int(np.argmin(age)), "", f"youngest subject {d.age_range[0]}, oldest {d.age_range[1]}")
    male = rng.random(n) < d.male
    scr = rng.integers(3, study.schedule.screening_window_days + 1, n)  # screening marrow, days before day 1
    icdt = -scr - rng.integers(1, 8, n)
    ic_year = pd.DatetimeIndex(dates(base, icdt)).year.to_numpy()
    frames["dm"] = pd.DataFrame({
        "SUBJID": subjid, "SITEID": sites[site_pos],
        "BRTHYR": ic_year - age - (rng.random(n) < 0.5), "AGE": age,
        "SEX": np.where(male, "Male", "Female"),
        "RACE": categorical(rng, n, {"White": 0.93, "Asian": 0.03, "Black or African American": 0.02, "Other": 0.02}, False),
        "ETHNIC": categorical(rng, n, {"Not Hispanic or Latino": 0.97, "Hispanic or Latino": 0.02, "Not reported": 0.01}, False),
        "HEIGHT": fmt(np.where(male, rng.normal(179, 7, n), rng.normal(166, 6, n)).clip(145, 205), 0),
        "WEIGHT": fmt(np.where(male, rng.normal(80, 12, n), rng.normal(66, 11, n)).clip(40, 150), 1),
    })
    prior = categorical(rng, n, d.prior_hsct, n == sum(d.prior_hsct.values())) == "Y"
    nsalv = categorical(rng, n, d.salvage_lines, False).astype(int)
    diag = dates(base, -rng.integers(200, 1800, n))
    diag = partial(diag, rng, 0.08, 0.03)
    diag[0] = diag[0][:8] + "UN"  # a partial date in every study
    prsct = np.where(prior, partial(dates(base, -rng.integers(120, 700, n)), rng, 0.2), "")
    status = np.where(prior, "Relapse after alloHSCT", np.where(
        nsalv >= 1, "Second or later relapse", np.where(rng.random(n) < 0.7, "First relapse", "Primary refractory")))
    frames["disease"] = pd.DataFrame({
        "SUBJID": subjid, "DIAGDT": diag,
        "ALLTYPE": categorical(rng, n, {"Common ALL": 0.7, "Pre-B ALL": 0.2, "Pro-B ALL": 0.1}, False),
        "DISSTAT": status, "PRIORSCT": yn(prior), "PRSCTDT": prsct, "NSALV": nsalv})
    ic_dates = pd.DatetimeIndex(dates(base, icdt))
    frames["consent"] = pd.DataFrame({
        "SUBJID": subjid, "ICDT": dates(base, icdt),
        "PROTVER": np.where(ic_dates < "2011-06-01", "1.0", np.where(ic_dates < "2012-01-01", "2.0", "3.0")),
        "ELIGDT": dates(base, -rng.integers(1, 3, n)), "ELIGYN": "Y"})
    frames["cohort"] = pd.DataFrame({"SUBJID": subjid, "COHORT": course.cohort, "ASSIGNDT": frames["consent"].ELIGDT})

    # --- treatment: cycles, segments, adverse events, interruptions --------------------------------
    cyc = treatment.cycles(course, study, rng)
    seg = treatment.planned_segments(cyc, course, study)
    ae = safety.draw_events(course, cyc, p, rng)
    ne = np.nonzero(course.bor.to_numpy() == "NE")[0]
    ae = pd.concat([ae, pd.DataFrame({  # the event that stopped a never-assessed subject on day 1
        "subj": ne, "term": "Encephalopathy", "pt": "Encephalopathy", "soc": "Nervous system disorders",
        "day": 0, "grade": 4, "serious": True, "rel": "Probable", "duration": 6, "outcome": "Recovered"})],
        ignore_index=True).sort_values(["subj", "day"], kind="stable").reset_index(drop=True)
    ae = _interruption_case(ae, course, cases)
    stop_early = np.full(n, np.inf)
    first_start = cyc.groupby("subj").start.min().reindex(idx).to_numpy()
    stop_early[ne] = first_start[ne] + 20 * 60
    stops = safety.interruptions(ae[~ae.subj.isin(ne)], seg, rng)
    seg = treatment.truncate(treatment.cut_interruptions(seg, stops.drop(columns="ae_row")), course, stop_early)
    ae["action"] = "None"
    ae.loc[stops.ae_row.to_numpy(), "action"] = "Infusion interrupted"
    ae.loc[ae.subj.isin(ne) & (ae.day == 0) & (ae.pt == "Encephalopathy"), "action"] = "Infusion stopped"
    seg_end_or_cutoff = np.where(seg.seg_end.isna(), cutoff[seg.subj] * DAY, seg.seg_end)
    inf_day = (seg.seg_start // DAY).to_numpy(), seg_end_or_cutoff // DAY
    on_inf = pd.DataFrame({"subj": seg.subj, "a": inf_day[0], "b": inf_day[1]})
    hit = ae.reset_index().merge(on_inf, on="subj")
    hit = hit[(hit.day >= hit.a) & (hit.day <= hit.b)]["index"].unique()
    off = ~ae.index.isin(hit) & (ae.action == "None")
    ae.loc[off, "action"] = "Not applicable"

    st_day, st_tm = clock(seg.seg_start)
    en_min = seg.seg_end.to_numpy()
    en_day, en_tm = clock(np.nan_to_num(en_min))
    ongoing = np.isnan(en_min)
    sb = base[seg.subj]
    frames["infusion"] = pd.DataFrame({
        "SUBJID": subjid[seg.subj], "PHASE": seg.phase, "CYCLE": seg.cycle, "STEP": seg.step, "SEGMENT": seg.segment,
        "STDT": dates(sb, st_day), "STTM": st_tm,
        "ENDT": np.where(ongoing, "", dates(sb, en_day)), "ENTM": np.where(ongoing, "", en_tm),
        "DOSE": fmt(seg.dose, 1), "DOSEU": "ug/m2/day", "ENDRSN": seg.reason})
    last_inf = (seg.groupby("subj").seg_end.max() // DAY).reindex(idx).to_numpy()

    # --- marrow, response, EMD, MRD ----------------------------------------------------------------
    a = marrow.assessments(course, study, -scr, rng)
    comp = marrow.components(a, course, p.demographics.screening_blasts_median, rng)
    a, comp, course, discordant = boundary.set_thresholds(a, comp, course, exact_hb, cases)
    not_done_row = boundary.missing_assessment(a, course, cases)
    done = np.ones(len(a), bool)
    reason = np.full(len(a), "", dtype=object)  # why a planned marrow was not done, as the form collects it
    if not_done_row is not None:
        done[not_done_row] = False
        reason[not_done_row] = boundary.BM_NOT_DONE_REASON
    bm_date = dates(base[a.subj], a.t)
    frames["bm"] = pd.DataFrame({
        "SUBJID": subjid[a.subj], "VISIT": a.visit, "BMDONE": yn(done), "BMNDRSN": reason,
        "BMDT": np.where(done, bm_date, ""),
        "BLASTPCT": np.where(done, fmt(comp.blasts, 1), ""), "CELLPCT": np.where(done, fmt(comp.cellularity, 0), "")})
    post = done & (a.visit != "SCR").to_numpy()
    reported = a.state.to_numpy().copy()
    for row, value in discordant.items():
        reported[row] = value
    frames["resp"] = pd.DataFrame({"SUBJID": subjid[a.subj], "VISIT": a.visit, "RSDT": bm_date,
                                   "RESP": reported})[post]
    frames["emd"] = pd.DataFrame({"SUBJID": subjid[a.subj], "VISIT": a.visit, "EMDDT": bm_date,
                                  "EMDSTAT": np.where(comp.emd, "Present", "Absent"),
                                  "EMDSITE": comp.emd_site})[done]
    mrd = comp.mrd.to_numpy()
    sens = np.where((mrd > 0) & (mrd < 1e-4), 1e-5, 1e-4)
    mrd_text = np.where(mrd == 0, "NEGATIVE", np.char.mod("%.1E", mrd).astype(object))
    frames["mrd"] = pd.DataFrame({
        "SUBJID": subjid[a.subj], "VISIT": a.visit, "MRDDT": bm_date, "MRDRES": mrd_text,
        "MRDVAL": np.where(mrd == 0, "", mrd_text), "MRDSENS": np.char.mod("%.0E", sens),
        "MRDMARK": categorical(rng, len(a), {"IGH": 0.6, "IGK": 0.15, "TCRG": 0.15, "TCRD": 0.1}, False)})[done]

    # --- hematology: counts move from the previous assessment to this cycle's assessment ----------
    hema = _hematology(a, comp, cyc, seg, course, study, boundary.missing_day29_counts(a, cases), rng)
    frames["hema"] = _report_hematology(hema, subjid, subj_units, base)

    # --- PK and cytokines ------------------------------------------------------------------------------
    pk = treatment.pk_samples(seg, cyc, course, study, rng)
    pk = _pk_boundary(pk, seg, course, cases)
    cl = np.exp(rng.normal(np.log(p.pk.clearance_median), p.pk.clearance_cv, n))
    conc = treatment.concentrations(pk, seg, cl, p.pk.half_life_hours)
    conc = conc * np.exp(rng.normal(0, p.pk.residual_cv, len(conc)))
    lim = study.lab_limits.pk
    pk_day, pk_tm = clock(pk.t)
    frames["pk"] = pd.DataFrame({
        "SUBJID": subjid[pk.subj], "CYCLE": pk.cycle, "SAMPLE": pk["sample"], "NOMHR": fmt(pk.nomhr, 0),
        "PKDT": dates(base[pk.subj], pk_day), "PKTM": pk_tm, "RESULT": treatment.report_assay(conc, lim.lod, lim.lloq),
        "UNIT": lim.unit, "LOD": f"{lim.lod:g}", "LLOQ": f"{lim.lloq:g}"})
    ck = treatment.cytokines(cyc, seg, course, study, p, rng)
    lim = study.lab_limits.cytokine
    first_quant = np.nonzero(ck.value.to_numpy() >= lim.lloq)[0]
    if len(first_quant):
        ck.loc[first_quant[0], "result"] = f"{lim.lloq:.1f}"
        cases.add("CYTOKINE_EQ_LLOQ", ck.subj[first_quant[0]], "", f"a cytokine result exactly at the LLOQ ({lim.lloq:g} pg/mL)")
    ck_day, ck_tm = clock(ck.t)
    frames["cytokine"] = pd.DataFrame({
        "SUBJID": subjid[ck.subj], "PHASE": ck.phase, "CYCLE": ck.cycle, "STEP": ck.step, "NOMHR": fmt(ck.nomhr, 0),
        "CKDT": dates(base[ck.subj], ck_day), "CKTM": ck_tm, "TEST": ck.test, "RESULT": ck.result,
        "UNIT": lim.unit, "LOD": f"{lim.lod:g}", "LLOQ": f"{lim.lloq:g}"})

    # --- adverse events ----------------------------------------------------------------------------------
    ae = _ae_window_cases(ae, course, last_inf, cases)
    frames["ae"] = _report_ae(ae, subjid, base, cutoff, p, cases, rng)

    # --- after the core study ---------------------------------------------------------------------------
    frames.update(_follow_up(course, a, comp, subjid, base, study, rng))
    truth = _truth(course, subjid, base, a, last_inf, cl)
    bc = cases.frame()
    bc.insert(1, "SUBJID", subjid[bc.subj.to_numpy()] if len(bc) else [])
    return Extract(frames=frames, truth=truth, boundary_cases=bc.drop(columns="subj"))


def _hematology(a, comp, cyc, seg, course, study, missing_d29, rng) -> pd.DataFrame:
    """One row per hematology visit and subject with the five counts in standard units."""
    comp = comp.assign(subj=a.subj.to_numpy(), phase=a.phase.to_numpy(), cycle=a.cycle.to_numpy(), t=a.t.to_numpy())
    start_vals = comp.groupby("subj").shift(1)  # the previous assessment's values
    cols = ["plat", "hgb", "anc", "wbc", "pb_blasts"]
    end = comp[comp.phase.isin(["CORE", "RETREATMENT"])][["subj", "phase", "cycle", *cols]]
    begin = pd.concat([comp[["subj", "phase", "cycle"]], start_vals[cols]], axis=1)
    begin = begin[begin.phase.isin(["CORE", "RETREATMENT"])]
    screening = comp[comp.phase == "SCREENING"].set_index("subj")[cols]
    days = np.array(study.schedule.hematology_days)
    v = cyc.loc[cyc.index.repeat(len(days)), ["subj", "phase", "cycle", "start"]].reset_index(drop=True)
    v["cday"] = np.tile(days, len(cyc))
    v["t"] = v.start // DAY + v.cday - 1
    last = seg.groupby(["subj", "phase", "cycle"]).seg_end.max().fillna(np.inf) // DAY
    last = last.reindex(pd.MultiIndex.from_frame(v[["subj", "phase", "cycle"]])).to_numpy()
    limit = np.minimum(course.death.to_numpy()[v.subj] - 1, course.to_cutoff.to_numpy()[v.subj])
    v = v[(v.t <= np.minimum(last + 1, limit))].reset_index(drop=True)
    m = v.merge(begin, on=["subj", "phase", "cycle"], how="left").merge(
        end, on=["subj", "phase", "cycle"], how="left", suffixes=("_0", "_1"))
    scr_vals = screening.reindex(m.subj)
    w = ((m.cday - 1) / 28.0).to_numpy()
    out = m[["subj", "phase", "cycle", "cday", "t"]].copy()
    for c in cols:
        v0 = m[f"{c}_0"].fillna(pd.Series(scr_vals[c].to_numpy())).to_numpy()
        v1 = m[f"{c}_1"].fillna(pd.Series(v0)).to_numpy()
        noise = np.where(m.cday.to_numpy() == 29, 1.0, np.exp(rng.normal(0, 0.08, len(m))))
        out[c] = (v0 + (v1 - v0) * w) * noise
    if missing_d29 is not None:  # the day-29 counts are missing; day 22 carries them
        s, k = missing_d29
        sel = (out.subj == s) & (out.phase == "CORE") & (out.cycle == k)
        d29 = out[sel & (out.cday == 29)]
        if len(d29):
            out.loc[sel & (out.cday == 22), cols] = d29[cols].to_numpy()
            out = out[~(sel & (out.cday == 29))]
    scr = comp[comp.phase == "SCREENING"][["subj", "t", *cols]].assign(phase="SCREENING", cycle=0, cday=0)
    return pd.concat([scr, out], ignore_index=True).sort_values(["subj", "t", "cday"], kind="stable")


def _limit(value) -> str:
    return "" if value is None else f"{value:g}"


def _report_hematology(h: pd.DataFrame, subjid, units, base) -> pd.DataFrame:
    """Long format, each test in its site's unit and precision with the lab's normal range."""
    visit = np.where(h.phase == "SCREENING", "SCR",
                     np.where(h.phase == "CORE", "C", "RT") + h.cycle.astype(str) + "D" + h.cday.astype(str))
    decimals = {("PLATELETS", "10^9/L"): 0, ("ANC", "10^9/L"): 2, ("WBC", "10^9/L"): 1, ("WBC", "/nL"): 1,
                ("HEMOGLOBIN", "g/dL"): 1, ("HEMOGLOBIN", "mmol/L"): 1}  # others: whole numbers
    out = []
    for test, col in (("PLATELETS", "plat"), ("HEMOGLOBIN", "hgb"), ("ANC", "anc"), ("WBC", "wbc"), ("BLASTS", "pb_blasts")):
        unit = pd.Series(units[test][h.subj] if test in units else np.full(len(h), "%", dtype=object))
        factor = unit.map(HB_FACTOR if test == "HEMOGLOBIN" else COUNT_FACTOR).fillna(1.0).to_numpy()
        value = h[col].to_numpy() * factor
        kinds = pd.unique(unit)
        places = unit.map({u: decimals.get((test, u), 0) for u in kinds}).to_numpy()
        text = np.empty(len(value), dtype=object)
        for d in np.unique(places):  # at most three precisions
            text[places == d] = fmt(value[places == d], int(d))
        lo = unit.map({u: _limit(NORMAL[(test, u)][0]) for u in kinds})
        hi = unit.map({u: _limit(NORMAL[(test, u)][1]) for u in kinds})
        out.append(pd.DataFrame({"SUBJID": subjid[h.subj], "VISIT": visit, "t": h.t.to_numpy(),
                                 "LBDT": dates(base[h.subj], h.t), "TEST": test, "RESULT": text,
                                 "UNIT": unit.to_numpy(), "NRLO": lo.to_numpy(), "NRHI": hi.to_numpy(), "NDREASON": ""}))
    df = pd.concat(out, ignore_index=True)
    df.insert(4, "LBTM", "08:00")
    order = {"PLATELETS": 0, "HEMOGLOBIN": 1, "ANC": 2, "WBC": 3, "BLASTS": 4}
    df = df.assign(o=df.TEST.map(order)).sort_values(["SUBJID", "t", "o"], kind="stable")
    return df.drop(columns=["t", "o"]).reset_index(drop=True)


def _pk_boundary(pk: pd.DataFrame, seg: pd.DataFrame, course: pd.DataFrame, cases) -> pd.DataFrame:
    """Two samples around the steady-state rule: exactly 10 h and 9 h 59 min after a step start."""
    step3 = seg[(seg.phase == "CORE") & (seg.cycle == 1) & (seg.step == 3)].drop_duplicates("subj")
    d15 = pk[(pk["sample"] == "D15") & (pk.cycle == 1)].merge(step3[["subj", "seg_start"]], on="subj")
    for (_, row), minutes, case in zip(d15.iterrows(), (600, 599), ("PK_10H_AFTER_STEP", "PK_UNDER_10H_AFTER_STEP")):
        pk.loc[(pk.subj == row.subj) & (pk["sample"] == "D15") & (pk.cycle == 1), "t"] = row.seg_start + minutes
        cases.add(case, row.subj, "C1 D15", f"PK sample {minutes // 60} h {minutes % 60:02d} min after the start of dose step 3")
    return pk.sort_values(["subj", "cycle", "t"], kind="stable").reset_index(drop=True)


def _ae_window_cases(ae: pd.DataFrame, course: pd.DataFrame, last_inf: np.ndarray, cases) -> pd.DataFrame:
    """Two events 30 and 31 days after the last core infusion (inside and outside the TEAE window)."""
    ok = ((course.core_end + 60 < np.minimum(course.death, course.to_cutoff)) & (course.n_retreat == 0)
          & (course.dropout >= NEVER)).to_numpy() & ~np.isnan(last_inf)
    hits = np.nonzero(ok)[0]
    if not len(hits):
        return ae
    s = hits[0]
    rows = pd.DataFrame({"subj": s, "term": ["Cough", "Rhinitis"], "pt": ["Cough", "Rhinitis"],
                         "soc": ["Respiratory, thoracic and mediastinal disorders", "Infections and infestations"],
                         "day": [last_inf[s] + 30, last_inf[s] + 31], "grade": 1, "serious": False,
                         "rel": "Not related", "duration": 5, "outcome": "", "action": "Not applicable",
                         "exact": True})
    cases.add("AE_30_DAYS_AFTER", s, "", "AE starting 30 days after the last infusion (treatment-emergent)")
    cases.add("AE_31_DAYS_AFTER", s, "", "AE starting 31 days after the last infusion (not treatment-emergent)")
    return pd.concat([ae, rows], ignore_index=True).sort_values(["subj", "day"], kind="stable").reset_index(drop=True)


def _interruption_case(ae: pd.DataFrame, course: pd.DataFrame, cases) -> pd.DataFrame:
    """A grade 3 tremor on day 10 of cycle 2 that interrupts the infusion for a few days."""
    hits = np.nonzero(((course.n_core >= 2) & (course.death > 90) & (course.to_cutoff > 90)).to_numpy())[0]
    if not len(hits):
        return ae
    s = int(hits[0])
    row = pd.DataFrame({"subj": [s], "term": "Tremor of both hands", "pt": "Tremor", "soc": "Nervous system disorders",
                        "day": 42 + 9, "grade": 3, "serious": False, "rel": "Probable", "duration": 4, "outcome": "",
                        "interrupts": True})
    cases.add("INFUSION_INTERRUPTED", s, "", "grade 3 tremor interrupts the cycle 2 infusion, which resumes")
    return pd.concat([ae, row], ignore_index=True).sort_values(["subj", "day"], kind="stable").reset_index(drop=True)


def _report_ae(ae, subjid, base, cutoff, p, cases, rng) -> pd.DataFrame:
    m = len(ae)
    subj = ae.subj.to_numpy()
    end_day = ae.day.to_numpy() + ae.duration.to_numpy()
    fatal = ae.outcome.to_numpy() == "Fatal"
    ongoing = ~fatal & ((end_day > cutoff[subj]) | (rng.random(m) < 0.05))
    outcome = np.where(fatal, "Fatal", np.where(ongoing, np.where(rng.random(m) < 0.5, "Recovering", "Not recovered"),
                                                np.where(rng.random(m) < 0.03, "Recovered with sequelae", "Recovered")))
    full = dates(base[subj], ae.day)
    # Boundary cases and events that changed the infusion keep whole dates.
    exact = ae.get("exact", pd.Series(False, index=ae.index)).fillna(False).to_numpy(bool)
    exact |= ae.action.isin(["Infusion interrupted", "Infusion stopped"]).to_numpy()
    start = np.where(exact, full, partial(full, rng, p.partial_ae_start["day"], p.partial_ae_start["month"]))
    end = np.where(ongoing, "", partial(dates(base[subj], end_day), rng, p.partial_ae_end["day"]))
    # A partial start date in the month of the first infusion: the TEAE flag needs imputation.
    first = np.nonzero(ae.day.to_numpy() == 0)[0]
    if len(first):
        start[first[0]] = start[first[0]][:8] + "UN"
        cases.add("AE_PARTIAL_START_FIRST_MONTH", subj[first[0]], "", "AE start day unknown in the month of the first infusion")
    grade = ae.grade.to_numpy()
    serious = ae.serious.to_numpy()
    hosp = serious & (grade < 5)
    spid = ae.groupby("subj").cumcount().to_numpy() + 1
    return pd.DataFrame({
        "SUBJID": subjid[subj], "AESPID": spid, "AETERM": ae.term, "AEDECOD": ae.pt, "AEBODSYS": ae.soc,
        "AESTDT": start, "AEENDT": end, "AEONGO": yn(ongoing), "AETOXGR": grade, "AESER": yn(serious),
        "AESDTH": yn(grade == 5), "AESLIFE": yn(grade == 4), "AESHOSP": yn(hosp & (grade != 4) | (hosp & (rng.random(m) < 0.5))),
        "AESDISAB": "N", "AESCONG": "N", "AESMIE": yn(serious & (grade == 3) & ~hosp),
        "AEREL": ae.rel, "AEACN": ae.action, "AEOUT": outcome})


def _follow_up(course, a, comp, subjid, base, study, rng) -> dict[str, pd.DataFrame]:
    c = course
    n = len(c)
    idx = np.arange(n)
    cutoff = c.to_cutoff.to_numpy()
    death = c.death.to_numpy()
    dropout = c.dropout.to_numpy()
    end_obs = np.minimum.reduce([cutoff, dropout, death])
    core_end = c.core_end.to_numpy()
    died = c.death_seen.to_numpy()

    # Disposition at the end of the core study, of retreatment and of the study.
    responder = c.bor.isin(["CR", "CRh*"]).to_numpy()
    core_done = (core_end <= cutoff) | (died & (death <= core_end))
    died_in_core = died & (death <= core_end)
    reason = np.select(
        [c.bor.to_numpy() == "NE", died_in_core, c.relapse_in_core.to_numpy() & c.relapse_seen.to_numpy(),
         c.hsct.to_numpy(), c.n_core.to_numpy() == study.treatment.max_core_cycles, responder],
        ["Adverse event", "Death", "Haematological relapse", "Allogeneic HSCT", "Completed", "Investigator decision"],
        "Lack of response")
    ds = [pd.DataFrame({"subj": idx, "DSCAT": "End of core study", "t": np.where(died_in_core, death, core_end),
                        "DSREAS": reason})[core_done]]
    rt_end = c.retreat_start.to_numpy() + (c.n_retreat.to_numpy() - 1) * study.treatment.cycle_days + study.treatment.infusion_days
    rt_done = (c.n_retreat.to_numpy() > 0) & (np.minimum(rt_end, death) <= cutoff)
    ds.append(pd.DataFrame({"subj": idx, "DSCAT": "End of retreatment", "t": np.minimum(rt_end, death),
                            "DSREAS": np.where(death <= rt_end, "Death", "Completed")})[rt_done])

    # Survival follow-up contacts every interval after the core study, until death, drop-out or cut-off.
    interval = study.schedule.follow_up_interval_days
    count = np.where(core_done, np.maximum((end_obs - core_end - 1) // interval, 0), 0)
    fu = pd.DataFrame({"subj": np.repeat(idx, count)})
    fu["FUNUM"] = fu.groupby("subj").cumcount() + 1
    fu["t"] = core_end[fu.subj] + fu.FUNUM * interval + rng.integers(-7, 8, len(fu))
    fu["FUSTAT"] = "Alive"
    dead_contact = died & core_done
    dd = pd.DataFrame({"subj": idx[dead_contact], "t": np.minimum(death[dead_contact] + rng.integers(1, 21, dead_contact.sum()),
                                                                   cutoff[dead_contact]), "FUSTAT": "Dead"})
    fu = pd.concat([fu[fu.t < end_obs[fu.subj]], dd], ignore_index=True).sort_values(["subj", "t"], kind="stable")
    fu["FUNUM"] = fu.groupby("subj").cumcount() + 1
    rel = c.relapse_doc.to_numpy()[fu.subj]
    seen = c.relapse_seen.to_numpy()[fu.subj]
    fu["REMSTAT"] = np.where(~responder[fu.subj], "Not in remission",
                             np.where(seen & (fu.t >= rel), "Relapsed", "In remission"))
    # A contact reporting the death cannot confirm remission.
    fu.loc[(fu.FUSTAT == "Dead") & (fu.REMSTAT == "In remission"), "REMSTAT"] = "Unknown"
    lost = dropout < np.minimum(death, cutoff)
    last_contact = fu.groupby("subj").t.max().reindex(idx).fillna(pd.Series(core_end)).to_numpy()
    ds.append(pd.DataFrame({"subj": idx, "DSCAT": "End of study", "t": np.where(died, death, last_contact),
                            "DSREAS": np.where(died, "Death", "Lost to follow-up")})[died | lost])
    ds = pd.concat(ds, ignore_index=True).sort_values(["subj", "t"], kind="stable")

    # Transplants: immediate (in remission, no other therapy) and after salvage therapy.
    last_state = a[a.phase == "CORE"].groupby("subj").state.last().reindex(idx).to_numpy()
    imm = c.hsct.to_numpy() & (c.hsct_day.to_numpy() <= np.minimum(cutoff, dropout))
    late = c.late_hsct.to_numpy()
    hsct = pd.DataFrame({"subj": idx, "t": np.where(imm, c.hsct_day, c.late_hsct_day),
                         "REMSTAT": np.where(imm, last_state, "CR")})[imm | late]
    hsct = hsct.assign(
        DONOR=categorical(rng, len(hsct), {"Matched related": 0.35, "Matched unrelated": 0.45,
                                           "Mismatched unrelated": 0.12, "Haploidentical": 0.08}, False),
        CONDIT=np.where(rng.random(len(hsct)) < 0.6, "Myeloablative", "Reduced intensity"))

    salv = c.salvage.to_numpy()
    after_hsct = c.hsct.to_numpy() & c.relapse_seen.to_numpy()
    regimens = np.array(["FLAG-Ida", "Clofarabine-based", "High-dose cytarabine", "Hyper-CVAD", "Vincristine/dexamethasone"], dtype=object)
    tx = pd.DataFrame({"subj": idx, "t": c.salvage_start,
                       "TXNAME": np.where(after_hsct, "Donor lymphocyte infusion", regimens[rng.integers(0, len(regimens), n)]),
                       "TXTYPE": np.where(after_hsct, "Donor lymphocyte infusion", "Chemotherapy")})[salv]
    tx_end = tx.t + 28
    b = lambda s: base[s.subj.to_numpy()]  # noqa: E731
    tx_start = partial(dates(b(tx), tx.t), rng, 0.15)
    if len(tx_start):
        tx_start[0] = tx_start[0][:8] + "UN"  # a partial therapy start in every study
    return {
        "ds": pd.DataFrame({"SUBJID": subjid[ds.subj], "DSCAT": ds.DSCAT, "DSDT": dates(b(ds), ds.t), "DSREAS": ds.DSREAS}),
        "death": pd.DataFrame({"SUBJID": subjid[died], "DTHDT": dates(base[died], death[died]),
                               "DTHCAUS": c.death_cause.to_numpy()[died]}),
        "survfu": pd.DataFrame({"SUBJID": subjid[fu.subj], "FUNUM": fu.FUNUM, "FUDT": dates(b(fu), fu.t),
                                "FUSTAT": fu.FUSTAT, "REMSTAT": fu.REMSTAT}),
        "hsct": pd.DataFrame({"SUBJID": subjid[hsct.subj], "HSCTDT": dates(b(hsct), hsct.t), "HSCTTYP": "Allogeneic",
                              "DONOR": hsct.DONOR, "CONDIT": hsct.CONDIT, "REMSTAT": hsct.REMSTAT}),
        "altx": pd.DataFrame({"SUBJID": subjid[tx.subj], "TXSPID": 1, "TXNAME": tx.TXNAME, "TXTYPE": tx.TXTYPE,
                              "TXSTDT": tx_start,
                              "TXENDT": np.where(tx_end.to_numpy() <= cutoff[tx.subj], dates(b(tx), tx_end), "")}),
    }


def _truth(course, subjid, base, a, last_inf, cl) -> pd.DataFrame:
    """The latent course per subject, as dates, for tests to check what the pipeline derives."""
    c = course
    def when(days, ok):  # noqa: E306
        ok = np.asarray(ok, bool) & (np.asarray(days) < NEVER)
        return np.where(ok, dates(base, np.where(ok, days, 0)), "")
    responder = c.bor.isin(["CR", "CRh*"]).to_numpy()
    return pd.DataFrame({
        "SUBJID": subjid, "COHORT": c.cohort, "TRTSDT": dates(base, np.zeros(len(c), int)),
        "BOR": c.bor, "C1RESP": c.c1, "C2RESP": c.c2, "CRCRH": yn(responder),
        "FIRSTREMDT": when(c.rem_offset, responder), "MRDRESP": yn(c.mrd),
        "HSCTIMM": yn(c.hsct & (c.hsct_day <= np.minimum(c.to_cutoff, c.dropout))),
        "HSCTDT": when(np.where(c.hsct, c.hsct_day, c.late_hsct_day), c.hsct | c.late_hsct),
        "NCORE": c.n_core, "RELAPSE": yn(c.relapse_seen), "RELAPSDT": when(c.relapse_doc, c.relapse_seen),
        "RELTYPE": np.where(c.relapse_seen, c.rel_type, ""), "DEATH": yn(c.death_seen),
        "DTHDT": when(c.death, c.death_seen), "DTHCAUS": np.where(c.death_seen, c.death_cause, ""),
        "LOSTFU": yn(c.dropout < np.minimum(c.death, c.to_cutoff)),
        "RETREAT": c.n_retreat, "LASTINFDT": when(np.nan_to_num(last_inf).astype(int), ~np.isnan(last_inf)),
        "CL": np.round(cl, 4),
    })
