"""Kaplan-Meier estimation with the conventions of SAS PROC LIFETEST (METHOD=KM, CONFTYPE=LOGLOG).

Rules implemented (SAS/STAT User's Guide, "The LIFETEST Procedure", Details: "Breslow,
Fleming-Harrington, and Kaplan-Meier Methods" and "Pointwise Confidence Limits in the OUTSURV= Data
Set", support.sas.com/documentation/cdl/en/statug/68162/HTML/default/statug_lifetest_details03.htm
and ..._details08.htm):

* Product-limit estimate at the distinct event times t_1 < ... < t_D: S(t_i) = prod_{j<=i}(1 - d_j/Y_j),
  right-continuous (events at t_i included in S(t_i)). Y_j counts every subject whose time is >= t_j,
  so a subject censored at an event time is still at risk there (events precede censorings).
* Greenwood standard error: se(t_i) = S(t_i) * sqrt(sum_{j<=i} d_j / (Y_j (Y_j - d_j))); 0 where S = 0.
* Pointwise CI, log-log transform g(x) = log(-log x): S^exp(+z*tau) to S^exp(-z*tau) with
  tau = se / (S |log S|) and z the 1 - alpha/2 normal quantile. (1, 1) where S = 1; NaN where S = 0
  (the transform is undefined there).
* Percentiles: q_p = min{t_i : S(t_i) < 1 - p}; if S equals 1 - p exactly from t_i up to the next
  event time t_{i+1}, q_p = (t_i + t_{i+1}) / 2; NaN if S never falls below 1 - p. "Exactly" is
  taken within 1e-12, since S is a floating-point product (3/4 * 2/3 may miss 0.5 by an ulp).
* Percentile CI (Brookmeyer and Crowley 1982, generalised with the g-transform as in Klein and
  Moeschberger 1997): the set of t with |g(S(t)) - g(1 - p)| <= z * |g'(S(t))| * se(t). S is a step
  function, so the set is a union of [t_i, t_{i+1}); the interval printed by SAS as [Lower, Upper) is
  Lower = the first event time in the set, Upper = the event time following the last one in the set,
  NaN ("not reached") when the set runs to the last event time; (NaN, NaN) for an empty set.
  Check: the SAS documentation's worked example (bone-marrow transplant data, ALL group, 25th
  percentile, LOGLOG) gives [86, 230); tests/test_stats.py reproduces it.

Why not lifelines: its survival and log-log ("exponential Greenwood") limits agree with SAS and the
tests use it as the reference, but its median is the first time with S <= 0.5 (no midpoint rule) and
it has no Brookmeyer-Crowley interval for quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from submit.errors import DataCheckError, Problem
from submit.stats.normal import normal_quantile

EQUAL_TOLERANCE = 1e-12  # S(t) "exactly equal" to 1 - p; see module docstring
TABLE_COLUMNS = ("time", "n_risk", "n_event", "n_censor", "survival", "se", "ci_low", "ci_high")


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A fitted product-limit estimate.

    `table` has one row per distinct observed time (event or censoring), sorted by time, with the
    columns of TABLE_COLUMNS: subjects at risk just before the time, events and censorings at it,
    and the survival estimate just after it with its Greenwood SE and log-log CI.
    """

    table: pd.DataFrame
    alpha: float = 0.05

    @property
    def n(self) -> int:
        return int(self.table["n_event"].sum() + self.table["n_censor"].sum())

    @property
    def events(self) -> int:
        return int(self.table["n_event"].sum())

    @property
    def censored(self) -> int:
        return int(self.table["n_censor"].sum())

    def quantile(self, p: float) -> tuple[float, float, float]:
        """The 100p-th percentile of survival time (p = 0.5: median) as (estimate, ci_low, ci_high)."""
        if not 0.0 < p < 1.0:
            raise ValueError(f"p must lie strictly between 0 and 1, got {p!r}")
        steps = self.table[self.table["n_event"] > 0]
        times = steps["time"].to_numpy(dtype=float)
        surv = steps["survival"].to_numpy(dtype=float)
        se = steps["se"].to_numpy(dtype=float)
        target = 1.0 - p
        return (_percentile(times, surv, target), *_percentile_ci(times, surv, se, target, self.alpha))

    def median(self) -> tuple[float, float, float]:
        """The median survival time with its Brookmeyer-Crowley CI; NaN where not reached."""
        return self.quantile(0.5)

    def quartiles(self) -> pd.DataFrame:
        """PROC LIFETEST's "Quartile Estimates": percent 75, 50, 25 with estimate, ci_low, ci_high."""
        rows = [(pct, *self.quantile(pct / 100)) for pct in (75, 50, 25)]
        return pd.DataFrame(rows, columns=["percent", "estimate", "ci_low", "ci_high"])

    def survival_at(self, times: Any, extend: bool = False) -> pd.DataFrame:
        """Survival, SE and log-log CI at the given times (as PROC LIFETEST's TIMELIST=).

        The estimate at t is the one after the last observed time <= t (S = 1 before the first).
        Beyond the largest observed time the curve is not estimable and gives NaN, unless it has
        reached 0 or `extend` asks to carry the last value forward.
        """
        at = np.atleast_1d(np.asarray(times, dtype=float))
        grid = self.table["time"].to_numpy(dtype=float)
        row = np.searchsorted(grid, at, side="right")  # 0 before the first time, else table row + 1
        out: dict[str, np.ndarray] = {"time": at, "n_risk": self.at_risk(at)}
        for column, start in (("survival", 1.0), ("se", 0.0), ("ci_low", 1.0), ("ci_high", 1.0)):
            out[column] = np.concatenate(([start], self.table[column].to_numpy(dtype=float)))[row]
        if not len(grid):  # no subjects: nothing is estimable
            unknown = np.ones(len(at), dtype=bool)
        else:
            unknown = (at > grid[-1]) & (out["survival"] > 0) & (not extend)
        for column in ("survival", "se", "ci_low", "ci_high"):
            out[column] = np.where(unknown, np.nan, out[column])
        return pd.DataFrame(out)

    def at_risk(self, times: Any) -> np.ndarray:
        """Number of subjects at risk at each time (observed time >= t), for the figure's risk table."""
        at = np.atleast_1d(np.asarray(times, dtype=float))
        grid = self.table["time"].to_numpy(dtype=float)
        seen = (self.table["n_event"] + self.table["n_censor"]).to_numpy(dtype=np.int64)
        gone_before = np.concatenate(([0], np.cumsum(seen)))  # subjects with time < grid[i]
        return self.n - gone_before[np.searchsorted(grid, at, side="left")]


