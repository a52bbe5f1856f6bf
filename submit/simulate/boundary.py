"""Boundary cases put deliberately into the simulated study, each recorded in the truth.

They sit on the thresholds of the endpoint rules (exactly 100,000/uL, 11 g/dL, 1,500/uL, 5 %,
25 %, MRD 1e-4, ...) and exercise the course rules (death without relapse, relapse after HSCT,
loss to follow-up, a missing assessment). Each is put on the first subject or assessment, in
subject order, that can carry it without changing the subject's latent endpoints; a case with no
such subject (only in very small studies) is left out and is absent from the record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.simulate.course import NEVER


class Cases:
    """Collects the cases put in: (case, subject index, visit, what it is)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, str, str]] = []
        self.used_rows: set[int] = set()

    def add(self, case: str, subj: int, visit: str, what: str) -> None:
        self.rows.append((case, int(subj), visit, what))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["case", "subj", "visit", "description"])


def adjust_course(c: pd.DataFrame, cases: Cases) -> pd.DataFrame:
    """Course-level cases, applied before any measurement is drawn."""
    c = c.copy()
    resp = c.bor.isin(["CR", "CRh*"])
    free = resp & ~c.relapse_seen & (c.core_end + 120 < c.to_cutoff)

    def first(mask) -> int | None:
        hits = np.nonzero(mask.to_numpy())[0]
        return int(hits[0]) if len(hits) else None

    i = first(free & c.hsct & (c.hsct_day + 60 < c.to_cutoff))
    if i is not None:  # transplant-related death in remission
        c.loc[i, ["death", "death_cause", "death_seen", "relapse", "relapse_doc"]] = [
            c.hsct_day[i] + 60, "Transplant-related", True, NEVER, NEVER]
        cases.add("DEATH_NO_RELAPSE", i, "", "responder died in remission after HSCT (RFS event, TTHR censored at death)")
    i = first(free & c.hsct & (c.index != i) & (c.hsct_day + 150 < c.to_cutoff))
    if i is not None:
        c.loc[i, ["relapse", "relapse_doc", "relapse_seen", "death"]] = [
            c.hsct_day[i] + 90, c.hsct_day[i] + 90, True, max(c.death[i], c.hsct_day[i] + 200)]
        c.loc[i, "death_cause"] = "Disease progression"
        c.loc[i, "death_seen"] = c.death[i] <= c.to_cutoff[i]
        cases.add("RELAPSE_AFTER_HSCT", i, "UNS1", "relapse found 90 days after the transplant")
    taken = {r[1] for r in cases.rows}
    i = first(free & ~c.hsct & ~c.index.isin(taken))
    if i is not None:
        c.loc[i, ["death", "death_cause", "death_seen", "relapse", "relapse_doc", "dropout"]] = [
            c.core_end[i] + 75, "Disease progression", True, NEVER, NEVER, NEVER]
        cases.add("DEATH_PD_NO_RELAPSE", i, "", "death from disease progression without a documented relapse (TTHR event)")
    i = first(c.relapse_seen & ~c.relapse_in_core & (c.rel_type == "BM") & ~c.index.isin({r[1] for r in cases.rows}))
    if i is not None and not (c.relapse_seen & (c.rel_type == "EMD")).any():
        c.loc[i, "rel_type"] = "EMD"
    i = first(c.relapse_seen & (c.rel_type == "EMD"))
    if i is not None:
        cases.add("EMD_RELAPSE", i, "", "extramedullary relapse with marrow blasts <= 5%")
    taken = {r[1] for r in cases.rows}
    i = first(resp & ~c.relapse_seen & ~c.death_seen & ~c.hsct & ~c.index.isin(taken) & (c.core_end + 150 < c.to_cutoff))
    if i is not None:
        c.loc[i, "dropout"] = c.core_end[i] + 100
        cases.add("LOST_TO_FOLLOW_UP", i, "", "lost to follow-up 100 days after the core study")
    if not c.late_hsct.any():
        ok = (resp & ~c.hsct & c.relapse_seen & ~c.relapse_in_core & (c.relapse_doc + 80 < np.minimum(c.death, c.to_cutoff))
              & (c.dropout >= NEVER))
        i = first(ok)
        if i is not None:
            c.loc[i, ["retreat", "retreat_start", "n_retreat", "salvage", "salvage_start", "late_hsct", "late_hsct_day"]] = [
                False, NEVER, 0, True, c.relapse_doc[i] + 10, True, c.relapse_doc[i] + 70]
    i = first(c.late_hsct)
    if i is not None:
        cases.add("HSCT_AFTER_SALVAGE", i, "", "transplant after relapse and salvage therapy (not an immediate HSCT)")
    i = first(c.bor == "NE")
    if i is not None:
        cases.add("NE_ONE_DAY", i, "", "infusion stopped on day 1 for an adverse event; never assessed")
    i = first((c.bor == "CR") & (c.c1 == "CRh*"))
    if i is not None:
        cases.add("UPGRADE_CRH_TO_CR", i, "C2D29", "CRh* at cycle 1, CR at cycle 2: best response CR")
    return c


def _first_row(a: pd.DataFrame, mask: np.ndarray, cases: Cases, avoid_subjects: bool = True) -> int | None:
    taken_subj = {r[1] for r in cases.rows if r[2]} if avoid_subjects else set()
    ok = mask & ~a.index.isin(list(cases.used_rows)) & ~a.subj.isin(list(taken_subj))
    hits = np.nonzero(np.asarray(ok))[0]
    if not len(hits):
        return None
    cases.used_rows.add(int(hits[0]))
    return int(hits[0])


