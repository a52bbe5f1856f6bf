"""Treatment emergence of an event from the subject's treatment dates (admiral's
derive_var_trtemfl): an event is treatment-emergent when it starts on or after the first dose and
not later than a window after the last dose, or when it started before treatment and worsened."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.registry import bad_argument, derivation


def _dates_of(df: pd.DataFrame, names: dict[str, str | None], fn: str) -> dict[str, pd.Series | None]:
    missing = {arg: n for arg, n in names.items() if n and n not in df}
    if missing:
        arg, name = next(iter(missing.items()))
        raise bad_argument(fn, arg, f"{name!r} is not a variable of the dataset")
    return {arg: pd.to_datetime(df[n]).astype("datetime64[ns]") if n else None for arg, n in names.items()}


@derivation
def derive_var_trtemfl(df: pd.DataFrame, ctx, new: str = "TRTEMFL", start_date: str = "ASTDTM",
                       end_date: str = "AENDTM", trt_start_date: str = "TRTSDTM", trt_end_date: str | None = None,
                       end_window: int | None = None, ignore_time_for_trt_end: bool = True,
                       initial_intensity: str | None = None, intensity: str | None = None) -> pd.DataFrame:
    """`new` = Y or missing, by the first rule that applies: no treatment start: missing; the event
    ended before treatment start: missing; no start date: Y (conservatively); it started on or
    after treatment start and (with `end_window` days) not later than that many days after
    `trt_end_date` (by date alone with `ignore_time_for_trt_end`; a missing treatment end does not
    limit it): Y; with `initial_intensity` and `intensity` (numbers, e.g. grades), it started
    before treatment and its intensity rose above the initial one (or either is missing): Y."""
    fn = "derive_var_trtemfl"
    if end_window is not None and (not isinstance(end_window, int) or isinstance(end_window, bool) or end_window < 0):
        raise bad_argument(fn, "end_window", f"must be a whole number of days >= 0, got {end_window!r}")
    if end_window is not None and not trt_end_date:
        raise bad_argument(fn, "trt_end_date", "is needed with end_window")
    if (initial_intensity is None) != (intensity is None):
        raise bad_argument(fn, "intensity", "initial_intensity and intensity go together")
    d = _dates_of(df, {"start_date": start_date, "end_date": end_date, "trt_start_date": trt_start_date,
                       "trt_end_date": trt_end_date}, fn)
    start, end, trt_start = d["start_date"], d["end_date"], d["trt_start_date"]
    within = pd.Series(True, index=df.index)
    if end_window is not None:
        trt_end = d["trt_end_date"]
        last = (trt_end.dt.normalize() if ignore_time_for_trt_end else trt_end) + pd.Timedelta(days=end_window)
        onset = start.dt.normalize() if ignore_time_for_trt_end else start
        within = trt_end.isna() | (onset <= last)
    worsened = pd.Series(False, index=df.index)
    if intensity is not None:
        missing = [n for n in (initial_intensity, intensity) if n not in df]
        if missing:
            raise bad_argument(fn, "intensity", f"names {missing}, not variables of the dataset")
        before, now = (pd.to_numeric(df[n], errors="coerce") for n in (initial_intensity, intensity))
        worsened = (start < trt_start) & ((before < now) | before.isna() | now.isna())
    conditions = [trt_start.isna(), end < trt_start, start.isna(), (start >= trt_start) & within, worsened]
    out = df.copy()
    out[new] = np.select([c.fillna(False).to_numpy(bool) for c in conditions], [None, None, "Y", "Y", "Y"], None)
    return out
