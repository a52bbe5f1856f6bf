"""Record filters of the derivation pipelines: declarative conditions, never evaluated code.

A filter is a mapping whose entries must all hold:

    {PARAMCD: SYSBP}                       equal to a value
    {AVISITN: [1, 2]}                      one of the values
    {AVISIT: {not: [Baseline]}}            none of the values (a missing value passes)
    {AVAL: {present: true}}                non-missing (blank text is missing)
    {AVAL: {ge: 90, lt: 140}}              lt, le, gt, ge, eq, ne: every comparison must hold
    {ADT: {le: {var: TRTSDT}}}             ... against another variable of the same record
    {ADT: {ge: {var: RANDDT, days: 42}}}   ... a date variable shifted by a number of days
    {AETERM: {contains: RASH}}             contains, starts_with, ends_with (case-sensitive;
    {AETERM: {contains: rash, case: false}}  `case: false` ignores case), matches (a regular
                                           expression searched in the text)
    {any: [{AESER: Y}, {AETOXGR: [3, 4]}]} at least one filter of the list holds
    {all: [...]}, {not: {...}}             every one holds; the filter does not hold

Comparisons take the variable's type: dates and datetimes against dates (`2014-01-02` or a date
variable), numbers against numbers, text against text. A missing value meets no condition but
`present: false` and `not`. Variable names are upper case; the combinators `any`, `all` and `not`
are lower case, so neither can be taken for the other.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pandas as pd

from submit.adam.registry import bad_argument

COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
           "ne": operator.ne}
TEXT = {"contains", "starts_with", "ends_with", "matches"}
COMBINATORS = ("any", "all", "not")


def present(col: pd.Series) -> pd.Series:
    """Not missing and not blank text. Text compares as it is: `astype("str")` made a string per row."""
    text = col if col.dtype == object or isinstance(col.dtype, pd.StringDtype) else col.astype("str")
    return col.notna() & (text != "")


def select(df: pd.DataFrame, filter: dict | None, fn: str = "filter") -> pd.DataFrame:
    """The records of `df` that meet the declarative `filter` (all records without one)."""
    if not filter:
        return df
    return df[meets(df, filter, fn).to_numpy()]


def meets(df: pd.DataFrame, filter: dict, fn: str = "filter", arg: str = "filter") -> pd.Series:
    """True for the records of `df` meeting `filter`; a malformed filter names `fn` and `arg`."""
    if not isinstance(filter, dict):
        raise bad_argument(fn, arg, f"a filter is a mapping of conditions, got {filter!r}")
    keep = pd.Series(True, index=df.index)
    for key, cond in filter.items():
        if key in COMBINATORS:
            keep &= _combined(df, key, cond, fn, arg)
        elif key not in df:
            raise bad_argument(fn, arg, f"names {key!r}, which is not a variable ({', '.join(map(str, df.columns[:40]))})")
        else:
            keep &= _holds(df, df[key], key, cond, fn, arg)
    return keep


def _combined(df: pd.DataFrame, key: str, cond, fn: str, arg: str) -> pd.Series:
    if key == "not":
        return ~meets(df, cond, fn, arg)
    if not isinstance(cond, list) or not cond:
        raise bad_argument(fn, arg, f"{key}: expected a non-empty list of filters, got {cond!r}")
    masks = [meets(df, part, fn, arg) for part in cond]
    out = masks[0]
    for mask in masks[1:]:
        out = (out | mask) if key == "any" else (out & mask)
    return out


def _holds(df: pd.DataFrame, col: pd.Series, var: str, cond, fn: str, arg: str) -> pd.Series:
    if isinstance(cond, list):
        return col.isin(cond)
    if not isinstance(cond, dict):
        return (col == cond).fillna(False).astype(bool)
    unknown = set(cond) - set(COMPARE) - TEXT - {"not", "present", "case"}
    if unknown or not set(cond) - {"case"}:
        raise bad_argument(fn, arg, f"{var}: expected not, present, {', '.join(COMPARE)}, "
                                    f"{', '.join(sorted(TEXT))} (with case); got {cond!r}")
    keep = pd.Series(True, index=col.index)
    for op, value in cond.items():
        if op == "not":
            keep &= ~col.isin(value if isinstance(value, list) else [value])
        elif op == "present":
            keep &= present(col) if value else ~present(col)
        elif op in COMPARE:
            left, right = _comparable(df, col, value, var, fn, arg)
            keep &= (COMPARE[op](left, right) & left.notna() & pd.notna(right)).fillna(False).astype(bool)
        elif op in TEXT:
            keep &= _text(col, op, value, cond.get("case", True))
    return keep


def _comparable(df: pd.DataFrame, col: pd.Series, value, var: str, fn: str, arg: str):
    """Both sides of a comparison in the variable's type: dates, numbers or text."""
    if isinstance(value, dict):
        if set(value) - {"days"} != {"var"} or value["var"] not in df:
            raise bad_argument(fn, arg, f"{var}: compare with {{var: NAME}} of an existing variable, got {value!r}")
        other = df[value["var"]]
        if "days" in value:
            if not pd.api.types.is_datetime64_any_dtype(other) or not isinstance(value["days"], int):
                raise bad_argument(fn, arg, f"{var}: days shift a date variable by a whole number, got {value!r}")
            other = other + pd.Timedelta(days=value["days"])
        value = other
    if pd.api.types.is_datetime64_any_dtype(col):
        right = pd.to_datetime(value, errors="coerce")
        return col, right.astype(col.dtype) if isinstance(right, pd.Series) else right
    if pd.api.types.is_numeric_dtype(col) or isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        right = pd.to_numeric(value, errors="coerce") if isinstance(value, pd.Series) else value
        return pd.to_numeric(col, errors="coerce"), right
    return col.astype(object), value


def _text(col: pd.Series, op: str, value, case: bool) -> pd.Series:
    text = col.astype("string")
    if not case and op != "matches":
        text, value = text.str.lower(), str(value).lower()
    if op == "contains":
        hit = text.str.contains(str(value), regex=False)
    elif op == "starts_with":
        hit = text.str.startswith(str(value))
    elif op == "ends_with":
        hit = text.str.endswith(str(value))
    else:
        with warnings.catch_warnings():  # pandas warns of groups in the user's pattern; they are harmless here
            warnings.simplefilter("ignore", UserWarning)
            hit = text.str.contains(str(value), regex=True, case=case)
    return hit.fillna(False).astype(bool)
