"""The subjects a table counts: the ADSL subjects of the shell's population flag (all ADSL subjects
when the shell names none), split into the columns of `columns:`. Shared by the kinds of shift.py
and visits.py."""

from __future__ import annotations

from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.params import ColumnsSpec
from submit.tlf.analysis.summary import Columns, columns_of


def shell_source(shell) -> str:
    """Where a shell's problems are reported: its file (the registry adds the output id)."""
    return shell.source or f"TLF shell {shell.id}"


def population_columns(data: AdamData, shell, columns: ColumnsSpec) -> Columns:
    """The columns of `columns` over the shell's population (ADSL `population.flag` = Y)."""
    grouping = columns.grouping(data)
    flag = shell.population.flag
    adsl = data.frame("ADSL", ["USUBJID", *([flag] if flag else []), *grouping.needs])
    if flag:
        adsl = adsl[adsl[flag] == "Y"]
    return columns_of(adsl, grouping)