def kaplan_meier(
    time: Any, event: Any, alpha: float = 0.05, source: str = "time-to-event data"
) -> KaplanMeier:
    """Fit the product-limit estimate; `event` is 1 for an event and 0 for a censoring.

    (ADaM ADTTE codes CNSR the other way round: pass `event = 1 - CNSR`.) Raises DataCheckError
    naming every bad row (1-based position; `source` names the data) for missing or negative times
    and event flags other than 0/1.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    times, events = _checked(time, event, source)
    grid, inverse = np.unique(times, return_inverse=True)
    n_seen = np.bincount(inverse, minlength=len(grid))
    n_event = np.bincount(inverse, weights=events, minlength=len(grid)).astype(np.int64)
    n_risk = (len(times) - (np.cumsum(n_seen) - n_seen)).astype(np.int64)  # time >= t
    survival = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Y == d (everyone left dies) makes the term infinite; S is 0 from there on and so is its SE.
        greenwood = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
        se = np.where(survival > 0, survival * np.sqrt(greenwood), 0.0)
        ci_low, ci_high = _loglog_ci(survival, greenwood, normal_quantile(1 - alpha / 2))
    table = pd.DataFrame(
        {
            "time": grid,
            "n_risk": n_risk,
            "n_event": n_event,
            "n_censor": n_seen - n_event,
            "survival": survival,
            "se": se,
            "ci_low": ci_low,
            "ci_high": ci_high,
        },
        columns=list(TABLE_COLUMNS),
    )
    return KaplanMeier(table=table, alpha=alpha)


def _loglog_ci(survival: np.ndarray, greenwood: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    inside = (survival > 0) & (survival < 1)
    s = np.where(inside, survival, 0.5)  # placeholder keeps the logs finite off the interior
    spread = np.exp(z * np.sqrt(greenwood) / -np.log(s))
    low = np.where(inside, s**spread, np.where(survival >= 1, 1.0, np.nan))
    high = np.where(inside, s ** (1 / spread), np.where(survival >= 1, 1.0, np.nan))
    return low, high


def _percentile(times: np.ndarray, surv: np.ndarray, target: float) -> float:
    equal = np.abs(surv - target) <= EQUAL_TOLERANCE
    below = (surv < target) & ~equal
    if not below.any():
        return float("nan")
    k = int(np.argmax(below))
    if k > 0 and equal[k - 1]:
        return float((times[k - 1] + times[k]) / 2)
    return float(times[k])


def _percentile_ci(
    times: np.ndarray, surv: np.ndarray, se: np.ndarray, target: float, alpha: float
) -> tuple[float, float]:
    usable = (surv > 0) & (surv < 1) & (se > 0)
    s = np.where(usable, surv, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(usable, se, 1.0) / (s * -np.log(s))  # |g'(S)| * se for g = log(-log)
        statistic = np.abs(np.log(-np.log(s)) - np.log(-np.log(target))) / scale
    inside = usable & (statistic <= normal_quantile(1 - alpha / 2))
    if not inside.any():
        return float("nan"), float("nan")
    hits = np.flatnonzero(inside)
    upper = float(times[hits[-1] + 1]) if hits[-1] + 1 < len(times) else float("nan")
    return float(times[hits[0]]), upper


def _checked(time: Any, event: Any, source: str) -> tuple[np.ndarray, np.ndarray]:
    given_times = np.asarray(time).ravel()
    given_events = np.asarray(event).ravel()
    if len(given_times) != len(given_events):
        raise ValueError(f"time and event differ in length: {len(given_times)} and {len(given_events)}")
    times = pd.to_numeric(pd.Series(given_times), errors="coerce").to_numpy(dtype=float)
    events = pd.to_numeric(pd.Series(given_events), errors="coerce").to_numpy(dtype=float)
    problems = [
        Problem(source, f"time {_shown(given_times[row])} is missing or negative", int(row) + 1, "time")
        for row in np.flatnonzero(~np.isfinite(times) | (times < 0))
    ]
    problems += [
        Problem(source, f"event flag {_shown(given_events[row])} is not 0 or 1", int(row) + 1, "event")
        for row in np.flatnonzero(~np.isin(events, (0.0, 1.0)))
    ]
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DataCheckError(f"{source}: {len(problems)} value(s) unfit for Kaplan-Meier", problems)
    return times, events


def _shown(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)
