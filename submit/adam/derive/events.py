"""Derivations of occurrence datasets (ADAE): analysis dates imputed within bounds, the
treatment-emergent flag and phase from the infusion windows, dose and cycle at onset, durations
and the worst-grade occurrence flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.basics import pick
from submit.adam.filters import select
from submit.adam.derive.dates import dtc_to_date
from submit.adam.derive.dosing import infusion_segments
from submit.adam.registry import bad_argument, derivation


def _dates(df: pd.DataFrame, names: list[str], fn: str, arg: str) -> list[pd.Series]:
    """The date variables `names` of the dataset (an argument naming a missing one is refused)."""
    missing = [n for n in names if n not in df]
    if missing:
        raise bad_argument(fn, arg, f"names {missing}, not variables of the dataset")
    return [pd.to_datetime(df[n]) for n in names]


@derivation
def derive_vars_dt_bounded(df: pd.DataFrame, ctx, source: str, new: str, impute: str, flag: str | None = None,
                           min_dates: list[str] | None = None, max_dates: list[str] | None = None) -> pd.DataFrame:
    """`new` from the --DTC `source`, a partial date imputed to the first (`impute: first`) or
    last (`last`) day it allows, then moved to a bound that lies within the dates it allows:
    to the latest of `min_dates` later than the imputed date (e.g. TRTSDT: an AE start known only
    as the month of the first infusion is not put before the infusion), then to the earliest of
    `max_dates` earlier than it (e.g. a complete end date, the death date, the data cut-off).
    admiral's `derive_vars_dtm(min_dates, max_dates)` convention. A complete date is never moved;
    a date without a year stays missing. `flag` (--DTF) says which part was imputed (D or M)."""
    fn = "derive_vars_dt_bounded"
    if source not in df:
        raise bad_argument(fn, "source", f"{source!r} is not a variable of {ctx.dataset}")
    if impute not in ("first", "last"):
        raise bad_argument(fn, "impute", f"must be 'first' or 'last', got {impute!r}")
    low, dtf = dtc_to_date(df[source], "first")
    high, _ = dtc_to_date(df[source], "last")
    value = low if impute == "first" else high
    for bound in _dates(df, min_dates or [], fn, "min_dates"):
        moves = bound.notna() & (bound >= low) & (bound <= high) & (bound > value)
        value = value.where(~moves, bound)
    for bound in _dates(df, max_dates or [], fn, "max_dates"):
        moves = bound.notna() & (bound >= low) & (bound <= high) & (bound < value)
        value = value.where(~moves, bound)
    out = df.copy()
    out[new] = value
    if flag:
        out[flag] = dtf.where(value.notna(), "")
    return out


def treatment_windows(ex: pd.DataFrame, phase_var: str, end_window_days: int) -> pd.DataFrame:
    """Per subject and phase: the date of the first infusion start, of the last infusion end and
    the window's last day (that end date + `end_window_days`; open while an infusion runs)."""
    start, _ = dtc_to_date(ex["EXSTDTC"])
    end, _ = dtc_to_date(ex["EXENDTC"])
    running = ex["EXENDTC"].isna() | (ex["EXENDTC"].astype(str) == "")
    frame = pd.DataFrame({"USUBJID": ex["USUBJID"], "PHASE": ex[phase_var], "FIRST": start,
                          "LAST": end.where(~running.to_numpy()), "RUNNING": running.to_numpy()})
    win = frame.groupby(["USUBJID", "PHASE"]).agg(FIRST=("FIRST", "min"), LAST=("LAST", "max"),
                                                  RUNNING=("RUNNING", "any")).reset_index()
    win["LAST"] = win["LAST"].where(~win["RUNNING"])
    win["WINEND"] = win["LAST"] + pd.Timedelta(days=end_window_days)
    return win.drop(columns="RUNNING").sort_values(["USUBJID", "FIRST"], kind="stable").reset_index(drop=True)


