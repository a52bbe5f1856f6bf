"""Infusions, PK and cytokines from the latent course.

Clock times are minutes from midnight of study day 1. Every cycle runs the cohort's dose steps
as continuous infusion segments; interruptions cut segments; concentrations are computed from
the final segments by superposition of one-compartment infusions, so PK agrees with the log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.simulate.params import SimulationParams
from submit.simulate.text import fixed

DAY = 1440


def cycles(course: pd.DataFrame, study: StudyConfig, rng: np.random.Generator) -> pd.DataFrame:
    """One row per cycle started: subject, phase, cycle, start minute."""
    cyc = study.treatment.cycle_days
    idx = np.arange(len(course))
    core = pd.DataFrame({"subj": np.repeat(idx, course.n_core), "phase": "CORE"})
    core["cycle"] = core.groupby("subj").cumcount() + 1
    core["day"] = (core.cycle - 1) * cyc
    rt = pd.DataFrame({"subj": np.repeat(idx, course.n_retreat), "phase": "RETREATMENT"})
    rt["cycle"] = rt.groupby("subj").cumcount() + 1
    rt["day"] = course.retreat_start.to_numpy()[rt.subj] + (rt.cycle - 1) * cyc
    out = pd.concat([core, rt], ignore_index=True)
    out = out[out.day <= course.to_cutoff.to_numpy()[out.subj]]
    out["start"] = out.day * DAY + 600 + 5 * rng.integers(0, 48, len(out))  # 10:00 to 13:55
    return out.sort_values(["subj", "start"], kind="stable").reset_index(drop=True)


def planned_segments(cyc: pd.DataFrame, course: pd.DataFrame, study: StudyConfig) -> pd.DataFrame:
    """The cohort's dose steps for every cycle, before interruptions and truncation."""
    inf_min = study.treatment.infusion_days * DAY
    rows = []
    for cohort in study.cohorts:  # loops over the few cohorts and steps, not over subjects
        for first_cycle, steps in ((True, cohort.cycle1), (False, cohort.later)):
            sel = cyc[(course.cohort.to_numpy()[cyc.subj] == cohort.code) & ((cyc.cycle == 1) == first_cycle)]
            for i, step in enumerate(steps):
                end = steps[i + 1].start if i + 1 < len(steps) else None
                rows.append(sel.assign(
                    step=i + 1, dose=step.dose,
                    seg_start=sel.start + (step.start - 1) * DAY,
                    seg_end=sel.start + ((end - 1) * DAY if end else inf_min),
                    reason="Dose step" if end else "End of infusion period"))
    seg = pd.concat(rows, ignore_index=True)
    return seg.sort_values(["subj", "seg_start"], kind="stable").reset_index(drop=True)


def cut_interruptions(seg: pd.DataFrame, stops: pd.DataFrame) -> pd.DataFrame:
    """Remove [t_stop, t_resume) from the segments of each interrupted cycle."""
    m = seg.merge(stops, on=["subj", "phase", "cycle"], how="left")
    plain = m[m.t_stop.isna()]
    hit = m[m.t_stop.notna()]
    before = hit[hit.seg_start < hit.t_stop].copy()
    cut = before.seg_end > before.t_stop
    before.loc[cut, "reason"] = "Interrupted - adverse event"
    before["seg_end"] = np.minimum(before.seg_end, before.t_stop)
    after = hit[hit.seg_end > hit.t_resume].copy()
    after["seg_start"] = np.maximum(after.seg_start, after.t_resume)
    out = pd.concat([plain, before, after], ignore_index=True).drop(columns=["t_stop", "t_resume"])
    return out.sort_values(["subj", "seg_start"], kind="stable").reset_index(drop=True)


def truncate(seg: pd.DataFrame, course: pd.DataFrame, stop_early: np.ndarray) -> pd.DataFrame:
    """End infusions at an early stop for an adverse event, at death and at the data cut-off."""
    subj = seg.subj.to_numpy()
    early = stop_early[subj]
    death = course.death.to_numpy()[subj] * DAY + 480  # died in the morning
    cutoff = (course.to_cutoff.to_numpy()[subj] + 1) * DAY
    keep = ((seg.seg_start < early) & (seg.seg_start < death) & (seg.seg_start < cutoff)).to_numpy()
    seg, early, death, cutoff = seg[keep].copy(), early[keep], death[keep], cutoff[keep]
    for limit, reason in ((early, "Stopped - adverse event"), (death, "Stopped - death")):
        hit = (seg.seg_end > limit).to_numpy()
        seg.loc[hit, "seg_end"] = limit[hit]
        seg.loc[hit, "reason"] = reason
    ongoing = (seg.seg_end > cutoff).to_numpy()
    seg["seg_end"] = seg.seg_end.astype(float)
    seg.loc[ongoing, "seg_end"] = np.nan
    seg.loc[ongoing, "reason"] = "Ongoing at data cut-off"
    seg = seg.reset_index(drop=True)
    seg["segment"] = seg.groupby(["subj", "phase", "cycle"]).cumcount() + 1
    return seg


