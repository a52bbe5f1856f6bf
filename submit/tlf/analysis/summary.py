"""Building blocks of the ARDs: table columns as subject sets, and the statistics of DESIGN.md
computed for every column at once.

A table's columns are a `Columns`: `labels` (group, group_level per column, in display order) and
`members` (USUBJID, col), one row per subject and column the subject counts in (a subject
counts in its cohort, its dose schedule and Total). Records are attached to columns by
one merge on USUBJID, and every statistic is a groupby over `col` (a categorical of all columns,
so that an empty column still gets its n = 0). Each block returns long rows
(col, variable, variable_level, stat_name, stat); `assemble` turns them into the ARD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.stats import clopper_pearson, summarize, to_long
from submit.stats.descriptive import STAT_LABELS as DESCRIPTIVE_LABELS
from submit.tlf.ard import ARD_COLUMNS
from submit.tlf.shell import LEVEL_PATH_SEPARATOR, TOTAL

LONG_COLUMNS = ("col", "variable", "variable_level", "stat_name", "stat")
HEADER_N = "BIGN"  # the variable holding each column's N (shell key header_n)
ARITHMETIC = ("n", "mean", "sd", "min", "q1", "median", "q3", "max")
STAT_LABELS = {
    **DESCRIPTIVE_LABELS,
    "N": "N",
    "p": "Proportion",
    "ci_low": "95% CI lower limit",
    "ci_high": "95% CI upper limit",
    "events": "Number of events",
    "censored": "Number censored",
    "median_ci_low": "Median 95% CI lower limit",
    "median_ci_high": "Median 95% CI upper limit",
    "survival": "Kaplan-Meier estimate",
    "n_risk": "Number at risk",
}


@dataclass(frozen=True)
class Grouping:
    """How subjects split into columns: per variable (with the numeric twin that orders its levels)
    one column per level, then the overall column when `total`."""

    variables: tuple[tuple[str, str], ...] = ()
    total: bool = True
    levels: tuple[tuple[str, ...] | None, ...] = ()  # per variable: its columns in this order, empty or not

    @property
    def needs(self) -> list[str]:
        return list(dict.fromkeys(name for pair in self.variables for name in pair))




@dataclass(frozen=True, eq=False)
class Columns:
    labels: pd.DataFrame  # group, group_level; row i is column i
    members: pd.DataFrame  # USUBJID, col

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def n(self) -> np.ndarray:
        """Subjects per column."""
        return np.bincount(self.members["col"].to_numpy(), minlength=self.count)

    def attach(self, records: pd.DataFrame) -> pd.DataFrame:
        """`records` of the columns' subjects, one copy per column the subject counts in (`col`)."""
        return records.merge(self.members, on="USUBJID", how="inner", sort=False)


def columns_of(population: pd.DataFrame, grouping: Grouping) -> Columns:
    """The columns of `grouping` over the subjects of `population` (one row per subject; ADSL).
    Levels come from the population, ordered by their numeric twin; blank levels form no column."""
    labels: list[tuple[str, str]] = []
    members: list[pd.DataFrame] = []
    for i, (variable, order) in enumerate(grouping.variables):
        given = grouping.levels[i] if i < len(grouping.levels) else None
        if given is not None:
            other = sorted(set(population[variable]) - set(given) - {""})
            if other:
                raise InputError(f"{variable} has levels the columns do not list",
                                 [Problem("ADSL", f"{variable} = {lv!r} is not among the columns' levels "
                                                  f"({', '.join(given)})", column=variable) for lv in other])
            levels = pd.Series(list(given), dtype=object)
        else:
            keys = list(dict.fromkeys([variable, order]))  # order = variable: alphabetical
            levels = (population.loc[population[variable] != "", keys].drop_duplicates()
                      .sort_values(keys[::-1], kind="stable")[variable])
        repeated = levels[levels.duplicated()]
        if len(repeated):
            raise InputError(f"{variable} levels have more than one {order}",
                             [Problem("ADSL", f"{variable} = {lv!r} has several values of {order}", column=order)
                              for lv in repeated.unique()])
        code = {level: len(labels) + i for i, level in enumerate(levels)}
        labels += [(variable, level) for level in levels]
        col = population[variable].map(code)
        members.append(pd.DataFrame({"USUBJID": population["USUBJID"], "col": col}).dropna())
    if grouping.total:
        members.append(pd.DataFrame({"USUBJID": population["USUBJID"], "col": len(labels)}))
        labels.append(("", TOTAL))
    return columns_from(labels, members)


