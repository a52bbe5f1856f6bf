"""Shift tables: subjects by baseline category (rows) and post-baseline category (columns within
each treatment column), e.g. laboratory normal-range indicators BNRIND -> ANRIND.

    analysis:
      kind: shift
      dataset: ADLB
      where: {ANL01FL: Y, PARAMCD: {in: [ALT, AST]}}   # the post-baseline records
      parameter: PARAMCD        # optional: one shift per value of it (rows per parameter)
      baseline: BNRIND          # baseline category, read from the record chosen below
      post: ANRIND              # post-baseline category
      levels: [LOW, NORMAL, HIGH]                       # every category, in display order
      post_rule: worst          # worst (default) | last
      worst: [HIGH, LOW]        # post_rule worst: categories from the worst; unlisted ones rank after
      order: [ADT]              # post_rule last: the record last in this order (default ADT)
      missing: Missing          # category of a blank value (null: such subjects are left out)
      columns: {by: [TRT01A], total: false}

Each subject counts once per parameter, in the column of its treatment group: its post-baseline
category is that of its worst record (the first category of `worst` it has; a blank value ranks
last) or of its last record by `order`; its baseline category is the `baseline` value of that same
record (ADaM carries it on every post-baseline record). A shift at one visit is `post_rule: last`
with the visit in `where`.

ARD: a column holds one treatment group and one post-baseline category: group `<by> | <post>`,
group_level `<level> | <category>` (`TRT01A | ANRIND`, `Placebo | HIGH`; the overall column
`ANRIND`, `Total | HIGH`), plus the category `Total` (every post-baseline category together). Rows:
variable = the parameter value (`ALT`; the `baseline` variable name without `parameter`),
variable_level = the baseline category (`LOW`, ..., `Missing`), and the baseline `Total`. Each cell
has n, N and p = n / N, N being the subjects of the treatment column counted for that parameter
(those with a post-baseline record meeting `where`): an arm's cells of a parameter add up to 100%.
Every category (and `missing`) is present for every column, n = 0 included. BIGN of each column is
the number of subjects of its treatment column.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import ColumnsSpec, Filter, Name, records, table_columns
from submit.tlf.analysis.summary import assemble, columns_from, long_rows

ROW_TOTAL = "Total"  # the category of every baseline (rows) or post-baseline (columns) category together


def shift(data: AdamData, shell, baseline: Name, post: Name, levels: tuple[str, ...],
          dataset: Name = "ADLB", where: Filter | None = None, parameter: Name | None = None,
          post_rule: Literal["worst", "last"] = "worst", worst: tuple[str, ...] | None = None,
          order: tuple[Name, ...] = ("ADT",), missing: str | None = "Missing",
          columns: ColumnsSpec = ColumnsSpec()) -> pd.DataFrame:
    """Subjects by baseline and post-baseline category per treatment column (module docstring)."""
    source = shell.source or f"TLF shell {shell.id}"
    _check_spec(source, levels, post_rule, worst, missing)
    cols = table_columns(data, shell, columns)
    keys = ["USUBJID", *([parameter] if parameter else [])]
    wanted = [*keys, baseline, post, *(order if post_rule == "last" else ())]
    recs = records(data, dataset, wanted, where, what=source)
    recs = recs[recs["USUBJID"].isin(cols.members["USUBJID"])]
    _check_categories(source, dataset, recs, (baseline, post), levels)

    chosen = _post_record(recs, keys, post, post_rule, levels, worst or (), order)
    categories = [*levels, *([missing] if missing is not None else [])]
    base_cat, post_cat = (chosen[v].replace("", missing) if missing is not None else chosen[v] for v in (baseline, post))
    chosen = pd.DataFrame({"USUBJID": chosen["USUBJID"].to_numpy(),
                           "_param": chosen[parameter].to_numpy() if parameter else baseline,
                           "_base": base_cat.to_numpy(), "_post": post_cat.to_numpy()})
    chosen = chosen[chosen["_base"].isin(categories) & chosen["_post"].isin(categories)]
    stacked = cols.attach(chosen)
    params = sorted(stacked["_param"].unique()) if parameter else [baseline]
    if not params:
        raise InputError(f"{source}: no post-baseline records to shift",
                         [Problem(source, f"no {dataset} record of the population meets `where`", key="where")])
    return _ard(shell.id, cols, stacked, params, categories, post)


def _check_spec(source: str, levels, post_rule, worst, missing) -> None:
    problems = []
    if not levels:
        problems.append(Problem(source, "shift: give levels, the categories in display order", key="levels"))
    if post_rule == "worst" and not worst:
        problems.append(Problem(source, "shift: post_rule worst needs `worst`, the categories from the worst",
                                key="worst"))
    unknown = [w for w in worst or () if w not in levels]
    if unknown:
        problems.append(Problem(source, f"shift: worst names categories not in levels: {', '.join(unknown)}",
                                key="worst"))
    if missing is not None and missing in (*levels, ROW_TOTAL):
        problems.append(Problem(source, f"shift: missing {missing!r} is also a category (or {ROW_TOTAL})",
                                key="missing"))
    if ROW_TOTAL in levels:
        problems.append(Problem(source, f"shift: {ROW_TOTAL!r} is reserved for the totals", key="levels"))
    if problems:
        raise InputError("shift analysis is not specified completely", problems)


def _check_categories(source: str, dataset: str, recs: pd.DataFrame, variables, levels) -> None:
    problems = []
    for variable in variables:
        values = recs[variable]
        other = sorted(set(values.unique()) - set(levels) - {""})
        if other:
            problems.append(Problem(source, f"shift: {dataset} {variable} has values not in levels: "
                                            f"{', '.join(map(repr, other))}", key="levels", column=variable))
    if problems:
        raise InputError("shift categories do not cover the data", problems)


def _post_record(recs: pd.DataFrame, keys: list[str], post: str, post_rule: str, levels, worst, order) -> pd.DataFrame:
    """The record deciding each subject's (and parameter's) post-baseline category."""
    if post_rule == "worst":
        # rank: position in `worst`, then the other levels in display order, blank last
        rank = {lv: i for i, lv in enumerate([*worst, *(lv for lv in levels if lv not in worst)])}
        ranked = recs.assign(_rank=recs[post].map(rank).fillna(len(rank)))
        return ranked.sort_values([*keys, "_rank"], kind="stable").drop_duplicates(keys, keep="first")
    return recs.sort_values([*keys, *order], kind="stable", na_position="first").drop_duplicates(keys, keep="last")


def _ard(output: str, cols, stacked: pd.DataFrame, params: list[str], categories: list[str],
         post: str) -> pd.DataFrame:
    rows_cat = [*categories, ROW_TOTAL]
    post_cat = [*categories, ROW_TOTAL]
    n_post = len(post_cat)
    # n per (treatment column, parameter, baseline, post): every combination, zeros included
    both = pd.concat([stacked, stacked.assign(_base=ROW_TOTAL), stacked.assign(_post=ROW_TOTAL),
                      stacked.assign(_base=ROW_TOTAL, _post=ROW_TOTAL)], ignore_index=True)
    key = pd.DataFrame({"col": pd.Categorical(both["col"], categories=range(cols.count)),
                        "param": pd.Categorical(both["_param"], categories=params),
                        "base": pd.Categorical(both["_base"], categories=rows_cat),
                        "post": pd.Categorical(both["_post"], categories=post_cat)})
    n = key.groupby(["param", "base", "col", "post"], observed=False).size()
    codes = n.index.codes
    col, post_i = codes[2].astype(np.int64), codes[3].astype(np.int64)
    subjects = (stacked.groupby([pd.Categorical(stacked["col"], categories=range(cols.count)),
                                 pd.Categorical(stacked["_param"], categories=params)], observed=False)
                .size().to_numpy().reshape(cols.count, len(params)))
    total = subjects[col, codes[0]].astype(float)
    counts = n.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, counts / total, np.nan)
    wide_col = col * n_post + post_i
    labels = [_label(g, lv, post, c) for g, lv in cols.labels.itertuples(index=False) for c in post_cat]
    wide = columns_from(labels, [])
    params_arr = np.asarray(params, dtype=object)
    cells = [long_rows(wide_col[i], params_arr[codes[0][i]][0], np.asarray(rows_cat, dtype=object)[codes[1][i]],
                       {"n": counts[i], "N": total[i], "p": p[i]})
             for i in _blocks(codes[0])]
    header = long_rows(np.arange(wide.count), "BIGN", "", {"N": np.repeat(cols.n, n_post)})
    return assemble(output, wide, [header, *cells])


def _blocks(param_codes: np.ndarray) -> list[np.ndarray]:
    """Row positions of each parameter (the result is parameter-major)."""
    return [np.flatnonzero(param_codes == k) for k in np.unique(param_codes)]


def _label(group: str, level: str, post: str, category: str) -> tuple[str, str]:
    return (f"{group} | {post}" if group else post), f"{level} | {category}"
