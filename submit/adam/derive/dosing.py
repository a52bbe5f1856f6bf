"""Exposure to a continuous infusion, from EX: each EX record is one infusion segment (one dose
rate from its start to its end), grouped into cycles (EXSCAT) within phases (EXCAT).

`infusion_segments` is the one reading of EX that ADEX (the exposure parameters) and ADAE (the
dose and cycle at the onset of an event) share, so that both count cycles the same way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.filters import select
from submit.adam.derive.dates import dtc_to_datetime
from submit.adam.registry import bad_argument, derivation
from submit.config import Cohort, DoseStep, StudyConfig
from submit.errors import DataCheckError, Problem

DAY = pd.Timedelta(days=1)
DOSE_PLANS = ("cohorts",)  # the study.yaml blocks that hold each cohort's dose steps


def cohort_dose_plan(ctx, fn: str, ref: str | None) -> tuple[Cohort, ...]:
    """The cohorts and their dose steps of the study.yaml block a derivation names in its
    `dose_plan` parameter; an error naming the step's parameter or the missing study.yaml key."""
    if ref is None:
        raise bad_argument(fn, "dose_plan", f"is needed here: the study.yaml block of the cohorts' dose steps "
                                            f"({', '.join(DOSE_PLANS)})")
    if ref not in DOSE_PLANS:
        raise bad_argument(fn, "dose_plan", f"{ref!r} is not a dose-step block of the study configuration "
                                            f"(known: {', '.join(DOSE_PLANS)})")
    return ctx.study.require(ref, f"{fn} (dose_plan: {ref})")


def check_cohorts(fn: str, arm: str, arms: pd.Series, cohorts: tuple[Cohort, ...]) -> None:
    """Every subject of `arms` (the ADSL variable `arm` by USUBJID, one per subject) is in one of
    `cohorts` by its ARMCD."""
    lost = arms[~arms.isin({c.armcd for c in cohorts})].sort_index()
    if len(lost):
        raise DataCheckError(f"{fn}: {len(lost)} subject(s) without a cohort of the study configuration",
                             [Problem("ADSL", f"{arm}={v if pd.notna(v) else None!r} is not a cohort ARMCD", key=u)
                              for u, v in lost.items()])


def infusion_segments(ex: pd.DataFrame, study: StudyConfig, phase: str = "EXCAT",
                      cycle: str = "EXSCAT") -> pd.DataFrame:
    """One row per EX record, sorted by subject and start: USUBJID, EXSEQ, PHASE (`phase`), CYCLE
    (`cycle`, as recorded), CYCLEN (the cycle's ordinal within its phase by its first start, so that
    no text is parsed), START, END (datetimes), DOSE, DOSEU, DAYS (END - START in days). An infusion
    still running at the data cut-off (no EXENDTC) is counted up to the end of the cut-off date."""
    start, _ = dtc_to_datetime(ex["EXSTDTC"])
    end, _ = dtc_to_datetime(ex["EXENDTC"])
    running = end.isna() & start.notna()
    end = end.where(~running, pd.Timestamp(study.dates.data_cutoff) + DAY)
    seg = pd.DataFrame({"USUBJID": ex["USUBJID"].to_numpy(), "EXSEQ": ex["EXSEQ"].to_numpy(),
                        "PHASE": ex[phase].to_numpy(), "CYCLE": ex[cycle].to_numpy(),
                        "START": start.to_numpy(), "END": end.to_numpy(),
                        "DOSE": pd.to_numeric(ex["EXDOSE"], errors="coerce").to_numpy(),
                        "DOSEU": ex["EXDOSU"].to_numpy() if "EXDOSU" in ex else None})
    seg = seg[seg["START"].notna()].sort_values(["USUBJID", "START", "EXSEQ"], kind="stable").reset_index(drop=True)
    seg["DAYS"] = (seg["END"] - seg["START"]) / DAY
    first = seg.groupby(["USUBJID", "PHASE", "CYCLE"])["START"].transform("min")
    seg["CYCLEN"] = (first.groupby([seg["USUBJID"], seg["PHASE"]]).rank(method="dense")).astype(int)
    return seg


