"""Flags relative to a reference record (after admiral's `derive_var_relative_flag`): e.g. the
assessments up to and including the first progression."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.derive.basics import _need
from submit.adam.filters import meets, select
from submit.adam.registry import bad_argument, derivation


@derivation
def derive_var_relative_flag(df: pd.DataFrame, ctx, new: str, order: list[str], condition: dict,
                             by: list[str] | None = None, mode: str = "first", selection: str = "before",
                             inclusive: bool = True, flag_no_reference: bool = True,
                             filter: dict | None = None) -> pd.DataFrame:
    """`new` = Y on the records (among those meeting `filter`) of each `by` group (default
    USUBJID) that come `selection` (before / after) the group's reference record in `order`, the
    reference included when `inclusive`. The reference is the `mode` (first / last) record
    meeting `condition`; a group without one is flagged whole when `flag_no_reference`."""
    fn = "derive_var_relative_flag"
    if mode not in ("first", "last"):
        raise bad_argument(fn, "mode", f"must be 'first' or 'last', got {mode!r}")
    if selection not in ("before", "after"):
        raise bad_argument(fn, "selection", f"must be 'before' or 'after', got {selection!r}")
    by = by or ["USUBJID"]
    _need(df, by + order, fn, "by/order", ctx.dataset or "the dataset")
    rows = select(df, filter, fn).sort_values(by + order, kind="stable", na_position="last")
    pos = pd.Series(np.arange(len(rows)), index=rows.index)
    group = rows[by].astype(str).agg("|".join, axis=1) if len(by) > 1 else rows[by[0]]
    hit = meets(rows, condition, fn, "condition")
    ref = pos.where(hit).groupby(group).agg("min" if mode == "first" else "max")
    at = group.map(ref)
    if selection == "before":
        flag = (pos < at) | ((pos == at) & inclusive)
    else:
        flag = (pos > at) | ((pos == at) & inclusive)
    flag = flag | (at.isna() & flag_no_reference)
    out = df.copy()
    out[new] = None
    out.loc[flag[flag].index, new] = "Y"
    return out
