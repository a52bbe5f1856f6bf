"""General derivations: take records from a domain, merge variables from another, map values,
flag existence, carry ADSL variables and flag extreme records.

Filters are declarative conditions on the records (`submit/adam/filters.py`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation, run_steps


def _need(df: pd.DataFrame, names, fn: str, arg: str, what: str) -> None:
    missing = [n for n in names if n not in df]
    if missing:
        raise bad_argument(fn, arg, f"names {missing} not in {what}")


@derivation
def start_from(df: pd.DataFrame, ctx, domain: str, keep: list[str] | None = None, filter: dict | None = None,
               rename: dict | None = None) -> pd.DataFrame:
    """The dataset's first records: those of `domain` meeting `filter`, with the variables `keep`."""
    src = select(ctx.domain(domain), filter, "start_from")
    if keep:
        _need(src, keep, "start_from", "keep", domain)
        src = src[keep]
    return src.rename(columns=rename or {}).reset_index(drop=True)


def pick(src: pd.DataFrame, by: list[str], order: list[str] | None, mode: str, fn: str) -> pd.DataFrame:
    """One record per `by` group: the first or last by `order` (stable; ties keep source order)."""
    if mode not in ("first", "last"):
        raise bad_argument(fn, "mode", f"must be 'first' or 'last', got {mode!r}")
    if order:
        _need(src, order, fn, "order", "the source")
        src = src.sort_values(order, kind="stable", na_position="first" if mode == "last" else "last")
    return src.drop_duplicates(by, keep=mode)


@derivation
def derive_vars_merged(df: pd.DataFrame, ctx, domain: str, new_vars: dict, by: list[str] | None = None,
                       filter: dict | None = None, order: list[str] | None = None, mode: str = "first",
                       exist_flag: str | None = None, prepare: list[dict] | None = None) -> pd.DataFrame:
    """Variables of one record per `by` group of `domain` (meeting `filter`, the first or last by
    `order`): `new_vars` maps each new name to its source variable. `exist_flag` is Y when the
    group had such a record, N otherwise. `prepare`: derivation steps run on the domain first
    (e.g. `derive_vars_dtm` giving EXSTDTM to order and merge by)."""
    by = by or ["USUBJID"]
    source = ctx.domain(domain)
    if prepare:
        source = run_steps(source, ctx, prepare, "derive_vars_merged", "prepare")
    src = select(source, filter, "derive_vars_merged")
    _need(src, list(new_vars.values()), "derive_vars_merged", "new_vars", domain)
    one = pick(src, by, order, mode, "derive_vars_merged")
    one = one[by + list(dict.fromkeys(new_vars.values()))].copy()
    for new, old in new_vars.items():
        one[new] = one[old]
    one = one[by + list(new_vars)]
    if exist_flag:
        one[exist_flag] = "Y"
    out = df.drop(columns=[c for c in new_vars if c in df]).merge(one, on=by, how="left", validate="many_to_one")
    if exist_flag:
        out[exist_flag] = out[exist_flag].fillna("N")
    return out


@derivation
def derive_var_map(df: pd.DataFrame, ctx, source: str, new: str, values: dict, default=None, missing=None,
                   keep_others: bool = False) -> pd.DataFrame:
    """`new` = `values[source]` (a lookup like a SAS format); a missing source gives `missing`;
    a value not listed gives `default`, or itself with `keep_others`."""
    if source not in df:
        raise bad_argument("derive_var_map", "source", f"{source!r} is not a variable")
    src = df[source]
    mapped = src.map(values).astype(object)
    out = df.copy()
    out[new] = mapped.where(src.isin(list(values)), src if keep_others else default).where(src.notna(), missing)
    return out


@derivation
def derive_var_cut(df: pd.DataFrame, ctx, source: str, new: str, breaks: list, labels: list,
                   numeric: str | None = None) -> pd.DataFrame:
    """Groups of a number: `labels[i]` for breaks[i] <= value < breaks[i+1]; `numeric` their 1-based order."""
    if len(labels) != len(breaks) - 1:
        raise bad_argument("derive_var_cut", "labels", f"needs one label per interval ({len(breaks) - 1})")
    codes = pd.cut(df[source], bins=breaks, labels=False, right=False)
    out = df.copy()
    out[new] = pd.Series(np.asarray(labels, dtype=object)[codes.fillna(0).astype(int)], index=df.index).where(codes.notna())
    if numeric:
        out[numeric] = codes + 1
    return out


@derivation
def derive_var_flag_exists(df: pd.DataFrame, ctx, domain: str, new: str, filter: dict | None = None,
                           by: list[str] | None = None, no: str = "N") -> pd.DataFrame:
    """`new` = Y when `domain` has a record meeting `filter` for the `by` group, else `no`."""
    by = by or ["USUBJID"]
    hits = select(ctx.domain(domain), filter, "derive_var_flag_exists")[by].drop_duplicates()
    out = df.copy()
    found = pd.MultiIndex.from_frame(df[by]).isin(pd.MultiIndex.from_frame(hits)) if len(hits) else np.zeros(len(df), bool)
    out[new] = np.where(found, "Y", no or None)
    return out


