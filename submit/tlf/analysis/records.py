"""`records_summary`: descriptive statistics of a value over records (not subjects), per column and
row level, e.g. a PK parameter by actual dose and cycle, or peak lab values by dose schedule and step.

    analysis:
      kind: records_summary
      dataset: ADPP
      where: {PARAMCD: CSS, APHASE: CORE STUDY, ACYCLE: [1, 2]}
      value: AVAL                                  # default AVAL
      variable: CSS                                # the ARD variable, or:
      by_parameter: {variable: PARAMCD, levels: [<code 1>, <code 2>]}   # one ARD variable per level, in order
      record_columns: {variable: DOSEA, group: DOSE}   # columns from a record variable, or:
      columns: {by: [{variable: SCHED, order: SCHEDN}], total: false}   # subject columns (ADSL)
      levels: {variable: ACYCLE}                   # row levels from a record variable, or:
      levels: {template: "{{ AVISIT | capitalize }}, dose step {{ DOSESTPN }}", order: [AVISITN, DOSESTPN]}
      stats: [n, mean, sd, min, q1, median, q3, max]   # default: every statistic of submit.stats.summarize
      imputed: {where: {AVALCAT1: ["<LOD", "<LLOQ"]}}  # adds n_imputed: the cell's records meeting it

Records: those of `dataset` meeting `where`, of the shell's population subjects (ADSL flag; no flag:
all). A subject may give several records to a cell (one per dose step). Numeric column and level
variables show as number text ("5", "15", "7.5") ordered by value; text ones are ordered by their
`order` variable, else alphabetically. A record without a column or level value belongs to no cell.
Only observed cells get ARD records (a table prints `absent_text` for the others); no BIGN (n is a
row). A level template is rendered once per distinct combination of the variables it names
(sandboxed Jinja2; whole numbers render without ".0").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from jinja2 import meta
from jinja2.exceptions import TemplateError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from submit.adam.filters import meets
from submit.errors import InputError, Problem
from submit.stats import summarize, to_long
from submit.stats.descriptive import STATS
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import ColumnsSpec, Filter, Name, filter_variables, records
from submit.tlf.analysis.summary import Columns, assemble, columns_from, columns_of, number_text
from submit.tlf.text import jinja_env

IMPUTED = "n_imputed"


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ByParameter(_Params):
    """One ARD variable per value of a record variable (PARAMCD), in the order of `levels`
    (default: the observed values, sorted); records of other values are left out."""

    variable: Name
    levels: tuple[str, ...] | None = Field(None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, data):
        return {"variable": data} if isinstance(data, str) else data


class RecordColumns(_Params):
    """Columns from the records' own values (the dose a record was taken at), ARD group `group`."""

    variable: Name
    group: Name | None = None  # default: the variable
    order: Name | None = None  # text values: their numeric twin


class Levels(_Params):
    """Row levels (variable_level): a record variable's values, or a Jinja2 template over record
    variables, ordered by `order` (default: the variable itself / the template's variables)."""

    variable: Name | None = None
    template: str | None = None
    order: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _one(self) -> "Levels":
        if (self.variable is None) == (self.template is None):
            raise ValueError("give either variable or template")
        return self


class Imputed(_Params):
    where: Filter


def _stats(names: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in STATS]
    if unknown:
        raise ValueError(f"unknown statistics {unknown} (known: {', '.join(STATS)})")
    return names


def records_summary(data: AdamData, shell, variable: Name | None = None, by_parameter: ByParameter | None = None,
                    dataset: Name = "ADSL", where: Filter | None = None, value: Name = "AVAL",
                    columns: ColumnsSpec | None = None, record_columns: RecordColumns | None = None,
                    levels: Levels | None = None, stats: tuple[str, ...] = STATS,
                    imputed: Imputed | None = None) -> pd.DataFrame:
    """Statistics of `value` per observed (column, level) cell of each ARD variable."""
    what = f"{shell.source or 'TLF shells'}, id {shell.id}.analysis"
    problems = []
    if (variable is None) == (by_parameter is None):
        problems.append(Problem(what, "records_summary: give either variable or by_parameter", key="variable"))
    if columns is not None and record_columns is not None:
        problems.append(Problem(what, "records_summary: give either columns or record_columns", key="columns"))
    try:
        _stats(tuple(stats))
    except ValueError as exc:
        problems.append(Problem(what, f"records_summary: {exc}", key="stats"))
    if problems:
        raise InputError("records_summary parameters do not fit together", problems)
    level_vars = _level_variables(levels, what)
    needed = ["USUBJID", value, *level_vars,
              *([record_columns.variable] if record_columns else []),
              *([record_columns.order] if record_columns and record_columns.order else []),
              *([by_parameter.variable] if by_parameter else []),
              *(filter_variables(imputed.where) if imputed else [])]
    found = records(data, dataset, needed, where, what=what)
    flag = shell.population.flag
    grouping = (columns or ColumnsSpec()).grouping(data) if record_columns is None else None
    population = (data.population(flag, grouping.needs if grouping else []) if flag
                  else data.frame("ADSL", ["USUBJID", *(grouping.needs if grouping else [])]))
    found = found[found["USUBJID"].isin(population["USUBJID"])]
    if by_parameter is not None and by_parameter.levels is not None:
        found = found[found[by_parameter.variable].isin(by_parameter.levels)]
    if imputed is not None:
        found = found.assign(_imputed=meets(found, imputed.where, fn=what, arg="imputed.where").to_numpy())
    if record_columns is None:
        cols = columns_of(population, grouping)
        stacked = cols.attach(found)
    else:
        cols, stacked = _record_columns(found, record_columns)
    stacked, order = _with_levels(stacked, levels, what)
    names = ([variable] if variable is not None else
             list(by_parameter.levels or sorted(v for v in stacked[by_parameter.variable].unique() if v != "")))
    parts = []
    for name in names:
        part = stacked if variable is not None else stacked[stacked[by_parameter.variable] == name]
        parts.append(_cells(part, name, value, order, tuple(stats), imputed is not None))
    return assemble(shell.id, cols, parts, labels={IMPUTED: "n imputed"})


