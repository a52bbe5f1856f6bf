"""Exact (Clopper-Pearson) confidence interval for a binomial proportion.

The interval inverts two one-sided binomial tests; its limits are beta quantiles:
low = Beta(alpha/2; x, n-x+1), high = Beta(1-alpha/2; x+1, n-x), with low = 0 when x = 0 and
high = 1 when x = n. This is SAS PROC FREQ's BINOMIAL "Exact" interval and scipy's
`binomtest(...).proportion_ci(method="exact")`; computed here with the beta quantile function
`scipy.special.betaincinv` (what `scipy.stats.beta.ppf` evaluates, without importing scipy.stats)
because binomtest takes one (x, n) at a time and the tables need many.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def clopper_pearson(x: Any, n: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """The exact 100(1-alpha)% interval for x successes out of n, as proportions (0-1).

    `x` and `n` broadcast (scalars or arrays). n = 0 gives (NaN, NaN). Scalars in, floats out.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    xs, ns = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float))
    bad = ~((xs == np.floor(xs)) & (ns == np.floor(ns)) & (xs >= 0) & (xs <= ns))
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"x and n must be integers with 0 <= x <= n: {int(bad.sum())} invalid pair(s), "
            f"first x={xs[tuple(first)]!r}, n={ns[tuple(first)]!r}"
        )
    from scipy.special import betaincinv  # here: scipy's import is slow, and most commands need no CI

    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(xs == 0, 0.0, betaincinv(xs, ns - xs + 1, alpha / 2))
        high = np.where(xs == ns, 1.0, betaincinv(xs + 1, ns - xs, 1 - alpha / 2))
    empty = ns == 0
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
