"""The doses around an event, from an exposure domain read as single doses: each record gives a
dose at its start and every dosing interval of its frequency (EXDOSFRQ) up to its end, as
admiral's create_single_dose_dataset lays them out, but computed without expanding the records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.dates import dtc_to_datetime
from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation

# CDISC frequency (C71113) -> days between doses; several doses a day share their date (no times)
INTERVAL_DAYS = {"ONCE": 0, "QD": 1, "BID": 1, "TID": 1, "QID": 1, "QOD": 2, "QW": 7, "Q2W": 14, "Q3W": 21,
                 "Q4W": 28, "Q6W": 42, "Q8W": 56, "QM": 30}
DAY = pd.Timedelta(days=1)


def dose_records(ctx, domain: str, start: str, end: str, frequency: str, filter: dict | None, fn: str,
                 ongoing: bool = False) -> pd.DataFrame:
    """The records of `domain` meeting `filter` with a start and end date (with `ongoing`, a record
    without an end date too: it doses on), their datetimes START, END (a date alone at midnight;
    the latest datetime for an ongoing record) and the days between doses INTERVAL."""
    src = select(ctx.domain(domain), filter, fn)
    missing = [n for n in (start, end, frequency) if n not in src]
    if missing:
        raise bad_argument(fn, "start/end/frequency", f"names {missing}, not variables of {domain}")
    unknown = sorted(set(src[frequency].dropna()) - set(INTERVAL_DAYS))
    if unknown:
        raise bad_argument(fn, "frequency", f"{domain}.{frequency} has values without a known dosing interval: "
                                            f"{unknown} (known: {', '.join(INTERVAL_DAYS)})")
    out = src.assign(START=dtc_to_datetime(src[start])[0].astype("datetime64[ns]").to_numpy(),
                     END=dtc_to_datetime(src[end])[0].astype("datetime64[ns]").to_numpy(),
                     INTERVAL=src[frequency].map(INTERVAL_DAYS).to_numpy())
    if ongoing:
        out["END"] = out["END"].where(src[end].notna().to_numpy() & (src[end].astype(str) != "").to_numpy(),
                                      pd.Timestamp.max)
    return out[out["START"].notna() & out["END"].notna() & out["INTERVAL"].notna()].reset_index(drop=True)


@derivation
def derive_vars_last_dose(df: pd.DataFrame, ctx, date: str, dose_datetime: str | None = None,
                          new_vars: dict | None = None, same_day: bool = False, ongoing: bool = False,
                          domain: str = "EX",
                          start: str = "EXSTDTC", end: str = "EXENDTC", frequency: str = "EXDOSFRQ",
                          filter: dict | None = None, by: list[str] | None = None) -> pd.DataFrame:
    """The last single dose given on or before the datetime `date` (e.g. an event's onset) of the
    same `by` group (USUBJID): its datetime as `dose_datetime` (e.g. LDOSEDTM) and `new_vars`
    (new name -> variable of `domain`, e.g. {DOSEON: EXDOSE}) of its record. With `same_day`
    only a dose on the day of `date` counts (the dose on the day of onset). Records of `domain`
    meeting `filter` with a complete start and end date are read, with `ongoing` also those
    without an end date (see `dose_records`); a missing `date` has no dose."""
    fn = "derive_vars_last_dose"
    by = by or ["USUBJID"]
    if date not in df:
        raise bad_argument(fn, "date", f"{date!r} is not a variable of the dataset")
    if not dose_datetime and not new_vars:
        raise bad_argument(fn, "new_vars", "give dose_datetime or new_vars (nothing would be derived)")
    doses = dose_records(ctx, domain, start, end, frequency, filter, fn, ongoing)
    missing = [v for v in [*(new_vars or {}).values(), *by] if v not in doses]
    if missing:
        raise bad_argument(fn, "new_vars", f"names {missing}, not variables of {domain}")
    at = pd.to_datetime(df[date]).astype("datetime64[ns]")
    cap = at.dt.normalize() + DAY - pd.Timedelta(seconds=1) if same_day else at
    events = df[by].assign(_row=np.arange(len(df)), _cap=cap.to_numpy(), _day=at.dt.normalize().to_numpy())
    pairs = events[events["_cap"].notna()].merge(doses, on=by, how="inner")
    pairs = pairs[(pairs["START"] <= pairs["_cap"]).to_numpy()]
    step = pd.to_timedelta(pairs["INTERVAL"], unit="D")
    reach = pairs[["_cap", "END"]].min(axis=1) - pairs["START"]
    taken = (reach // step.where(step > pd.Timedelta(0))).fillna(0)
    pairs = pairs.assign(_dose=pairs["START"] + step * taken)
    if same_day:
        pairs = pairs[(pairs["_dose"].dt.normalize() == pairs["_day"]).to_numpy()]
    last = pairs.sort_values(["_row", "_dose"], kind="stable").drop_duplicates("_row", keep="last")
    rows = last["_row"].to_numpy()
    out = df.copy()
    for new, values in ([(dose_datetime, last["_dose"])] if dose_datetime else []) + \
            [(n, last[v]) for n, v in (new_vars or {}).items()]:
        column = pd.Series(pd.NaT if pd.api.types.is_datetime64_any_dtype(values) else None, index=df.index,
                           dtype=values.dtype if values.dtype != object else object)
        column.iloc[rows] = values.to_numpy()
        out[new] = column
    return out
