"""SDTM mapping algorithms: interventions, history and vital signs (CM, PR, MH, VS), registered on
import.

* `fixed_visit`: VISIT/VISITNUM for a form that belongs to one visit but has no visit column (height
  and weight on the screening demographics form), numbered by the same rule as `visit`/`visitnum`.
* `epoch_in_study`: EPOCH for records that may lie before the study (a prior transplant) or carry
  partial dates (therapies after blinatumomab), where `epoch` would call pre-study history SCREENING
  and leave every partial date without an epoch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.sdtm.algorithms import DomainContext, SourceContext, _visits, domain_algorithm, variable_algorithm

VISIT_FIELDS = ("VISIT", "VISITNUM")


def _bad(where: str, message: str) -> InputError:
    return InputError(f"Mapping of {where}", [Problem("mapping", message)])


@variable_algorithm
def fixed_visit(ctx: SourceContext, code: str, field: str = "VISIT") -> pd.Series:
    """VISIT (`field: VISIT`) or VISITNUM (`field: VISITNUM`) of one EDC visit code for every record
    of a source whose form is completed at a single visit and has no visit column of its own (height
    and weight on the screening demographics form: SCR -> SCREENING, 1). The code goes through the
    same parser as `visit`/`visitnum`, so these records cannot be numbered differently from the
    records of the same visit that carry the code."""
    where = f"{ctx.domain}.{ctx.target}"
    if field not in VISIT_FIELDS:
        raise _bad(where, f"fixed_visit: field must be one of {', '.join(VISIT_FIELDS)}, not {field!r}")
    if not isinstance(code, str) or _visits(pd.Series([code], dtype=object)).VISIT.isna().any():
        raise _bad(where, f"fixed_visit: {code!r} is not an EDC visit code (SCR, C1D8, RT1D29, UNS1)")
    return _visits(pd.Series(code, index=ctx.rows.index, dtype=object))[field]


_PAD = {4: ("-00-00", "-99-99"), 7: ("-00", "-99"), 10: ("", "")}  # below / above every real day


def _reference(df: pd.DataFrame, dm: pd.DataFrame, column: str) -> pd.Series:
    """The date part of a DM reference variable for each record's subject (NA when missing)."""
    ref = dm.set_index("USUBJID")[column].astype("string").str.slice(0, 10)
    day = df.USUBJID.map(ref).astype("string")
    return day.where((day.str.len() == 10).fillna(False))


def _epoch_of_day(day: pd.Series, consent: pd.Series, start: pd.Series, end: pd.Series) -> np.ndarray:
    """Epoch of complete (or padded) yyyy-mm-dd strings; "" before consent, for an untreated
    subject or without a day."""
    def yes(cond: pd.Series) -> np.ndarray:
        return cond.fillna(False).to_numpy(dtype=bool)

    known = yes(day.notna() & start.notna())
    pre = yes(consent.notna() & (day < consent))
    return np.select([~known | pre, yes(day < start), yes((day <= end) | end.isna())],
                     ["", "SCREENING", "TREATMENT"], "FOLLOW-UP")


@domain_algorithm
def derive_epoch_in_study(df: pd.DataFrame, ctx: DomainContext, dtc: str, target: str = "EPOCH") -> pd.DataFrame:
    """EPOCH from a record's date by the rule of `epoch` (SCREENING before the date of DM.RFXSTDTC,
    TREATMENT up to the date of DM.RFXENDTC, FOLLOW-UP after; null for an untreated subject), with
    two additions for history and post-study records:
    - a date before informed consent (DM.RFICDTC) has no epoch: pre-study history, such as an
      allogeneic transplant two years before the study, did not happen in the screening epoch;
    - a partial date takes the epoch in which both its first and its last possible day fall
      (a therapy started in 2011-05 is FOLLOW-UP when the last infusion was in April 2011), and
      stays null when they fall in different epochs. Nothing is imputed in --DTC itself."""
    if dtc not in df.columns:
        raise _bad(f"{ctx.domain}.{target}", f"epoch_in_study: {dtc} is not a variable of the domain")
    if ctx.dm is None or not {"USUBJID", "RFICDTC", "RFXSTDTC", "RFXENDTC"} <= set(ctx.dm.columns):
        raise _bad(f"{ctx.domain}.{target}", "epoch_in_study: needs DM with RFICDTC, RFXSTDTC and RFXENDTC")
    consent, start, end = (_reference(df, ctx.dm, c) for c in ("RFICDTC", "RFXSTDTC", "RFXENDTC"))
    text = df[dtc].astype("string").str.slice(0, 10)
    size = text.str.len()
    epochs = []
    for side in (0, 1):  # the first and the last possible day of the period the date stands for
        day = pd.Series(pd.NA, index=df.index, dtype="string")
        for length, pads in _PAD.items():
            day = day.mask((size == length).fillna(False), text + pads[side])
        epochs.append(_epoch_of_day(day, consent, start, end))
    same = (epochs[0] == epochs[1]) & (epochs[0] != "")
    df[target] = pd.Series(np.where(same, epochs[0], None), index=df.index, dtype=object)
    return df
