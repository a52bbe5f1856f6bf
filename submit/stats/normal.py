"""The standard normal quantile, the function `scipy.stats.norm.ppf` evaluates (`scipy.special.ndtri`),
without importing scipy.stats (over a second at startup) for the one number a CI needs."""

from __future__ import annotations


def normal_quantile(p: float) -> float:
    """z with P(Z <= z) = p for a standard normal Z (0 < p < 1)."""
    from scipy.special import ndtri

    return float(ndtri(p))