def pk_samples(seg: pd.DataFrame, cyc: pd.DataFrame, course: pd.DataFrame, study: StudyConfig,
               rng: np.random.Generator) -> pd.DataFrame:
    """Nominal PK samples of the PK cycles with their actual times (minutes); none after the
    infusion stopped, death or the cut-off."""
    core = cyc[(cyc.phase == "CORE") & cyc.cycle.isin(study.schedule.pk_cycles)][["subj", "cycle", "start"]]
    frames = [core.assign(sample="PREDOSE", nomhr=0.0, t=core.start - 5 * rng.integers(3, 12, len(core)))]
    for h in study.schedule.pk_hours_after_step:
        frames.append(core.assign(sample=f"H{h:g}", nomhr=float(h),
                                  t=core.start + h * 60 + rng.integers(-30, 31, len(core))))
    steps = seg[(seg.phase == "CORE") & seg.cycle.isin(study.schedule.pk_cycles) & (seg.step > 1)]
    steps = steps.drop_duplicates(["subj", "cycle", "step"]).drop(columns="start").merge(core, on=["subj", "cycle"])
    for h in study.schedule.pk_hours_after_step:
        frames.append(pd.DataFrame({
            "subj": steps.subj, "cycle": steps.cycle, "start": steps.start,
            "sample": "STEP" + steps.step.astype(str) + f"H{h:g}",
            "nomhr": ((steps.seg_start - steps.start) / 60).round() + h,
            "t": steps.seg_start + h * 60 + rng.integers(-30, 31, len(steps))}))
    for d in study.schedule.pk_days:  # drawn just before the day's bag change or dose step
        frames.append(core.assign(sample=f"D{d}", nomhr=(d - 1) * 24.0,
                                  t=core.start + (d - 1) * DAY - 5 * rng.integers(1, 12, len(core))))
    out = pd.concat(frames, ignore_index=True)
    core_seg = seg[seg.phase == "CORE"]
    last_end = core_seg.groupby(["subj", "cycle"]).seg_end.max()
    ongoing = core_seg.seg_end.isna().groupby([core_seg.subj, core_seg.cycle]).any()
    last_end = last_end.where(~ongoing, np.inf).reindex(pd.MultiIndex.from_frame(out[["subj", "cycle"]])).to_numpy()
    limit = np.minimum(course.death.to_numpy()[out.subj] * DAY, (course.to_cutoff.to_numpy()[out.subj] + 1) * DAY)
    out = out[(out.t <= last_end) & (out.t < limit)]
    return out.sort_values(["subj", "cycle", "t"], kind="stable").reset_index(drop=True)


def concentrations(samples: pd.DataFrame, seg: pd.DataFrame, clearance: np.ndarray,
                   half_life_h: float) -> np.ndarray:
    """Serum concentration (pg/mL) at each sample: superposed one-compartment infusions."""
    k = np.log(2) / (half_life_h * 60)  # per minute
    s = samples.reset_index(drop=True).assign(row=lambda d: np.arange(len(d)))
    m = s.merge(seg[seg.phase == "CORE"][["subj", "cycle", "seg_start", "seg_end", "dose"]], on=["subj", "cycle"])
    m = m[m.t > m.seg_start]
    end = m.seg_end.fillna(np.inf).to_numpy()
    since_end = np.clip(m.t.to_numpy() - end, 0, None)
    rate = m.dose.to_numpy() / 24  # ug/m2/h
    css = rate / clearance[m.subj.to_numpy()] * 1000  # ug/L -> pg/mL
    part = css * (np.exp(-k * since_end) - np.exp(-k * (m.t.to_numpy() - m.seg_start.to_numpy())))
    return np.bincount(m.row.to_numpy(), weights=part, minlength=len(s))


def report_assay(values: np.ndarray, lod: float, lloq: float) -> np.ndarray:
    """The result as a bioanalytical lab reports it: <LOD, <LLOQ or the number (1 decimal)."""
    text = fixed(values, 1)
    return np.where(values < lod, "<LOD", np.where(values < lloq, "<LLOQ", text)).astype(object)


def cytokines(cyc: pd.DataFrame, seg: pd.DataFrame, course: pd.DataFrame, study: StudyConfig,
              p: SimulationParams, rng: np.random.Generator) -> pd.DataFrame:
    """Cytokine samples before and after the start of each dose step of each cycle."""
    steps = seg.drop_duplicates(["subj", "phase", "cycle", "step"])[["subj", "phase", "cycle", "step", "seg_start", "dose"]]
    hours = np.array(study.schedule.cytokine_hours_after_step, dtype=float)
    profile = np.array(p.cytokines.profile)
    rows = steps.loc[steps.index.repeat(len(hours))].reset_index(drop=True)
    rows["nomhr"] = np.tile(hours, len(steps))
    rows["level"] = np.tile(profile, len(steps))
    jitter = np.where(rows.nomhr == 0, -rng.integers(10, 41, len(rows)), rng.integers(-10, 11, len(rows)))
    rows["t"] = rows.seg_start + rows.nomhr * 60 + jitter
    limit = np.minimum(course.death.to_numpy()[rows.subj] * DAY, (course.to_cutoff.to_numpy()[rows.subj] + 1) * DAY)
    last_end = seg.groupby("subj").seg_end.max().reindex(rows.subj).fillna(np.inf).to_numpy()
    rows = rows[(rows.t < limit) & (rows.t <= last_end + 60)].reset_index(drop=True)

    c = p.cytokines
    first = (rows.phase == "CORE") & (rows.cycle == 1)
    low_start = rows.dose.to_numpy() < 15
    factor = np.where(first & (rows.step == 1), np.where(low_start, c.low_start_factor, 1.0),
                      np.where(first, c.escalation_factor, c.later_cycle_factor))
    out = []
    lim = study.lab_limits.cytokine
    for test, peak in c.peak.items():  # five tests
        f = factor if test != "IL10" else np.where(first, factor, c.later_cycle_il10_factor)
        value = peak * f * rows.level.to_numpy() * np.exp(rng.normal(0, c.sd_log, len(rows)))
        value = value + rng.uniform(0, 12, len(rows))  # assay background
        out.append(rows.assign(test=test, value=value, result=report_assay(value, lim.lod, lim.lloq)))
    return pd.concat(out, ignore_index=True)
