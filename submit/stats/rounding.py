"""SAS-style rounding and the display formats of the TLFs.

Convention (the one of the SAS ROUND function, which regulatory tables are compared against):
round half away from zero, with the halfway test made on the decimal number the value stands for,
not on its binary approximation. 2.675 is stored as 2.67499999999999982236431605997495353221893310546875,
so round-half-even and naive `floor(x * 100 + 0.5)` give 2.67; SAS (and this module) give 2.68.
A value counts as halfway when it lies within a relative 1e-12 of the halfway point (SAS documents
its own ROUND as "fuzzed" to agree with decimal arithmetic; 1e-12 is the tolerance SAS uses for
approximate equality in that documentation). Genuinely non-halfway values are never moved: binary
noise is ~1e-16 relative, far below the tolerance, and no displayed statistic sits within 1e-12 of
a half by anything but noise.

Rounding is for display only; the ARD keeps unrounded values. NaN stays NaN; -0 is printed as 0.

Why not Python's `round` or `numpy.round`: both round half to even on the binary value.
Why not `decimal`: it rounds the exact binary expansion (2.675 -> 2.67 unless converted through
`repr`), and works one Python object at a time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

HALFWAY_TOLERANCE = 1e-12  # relative; see module docstring
MISSING = "NE"  # "not estimable", the usual placeholder in oncology tables


def sas_round(x: Any, digits: int = 0) -> Any:
    """Round half away from zero to `digits` decimals, robust to binary representation error.

    Scalars give a float; numpy arrays an array; pandas Series a Series with the same index.
    """
    if not isinstance(digits, (int, np.integer)) or digits < 0 or digits > 15:
        raise ValueError(f"digits must be an integer from 0 to 15, got {digits!r}")
    if isinstance(x, pd.Series):
        return pd.Series(_round_array(x.to_numpy(dtype=float), int(digits)), index=x.index, name=x.name)
    values = np.asarray(x, dtype=float)
    rounded = _round_array(values, int(digits))
    return float(rounded) if rounded.ndim == 0 else rounded


def _round_array(values: np.ndarray, digits: int) -> np.ndarray:
    unit = 10.0**digits  # exact in binary for digits <= 22
    with np.errstate(invalid="ignore"):
        scaled = np.abs(values) * unit
        whole = np.floor(scaled)
        fraction = scaled - whole  # exact (Sterbenz)
        up = fraction >= 0.5 - HALFWAY_TOLERANCE * np.maximum(scaled, 1.0)
        # An exact integer divided by an exact power of ten is the double nearest the decimal result.
        result = np.copysign((whole + up) / unit, values)
    return result + 0.0  # -0.0 -> 0.0


def fmt_num(x: float | None, digits: int, missing: str = MISSING) -> str:
    """A number rounded SAS-style and printed with exactly `digits` decimals; `missing` for NaN/None."""
    if _is_missing(x):
        return missing
    return f"{sas_round(float(x), digits):.{digits}f}"


def fmt_pct(p: float | None, digits: int = 1, missing: str = MISSING) -> str:
    """A proportion (0-1) printed as a percentage: 0.69444 -> "69.4"."""
    return missing if _is_missing(p) else fmt_num(float(p) * 100.0, digits)


def fmt_n_pct(n: int, p: float | None, digits: int = 1, zero_pct: bool = False) -> str:
    """A count and its proportion: (25, 0.69444) -> "25 (69.4)".

    A zero count prints as "0" alone (the usual shell convention) unless `zero_pct`; a count whose
    proportion is missing (empty denominator) prints alone too.
    """
    if (n == 0 and not zero_pct) or _is_missing(p):
        return f"{int(n)}"
    return f"{int(n)} ({fmt_pct(p, digits)})"


def fmt_ci(
    low: float | None, high: float | None, digits: int, percent: bool = False, missing: str = MISSING
) -> str:
    """A confidence interval "low, high"; `percent` scales proportions by 100; `missing` per limit."""
    scale = 100.0 if percent else 1.0
    parts = [missing if _is_missing(v) else fmt_num(float(v) * scale, digits) for v in (low, high)]
    return ", ".join(parts)


def fmt_est_ci(
    est: float | None,
    low: float | None,
    high: float | None,
    digits: int,
    percent: bool = False,
    missing: str = MISSING,
) -> str:
    """An estimate with its interval: "69.4 (51.9, 83.7)"; a median not reached prints `missing`."""
    scale = 100.0 if percent else 1.0
    head = missing if _is_missing(est) else fmt_num(float(est) * scale, digits)
    return f"{head} ({fmt_ci(low, high, digits, percent, missing)})"


def fmt_mean_sd(mean: float | None, sd: float | None, digits: int, missing: str = MISSING) -> str:
    """Mean (SD), the SD with one decimal more than the mean (the common shell rule): "12.3 (4.56)".

    A single observation has no SD; it prints `missing` in the parentheses.
    """
    return f"{fmt_num(mean, digits, missing)} ({fmt_num(sd, digits + 1, missing)})"


def fmt_range(low: float | None, high: float | None, digits: int, missing: str = MISSING) -> str:
    """Min, max or Q1, Q3 as "low, high" (no percent scaling)."""
    return fmt_ci(low, high, digits, percent=False, missing=missing)


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        raise TypeError(f"not a number: {x!r}") from None
