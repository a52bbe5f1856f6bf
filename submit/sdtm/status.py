"""Algorithms of the subject status (SS) and death details (DD) domains."""

from __future__ import annotations

import pandas as pd

from submit.errors import InputError, Problem
from submit.sdtm.algorithms import SourceContext, variable_algorithm


@variable_algorithm
def numbered_visit(ctx: SourceContext, column: str, label: str, base: int, field: str) -> pd.Series:
    """VISIT (`field: name`, "<label> n") or VISITNUM (`field: num`, base + n) of a visit numbered
    on the CRF outside the EDC visit codes, e.g. the n-th survival follow-up contact. `base` keeps
    the numbers clear of the cycle visits (1 screening, 100k+d core, 1000+ retreatment, 9000+
    unscheduled), so VISITNUM stays unique per subject and sorts after the core study."""
    if field not in ("name", "num"):
        raise InputError(f"Mapping of {ctx.domain}.{ctx.target}",
                         [Problem("mapping", f"numbered_visit: field must be name or num, not {field!r}")])
    if not isinstance(base, int) or isinstance(base, bool) or base < 0:
        raise InputError(f"Mapping of {ctx.domain}.{ctx.target}",
                         [Problem("mapping", f"numbered_visit: base must be a non-negative integer, not {base!r}")])
    n = pd.to_numeric(ctx.column(column), errors="coerce")
    bad = ctx.column(column).notna() & (n.isna() | (n < 1) | (n % 1 != 0))
    if bad.any():
        ctx.report(bad, column, "visit number is not a positive integer")
    n = n.where(~bad)
    if field == "num":
        return (base + n).astype(float)
    return (label + " " + n.astype("Int64").astype("string")).astype(object).where(n.notna())
