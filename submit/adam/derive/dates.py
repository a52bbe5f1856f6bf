"""ISO 8601 character dates to numeric dates and datetimes, imputing partial ones as a spec says,
with the ADaM imputation flags as admiral computes them (--DTF: Y, M or D, the highest level of
the date imputed; --TMF: H, M or S, the highest level of the time imputed), and dates taken from
several sources: the latest (or earliest) over all of them, or the first source that has one.

Imputation is asked for by its highest level, as admiral's `highest_imputation`:
`n` none (a partial value stays missing), `s` seconds, `m` minutes (and seconds), `h` the time,
`D` the day (and the time), `M` the month and day. What is imputed takes `date_imputation`
(`first`: 01 / 01-01, `mid`: 15 / 06-30, `last`: the month's last day / 12-31, or a fixed
`MM-DD`) and `time_imputation` (`first` 00:00:00, `last` 23:59:59, or a fixed `HH:MM:SS`).
A missing month is imputed with its day, even where a day was given (`2019---07`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation

IMPUTE = ("none", "first", "last")  # dtc_to_date's levels (month and day imputed, or nothing)
LEVELS = ("n", "s", "m", "h", "D", "M")  # highest imputation, lowest first
DATE_LEVELS = ("n", "D", "M")
_ISO = (r"^(?P<y>\d{4}|-)?(?:-(?P<m>\d{2}|-)(?:-(?P<d>\d{2}|-))?)?"
        r"(?:T(?P<H>\d{2}|-)(?::(?P<M>\d{2}|-)(?::(?P<S>\d{2}|-)(?:\.\d+)?)?)?)?$")
_PARTS = ("y", "m", "d", "H", "M", "S")
_FIXED_DATE = re.compile(r"^(\d{2})-(\d{2})$")
_FIXED_TIME = re.compile(r"^(\d{2}):(\d{2}):(\d{2})$")


def _parts(dtc: pd.Series) -> pd.DataFrame:
    """Year, month, day, hour, minute, second of each --DTC as numbers (NaN where not given);
    a text that is not ISO 8601 gives all NaN."""
    # Parsed once per distinct text (dates repeat across records and subjects) by Arrow's regular
    # expressions, then taken back to the rows: code -1 (missing) takes the appended all-NaN row.
    codes, distinct = pd.factorize(dtc)
    text = pa.array(pd.Series(distinct).astype("str").str.strip().array)
    found = pc.extract_regex(text, _ISO)
    numbers = np.full((len(text) + 1, len(_PARTS)), np.nan)
    for i, name in enumerate(_PARTS):
        part = pc.struct_field(found, name)  # "" where the part is not given, "-" where unknown
        given = pc.and_kleene(pc.not_equal(part, ""), pc.not_equal(part, "-"))
        numbers[:-1, i] = pc.cast(pc.if_else(given, part, None), pa.float64()).to_numpy(zero_copy_only=False)
    return pd.DataFrame(numbers[codes], columns=list(_PARTS), index=dtc.index)


def _date_fill(date_imputation: str, fn: str, arg: str) -> tuple[float, float, float]:
    """(month when missing, day when the month is missing, day when only the day is missing);
    NaN for a day means the last day of the month."""
    if date_imputation == "first":
        return 1, 1, 1
    if date_imputation == "mid":
        return 6, 30, 15
    if date_imputation == "last":
        return 12, np.nan, np.nan
    fixed = _FIXED_DATE.match(str(date_imputation))
    if not fixed:
        raise bad_argument(fn, arg, f"must be first, mid, last or MM-DD, got {date_imputation!r}")
    return float(fixed[1]), float(fixed[2]), float(fixed[2])


def _time_fill(time_imputation: str, fn: str, arg: str) -> tuple[int, int, int]:
    if time_imputation == "first":
        return 0, 0, 0
    if time_imputation == "last":
        return 23, 59, 59
    fixed = _FIXED_TIME.match(str(time_imputation))
    if not fixed or int(fixed[1]) > 23 or int(fixed[2]) > 59 or int(fixed[3]) > 59:
        raise bad_argument(fn, arg, f"must be first, last or HH:MM:SS, got {time_imputation!r}")
    return int(fixed[1]), int(fixed[2]), int(fixed[3])


def _level(highest: str, allowed: tuple[str, ...], fn: str) -> int:
    if highest not in allowed:
        raise bad_argument(fn, "highest", f"must be one of {', '.join(allowed)}, got {highest!r}")
    return LEVELS.index(highest)


def _impute_date(p: pd.DataFrame, level: int, date_imputation: str, fn: str) -> tuple[pd.Series, pd.Series]:
    month_fill, day_of_month_fill, day_fill = _date_fill(date_imputation, fn, "date_imputation")
    year, month, day = p["y"], p["m"], p["d"]
    no_month, no_day = month.isna(), day.isna()
    if level >= LEVELS.index("M"):
        usable = year.notna()
    elif level >= LEVELS.index("D"):
        usable = year.notna() & ~no_month
    else:
        usable = year.notna() & ~no_month & ~no_day
    m = month.where(~no_month, month_fill)
    d = day.where(~no_day & ~no_month, np.where(no_month, day_of_month_fill, day_fill))
    first = pd.to_datetime(pd.DataFrame({"year": year.where(usable), "month": m.where(usable), "day": 1}),
                           errors="coerce")
    last_day = first + pd.offsets.MonthEnd(0)
    value = first + pd.to_timedelta(d.fillna(last_day.dt.day) - 1, unit="D")
    value = value.where(value.dt.month == first.dt.month)  # a fixed day beyond the month's end is no date
    flag = pd.Series(np.where(no_month, "M", np.where(no_day, "D", None)), index=p.index, dtype=object)
    return value.astype("datetime64[ns]"), flag.where(value.notna())


def impute_dtc_dt(dtc: pd.Series, highest: str = "n", date_imputation: str = "first",
                  fn: str = "impute_dtc_dt") -> tuple[pd.Series, pd.Series]:
    """(dates, --DTF) of an --DTC column, partial dates imputed up to the level `highest`
    (n, D or M); --DTF is D or M where that part was imputed, else missing."""
    level = _level(highest, DATE_LEVELS, fn)
    return _impute_date(_parts(dtc), level, date_imputation, fn)


def impute_dtc_dtm(dtc: pd.Series, highest: str = "h", date_imputation: str = "first",
                   time_imputation: str = "first", ignore_seconds_flag: bool = False,
                   fn: str = "impute_dtc_dtm") -> tuple[pd.Series, pd.Series, pd.Series]:
    """(datetimes, --DTF, --TMF) of an --DTC column imputed up to the level `highest` (n, s, m, h,
    D or M). --TMF is H, M or S for the highest time part imputed (a date alone: H); with
    `ignore_seconds_flag` seconds imputed alone are not flagged (times collected as HH:MM)."""
    level = _level(highest, LEVELS, fn)
    hh, mm, ss = _time_fill(time_imputation, fn, "time_imputation")
    p = _parts(dtc)
    date, dtf = _impute_date(p, level if level >= LEVELS.index("D") else 0, date_imputation, fn)
    hour, minute, second = p["H"], p["M"], p["S"]
    # A part is imputed with every part below it: a missing hour takes the whole imputed time.
    no_hour = hour.isna()
    no_minute = no_hour | minute.isna()
    no_second = no_minute | second.isna()
    needed = np.select([no_hour, no_minute, no_second], [LEVELS.index("h"), LEVELS.index("m"), LEVELS.index("s")], 0)
    usable = date.notna() & (needed <= level)
    value = (date + pd.to_timedelta(hour.where(~no_hour, hh), unit="h")
             + pd.to_timedelta(minute.where(~no_minute, mm), unit="m")
             + pd.to_timedelta(second.where(~no_second, ss), unit="s")).where(usable)
    tmf = np.select([no_hour, no_minute, no_second & (not ignore_seconds_flag)], ["H", "M", "S"], "")
    tmf = pd.Series(tmf, index=p.index, dtype=object).where(value.notna() & (tmf != ""))
    return value.astype("datetime64[ns]"), dtf.where(value.notna()), tmf


def dtc_to_date(dtc: pd.Series, impute: str = "none") -> tuple[pd.Series, pd.Series]:
    """(datetime64 dates, DTF flags, "" where none) of an --DTC column. `impute`: none leaves
    partial dates missing; first takes the first day of the month (of the year); last the last one."""
    if impute not in IMPUTE:
        raise bad_argument("dtc_to_date", "impute", f"must be one of {IMPUTE}, got {impute!r}")
    date, dtf = impute_dtc_dt(dtc, "n" if impute == "none" else "M", "first" if impute == "none" else impute,
                              "dtc_to_date")
    return date, dtf.fillna("").astype(object)


def dtc_to_datetime(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(datetime64, TMF, "" where none) of an --DTC with a time; a date alone gives midnight with
    TMF H; a time without seconds is not flagged."""
    value, _, tmf = impute_dtc_dtm(dtc, "h", ignore_seconds_flag=True, fn="dtc_to_datetime")
    return value, tmf.fillna("").astype(object)


