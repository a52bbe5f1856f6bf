"""Comparing proportions between two groups: difference with its CI, CMH test, Fisher's exact test.

`proportion_difference(x1, n1, x2, n2, method=...)` -> ProportionDifference (scalars) and
`proportion_differences(...)` -> DataFrame (arrays, one row per comparison): p1 - p2 with its
100(1 - alpha)% CI. ARD stat names: `diff`, `diff_ci_low`, `diff_ci_high` (proportions 0-1; the
method is recorded in `method`). Methods:
  * "miettinen-nurminen" (default; SAS PROC FREQ RISKDIFF(CL=MN), the score interval with the
    N/(N-1) variance factor): inverts the score statistic (p1 - p2 - d) / sqrt(V(d)), V from the
    maximum likelihood estimates under p1 - p2 = d (closed form of Miettinen and Nurminen 1985,
    Farrington and Manning 1990), by vectorized bisection. Written here, not taken from statsmodels:
    its `confint_proportions_2indep(method="score")` has a wrong coefficient in that restricted MLE
    (statsmodels issue 10269, open; 56/70 vs 48/80 gives 0.0526 to 0.3440 where Newcombe 1998
    Table II prints 0.0528 to 0.3382) and fails at 0 or n events.
  * "newcombe" (SAS RISKDIFF(CL=NEWCOMBE), Newcombe 1998 method 10, hybrid of Wilson score
    intervals): statsmodels `confint_proportions_2indep(method="newcomb")`.
  * "wald" (SAS RISKDIFF(CL=WALD), no continuity correction), for reference.

`cmh_test(tables, correction=False)` / `cmh_test_records(outcome, group, strata, response=, reference=)`
-> CochranMantelHaenszel: the Cochran-Mantel-Haenszel test of no association in 2 x 2 x K tables,
`chisq` (df 1), `p_value`, and the Mantel-Haenszel common odds ratio `odds_ratio` with its
Robins-Breslow-Greenland CI `or_ci_low`, `or_ci_high` (statsmodels StratifiedTable). Default without
continuity correction, as SAS PROC FREQ CMH ("nonzero correlation"/"general association" rows for a
2 x 2 x K table); R's `mantelhaen.test` corrects by default (`correct = TRUE`): pass correction=True
to reproduce it. Strata with fewer than two subjects carry no information and are left out.

`fisher_exact_rows(events1, n1, events2, n2)` -> array of two-sided p-values of Fisher's exact test,
one per row (e.g. one per preferred term: subjects with the term and subjects at risk in each arm);
scipy's `fisher_exact` (same two-sided rule as R `fisher.test`), run once per distinct count tuple.
ARD stat name: `p_value`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from submit.errors import Problem
from submit.stats._inputs import as_arrays, check_alpha, missing_problems, raise_if
from submit.stats.normal import normal_quantile

METHODS = ("miettinen-nurminen", "newcombe", "wald")
BISECTION_STEPS = 80  # halves [-1, 1] below double precision


@dataclass(frozen=True)
class ProportionDifference:
    """p1 - p2 with its CI by `method`; p1 = x1/n1, p2 = x2/n2."""

    diff: float
    diff_ci_low: float
    diff_ci_high: float
    p1: float
    p2: float
    method: str
    alpha: float = 0.05


@dataclass(frozen=True)
class CochranMantelHaenszel:
    """CMH chi-square (df 1) over `strata` 2 x 2 tables, with the MH common odds ratio (treated vs
    reference, odds of the response) and its Robins-Breslow-Greenland CI."""

    chisq: float
    df: int
    p_value: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float
    correction: bool
    strata: int
    alpha: float = 0.05


def proportion_difference(
    x1: int, n1: int, x2: int, n2: int, *, method: str = "miettinen-nurminen", alpha: float = 0.05
) -> ProportionDifference:
    """p1 - p2 (x1 of n1 against x2 of n2) with its CI; see the module docstring for the methods."""
    row = proportion_differences(x1, n1, x2, n2, method=method, alpha=alpha).iloc[0]
    return ProportionDifference(
        diff=float(row["diff"]),
        diff_ci_low=float(row["diff_ci_low"]),
        diff_ci_high=float(row["diff_ci_high"]),
        p1=float(row["p1"]),
        p2=float(row["p2"]),
        method=method,
        alpha=alpha,
    )


def proportion_differences(
    x1: Any, n1: Any, x2: Any, n2: Any, *, method: str = "miettinen-nurminen", alpha: float = 0.05
) -> pd.DataFrame:
    """Vectorized proportion_difference: columns p1, p2, diff, diff_ci_low, diff_ci_high, method."""
    check_alpha(alpha)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    counts = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (x1, n1, x2, n2)))
    c1, m1, c2, m2 = counts
    valid = (
        all((v == np.floor(v)).all() for v in counts)
        and ((0 <= c1) & (c1 <= m1) & (0 <= c2) & (c2 <= m2)).all()
    )
    if not valid:
        raise ValueError("counts must be integers with 0 <= x <= n")
    empty = [
        Problem("proportion difference", f"{(m == 0).sum()} comparison(s) with no subjects", column=name)
        for name, m in (("n1", m1), ("n2", m2))
        if (m == 0).any()
    ]
    raise_if(empty, "the proportion difference", "proportion difference")
    if method == "miettinen-nurminen":
        low, high = _miettinen_nurminen(c1, m1, c2, m2, normal_quantile(1 - alpha / 2))
    else:
        from statsmodels.stats.proportion import confint_proportions_2indep  # slow import: only here

        low, high = confint_proportions_2indep(
            c1, m1, c2, m2, method="newcomb" if method == "newcombe" else "wald", compare="diff", alpha=alpha
        )
    return pd.DataFrame(
        {
            "p1": c1 / m1,
            "p2": c2 / m2,
            "diff": c1 / m1 - c2 / m2,
            "diff_ci_low": np.asarray(low, dtype=float),
            "diff_ci_high": np.asarray(high, dtype=float),
            "method": method,
        }
    )


def _miettinen_nurminen(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Both limits: the d where the score statistic, decreasing in d, equals +z (low) and -z (high)."""
    estimate = x1 / n1 - x2 / n2
    low, high = np.full_like(estimate, -1.0), estimate.copy()
    for _ in range(BISECTION_STEPS):
        mid = (low + high) / 2
        above = _score(x1, n1, x2, n2, mid) > z
        low, high = np.where(above, mid, low), np.where(above, high, mid)
    lower = (low + high) / 2
    low, high = estimate.copy(), np.ones_like(estimate)
    for _ in range(BISECTION_STEPS):
        mid = (low + high) / 2
        below = _score(x1, n1, x2, n2, mid) < -z
        low, high = np.where(below, low, mid), np.where(below, mid, high)
    return lower, (low + high) / 2


