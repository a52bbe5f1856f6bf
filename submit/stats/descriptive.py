"""Summary statistics of a numeric variable per group, as PROC MEANS / PROC UNIVARIATE print them.

`summarize` returns a wide frame, one row per group (sorted by the group columns) and one column per
statistic named as the ARD's `stat_name`; `to_long` melts it into (group columns, stat_name, stat),
the shape the ARD builder adds its `output`, `variable` and label columns to. Values are unrounded.

Rules:
* n counts non-missing values; every other statistic ignores missing values.
* sd is the sample SD (divisor n - 1), NaN for n < 2 (SAS prints it missing); cv = 100 sd / mean.
* q1, median, q3 use SAS's default percentile definition (PCTLDEF=5 in PROC UNIVARIATE, QNTLDEF=5
  in PROC MEANS: empirical distribution function with averaging): with the sorted values
  x_1..x_n and n p = j + g (j integer, 0 <= g < 1), the percentile is (x_j + x_{j+1}) / 2 if g = 0
  and x_{j+1} if g > 0. This is Hyndman and Fan's type 2, numpy's method="averaged_inverted_cdf"
  (not numpy's default "linear", which is SAS's PCTLDEF=4 shifted: type 7). Whether g = 0 is
  decided within 1e-9, so that n p = 7.000000000000001 from binary noise counts as whole.
* geo_mean = exp(mean(log x)) and geo_cv = 100 sqrt(exp(s^2) - 1), s the SD (n - 1) of log x, over
  the positive values only: zero and negative values (for example concentrations below the limit
  of quantification imputed as 0) are left out of the geometric statistics and `geo_n` counts the
  values used. NaN when no value is positive (geo_cv also when only one is).

Why not pandas `quantile` per group: it offers only the type 7 family (linear, lower, higher,
midpoint, nearest), none of which is PCTLDEF=5; the percentiles are taken here by index
arithmetic on one sort of all groups, with no loop over groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

STATS = ("n", "mean", "sd", "cv", "min", "q1", "median", "q3", "max", "geo_n", "geo_mean", "geo_cv")
STAT_LABELS = {
    "n": "n",
    "mean": "Mean",
    "sd": "SD",
    "cv": "CV%",
    "min": "Min",
    "q1": "Q1",
    "median": "Median",
    "q3": "Q3",
    "max": "Max",
    "geo_n": "n (positive values)",
    "geo_mean": "Geometric mean",
    "geo_cv": "Geometric CV%",
}
WHOLE_TOLERANCE = 1e-9  # n * p within this of an integer counts as an integer (g = 0)


def summarize(data: pd.DataFrame, value: str, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per group of `by` (all rows when empty) with the statistics of STATS as columns.

    With a categorical group column every combination of levels appears, observed or not (n = 0,
    the rest NaN), so that a table shows every planned arm; missing group values form their own
    group, sorted last.
    """
    by = list(by)
    missing_columns = [c for c in [value, *by] if c not in data.columns]
    if missing_columns:
        raise KeyError(f"columns not in the data: {', '.join(missing_columns)}")
    x = pd.to_numeric(data[value], errors="raise").astype(float)
    # Without `by`, one categorical key: one row even for empty data (n = 0).
    whole_data = pd.Series(pd.Categorical(np.zeros(len(data), dtype=int), categories=[0]), index=data.index)
    keys = [data[c] for c in by] if by else [whole_data]
    grouped = x.groupby(keys, sort=True, observed=False, dropna=False)
    basic = grouped.agg(["count", "mean", "std", "min", "max"])
    log_x = np.log(x.where(x > 0))
    geo = log_x.groupby(keys, sort=True, observed=False, dropna=False).agg(["count", "mean", "std"])
    # Each row's position among the result rows (ngroup() numbers only observed groups).
    row_keys = pd.MultiIndex.from_arrays(keys) if len(keys) > 1 else pd.Index(keys[0])
    codes = basic.index.get_indexer(row_keys)
    q1, median, q3 = _percentiles_by_group(x.to_numpy(), codes, len(basic), (0.25, 0.50, 0.75))
    out = pd.DataFrame(
        {
            "n": basic["count"].astype(np.int64),
            "mean": basic["mean"],
            "sd": basic["std"],
            "cv": 100 * basic["std"] / basic["mean"].where(basic["mean"] != 0),
            "min": basic["min"],
            "q1": q1,
            "median": median,
            "q3": q3,
            "max": basic["max"],
            "geo_n": geo["count"].astype(np.int64),
            "geo_mean": np.exp(geo["mean"]),
            "geo_cv": 100 * np.sqrt(np.expm1(geo["std"] ** 2)),
        },
        index=basic.index,
    )
    if not by:
        return out.reset_index(drop=True)
    return out.reset_index(names=by) if len(by) > 1 else out.rename_axis(by[0]).reset_index()


def to_long(wide: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Melt `summarize` output into rows (group columns..., stat_name, stat), groups then STATS order."""
    by = list(by)
    stats = [s for s in STATS if s in wide.columns]
    rows = np.repeat(np.arange(len(wide)), len(stats))  # each group's row once per statistic
    out = {c: wide[c].take(rows).reset_index(drop=True) for c in by}
    out["stat_name"] = pd.Series(np.tile(np.array(stats, dtype=object), len(wide)), dtype="str")
    out["stat"] = wide[stats].to_numpy(dtype=float).ravel()
    return pd.DataFrame(out)


def _percentiles_by_group(
    values: np.ndarray, codes: np.ndarray, n_groups: int, ps: Sequence[float]
) -> list[np.ndarray]:
    """PCTLDEF=5 percentiles of `values` within each group code 0..n_groups-1 (NaN for empty groups)."""
    keep = ~np.isnan(values) & (codes >= 0)
    v, c = values[keep], codes[keep]
    v = v[np.lexsort((v, c))]  # one sort: by group, then value
    counts = np.bincount(c, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    present = counts > 0
    results = []
    for p in ps:
        position = counts * p
        j = np.floor(position + WHOLE_TOLERANCE).astype(np.int64)
        whole = np.abs(position - np.round(position)) <= WHOLE_TOLERANCE
        upper = v[(starts + np.minimum(j, counts - 1))[present]]  # x_{j+1}; j < n whenever p < 1
        lower = v[(starts + np.maximum(j - 1, 0))[present]]  # x_j
        result = np.full(n_groups, np.nan)
        result[present] = np.where(whole[present], (lower + upper) / 2, upper)
        results.append(result)
    return results
