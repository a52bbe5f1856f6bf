"""Values computed from other values of the dataset, and records kept or copied by a filter:
arithmetic of two operands, text joined from parts, numbers as text to n significant digits, the
date and time parts of a datetime, a summary of a group put on each of its records, the baseline
value of a group, the body mass index.

An operand or value is a constant or `{var: NAME}`, a variable of the same record (declarative:
nothing is evaluated)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.basics import _need
from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation

OPERATORS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
             "floor_divide": np.floor_divide}
SUMMARIES = ("min", "max", "sum", "mean", "count", "first", "last")


def value_of(df: pd.DataFrame, value, fn: str, arg: str):
    """A constant as it is, `{var: NAME}` as that variable's values (a Series of `df`)."""
    if isinstance(value, dict):
        if set(value) != {"var"}:
            raise bad_argument(fn, arg, f"a value is a constant or {{var: NAME}}, got {value!r}")
        _need(df, [value["var"]], fn, arg, "the dataset")
        return df[value["var"]]
    return value


def assign_where(df: pd.DataFrame, new: str, rows: pd.Index, values) -> pd.DataFrame:
    """`df` with `new` set to `values` (a scalar or a Series of `df`) on `rows`, its other records
    keeping their value (missing when `new` is new). Dtypes follow the values (datetimes stay
    datetimes)."""
    out = df.copy()
    part = values.loc[rows] if isinstance(values, pd.Series) else pd.Series(values, index=rows)
    if new not in out:
        out[new] = part.reindex(out.index)
        return out
    current = out[new]
    if len(rows) == len(out):
        out[new] = part.reindex(out.index)
        return out
    if len(part) == 0:
        return out
    merged = pd.concat([current.drop(index=rows), part]).reindex(out.index)
    out[new] = merged
    return out


