"""The `worst_grade` kind: subjects per row of a hierarchy (any event, SOC, PT) in the column of
their worst grade in that row.

    analysis: {kind: worst_grade, dataset: ADAE, where: {TRTEMFL: Y}, grade: ATOXGRN, group: ATOXGR,
               levels: ["1", "2", "3", "4", "5"], hierarchy: [AEBODSYS, AEDECOD], any: TEAE}

Per row a subject's worst record is its record with the highest `grade` (numeric); the subject
counts in the column of that record's `group` value when it is one of `levels`, and in the
any-grade column of its table column whatever the grade. Columns, for each column of `columns`
(default: Total only), in order:

* the overall column: group `<group>` / level `<grade>` per grade, then group "" / `Total`;
* a column of `by` (e.g. TRT01A = Placebo): group "TRT01A | ATOXGR" / level "Placebo | 3" per
  grade, then "TRT01A | ATOXGR" / "Placebo | Total" (any grade within the arm).

p is of the subjects of the table column the grade column belongs to; every column carries that
number as BIGN (N). Rows: `any` (variable, level ANY) then one ARD variable per depth of
`hierarchy`, a child's level "<parent> | <child>", levels the observed ones, sorted.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field

from submit.errors import InputError
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.layers import AnyRow
from submit.tlf.analysis.params import (ColumnsSpec, Filter, Level, Name, population, records,
                                        population_problems, variable_problems)
from submit.tlf.analysis.summary import (HEADER_N, Columns, assemble, columns_from, columns_of, count_subjects, level_paths,
                                         level_text, long_rows, worst_records)
from submit.tlf.shell import LEVEL_PATH_SEPARATOR, TOTAL


def grade_columns(table: Columns, group: str, levels: tuple[str, ...]) -> tuple[Columns, np.ndarray]:
    """The grade columns of each column of `table` followed by its any-grade column, and each new
    column's denominator (the subjects of its table column)."""
    labels = []
    for table_group, table_level in zip(table.labels["group"], table.labels["group_level"]):
        if table_group == "" and table_level == TOTAL:
            labels += [(group, level) for level in levels] + [("", TOTAL)]
        else:
            nested = f"{table_group}{LEVEL_PATH_SEPARATOR}{group}"
            labels += [(nested, f"{table_level}{LEVEL_PATH_SEPARATOR}{level}") for level in (*levels, TOTAL)]
    denominator = np.repeat(table.n, len(levels) + 1)
    return columns_from(labels, []), denominator


def worst_grade(data: AdamData, shell, grade: Name, group: Name,
                levels: Annotated[tuple[Level, ...], Field(min_length=1)], dataset: Name = "ADSL",
                where: Filter | None = None, hierarchy: tuple[Name, ...] = (), any: AnyRow | None = None,
                columns: ColumnsSpec = ColumnsSpec()) -> pd.DataFrame:
    """The ARD of a worst-grade table (see the module docstring)."""
    file, key = shell.source or "TLF shells", f"id {shell.id}.analysis"
    problems = population_problems(data, shell, columns, file, key)
    problems += variable_problems(data, dataset, {"grade": [grade], "group": [group], "hierarchy": list(hierarchy)},
                                  where, file, key)
    if problems:
        raise InputError(f"TLF shell {shell.id}: the worst-grade table cannot be computed", problems)
    grouping = columns.grouping(data)
    table = columns_of(population(data, shell, grouping.needs), grouping)
    rows = records(data, dataset, ["USUBJID", grade, group, *hierarchy], where, f"{file}, id {shell.id}")
    rows = rows[rows["USUBJID"].isin(table.members["USUBJID"])]
    graded, denominator = grade_columns(table, group, tuple(levels))
    width = len(levels) + 1  # grade columns and the any-grade column of one table column

    def counts(variable: str, path: pd.Series, row_levels: list[str] | None) -> pd.DataFrame:
        keyed = rows.assign(_level=path)
        keyed = keyed[keyed["_level"] != ""]
        worst = worst_records(keyed, ["USUBJID", "_level"], grade)
        stacked = table.attach(worst[["USUBJID", "_level", group]])  # col: the table column
        position = pd.Categorical(level_text(stacked[group]), categories=list(levels)).codes
        base = stacked["col"].to_numpy() * width
        in_grade = position >= 0
        both = pd.concat([stacked[in_grade].assign(col=base[in_grade] + position[in_grade]),
                          stacked.assign(col=base + width - 1)], ignore_index=True)
        found = row_levels if row_levels is not None else sorted(stacked["_level"].unique())
        return count_subjects(both, graded.count, variable, "_level", found, denominator)

    parts = [long_rows(np.arange(graded.count), HEADER_N, "", {"N": denominator})]
    if any is not None:
        parts.append(counts(any.variable, pd.Series(any.level, index=rows.index, dtype=object), [any.level]))
    for variable, path in zip(hierarchy, level_paths(rows, hierarchy)):
        parts.append(counts(variable, path, None))
    return assemble(shell.id, graded, parts)