def _level_variables(levels: Levels | None, what: str) -> list[str]:
    if levels is None:
        return []
    if levels.variable is not None:
        return [levels.variable, *levels.order]
    try:
        names = meta.find_undeclared_variables(jinja_env().parse(levels.template))
    except TemplateError as exc:
        raise InputError("records_summary: the level template is invalid",
                         [Problem(what, f"{levels.template!r}: {exc}", key="levels.template")]) from None
    return [*sorted(names), *levels.order]


def _record_columns(found: pd.DataFrame, spec: RecordColumns) -> tuple[Columns, pd.DataFrame]:
    """One column per value of the record variable (ordered by value / `order`), `col` per record."""
    values = found[spec.variable]
    found = found[values.notna() & (values.astype(str) != "")]
    texts, ordered = _ordered_texts(found, spec.variable, (spec.order,) if spec.order else ())
    code = {text: i for i, text in enumerate(ordered)}
    group = spec.group or spec.variable
    return (columns_from([(group, text) for text in ordered], []),
            found.assign(col=texts.map(code).to_numpy(dtype=np.int64)))


def _ordered_texts(frame: pd.DataFrame, variable: str, order: tuple[str, ...]) -> tuple[pd.Series, list[str]]:
    """(level text of `variable` per record, the distinct texts ordered by `order` else by value)."""
    values = frame[variable]
    texts = number_text(values) if pd.api.types.is_numeric_dtype(values) else values.astype(str)
    keys = list(dict.fromkeys([*order, variable]))
    distinct = frame[keys].assign(_text=texts).drop_duplicates().sort_values(keys, kind="stable")
    return texts, list(dict.fromkeys(distinct["_text"]))


def _with_levels(stacked: pd.DataFrame, levels: Levels | None, what: str) -> tuple[pd.DataFrame, list[str]]:
    """`stacked` with `_level` (the level text) and the levels in display order."""
    if levels is None:
        return stacked.assign(_level=""), [""]
    if levels.variable is not None:
        values = stacked[levels.variable]
        stacked = stacked[values.notna() & (values.astype(str) != "")]
        texts, order = _ordered_texts(stacked, levels.variable, levels.order)
        return stacked.assign(_level=texts), order
    keys = list(dict.fromkeys(_level_variables(levels, what)))
    stacked = stacked.dropna(subset=keys)
    combos = stacked[keys].drop_duplicates().sort_values(list(levels.order) or keys, kind="stable")
    template = jinja_env().from_string(levels.template)
    try:  # once per distinct combination (a handful), never per record
        texts = [template.render({k: _plain(v) for k, v in row.items()}) for row in combos.to_dict("records")]
    except TemplateError as exc:
        raise InputError("records_summary: the level template cannot be rendered",
                         [Problem(what, f"{levels.template!r}: {exc}", key="levels.template")]) from None
    combos = combos.assign(_level=texts)
    return stacked.merge(combos, on=keys, how="left"), list(dict.fromkeys(texts))


def _plain(value):
    """Whole floats as int, so that a template prints 1, not 1.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cells(stacked: pd.DataFrame, variable: str, value: str, order: list[str], stats: tuple[str, ...],
           with_imputed: bool) -> pd.DataFrame:
    """Statistics of `value` per observed (col, _level), level-major (a row's cells together)."""
    cell_keys = ["col", "_level"]
    long = to_long(summarize(stacked, value, by=cell_keys), by=cell_keys)
    long = long[long["stat_name"].isin(stats)]
    if with_imputed:
        counts = stacked.groupby(cell_keys)["_imputed"].sum().rename("stat").reset_index()
        long = pd.concat([long, counts.assign(stat_name=IMPUTED)], ignore_index=True)
    rank = {name: i for i, name in enumerate((*STATS, IMPUTED))}
    long = long.assign(_order=long["_level"].map({lv: i for i, lv in enumerate(order)}),
                       _stat=long["stat_name"].map(rank))
    long = long.sort_values(["_order", "col", "_stat"], kind="stable")
    return pd.DataFrame({"col": long["col"].astype(np.int64).to_numpy(), "variable": variable,
                         "variable_level": long["_level"].to_numpy(dtype=object),
                         "stat_name": long["stat_name"].to_numpy(), "stat": long["stat"].astype(float).to_numpy()})
