"""PK and PD tables: a PK parameter by actual dose and cycle (ADPP), peak laboratory values by dose
schedule, cycle and dose step (ADLB, ANL01FL = Y).

Here a column does not hold subjects but records: a subject whose dose steps up within a cycle has
a PK parameter at each dose of that cycle. Cells that cannot occur (a starting dose that is never
given in a later cycle) have no ARD record (the shells print "-"); every other cell has the
statistics of `submit.stats.summarize`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.stats import summarize, to_long
from submit.stats.descriptive import STATS
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.summary import ARITHMETIC, Grouping, assemble, columns_from, columns_of, number_text

SCHEDULE = Grouping((("SCHED", "SCHEDN"),), total=False)


def _cells(records: pd.DataFrame, variable: str, level: str, level_order: str, stats) -> pd.DataFrame:
    """Statistics of AVAL per observed (col, level) of `records`, level-major (a row's cells together)."""
    wide = summarize(records, "AVAL", by=["col", level])
    long = to_long(wide, by=["col", level])
    long = long[long["stat_name"].isin(stats)]
    order = records[[level, level_order]].drop_duplicates().set_index(level)[level_order]
    long = long.assign(_order=long[level].map(order), _stat=long["stat_name"].map({s: i for i, s in enumerate(STATS)}))
    long = long.sort_values(["_order", "col", "_stat"], kind="stable")
    return pd.DataFrame({"col": long["col"].astype(np.int64).to_numpy(), "variable": variable,
                         "variable_level": long[level].to_numpy(dtype=object),
                         "stat_name": long["stat_name"].to_numpy(),
                         "stat": long["stat"].astype(float).to_numpy()})


def pk_parameter(data: AdamData, shell, paramcd: str, phase: str, cycles: tuple[float, ...]) -> pd.DataFrame:
    """ADPP `paramcd` of the PK-evaluable subjects (ADSL PKFL) in APHASE `phase` per actual dose
    (columns DOSE, ordered by dose) and cycle (ACYCLE of `cycles`, levels "1", "2", ...)."""
    subjects = data.population("PKFL")["USUBJID"]
    adpp = data.frame("ADPP", ["USUBJID", "PARAMCD", "AVAL", "APHASE", "ACYCLE", "DOSEA"])
    records = adpp[(adpp["PARAMCD"] == paramcd) & (adpp["APHASE"] == phase)
                   & adpp["ACYCLE"].isin(cycles) & adpp["USUBJID"].isin(subjects) & adpp["DOSEA"].notna()]
    doses = np.sort(records["DOSEA"].unique())
    columns = columns_from([("DOSE", text) for text in number_text(pd.Series(doses))], [])
    records = records.assign(col=np.searchsorted(doses, records["DOSEA"]), _cycle=number_text(records["ACYCLE"]))
    return assemble(shell.id, columns, [_cells(records, paramcd, "_cycle", "ACYCLE", STATS)])


def lab_peaks(data: AdamData, shell, params: tuple[str, ...]) -> pd.DataFrame:
    """The peak (ADLB ANL01FL = Y) of each ADLB PARAMCD of `params` (in this order) per dose
    schedule (columns) and per cycle and dose step (levels "Cycle 1, dose step 1", ..., in order of
    AVISITN and DOSESTPN), over the subjects of ADSL CYTFL = Y."""
    population = data.population("CYTFL", SCHEDULE.needs)
    columns = columns_of(population, SCHEDULE)
    adlb = data.frame("ADLB", ["USUBJID", "PARAMCD", "AVAL", "ANL01FL", "AVISIT", "AVISITN", "DOSESTPN"])
    peaks = columns.attach(adlb[adlb["PARAMCD"].isin(params) & (adlb["ANL01FL"] == "Y")])
    steps = (peaks[["AVISITN", "AVISIT", "DOSESTPN"]].drop_duplicates().sort_values(["AVISITN", "DOSESTPN"])
             .reset_index(drop=True))
    # one label per distinct cycle and step (a handful), not per record
    steps["_step"] = (steps["AVISIT"].str.capitalize() + ", dose step " + number_text(steps["DOSESTPN"]))
    steps["_order"] = np.arange(len(steps))
    peaks = peaks.merge(steps, on=["AVISITN", "AVISIT", "DOSESTPN"], how="left")
    parts = [_cells(peaks[peaks["PARAMCD"] == code], code, "_step", "_order", ARITHMETIC) for code in params]
    return assemble(shell.id, columns, parts)
