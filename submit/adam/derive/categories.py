"""Variables set by an ordered table of conditions (admiral's derive_vars_cat): groupings such as
AGEGR1, REGION1 or a cause-of-death category, and flags such as DTH30FL, stated in the spec as
data. The first condition a record meets sets its values; a record meeting none gets `otherwise`.

    derive_vars_cat:
      definition:
        - {when: {AGE: {lt: 18}}, set: {AGEGR1: "<18", AGEGR1N: 1}}
        - {when: {AGE: {ge: 18, le: 64}}, set: {AGEGR1: 18-64, AGEGR1N: 2}}
        - {when: {AGE: {gt: 64}}, set: {AGEGR1: ">64", AGEGR1N: 3}}
      otherwise: {AGEGR1: Missing}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.filters import meets
from submit.adam.registry import bad_argument, derivation

FN = "derive_vars_cat"


def _row(entry, i: int) -> tuple[dict, dict]:
    if not isinstance(entry, dict) or set(entry) != {"when", "set"} or not isinstance(entry["set"], dict) \
            or not entry["set"]:
        raise bad_argument(FN, f"definition[{i}]", f"is {{when: a filter, set: {{VARIABLE: value}}}}, got {entry!r}")
    return entry["when"], entry["set"]


@derivation
def derive_vars_cat(df: pd.DataFrame, ctx, definition: list[dict], otherwise: dict | None = None) -> pd.DataFrame:
    """The variables named in `definition` (a list of {when: filter, set: {VARIABLE: value}}), each
    record taking the values of the first entry whose filter it meets; `otherwise` (or missing)
    for a record meeting none. A variable an entry does not set stays missing for its records."""
    if not isinstance(definition, list) or not definition:
        raise bad_argument(FN, "definition", "must be a non-empty list of {when, set}")
    if otherwise is not None and not isinstance(otherwise, dict):
        raise bad_argument(FN, "otherwise", f"must be a mapping {{VARIABLE: value}}, got {otherwise!r}")
    rows = [_row(entry, i) for i, entry in enumerate(definition)]
    names = list(dict.fromkeys([n for _, values in rows for n in values] + list(otherwise or {})))
    taken = np.zeros(len(df), bool)
    columns = {n: np.full(len(df), None, dtype=object) for n in names}
    for i, (when, values) in enumerate(rows):
        hit = meets(df, when, FN, f"definition[{i}].when").to_numpy() & ~taken
        for n in names:
            columns[n][hit] = values.get(n)
        taken |= hit
    for n, value in (otherwise or {}).items():
        columns[n][~taken] = value
    out = df.copy()
    for n, column in columns.items():
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in column if v is not None)
        out[n] = pd.to_numeric(pd.Series(column, index=df.index)) if numeric and any(v is not None for v in column) \
            else pd.Series(column, index=df.index, dtype=object)
    return out