def columns_from(labels: Sequence[tuple[str, str]], members: Sequence[pd.DataFrame]) -> Columns:
    frame = pd.DataFrame(list(labels), columns=["group", "group_level"])
    stacked = (pd.concat(members, ignore_index=True) if members
               else pd.DataFrame({"USUBJID": pd.Series(dtype=object), "col": pd.Series(dtype=np.int64)}))
    return Columns(labels=frame, members=stacked.astype({"col": np.int64}).reset_index(drop=True))


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as level text ("5", "15", "7.5"; "" for missing): formatted once per distinct value."""
    codes, uniques = pd.factorize(pd.to_numeric(values), use_na_sentinel=True)
    texts = np.array([f"{u:g}" for u in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype=object)  # code -1 (missing) picks ""


def level_text(values: pd.Series) -> pd.Series:
    """A variable's values as level text: numbers as `number_text` ("1", "7.5"), text as is; ""
    for missing."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return number_text(values)
    return values.astype(object).where(values.notna(), "").astype(str)


def level_paths(records: pd.DataFrame, variables: Sequence[str]) -> list[pd.Series]:
    """Per depth of a hierarchy (SOC, PT, ...) each record's level path: the values of the first
    variables joined by LEVEL_PATH_SEPARATOR ("Cardiac disorders | Tachycardia"); "" where one of
    them is blank (the record counts at no level of that depth or below)."""
    paths: list[pd.Series] = []
    for variable in variables:
        values = level_text(records[variable])
        path = values if not paths else paths[-1] + LEVEL_PATH_SEPARATOR + values
        blank = (values == "") if not paths else (values == "") | (paths[-1] == "")
        paths.append(path.where(~blank, ""))
    return paths


def worst_records(records: pd.DataFrame, keys: Sequence[str], by: str) -> pd.DataFrame:
    """The record with the highest `by` per combination of `keys` (missing `by` lowest; among equal
    ones the first), so that a subject counts once, at its worst record."""
    ranked = records.assign(_by=pd.to_numeric(records[by], errors="coerce"))
    ranked = ranked.sort_values("_by", ascending=False, na_position="last", kind="stable")
    return ranked.drop_duplicates(list(keys), keep="first").drop(columns="_by").sort_index()


def _column_key(col: pd.Series, count: int) -> pd.Categorical:
    return pd.Categorical(col, categories=range(count))


