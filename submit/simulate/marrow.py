"""Disease assessments from the latent course: bone marrow, response, extramedullary disease,
MRD and the blood counts that go with each assessment.

`assessments()` lists every marrow assessment with its latent state; `components()` draws the
measured values that state implies (standard units: platelets and ANC 10^9/L, Hb g/dL), away
from the response thresholds unless a boundary case puts them exactly on one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.config import StudyConfig

EMD_SITES = np.array(["CNS", "Testis", "Skin", "Lymph nodes", "Mediastinum"], dtype=object)


def assessments(course: pd.DataFrame, study: StudyConfig, screening: np.ndarray,
                rng: np.random.Generator) -> pd.DataFrame:
    """One row per marrow assessment: subject index, visit, phase, cycle, day offset, state.
    `screening` is each subject's screening day offset (after informed consent)."""
    cyc, inf = study.treatment.cycle_days, study.treatment.infusion_days
    n = len(course)
    idx = np.arange(n)
    limit = np.minimum(course.death.to_numpy() - 1, course.to_cutoff.to_numpy())
    frames = [pd.DataFrame({"subj": idx, "visit": "SCR", "phase": "SCREENING", "cycle": 0,
                            "t": screening, "state": "SCR"})]

    # Core cycles: C1 and C2 as drawn; later cycles stay in remission (CRh* may become CR) until
    # the relapse that ends the core study.
    c1, c2 = course.c1.to_numpy(), course.c2.to_numpy()
    upgraded = np.cumsum(rng.random((n, 5)) < 0.3, axis=1) > 0
    for k in range(1, study.treatment.max_core_cycles + 1):
        t = (k - 1) * cyc + inf
        if k == 1:
            state = c1
        elif k == 2:
            state = c2
        else:
            state = np.where((c2 == "CR") | upgraded[:, min(k, 5) - 1], "CR", "CRh*")
            state = np.where(course.relapse_in_core & (course.relapse_doc == t), "Relapse", state)
        keep = (course.n_core.to_numpy() >= k) & (t <= limit) & (course.bor.to_numpy() != "NE")
        frames.append(pd.DataFrame({"subj": idx[keep], "visit": f"C{k}D29", "phase": "CORE", "cycle": k,
                                    "t": t, "state": state[keep]}))

    # Relapse outside the core study: an unscheduled marrow on the day it was found.
    out = course.relapse_seen.to_numpy() & ~course.relapse_in_core.to_numpy()
    frames.append(pd.DataFrame({"subj": idx[out], "visit": "UNS1", "phase": "FOLLOW-UP", "cycle": 0,
                                "t": course.relapse_doc.to_numpy()[out], "state": "Relapse"}))

    # Retreatment cycles: the response to retreatment at their day-29 marrow.
    for k in (1, 2):
        t = course.retreat_start.to_numpy() + (k - 1) * cyc + inf
        keep = (course.n_retreat.to_numpy() >= k) & (t <= limit)
        frames.append(pd.DataFrame({"subj": idx[keep], "visit": f"RT{k}D29", "phase": "RETREATMENT", "cycle": k,
                                    "t": t[keep], "state": course.retreat_resp.to_numpy()[keep]}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["subj", "t"], kind="stable").reset_index(drop=True)


def components(a: pd.DataFrame, course: pd.DataFrame, screening_blasts: float,
               rng: np.random.Generator) -> pd.DataFrame:
    """Measured values for each assessment row of `a`, consistent with its state."""
    n = len(a)
    state = a.state.to_numpy()
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    scr, cr, crh = state == "SCR", state == "CR", state == "CRh*"
    pr, nr, rel = state == "PR", state == "NR", state == "Relapse"
    emd_rel = rel & (course.rel_type.to_numpy()[a.subj] == "EMD")
    remission = cr | crh

    blasts = np.select(
        [scr, remission | emd_rel, pr, nr, rel],
        [np.clip(rng.normal(screening_blasts, 15, n), 22, 98).round(0), u(0.5, 4.5).round(1),
         u(6, 24.4).round(0), u(27, 95).round(0), u(8, 80).round(0)])
    cellularity = np.where(remission, u(25, 70), u(55, 95)).round(0)

    # Blood counts: full recovery for CR; for CRh* at least one count short of CR (the limiting
    # one) with all above the CRh* floor; low counts without remission.
    limiting = rng.integers(0, 3, n)
    full = {"plat": u(110, 320).round(0), "hgb": u(11.3, 14.5).round(1), "anc": u(1.7, 5.5).round(2)}
    partial = {"plat": u(55, 95).round(0), "hgb": u(7.3, 10.6).round(1), "anc": u(0.55, 1.4).round(2)}
    low = {"plat": u(8, 90).round(0), "hgb": u(7.2, 10.6).round(1), "anc": u(0.05, 1.4).round(2)}
    counts = {}
    for i, name in enumerate(("plat", "hgb", "anc")):
        crh_value = np.where((limiting == i) | (rng.random(n) < 0.3), partial[name], full[name])
        counts[name] = np.select([cr, crh], [full[name], crh_value], low[name])
    wbc = np.where(remission, u(2.5, 8.0), np.exp(rng.normal(np.log(4), 1.0, n)).clip(0.3, 80)).round(1)
    has_pb_blasts = ~remission & ~emd_rel & (rng.random(n) < np.where(scr, 0.7, 0.5))
    pb_blasts = np.where(has_pb_blasts, u(1, 60).round(0), 0.0)

    # Extramedullary disease: present at screening in some, at an extramedullary relapse, and it
    # persists without response.
    emd_screen = rng.random(len(course)) < 0.12
    emd = np.where(scr | nr, emd_screen[a.subj], False) | emd_rel
    emd_site = np.where(emd, EMD_SITES[rng.integers(0, len(EMD_SITES), n)], "")

    # MRD (ratio of leukemic to nucleated cells): below 1e-4 in remission for MRD responders.
    mrd_responder = course.mrd.to_numpy()[a.subj] & remission & (a.phase.to_numpy() == "CORE")
    high = 10 ** u(-3.3, -0.3)
    residual = 10 ** u(np.log10(2e-4), np.log10(5e-2))
    below = np.where(rng.random(n) < 0.65, 0.0, 10 ** u(-5, np.log10(9e-5)))  # 0 = not detected
    mrd = np.select([mrd_responder, remission], [below, residual], high)

    return pd.DataFrame({"blasts": blasts, "cellularity": cellularity, "plat": counts["plat"],
                         "hgb": counts["hgb"], "anc": counts["anc"], "wbc": wbc, "pb_blasts": pb_blasts,
                         "emd": emd, "emd_site": emd_site, "mrd": mrd})

