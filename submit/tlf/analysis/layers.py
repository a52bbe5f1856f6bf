"""The `summary` kind: a subject-level table built from layers (Tplyr's idea), each writing the ARD
records of one variable (an `events` layer: one per depth) in the table's columns.

    analysis:
      kind: summary
      columns: {by: [TRT01A], total: true}
      layers:
        - {count: SEX, levels: [M, F]}                 # n p per level, every listed level (0 too)
        - {count: DTHFL, levels: [N, Y], missing: N}   # blank value / no record -> that level
        - {describe: AGE}                              # n mean sd min q1 median q3 max
        - {subjects: TEAE, level: GE3, dataset: ADAE, where: {TRTEMFL: Y, ATOXGRN: {ge: 3}}}
        - {events: [AEBODSYS, AEDECOD], dataset: ADAE, where: {TRTEMFL: Y}, any: TEAE}

The key naming the ARD variable (count, describe, subjects, events) also tells the layer's kind.
Every layer reads `dataset` (default ADSL) filtered by `where` and counts only the subjects of the
table's columns (the shell's population); percentages are of the column's subjects unless a
`denominator` says otherwise. Before anything is computed, every layer's variables and filters are
checked against the data, and every problem is reported at once (shell file, output id, layer, key).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
import pandas as pd
from pydantic import Discriminator, Field, Tag, model_validator

from submit.errors import InputError, Problem
from submit.stats.descriptive import STATS
from submit.tlf.analysis.comparisons import STAT_LABELS as COMPARISON_LABELS
from submit.tlf.analysis.comparisons import Comparison, IncidenceComparison, incidence_comparisons, rate_comparisons
from submit.tlf.analysis.data import AdamData, one_per_subject
from submit.tlf.analysis.params import (ColumnsSpec, Filter, Level, Name, _Params, population, records,
                                        population_problems, variable_problems)
from submit.tlf.analysis.summary import (ARITHMETIC, Columns, assemble, big_n, columns_of, describe, level_paths,
                                         level_text, subject_counts, worst_records)


class _Layer(_Params):
    dataset: Name = "ADSL"
    where: Filter | None = None


class Denominator(_Params):
    """The subjects a rate is among: those of the column meeting `where` in `dataset`."""

    dataset: Name = "ADSL"
    where: Filter | None = None


class CountLayer(_Layer):
    """Subjects per level of `value` (default: the `count` name), n and p, one record per subject
    (or its `worst` record). Levels: `levels` in that order, every one printed; else the observed
    ones, ordered by the numeric variable `order`, else sorted (numbers by value, text
    alphabetically). A numeric `value` gives level text as "1", "7.5"."""

    count: Name
    value: Name | None = None
    levels: tuple[Level, ...] | None = Field(None, min_length=1)
    order: Name | None = None
    missing: Level | None = None  # population subjects without a record or with a blank value
    ci: Literal["exact"] | None = None  # adds N, ci_low, ci_high (Clopper-Pearson 95%)
    denominator: Denominator | None = None
    worst: Name | None = None  # a subject counts once, at its record with the highest `worst`
    compare: Comparison | None = None  # each arm's rate against the reference arm's (comparisons.py)

    @model_validator(mode="after")
    def _consistent(self) -> "CountLayer":
        if self.levels is not None and self.order is not None:
            raise ValueError("give either levels or order (order sorts the observed levels)")
        if self.levels is not None and self.missing is not None and self.missing not in self.levels:
            raise ValueError(f"missing level {self.missing!r} is not one of levels")
        return self

    @property
    def column(self) -> str:
        return self.value or self.count

    def named(self) -> dict[str, list[str]]:
        named = {"value" if self.value else "count": [self.column]}
        named.update({key: [getattr(self, key)] for key in ("order", "worst") if getattr(self, key)})
        return named

    def compute(self, data: AdamData, columns: Columns, what: str) -> pd.DataFrame:
        wanted = ["USUBJID", self.column, *(v for v in (self.order, self.worst) if v)]
        rows = _population_records(data, columns, self, wanted, what)
        eligible = pd.Index(columns.members["USUBJID"].unique())
        denominator = None
        if self.denominator is not None:
            chosen = records(data, self.denominator.dataset, ["USUBJID"], self.denominator.where, what)["USUBJID"]
            eligible = eligible[eligible.isin(chosen)]
            rows = rows[rows["USUBJID"].isin(eligible)]
            members = columns.members
            denominator = np.bincount(members.loc[members["USUBJID"].isin(eligible), "col"], minlength=columns.count)
        rows = worst_records(rows, ["USUBJID"], self.worst) if self.worst else one_per_subject(rows, what)
        rows = rows.assign(_level=level_text(rows[self.column]))
        if self.missing is not None:
            absent = pd.DataFrame({"USUBJID": eligible[~eligible.isin(rows["USUBJID"])], "_level": ""})
            rows = pd.concat([rows, absent], ignore_index=True)
            rows["_level"] = rows["_level"].mask(rows["_level"] == "", self.missing)
        levels = list(self.levels) if self.levels is not None else self._observed(rows)
        counts = subject_counts(rows, columns, self.count, "_level", levels, denominator, with_ci=self.ci == "exact")
        if self.compare is None:
            return counts
        subjects = pd.DataFrame({"USUBJID": eligible}).merge(rows[["USUBJID", "_level"]], on="USUBJID", how="left")
        subjects = subjects.fillna({"_level": ""})
        return pd.concat([counts, rate_comparisons(data, columns, subjects, self.count, levels, self.compare, what)],
                         ignore_index=True)

    def _observed(self, rows: pd.DataFrame) -> list[str]:
        seen = rows[rows["_level"] != ""]
        if self.order is not None:
            first = seen.groupby("_level", sort=False)[self.order].min()
            return first.reset_index().sort_values([self.order, "_level"], kind="stable")["_level"].tolist()
        if self.column in seen and pd.api.types.is_numeric_dtype(seen[self.column]):
            numbers = seen.dropna(subset=[self.column]).drop_duplicates("_level").sort_values(self.column)
            return [*numbers["_level"], *sorted(set(seen["_level"]) - set(numbers["_level"]))]
        return sorted(seen["_level"].unique())


class DescribeLayer(_Layer):
    """Descriptive statistics of the numeric `value` (default: the `describe` name), one record per
    subject; `stats` chooses among submit.stats.summarize's (SAS percentiles)."""

    describe: Name
    value: Name | None = None
    stats: tuple[Literal[STATS], ...] = Field(ARITHMETIC, min_length=1)  # type: ignore[valid-type]

    @property
    def column(self) -> str:
        return self.value or self.describe

    def named(self) -> dict[str, list[str]]:
        return {"value" if self.value else "describe": [self.column]}

    def compute(self, data: AdamData, columns: Columns, what: str) -> pd.DataFrame:
        rows = one_per_subject(_population_records(data, columns, self, ["USUBJID", self.column], what), what)
        return describe(rows, columns, self.describe, self.column, self.stats)


