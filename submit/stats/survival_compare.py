"""Comparing time to event between randomized groups: log-rank test and Cox hazard ratios.

Inputs are plain arrays of one value per subject: `time` (>= 0), `event` (1 = event, 0 = censored;
pass `1 - CNSR` from ADTTE), `group` (e.g. TRT01P) and optional `strata` (one label per subject;
combine several stratification factors into one label first).

`log_rank(time, event, group, strata=None)` -> LogRank
    The log-rank test of k >= 2 groups, R `survival::survdiff(rho = 0)` and SAS PROC LIFETEST
    STRATA (unstratified) / STRATA ... / GROUP= (stratified: O - E and its covariance summed over
    strata). Computed by `statsmodels.duration.survfunc.survdiff`, which equals survdiff to 1e-9
    (tests/test_stats_compare.py). ARD stat names: `chisq`, `df`, `p_value`.

`cox_ph(time, event, group, reference, strata=None)` -> CoxPH
    Proportional hazards model with the group as a categorical covariate (one indicator per level
    other than `reference`), ties by Breslow (SAS PROC PHREG's default; R `coxph(ties = "breslow")`),
    optional strata (separate baseline hazards). Fitted by `statsmodels` PHReg. `hazard_ratios` has
    one row per non-reference level: `level`, `reference`, `hr`, `hr_ci_low`, `hr_ci_high` (Wald,
    exp(b -/+ z se)), `p_value` (Wald), `log_hr`, `se`. Global tests of all levels at once (df = k - 1):
    `wald_chisq`/`wald_p_value`, `lr_chisq`/`lr_p_value` (likelihood ratio), `score_chisq`/
    `score_p_value` (equals the log-rank test for a single categorical covariate with Breslow ties
    and no tied events). Also `n`, `events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from submit.errors import Problem
from submit.stats._inputs import (
    as_arrays,
    check_alpha,
    group_levels,
    missing_problems,
    raise_if,
    time_event_problems,
)

# Newton-Raphson until the step is this small: the coefficients of R's coxph (which stops on a
# relative log-likelihood change of 1e-9) agree to ~1e-8 and better (tests/test_stats_compare.py).
COX_TOL = 1e-12


@dataclass(frozen=True)
class LogRank:
    """The log-rank test: chi-square with `df` = groups - 1 and its p-value; `groups` in the order
    of `n` and `events` (subjects and events per group)."""

    chisq: float
    df: int
    p_value: float
    groups: tuple[Any, ...]
    n: tuple[int, ...]
    events: tuple[int, ...]
    stratified: bool
    method: str = "log-rank"


@dataclass(frozen=True, eq=False)
class CoxPH:
    """A fitted Cox model of the group: see the module docstring for the fields."""

    hazard_ratios: pd.DataFrame
    reference: Any
    wald_chisq: float
    wald_p_value: float
    lr_chisq: float
    lr_p_value: float
    score_chisq: float
    score_p_value: float
    df: int
    n: int
    events: int
    stratified: bool
    alpha: float = 0.05
    ties: str = "breslow"


def log_rank(
    time: Any, event: Any, group: Any, strata: Any = None, *, source: str = "time-to-event data"
) -> LogRank:
    """The (stratified when `strata` is given) log-rank test of equal survival in every group."""
    times, events, groups, stratum, levels = _checked(
        time, event, group, strata, None, None, source, "the log-rank test"
    )
    from statsmodels.duration.survfunc import survdiff  # slow import: only here

    chisq, p_value = survdiff(times, events, groups, strata=stratum)
    at = pd.Series(groups)
    n = at.value_counts().reindex(levels).astype(int)
    n_events = pd.Series(events).groupby(at).sum().reindex(levels).astype(int)
    return LogRank(
        chisq=float(chisq),
        df=len(levels) - 1,
        p_value=float(p_value),
        groups=tuple(levels),
        n=tuple(n.tolist()),
        events=tuple(n_events.tolist()),
        stratified=stratum is not None,
    )


def cox_ph(
    time: Any,
    event: Any,
    group: Any,
    reference: Any,
    strata: Any = None,
    *,
    levels: Any = None,
    alpha: float = 0.05,
    source: str = "time-to-event data",
) -> CoxPH:
    """Hazard ratio of each group level against `reference` (Breslow ties, optional strata).

    `levels` orders the rows of `hazard_ratios` (default: observed levels sorted). Every level needs
    at least one event, else its hazard ratio does not exist (InputError).
    """
    check_alpha(alpha)
    times, events, groups, stratum, ordered = _checked(
        time, event, group, strata, reference, levels, source, "the Cox model"
    )
    compared = ordered[1:]
    no_events = [level for level in ordered if not events[groups == level].any()]
    raise_if(
        [
            Problem(
                source, f"group {level!r} has no events: its hazard ratio is not estimable", column="event"
            )
            for level in no_events
        ],
        "the Cox model",
        source,
    )
    design = np.column_stack([(groups == level).astype(float) for level in compared])
    from scipy.stats import chi2, norm  # slow imports: only here
    from statsmodels.duration.hazard_regression import PHReg

    model = PHReg(times, design, status=events, strata=stratum, ties="breslow")
    fit = model.fit(tol=COX_TOL)
    beta = np.asarray(fit.params, dtype=float)
    cov = np.asarray(fit.cov_params(), dtype=float)
    se = np.sqrt(np.diag(cov))
    z = norm.ppf(1 - alpha / 2)
    hazard_ratios = pd.DataFrame(
        {
            "level": compared,
            "reference": reference,
            "hr": np.exp(beta),
            "hr_ci_low": np.exp(beta - z * se),
            "hr_ci_high": np.exp(beta + z * se),
            "p_value": 2 * norm.sf(np.abs(beta / se)),
            "log_hr": beta,
            "se": se,
        }
    )
    df = len(compared)
    null = np.zeros(df)
    score = model.score(null)
    information = -model.hessian(null)
    wald_chisq = float(beta @ np.linalg.solve(cov, beta))
    lr_chisq = float(2 * (model.loglike(beta) - model.loglike(null)))
    score_chisq = float(score @ np.linalg.solve(information, score))
    return CoxPH(
        hazard_ratios=hazard_ratios,
        reference=reference,
        wald_chisq=wald_chisq,
        wald_p_value=float(chi2.sf(wald_chisq, df)),
        lr_chisq=lr_chisq,
        lr_p_value=float(chi2.sf(lr_chisq, df)),
        score_chisq=score_chisq,
        score_p_value=float(chi2.sf(score_chisq, df)),
        df=df,
        n=len(times),
        events=int(events.sum()),
        stratified=stratum is not None,
        alpha=alpha,
    )


def _checked(
    time: Any, event: Any, group: Any, strata: Any, reference: Any, levels: Any, source: str, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, list[Any]]:
    arrays = as_arrays(time=time, event=event, group=group, strata=strata)
    problems, times, events = time_event_problems(source, arrays["time"], arrays["event"])
    labels = {name: arrays[name] for name in ("group", "strata") if name in arrays}
    problems += missing_problems(source, **labels)
    level_problems, ordered = group_levels(source, arrays["group"], reference, levels)
    raise_if(problems + level_problems, what, source)
    return times, events, arrays["group"], arrays.get("strata"), ordered
