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
    days = (pd.to_datetime(dates).dt.normalize() - pd.to_datetime(reference).dt.normalize()).dt.days
    return days.where(days < 0, days + 1).astype("Float64").astype(float)


@derivation
def derive_var_dy(df: pd.DataFrame, ctx, source: str, new: str, reference: str = "TRTSDT") -> pd.DataFrame:
    """Study day of the date `source` relative to the date `reference` (an ADSL variable when the
    dataset does not carry it)."""
    ref = df[reference] if reference in df else df["USUBJID"].map(ctx.adsl.set_index("USUBJID")[reference])
    out = df.copy()
    out[new] = study_day(df[source], ref)
    return out


# admiral's imputation levels, highest first: year, month, day, hour, minute, second ("n": none)
LEVELS = ("Y", "M", "D", "h", "m", "s")
_DTC = (r"^(\d{4}|-)?(?:-(\d{2}|-)(?:-(\d{2}|-)(?:T(\d{2}|-)(?::(\d{2}|-)(?::(\d{2}|-)(?:\.\d+)?)?)?)?)?)?$")
_END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def impute_dtc_dtm(dtc: pd.Series, highest: str = "h", date_imputation: str = "first",
                   time_imputation: str = "first", ignore_seconds_flag: bool = True,
                   fn: str = "impute_dtc_dtm") -> tuple[pd.Series, pd.Series, pd.Series]:
    """(datetime64, DTF, TMF) of an --DTC column, imputing every missing part at or below the level
    `highest` (M: month, day and time; D: day and time; h: the time; n: none): the date to the first
    or last day (month) it allows, the time to 00:00:00 or 23:59:59. A value missing a part above
    that level stays missing, as does a value without a year ("-" marks a missing part inside a
    value). DTF: M (month imputed), D (day); TMF: H, M or S (seconds, unless `ignore_seconds_flag`)."""
    if highest not in (*LEVELS[1:], "n"):
        raise bad_argument(fn, "highest_imputation", f"must be one of M, D, h, m, s, n, got {highest!r}")
    for arg, value in (("date_imputation", date_imputation), ("time_imputation", time_imputation)):
        if value not in ("first", "last"):
            raise bad_argument(fn, arg, f"must be 'first' or 'last', got {value!r}")
    text = dtc.astype("str").where(dtc.notna(), "").str.strip()
    parts = text.str.extract(_DTC).replace("-", np.nan)
    parts.columns = list(LEVELS)
    missing = parts.isna()
    required = len(LEVELS) if highest == "n" else LEVELS.index(highest)  # the parts above `highest`
    ok = ~missing[list(LEVELS[:required])].any(axis=1)
    last_date, last_time = date_imputation == "last", time_imputation == "last"
    month = parts["M"].fillna("12" if last_date else "01")
    start = pd.to_datetime(parts["Y"] + "-" + month + "-01", format="%Y-%m-%d", errors="coerce")
    day = pd.to_numeric(parts["D"], errors="coerce")
    month_days = (start + pd.offsets.MonthEnd(0)).dt.day
    day = day.where(day.notna(), month_days if last_date else 1)
    clock = [pd.to_numeric(parts[p], errors="coerce").fillna(v) for p, v in zip("hms", (23, 59, 59) if last_time else (0, 0, 0))]
    value = (start + pd.to_timedelta(day - 1, unit="D") + pd.to_timedelta(clock[0], unit="h")
             + pd.to_timedelta(clock[1], unit="m") + pd.to_timedelta(clock[2], unit="s"))
    valid = ok & (pd.to_numeric(parts["D"], errors="coerce").fillna(1) <= month_days)
    value = value.where(valid)
    dtf = pd.Series(np.where(missing["M"], "M", np.where(missing["D"], "D", None)), index=dtc.index)
    tmf = pd.Series(np.where(missing["h"], "H", np.where(missing["m"], "M",
                             np.where(missing["s"] & (not ignore_seconds_flag), "S", None))), index=dtc.index)
    return value, dtf.where(value.notna(), None), tmf.where(value.notna(), None)


def _bounds(df: pd.DataFrame, names: list[str] | None, fn: str, arg: str) -> list[pd.Series]:
    missing = [n for n in names or [] if n not in df]
    if missing:
        raise bad_argument(fn, arg, f"names {missing}, not variables of the dataset")
    return [pd.to_datetime(df[n]).astype("datetime64[ns]") for n in names or []]


@derivation
def derive_vars_dtm(df: pd.DataFrame, ctx, source: str, new: str, highest_imputation: str = "h",
                    date_imputation: str = "first", time_imputation: str = "first", flag: str | None = None,
                    time_flag: str | None = None, date: str | None = None, min_dates: list[str] | None = None,
                    max_dates: list[str] | None = None, ignore_seconds_flag: bool = True) -> pd.DataFrame:
    """`new` (a datetime) from the --DTC `source`, imputed as `impute_dtc_dtm` says, with its
    --DTF `flag`, --TMF `time_flag` and its date `date` (the --DT). An imputed value is moved
    within the datetimes the partial value allows: up to the latest of `min_dates` (e.g. TRTSDT,
    so an event of the month of the first dose is not put before it), then down to the earliest of
    `max_dates` (e.g. the death date), a date without a time counting as its whole day there.
    admiral's derive_vars_dtm and derive_vars_dtm_to_dt."""
    fn = "derive_vars_dtm"
    if source not in df:
        raise bad_argument(fn, "source", f"{source!r} is not a variable of {ctx.dataset}")
    value, dtf, tmf = impute_dtc_dtm(df[source], highest_imputation, date_imputation, time_imputation,
                                     ignore_seconds_flag, fn)
    low = impute_dtc_dtm(df[source], highest_imputation, "first", "first", fn=fn)[0]
    high = impute_dtc_dtm(df[source], highest_imputation, "last", "last", fn=fn)[0]
    for bound in _bounds(df, min_dates, fn, "min_dates"):
        value = value.where(~((bound >= low) & (bound <= high) & (bound > value)), bound)
    for bound in _bounds(df, max_dates, fn, "max_dates"):
        bound = bound.where(bound != bound.dt.normalize(), bound + _END_OF_DAY)
        value = value.where(~((bound >= low) & (bound <= high) & (bound < value)), bound)
    out = df.copy()
    out[new] = value
    for name, column in ((flag, dtf), (time_flag, tmf), (date, value.dt.normalize())):
        if name:
            out[name] = column
    return out
