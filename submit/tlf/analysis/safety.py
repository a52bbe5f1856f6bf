"""Safety tables: treatment-emergent adverse events (ADAE TRTEMFL = Y) of the treated subjects.

Subjects are counted once per row: once per category of the overview, once per system organ class
(AEBODSYS) and once per preferred term (AEDECOD, level "<SOC> | <PT>"), at their worst grade in
the grade table. Percentages are of the treated subjects of the column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.summary import (BY_COHORT, Columns, assemble, big_n, columns_from, columns_of,
                                         count_subjects, subject_counts)
from submit.tlf.shell import LEVEL_PATH_SEPARATOR, TOTAL

GRADES = ("1", "2", "3", "4", "5")  # NCI CTCAE grades: the columns of the worst-grade table
AE_COLUMNS = ["USUBJID", "TRTEMFL", "AEBODSYS", "AEDECOD", "ATOXGRN", "AESER", "AREL", "DRINTFL", "DRWDFL"]
Subset = Callable[[pd.DataFrame], pd.Series]

# Overview rows: TEAE level -> which TEAEs count (also the subsets of the SOC/PT tables)
OVERVIEW: dict[str, Subset] = {
    "ANY": lambda ae: pd.Series(True, index=ae.index),
    "GE3": lambda ae: ae["ATOXGRN"] >= 3,
    "GR4": lambda ae: ae["ATOXGRN"] == 4,
    "GR5": lambda ae: ae["ATOXGRN"] == 5,
    "SER": lambda ae: ae["AESER"] == "Y",
    "REL": lambda ae: ae["AREL"] == "RELATED",
    "INT": lambda ae: ae["DRINTFL"] == "Y",
    "DSC": lambda ae: ae["DRWDFL"] == "Y",
}


TeaeCategory = Literal[tuple(OVERVIEW)]  # type: ignore[valid-type]  # a level of the overview


def _treated(data: AdamData) -> pd.DataFrame:
    return data.population("SAFFL", BY_COHORT.needs)


def _teae(data: AdamData, subset: Subset | None = None) -> pd.DataFrame:
    adae = data.frame("ADAE", AE_COLUMNS)
    teae = adae[adae["TRTEMFL"] == "Y"]
    teae = teae[subset(teae)] if subset is not None else teae
    return teae.assign(_pt=teae["AEBODSYS"] + LEVEL_PATH_SEPARATOR + teae["AEDECOD"], _any="ANY")


def teae_overview(data: AdamData, shell) -> pd.DataFrame:
    """Subjects with any TEAE, grade >= 3, grade 4, grade 5, serious, related, leading to
    interruption, leading to discontinuation."""
    columns = columns_of(_treated(data), BY_COHORT)
    teae = _teae(data)
    pairs = pd.concat([teae.loc[subset(teae), ["USUBJID"]].assign(_level=level) for level, subset in OVERVIEW.items()],
                      ignore_index=True)
    counts = subject_counts(pairs, columns, "TEAE", "_level", list(OVERVIEW))
    return assemble(shell.id, columns, [big_n(columns), counts])


def teae_soc_pt(data: AdamData, shell, category: TeaeCategory = "ANY") -> pd.DataFrame:
    """Subjects with a TEAE of `category` (a level of the overview: ANY, SER, REL, ...) overall
    (TEAE ANY), per SOC and per PT, by cohort and in total."""
    columns = columns_of(_treated(data), BY_COHORT)
    teae = _teae(data, OVERVIEW[category])
    parts = [big_n(columns), subject_counts(teae, columns, "TEAE", "_any", ["ANY"]),
             subject_counts(teae, columns, "AEBODSYS", "AEBODSYS"),
             subject_counts(teae, columns, "AEDECOD", "_pt")]
    return assemble(shell.id, columns, parts)


def teae_worst_grade(data: AdamData, shell) -> pd.DataFrame:
    """Per row (any TEAE, SOC, PT) each subject in the column of their worst grade and in
    Total (any grade); percentages of all treated subjects."""
    treated = _treated(data)
    labels = [("ATOXGR", grade) for grade in GRADES] + [("", TOTAL)]
    total_col = len(GRADES)
    columns: Columns = columns_from(labels, [pd.DataFrame({"USUBJID": treated["USUBJID"], "col": total_col})])
    teae = _teae(data)
    teae = teae[teae["USUBJID"].isin(treated["USUBJID"])]
    denominator = np.full(columns.count, len(treated))
    parts = [big_n(columns).query(f"col == {total_col}")]
    for variable, level, keys in (("TEAE", "_any", ["_any"]), ("AEBODSYS", "AEBODSYS", ["AEBODSYS"]),
                                  ("AEDECOD", "_pt", ["_pt"])):
        worst = teae.groupby(["USUBJID", *keys], sort=False)["ATOXGRN"].max().reset_index()
        grade_col = pd.Series(worst["ATOXGRN"].to_numpy(), dtype=float) - 1  # grade g -> column g - 1
        graded = worst[grade_col.between(0, total_col - 1).to_numpy()].assign(
            col=grade_col[grade_col.between(0, total_col - 1)].astype(np.int64).to_numpy())
        stacked = pd.concat([graded, worst.assign(col=total_col)], ignore_index=True)
        levels = sorted(worst[level].unique()) if variable != "TEAE" else ["ANY"]
        parts.append(count_subjects(stacked, columns.count, variable, level, levels, denominator))
    return assemble(shell.id, columns, parts)