def _score(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(p1 - p2 - d) / sqrt(V), V the variance under p1 - p2 = d times N/(N-1) (Miettinen-Nurminen)."""
    p1_hat, p2_hat = x1 / n1, x2 / n2
    # Restricted MLE of p1: the root in [0, 1] of a cubic, in the trigonometric closed form.
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1_hat + theta * p2_hat + d * (theta + 2))
    c = d * d + d * (2 * p1_hat + theta + 1) + p1_hat + theta * p2_hat
    e = -p1_hat * d * (1 + d)
    v = b**3 / (27 * a**3) - b * c / (6 * a * a) + e / (2 * a)
    u = np.sign(v) * np.sqrt(np.maximum(b * b / (9 * a * a) - c / (3 * a), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.where(u == 0, 0.0, np.clip(v / u**3, -1.0, 1.0))
        p1 = 2 * u * np.cos((np.pi + np.arccos(cosine)) / 3) - b / (3 * a)
        p2 = p1 - d
        n = n1 + n2
        variance = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) * n / (n - 1)
        statistic = (p1_hat - p2_hat - d) / np.sqrt(np.maximum(variance, 0.0))
    return np.nan_to_num(statistic, nan=0.0)  # 0/0 only where d is the estimate itself


def cmh_test(tables: Any, *, correction: bool = False, alpha: float = 0.05) -> CochranMantelHaenszel:
    """CMH test of counts `tables` shaped (K, 2, 2): per stratum [[treated responders, treated
    non-responders], [reference responders, reference non-responders]]."""
    check_alpha(alpha)
    counts = np.asarray(tables, dtype=float)
    if counts.ndim != 3 or counts.shape[1:] != (2, 2):
        raise ValueError(f"tables must be shaped (strata, 2, 2), got {counts.shape}")
    informative = counts.sum(axis=(1, 2)) >= 2
    if not informative.any():
        raise_if([Problem("CMH test", "no stratum holds two or more subjects")], "the CMH test", "CMH test")
    from statsmodels.stats.contingency_tables import StratifiedTable  # slow import: only here

    table = StratifiedTable(np.moveaxis(counts[informative], 0, -1))
    test = table.test_null_odds(correction=correction)
    or_low, or_high = table.oddsratio_pooled_confint(alpha=alpha)
    return CochranMantelHaenszel(
        chisq=float(test.statistic),
        df=1,
        p_value=float(test.pvalue),
        odds_ratio=float(table.oddsratio_pooled),
        or_ci_low=float(or_low),
        or_ci_high=float(or_high),
        correction=correction,
        strata=int(informative.sum()),
        alpha=alpha,
    )


def cmh_test_records(
    outcome: Any,
    group: Any,
    strata: Any,
    *,
    response: Any,
    reference: Any,
    correction: bool = False,
    alpha: float = 0.05,
    source: str = "subject-level data",
) -> CochranMantelHaenszel:
    """CMH test from one record per subject: `outcome` (== `response` counts as a response),
    `group` (exactly two levels, one of them `reference`) and `strata` labels."""
    arrays = as_arrays(outcome=outcome, group=group, strata=strata)
    problems = missing_problems(source, **arrays)
    levels = pd.unique(pd.Series(arrays["group"]).dropna())
    if reference not in set(levels):
        problems.append(
            Problem(
                source,
                f"reference level {reference!r} is not among the groups {sorted(levels, key=str)}",
                column="group",
            )
        )
    elif len(levels) != 2:
        problems.append(
            Problem(
                source, f"the CMH test compares two groups, found {sorted(levels, key=str)}", column="group"
            )
        )
    raise_if(problems, "the CMH test", source)
    treated = arrays["group"] != reference
    responded = arrays["outcome"] == response
    cell = pd.DataFrame(
        {"stratum": arrays["strata"], "row": np.where(treated, 0, 1), "col": np.where(responded, 0, 1)}
    )
    counts = cell.groupby(["stratum", "row", "col"]).size()
    full = pd.MultiIndex.from_product([counts.index.levels[0], [0, 1], [0, 1]])
    tables = counts.reindex(full, fill_value=0).to_numpy().reshape(-1, 2, 2)
    return cmh_test(tables, correction=correction, alpha=alpha)


def fisher_exact_rows(events1: Any, n1: Any, events2: Any, n2: Any) -> np.ndarray:
    """Two-sided Fisher p-value of each row's 2 x 2 table
    [[events1, n1 - events1], [events2, n2 - events2]]."""
    arrays = as_arrays(events1=events1, n1=n1, events2=events2, n2=n2)
    counts = pd.DataFrame(
        {name: pd.to_numeric(pd.Series(values), errors="coerce") for name, values in arrays.items()}
    )
    bad = (
        counts.isna().any(axis=1)
        | (counts["events1"] < 0)
        | (counts["events2"] < 0)
        | (counts["events1"] > counts["n1"])
        | (counts["events2"] > counts["n2"])
    )
    if bad.any():
        first = int(np.flatnonzero(bad)[0]) + 1
        raise ValueError(f"{int(bad.sum())} row(s) without counts 0 <= events <= n, first at row {first}")
    counts = counts.astype(np.int64)
    distinct = counts.drop_duplicates()
    from scipy.stats import fisher_exact  # slow import: only here

    p_values = [
        fisher_exact([[e1, m1 - e1], [e2, m2 - e2]], alternative="two-sided").pvalue
        for e1, m1, e2, m2 in distinct.itertuples(index=False)
    ]
    lookup = distinct.assign(p_value=p_values)
    return counts.merge(lookup, how="left", on=list(counts.columns))["p_value"].to_numpy(dtype=float)
