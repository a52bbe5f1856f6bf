"""Single doses expanded from exposure records, and the times of records relative to them (the
NCA input data of ADPC: dosing records beside the samples, the previous and next dose of each).

An exposure record (EX) covers a span from its start to its end at a dosing frequency (EXDOSFRQ).
*Single doses* are its doses one by one: at the start, then every interval of the frequency while
the time is at or before the end (an end given as a date alone is the whole of that day; a missing
end is the start: one dose). Each dose has its *time* and, when the doses spec names a planned day
(e.g. VISITDY), its *nominal* time in hours after the first dose: 24 x (day - 1) for its first
dose, plus the interval for each later one (day 1 is hour 0).

A doses spec is a mapping used by every derivation of this module (a YAML anchor keeps it in one
place):

    doses: {domain: EX, filter: {EXDOSE: {gt: 0}}, frequency: EXDOSFRQ, start: EXSTDTC, end: EXENDTC,
            nominal_day: VISITDY, frequencies: {Q36H: 36}}

`frequencies` adds or overrides intervals in hours of the built-in CDISC frequency terms (FREQ);
ONCE is a single dose. In `new_vars`, a derivation's values are a dose's `time`, its `nominal`
time, or a variable of the exposure record (upper case).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from submit.adam.derive.basics import _need
from submit.adam.derive.dates import dtc_to_datetime
from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
# Dosing intervals in hours of CDISC FREQ terms; Q<n>H, Q<n>D and Q<n>W are read by pattern.
INTERVAL_HOURS = {"QD": 24.0, "BID": 12.0, "TID": 8.0, "QID": 6.0, "QOD": 48.0, "QH": 1.0, "Q2D": 48.0,
                  "QW": 168.0, "QOW": 336.0, "EVERY WEEK": 168.0, "EVERY 2 WEEKS": 336.0, "ONCE": np.inf}
_PATTERN = re.compile(r"^Q(\d+(?:\.\d+)?)([HDW])$")
_UNIT_HOURS = {"H": 1.0, "D": 24.0, "W": 168.0}
DOSE_ROLES = ("time", "nominal")
DOSES_KEYS = {"domain", "filter", "frequency", "start", "end", "nominal_day", "frequencies", "by"}


def interval_hours(terms: pd.Series, extra: dict | None = None) -> pd.Series:
    """Hours between doses for each frequency term (infinite for ONCE; missing when unknown)."""
    table = {**INTERVAL_HOURS, **{str(k): float(v) for k, v in (extra or {}).items()}}
    text = terms.astype("string").str.strip().str.upper()
    hours = text.map(table).astype(float)
    parts = text.str.extract(_PATTERN)
    by_pattern = (pd.to_numeric(parts[0], errors="coerce") * parts[1].map(_UNIT_HOURS)).astype(float)
    return hours.fillna(by_pattern)


def _doses_spec(doses, fn: str) -> dict:
    if not isinstance(doses, dict) or not {"frequency", "start"} <= set(doses) or set(doses) - DOSES_KEYS:
        raise bad_argument(fn, "doses", f"must be a mapping with frequency and start, and optionally "
                                        f"{', '.join(sorted(DOSES_KEYS - {'frequency', 'start'}))}; got {doses!r}")
    return {"domain": "EX", "by": ["USUBJID"], **doses}


def single_doses(ctx, doses: dict, fn: str) -> pd.DataFrame:
    """One row per single dose: the exposure record's variables, `_DOSETM` (its time), `_DOSENOM`
    (nominal hours, missing without nominal_day), sorted by subject and time."""
    spec = _doses_spec(doses, fn)
    ex = select(ctx.domain(spec["domain"]), spec.get("filter"), fn)
    names = [spec["frequency"], spec["start"], *([spec["end"]] if spec.get("end") else []),
             *([spec["nominal_day"]] if spec.get("nominal_day") else []), *spec["by"]]
    _need(ex, names, fn, "doses", spec["domain"])
    start, _ = dtc_to_datetime(ex[spec["start"]])
    end_text = ex[spec["end"]] if spec.get("end") else pd.Series(None, index=ex.index, dtype=object)
    end, _ = dtc_to_datetime(end_text)
    date_only = end_text.astype("string").str.len().fillna(0) < 16
    # A date alone ends with its day; no end at all is a single dose at the start.
    end = end.where(~date_only, end + DAY - pd.Timedelta(minutes=1)).fillna(start)
    every = interval_hours(ex[spec["frequency"]], spec.get("frequencies"))
    unknown = sorted(ex.loc[every.isna() & ex[spec["frequency"]].notna(), spec["frequency"]].astype(str).unique())
    if unknown:
        raise bad_argument(fn, "doses", f"frequency terms {unknown} have no interval: add them under "
                                        f"frequencies ({{term: hours}})")
    span = ((end - start) / HOUR).clip(lower=0)
    count = np.where(np.isfinite(every), np.floor(span / every.replace(np.inf, 1)) + 1, 1)
    count = pd.Series(count, index=ex.index).where(start.notna(), 0).fillna(1).astype(int)
    rows = ex.index.repeat(count.to_numpy())
    out = ex.loc[rows].copy()
    k = out.groupby(level=0).cumcount().to_numpy()
    step = every.loc[rows].replace(np.inf, 0).to_numpy()
    out["_DOSETM"] = (start.loc[rows] + pd.to_timedelta(k * step, unit="h")).astype("datetime64[ns]").to_numpy()
    if spec.get("nominal_day"):
        day = pd.to_numeric(out[spec["nominal_day"]], errors="coerce").to_numpy()
        out["_DOSENOM"] = 24.0 * (day - 1) + k * step
    else:
        out["_DOSENOM"] = np.nan
    out = out.reset_index(drop=True)
    return out.sort_values([*spec["by"], "_DOSETM"], kind="stable").reset_index(drop=True)


def _dose_values(doses: pd.DataFrame, new_vars: dict, fn: str, domain: str) -> dict[str, pd.Series]:
    if not isinstance(new_vars, dict) or not new_vars:
        raise bad_argument(fn, "new_vars", "must map new variable names to time, nominal or an exposure variable")
    roles = {"time": "_DOSETM", "nominal": "_DOSENOM"}
    _need(doses, [v for v in new_vars.values() if v not in roles], fn, "new_vars", domain)
    return {new: doses[roles.get(src, src)] for new, src in new_vars.items()}


@derivation
def derive_param_doses(df: pd.DataFrame, ctx, doses: dict, new_vars: dict, set_values: dict | None = None,
                       not_after: str | None = None) -> pd.DataFrame:
    """New records, one per single dose of `doses` (see the module docstring): `new_vars` maps
    each new variable to `time`, `nominal` or an exposure variable; `set_values` gives constants.
    `not_after`: keep only the doses whose date is at most the subject's latest value of that
    date or datetime variable among the dataset's records so far (e.g. ADT: no dose after the
    last sample), and only for subjects the dataset has."""
    fn = "derive_param_doses"
    spec = _doses_spec(doses, fn)
    dosed = single_doses(ctx, spec, fn)
    if not_after:
        _need(df, [not_after, *spec["by"]], fn, "not_after", ctx.dataset or "the dataset")
        last = df.groupby(spec["by"])[not_after].max().rename("_LAST").reset_index()
        dosed = dosed.merge(last, on=spec["by"], how="inner")
        dosed = dosed[(dosed["_DOSETM"].dt.normalize() <= pd.to_datetime(dosed["_LAST"]).dt.normalize()).to_numpy()]
    new = pd.DataFrame({k: v.to_numpy() for k, v in _dose_values(dosed, new_vars, fn, spec["domain"]).items()})
    for var, value in (set_values or {}).items():
        new[var] = value
    return pd.concat([df, new], ignore_index=True) if len(df) else new


@derivation
def derive_vars_adjacent_dose(df: pd.DataFrame, ctx, doses: dict, new_vars: dict, direction: str,
                              time: str = "ADTM", compare: str = "time", filter: dict | None = None) -> pd.DataFrame:
    """For each record meeting `filter`, variables of its previous or next single dose of `doses`
    (`direction`: previous = the last dose strictly before the record, next = the first dose at or
    after it), of the same subject, comparing (`compare`) the dose's actual `time` (the record's datetime
    `time`) or its `nominal` time (the record's nominal hours `time`). `new_vars` maps each new
    variable to time, nominal or an exposure variable; missing when there is no such dose."""
    fn = "derive_vars_adjacent_dose"
    if direction not in ("previous", "next"):
        raise bad_argument(fn, "direction", f"must be previous or next, got {direction!r}")
    if compare not in DOSE_ROLES:
        raise bad_argument(fn, "compare", f"must be time or nominal, got {compare!r}")
    spec = _doses_spec(doses, fn)
    _need(df, [time, *spec["by"]], fn, "time", ctx.dataset or "the dataset")
    dosed = single_doses(ctx, spec, fn)
    key = "_DOSETM" if compare == "time" else "_DOSENOM"
    values = _dose_values(dosed, new_vars, fn, spec["domain"])
    right = pd.DataFrame({"_KEY": dosed[key].to_numpy(), **{b: dosed[b].to_numpy() for b in spec["by"]},
                          **{f"_new{i}": v.to_numpy() for i, v in enumerate(values.values())}})
    rows = select(df, filter, fn).index
    left_key = pd.to_datetime(df.loc[rows, time]).astype("datetime64[ns]") if compare == "time" else \
        pd.to_numeric(df.loc[rows, time], errors="coerce").astype(float)
    left = pd.DataFrame({"_row": rows, "_KEY": left_key.to_numpy(), **{b: df.loc[rows, b].to_numpy() for b in spec["by"]}})
    left = left.dropna(subset=["_KEY"]).sort_values("_KEY", kind="stable")
    right = right.dropna(subset=["_KEY"]).sort_values("_KEY", kind="stable")
    if compare == "nominal":
        right["_KEY"] = right["_KEY"].astype(float)
    found = pd.merge_asof(left, right, on="_KEY", by=spec["by"], direction="backward" if direction == "previous" else "forward",
                          allow_exact_matches=direction == "next")
    out = df.copy()
    for i, new in enumerate(values):
        column = pd.Series(found[f"_new{i}"].to_numpy(), index=found["_row"].to_numpy())
        out[new] = column.reindex(df.index)
    return out


# Time point texts read as hours after the dose (case and blanks ignored). A range "a-b h" gives
# its midpoint, start or end; pre-dose time points are at the dose (0).
_PREDOSE = r"^(?:PRE-?DOSE|PRE-?TREATMENT|BEFORE|PRE ?DOSE)$"
_SUFFIX = r"(?:\s*(?:POST[- ]?DOSE|POST|AFTER(?: DOSE)?))?$"
_UNIT = r"(MIN(?:UTE)?S?|M|H(?:OU)?RS?|H|HOURS?|D(?:AY)?S?|D)"
_AMOUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*" + _UNIT + _SUFFIX)
_RANGE = re.compile(r"^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*" + _UNIT + _SUFFIX)
_DAY = re.compile(r"^DAY\s*(\d+(?:\.\d+)?)$")
RANGE_POINTS = ("midpoint", "start", "end")


def _unit_hours(unit: pd.Series) -> pd.Series:
    first = unit.astype("string").str.slice(0, 1).fillna("")
    return first.map({"M": 1 / 60, "H": 1.0, "D": 24.0}).astype(float)


def timepoint_hours(text: pd.Series, range_point: str = "midpoint") -> pd.Series:
    """Hours after the dose of time point texts: Pre-dose 0, "5 Min Post-dose" 1/12, "2h" 2,
    "0-6h Post-dose" 3 (the range's `range_point`), "Day 2" 48; missing for any other text."""
    t = text.astype("string").str.strip().str.upper().str.replace(r"\s+", " ", regex=True)
    hours = pd.Series(np.nan, index=text.index)
    hours[t.str.match(_PREDOSE).fillna(False).to_numpy()] = 0.0
    one = t.str.extract(_AMOUNT)
    hours = hours.fillna((pd.to_numeric(one[0], errors="coerce") * _unit_hours(one[1])).astype(float))
    span = t.str.extract(_RANGE)
    low, high = (pd.to_numeric(span[i], errors="coerce").astype(float) for i in (0, 1))
    point = {"midpoint": (low + high) / 2, "start": low, "end": high}[range_point]
    hours = hours.fillna(point * _unit_hours(span[2]))
    day = pd.to_numeric(t.str.extract(_DAY)[0], errors="coerce").astype(float)
    return hours.fillna(day * 24.0).astype(float)


@derivation
def derive_var_nfrlt(df: pd.DataFrame, ctx, tpt: str, day: str, new: str = "NFRLT", first_dose_day: float = 1,
                     range_point: str = "midpoint", filter: dict | None = None) -> pd.DataFrame:
    """Nominal hours after the first dose = (`day` - `first_dose_day`) x 24 + the hours of the time
    point text `tpt` (see `timepoint_hours`; a range counts as its `range_point`: midpoint, start or
    end), on the records meeting `filter`; missing when either is missing or the text is not a
    time point."""
    fn = "derive_var_nfrlt"
    _need(df, [tpt, day], fn, "tpt/day", ctx.dataset or "the dataset")
    if range_point not in RANGE_POINTS:
        raise bad_argument(fn, "range_point", f"must be one of {', '.join(RANGE_POINTS)}, got {range_point!r}")
    if not isinstance(first_dose_day, (int, float)) or isinstance(first_dose_day, bool):
        raise bad_argument(fn, "first_dose_day", f"must be a number, got {first_dose_day!r}")
    hours = (pd.to_numeric(df[day], errors="coerce") - first_dose_day) * 24 + timepoint_hours(df[tpt], range_point)
    from submit.adam.derive.values import assign_where  # noqa: PLC0415  (values imports nothing of this module)

    return assign_where(df, new, select(df, filter, fn).index, hours)