@derivation
def derive_vars_trtemfl(df: pd.DataFrame, ctx, date: str, end_window_days: int, end_date: str | None = None,
                        flag: str = "TRTEMFL", phase: str = "APHASE", phase_var: str = "EXCAT",
                        otherwise: str | None = None, filter: dict | None = None) -> pd.DataFrame:
    """`flag` = Y when the date `date` lies in a treatment window of the subject, and `phase` the
    phase of that window. A window per phase (`phase_var` of EX, e.g. core study, retreatment)
    runs from the date of its first infusion start to `end_window_days` (the protocol's AE
    follow-up, e.g. 30) after the date of its last infusion end, both days included:
    the end date is day 0, so an onset on day 30 after it is in, day 31 is not. Where two windows
    overlap the later-starting phase is taken; a date after the first infusion outside every
    window gets the phase `otherwise`. A missing `date` is counted as treatment-emergent
    (conservatively) unless `end_date` shows the event ended before the first infusion; its
    phase stays missing. Subjects without EX (`filter` applied) have no window."""
    fn = "derive_vars_trtemfl"
    days = end_window_days
    if days < 0:
        raise bad_argument(fn, "end_window_days", f"must not be negative, got {days}")
    (onset,) = _dates(df, [date], fn, "date")
    ex = select(ctx.domain("EX"), filter, fn)
    win = treatment_windows(ex, phase_var, days)
    ctx.qc[f"{(ctx.dataset or 'adae').lower()}_te_windows"] = win.rename(
        columns={"FIRST": "FIRST_INFUSION_DATE", "LAST": "LAST_INFUSION_END_DATE", "WINEND": "WINDOW_LAST_DATE"})

    rows = pd.DataFrame({"_row": np.arange(len(df)), "USUBJID": df["USUBJID"].to_numpy(), "_d": onset.to_numpy()})
    pairs = rows.merge(win, on="USUBJID", how="inner")
    inside = (pairs["_d"] >= pairs["FIRST"]) & ((pairs["_d"] <= pairs["WINEND"]) | pairs["LAST"].isna())
    hits = pairs[inside.to_numpy()].sort_values(["_row", "FIRST"], kind="stable").drop_duplicates("_row", keep="last")
    found = np.zeros(len(df), bool)
    found[hits["_row"].to_numpy()] = True
    phases = np.full(len(df), None, dtype=object)
    phases[hits["_row"].to_numpy()] = hits["PHASE"].to_numpy()

    first = df["USUBJID"].map(win.groupby("USUBJID")["FIRST"].min())
    if otherwise is not None:
        after = (onset >= first).to_numpy() & ~found
        phases[after] = otherwise
    unknown = onset.isna().to_numpy() & first.notna().to_numpy()
    if end_date:
        (ended,) = _dates(df, [end_date], fn, "end_date")
        unknown &= ~(ended < first).to_numpy()
    out = df.copy()
    out[flag] = np.where(found | unknown, "Y", None)
    out[phase] = phases
    return out


@derivation
def derive_vars_dose_at(df: pd.DataFrame, ctx, date: str, dose: str = "DOSEON", unit: str | None = "DOSEU",
                        cycle: str | None = None, phase: str | None = None, filter: dict | None = None) -> pd.DataFrame:
    """The dose rate in force on the date `date` (an onset): EXDOSE of the infusion segment (EX
    record) that started last on or before that date, so during a treatment-free interval or an
    interruption the last dose given before. Dates without a time are compared by day, so on the
    day of a dose step the new step's dose is taken. `cycle` gets that segment's cycle ordinal
    within its phase, `phase` its phase (EXCAT). Missing before the first infusion."""
    fn = "derive_vars_dose_at"
    (onset,) = _dates(df, [date], fn, "date")
    seg = infusion_segments(select(ctx.domain("EX"), filter, fn), ctx.study)
    seg["_day"] = seg["START"].dt.normalize().astype("datetime64[ns]")  # merge_asof needs one resolution
    seg = seg.sort_values(["_day", "START", "EXSEQ"], kind="stable")
    left = pd.DataFrame({"_row": np.arange(len(df)), "USUBJID": df["USUBJID"].to_numpy(),
                         "_day": onset.dt.normalize().astype("datetime64[ns]").to_numpy()})
    left = left.dropna(subset=["_day"]).sort_values("_day", kind="stable")
    left["USUBJID"] = left["USUBJID"].astype(seg["USUBJID"].dtype)  # an empty frame's keys have no text dtype
    hit = pd.merge_asof(left, seg[["USUBJID", "_day", "DOSE", "DOSEU", "CYCLEN", "PHASE"]], on="_day", by="USUBJID",
                        direction="backward")
    out = df.copy()
    rows = hit["_row"].to_numpy()
    for new, src, numeric in ((dose, "DOSE", True), (unit, "DOSEU", False), (cycle, "CYCLEN", True),
                              (phase, "PHASE", False)):
        if new:
            column = np.full(len(df), np.nan) if numeric else np.full(len(df), None, dtype=object)
            column[rows] = hit[src].to_numpy()
            out[new] = column
    return out


@derivation
def derive_vars_duration(df: pd.DataFrame, ctx, start: str, end: str, new: str, unit: str | None = None,
                         unit_value: str = "DAYS", add_one: bool = True) -> pd.DataFrame:
    """`new` = `end` - `start` in days, + 1 with `add_one` (an event starting and ending on the same
    day lasts 1 day); `unit` gets `unit_value` where `new` is known."""
    s, e = _dates(df, [start, end], "derive_vars_duration", "start/end")
    days = (e.dt.normalize() - s.dt.normalize()).dt.days.astype(float) + (1 if add_one else 0)
    out = df.copy()
    out[new] = days
    if unit:
        out[unit] = np.where(days.notna(), unit_value, None)
    return out


@derivation
def derive_var_worst_flag(df: pd.DataFrame, ctx, by: list[str], grade: str, order: list[str], new: str,
                          filter: dict | None = None) -> pd.DataFrame:
    """`new` = Y on the record with the highest `grade` in each `by` group among those meeting
    `filter`, the first by `order` among equal grades (e.g. AOCCIFL: the first occurrence of the
    worst toxicity grade). Records without a grade are chosen only when no record has one."""
    fn = "derive_var_worst_flag"
    missing = [n for n in (grade, *order, *by) if n not in df]
    if missing:
        raise bad_argument(fn, "grade", f"grade, order and by name {missing}, not variables of the dataset")
    candidates = select(df, filter, fn)
    ranked = candidates.assign(_worst=-pd.to_numeric(candidates[grade], errors="coerce"))
    chosen = pick(ranked, by, ["_worst", *order], "first", fn).index
    out = df.copy()
    out[new] = np.where(df.index.isin(chosen), "Y", None)
    return out

