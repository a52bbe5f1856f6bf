"""ISO 8601 character dates to numeric dates, imputing partial ones as a spec says, with the
ADaM imputation flags (--DTF: Y, M or D, the highest level imputed; --TMF: H, M or S)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.registry import bad_argument, derivation

IMPUTE = ("none", "first", "last")


def dtc_to_date(dtc: pd.Series, impute: str = "none") -> tuple[pd.Series, pd.Series]:
    """(datetime64 dates, DTF flags) of an --DTC column. `impute`: none leaves partial dates
    missing; first takes the first day of the month (of the year); last the last one."""
    if impute not in IMPUTE:
        raise bad_argument("dtc_to_date", "impute", f"must be one of {IMPUTE}, got {impute!r}")
    text = dtc.astype("str").where(dtc.notna(), "").str.slice(0, 10)
    parts = text.str.extract(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
    year, month, day = parts[0], parts[1], parts[2]
    has_year, has_month, has_day = year.notna(), month.notna(), day.notna()
    flag = pd.Series(np.where(has_day, "", np.where(has_month, "D", np.where(has_year, "M", ""))), index=dtc.index)
    if impute == "none":
        full = text.where(has_day)
        return pd.to_datetime(full, format="%Y-%m-%d", errors="coerce"), pd.Series("", index=dtc.index)
    first = pd.to_datetime(year + "-" + month.fillna("01") + "-" + day.fillna("01"), format="%Y-%m-%d",
                           errors="coerce")
    if impute == "first":
        return first, flag.where(has_year, "")
    last = first.where(has_day, first + pd.offsets.MonthEnd(0))
    last = last.where(has_month | ~has_year, first + pd.offsets.YearEnd(0))
    return last, flag.where(has_year, "")


def dtc_to_datetime(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(datetime64, TMF) of an --DTC with a time; a date alone gives midnight with TMF H."""
    text = dtc.astype("str").where(dtc.notna(), "")
    has_time = text.str.len() >= 16
    date, _ = dtc_to_date(dtc)
    clock = pd.to_datetime(text.str.slice(0, 16).where(has_time), format="%Y-%m-%dT%H:%M", errors="coerce")
    value = clock.where(has_time, date)
    tmf = pd.Series(np.where(date.notna() & ~has_time, "H", ""), index=dtc.index)
    return value, tmf


@derivation
def derive_vars_dt(df: pd.DataFrame, ctx, source: str, new: str, impute: str = "none", flag: str | None = None,
                   time: str | None = None, time_flag: str | None = None) -> pd.DataFrame:
    """`new` (a date) from the --DTC `source`, with `flag` (--DTF) when partial dates are imputed;
    `time` adds the datetime (--DTM) and `time_flag` its --TMF."""
    if source not in df:
        raise bad_argument("derive_vars_dt", "source", f"{source!r} is not a variable of {ctx.dataset}")
    out = df.copy()
    out[new], dtf = dtc_to_date(df[source], impute)
    if flag:
        out[flag] = dtf.where(out[new].notna(), "")
    if time:
        out[time], tmf = dtc_to_datetime(df[source])
        if time_flag:
            out[time_flag] = tmf
    return out


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTM/ADaM study day: day 1 is the reference date, the day before it is -1 (no day 0)."""
    days = (dates.dt.normalize() - reference.dt.normalize()).dt.days
    return days.where(days < 0, days + 1).astype("Float64").astype(float)


@derivation
def derive_var_dy(df: pd.DataFrame, ctx, source: str, new: str, reference: str = "TRTSDT") -> pd.DataFrame:
    """Study day of the date `source` relative to the date `reference` (an ADSL variable when the
    dataset does not carry it)."""
    ref = df[reference] if reference in df else df["USUBJID"].map(ctx.adsl.set_index("USUBJID")[reference])
    out = df.copy()
    out[new] = study_day(df[source], ref)
    return out
