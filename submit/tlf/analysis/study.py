"""Study population tables: disposition, demographics and baseline characteristics, exposure (ADSL, ADEX)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.tlf.analysis.data import AdamData, one_per_subject
from submit.tlf.analysis.summary import (BY_COHORT, assemble, big_n, columns_of, describe, number_text,
                                         subject_counts)

YES_NO = ("Y", "N")
EOT_STATUS = ("COMPLETED", "DISCONTINUED", "ONGOING")  # ADSL EOTSTT (all rows shown, zero or not)


def _population(data: AdamData, flag: str, more: list[str]) -> pd.DataFrame:
    return data.population(flag, [*BY_COHORT.needs, *more])


def _flag_y(frame: pd.DataFrame, columns, variable: str, flag: str | None = None) -> pd.DataFrame:
    """Subjects with `flag` = Y (n, p) as variable=`variable`, level Y."""
    return subject_counts(frame.assign(_level=frame[flag or variable]), columns, variable, "_level", ["Y"])


def disposition(data: AdamData, shell) -> pd.DataFrame:
    """Enrolled subjects; treatment, end of core study treatment and its reason, retreatment,
    transplant and survival status. Percentages of the enrolled subjects of each column."""
    adsl = _population(data, "ENRLFL", ["SAFFL", "EOTSTT", "DCTREAS", "RETRTFL", "HSCTFL", "DTHFL"])
    columns = columns_of(adsl, BY_COHORT)
    reasons = adsl[adsl["DCTREAS"] != ""]
    status = adsl.assign(DTHFL=np.where(adsl["DTHFL"] == "Y", "Y", "N"))  # ADSL leaves DTHFL blank for the living
    parts = [big_n(columns),
             _flag_y(adsl, columns, "ENRLFL"),
             _flag_y(adsl, columns, "SAFFL"),
             subject_counts(adsl, columns, "EOTSTT", "EOTSTT", EOT_STATUS),
             subject_counts(reasons, columns, "DCTREAS", "DCTREAS"),
             _flag_y(adsl, columns, "RETRTFL"),
             _flag_y(adsl, columns, "HSCTFL"),
             subject_counts(status, columns, "DTHFL", "DTHFL", ["N", "Y"])]
    return assemble(shell.id, columns, parts)


def demographics(data: AdamData, shell) -> pd.DataFrame:
    """Age, sex, race, body size, marrow blasts, prior HSCT and disease status at entry."""
    continuous = ["AGE", "HEIGHTBL", "WEIGHTBL", "BSABL", "BMBLBL"]
    adsl = _population(data, "SAFFL", [*continuous, "AGEGR1", "AGEGR1N", "SEX", "RACE", "PRHSCTFL", "DISSTAT"])
    columns = columns_of(adsl, BY_COHORT)
    age_groups = adsl.loc[adsl["AGEGR1"] != "", ["AGEGR1", "AGEGR1N"]].drop_duplicates().sort_values("AGEGR1N")
    parts = [big_n(columns), describe(adsl, columns, "AGE", "AGE"),
             subject_counts(adsl, columns, "AGEGR1", "AGEGR1", age_groups["AGEGR1"].tolist()),
             subject_counts(adsl, columns, "SEX", "SEX", ["M", "F"]),
             subject_counts(adsl, columns, "RACE", "RACE")]
    parts += [describe(adsl, columns, name, name) for name in continuous[1:]]
    parts += [subject_counts(adsl, columns, "PRHSCTFL", "PRHSCTFL", YES_NO),
              subject_counts(adsl, columns, "DISSTAT", "DISSTAT")]
    return assemble(shell.id, columns, parts)


def exposure(data: AdamData, shell) -> pd.DataFrame:
    """Core study cycles started (ADEX NCYCLE, CORE STUDY TOTAL), duration and cumulative
    dose over the core study and retreatment (OVERALL), infusion interruptions, retreatment."""
    adsl = _population(data, "SAFFL", ["RETRTFL"])
    adex = data.frame("ADEX", ["USUBJID", "PARAMCD", "AVISIT", "AVAL"])
    columns = columns_of(adsl, BY_COHORT)

    def param(code: str, visit: str) -> pd.DataFrame:
        rows = adex[(adex["PARAMCD"] == code) & (adex["AVISIT"] == visit)]
        return one_per_subject(rows, f"ADEX {code} {visit}")

    cycles = param("NCYCLE", "CORE STUDY TOTAL")
    cycle_counts = cycles.assign(_level=number_text(cycles["AVAL"]))
    cycle_levels = number_text(pd.Series(np.sort(cycles["AVAL"].dropna().unique()))).tolist()
    interrupted = param("NINTRP", "OVERALL")
    interrupted = interrupted.assign(_level=np.where(interrupted["AVAL"] > 0, "Y", "N"))
    parts = [big_n(columns), describe(cycles, columns, "NCYCLE", "AVAL"),
             subject_counts(cycle_counts, columns, "NCYCLEGR", "_level", cycle_levels),
             describe(param("TRTDURD", "OVERALL"), columns, "TRTDURD", "AVAL"),
             describe(param("CUMDOSE", "OVERALL"), columns, "CUMDOSE", "AVAL"),
             subject_counts(interrupted, columns, "INTRFL", "_level", ["Y"]),
             _flag_y(adsl, columns, "RETRTFL")]
    return assemble(shell.id, columns, parts)