def _source(df: pd.DataFrame, ctx, source: str, fn: str) -> pd.Series:
    if source not in df:
        raise bad_argument(fn, "source", f"{source!r} is not a variable of {ctx.dataset or 'the dataset'}")
    return df[source]


@derivation
def derive_vars_dt(df: pd.DataFrame, ctx, source: str, new: str, impute: str = "none", flag: str | None = None,
                   time: str | None = None, time_flag: str | None = None, highest: str | None = None) -> pd.DataFrame:
    """`new` (a date) from the --DTC `source`, with `flag` (--DTF) where a partial date is imputed;
    `time` adds the datetime (--DTM, a date alone at midnight) and `time_flag` its --TMF.
    `impute` (first, mid, last or MM-DD) is what a missing part takes, `highest` the highest part
    that may be imputed (n, D or M; M when `impute` is given, as before `highest` existed)."""
    fn = "derive_vars_dt"
    dtc = _source(df, ctx, source, fn)
    level = highest or ("n" if impute == "none" else "M")
    if impute == "none" and level != "n":
        raise bad_argument(fn, "impute", f"is none, so nothing can be imputed up to {level!r}")
    out = df.copy()
    out[new], dtf = impute_dtc_dt(dtc, level, "first" if impute == "none" else impute, fn)
    if flag:
        out[flag] = dtf.fillna("") if highest is None else dtf  # "" kept for the specs written before highest
    if time:
        out[time], tmf = dtc_to_datetime(dtc)
        if time_flag:
            out[time_flag] = tmf
    return out


