"""What every analysis kind takes from its shell: the table's columns, the records it reads and
their filter. Shared by all kinds so that a shell says these the same way everywhere:

    columns: {by: [TRT01A], total: true}          # ADSL variables; one column per level, then Total
    columns: {by: [{variable: TRT01A, order: TRT01AN}, SCHED], total: false}
    dataset: ADAE                                 # the records (default ADSL)
    where: {TRTEMFL: Y, ATOXGRN: {ge: 3}}         # submit.adam.filters syntax, never evaluated code

Levels of a `by` variable are its `levels` when given (every one a column, in that order, empty or
not; a subject at another level is an error), else the observed ones ordered by the numeric twin:
`order` when given, else `<VAR>N` when ADSL has it, else alphabetically. Blank levels form no
column. The subjects of the columns are the shell's population (`population`): ADSL subjects with
its flag = Y, every ADSL subject without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from submit.adam.filters import COMBINATORS, meets
from submit.errors import InputError, Problem, SubmitError
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.summary import Columns, Grouping, columns_of

Name = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")]
Filter = dict[str, Any]  # submit.adam.filters: checked when applied, naming the shell


def _level_text(value):
    """A level given as a number (`levels: [1, 2]`) means its text as `summary.number_text` writes it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return value


Level = Annotated[str, BeforeValidator(_level_text)]  # a variable_level or group_level: text


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ByVariable(_Params):
    variable: Name
    order: Name | None = None  # the numeric twin ordering the levels; default <VAR>N if present
    levels: tuple[str, ...] | None = Field(None, min_length=1)  # the columns, in this order (0 too)

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, data):
        return {"variable": data} if isinstance(data, str) else data


class ColumnsSpec(_Params):
    """The columns of a table over the population's subjects (ADSL)."""

    by: tuple[ByVariable, ...] = ()
    total: bool = True

    def grouping(self, data: AdamData) -> Grouping:
        """The `Grouping` of these columns, each `by` variable paired with the variable ordering it
        (itself where ADSL has no numeric twin: then alphabetical)."""
        present = set(data.frame_columns("ADSL"))
        pairs = []
        for by in self.by:
            twin = by.order or (f"{by.variable}N" if f"{by.variable}N" in present else by.variable)
            pairs.append((by.variable, twin))
        return Grouping(tuple(pairs), total=self.total, levels=tuple(by.levels for by in self.by))


def filter_variables(where: Filter | None) -> list[str]:
    """The variables a filter reads (its keys and every `{var: NAME}` it compares with), in order."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in COMBINATORS:
                    for part in value if isinstance(value, list) else [value]:
                        walk(part)
                elif key == "var" and isinstance(value, str):
                    found.append(value)
                else:
                    if isinstance(key, str) and key.isupper():
                        found.append(key)
                    walk(value)
        elif isinstance(node, list):
            for part in node:
                walk(part)

    walk(where or {})
    return list(dict.fromkeys(found))


def records(data: AdamData, dataset: str, columns: list[str], where: Filter | None = None,
            what: str = "analysis") -> pd.DataFrame:
    """`columns` of the records of `dataset` meeting `where` (all records without one); a filter
    that names an unknown variable or is malformed is an InputError naming `what` (the shell)."""
    wanted = list(dict.fromkeys([*columns, *filter_variables(where)]))
    frame = data.frame(dataset, wanted)
    if not where:
        return frame[list(dict.fromkeys(columns))]
    try:
        keep = meets(frame, where, fn=what, arg="where")
    except SubmitError as exc:
        raise InputError(f"{what}: the filter of {dataset} cannot be applied",
                         [Problem(what, p.message, key="where") for p in exc.problems] or
                         [Problem(what, exc.summary, key="where")]) from None
    return frame.loc[keep.to_numpy(), list(dict.fromkeys(columns))]


def population(data: AdamData, shell, columns: Sequence[str] = ()) -> pd.DataFrame:
    """The ADSL subjects of the shell's population (USUBJID and `columns`): its flag = Y, or every
    ADSL subject when the shell names no flag."""
    flag = shell.population.flag
    if flag:
        return data.population(flag, columns)
    return data.frame("ADSL", ["USUBJID", *columns])


def table_columns(data: AdamData, shell, columns: ColumnsSpec) -> Columns:
    """The columns of `columns` over the shell's population."""
    grouping = columns.grouping(data)
    return columns_of(population(data, shell, grouping.needs), grouping)


def population_problems(data: AdamData, shell, columns: ColumnsSpec, file: str, key: str) -> list[Problem]:
    """The population flag and the `columns.by` variables (and their order twins) ADSL lacks."""
    named = {"population.flag": [shell.population.flag] if shell.population.flag else [],
             **{f"{key}.columns.by[{i}]": list(dict.fromkeys([by.variable, *([by.order] if by.order else [])]))
                for i, by in enumerate(columns.by)}}
    present = set(data.frame_columns("ADSL"))
    return [Problem(file, f"{data.source}/adsl.xpt has no variable {name}", key=part, column=name)
            for part, names in named.items() for name in names if name not in present]


def variable_problems(data: AdamData, dataset: str, named: Mapping[str, Sequence[str]], where: Filter | None,
                      file: str, key: str) -> list[Problem]:
    """What keeps a part of a shell from reading `dataset`: the dataset missing, a variable named
    under a key of `named` (key -> variables) or in `where` missing, a malformed `where`; each
    Problem names `file` and `key` plus the parameter's key (`layers[2].value`)."""
    if dataset not in data.datasets.names():
        return [Problem(file, f"dataset {dataset} is not in the ADaM data", key=f"{key}.dataset")]
    present = set(data.frame_columns(dataset))
    problems = [Problem(file, f"{data.source}/{dataset.lower()}.xpt has no variable {name}", key=f"{key}.{part}",
                        column=name)
                for part, names in {**named, "where": filter_variables(where)}.items()
                for name in dict.fromkeys(names) if name not in present]
    if where and not problems:
        try:  # the filter's syntax, on no records: nothing is computed yet
            meets(data.frame(dataset, filter_variables(where)).iloc[:0], where, fn=f"{dataset} filter", arg="where")
        except SubmitError as exc:
            problems += [Problem(file, p.message, key=f"{key}.where") for p in exc.problems] or \
                [Problem(file, exc.summary, key=f"{key}.where")]
    return problems
