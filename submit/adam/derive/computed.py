"""Values computed from others, as admiral's BDS verbs do: a product of variables, one parameter
per variable of each record (the 1:1 parameters of an exposure dataset), a summary of one
parameter per group (total dose, total duration) and the ratio of two parameters (dose intensity,
average daily dose). The summary and ratio records hold only their `by` variables and what they
set; carry the rest (ADSL) afterwards."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation

SUMMARIES = ("sum", "mean", "min", "max", "count", "any")


def _need(df: pd.DataFrame, names, fn: str, arg: str) -> None:
    missing = [n for n in names if n not in df]
    if missing:
        raise bad_argument(fn, arg, f"names {missing}, not variables of the dataset")



@derivation
def derive_params_from_vars(df: pd.DataFrame, ctx, params: dict, set_values: dict | None = None) -> pd.DataFrame:
    """The dataset becomes one record per record and parameter: `params` maps each PARAMCD to
    `{AVAL: variable}` or `{AVALC: variable}` (the value taken from that variable of the record);
    `set_values` sets further variables on every new record (e.g. PARCAT1). The order of `params`
    is the order of the records within each source record."""
    fn = "derive_params_from_vars"
    if not isinstance(params, dict) or not params:
        raise bad_argument(fn, "params", "expected a mapping PARAMCD -> {AVAL: variable} or {AVALC: variable}")
    for code, spec in params.items():
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("AVAL", "AVALC"):
            raise bad_argument(fn, "params", f"{code}: expected {{AVAL: variable}} or {{AVALC: variable}}, got {spec!r}")
        _need(df, spec.values(), fn, "params")
    frames = []
    for i, (code, spec) in enumerate(params.items()):
        target, source = next(iter(spec.items()))
        one = df.assign(PARAMCD=code, AVAL=np.nan, AVALC=None, _order=i, _row=np.arange(len(df)))
        one[target] = pd.to_numeric(df[source], errors="coerce") if target == "AVAL" else df[source].astype(object)
        frames.append(one)
    out = pd.concat(frames, ignore_index=True).sort_values(["_row", "_order"], kind="stable")
    for name, value in (set_values or {}).items():
        out[name] = value
    return out.drop(columns=["_row", "_order"]).reset_index(drop=True)


def _new_records(values: pd.DataFrame, new: str, set_values: dict | None) -> pd.DataFrame:
    values = values.assign(PARAMCD=new)
    for name, value in (set_values or {}).items():
        values[name] = value
    return values


@derivation
def derive_param_summary(df: pd.DataFrame, ctx, source: str, new: str, by: list[str], function: str,
                         value: str = "AVAL", filter: dict | None = None, set_values: dict | None = None,
                         first: list[str] | None = None, last: list[str] | dict | None = None) -> pd.DataFrame:
    """A record `new` per `by` group of the `source` records meeting `filter`: `value` (AVAL or
    AVALC) = `function` of theirs, missing values left out (sum: a total, 0 when none is known;
    mean, min, max; count: how many are known; any: Y when one is known, else missing); the
    variables `first` (e.g. ASTDTM, ASTDT) get their earliest value, `last` (AENDTM, AENDT) their
    latest (`last` as a mapping names for each the variable whose latest value stands in for a
    group without any, e.g. {AENDTM: ASTDTM}: records none of which has ended end at their last
    start); `set_values` sets others (e.g. PARCAT1). admiral's derive_param_exposure."""
    fn = "derive_param_summary"
    if function not in SUMMARIES:
        raise bad_argument(fn, "function", f"must be one of {', '.join(SUMMARIES)}, got {function!r}")
    if value not in ("AVAL", "AVALC"):
        raise bad_argument(fn, "value", f"must be AVAL or AVALC, got {value!r}")
    if last is not None and not isinstance(last, (list, dict)):
        raise bad_argument(fn, "last", f"expected a list of variables or a mapping variable -> stand-in, got {last!r}")
    stand_in = last if isinstance(last, dict) else {}
    _need(df, ["PARAMCD", value, *by, *(first or []), *(last or []), *stand_in.values()], fn, "by/value/first/last")
    rows = select(df[df["PARAMCD"] == source], filter, fn)
    groups = rows.groupby(by, dropna=False, sort=True)
    known = rows[value].notna() & (rows[value].astype(str) != "")
    if function == "any":
        result = known.groupby([rows[b] for b in by], dropna=False, sort=True).any().map({True: "Y", False: None})
    elif function == "count":
        result = known.groupby([rows[b] for b in by], dropna=False, sort=True).sum().astype(float)
    else:
        result = getattr(groups[value], function)()
    out = result.rename(value).reset_index()
    for names, how in ((first or [], "min"), (list(last or []), "max")):
        for name in names:
            out[name] = getattr(groups[name], how)().to_numpy()
            if name in stand_in:
                out[name] = out[name].fillna(pd.Series(groups[stand_in[name]].max().to_numpy(), index=out.index))
    return pd.concat([df, _new_records(out, new, set_values)], ignore_index=True)


@derivation
def derive_param_ratio(df: pd.DataFrame, ctx, numerator: str, denominator: str, new: str, by: list[str],
                       factor: float = 1.0, set_values: dict | None = None) -> pd.DataFrame:
    """A record `new` per `by` group having both a `numerator` and a `denominator` record: AVAL =
    `factor` x numerator AVAL / denominator AVAL (e.g. dose intensity in %: 100 x total dose /
    planned dose; average daily dose: total dose / days). A zero or missing denominator gives a
    missing AVAL (SAS has no infinity)."""
    fn = "derive_param_ratio"
    _need(df, ["PARAMCD", "AVAL", *by], fn, "by")
    parts = []
    for code in (numerator, denominator):
        part = df[df["PARAMCD"] == code]
        if part.duplicated(by).any():
            raise bad_argument(fn, "by", f"does not identify one {code} record per group")
        parts.append(part[[*by, "AVAL"]])
    both = parts[0].merge(parts[1], on=by, suffixes=("_n", "_d"))
    den = pd.to_numeric(both["AVAL_d"], errors="coerce")
    with np.errstate(divide="ignore", invalid="ignore"):
        aval = factor * pd.to_numeric(both["AVAL_n"], errors="coerce") / den.where(den != 0)
    out = both[by].assign(AVAL=aval.to_numpy())
    return pd.concat([df, _new_records(out, new, set_values)], ignore_index=True)