@derivation
def derive_vars_dtm(df: pd.DataFrame, ctx, source: str, new: str, highest: str = "h", date_imputation: str = "first",
                    time_imputation: str = "first", date_flag: str | None = None, time_flag: str | None = None,
                    ignore_seconds_flag: bool = False, date: str | None = None, min_dates: list[str] | None = None,
                    max_dates: list[str] | None = None) -> pd.DataFrame:
    """`new` (a datetime, --DTM) from the --DTC `source`, imputed up to `highest` (admiral's
    derive_vars_dtm): `date_flag` gets --DTF, `time_flag` --TMF, `date` the date part (--DT). E.g. a
    treatment end known as a date: `{highest: h, time_imputation: last, time_flag: TRTETMF}` gives
    23:59:59 and H. An imputed value stays within what the partial value allows but is moved up to
    the latest of `min_dates` (e.g. TRTSDT: an event of the month of the first dose is not put before
    it), then down to the earliest of `max_dates` (e.g. the death date; a date without a time counts
    as its whole day)."""
    fn = "derive_vars_dtm"
    dtc = _source(df, ctx, source, fn)
    value, dtf, tmf = impute_dtc_dtm(dtc, highest, date_imputation, time_imputation, ignore_seconds_flag, fn)
    if min_dates or max_dates:
        low = impute_dtc_dtm(dtc, highest, "first", "first", fn=fn)[0]
        high = impute_dtc_dtm(dtc, highest, "last", "last", fn=fn)[0]
        for bound in _bounds(df, min_dates, fn, "min_dates"):
            value = value.where(~((bound >= low) & (bound <= high) & (bound > value)), bound)
        for bound in _bounds(df, max_dates, fn, "max_dates"):
            bound = bound.where(bound != bound.dt.normalize(), bound + END_OF_DAY)
            value = value.where(~((bound >= low) & (bound <= high) & (bound < value)), bound)
    out = df.copy()
    out[new] = value
    for name, column in ((date_flag, dtf), (time_flag, tmf), (date, value.dt.normalize())):
        if name:
            out[name] = column
    return out


