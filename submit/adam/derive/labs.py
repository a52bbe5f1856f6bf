"""Laboratory analysis values (ADLB, and the assay rules ADPC shares): results below an assay's
limits, the nominal time points of samples scheduled around the dose steps, baseline and change,
and the peak per group.

Below the limits. A result is below the limit of detection (LOD), below the lower limit of
quantitation (LLOQ) but detected, or quantified (at or above the LLOQ: a value exactly at the
LLOQ is quantified). Labs report the first two as text: "<LOD" / "<LLOQ", or "<x" with x the
limit (x at most the LOD meaning below the LOD). What a study does with them is a parameter of
`derive_vars_blq`, stated in the spec's methods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.basics import _need
from submit.adam.filters import select
from submit.adam.derive.pk import CYCLE_KEYS, HOUR, _cohort_plan, _ns, planned_step_hours, step_segments
from submit.adam.registry import bad_argument, derivation

BELOW_LOD, BELOW_LLOQ, QUANTIFIED = "<LOD", "<LLOQ", ">=LLOQ"
IMPUTATIONS = ("LOD/2", "LLOQ/2", "LOD", "LLOQ")


def _limit(df: pd.DataFrame, var: str, default: float) -> pd.Series:
    """The record's limit: the variable `var` where present, else the study's assay limit."""
    given = pd.to_numeric(df[var], errors="coerce") if var in df else pd.Series(np.nan, index=df.index)
    return given.fillna(default).astype(float)


def blq_category(result: pd.Series, lod: pd.Series, lloq: pd.Series) -> pd.Series:
    """<LOD, <LLOQ or >=LLOQ of character results; missing for no result or another text."""
    text = result.astype("string").str.strip()
    below = text.str.startswith("<").fillna(False)
    token = text.str.slice(1).str.strip().str.upper()
    limit = pd.to_numeric(token.where(below), errors="coerce")
    value = pd.to_numeric(text.where(~below), errors="coerce")
    category = pd.Series(None, index=result.index, dtype=object)
    # "<x": x at most the LOD says the result is below the LOD; "<LLOQ", "<BLQ" or a larger x only
    # that it is below the LLOQ.
    category[below & ((token == "LOD") | (limit <= lod)).fillna(False)] = BELOW_LOD
    category[below & category.isna()] = BELOW_LLOQ
    category[value.notna() & (value < lod)] = BELOW_LOD
    category[value.notna() & (value >= lod) & (value < lloq)] = BELOW_LLOQ
    category[value.notna() & (value >= lloq)] = QUANTIFIED
    return category


def _imputed(rule, lod: pd.Series, lloq: pd.Series, fn: str, arg: str) -> pd.Series:
    if rule is None:
        return pd.Series(np.nan, index=lod.index)
    if isinstance(rule, (int, float)) and not isinstance(rule, bool):
        return pd.Series(float(rule), index=lod.index)
    if isinstance(rule, str) and rule.upper() in IMPUTATIONS:
        limit = lod if rule.upper().startswith("LOD") else lloq
        return limit / 2 if rule.endswith("/2") else limit
    raise bad_argument(fn, arg, f"must be a number, null (excluded) or one of {', '.join(IMPUTATIONS)}; got {rule!r}")


def _assay_limits(limits, fn: str) -> tuple[float, float]:
    """(LOD, LLOQ) of a `limits` argument {lod, lloq}: positive numbers, LOD at most LLOQ."""
    def positive(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0

    ok = isinstance(limits, dict) and set(limits) == {"lod", "lloq"} and all(map(positive, limits.values()))
    if not ok or limits["lod"] > limits["lloq"]:
        raise bad_argument(fn, "limits", f"must be {{lod: x, lloq: y}} with 0 < x <= y, got {limits!r}")
    return float(limits["lod"]), float(limits["lloq"])


@derivation
def derive_vars_blq(df: pd.DataFrame, ctx, result: str, limits: dict, new: str = "AVAL", category: str = "AVALCAT1",
                    lod: str = "ALOD", lloq: str = "ALLOQ", below_lod=None, below_lloq=None,
                    filter: dict | None = None) -> pd.DataFrame:
    """For the records meeting `filter`: `category` = <LOD, <LLOQ or >=LLOQ of the character result
    `result`; `new` = the number for a quantified result, `below_lod` / `below_lloq` for the others
    (a number, LOD/2, LLOQ/2, LOD, LLOQ, or null: excluded). The limits are the variables `lod` and
    `lloq` where present, else the assay's `limits` ({lod, lloq}, in the result's unit); both are
    set on the records. Other records keep `new` as it is."""
    fn = "derive_vars_blq"
    default_lod, default_lloq = _assay_limits(limits, fn)
    _need(df, [result], fn, "result", ctx.dataset or "the dataset")
    rows = select(df, filter, fn).index
    part = df.loc[rows]
    lod_v, lloq_v = _limit(part, lod, default_lod), _limit(part, lloq, default_lloq)
    cat = blq_category(part[result], lod_v, lloq_v)
    number = pd.to_numeric(part[result].astype("string").str.strip(), errors="coerce").astype(float)
    value = number.where(cat == QUANTIFIED)
    value = value.where(cat != BELOW_LOD, _imputed(below_lod, lod_v, lloq_v, fn, "below_lod"))
    value = value.where(cat != BELOW_LLOQ, _imputed(below_lloq, lod_v, lloq_v, fn, "below_lloq"))
    out = df.copy()
    for name, values, numeric in ((new, value, True), (category, cat, False), (lod, lod_v, True), (lloq, lloq_v, True)):
        column = pd.to_numeric(out[name], errors="coerce").astype(float) if numeric and name in out else (
            out[name].astype(object) if name in out else pd.Series(np.nan if numeric else None, index=out.index,
                                                                 dtype=float if numeric else object))
        column.loc[rows] = values
        out[name] = column
    return out


@derivation
def derive_vars_step_timepoints(df: pd.DataFrame, ctx, hours: list[float], dose_plan: str, time: str = "ADTM",
                                before_hours: float = 3.0, tpt: str = "ATPT", tptn: str = "ATPTN",
                                tptref: str = "ATPTREF", nominal: str = "NRRLT", phase: str = "APHASE",
                                cycle: str = "ACYCLE", visit: str = "AVISIT", arm: str = "ACTARMCD",
                                filter: dict | None = None, ex_filter: dict | None = None) -> pd.DataFrame:
    """Nominal time points of samples scheduled at `hours` (0 = just before the step) after the
    start of each dose step (planned: the cohort's steps of the study.yaml block `dose_plan`), for
    records meeting `filter` whose data carry no time point. A sample's step is the last one of its
    cycle (`phase`, `cycle`) starting at most `before_hours` after it; its nominal hour is the
    nearest of `hours` to the actual offset (from `before_hours` before the step to half a spacing
    after the last hour; outside: no time point). `tpt`: PREDOSE / nH AFTER INFUSION START for step
    1, BEFORE DOSE STEP k START / nH AFTER DOSE STEP k START after; `nominal` and `tptn` = hours
    after the cycle's infusion start by the plan (planned step start + nominal hour); `tptref` =
    "`visit` INFUSION START"."""
    fn = "derive_vars_step_timepoints"
    _need(df, [time, phase, cycle, visit], fn, "time/phase/cycle/visit", ctx.dataset or "the dataset")
    grid = np.array(sorted(hours), dtype=float)
    if not len(grid):
        raise bad_argument(fn, "hours", "needs at least one hour")
    upper = grid[-1] + ((grid[-1] - grid[-2]) / 2 if len(grid) > 1 else before_hours)
    edges = np.concatenate([[-before_hours], (grid[1:] + grid[:-1]) / 2, [upper]])
    rows = select(df, filter, fn).index
    part = df.loc[rows]
    steps = step_segments(select(ctx.domain("EX"), ex_filter, fn), ctx.study)
    steps = steps.drop_duplicates([*CYCLE_KEYS, "STEP"])[[*CYCLE_KEYS, "STEP", "STEPSTART"]]
    steps = steps.rename(columns={"PHASE": "_phase", "CYCLEN": "_cycle"}).assign(_cycle=lambda d: d["_cycle"].astype(float))
    left = pd.DataFrame({"_row": rows, "USUBJID": part["USUBJID"].to_numpy(), "_phase": part[phase].to_numpy(),
                         "_cycle": pd.to_numeric(part[cycle]).astype(float).to_numpy(),
                         "_t": _ns(part[time]).to_numpy()})
    left = left.dropna(subset=["_t", "_phase", "_cycle"])
    left["_key"] = left["_t"] + pd.Timedelta(hours=before_hours)
    hit = pd.merge_asof(left.sort_values("_key", kind="stable"), steps.sort_values("STEPSTART", kind="stable"),
                        left_on="_key", right_on="STEPSTART", by=["USUBJID", "_phase", "_cycle"], direction="backward")
    hit = hit.dropna(subset=["STEPSTART"])
    offset = ((hit["_t"] - hit["STEPSTART"]) / HOUR).to_numpy()
    slot = np.searchsorted(edges, offset, side="right") - 1
    ok = (slot >= 0) & (slot < len(grid)) & (offset < upper)
    hit = hit[ok].assign(_h=grid[slot[ok]])
    cohort, plan = _cohort_plan(ctx, fn, arm, hit["USUBJID"], dose_plan)
    hit["_nominal"] = planned_step_hours(cohort, hit["_cycle"], hit["STEP"], plan).to_numpy() + hit["_h"].to_numpy()
    first = hit["STEP"] == 1
    hour = hit["_h"].map({h: f"{h:g}H" for h in grid})
    step_no = hit["STEP"].astype(int).astype(str)
    hit["_tpt"] = np.where(hit["_h"] == 0, np.where(first, "PREDOSE", "BEFORE DOSE STEP " + step_no + " START"),
                           np.where(first, hour + " AFTER INFUSION START", hour + " AFTER DOSE STEP " + step_no + " START"))
    out = df.copy()
    for name, numeric in ((tpt, False), (tptn, True), (tptref, False), (nominal, True)):
        if name not in out:
            out[name] = np.nan if numeric else None
        out[name] = out[name].astype(float if numeric else object)
        out.loc[rows, name] = np.nan if numeric else None
    at = hit["_row"].to_numpy()
    out.loc[at, tpt] = hit["_tpt"].to_numpy()
    out.loc[at, tptn] = hit["_nominal"].to_numpy()
    out.loc[at, nominal] = hit["_nominal"].to_numpy()
    refs = df.loc[at, visit]
    out.loc[at, tptref] = np.where(refs.notna(), refs.astype(str) + " INFUSION START", None)
    return out


@derivation
def derive_vars_baseline(df: pd.DataFrame, ctx, by: list[str], reference: str = "TRTSDTM", time: str = "ADTM",
                         value: str = "AVAL", flag: str = "ABLFL", base: str = "BASE", chg: str | None = "CHG",
                         order: list[str] | None = None) -> pd.DataFrame:
    """Baseline per `by` group: `flag` = Y on the last record (by `time`, then `order`) with a
    `value` at or before the datetime `reference` (an ADSL variable when the dataset lacks it);
    `base` = its value on every record of the group; `chg` = `value` - `base` on the records after
    `reference` (missing at and before baseline)."""
    fn = "derive_vars_baseline"
    _need(df, [*by, time, value], fn, "by/time/value", ctx.dataset or "the dataset")
    ref = df[reference] if reference in df else df["USUBJID"].map(ctx.adsl.set_index("USUBJID")[reference])
    t, ref = pd.to_datetime(df[time]), pd.to_datetime(ref)
    candidates = df[(df[value].notna() & (t <= ref)).to_numpy()]
    keys = [time, *(order or [])]
    chosen = candidates.sort_values(keys, kind="stable").drop_duplicates(by, keep="last")
    out = df.copy()
    out[flag] = np.where(df.index.isin(chosen.index), "Y", None)
    baseline = chosen[[*by, value]].rename(columns={value: "_base"})
    out[base] = df[by].merge(baseline, on=by, how="left", validate="many_to_one")["_base"].to_numpy()
    if chg:
        out[chg] = (out[value] - out[base]).where((t > ref).to_numpy())
    return out


@derivation
def derive_var_peak_flag(df: pd.DataFrame, ctx, by: list[str], new: str, value: str = "AVAL", time: str = "ADTM",
                         imputed: dict | None = None, filter: dict | None = None) -> pd.DataFrame:
    """`new` = Y on the record with the highest `value` of each `by` group among those meeting
    `filter`; of equal values a measured one before one meeting `imputed` (a value set for a
    result below a limit), then the earliest. A group whose values are all missing has no peak."""
    fn = "derive_var_peak_flag"
    _need(df, [*by, value, time], fn, "by/value/time", ctx.dataset or "the dataset")
    candidates = select(df, filter, fn)
    candidates = candidates[candidates[value].notna()]
    is_imputed = (candidates.index.isin(select(candidates, imputed, fn).index) if imputed
                  else np.zeros(len(candidates), bool))
    ranked = candidates.assign(_neg=-candidates[value].astype(float), _imp=is_imputed.astype(int),
                               _t=pd.to_datetime(candidates[time]))
    chosen = ranked.sort_values(["_neg", "_imp", "_t"], kind="stable").drop_duplicates(by, keep="first").index
    out = df.copy()
    out[new] = np.where(df.index.isin(chosen), "Y", None)
    return out