def set_thresholds(a: pd.DataFrame, comp: pd.DataFrame, course: pd.DataFrame, exact_hb: np.ndarray,
                   cases: Cases) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[int, str]]:
    """Put assessment values exactly on the response thresholds. Returns the assessments, the
    components, the course and the reported responses that deliberately disagree with the data
    (row -> reported response). A non-response at cycle 1 of a subject who responds at cycle 2
    may become a PR (its best response does not change)."""
    a, comp, course = a.copy(), comp.copy(), course.copy()
    core = (a.phase == "CORE").to_numpy()
    state = a.state.to_numpy()
    hb_ok = exact_hb[a.subj.to_numpy()]  # sites whose Hb unit converts exactly from g/dL
    no_mrd = ~course.mrd.to_numpy()[a.subj.to_numpy()]
    later = (a.cycle >= 2).to_numpy()
    late_c1 = (course.first_rem.to_numpy()[a.subj.to_numpy()] == 2) & (a.visit == "C1D29").to_numpy()
    pr_like = core & ((state == "PR") | (late_c1 & (state == "NR")))
    discordant: dict[int, str] = {}
    spec = [
        ("HGB_EQ_11_CR", core & (state == "CR") & hb_ok, dict(hgb=11.0), "CR with Hb exactly 11 g/dL (>= 11: CR)"),
        ("PLAT_EQ_100K_CRH", core & (state == "CRh*"), dict(plat=100.0, hgb=12.0, anc=2.0),
         "platelets exactly 100,000/uL (not > 100,000: CRh*, not CR); investigator recorded CR"),
        ("ANC_EQ_1500_CRH", core & (state == "CRh*"), dict(anc=1.5, plat=150.0, hgb=12.5),
         "ANC exactly 1,500/uL (not > 1,500: CRh*, not CR)"),
        ("HGB_EQ_7_CRH", core & (state == "CRh*") & hb_ok, dict(hgb=7.0, plat=80.0, anc=1.0),
         "Hb exactly 7 g/dL (>= 7: CRh*)"),
        ("BLAST_EQ_5_CR", core & (state == "CR"), dict(blasts=5.0), "marrow blasts exactly 5% (<= 5: remission)"),
        ("BLAST_EQ_5_LATER", core & np.isin(state, ["CR", "CRh*"]) & later, dict(blasts=5.0),
         "marrow blasts exactly 5% at a later assessment (> 5 needed for relapse: still in remission)"),
        ("BLAST_EQ_25_PR", pr_like, dict(blasts=25.0), "marrow blasts exactly 25% (<= 25: PR)"),
        ("PLAT_EQ_50K_PR", pr_like, dict(blasts=3.0, pb_blasts=0.0, emd=False, plat=50.0, hgb=9.0, anc=1.0),
         "blast-free marrow with platelets exactly 50,000/uL (not > 50,000: PR, not CRh*)"),
        ("ANC_EQ_500_PR", pr_like, dict(blasts=2.0, pb_blasts=0.0, emd=False, plat=70.0, hgb=9.0, anc=0.5),
         "blast-free marrow with ANC exactly 500/uL (not > 500: PR, not CRh*)"),
        ("CIRC_BLASTS_PR", pr_like, dict(blasts=4.0, pb_blasts=3.0, emd=False, plat=150.0, hgb=12.0, anc=2.0),
         "blast-free marrow and full counts but circulating blasts (PR, not CR)"),
        ("MRD_EQ_1E-4", core & np.isin(state, ["CR", "CRh*"]) & no_mrd, dict(mrd=1e-4),
         "MRD exactly 1.0E-04 (not < 1e-4: no MRD response)"),
    ]
    for case, mask, values, what in spec:
        row = _first_row(a, mask, cases, avoid_subjects=case not in ("BLAST_EQ_5_LATER", "MRD_EQ_1E-4"))
        if row is None:
            continue
        for col, value in values.items():
            comp.loc[row, col] = value
        cases.add(case, a.subj[row], a.visit[row], what)
        if case == "PLAT_EQ_100K_CRH":
            discordant[row] = "CR"
        if case.endswith("_PR") and a.state[row] == "NR":
            a.loc[row, "state"] = "PR"
            course.loc[a.subj[row], "c1"] = "PR"
    return a, comp, course, discordant


BM_NOT_DONE_REASON = "Subject refused"  # the reason the marrow form records for it


def missing_assessment(a: pd.DataFrame, course: pd.DataFrame, cases: Cases) -> int | None:
    """A planned C2 marrow not done, for a subject whose best response is already set at C1."""
    mask = ((a.visit == "C2D29") & (course.c1.to_numpy()[a.subj] == course.bor.to_numpy()[a.subj])
            & (course.bor.to_numpy()[a.subj] == "CR")).to_numpy()
    row = _first_row(a, mask, cases)
    if row is not None:
        cases.add("BM_NOT_DONE", a.subj[row], "C2D29", "planned marrow not done (best response from cycle 1)")
    return row


def missing_day29_counts(a: pd.DataFrame, cases: Cases) -> tuple[int, int] | None:
    """A responder whose C1 day-29 blood counts are missing; day 22 carries the counts to match."""
    row = _first_row(a, ((a.visit == "C1D29") & a.state.isin(["CR", "CRh*"])).to_numpy(), cases)
    if row is None:
        return None
    cases.add("HEMA_D29_MISSING", a.subj[row], "C1D29", "day-29 blood counts missing; day-22 counts fall in the window")
    return int(a.subj[row]), 1