def planned_cycle_dose(steps: tuple[DoseStep, ...], infusion_days: int) -> float:
    """Planned dose of one cycle: each step's daily dose times its days, the last step running to
    the end of the infusion (e.g. 5 x 7 + 15 x 21 = 350 for 5-15 ug/m2/day over 28 days)."""
    starts = [s.start for s in steps] + [infusion_days + 1]
    return float(sum(s.dose * (starts[i + 1] - s.start) for i, s in enumerate(steps)))


# Measures of exposure: the pipeline names which PARAMCD each one fills. Additive measures are
# summed from cycles to phases to the whole treatment; the others are recomputed at each level.
MEASURES = ("duration_days", "cycles_started", "cumulative_dose", "planned_dose", "dose_intensity",
            "interruptions")
PER_CYCLE = ("duration_days", "cumulative_dose", "planned_dose", "dose_intensity", "interruptions")


def _per_cycle(seg: pd.DataFrame, arms: pd.Series, plan_of: tuple[Cohort, ...] | None, infusion_days: int | None,
               min_gap_hours: float) -> pd.DataFrame:
    """Exposure of each started cycle: first start, last end, days infused, dose given, dose
    planned by the cohort's steps of `plan_of` over `infusion_days` (`cycle1` for the first cycle of
    a phase, `later` after it; none without a plan) and interruptions (gaps longer than
    `min_gap_hours` between consecutive segments)."""
    by = ["USUBJID", "PHASE", "CYCLEN"]
    gap = seg["START"] - seg.groupby(by)["END"].shift()
    seg = seg.assign(_dose=seg["DOSE"] * seg["DAYS"], _gap=(gap > pd.Timedelta(hours=min_gap_hours)).astype(int))
    cyc = seg.groupby(by, sort=True).agg(CYCLE=("CYCLE", "first"), START=("START", "min"), END=("END", "max"),
                                         duration_days=("DAYS", "sum"), cumulative_dose=("_dose", "sum"),
                                         interruptions=("_gap", "sum")).reset_index()
    plan = {(c.armcd, first): planned_cycle_dose(steps, infusion_days)
            for c in plan_of or () for first, steps in ((True, c.cycle1), (False, c.later))}
    arm = cyc["USUBJID"].map(arms)
    key = pd.Series(list(zip(arm, cyc["CYCLEN"] == 1)), index=cyc.index)
    cyc["planned_dose"] = key.map(plan).astype(float)
    cyc["cycles_started"] = 1
    return cyc