class SubjectsLayer(_Layer):
    """Subjects with at least one record meeting `where`: n, p as variable `subjects`, `level`."""

    subjects: Name
    level: Level = "Y"

    def named(self) -> dict[str, list[str]]:
        return {}

    def compute(self, data: AdamData, columns: Columns, what: str) -> pd.DataFrame:
        rows = _population_records(data, columns, self, ["USUBJID"], what).assign(_level=self.level)
        return subject_counts(rows, columns, self.subjects, "_level", [self.level])


class AnyRow(_Params):
    """The "any event" row of a hierarchy: variable `variable`, level `level`."""

    variable: Name
    level: Level = "ANY"

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, data):
        return {"variable": data} if isinstance(data, str) else data


class EventsLayer(_Layer):
    """Subjects with records per level of a hierarchy (SOC, PT, ...): one ARD variable per depth,
    a child's level "<parent> | <child>", a subject once per level; levels the observed ones,
    sorted. `count_events` adds `events` (records); `any` adds the row of subjects with any record."""

    events: tuple[Name, ...] = Field(min_length=1)
    count_events: bool = False
    any: AnyRow | None = None
    compare: IncidenceComparison | None = None  # each arm's incidence against the reference arm's

    def named(self) -> dict[str, list[str]]:
        return {"events": list(self.events)}

    def compute(self, data: AdamData, columns: Columns, what: str) -> pd.DataFrame:
        rows = _population_records(data, columns, self, ["USUBJID", *self.events], what)
        parts = []
        if self.any is not None:
            parts.append(subject_counts(rows.assign(_level=self.any.level), columns, self.any.variable, "_level",
                                        [self.any.level], with_events=self.count_events))
        for variable, path in zip(self.events, level_paths(rows, self.events)):
            parts.append(subject_counts(rows.assign(_level=path), columns, variable, "_level",
                                        with_events=self.count_events))
        counts = pd.concat(parts, ignore_index=True)
        if self.compare is None:
            return counts
        return pd.concat([counts, incidence_comparisons(counts, columns, self.compare, what)], ignore_index=True)


