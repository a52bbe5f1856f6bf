"""CSR 14.4: steady-state concentration and clearance by dose level and cycle (ADPP), peak cytokine
levels by dose schedule, cycle and dose step (ADLB, ANL01FL = Y).

Here a column does not hold subjects but records: a subject of the 5-15 schedule has a Css at
5 and one at 15 ug/m2/day in cycle 1. Cells that cannot occur (5 ug/m2/day in cycle 2) have no
ARD record (the shells print "-"); every other cell has the statistics of `submit.stats.summarize`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.stats import summarize, to_long
from submit.stats.descriptive import STATS
from submit.tlf.analysis.data import AdamData
from submit.tlf.analysis.summary import ARITHMETIC, Grouping, assemble, columns_from, columns_of, number_text

SCHEDULE = Grouping((("SCHED", "SCHEDN"),), total=False)
CYTOKINES = ("INTLK2", "INTLK6", "INTLK10", "TNF", "IFNG")  # ADLB PARAMCD, in table order
PK_CYCLES = (1, 2)  # the registry's PK cycles


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


def pk_parameter(output: str, paramcd: str):
    """14.4.1 / 14.4.2: `paramcd` (CSS or CL) of the PK-evaluable subjects per actual dose (columns
    DOSE, ordered by dose) and core study cycle (levels "1", "2")."""

    def analysis(data: AdamData, shell=None) -> pd.DataFrame:
        subjects = data.population("PKFL")["USUBJID"]
        adpp = data.frame("ADPP", ["USUBJID", "PARAMCD", "AVAL", "APHASE", "ACYCLE", "DOSEA"])
        records = adpp[(adpp["PARAMCD"] == paramcd) & (adpp["APHASE"] == "CORE STUDY")
                       & adpp["ACYCLE"].isin(PK_CYCLES) & adpp["USUBJID"].isin(subjects) & adpp["DOSEA"].notna()]
        doses = np.sort(records["DOSEA"].unique())
        columns = columns_from([("DOSE", text) for text in number_text(pd.Series(doses))], [])
        records = records.assign(col=np.searchsorted(doses, records["DOSEA"]), _cycle=number_text(records["ACYCLE"]))
        return assemble(output, columns, [_cells(records, paramcd, "_cycle", "ACYCLE", STATS)])

    analysis.__doc__ = f"{output}: ADPP {paramcd} by dose level and cycle."
    return analysis


def cytokine_peaks(data: AdamData, shell=None) -> pd.DataFrame:
    """14.4.3: the peak (ADLB ANL01FL = Y) of each cytokine per dose schedule (columns) and per
    cycle and dose step (levels "Cycle 1, dose step 1", ..., in order of AVISITN and DOSESTPN)."""
    population = data.population("CYTFL", SCHEDULE.needs)
    columns = columns_of(population, SCHEDULE)
    adlb = data.frame("ADLB", ["USUBJID", "PARAMCD", "AVAL", "ANL01FL", "AVISIT", "AVISITN", "DOSESTPN"])
    peaks = columns.attach(adlb[adlb["PARAMCD"].isin(CYTOKINES) & (adlb["ANL01FL"] == "Y")])
    steps = (peaks[["AVISITN", "AVISIT", "DOSESTPN"]].drop_duplicates().sort_values(["AVISITN", "DOSESTPN"])
             .reset_index(drop=True))
    # one label per distinct cycle and step (a handful), not per record
    steps["_step"] = (steps["AVISIT"].str.capitalize() + ", dose step " + number_text(steps["DOSESTPN"]))
    steps["_order"] = np.arange(len(steps))
    peaks = peaks.merge(steps, on=["AVISITN", "AVISIT", "DOSESTPN"], how="left")
    parts = [_cells(peaks[peaks["PARAMCD"] == code], code, "_step", "_order", ARITHMETIC) for code in CYTOKINES]
    return assemble("14.4.3", columns, parts)