END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def _bounds(df: pd.DataFrame, names: list[str] | None, fn: str, arg: str) -> list[pd.Series]:
    missing = [n for n in names or [] if n not in df]
    if missing:
        raise bad_argument(fn, arg, f"names {missing}, not variables of the dataset")
    return [pd.to_datetime(df[n]).astype("datetime64[ns]") for n in names or []]


# --- dates from several sources -------------------------------------------------------------------

SOURCE_KEYS = {"domain", "date", "filter", "highest", "date_imputation", "mode"}


def source_dates(df: pd.DataFrame, ctx, source: dict, fn: str, arg: str) -> pd.DataFrame:
    """USUBJID and `_d`, the dates of one source: `{domain, date, filter, highest, date_imputation}`.
    `date` is an --DTC (imputed up to `highest`, default n: complete dates only) or a numeric date;
    a source without `domain` reads the dataset being derived (e.g. {date: TRTEDT} in ADSL)."""
    if not isinstance(source, dict) or "date" not in source or set(source) - SOURCE_KEYS:
        raise bad_argument(fn, arg, f"a date source is {{date, domain, filter, highest, date_imputation, mode}}, "
                                    f"got {source!r}")
    data = select(ctx.domain(source["domain"]) if "domain" in source else df, source.get("filter"), fn)
    if source["date"] not in data:
        raise bad_argument(fn, arg, f"{source['date']!r} is not a variable of {source.get('domain', ctx.dataset)}")
    date = data[source["date"]]
    if not pd.api.types.is_datetime64_any_dtype(date):
        date = impute_dtc_dt(date, source.get("highest", "n"), source.get("date_imputation", "first"), fn)[0]
    return pd.DataFrame({"USUBJID": data["USUBJID"].to_numpy(), "_d": date.dt.normalize().to_numpy()}).dropna()


@derivation
def derive_var_dt_coalesce(df: pd.DataFrame, ctx, new: str, sources: list[dict], source_var: str | None = None
                           ) -> pd.DataFrame:
    """`new` = the date of the first source, in the listed order, that has one for the subject
    ("the last exposure date, else the date of the disposition event"). Each source is a date
    source (see `source_dates`) whose `mode` (last, the default, or first) picks one date per
    subject among its records. `source_var` gets the 1-based number of the source used."""
    fn = "derive_var_dt_coalesce"
    if not isinstance(sources, list) or not sources:
        raise bad_argument(fn, "sources", "must be a non-empty list of date sources")
    result = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    used = pd.Series(np.nan, index=df.index)
    for i, source in enumerate(sources):
        mode = source.get("mode", "last") if isinstance(source, dict) else None
        if mode not in ("first", "last"):
            raise bad_argument(fn, f"sources[{i}]", f"mode must be first or last, got {mode!r}")
        dates = source_dates(df, ctx, source, fn, f"sources[{i}]").groupby("USUBJID")["_d"]
        per_subject = df["USUBJID"].map(dates.max() if mode == "last" else dates.min())
        fill = result.isna() & per_subject.notna()
        result = result.where(~fill, per_subject)
        used = used.where(~fill, i + 1)
    out = df.copy()
    out[new] = result
    if source_var:
        out[source_var] = used
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

