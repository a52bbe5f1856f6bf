"""Adverse events from the latent course, and the infusion interruptions some of them cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.simulate.params import SimulationParams
from submit.simulate.treatment import DAY

INTERRUPTING = ("Cytokine release syndrome", "Encephalopathy", "Aphasia", "Seizure", "Tremor")
RELATION = np.array(["Certain", "Probable", "Possible", "Unlikely", "Not related"], dtype=object)


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw: index chosen by each row of `weights`."""
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    return (rng.random((len(weights), 1)) > cum).sum(axis=1).clip(0, weights.shape[1] - 1)


def draw_events(course: pd.DataFrame, cyc: pd.DataFrame, p: SimulationParams,
                rng: np.random.Generator) -> pd.DataFrame:
    """Adverse events with onset day offset, grade, seriousness, relation and duration."""
    cat = p.adverse_events
    n, k = len(course), len(cat)
    treated = course.bor.to_numpy() != "NE"
    occurs = (rng.random((n, k)) < np.array([a.p for a in cat])) & treated[:, None]
    subj, term = np.nonzero(occurs)
    m = len(subj)
    onset_kind = np.array([a.onset for a in cat], dtype=object)[term]

    # Onset: early = days 1-3 of cycle 1; treatment = a day of infusion of a cycle received;
    # any = from day 1 to 45 days after the end of the core study.
    n_cyc = course.n_core.to_numpy()[subj]
    cyc_pick = (rng.random(m) * n_cyc).astype(int)
    on_treatment = cyc_pick * 42 + rng.integers(0, 28, m)
    any_time = (rng.random(m) * (course.core_end.to_numpy()[subj] + 45)).astype(int)
    day = np.select([onset_kind == "early", onset_kind == "treatment"],
                    [rng.integers(0, 3, m), on_treatment], any_time)

    grades = np.array([a.grade for a in cat])[term]
    grade = _pick(rng, grades) + 1
    serious = (grade >= 4) | ((grade == 3) & (rng.random(m) < np.array([a.serious for a in cat])[term]))
    rel = RELATION[_pick(rng, np.array([a.rel for a in cat], dtype=float)[term])]
    duration = np.ceil(rng.exponential(np.array([a.days for a in cat])[term])).astype(int)
    width = max(len(a.verbatim) for a in cat)
    verbatims = np.array([list(a.verbatim) + [a.verbatim[0]] * (width - len(a.verbatim)) for a in cat], dtype=object)
    pick = (rng.random(m) * np.array([len(a.verbatim) for a in cat])[term]).astype(int)
    verbatim = verbatims[term, pick]

    ae = pd.DataFrame({
        "subj": subj, "term": verbatim, "pt": np.array([a.pt for a in cat], dtype=object)[term],
        "soc": np.array([a.soc for a in cat], dtype=object)[term], "day": day, "grade": grade,
        "serious": serious, "rel": rel, "duration": duration, "outcome": "",
    })

    # Screening-period events (before the first infusion) and fatal events of deaths from an AE.
    pre = p.pre_treatment_ae
    pre_rows = np.nonzero(rng.random(n) < pre["p"])[0]
    fatal = np.nonzero((course.death_cause.to_numpy() == "Adverse event") & course.death_seen.to_numpy())[0]
    extra = pd.concat([
        pd.DataFrame({"subj": pre_rows, "term": pre["verbatim"], "pt": pre["pt"], "soc": pre["soc"],
                      "day": -rng.integers(2, 8, len(pre_rows)), "grade": 1, "serious": False,
                      "rel": "Not related", "duration": rng.integers(3, 20, len(pre_rows)), "outcome": ""}),
        pd.DataFrame({"subj": fatal, "term": "Septic shock", "pt": "Septic shock",
                      "soc": "Infections and infestations", "day": course.death.to_numpy()[fatal] - 4,
                      "grade": 5, "serious": True, "rel": "Unlikely", "duration": 4, "outcome": "Fatal"}),
    ], ignore_index=True)
    ae = pd.concat([ae, extra], ignore_index=True)
    # Events after death, the cut-off or a drop-out are never reported.
    limit = np.minimum.reduce([course.death.to_numpy(), course.to_cutoff.to_numpy(), course.dropout.to_numpy()])
    return ae[ae.day <= limit[ae.subj]].sort_values(["subj", "day"], kind="stable").reset_index(drop=True)


def interruptions(ae: pd.DataFrame, seg: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Grade >= 3 infusion-related events starting during an infusion interrupt it (one per cycle)."""
    t_onset = ae.day.to_numpy() * DAY + 720  # noon of the onset day
    cand = ae.assign(t=t_onset, ae_row=ae.index.to_numpy())  # labels, so a filtered frame maps back
    forced = cand.get("interrupts", pd.Series(False, index=cand.index)).fillna(False).to_numpy(bool)
    cand = cand[forced | (cand.pt.isin(INTERRUPTING) & (cand.grade >= 3) & (rng.random(len(cand)) < 0.7))]
    m = cand.merge(seg[["subj", "phase", "cycle", "seg_start", "seg_end"]], on="subj")
    m = m[(m.t > m.seg_start) & (m.t < m.seg_end.fillna(np.inf))]
    m = m.drop_duplicates(["subj", "phase", "cycle"])
    gap = rng.integers(1, 6, len(m)) * DAY + 5 * rng.integers(0, 48, len(m))
    return pd.DataFrame({"subj": m.subj, "phase": m.phase, "cycle": m.cycle, "t_stop": m.t,
                         "t_resume": m.t + gap, "ae_row": m.ae_row}).reset_index(drop=True)
