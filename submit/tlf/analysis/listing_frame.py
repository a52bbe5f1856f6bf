"""`listing`: the data frame of a listing, one row per record of a dataset, with the columns the
listing shell names (the renderer sorts and formats it).

    analysis:
      kind: listing
      dataset: ADAE                                   # default ADSL
      where: {AESER: Y}                               # the rows (submit.adam.filters syntax)
      subject_variables: [TRT01A, ARMCD]              # from ADSL (replacing the dataset's own copy)
      recode: {COHORT: {from: ARMCD, map: {ARM1: "1", ARM2A: "2a"}}}   # unmapped values kept as they are
      study_days: {DTHDY: {date: DTHDT, reference: TRTSDT}}             # day 1 = reference, no day 0
      flags: {DTHTEFL: {DTHDT: {le: {var: TRTEDT, days: 30}}}}         # Y / N; blank where a variable it reads is missing
      pivot: {key: [USUBJID, AVISIT], parameter: PARAMCD, numbers: [BMBLAST], codes: [EMD]}
             # one column per parameter of the same dataset: AVAL of `numbers`, AVALC of `codes`,
             # joined on `key` (blank where the key has no such record)

Rows: the records of `dataset` meeting `where` of the shell's population subjects (ADSL flag; no
flag: all). Columns read from the dataset: every column and sort key the shell names that no
option above makes, and the variables those options read. A numeric column shown without a
`format` whose values are whole (study days, ages) is an integer with missing values (Int64).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from submit.adam.filters import meets
from submit.errors import DataCheckError, Problem
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import Filter, Name, filter_variables, records


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Recode(_Params):
    source: Name = Field(alias="from")
    map: dict[str, str]


class StudyDay(_Params):
    date: Name
    reference: Name


class Pivot(_Params):
    key: tuple[Name, ...] = Field(min_length=1)
    parameter: Name = "PARAMCD"
    numbers: tuple[str, ...] = ()  # parameters whose `number_value` becomes a column
    codes: tuple[str, ...] = ()  # parameters whose `code_value` becomes a column
    number_value: Name = "AVAL"
    code_value: Name = "AVALC"
    where: Filter | None = None  # which records of the dataset to take the values from


def listing(data: AdamData, shell, dataset: Name = "ADSL", where: Filter | None = None,
            subject_variables: tuple[Name, ...] = (), recode: dict[Name, Recode] | None = None,
            study_days: dict[Name, StudyDay] | None = None, flags: dict[Name, Filter] | None = None,
            pivot: Pivot | None = None) -> pd.DataFrame:
    """The listing frame: records, subject variables, recoded codes, study days, flags, pivoted values."""
    what = f"{shell.source or 'TLF shells'}, id {shell.id}.analysis"
    recode, study_days, flags = recode or {}, study_days or {}, flags or {}
    made = {*recode, *study_days, *flags, *(pivot.numbers + pivot.codes if pivot else ())}
    shown = [c.name for c in shell.columns] + list(shell.sort_by)
    reads = [*(r.source for r in recode.values()), *(v for d in study_days.values() for v in (d.date, d.reference)),
             *(v for f in flags.values() for v in filter_variables(f)), *(pivot.key if pivot else ())]
    subject = set(subject_variables)
    from_dataset = [v for v in dict.fromkeys(["USUBJID", *shown, *reads]) if v not in made and v not in subject]
    if dataset == "ADSL":
        from_dataset = list(dict.fromkeys([*from_dataset, *subject_variables]))
    rows = records(data, dataset, from_dataset, where, what=what)
    flag = shell.population.flag
    adsl_vars = [] if dataset == "ADSL" else list(subject_variables)
    population = (data.population(flag, adsl_vars) if flag else data.frame("ADSL", ["USUBJID", *adsl_vars]))
    population = population[["USUBJID", *adsl_vars]]
    out = population.merge(rows, on="USUBJID", how="inner", sort=False)
    for name, spec in recode.items():
        out[name] = out[spec.source].map(spec.map).fillna(out[spec.source])
    for name, spec in study_days.items():
        days = (out[spec.date] - out[spec.reference]).dt.days
        out[name] = (days + (days >= 0)).astype("Int64")  # no day 0
    for name, condition in flags.items():
        known = np.logical_and.reduce([_present(out[v]) for v in filter_variables(condition)] or [np.ones(len(out), bool)])
        held = meets(out, condition, fn=what, arg=f"flags.{name}").to_numpy(dtype=bool)
        out[name] = np.where(known, np.where(held, "Y", "N"), "")
    if pivot is not None:
        out = _pivoted(data, dataset, out, pivot, what)
    formatted = {c.name for c in shell.columns if c.format}
    for name in out.columns:
        if name not in formatted and pd.api.types.is_float_dtype(out[name]):
            finite = out[name].dropna()
            if (finite == np.floor(finite)).all():
                out[name] = out[name].round().astype("Int64")
    return out.reset_index(drop=True)


def _present(values: pd.Series) -> np.ndarray:
    return (values.notna() & (values.astype(str) != "")).to_numpy(dtype=bool)


def _pivoted(data: AdamData, dataset: str, out: pd.DataFrame, pivot: Pivot, what: str) -> pd.DataFrame:
    """`out` with one column per pivoted parameter, joined on the key (left join)."""
    keys = list(pivot.key)
    wanted = pivot.numbers + pivot.codes
    values = records(data, dataset, [*keys, pivot.parameter, pivot.number_value, pivot.code_value], pivot.where,
                     what=what)
    values = values[values[pivot.parameter].isin(wanted)]
    repeated = values.duplicated([*keys, pivot.parameter], keep=False)
    if repeated.any():
        first = values[repeated].iloc[0]
        raise DataCheckError(f"{dataset}: a pivoted parameter has more than one record per {', '.join(keys)}",
                             [Problem(what, f"{int(repeated.sum())} records repeat a key, e.g. "
                                            f"{', '.join(str(first[k]) for k in [*keys, pivot.parameter])}",
                                      key="pivot")])
    for names, source, blank in ((pivot.numbers, pivot.number_value, np.nan), (pivot.codes, pivot.code_value, "")):
        if not names:
            continue
        part = values[values[pivot.parameter].isin(names)].pivot(index=keys, columns=pivot.parameter, values=source)
        out = out.merge(part.reindex(columns=list(names)).reset_index(), on=keys, how="left")
        if isinstance(blank, str):
            out[list(names)] = out[list(names)].astype(object).fillna(blank)  # all-missing columns are float
    return out