@derivation
def derive_var_constant(df: pd.DataFrame, ctx, new: str, value) -> pd.DataFrame:
    out = df.copy()
    out[new] = value
    return out


@derivation
def derive_vars_adsl(df: pd.DataFrame, ctx, vars: list[str]) -> pd.DataFrame:
    """Carry ADSL variables onto every record by USUBJID (equal to ADSL's by construction)."""
    adsl = ctx.adsl
    _need(adsl, vars, "derive_vars_adsl", "vars", "ADSL")
    keep = [v for v in vars if v != "USUBJID"]
    return df.drop(columns=[v for v in keep if v in df]).merge(adsl[["USUBJID", *keep]], on="USUBJID", how="left",
                                                                validate="many_to_one")


@derivation
def derive_var_extreme_flag(df: pd.DataFrame, ctx, by: list[str], order: list[str], new: str, mode: str = "last",
                            filter: dict | None = None) -> pd.DataFrame:
    """`new` = Y on the first or last record (by `order`) of each `by` group among those meeting `filter`."""
    candidates = select(df, filter, "derive_var_extreme_flag")
    chosen = pick(candidates, by, order, mode, "derive_var_extreme_flag").index
    out = df.copy()
    out[new] = np.where(df.index.isin(chosen), "Y", None)
    return out


@derivation
def derive_vars_supp(df: pd.DataFrame, ctx, supp: str, qnams: dict, idvar: str | None = None) -> pd.DataFrame:
    """QVALs of a SUPP-- dataset as variables (`qnams`: new name -> QNAM), matched by USUBJID and,
    for record-level qualifiers, by `idvar` (e.g. MHSEQ) of the parent record."""
    sup = ctx.domain(supp)
    sup = sup[sup["QNAM"].isin(list(qnams.values()))]
    keys = ["USUBJID"] + (["IDVARVAL"] if idvar else [])
    wide = sup.pivot_table(index=keys, columns="QNAM", values="QVAL", aggfunc="first").reset_index()
    wide = wide.rename(columns={q: n for n, q in qnams.items()})
    for n in qnams:
        if n not in wide:
            wide[n] = None
    left = df.copy()
    if idvar:
        ids = left[idvar]
        left["IDVARVAL"] = (ids.astype("Int64") if pd.api.types.is_numeric_dtype(ids) else ids).astype("str")
    out = left.merge(wide[keys + list(qnams)], on=keys, how="left", validate="many_to_one")
    return out.drop(columns=["IDVARVAL"]) if idvar else out


@derivation
def derive_var_study_value(df: pd.DataFrame, ctx, new: str, key: str) -> pd.DataFrame:
    """`new` = a value of the study configuration (dotted `key`, e.g. dates.data_cutoff); dates stay dates."""
    value = ctx.study.require(key, "derive_var_study_value")
    out = df.copy()
    out[new] = pd.Timestamp(value) if hasattr(value, "isoformat") and not isinstance(value, str) else value
    return out


@derivation
def derive_var_extreme_date(df: pd.DataFrame, ctx, new: str, sources: list[dict], mode: str = "last",
                            not_after: str | None = None) -> pd.DataFrame:
    """The latest (or earliest) date per subject over several date sources, each
    `{domain, date, filter, highest, date_imputation}` (date: an --DTC, complete unless `highest`
    allows imputing, or a numeric date; without `domain` a variable of the dataset itself);
    `not_after` caps it by a date variable of the dataset (e.g. the death date for the last date
    known alive)."""
    from submit.adam.derive.dates import source_dates

    if not isinstance(sources, list) or not sources:
        raise bad_argument("derive_var_extreme_date", "sources", "must be a non-empty list of date sources")
    every = pd.concat([source_dates(df, ctx, s, "derive_var_extreme_date", f"sources[{i}]")
                       for i, s in enumerate(sources)], ignore_index=True)
    if not_after:
        cap = every["USUBJID"].map(df.set_index("USUBJID")[not_after])
        every = every[~(every["_d"] > cap).to_numpy()]
    agg = every.groupby("USUBJID")["_d"].max() if mode == "last" else every.groupby("USUBJID")["_d"].min()
    out = df.copy()
    out[new] = df["USUBJID"].map(agg)
    return out


@derivation
def derive_var_copy(df: pd.DataFrame, ctx, source: str, new: str) -> pd.DataFrame:
    _need(df, [source], "derive_var_copy", "source", ctx.dataset or "the dataset")
    out = df.copy()
    out[new] = df[source]
    return out
