"""INTERIM, branch kinds-b only: a stand-in for the `summary` kind of the kinds-a helper, limited to
the count layers the 14.2 response shells use, so that this branch builds every MT103-206 output.
Delete this module (and its line in registry.ANALYSES) when kinds-a's `summary` is merged.

    {kind: summary, columns: {by: [TRT01A]}, layers: [{count: RESP, dataset: ADRS, where: {PARAMCD: RESP},
     value: AVALC, levels: ["Y"], ci: exact, denominator: {dataset: ADRS, where: {...}}}]}
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from submit.tlf.analysis.data import AdamData, one_per_subject
from submit.tlf.analysis.params import ColumnsSpec, Filter, Name, records
from submit.tlf.analysis.summary import assemble, big_n, columns_of, subject_counts


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Denominator(_Params):
    dataset: Name = "ADSL"
    where: Filter | None = None


class CountLayer(_Params):
    count: Name
    dataset: Name = "ADSL"
    where: Filter | None = None
    value: Name | None = None
    levels: tuple[str, ...] | None = None
    ci: Literal["exact"] | None = None
    denominator: Denominator | None = None


def summary(data: AdamData, shell, layers: tuple[CountLayer, ...], columns: ColumnsSpec = ColumnsSpec()):
    what = f"{shell.source or 'TLF shells'}, id {shell.id}.analysis"
    grouping = columns.grouping(data)
    flag = shell.population.flag
    population = data.population(flag, grouping.needs) if flag else data.frame("ADSL", ["USUBJID", *grouping.needs])
    cols = columns_of(population, grouping)
    parts = [big_n(cols)]
    for layer in layers:
        value = layer.value or layer.count
        found = one_per_subject(records(data, layer.dataset, ["USUBJID", value], layer.where, what=what),
                                f"{layer.dataset} {layer.where}")
        denominator = None
        if layer.denominator is not None:
            who = records(data, layer.denominator.dataset, ["USUBJID"], layer.denominator.where, what=what)["USUBJID"]
            found = found[found["USUBJID"].isin(who)]
            members = cols.members
            denominator = np.bincount(members.loc[members["USUBJID"].isin(who), "col"], minlength=cols.count)
        parts.append(subject_counts(found, cols, layer.count, value, layer.levels, denominator,
                                    with_ci=layer.ci is not None))
    return assemble(shell.id, cols, parts)
