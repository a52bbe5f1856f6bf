"""Time-to-event kinds: the Kaplan-Meier table (`time_to_event`) and figure (`km_figure`) of one
parameter of a BDS time-to-event dataset (AVAL = time in days, CNSR = 0 event / 1 censored).

    analysis: {kind: time_to_event, dataset: ADTTE, where: {PARAMCD: OS}, variable: OS,
               times: [3, 6, 12], unit: {label: months, days: 30.4375}, columns: {by: [TRT01A], total: false}}
    analysis: {kind: km_figure, where: {PARAMCD: OS}, unit: {label: months, days: 30.4375}, columns: {by: [TRT01A]}}

Analysis set: the subjects of the shell's population (ADSL flag; no flag: every ADSL subject) that
have a record meeting `where`, at most one each (a relapse endpoint's set is its responders). The
columns split that set as `columns` says (default: the Total column alone); each column's N is
its subjects with a record. `compare: {reference: <arm>, strata: [...]}` adds each arm's log-rank
p-value and Cox hazard ratio against the reference arm (comparisons.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from submit.stats import kaplan_meier
from submit.tlf.analysis.comparisons import STAT_LABELS as COMPARISON_LABELS
from submit.tlf.analysis.comparisons import Comparison, survival_comparisons
from submit.tlf.analysis.data import AdamData, one_per_subject
from submit.tlf.analysis.params import ColumnsSpec, Filter, Name, records
from submit.tlf.analysis.summary import Columns, assemble, big_n, columns_of, long_rows
from submit.tlf.figure import KmCurve, curve_from_km
from submit.tlf.shell import TOTAL

HEAD_STATS = ("events", "events_p", "censored", "censored_p", "median", "median_ci_low", "median_ci_high",
              "q1", "q1_ci_low", "q1_ci_high", "q3", "q3_ci_low", "q3_ci_high")
POINT_STATS = ("survival", "ci_low", "ci_high", "n_risk")
QUANTILES = {"median": 0.5, "q1": 0.25, "q3": 0.75}  # of the event time: q1 is where S falls below 0.75


class Unit(BaseModel):
    """The unit times are shown in: AVAL (days) / `days` (months: 30.4375)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str = "days"
    days: float = Field(1.0, gt=0)


def analysis_set(data: AdamData, shell, dataset: str, where: Filter | None,
                 columns: ColumnsSpec) -> tuple[Columns, pd.DataFrame]:
    """(columns over the population subjects with a record, their records: USUBJID AVAL CNSR)."""
    grouping = columns.grouping(data)
    flag = shell.population.flag
    population = (data.population(flag, grouping.needs) if flag
                  else data.frame("ADSL", ["USUBJID", *grouping.needs]))
    what = f"{shell.source or 'TLF shells'}, id {shell.id}.analysis"
    found = records(data, dataset, ["USUBJID", "AVAL", "CNSR"], where, what=what)
    found = one_per_subject(found[found["USUBJID"].isin(population["USUBJID"])], f"{dataset} {where or ''}".strip())
    return columns_of(population[population["USUBJID"].isin(found["USUBJID"])], grouping), found


def _fits(columns: Columns, found: pd.DataFrame, source: str) -> dict[int, Any]:
    """col -> Kaplan-Meier fit of the column's records (one fit per column: a handful)."""
    stacked = columns.attach(found)
    return {int(col): kaplan_meier(part["AVAL"].to_numpy(), 1 - part["CNSR"].to_numpy(), source=source)
            for col, part in stacked.groupby("col", sort=True) if len(part)}