@derivation
def derive_param_exposure(df: pd.DataFrame, ctx, measures: dict, phases: list[dict], overall_visit: str,
                          overall_visitn: int = 999, min_gap_hours: float = 1.0, arm: str = "ACTARMCD",
                          dose_plan: str | None = None, infusion_days: int | None = None,
                          filter: dict | None = None) -> pd.DataFrame:
    """Exposure records per subject: one per measure and cycle, per phase and overall.

    `measures` maps each PARAMCD to a measure of `MEASURES`; `phases` lists the phases (EXCAT
    values) as `{value, cycle_visit, total_visit, visitn}`: a cycle record has AVISIT
    "`cycle_visit` n" and AVISITN `visitn` + n, the phase total AVISIT `total_visit` and AVISITN
    `visitn` + 99; the total over all phases has `overall_visit` / `overall_visitn`. Cycles started
    has no per-cycle record (it would always be 1). The planned dose (planned_dose, dose_intensity)
    needs `dose_plan` (the study.yaml block of the cohorts' dose steps, e.g. cohorts) and
    `infusion_days` (the last step runs to the end of the infusion); the subject's cohort is the
    ADSL variable `arm`, matched to the cohorts' ARMCD. Output variables: USUBJID,
    STUDYID, PARAMCD, AVAL, APHASE, AVISIT, AVISITN, ASTDTM, AENDTM (first infusion start and last
    infusion end of the record's span) and their dates ASTDT, AENDT."""
    fn = "derive_param_exposure"
    unknown = {k: v for k, v in measures.items() if v not in MEASURES}
    if unknown:
        raise bad_argument(fn, "measures", f"names unknown measures {unknown} (known: {', '.join(MEASURES)})")
    for i, p in enumerate(phases):
        if not isinstance(p, dict) or not {"value", "cycle_visit", "total_visit", "visitn"} <= set(p):
            raise bad_argument(fn, f"phases[{i}]", "needs value, cycle_visit, total_visit and visitn")
    ex = select(ctx.domain("EX"), filter, fn)
    seg = infusion_segments(ex, ctx.study)
    phase_of = {p["value"]: p for p in phases}
    stray = sorted(set(seg["PHASE"]) - set(phase_of))
    if stray:
        raise bad_argument(fn, "phases", f"does not list the EXCAT values {stray} found in EX")
    adsl = ctx.adsl.set_index("USUBJID")
    if arm not in adsl:
        raise bad_argument(fn, "arm", f"{arm!r} is not an ADSL variable")
    arms = adsl[arm]
    plan_of = None
    if {"planned_dose", "dose_intensity"} & set(measures.values()):
        plan_of = cohort_dose_plan(ctx, fn, dose_plan)
        if infusion_days is None or infusion_days < 1:
            raise bad_argument(fn, "infusion_days", "is needed for the planned dose: a whole number of days >= 1")
        treated = seg["USUBJID"].unique()
        check_cohorts(fn, arm, arms.reindex(treated), plan_of)  # a treated subject has a planned dose

    cyc = _per_cycle(seg, arms, plan_of, infusion_days, min_gap_hours)
    additive = ["duration_days", "cumulative_dose", "planned_dose", "interruptions", "cycles_started"]
    spans = {"START": "min", "END": "max"}
    phase = cyc.groupby(["USUBJID", "PHASE"]).agg({**dict.fromkeys(additive, "sum"), **spans}).reset_index()
    total = cyc.groupby("USUBJID").agg({**dict.fromkeys(additive, "sum"), **spans}).reset_index()

    def of(key: str) -> dict:
        return {value: p[key] for value, p in phase_of.items()}

    cyc["AVISIT"] = cyc["PHASE"].map(of("cycle_visit")) + " " + cyc["CYCLEN"].astype(str)
    cyc["AVISITN"] = cyc["PHASE"].map(of("visitn")) + cyc["CYCLEN"]
    phase["AVISIT"] = phase["PHASE"].map(of("total_visit"))
    phase["AVISITN"] = phase["PHASE"].map(of("visitn")) + 99
    total["PHASE"], total["AVISIT"], total["AVISITN"] = None, overall_visit, overall_visitn
    levels = []
    for level, frame in (("cycle", cyc), ("phase", phase), ("overall", total)):
        frame = frame.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["dose_intensity"] = 100 * frame["cumulative_dose"] / frame["planned_dose"]
        for paramcd, measure in measures.items():
            if level == "cycle" and measure not in PER_CYCLE:
                continue
            levels.append(pd.DataFrame({"USUBJID": frame["USUBJID"], "PARAMCD": paramcd,
                                        "AVAL": frame[measure].astype(float), "APHASE": frame["PHASE"],
                                        "AVISIT": frame["AVISIT"], "AVISITN": frame["AVISITN"].astype(float),
                                        "ASTDTM": frame["START"], "AENDTM": frame["END"],
                                        "ASTDT": frame["START"].dt.normalize(), "AENDT": frame["END"].dt.normalize()}))
    new = pd.concat(levels, ignore_index=True)
    new.insert(0, "STUDYID", new["USUBJID"].map(ex.drop_duplicates("USUBJID").set_index("USUBJID")["STUDYID"]))
    new["_PARAMN"] = new["PARAMCD"].map({p: i + 1 for i, p in enumerate(measures)}).astype(float)
    new = new.sort_values(["USUBJID", "AVISITN", "_PARAMN"], kind="stable").reset_index(drop=True)
    ctx.qc[f"{(ctx.dataset or 'adex').lower()}_cycles"] = cyc[
        ["USUBJID", "PHASE", "CYCLE", "CYCLEN", "START", "END", "duration_days", "cumulative_dose", "planned_dose",
         "interruptions"]]
    return pd.concat([df, new], ignore_index=True) if len(df) else new
