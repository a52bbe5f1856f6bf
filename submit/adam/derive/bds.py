"""Derivations of the basic data structure (BDS: one record per subject, parameter and analysis
time point), shared by vital signs, laboratory, ECG and PK datasets, as admiral names them:

- lookups declared in the spec (PARAMCD/PARAM/PARAMN from the test code, reference ranges by
  parameter): `derive_vars_merged_lookup`;
- new parameters computed from others at the same time point by a named formula (mean arterial
  pressure, BMI, body surface area, a ratio): `derive_param_computed`;
- summary records (the average of replicates): `derive_summary_records`; copies of a chosen
  record as a new analysis visit (last on-treatment value): `derive_extreme_records`;
- the on-treatment flag, the reference range indicator, baseline types, baseline values, change
  and percent change, shift and criterion flags.

Formulas are chosen by name from a closed list; a spec never carries an expression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.basics import _need
from submit.adam.filters import meets
from submit.adam.registry import bad_argument, derivation


def _where(df: pd.DataFrame, filter: dict | None, fn: str) -> np.ndarray:
    """Boolean mask of the records meeting `filter` (all without one)."""
    return np.ones(len(df), bool) if not filter else meets(df, filter, fn).to_numpy()


def _set_values(new: pd.DataFrame, values: dict | None, fn: str) -> pd.DataFrame:
    if values is not None and not isinstance(values, dict):
        raise bad_argument(fn, "set_values", f"must be a mapping of variable -> value, got {values!r}")
    for name, value in (values or {}).items():
        new[name] = value
    return new


def _append(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """`new` records after those of `df` (variables `new` lacks are missing on them)."""
    if not len(new):
        return df
    return pd.concat([df, new], ignore_index=True) if len(df) else new.reset_index(drop=True)


@derivation
def derive_vars_merged_lookup(df: pd.DataFrame, ctx, by: list[str], table: list[dict],
                              unmatched: str = "missing") -> pd.DataFrame:
    """The variables of a lookup `table` written in the spec (rows of {by variables..., new
    variables...}) merged onto the records by `by`: e.g. PARAMCD, PARAM and PARAMN from the test
    code, or the reference ranges per PARAMCD. A record without a row gets missing values
    (`unmatched: error` refuses them, listing their `by` values)."""
    fn = "derive_vars_merged_lookup"
    if not isinstance(table, list) or not table or not all(isinstance(r, dict) for r in table):
        raise bad_argument(fn, "table", "must be a non-empty list of rows (mappings)")
    if unmatched not in ("missing", "error"):
        raise bad_argument(fn, "unmatched", f"must be 'missing' or 'error', got {unmatched!r}")
    names = list(dict.fromkeys(k for row in table for k in row))
    bad = [i for i, row in enumerate(table) if set(row) != set(names)]
    if bad:
        raise bad_argument(fn, "table", f"rows {bad} lack some of the columns {names}")
    if not set(by) <= set(names):
        raise bad_argument(fn, "by", f"names {sorted(set(by) - set(names))}, not columns of the table")
    _need(df, by, fn, "by", ctx.dataset or "the dataset")
    lookup = pd.DataFrame(table, columns=names)
    if lookup.duplicated(by).any():
        raise bad_argument(fn, "table", f"has several rows for {lookup[lookup.duplicated(by)][by].to_dict('records')}")
    new = [n for n in names if n not in by]
    left = df.drop(columns=[c for c in new if c in df])
    keys = {b: left[b].astype(object).where(left[b].notna(), None) for b in by}
    lookup[by] = lookup[by].astype(object)
    merged = pd.DataFrame(keys).merge(lookup.assign(_hit=True), on=by, how="left", validate="many_to_one")
    if unmatched == "error" and merged["_hit"].isna().any():
        values = merged.loc[merged["_hit"].isna(), by].drop_duplicates().head(20).to_dict("records")
        raise bad_argument(fn, "table", f"has no row for {values}")
    out = left.copy()
    for n in new:
        out[n] = merged[n].to_numpy()
    return out


# Named formulas of derive_param_computed: the input roles and the value from them (in the units
# the formula states; a spec names the kind, never the arithmetic).
FORMULAS = {
    "mean_arterial_pressure": (("systolic", "diastolic"), lambda v: (v["systolic"] + 2 * v["diastolic"]) / 3),
    "bmi": (("weight", "height"), lambda v: v["weight"] / (v["height"] / 100) ** 2),  # kg, cm
    "bsa_mosteller": (("weight", "height"), lambda v: np.sqrt(v["height"] * v["weight"] / 3600)),
    "bsa_dubois": (("weight", "height"), lambda v: 0.20247 * (v["height"] / 100) ** 0.725 * v["weight"] ** 0.425),
    "bsa_haycock": (("weight", "height"), lambda v: 0.024265 * v["height"] ** 0.3964 * v["weight"] ** 0.5378),
    "bsa_gehan_george": (("weight", "height"), lambda v: 0.0235 * v["height"] ** 0.42246 * v["weight"] ** 0.51456),
    "ratio": (("numerator", "denominator"), lambda v: v["numerator"] / v["denominator"]),
    # a white cell differential as an absolute count: the total count times the fraction
    "fraction_of": (("total", "fraction"), lambda v: v["total"] * v["fraction"]),
}


@derivation
def derive_var_computed(df: pd.DataFrame, ctx, kind: str, inputs: dict, new: str,
                        decimals: int | None = None) -> pd.DataFrame:
    """`new` = the named formula `kind` of FORMULAS (the same as derive_param_computed's) applied to
    the variables of each record that `inputs` gives for its roles (e.g. {weight: WTBL, height:
    HTBL}); rounded to `decimals` (numpy's half-to-even, as the value is recorded) when given."""
    fn = "derive_var_computed"
    if kind not in FORMULAS:
        raise bad_argument(fn, "kind", f"must be one of {', '.join(FORMULAS)}, got {kind!r}")
    roles, formula = FORMULAS[kind]
    if set(inputs) != set(roles):
        raise bad_argument(fn, "inputs", f"{kind} takes the roles {', '.join(roles)}, got {', '.join(inputs)}")
    _need(df, list(inputs.values()), fn, "inputs", ctx.dataset or "the dataset")
    value = formula({role: pd.to_numeric(df[var], errors="coerce") for role, var in inputs.items()})
    out = df.copy()
    out[new] = value.round(decimals) if decimals is not None else value
    return out


@derivation
def derive_param_computed(df: pd.DataFrame, ctx, kind: str, inputs: dict, by: list[str], set_values: dict,
                          filter: dict | None = None, constant: list[str] | None = None,
                          constant_by: list[str] | None = None, value: str = "AVAL",
                          paramcd: str = "PARAMCD", skip_existing: bool = False) -> pd.DataFrame:
    """New parameter records computed by the named formula `kind` (mean_arterial_pressure: (SBP +
    2 DBP) / 3; bmi: kg / m2 from kg and cm; bsa_mosteller, bsa_dubois, bsa_haycock,
    bsa_gehan_george: m2 from kg and cm; ratio) from the `value`s of the parameters `inputs`
    (role -> PARAMCD; fraction_of: total x fraction) among the records meeting `filter`: one record per `by` group that has every
    input, carrying the `by` variables, the value and `set_values` (e.g. PARAMCD). Roles listed in
    `constant` are measured once and joined by `constant_by` instead (e.g. height, by USUBJID).
    A group whose result is missing gets no record; an input given twice in a group is an error.
    With `skip_existing`, a group that already has a record of the new PARAMCD gets none (e.g. an
    absolute count derived only where the lab did not report one)."""
    fn = "derive_param_computed"
    if kind not in FORMULAS:
        raise bad_argument(fn, "kind", f"must be one of {', '.join(FORMULAS)}, got {kind!r}")
    roles, formula = FORMULAS[kind]
    if not isinstance(inputs, dict) or set(inputs) != set(roles):
        raise bad_argument(fn, "inputs", f"{kind} takes the roles {', '.join(roles)} (role: PARAMCD), got {inputs!r}")
    constant = constant or []
    if not set(constant) <= set(roles) or (constant and not constant_by):
        raise bad_argument(fn, "constant", f"must name roles of {kind} and come with constant_by, got {constant!r}")
    _need(df, [*by, value, paramcd, *(constant_by or [])], fn, "by/value/constant_by", ctx.dataset or "the dataset")
    src = df[_where(df, filter, fn) & df[value].notna().to_numpy()]
    frame = None
    for group_by, group_roles in ((by, [r for r in roles if r not in constant]), (constant_by, constant)):
        for role in group_roles:
            part = src.loc[src[paramcd] == inputs[role], [*group_by, value]]
            dup = part.duplicated(group_by, keep=False)
            if dup.any():
                groups = part.loc[dup, group_by].drop_duplicates().head(5).astype(str).to_dict("records")
                raise bad_argument(fn, "by", f"{inputs[role]} has several records in {int(dup.sum())} groups, e.g. {groups}")
            part = part.rename(columns={value: f"_{role}"})
            frame = part if frame is None else frame.merge(part, on=list(group_by), how="inner")
    frame = frame.reset_index(drop=True)
    result = formula({role: frame[f"_{role}"].astype(float) for role in roles})
    new = frame[list(by)].assign(**{value: result.to_numpy()})[result.notna().to_numpy()]
    if skip_existing:
        target = (set_values or {}).get(paramcd)
        if target is None:
            raise bad_argument(fn, "skip_existing", f"needs set_values to give {paramcd}")
        have = df.loc[(df[paramcd] == target).to_numpy(), list(by)].drop_duplicates().assign(_have=True)
        hit = new[list(by)].merge(have, on=list(by), how="left")["_have"].notna().to_numpy()
        new = new[~hit]
    return _append(df, _set_values(new, set_values, fn))


SUMMARIES = {"mean": "mean", "median": "median", "min": "min", "max": "max", "sum": "sum", "count": "count"}


@derivation
def derive_summary_records(df: pd.DataFrame, ctx, by: list[str], set_values: dict, function: str = "mean",
                           value: str = "AVAL", filter: dict | None = None) -> pd.DataFrame:
    """New records, one per `by` group of the records meeting `filter` with a `value`: `value` =
    the `function` (mean, median, min, max, sum, count) of the group's values, with the `by`
    variables and `set_values` (e.g. DTYPE: AVERAGE). Missing `by` values form groups too."""
    fn = "derive_summary_records"
    if function not in SUMMARIES:
        raise bad_argument(fn, "function", f"must be one of {', '.join(SUMMARIES)}, got {function!r}")
    _need(df, [*by, value], fn, "by/value", ctx.dataset or "the dataset")
    src = df[_where(df, filter, fn) & df[value].notna().to_numpy()]
    new = src.groupby(list(by), dropna=False, sort=False)[value].agg(SUMMARIES[function]).reset_index()
    new[value] = new[value].astype(float)
    return _append(df, _set_values(new, set_values, fn))


@derivation
def derive_extreme_records(df: pd.DataFrame, ctx, by: list[str], order: list[str], set_values: dict,
                           mode: str = "last", filter: dict | None = None) -> pd.DataFrame:
    """New records: a copy of the first or last record (by `order`) of each `by` group among those
    meeting `filter`, with `set_values` (e.g. the last on-treatment value as AVISIT End of
    Treatment, DTYPE LOV). An `order` item {desc: VAR} sorts descending; missing values sort
    last either way, as in admiral."""
    fn = "derive_extreme_records"
    _need(df, [*by, *_sort_keys(order, fn)[0]], fn, "by/order", ctx.dataset or "the dataset")
    if mode not in ("first", "last"):
        raise bad_argument(fn, "mode", f"must be 'first' or 'last', got {mode!r}")
    names, ascending = _sort_keys(order, fn)
    candidates = df[_where(df, filter, fn)]
    chosen = candidates.sort_values(names, ascending=ascending, kind="stable", na_position="last")
    chosen = chosen.drop_duplicates(by, keep=mode)
    return _append(df, _set_values(chosen.sort_index().copy(), set_values, fn))


def _sort_keys(order: list, fn: str) -> tuple[list[str], list[bool]]:
    """Variable names and ascending flags of an `order` list of names and {desc: NAME} items."""
    names, ascending = [], []
    for item in order:
        if isinstance(item, dict) and set(item) == {"desc"}:
            names.append(item["desc"])
            ascending.append(False)
        elif isinstance(item, str):
            names.append(item)
            ascending.append(True)
        else:
            raise bad_argument(fn, "order", f"items are variable names or {{desc: NAME}}, got {item!r}")
    return names, ascending


def _dates(df: pd.DataFrame, name: str | None, fn: str, arg: str) -> pd.Series | None:
    if name is None:
        return None
    _need(df, [name], fn, arg, "the dataset")
    return pd.to_datetime(df[name])


@derivation
def derive_var_ontrtfl(df: pd.DataFrame, ctx, start: str, ref_start: str, ref_end: str | None = None,
                       ref_end_window: int = 0, end: str | None = None, span_period: bool = False,
                       filter_pre_timepoint: dict | None = None, new: str = "ONTRTFL") -> pd.DataFrame:
    """`new` = Y on the records observed on treatment: `start` on the day of `ref_start` (unless
    the record meets `filter_pre_timepoint`, e.g. a pre-dose baseline visit), or after it and on
    or before `ref_end` + `ref_end_window` days (dates compared by day; no `ref_end`: any time
    after); a missing `start` counts as on treatment when `ref_start` is known. An `end` before
    `ref_start` is never on treatment; with `span_period`, a record starting before and ending
    on or after `ref_start` (or not ended) is."""
    fn = "derive_var_ontrtfl"
    if not isinstance(ref_end_window, int) or isinstance(ref_end_window, bool) or ref_end_window < 0:
        raise bad_argument(fn, "ref_end_window", f"must be a non-negative whole number of days, got {ref_end_window!r}")
    if span_period and not end:
        raise bad_argument(fn, "span_period", "needs `end`")
    s, rs = _dates(df, start, fn, "start"), _dates(df, ref_start, fn, "ref_start")
    flag = (s.isna() & rs.notna()) | (rs == s)
    if filter_pre_timepoint:
        flag &= ~meets(df, filter_pre_timepoint, fn, "filter_pre_timepoint")
    if ref_end is None:
        flag |= rs < s
    else:
        within = s.dt.normalize() <= _dates(df, ref_end, fn, "ref_end").dt.normalize() + pd.Timedelta(days=ref_end_window)
        flag |= (rs < s) & within
    if end:
        e = _dates(df, end, fn, "end")
        flag &= ~(e < rs)
        if span_period:
            flag |= within & (e.isna() | (e >= rs)) if ref_end is not None else (e.isna() | (e >= rs))
    out = df.copy()
    out[new] = np.where(flag.fillna(False).to_numpy(bool), "Y", None)
    return out


@derivation
def derive_var_anrind(df: pd.DataFrame, ctx, value: str = "AVAL", low: str = "ANRLO", high: str = "ANRHI",
                      low_low: str | None = None, high_high: str | None = None, new: str = "ANRIND") -> pd.DataFrame:
    """`new` = NORMAL when `value` lies within [`low`, `high`] (a missing limit is no limit, but one
    must be known), LOW below `low`, HIGH above `high`; with `low_low` / `high_high` (e.g. A1LO,
    A1HI) LOW LOW / HIGH HIGH beyond those. Missing without a value or a limit."""
    fn = "derive_var_anrind"
    _need(df, [value, low, high, *(v for v in (low_low, high_high) if v)], fn, "value/low/high", "the dataset")
    v, lo, hi = (pd.to_numeric(df[c], errors="coerce").astype(float) for c in (value, low, high))
    ll = pd.to_numeric(df[low_low], errors="coerce").astype(float) if low_low else pd.Series(np.nan, index=df.index)
    hh = pd.to_numeric(df[high_high], errors="coerce").astype(float) if high_high else pd.Series(np.nan, index=df.index)
    conditions = [
        ((v >= lo) & hi.isna()) | ((v <= hi) & lo.isna()) | ((v >= lo) & (v <= hi)),
        (v < lo) & (ll.isna() | (v >= ll)),
        (v > hi) & (hh.isna() | (v <= hh)),
        v < ll,
        v > hh,
    ]
    result = np.full(len(df), None, dtype=object)
    decided = np.zeros(len(df), bool)
    for condition, name in zip(conditions, ("NORMAL", "LOW", "HIGH", "LOW LOW", "HIGH HIGH")):
        hit = condition.to_numpy() & ~decided  # the first condition that holds decides
        result[hit] = name
        decided |= hit
    out = df.copy()
    out[new] = result
    return out


@derivation
def derive_basetype_records(df: pd.DataFrame, ctx, basetypes: dict, new: str = "BASETYPE") -> pd.DataFrame:
    """`new` = the name of each of `basetypes` (name -> filter, in order) whose filter the record
    meets; a record meeting several is repeated, once per baseline type; a record meeting none is
    kept with `new` missing."""
    fn = "derive_basetype_records"
    if not isinstance(basetypes, dict) or not basetypes:
        raise bad_argument(fn, "basetypes", "must be a non-empty mapping of BASETYPE value -> filter")
    parts, matched = [], np.zeros(len(df), bool)
    for name, filter in basetypes.items():
        hit = meets(df, filter, fn, f"basetypes[{name!r}]").to_numpy()
        parts.append(df[hit].assign(**{new: name}))
        matched |= hit
    parts.append(df[~matched].assign(**{new: None}))
    return pd.concat(parts).sort_index(kind="stable").reset_index(drop=True)


@derivation
def derive_var_base(df: pd.DataFrame, ctx, by: list[str], source: str = "AVAL", new: str = "BASE",
                    flag: str = "ABLFL") -> pd.DataFrame:
    """`new` = `source` of the record flagged `flag` = Y in the record's `by` group (e.g. BASE from
    AVAL, BNRIND from ANRIND, BTOXGR from ATOXGR), on every record of the group; two flagged
    records in a group are an error."""
    fn = "derive_var_base"
    _need(df, [*by, source, flag], fn, "by/source/flag", ctx.dataset or "the dataset")
    base = df.loc[(df[flag] == "Y").to_numpy(), [*by, source]]
    dup = base.duplicated(by, keep=False)
    if dup.any():
        raise bad_argument(fn, "flag", f"{flag} = Y on several records of {int(dup.sum())} {' '.join(by)} groups, e.g. "
                                       f"{base.loc[dup, by].head(3).astype(str).to_dict('records')}")
    base = base.rename(columns={source: "_base"})
    keys = df[by].copy()
    merged = keys.merge(base, on=list(by), how="left", validate="many_to_one")
    out = df.copy()
    out[new] = merged["_base"].to_numpy()
    return out


@derivation
def derive_var_chg(df: pd.DataFrame, ctx, value: str = "AVAL", base: str = "BASE", new: str = "CHG",
                   filter: dict | None = None) -> pd.DataFrame:
    """`new` = `value` - `base` on the records meeting `filter` (e.g. post-baseline visits), missing
    on the others."""
    fn = "derive_var_chg"
    _need(df, [value, base], fn, "value/base", ctx.dataset or "the dataset")
    out = df.copy()
    out[new] = (df[value].astype(float) - df[base].astype(float)).where(_where(df, filter, fn))
    return out


@derivation
def derive_var_pchg(df: pd.DataFrame, ctx, value: str = "AVAL", base: str = "BASE", new: str = "PCHG",
                    filter: dict | None = None) -> pd.DataFrame:
    """`new` = (`value` - `base`) / |`base`| x 100 on the records meeting `filter`; missing where
    `base` is 0."""
    fn = "derive_var_pchg"
    _need(df, [value, base], fn, "value/base", ctx.dataset or "the dataset")
    b = df[base].astype(float)
    out = df.copy()
    out[new] = ((df[value].astype(float) - b) / b.abs() * 100).where(_where(df, filter, fn) & (b != 0).to_numpy())
    return out


@derivation
def derive_var_shift(df: pd.DataFrame, ctx, source: str, to: str, new: str, sep: str = " to ",
                     missing: str = "NULL", filter: dict | None = None) -> pd.DataFrame:
    """`new` = "`source` to `to`" (e.g. BNRIND to ANRIND: NORMAL to HIGH), a missing value written
    as `missing`, on the records meeting `filter`."""
    fn = "derive_var_shift"
    _need(df, [source, to], fn, "source/to", ctx.dataset or "the dataset")

    def text(col: pd.Series) -> pd.Series:
        s = col.astype(object)
        blank = s.isna() | (s.astype(str).str.strip() == "")
        return s.astype(str).where(~blank, missing)

    out = df.copy()
    out[new] = (text(df[source]) + sep + text(df[to])).where(_where(df, filter, fn), None)
    return out


@derivation
def derive_vars_crit_flag(df: pd.DataFrame, ctx, crit: str, description: str, condition: dict,
                          flag: str | None = None, numeric: str | None = None, values_yn: bool = False,
                          filter: dict | None = None) -> pd.DataFrame:
    """Criterion variables: `crit` (e.g. CRIT1) = `description` on every record meeting `filter`,
    `flag` (CRIT1FL) = Y where the record meets `condition`, else N with `values_yn` (else
    missing); records whose variables in `condition` are all missing get no flag; `numeric`
    (CRIT1FN) = 1 / 0."""
    fn = "derive_vars_crit_flag"
    scope = _where(df, filter, fn)
    hit = meets(df, condition, fn, "condition").to_numpy()
    tested = [v for v in _condition_vars(condition) if v in df]
    known = df[tested].notna().any(axis=1).to_numpy() if tested else np.ones(len(df), bool)
    out = df.copy()
    out[crit] = np.where(scope, description, None)
    values = np.where(hit, "Y", np.where(known & values_yn, "N", None))
    values = np.where(scope, values, None)
    if flag:
        out[flag] = values
    if numeric:
        out[numeric] = pd.Series(values, index=df.index).map({"Y": 1.0, "N": 0.0}).astype(float)
    return out


def _condition_vars(condition) -> list[str]:
    """The variable names a filter tests."""
    if isinstance(condition, list):
        return [v for c in condition for v in _condition_vars(c)]
    if not isinstance(condition, dict):
        return []
    names = []
    for key, value in condition.items():
        names += _condition_vars(value) if key in ("any", "all", "not") else [key]
    return names


@derivation
def derive_var_analysis_ratio(df: pd.DataFrame, ctx, numerator: str, denominator: str,
                              new: str | None = None) -> pd.DataFrame:
    """`new` (default R2 + the denominator's name, e.g. R2BASE, R2ANRLO) = `numerator` /
    `denominator`; missing where the denominator is 0 or missing."""
    fn = "derive_var_analysis_ratio"
    _need(df, [numerator, denominator], fn, "numerator/denominator", ctx.dataset or "the dataset")
    d = pd.to_numeric(df[denominator], errors="coerce").astype(float)
    out = df.copy()
    out[new or f"R2{denominator}"] = (pd.to_numeric(df[numerator], errors="coerce").astype(float) / d).where(d != 0)
    return out