LAYER_KEYS = ("count", "describe", "subjects", "events")


def _layer_key(value) -> str | None:
    """The layer's kind: the one key of LAYER_KEYS it has."""
    if isinstance(value, dict):
        found = [key for key in LAYER_KEYS if key in value]
        return found[0] if len(found) == 1 else None
    return next((key for key in LAYER_KEYS if key in type(value).model_fields), None)


Layer = Annotated[
    Union[Annotated[CountLayer, Tag("count")], Annotated[DescribeLayer, Tag("describe")],
          Annotated[SubjectsLayer, Tag("subjects")], Annotated[EventsLayer, Tag("events")]],
    Discriminator(_layer_key, custom_error_type="layer_kind",
                  custom_error_message="a layer has exactly one of the keys count, describe, subjects, events"),
]


def _population_records(data: AdamData, columns: Columns, layer: _Layer, wanted: list[str], what: str) -> pd.DataFrame:
    rows = records(data, layer.dataset, wanted, layer.where, what)
    return rows[rows["USUBJID"].isin(columns.members["USUBJID"])]


def layer_problems(data: AdamData, layers, file: str, key: str) -> list[Problem]:
    """Every layer's unknown dataset, variable or malformed filter (key `<key>.layers[i].<param>`)."""
    problems = []
    for i, layer in enumerate(layers):
        where = f"{key}.layers[{i}]"
        problems += variable_problems(data, layer.dataset, layer.named(), layer.where, file, where)
        if isinstance(layer, CountLayer) and layer.denominator is not None:
            problems += variable_problems(data, layer.denominator.dataset, {}, layer.denominator.where, file,
                                          f"{where}.denominator")
        if isinstance(layer, DescribeLayer) and layer.dataset in data.datasets.names() \
                and layer.column in data.frame_columns(layer.dataset):
            values = data.frame(layer.dataset, [layer.column])[layer.column]
            if not pd.api.types.is_numeric_dtype(values):
                problems.append(Problem(file, f"{layer.dataset} {layer.column} is not numeric: it cannot be described "
                                                "(count it instead)", key=f"{where}.{next(iter(layer.named()))}"))
    return problems


def summary(data: AdamData, shell, layers: Annotated[tuple[Layer, ...], Field(min_length=1)],
            columns: ColumnsSpec = ColumnsSpec()) -> pd.DataFrame:
    """The ARD of a layered subject-level table: BIGN of every column, then each layer's records."""
    file, key = shell.source or "TLF shells", f"id {shell.id}.analysis"
    problems = population_problems(data, shell, columns, file, key) + layer_problems(data, layers, file, key)
    if problems:
        raise InputError(f"TLF shell {shell.id}: layers of the summary cannot be computed", problems)
    grouping = columns.grouping(data)
    table = columns_of(population(data, shell, grouping.needs), grouping)
    what = f"{file}, id {shell.id}"
    parts = [big_n(table)]
    parts += [layer.compute(data, table, f"{what}, layers[{i}]") for i, layer in enumerate(layers)]
    return assemble(shell.id, table, parts, labels=COMPARISON_LABELS)
