"""Samples timed against a continuous infusion, and the PK derivations built on them (ADPC, ADPP).

Vocabulary. An EX record is one infusion *segment* at a constant rate (read by
`dosing.infusion_segments`, the one reading of EX the ADaM datasets share). A *dose step* is a
series of consecutive segments of one cycle at the same dose: a new bag, or an interruption
resumed at the same dose, stays in the step; a change of dose starts the next step. A *run* is a
series of segments of one step without a gap longer than `min_gap_hours`: after an interruption
the run, and with it the clock of the steady-state rule, starts again.

A sample's *cycle* is the cycle whose infusion is running at the sample, else the cycle whose
window holds it: from `predose_hours` before the cycle's first start (its pre-dose samples) to
the next cycle's window, the last cycle of a phase ending `cycle_days` after its start. The *dose
in force* is the rate of the segment running at the sample (a sample at the very minute a step
starts is in the new step; one at the minute the infusion ends is still in it); none before the
infusion, during an interruption or after the end. Times are compared in whole minutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.basics import _need
from submit.adam.derive.values import value_of
from submit.adam.filters import select
from submit.adam.derive.dosing import check_cohorts, cohort_dose_plan, infusion_segments
from submit.adam.registry import bad_argument, derivation

HOUR = pd.Timedelta(hours=1)
MINUTE = pd.Timedelta(minutes=1)
CYCLE_KEYS = ["USUBJID", "PHASE", "CYCLEN"]
TIMING_ROLES = ("phase", "cycle", "visit", "visitn", "dose", "dose_unit", "step", "step_start", "cycle_start",
                "from_cycle", "from_step")


def _ns(values) -> pd.Series:
    """Datetimes at one resolution (merge_asof refuses keys of different resolutions)."""
    return pd.Series(pd.to_datetime(values)).astype("datetime64[ns]")


def _hours(end: pd.Series, start: pd.Series) -> pd.Series:
    """end - start in hours, from whole minutes (so that 10 h 00 min is exactly 10)."""
    return ((pd.to_datetime(end) - pd.to_datetime(start)) / MINUTE).round(6) / 60


def step_segments(ex: pd.DataFrame, study, min_gap_hours: float = 1.0) -> pd.DataFrame:
    """The infusion segments with their dose step: STEP (1, 2, ... within the cycle), RUNSTART
    (start of the uninterrupted run the segment belongs to), STEPSTART / STEPEND (first start and
    last end of the step), CYCSTART / CYCEND (of the cycle)."""
    seg = infusion_segments(ex, study)
    seg["START"], seg["END"] = _ns(seg["START"]), _ns(seg["END"])
    grouped = seg.groupby(CYCLE_KEYS, sort=False)
    prev_dose, prev_end = grouped["DOSE"].shift(), grouped["END"].shift()
    new_step = prev_dose.isna() | seg["DOSE"].ne(prev_dose)
    seg["STEP"] = new_step.astype(int).groupby([seg[k] for k in CYCLE_KEYS]).cumsum()
    new_run = new_step | ((seg["START"] - prev_end) > pd.Timedelta(hours=min_gap_hours))
    seg["RUNSTART"] = seg["START"].groupby(new_run.cumsum()).transform("min")
    steps = seg.groupby([*CYCLE_KEYS, "STEP"], sort=False)
    seg["STEPSTART"], seg["STEPEND"] = steps["START"].transform("min"), steps["END"].transform("max")
    cycles = seg.groupby(CYCLE_KEYS, sort=False)
    seg["CYCSTART"], seg["CYCEND"] = cycles["START"].transform("min"), cycles["END"].transform("max")
    return seg


def cycle_windows(seg: pd.DataFrame, predose_hours: float, cycle_days: float) -> pd.DataFrame:
    """One row per cycle: WSTART (predose_hours before its start, not before the previous cycle's
    infusion ended) and WEND (the next cycle's WSTART; for the last cycle of a phase at most
    cycle_days after its start)."""
    cyc = (seg.drop_duplicates(CYCLE_KEYS)[[*CYCLE_KEYS, "CYCSTART", "CYCEND"]]
           .sort_values(["USUBJID", "CYCSTART"], kind="stable").reset_index(drop=True))
    by_subject = cyc.groupby("USUBJID", sort=False)
    prev_end = by_subject["CYCEND"].shift()
    wstart = cyc["CYCSTART"] - pd.Timedelta(hours=predose_hours)
    cyc["WSTART"] = wstart.where(~(prev_end > wstart), prev_end)
    next_start = cyc.groupby("USUBJID", sort=False)["WSTART"].shift(-1)
    same_phase = cyc["PHASE"].eq(by_subject["PHASE"].shift(-1))
    cap = cyc["CYCSTART"] + pd.Timedelta(days=cycle_days)
    capped = cap.where(~(next_start < cap), next_start)
    cyc["WEND"] = next_start.where(same_phase, capped)
    return cyc


def locate_samples(subjects: pd.Series, times: pd.Series, seg: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """For each sample (a row per position of `times`): its cycle (PHASE, CYCLEN, CYCSTART; BEFORE /
    AFTER when it precedes every cycle window / follows the last one) and the segment running at it
    (DOSE, DOSEU, STEP, RUNSTART; missing when no infusion runs)."""
    left = pd.DataFrame({"_row": np.arange(len(times)), "USUBJID": subjects.to_numpy(),
                         "T": _ns(times).to_numpy()}).dropna(subset=["T"]).sort_values("T", kind="stable")
    win = pd.merge_asof(left, windows.sort_values("WSTART", kind="stable"), left_on="T", right_on="WSTART",
                        by="USUBJID", direction="backward")
    run = pd.merge_asof(left, seg.sort_values("START", kind="stable")[
        ["USUBJID", "START", "END", "PHASE", "CYCLEN", "CYCSTART", "DOSE", "DOSEU", "STEP", "RUNSTART"]],
        left_on="T", right_on="START", by="USUBJID", direction="backward")
    running = run["START"].notna() & ~(run["T"] > run["END"])
    in_window = win["WSTART"].notna() & ~(win["T"] >= win["WEND"])
    placed = running | in_window
    # The running segment decides the cycle; the windows only place samples between infusions.
    found = pd.DataFrame({**{c: run[c].where(running, win[c].where(in_window)) for c in ("PHASE", "CYCLEN", "CYCSTART")},
                          **{c: run[c].where(running) for c in ("DOSE", "DOSEU", "STEP", "RUNSTART")},
                          "BEFORE": ~placed & win["WSTART"].isna(), "AFTER": ~placed & win["WSTART"].notna()})
    out = found.set_axis(left["_row"].to_numpy()).reindex(range(len(times)))
    out[["BEFORE", "AFTER"]] = out[["BEFORE", "AFTER"]].fillna(False).astype(bool)
    out[["CYCLEN", "DOSE", "STEP"]] = out[["CYCLEN", "DOSE", "STEP"]].astype(float)
    return out


def _check_phases(phases: dict, seg: pd.DataFrame, fn: str) -> None:
    for value, p in phases.items():
        if not isinstance(p, dict) or not {"visit", "visitn"} <= set(p):
            raise bad_argument(fn, "phases", f"{value}: needs visit and visitn")
    stray = sorted(set(seg["PHASE"].dropna()) - set(phases))
    if stray:
        raise bad_argument(fn, "phases", f"does not list the EXCAT values {stray} found in EX")


@derivation
def derive_vars_infusion_timing(df: pd.DataFrame, ctx, time: str, new_vars: dict, phases: dict, cycle_days: float,
                                before: dict | None = None, after: dict | None = None, predose_hours: float = 24.0,
                                min_gap_hours: float = 1.0, filter: dict | None = None) -> pd.DataFrame:
    """Where each record's datetime `time` falls in the subject's infusions (see the module
    docstring; `cycle_days` is the planned cycle length, infusion and treatment-free days, which
    ends the window of a phase's last cycle). `new_vars` maps roles to new variable names, each
    optional: phase (EXCAT), cycle (ordinal within the phase), visit / visitn ("`phases[EXCAT].visit` n", `visitn` + n; outside
    every cycle `before` or `after`, each {visit, visitn}), dose / dose_unit / step (of the segment
    running), step_start (start of the run: the dose step, or its resumption after an
    interruption), cycle_start (first infusion start of the cycle), from_cycle / from_step (hours
    from cycle_start / step_start). `filter` selects EX records."""
    fn = "derive_vars_infusion_timing"
    unknown = sorted(set(new_vars) - set(TIMING_ROLES))
    if unknown:
        raise bad_argument(fn, "new_vars", f"has unknown roles {unknown} (known: {', '.join(TIMING_ROLES)})")
    _need(df, [time], fn, "time", ctx.dataset or "the dataset")
    if not cycle_days > 0:
        raise bad_argument(fn, "cycle_days", f"must be a positive number of days, got {cycle_days!r}")
    seg = step_segments(select(ctx.domain("EX"), filter, fn), ctx.study, min_gap_hours)
    _check_phases(phases, seg, fn)
    windows = cycle_windows(seg, predose_hours, cycle_days)
    at = locate_samples(df["USUBJID"], df[time], seg, windows).set_axis(df.index)

    visit = at["PHASE"].map({k: v["visit"] for k, v in phases.items()})
    visit = visit + " " + at["CYCLEN"].astype("Int64").astype("string")
    visit = visit.astype(object).where(visit.notna(), None)
    visitn = at["PHASE"].map({k: float(v["visitn"]) for k, v in phases.items()}).astype(float) + at["CYCLEN"]
    for edge, where in ((before, at["BEFORE"]), (after, at["AFTER"])):
        if edge:
            visit = visit.where(~where.astype(bool), edge.get("visit"))
            visitn = visitn.where(~where.astype(bool), float(edge["visitn"]) if edge.get("visitn") is not None else np.nan)
    values = {"phase": at["PHASE"].where(at["PHASE"].notna(), None), "cycle": at["CYCLEN"], "visit": visit,
              "visitn": visitn, "dose": at["DOSE"], "dose_unit": at["DOSEU"].where(at["DOSE"].notna(), None),
              "step": at["STEP"], "step_start": at["RUNSTART"], "cycle_start": at["CYCSTART"],
              "from_cycle": _hours(df[time], at["CYCSTART"]), "from_step": _hours(df[time], at["RUNSTART"])}
    out = df.copy()
    for role, name in new_vars.items():
        out[name] = values[role]
    return out


def _cohort_plan(ctx, fn: str, arm: str, subjects: pd.Series, plan_ref: str | None) -> tuple[pd.Series, pd.DataFrame]:
    """(cohort ARMCD per record, planned step starts in hours: ARMCD, FIRST (cycle 1 of a phase),
    STEP, HOUR) of the dose plan `plan_ref` (the derivation's `dose_plan`)."""
    cohorts = cohort_dose_plan(ctx, fn, plan_ref)
    adsl = ctx.adsl.set_index("USUBJID")
    if arm not in adsl:
        raise bad_argument(fn, "arm", f"{arm!r} is not an ADSL variable")
    cohort = subjects.map(adsl[arm])
    with_arm = subjects[cohort.notna()].drop_duplicates()
    check_cohorts(fn, arm, adsl[arm].reindex(with_arm.to_numpy()), cohorts)
    plan = pd.DataFrame([{"ARMCD": c.armcd, "FIRST": first, "STEP": float(k + 1), "HOUR": (s.start - 1) * 24.0}
                         for c in cohorts for first, steps in ((True, c.cycle1), (False, c.later))
                         for k, s in enumerate(steps)])
    return cohort, plan


def planned_step_hours(cohort: pd.Series, cycle: pd.Series, step: pd.Series, plan: pd.DataFrame) -> pd.Series:
    """Planned start of dose step `step` in hours after the start of the cycle (the cohort's
    `cycle1` steps in the first cycle of a phase, `later` in the others); missing for a step the
    plan does not have."""
    keys = pd.DataFrame({"ARMCD": cohort.to_numpy(), "FIRST": (cycle == 1).to_numpy(),
                         "STEP": pd.to_numeric(step).astype(float).to_numpy()})
    return pd.Series(keys.merge(plan, how="left", on=["ARMCD", "FIRST", "STEP"])["HOUR"].to_numpy(), index=cycle.index)


@derivation
def derive_vars_nominal_times(df: pd.DataFrame, ctx, nominal: str = "NRRLT", from_first: str | None = None,
                              from_step: str | None = None, phase: str = "APHASE", cycle: str = "ACYCLE",
                              step: str = "DOSESTPN", first_phase: str = "CORE STUDY",
                              arm: str = "ACTARMCD", dose_plan: str | None = None,
                              cycle_days: float | None = None) -> pd.DataFrame:
    """Nominal times from the nominal hours after the cycle's infusion start (`nominal`):
    `from_step` = `nominal` - the planned start of the dose step in force (the cohort's steps of
    the study.yaml block `dose_plan`, cohort of the ADSL variable `arm`); `from_first` = hours
    after the first dose by the plan (cycle n of `first_phase` starting (n - 1) x `cycle_days`
    after it; missing in other phases)."""
    fn = "derive_vars_nominal_times"
    _need(df, [nominal, phase, cycle, step], fn, "nominal/phase/cycle/step", ctx.dataset or "the dataset")
    out = df.copy()
    if from_step:
        # Only records in a dose step need the plan (an untreated subject may have no cohort).
        cohort, plan = _cohort_plan(ctx, fn, arm, df["USUBJID"].where(df[step].notna()), dose_plan)
        out[from_step] = df[nominal] - planned_step_hours(cohort, df[cycle], df[step], plan)
    if from_first:
        if cycle_days is None or not cycle_days > 0:
            raise bad_argument(fn, "cycle_days", "is needed for from_first: the planned cycle length in days")
        hours = (df[cycle] - 1) * cycle_days * 24.0 + df[nominal]
        out[from_first] = hours.where(df[phase] == first_phase)
    return out


@derivation
def derive_var_steady_state(df: pd.DataFrame, ctx, new: str, time: str = "ADTM", step_start: str = "STPSTDTM",
                            dose: str = "DOSEA", min_hours: float = 10.0) -> pd.DataFrame:
    """`new` = Y when a dose is in force (`dose` present) and `time` is at least `min_hours` after
    `step_start` (the start of the dose step or its resumption), counted in whole minutes so that
    10 h 00 min qualifies and 9 h 59 min does not; N otherwise (also before and after infusion)."""
    _need(df, [time, step_start, dose], "derive_var_steady_state", "time/step_start/dose", ctx.dataset or "the dataset")
    minutes = (pd.to_datetime(df[time]) - pd.to_datetime(df[step_start])) / MINUTE
    steady = df[dose].notna() & (minutes >= min_hours * 60)
    out = df.copy()
    out[new] = np.where(steady, "Y", "N")
    return out


@derivation
def derive_var_cases(df: pd.DataFrame, ctx, new: str, cases: list[dict], default=None) -> pd.DataFrame:
    """`new` = the `value` of the first of `cases` ({filter, value}) whose filter the record meets,
    else `default` (the declarative CASE WHEN: the order of the cases is their priority). A value
    or the default may be `{var: NAME}`: that variable of the record (a coalesce, in order); an empty filter holds for every record."""
    fn = "derive_var_cases"
    takes_var = isinstance(default, dict) or any(isinstance(c, dict) and isinstance(c.get("value"), dict) for c in cases)
    fallback = value_of(df, default, fn, "default")
    result = fallback.astype(object).copy() if isinstance(fallback, pd.Series) else pd.Series(default, index=df.index, dtype=object)
    decided = pd.Series(False, index=df.index)
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or "filter" not in case or "value" not in case:
            raise bad_argument(fn, f"cases[{i}]", "needs filter and value")
        hit = df.index.isin(select(df, case["filter"], fn).index) & ~decided.to_numpy()
        value = value_of(df, case["value"], fn, f"cases[{i}].value")
        result[hit] = value[hit].astype(object).to_numpy() if isinstance(value, pd.Series) else case["value"]
        decided |= hit
    out = df.copy()
    # Values taken from variables keep their type (numbers, datetimes); constants stay as given.
    out[new] = result.infer_objects() if takes_var else result
    return out


@derivation
def derive_var_hours(df: pd.DataFrame, ctx, start: str, end: str, new: str) -> pd.DataFrame:
    """`new` = hours from the datetime `start` to the datetime `end` (negative when end is earlier)."""
    _need(df, [start, end], "derive_var_hours", "start/end", ctx.dataset or "the dataset")
    out = df.copy()
    out[new] = _hours(df[end], df[start])
    return out


_ISO_DURATION = (r"^(?P<sign>-)?P(?:(?P<D>\d+(?:\.\d+)?)D)?(?:T(?:(?P<H>\d+(?:\.\d+)?)H)?"
                 r"(?:(?P<M>\d+(?:\.\d+)?)M)?(?:(?P<S>\d+(?:\.\d+)?)S)?)?$")


def iso_duration_hours(text: pd.Series) -> pd.Series:
    """Hours of ISO 8601 durations such as PT48H, P1DT2H30M or -PT30M (missing when not one).
    A vectorized regular expression, as the duration libraries parse one value at a time."""
    parts = text.astype("string").str.extract(_ISO_DURATION)
    numbers = parts[["D", "H", "M", "S"]].apply(pd.to_numeric)
    n = numbers.fillna(0)
    hours = n["D"] * 24 + n["H"] + n["M"] / 60 + n["S"] / 3600
    valid = numbers.notna().any(axis=1) & text.notna()
    return hours.where(parts["sign"].isna(), -hours).where(valid).astype(float)


@derivation
def derive_var_elapsed_hours(df: pd.DataFrame, ctx, source: str, new: str) -> pd.DataFrame:
    """`new` = the ISO 8601 duration `source` (e.g. --ELTM PT48H) in hours."""
    _need(df, [source], "derive_var_elapsed_hours", "source", ctx.dataset or "the dataset")
    out = df.copy()
    out[new] = iso_duration_hours(df[source])
    return out


@derivation
def derive_param_mean(df: pd.DataFrame, ctx, source: str, paramcd: str, by: list[str], value: str = "AVAL",
                      filter: dict | None = None, carry: list[str] | None = None,
                      count: str | None = None) -> pd.DataFrame:
    """New records, one per `by` group of the records of `source` meeting `filter`: PARAMCD
    `paramcd`, AVAL the mean of `value`, `count` the number of values averaged, and the `carry`
    variables (which must be constant within each group)."""
    fn = "derive_param_mean"
    carry = carry or []
    src = select(ctx.domain(source), filter, fn)
    _need(src, [*by, *carry, value], fn, "by/carry/value", source)
    src = src[src[value].notna()]
    varying = [c for c in carry if (src.groupby(by, dropna=False)[c].nunique(dropna=False) > 1).any()]
    if varying:
        raise bad_argument(fn, "carry", f"names {varying}, which vary within a {' '.join(by)} group of {source}")
    grouped = src.groupby(by, sort=True, dropna=False)
    new = grouped[carry].first().join(grouped[value].agg(["mean", "size"])).reset_index()
    new = new.rename(columns={"mean": "AVAL"}).assign(PARAMCD=paramcd)
    if count:
        new[count] = new["size"].astype(float)
    new = new.drop(columns="size")
    return pd.concat([df, new], ignore_index=True) if len(df) else new


@derivation
def derive_vars_step_span(df: pd.DataFrame, ctx, start: str = "ASTDTM", end: str = "AENDTM", phase: str = "APHASE",
                          cycle: str = "ACYCLE", step: str = "DOSESTPN", filter: dict | None = None) -> pd.DataFrame:
    """`start` / `end` = first infusion start and last infusion end of the record's dose step
    (`phase`, `cycle`, `step`), from EX (records meeting `filter`)."""
    fn = "derive_vars_step_span"
    _need(df, ["USUBJID", phase, cycle, step], fn, "phase/cycle/step", ctx.dataset or "the dataset")
    seg = step_segments(select(ctx.domain("EX"), filter, fn), ctx.study)
    spans = seg.drop_duplicates([*CYCLE_KEYS, "STEP"])[[*CYCLE_KEYS, "STEP", "STEPSTART", "STEPEND"]]
    spans = spans.rename(columns={"PHASE": phase, "CYCLEN": cycle, "STEP": step, "STEPSTART": start, "STEPEND": end})
    spans[cycle] = spans[cycle].astype(float)
    spans[step] = spans[step].astype(float)
    keys = ["USUBJID", phase, cycle, step]
    out = df.drop(columns=[c for c in (start, end) if c in df])
    merged = out.assign(**{cycle: out[cycle].astype(float), step: out[step].astype(float)}).merge(
        spans, on=keys, how="left", validate="many_to_one")
    out[start], out[end] = merged[start].to_numpy(), merged[end].to_numpy()
    return out


@derivation
def derive_param_clearance(df: pd.DataFrame, ctx, css: str = "CSS", paramcd: str = "CL", dose: str = "DOSEA",
                           rate: str = "R0", dose_hours: float = 24.0, factor: float = 1000.0) -> pd.DataFrame:
    """Clearance records CL = R0 / Css, one per `css` record with a positive Css: R0 (`rate`, set on
    both records) = `dose` / `dose_hours` (a daily dose rate per hour), and `factor` converting
    the units of R0 / Css into those of CL (ug/m2/h over pg/mL is 1000 L/h/m2). No CL where Css is 0."""
    fn = "derive_param_clearance"
    _need(df, ["PARAMCD", "AVAL", dose], fn, "dose", ctx.dataset or "the dataset")
    out = df.copy()
    is_css = out["PARAMCD"] == css
    out[rate] = np.where(is_css, out[dose] / dose_hours, out[rate] if rate in out else np.nan)
    cl = out[is_css & (out["AVAL"] > 0)].copy()
    cl["PARAMCD"] = paramcd
    cl["AVAL"] = cl[rate] / cl["AVAL"] * factor
    return pd.concat([out, cl], ignore_index=True)