def km_statistics(fits: dict[int, Any], n_columns: int, variable: str, times: Sequence[float],
                  unit_days: float) -> pd.DataFrame:
    """Long rows per column: the variable's own statistics (HEAD_STATS; times in the unit), then at
    each of `times` (in the unit; variable_level "3", "6", ...) survival with its log-log CI and
    the number at risk. A column without records: 0 events and censored, the rest NaN (n_risk 0)."""
    at = np.asarray(times, dtype=float)
    levels = [f"{t:g}" for t in at]
    parts = []
    for col in range(n_columns):
        fit = fits.get(col)
        if fit is None:
            head = {name: np.nan for name in HEAD_STATS} | {"events": 0.0, "censored": 0.0}
            points = pd.DataFrame({"survival": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_risk": 0.0}, index=at)
        else:
            head = {"events": fit.events, "events_p": fit.events / fit.n,
                    "censored": fit.censored, "censored_p": fit.censored / fit.n}
            for name, p in QUANTILES.items():
                estimate, low, high = (v / unit_days for v in fit.quantile(p))
                head |= {name: estimate, f"{name}_ci_low": low, f"{name}_ci_high": high}
            head = {name: head[name] for name in HEAD_STATS}
            points = fit.survival_at(at * unit_days)
        parts.append(long_rows([col], variable, "", {k: [v] for k, v in head.items()}))
        parts.append(long_rows(np.full(len(at), col), variable, levels,
                               {k: points[k].to_numpy() for k in POINT_STATS}))
    out = pd.concat(parts, ignore_index=True)
    # the variable's own statistics first, then each time point across the columns
    rank = {"": -1, **{level: i for i, level in enumerate(levels)}}
    out["_level"] = out["variable_level"].map(rank)
    return out.sort_values(["_level", "col"], kind="stable").drop(columns="_level").reset_index(drop=True)


def _labels(unit: Unit) -> dict[str, str]:
    names = {"median": "Median", "q1": "First quartile", "q3": "Third quartile"}
    out = {"events_p": "Proportion with event", "censored_p": "Proportion censored"}
    for stat, name in names.items():
        out |= {stat: f"{name} ({unit.label})", f"{stat}_ci_low": f"{name} 95% CI lower limit ({unit.label})",
                f"{stat}_ci_high": f"{name} 95% CI upper limit ({unit.label})"}
    return out


def time_to_event(data: AdamData, shell, variable: Name, where: Filter | None = None, dataset: Name = "ADTTE",
                  times: tuple[float, ...] = (), unit: Unit = Unit(), columns: ColumnsSpec = ColumnsSpec(),
                  compare: Comparison | None = None) -> pd.DataFrame:
    """Kaplan-Meier summary per column as ARD `variable`: events and censored (n and proportion of
    the column's N), median, first and third quartile with Brookmeyer-Crowley 95% CIs (in the
    unit), and at each of `times` (in the unit) the estimate with its log-log 95% CI and the number
    at risk; BIGN = the column's subjects with a record."""
    cols, found = analysis_set(data, shell, dataset, where, columns)
    fits = _fits(cols, found, f"{dataset} {variable}")
    parts = [big_n(cols), km_statistics(fits, cols.count, variable, times, unit.days)]
    if compare is not None:
        what = f"{shell.source or 'TLF shells'}, id {shell.id}.analysis"
        parts.append(survival_comparisons(data, cols, found, variable, compare, what))
    return assemble(shell.id, cols, parts, labels={**_labels(unit), **COMPARISON_LABELS})


def km_figure(data: AdamData, shell, where: Filter | None = None, dataset: Name = "ADTTE", unit: Unit = Unit(),
              columns: ColumnsSpec = ColumnsSpec()) -> list[KmCurve]:
    """One Kaplan-Meier curve per column with subjects, drawn in the unit with the numbers at risk at
    the shell's at_risk_times: "<level> (N=n)"; the Total column is labelled with the shell's
    population ("All treated subjects (N=36)")."""
    cols, found = analysis_set(data, shell, dataset, where, columns)
    fits = _fits(cols, found, f"{dataset} {where or ''}".strip())
    curves = []
    for col, fit in fits.items():
        level = cols.labels["group_level"].iloc[col]
        name = shell.population.label if level == TOTAL and not cols.labels["group"].iloc[col] else level
        curves.append(curve_from_km(f"{name} (N={fit.n})", fit, shell.figure.at_risk_times, time_scale=unit.days))
    return curves