def long_rows(col, variable: str, level, stats: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long rows from aligned arrays (one entry per cell), the statistics of a cell together."""
    col = np.asarray(col)
    levels = np.broadcast_to(np.asarray(level, dtype=object), col.shape)
    values = np.column_stack([np.broadcast_to(np.asarray(v, dtype=float), col.shape) for v in stats.values()])
    return pd.DataFrame({"col": np.repeat(col, len(stats)), "variable": variable,
                         "variable_level": np.repeat(levels, len(stats)),
                         "stat_name": np.tile(np.array(list(stats)), len(col)), "stat": values.ravel()})


def big_n(columns: Columns, variable: str = HEADER_N) -> pd.DataFrame:
    """Each column's N (the "(N=xx)" of the header)."""
    return long_rows(np.arange(columns.count), variable, "", {"N": columns.n})


def count_subjects(stacked: pd.DataFrame, n_columns: int, variable: str, level: str, levels: Sequence[str],
                   denominator: np.ndarray, *, with_ci: bool = False, with_events: bool = False) -> pd.DataFrame:
    """Distinct subjects per column and level of `level` in `stacked` (records with `col`): n and
    p = n / denominator[col] (NaN where it is 0); with_ci adds N and the exact 95% CI, with_events
    the number of records (`events`). Every column x level of `levels` appears (n = 0 where no
    subject); records of other levels are ignored."""
    counted = stacked.loc[stacked[level].isin(levels), ["col", level, "USUBJID"]]
    # Cells in level-major order (a level's cells across the columns together, as the table reads):
    # cell = level index * n_columns + col; a subject counts once per cell.
    cell = pd.Index(levels).get_indexer(counted[level]) * n_columns + counted["col"].to_numpy(dtype=np.int64)
    subject = pd.factorize(counted["USUBJID"], use_na_sentinel=False)[0]
    distinct = np.unique(cell * max(len(subject), 1) + subject) // max(len(subject), 1)
    n_cells = len(levels) * n_columns
    counts = np.bincount(distinct, minlength=n_cells).astype(float)
    col = np.tile(np.arange(n_columns, dtype=np.int64), len(levels))
    var_level = np.repeat(np.array([str(v) for v in levels], dtype=object), n_columns)
    total = np.asarray(denominator, dtype=float)[col]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, counts / total, np.nan)
    stats = {"n": counts, "p": p}
    if with_ci:
        low, high = clopper_pearson(counts, total)
        stats = {"n": counts, "N": total, "p": p, "ci_low": low, "ci_high": high}
    if with_events:
        stats["events"] = np.bincount(cell, minlength=n_cells).astype(float)
    return long_rows(col, variable, var_level, stats)


def subject_counts(records: pd.DataFrame, columns: Columns, variable: str, level: str,
                   levels: Sequence[str] | None = None, denominator: np.ndarray | None = None,
                   *, with_ci: bool = False, with_events: bool = False) -> pd.DataFrame:
    """`count_subjects` over the columns' subjects; `levels` default: the observed ones, sorted."""
    stacked = columns.attach(records[["USUBJID", level]])
    if levels is None:
        levels = sorted(v for v in stacked[level].unique() if v != "")
    denominator = columns.n if denominator is None else denominator
    return count_subjects(stacked, columns.count, variable, level, list(levels), denominator, with_ci=with_ci,
                          with_events=with_events)


def describe(records: pd.DataFrame, columns: Columns, variable: str, value: str,
             stats: Sequence[str] = ARITHMETIC, level: str = "") -> pd.DataFrame:
    """Descriptive statistics of `value` per column (submit.stats.summarize: SAS percentiles)."""
    stacked = columns.attach(records[["USUBJID", value]])
    stacked["col"] = _column_key(stacked["col"], columns.count)
    long = to_long(summarize(stacked, value, by=["col"]), by=["col"])
    long = long[long["stat_name"].isin(stats)]
    return pd.DataFrame({"col": long["col"].astype(np.int64).to_numpy(), "variable": variable,
                         "variable_level": level, "stat_name": long["stat_name"].to_numpy(),
                         "stat": long["stat"].astype(float).to_numpy()})


def assemble(output: str, columns: Columns, parts: Sequence[pd.DataFrame],
             labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The ARD of one output from long parts: group and group_level of each column, stat labels
    (`labels` override per stat name), the documented column order."""
    long = pd.concat(parts, ignore_index=True)
    names = {**STAT_LABELS, **(labels or {})}
    col = long["col"].to_numpy(dtype=np.int64)
    return pd.DataFrame({
        "output": output,
        "group": columns.labels["group"].to_numpy(dtype=object)[col],
        "group_level": columns.labels["group_level"].to_numpy(dtype=object)[col],
        "variable": long["variable"].to_numpy(dtype=object),
        "variable_level": long["variable_level"].astype(str).to_numpy(dtype=object),
        "stat_name": long["stat_name"].to_numpy(dtype=object),
        "stat_label": long["stat_name"].map(names).fillna(long["stat_name"]).to_numpy(dtype=object),
        "stat": long["stat"].to_numpy(dtype=float),
    }, columns=list(ARD_COLUMNS))
