"""Statistics by visit: a value (AVAL) and its change from baseline (CHG) at each visit, per
treatment column (vital signs, laboratory values over time).

    analysis:
      kind: by_visit
      dataset: ADVS
      where: {PARAMCD: SYSBP, ANL01FL: Y}     # one record per subject and visit
      visit: AVISIT                          # ordered by visit_order (default AVISITN when present)
      values: [AVAL, CHG]                    # default
      stats: [n, mean, sd, median, min, max] # default n mean sd min q1 median q3 max
      parameter: PARAMCD                     # optional: several parameters in one output
      columns: {by: [TRT01A], total: false}

ARD: variable = the value's name (`AVAL`, `CHG`; with `parameter`: `<parameter value> | <value>`,
e.g. `SYSBP | CHG`), variable_level = the visit (`Week 2`), one record per statistic and column.
`compare: {reference: Placebo, value: CHG, covariates: [BASE]}` adds at each visit the ANCOVA of
`value` (LS means and their differences against the reference arm; comparisons.py) as records of
that value's variable.

A value's visits are those where it has a non-missing value in some column (CHG: the post-baseline
visits), in visit order; each such visit has every column (n = 0 and missing statistics where a
column has none). BIGN: the column's subjects. A subject with two records of one visit (and
parameter) is an error naming it: the filter must select one (e.g. ANL01FL, ATPTN or DTYPE).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from submit.errors import DataCheckError, InputError, Problem
from submit.stats import summarize, to_long
from submit.tlf.analysis.comparisons import STAT_LABELS as COMPARISON_LABELS
from submit.tlf.analysis.comparisons import VisitComparison, ancova_comparisons
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import ColumnsSpec, Filter, Name, records, table_columns
from submit.tlf.analysis.summary import ARITHMETIC, assemble, big_n

Stat = Literal["n", "mean", "sd", "cv", "min", "q1", "median", "q3", "max", "geo_n", "geo_mean", "geo_cv"]
LEVEL_SEPARATOR = " | "


def by_visit(data: AdamData, shell, visit: Name, values: tuple[Name, ...] = ("AVAL", "CHG"),
             dataset: Name = "ADVS", where: Filter | None = None, visit_order: Name | None = None,
             parameter: Name | None = None, stats: tuple[Stat, ...] = ARITHMETIC,
             columns: ColumnsSpec = ColumnsSpec(), compare: VisitComparison | None = None) -> pd.DataFrame:
    """Statistics of each of `values` per visit and column (module docstring)."""
    source = shell.source or f"TLF shell {shell.id}"
    cols = table_columns(data, shell, columns)
    if visit_order is None:
        visit_order = f"{visit}N" if f"{visit}N" in data.frame_columns(dataset) else visit
    keys = ["USUBJID", *([parameter] if parameter else [])]
    covariates = list(compare.covariates) if compare is not None else []
    if compare is not None and compare.value not in values:
        raise InputError(f"{source}: the compared value is not shown",
                         [Problem(source, f"compare.value {compare.value} is not one of values ({', '.join(values)})",
                                  key=f"id {shell.id}.analysis.compare.value")])
    recs = records(data, dataset, list(dict.fromkeys([*keys, visit, visit_order, *values, *covariates])), where,
                   what=source)
    recs = recs[(recs[visit] != "") & recs["USUBJID"].isin(cols.members["USUBJID"])]
    _one_per_visit(source, dataset, recs, [*keys, visit])
    recs = cols.attach(recs)
    parts = [big_n(cols)]
    for param, group in (recs.groupby(parameter, sort=True) if parameter else [(None, recs)]):
        for value in values:
            name = f"{param}{LEVEL_SEPARATOR}{value}" if parameter else value
            parts.append(_visit_stats(group, cols.count, name, value, visit, visit_order, stats))
            if compare is not None and value == compare.value:
                parts.append(ancova_comparisons(data, cols, group, name, visit, compare, source))
    return assemble(shell.id, cols, parts, labels=COMPARISON_LABELS)


def _one_per_visit(source: str, dataset: str, recs: pd.DataFrame, keys: list[str]) -> None:
    repeated = recs.duplicated(keys, keep=False)
    if repeated.any():
        shown = recs.loc[repeated, keys].drop_duplicates().head(20)
        raise DataCheckError(f"{source}: {dataset} has more than one record per subject and visit", [
            Problem(source, f"{', '.join(f'{k}={v}' for k, v in zip(keys, row))}: several records; make `where` "
                            "select one (e.g. ANL01FL, ATPTN, DTYPE)", key="where")
            for row in shown.itertuples(index=False)])


def _visit_stats(recs: pd.DataFrame, n_columns: int, variable: str, value: str, visit: str, visit_order: str,
                 stats) -> pd.DataFrame:
    present = recs[recs[value].notna()]
    # visits in order of their (first) ordering value; a visit's name alone when it has no twin
    order = present.groupby(visit, sort=True)[visit_order].min().sort_values(kind="stable")
    frame = pd.DataFrame({"col": pd.Categorical(recs["col"], categories=range(n_columns)),
                          "visit": pd.Categorical(recs[visit].where(recs[visit].isin(order.index)), categories=list(order.index)),
                          "x": pd.to_numeric(recs[value])})
    long = to_long(summarize(frame, "x", by=["visit", "col"]), by=["visit", "col"])
    long = long[long["stat_name"].isin(stats) & long["visit"].notna()]
    rank = {s: i for i, s in enumerate(stats)}
    long = long.assign(_s=long["stat_name"].map(rank)).sort_values(["visit", "col", "_s"], kind="stable")
    return pd.DataFrame({"col": long["col"].astype(np.int64).to_numpy(), "variable": variable,
                         "variable_level": long["visit"].astype(str).to_numpy(dtype=object),
                         "stat_name": long["stat_name"].to_numpy(), "stat": long["stat"].astype(float).to_numpy()})
