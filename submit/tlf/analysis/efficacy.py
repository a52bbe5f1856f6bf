"""CSR 14.2: response rates with exact CIs (ADRS), time-to-event tables and Kaplan-Meier curves (ADTTE).

Response tables count one ADRS record per subject and parameter (CRCRH, CR, CRH, PR, BOR,
MRDRESP, HSCT) in every column of cohort, dose schedule (ADSL SCHED) and Total; a treated subject
without a record counts as a non-responder (the denominator is the column's treated subjects).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from submit.tlf.analysis.data import AdamData, one_per_subject
from submit.tlf.analysis.summary import (BY_COHORT_SCHEDULE, OVERALL, Columns, assemble, big_n, columns_of,
                                         subject_counts, time_to_event)
from submit.tlf.figure import KmCurve, curve_from_km
from submit.stats import kaplan_meier

BOR_LEVELS = ("CR", "CRh*", "PR", "NR", "NE")  # ADRS BOR, best first (DESIGN.md)
RESPONDERS = "CRCRH"  # the parameter whose Y defines the responders of the *_CRCRH rows
TIMEPOINTS_MONTHS = (3, 6, 12)


def _treated(data: AdamData) -> pd.DataFrame:
    return data.population("SAFFL", BY_COHORT_SCHEDULE.needs)


def _parameter(data: AdamData, paramcd: str) -> pd.DataFrame:
    adrs = data.frame("ADRS", ["USUBJID", "PARAMCD", "AVALC"])
    return one_per_subject(adrs[adrs["PARAMCD"] == paramcd], f"ADRS PARAMCD {paramcd}")


def _rate(data: AdamData, columns: Columns, paramcd: str, variable: str | None = None,
          within: pd.Series | None = None) -> pd.DataFrame:
    """Subjects with AVALC = Y: n, N, p and exact 95% CI; `within` (USUBJID) restricts numerator
    and denominator to those subjects (N then counts them per column)."""
    records = _parameter(data, paramcd)
    denominator = None
    if within is not None:
        records = records[records["USUBJID"].isin(within)]
        denominator = np.bincount(columns.members.loc[columns.members["USUBJID"].isin(within), "col"],
                                  minlength=columns.count)
    return subject_counts(records, columns, variable or paramcd, "AVALC", ["Y"], denominator, with_ci=True)


def response(output: str, paramcd: str, best_response: bool = False):
    """14.2.1.x: the rate of `paramcd` = Y; with `best_response`, also the BOR categories."""

    def analysis(data: AdamData, shell=None) -> pd.DataFrame:
        columns = columns_of(_treated(data), BY_COHORT_SCHEDULE)
        parts = [big_n(columns), _rate(data, columns, paramcd)]
        if best_response:
            parts.append(subject_counts(_parameter(data, "BOR"), columns, "BOR", "AVALC", BOR_LEVELS))
        return assemble(output, columns, parts)

    analysis.__doc__ = f"{output}: {paramcd} = Y within 2 cycles, n (%) with exact 95% CI."
    return analysis


def rate_with_responders(output: str, paramcd: str):
    """14.2.2 / 14.2.3: the rate of `paramcd` = Y among all treated subjects and among the CR/CRh*
    responders (variable <paramcd>_CRCRH, N = responders in the column)."""

    def analysis(data: AdamData, shell=None) -> pd.DataFrame:
        columns = columns_of(_treated(data), BY_COHORT_SCHEDULE)
        responders = _parameter(data, RESPONDERS)
        responders = responders.loc[responders["AVALC"] == "Y", "USUBJID"]
        parts = [big_n(columns), _rate(data, columns, paramcd),
                 _rate(data, columns, paramcd, f"{paramcd}_{RESPONDERS}", within=responders)]
        return assemble(output, columns, parts)

    analysis.__doc__ = f"{output}: {paramcd} = Y, all treated and CR/CRh* responders, with exact 95% CI."
    return analysis


def _tte_records(data: AdamData, paramcd: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(treated subjects with a `paramcd` record, their records): the analysis set of the endpoint
    is who has a record (OS: all treated; RFS, TTHR: the CR/CRh* responders)."""
    adtte = data.frame("ADTTE", ["USUBJID", "PARAMCD", "AVAL", "CNSR"])
    treated = _treated(data)
    records = one_per_subject(adtte[(adtte["PARAMCD"] == paramcd) & adtte["USUBJID"].isin(treated["USUBJID"])],
                              f"ADTTE PARAMCD {paramcd}")
    return treated[treated["USUBJID"].isin(records["USUBJID"])], records


def survival_table(output: str, paramcd: str, months: Sequence[float] = TIMEPOINTS_MONTHS):
    """14.2.x.1: events, censored, median (95% CI) in months, KM estimates at `months`."""

    def analysis(data: AdamData, shell=None) -> pd.DataFrame:
        subjects, records = _tte_records(data, paramcd)
        columns = columns_of(subjects, OVERALL)
        return assemble(output, columns, [big_n(columns), time_to_event(records, columns, paramcd, months)],
                        labels={"median": "Median (months)", "median_ci_low": "Median 95% CI lower limit (months)",
                                "median_ci_high": "Median 95% CI upper limit (months)"})

    analysis.__doc__ = f"{output}: Kaplan-Meier summary of ADTTE {paramcd}."
    return analysis


def survival_figure(paramcd: str):
    """14.2.x.2: the Kaplan-Meier curve of the endpoint's analysis set, labelled with the shell's
    population, in months, at risk at the shell's at_risk_times."""

    def analysis(data: AdamData, shell) -> list[KmCurve]:
        _, records = _tte_records(data, paramcd)
        fit = kaplan_meier(records["AVAL"].to_numpy(), 1 - records["CNSR"].to_numpy(), source=f"ADTTE {paramcd}")
        label = f"{shell.population.label} (N={fit.n})"
        return [curve_from_km(label, fit, shell.figure.at_risk_times)]

    analysis.__doc__ = f"Kaplan-Meier curve of ADTTE {paramcd}."
    return analysis