@derivation
def derive_var_arithmetic(df: pd.DataFrame, ctx, new: str, left, op: str, right,
                          filter: dict | None = None) -> pd.DataFrame:
    """`new` = `left` `op` `right` (add, subtract, multiply, divide, floor_divide; operands are numbers or
    {var: NAME}) on the records meeting `filter`; a missing operand gives a missing result."""
    fn = "derive_var_arithmetic"
    if op not in OPERATORS:
        raise bad_argument(fn, "op", f"must be one of {', '.join(OPERATORS)}, got {op!r}")
    a, b = (value_of(df, v, fn, name) for v, name in ((left, "left"), (right, "right")))
    a = pd.to_numeric(a, errors="coerce") if isinstance(a, pd.Series) else float(a)
    b = pd.to_numeric(b, errors="coerce") if isinstance(b, pd.Series) else float(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = pd.Series(OPERATORS[op](a, b), index=df.index, dtype=float).replace([np.inf, -np.inf], np.nan)
    return assign_where(df, new, select(df, filter, fn).index, result)


@derivation
def derive_var_concat(df: pd.DataFrame, ctx, new: str, parts: list, filter: dict | None = None) -> pd.DataFrame:
    """`new` = the text of `parts` joined (each a constant or {var: NAME}; numbers written without
    a trailing .0), on the records meeting `filter`; missing when a variable part is missing."""
    fn = "derive_var_concat"
    if not isinstance(parts, list) or not parts:
        raise bad_argument(fn, "parts", f"must be a non-empty list, got {parts!r}")
    text = pd.Series("", index=df.index, dtype=object)
    known = pd.Series(True, index=df.index)
    for i, part in enumerate(parts):
        value = value_of(df, part, fn, f"parts[{i}]")
        if isinstance(value, pd.Series):
            known &= value.notna()
            number = pd.to_numeric(value, errors="coerce") if pd.api.types.is_numeric_dtype(value) else None
            if number is not None:
                whole = number.notna() & (number == number.round())
                value = number.astype(object).where(~whole, number.round().astype("Int64").astype(object))
            text = text + value.astype(str)
        else:
            text = text + str(value)
    return assign_where(df, new, select(df, filter, fn).index, text.where(known, None))


def significant_text(values: pd.Series, digits: int) -> pd.Series:
    """Numbers rounded to `digits` significant digits, written as R and SAS BEST print them: the
    fewest digits, fixed notation unless scientific is shorter (0.0107, 24.9, 1e-05, 1230000)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(v), None, dtype=object)
    ok = np.isfinite(v)
    x = v[ok]
    mag = np.where(x == 0, 0, np.floor(np.log10(np.abs(np.where(x == 0, 1, x)))))
    scale = 10.0 ** (digits - 1 - mag)
    x = np.round(x * scale) / scale
    mag = np.where(x == 0, 0, np.floor(np.log10(np.abs(np.where(x == 0, 1, x)))))
    # The fewest significant digits that give the rounded number back.
    used = np.full(len(x), digits)
    for k in range(digits - 1, 0, -1):
        shifted = x * 10.0 ** (k - 1 - mag)
        exact = np.abs(shifted - np.round(shifted)) < 1e-6
        used = np.where(exact, k, used)
    fixed, sci = np.empty(len(x), dtype=object), np.empty(len(x), dtype=object)
    decimals = np.maximum(0, used - 1 - mag).astype(int)
    for d in np.unique(decimals):  # a loop over the few decimal counts, not the records
        at = decimals == d
        fixed[at] = np.char.mod(f"%.{d}f", x[at])
    for k in np.unique(used):
        at = used == k
        sci[at] = np.char.mod(f"%.{k - 1}e", x[at])
    lengths = np.vectorize(len, otypes=[int])
    choose = lengths(fixed) <= lengths(sci) if len(x) else np.array([], bool)
    out[ok] = np.where(choose, fixed, sci)
    return pd.Series(out, index=values.index, dtype=object)


@derivation
def derive_var_number_text(df: pd.DataFrame, ctx, source: str, new: str, digits: int = 3,
                           filter: dict | None = None) -> pd.DataFrame:
    """`new` = the number `source` as text to `digits` significant digits (see
    `significant_text`), on the records meeting `filter`."""
    fn = "derive_var_number_text"
    _need(df, [source], fn, "source", ctx.dataset or "the dataset")
    if not isinstance(digits, int) or digits < 1:
        raise bad_argument(fn, "digits", f"must be a whole number >= 1, got {digits!r}")
    return assign_where(df, new, select(df, filter, fn).index, significant_text(df[source], digits))


@derivation
def derive_vars_dtm_to_dt(df: pd.DataFrame, ctx, source: str, date: str | None = None,
                          time: str | None = None) -> pd.DataFrame:
    """`date` = the date part, `time` = the time of day (seconds after midnight, written with a
    time format) of the datetime `source`."""
    fn = "derive_vars_dtm_to_dt"
    _need(df, [source], fn, "source", ctx.dataset or "the dataset")
    if not date and not time:
        raise bad_argument(fn, "date", "date or time (or both) must name a new variable")
    stamps = pd.to_datetime(df[source])
    out = df.copy()
    if date:
        out[date] = stamps.dt.normalize()
    if time:
        out[time] = (stamps - stamps.dt.normalize()).dt.total_seconds()
    return out


@derivation
def derive_var_merged_summary(df: pd.DataFrame, ctx, by: list[str], source: str, new: str, function: str,
                              filter: dict | None = None) -> pd.DataFrame:
    """`new` = the `function` (min, max, sum, mean, count, first, last) of `source` over the
    group's records meeting `filter` (missing values left out), on every record of the `by` group."""
    fn = "derive_var_merged_summary"
    if function not in SUMMARIES:
        raise bad_argument(fn, "function", f"must be one of {', '.join(SUMMARIES)}, got {function!r}")
    _need(df, [*by, source], fn, "by/source", ctx.dataset or "the dataset")
    part = select(df, filter, fn)
    part = part[part[source].notna()]
    summary = part.groupby(by, dropna=False)[source].agg(function).rename("_summary").reset_index()
    merged = df[by].merge(summary, on=by, how="left", validate="many_to_one")["_summary"]
    out = df.copy()
    out[new] = merged.to_numpy()
    if function == "count":
        out[new] = out[new].fillna(0)
    return out


@derivation
def filter_records(df: pd.DataFrame, ctx, filter: dict) -> pd.DataFrame:
    """Only the records meeting `filter` (e.g. samples of subjects never dosed left out)."""
    return select(df, filter, "filter_records").reset_index(drop=True)


@derivation
def derive_records_copied(df: pd.DataFrame, ctx, filter: dict, set_values: dict) -> pd.DataFrame:
    """New records: a copy of each record meeting `filter`, with `set_values` (each new variable a
    constant or {var: NAME} of the copied record), appended after the dataset's records (e.g. an
    imputed value as a derived record, DTYPE, beside the record as collected)."""
    fn = "derive_records_copied"
    if not isinstance(set_values, dict) or not set_values:
        raise bad_argument(fn, "set_values", "must map variables to constants or {var: NAME}")
    copies = select(df, filter, fn).copy()
    for var, value in set_values.items():
        copies[var] = value_of(copies, value, fn, f"set_values.{var}")
    return pd.concat([df, copies], ignore_index=True)

