"""The latent course of each simulated subject: one row per subject, all arrays, no loops.

Times are integer day offsets from the first infusion (offset 0 = study day 1). Core cycle k
starts at offset (k-1)*cycle_days and its end-of-infusion bone marrow (day 29) is at
(k-1)*cycle_days + infusion_days. Every raw dataset is later generated from this frame, so raw
measurements agree with the course by construction.

Response states per assessment are coded: CR, CRh*, PR, NR, Relapse ("" = no assessment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.simulate.params import SimulationParams

NEVER = 10**6  # offset standing for "does not happen"
RESPONDER = ("CR", "CRh*")


def categorical(rng: np.random.Generator, n: int, weights: dict, exact: bool) -> np.ndarray:
    """Labels with the given weights: met exactly (a shuffled quota) when `exact` and the weights
    are counts summing to n, otherwise drawn at random with the same rates."""
    labels = np.array(list(weights), dtype=object)
    w = np.array(list(weights.values()), dtype=float)
    if exact and w.sum() == n:
        return rng.permutation(np.repeat(labels, w.astype(int)))
    return rng.choice(labels, size=n, p=w / w.sum())


def exponential(rng: np.random.Generator, median: float, n: int) -> np.ndarray:
    return rng.exponential(median / np.log(2), size=n)


def draw_course(study: StudyConfig, p: SimulationParams, n: int, rng: np.random.Generator) -> pd.DataFrame:
    calibrated = n == sum(p.best_response.values())  # the published study size: quotas hold exactly
    cyc, inf = study.treatment.cycle_days, study.treatment.infusion_days
    max_cycles = study.treatment.max_core_cycles
    d29 = lambda k: (k - 1) * cyc + inf  # noqa: E731  offset of the day-29 marrow of cycle k

    # Cohorts enrol one after another; first and last dosing dates are the published ones.
    codes = [c.code for c in study.cohorts]
    cohort = categorical(rng, n, {c.code: c.planned_n for c in study.cohorts}, calibrated)
    cohort = np.array(sorted(cohort, key=codes.index), dtype=object)
    first, last = study.dates.first_patient_dosed, study.dates.last_patient_dosed
    span = (last - first).days
    offsets = np.sort(rng.uniform(0, span, n)).round().astype(int)
    offsets[0], offsets[-1] = 0, span if n > 1 else 0
    trtsdt = pd.Timestamp(first) + pd.to_timedelta(offsets, unit="D")
    to_cutoff = (pd.Timestamp(study.dates.data_cutoff) - trtsdt).days.to_numpy()

    # Best response within 2 cycles and the state at each core assessment.
    bor = categorical(rng, n, p.best_response, calibrated)
    responder = np.isin(bor, RESPONDER)
    first_rem = np.where(responder, np.where(rng.random(n) < p.first_remission_in_cycle_1, 1, 2), 0)
    c1 = np.full(n, "", dtype=object)
    c2 = np.full(n, "", dtype=object)
    pre = np.where(rng.random(n) < 0.6, "PR", "NR")  # state at C1 of a late responder
    u = rng.random(n)
    is_cr, is_crh = bor == "CR", bor == "CRh*"
    c1[is_cr] = np.where(u[is_cr] < 0.7, "CR", "CRh*")
    c2[is_cr] = np.where((c1[is_cr] == "CR") & (u[is_cr] > 0.6), "CRh*", "CR")  # CR at C1, then CRh*
    c1[is_crh], c2[is_crh] = "CRh*", "CRh*"
    late = responder & (first_rem == 2)
    c1[late], c2[late] = pre[late], bor[late]
    is_pr, is_nr = bor == "PR", bor == "NR"
    c1[is_pr], c2[is_pr] = pre[is_pr], "PR"
    c1[is_nr], c2[is_nr] = "NR", "NR"
    rem_offset = np.where(first_rem == 1, d29(1), np.where(first_rem == 2, d29(2), NEVER))

    # Responders: MRD response, immediate HSCT (quotas among responders), planned core cycles.
    n_resp = int(responder.sum())
    mrd = np.zeros(n, bool)
    mrd[responder] = categorical(rng, n_resp, p.mrd_response_of_responders, calibrated) == "Y"
    hsct = np.zeros(n, bool)
    hsct[responder] = categorical(rng, n_resp, p.immediate_hsct_of_responders, calibrated) == "Y"
    planned = np.where(responder, categorical(rng, n, p.responder_cycles, False), 2).astype(int)
    planned = np.where(hsct, categorical(rng, n, p.hsct_cycles, False), planned).astype(int)
    # A best response that needs the C2 assessment needs two cycles.
    planned = np.where(responder & ((first_rem == 2) | (c1 != bor)), np.maximum(planned, 2), planned)
    planned = np.where(is_nr & (rng.random(n) < p.nr_stop_after_cycle_1), 1, planned)
    planned = np.where(bor == "NE", 1, np.minimum(planned, max_cycles))

    s = p.survival
    gap = rng.integers(p.hsct_gap_days[0], p.hsct_gap_days[1] + 1, n)
    # A transplant must fall before the cut-off: fewer cycles first, if the time is short.
    fits = ((to_cutoff - 1 - gap - inf) // cyc + 1).clip(1, None)
    planned = np.where(hsct, np.maximum(np.minimum(planned, fits), np.where(c1 != bor, 2, 1)), planned)
    hsct_day = np.where(hsct, d29(planned) + gap, NEVER)

    # Event times (latent, before observation). Responders are event-free through C2D29.
    base = np.where(hsct, hsct_day, d29(2))
    relapse = base + exponential(rng, np.where(hsct, s.relapse_median_after_hsct, s.relapse_median), n)
    death_no_rel = base + exponential(rng, np.where(hsct, s.transplant_death_median,
                                                    s.death_without_relapse_median), n)
    relapse = np.where(responder, np.ceil(relapse), NEVER).astype(int)
    death_no_rel = np.where(responder, np.ceil(death_no_rel), NEVER).astype(int)
    relapses = relapse < death_no_rel
    relapse = np.where(relapses, relapse, NEVER)

    # A relapse during the planned core cycles is found at the next day-29 marrow; the core ends there.
    k_rel = np.ceil((relapse - inf) / cyc).astype(int) + 1
    in_core = responder & ~hsct & (k_rel <= planned)
    relapse_doc = np.where(in_core, d29(k_rel), relapse)
    planned = np.where(in_core, k_rel, planned)
    rel_type = np.where(relapses & (rng.random(n) < 0.12), "EMD", "BM")

    after_rel = exponential(rng, s.death_after_relapse_median, n)
    death = np.where(relapses, relapse_doc + 14 + np.ceil(after_rel), death_no_rel)
    nonresp_death = np.where(is_pr | (is_nr & (planned == 2)), d29(2) + 2, d29(1) + 2)
    nonresp_death = nonresp_death + np.ceil(exponential(rng, s.nonresponder_death_median, n))
    death = np.where(responder, death, nonresp_death).astype(int)
    cause = np.where(relapses | ~responder, "Disease progression",
                     np.where(hsct, "Transplant-related", "Adverse event"))

    # Cycles received: the planned ones that start before death and the cut-off.
    starts_before = lambda k: (k - 1) * cyc <= np.minimum(death, to_cutoff)  # noqa: E731
    n_core = np.where(bor == "NE", 1, sum(starts_before(k) & (k <= planned) for k in range(1, max_cycles + 1)))
    core_end = np.where(bor == "NE", 0, (n_core - 1) * cyc + inf)  # offset of the last core marrow / end of infusion

    # Follow-up contacts are lost at a constant rate after the core study.
    dropout = core_end + np.ceil(rng.exponential(365.25 / max(s.dropout_rate_per_year, 1e-9), n)).astype(int)
    dropout = np.where(dropout < np.minimum(death, to_cutoff), dropout, NEVER)
    seen = lambda t: t <= np.minimum(to_cutoff, dropout)  # noqa: E731  observed before cut-off and drop-out
    relapse_seen = relapses & seen(relapse_doc)

    # After a relapse outside the core study: blinatumomab retreatment, else salvage therapy
    # (after a transplant: donor lymphocytes); some salvaged responders reach a later transplant.
    after_core = relapse_seen & ~in_core
    retreat = after_core & ~hsct & (death > relapse_doc + 45) & (rng.random(n) < s.retreatment_of_relapsed)
    retreat_start = np.where(retreat, relapse_doc + rng.integers(7, 22, n), NEVER)
    n_retreat = np.where(retreat, 1 + (rng.random(n) < 0.4), 0)
    n_retreat = np.where(retreat & (retreat_start + cyc > np.minimum(death, to_cutoff)), 1, n_retreat)
    retreat_resp = np.where(rng.random(n) < 0.5, np.where(rng.random(n) < 0.5, "CR", "CRh*"), "NR")
    salvage = (after_core & ~retreat & (rng.random(n) < 0.6)) | (
        ~responder & (bor != "NE") & (rng.random(n) < s.salvage_of_nonresponders))
    salvage_start = np.where(after_core, relapse_doc + rng.integers(5, 21, n), core_end + rng.integers(7, 29, n))
    salvage = salvage & seen(salvage_start) & (salvage_start < death)
    salvage_start = np.where(salvage, salvage_start, NEVER)
    late_hsct = salvage & responder & ~hsct & (rng.random(n) < 0.2)
    late_hsct_day = np.where(late_hsct, salvage_start + rng.integers(50, 81, n), NEVER)
    late_hsct = late_hsct & seen(late_hsct_day) & (late_hsct_day < death)
    late_hsct_day = np.where(late_hsct, late_hsct_day, NEVER)

    return pd.DataFrame({
        "cohort": cohort, "offset": offsets, "trtsdt": trtsdt, "to_cutoff": to_cutoff,
        "bor": bor, "c1": c1, "c2": c2, "first_rem": first_rem, "rem_offset": rem_offset,
        "mrd": mrd, "hsct": hsct, "hsct_day": hsct_day, "planned": planned, "n_core": n_core,
        "core_end": core_end, "relapse": relapse, "relapse_doc": relapse_doc, "relapse_in_core": in_core & relapses,
        "rel_type": rel_type, "relapse_seen": relapse_seen, "death": death, "death_cause": cause,
        "death_seen": seen(death), "dropout": dropout,
        "retreat": retreat, "retreat_start": retreat_start, "n_retreat": n_retreat, "retreat_resp": retreat_resp,
        "salvage": salvage, "salvage_start": salvage_start, "late_hsct": late_hsct, "late_hsct_day": late_hsct_day,
    })
