"""Analysis of covariance: least-squares means per group and their differences against a reference.

`ancova(response, group, reference, covariates=None)` -> Ancova
    Ordinary least squares of response ~ group + covariates (statsmodels OLS; group as a categorical
    with `reference` as the baseline; no interactions), as SAS PROC GLM / MIXED with
    `LSMEANS group / DIFF CL` and R `lm` + `emmeans`. Rows with any value missing are left out
    (complete cases, as both do).

    LS means follow the SAS default (and emmeans'): each numeric covariate at its mean over the rows
    analysed; each categorical covariate (text, category or boolean dtype) with equal weight on each
    of its levels, whatever their frequencies (SAS's OBSMARGINS / OM option, weighting by observed
    frequencies, is not the default and is not done here). CIs and p-values use the t distribution
    with the residual degrees of freedom.

    `lsmeans` has one row per group (reference first): `level`, `n`, `lsmean`, `lsmean_se`,
    `lsmean_ci_low`, `lsmean_ci_high`. `differences` has one row per non-reference group:
    `level`, `reference`, `lsmean_diff`, `lsmean_diff_se`, `lsmean_diff_ci_low`,
    `lsmean_diff_ci_high`, `p_value` (two-sided t test of no difference). Also `df_resid`, `n`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from submit.errors import Problem
from submit.stats._inputs import as_arrays, check_alpha, group_levels, raise_if


@dataclass(frozen=True, eq=False)
class Ancova:
    """LS means and their differences against `reference`; see the module docstring."""

    lsmeans: pd.DataFrame
    differences: pd.DataFrame
    reference: Any
    df_resid: float
    n: int
    alpha: float = 0.05


def ancova(
    response: Any,
    group: Any,
    reference: Any,
    covariates: pd.DataFrame | Mapping[str, Any] | None = None,
    *,
    levels: Any = None,
    alpha: float = 0.05,
    source: str = "analysis data",
) -> Ancova:
    """Fit response ~ group + covariates and estimate LS means (see the module docstring)."""
    check_alpha(alpha)
    named = pd.DataFrame(dict(covariates)) if covariates is not None else pd.DataFrame()
    arrays = as_arrays(response=response, group=group, **{f"covariate {name}": named[name] for name in named})
    given = pd.Series(arrays["response"])
    frame = pd.DataFrame({"response": pd.to_numeric(given, errors="coerce"), "group": arrays["group"]})
    not_numbers = frame["response"].isna() & given.notna()
    numeric_problems = []
    if not_numbers.any():
        message = f"{int(not_numbers.sum())} response value(s) are not numbers"
        numeric_problems.append(Problem(source, message, column="response"))
    for name in named:
        frame[name] = named[name].to_numpy()
    frame = frame.dropna().reset_index(drop=True)
    level_problems, ordered = group_levels(source, frame["group"].to_numpy(), reference, levels)
    categorical = [
        name
        for name in named
        if not pd.api.types.is_numeric_dtype(named[name]) or pd.api.types.is_bool_dtype(named[name])
    ]
    problems = [
        Problem(source, f"covariate {name} has a single level among the rows analysed", column=name)
        for name in categorical
        if frame[name].nunique() < 2
    ]
    raise_if(numeric_problems + level_problems + problems, "the ANCOVA", source)

    # Design: intercept, one indicator per non-reference group, numeric covariates, and for each
    # categorical covariate one indicator per level but its first (sorted) one.
    columns = {"intercept": np.ones(len(frame))}
    columns |= {f"group={level}": (frame["group"] == level).to_numpy(float) for level in ordered[1:]}
    balanced = {"intercept": 1.0}  # the LS-mean row common to every group
    for name in named:
        if name in categorical:
            covariate_levels = sorted(frame[name].unique(), key=str)
            for level in covariate_levels[1:]:
                columns[f"{name}={level}"] = (frame[name] == level).to_numpy(float)
                balanced[f"{name}={level}"] = 1 / len(covariate_levels)
        else:
            columns[name] = frame[name].to_numpy(float)
            balanced[name] = float(frame[name].mean())
    design = pd.DataFrame(columns)
    from statsmodels.regression.linear_model import OLS  # here: statsmodels' import is slow

    fit = OLS(frame["response"].to_numpy(float), design).fit()

    common = design.columns.map(lambda column: balanced.get(column, 0.0)).to_numpy(float)
    rows = np.tile(common, (len(ordered), 1))
    for i, level in enumerate(ordered[1:], start=1):
        rows[i, design.columns.get_loc(f"group={level}")] = 1.0
    means = fit.t_test(rows)
    contrasts = rows[1:] - rows[0]
    diffs = fit.t_test(contrasts)
    mean_ci, diff_ci = means.conf_int(alpha=alpha), diffs.conf_int(alpha=alpha)
    lsmeans = pd.DataFrame(
        {
            "level": ordered,
            "n": frame["group"].value_counts().reindex(ordered).astype(int).to_numpy(),
            "lsmean": np.ravel(means.effect),
            "lsmean_se": np.ravel(means.sd),
            "lsmean_ci_low": mean_ci[:, 0],
            "lsmean_ci_high": mean_ci[:, 1],
        }
    )
    differences = pd.DataFrame(
        {
            "level": ordered[1:],
            "reference": reference,
            "lsmean_diff": np.ravel(diffs.effect),
            "lsmean_diff_se": np.ravel(diffs.sd),
            "lsmean_diff_ci_low": diff_ci[:, 0],
            "lsmean_diff_ci_high": diff_ci[:, 1],
            "p_value": np.ravel(diffs.pvalue),
        }
    )
    return Ancova(
        lsmeans=lsmeans,
        differences=differences,
        reference=reference,
        df_resid=float(fit.df_resid),
        n=len(frame),
        alpha=alpha,
    )
