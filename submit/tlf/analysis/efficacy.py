"""Efficacy: response rates with exact CIs (ADRS), time-to-event tables and Kaplan-Meier curves (ADTTE).

Response tables count one ADRS record per subject and parameter in every column of cohort, dose
schedule (ADSL SCHED) and Total; a treated subject without a record counts as a non-responder (the
denominator is the column's treated subjects). Which parameters, categories and time points: the
shell's analysis parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from submit.tlf.analysis.data import AdamData, one_per_subject
from submit.tlf.analysis.summary import (BY_COHORT_SCHEDULE, OVERALL, Columns, assemble, big_n, columns_of,
                                         subject_counts, time_to_event)
from submit.tlf.figure import KmCurve, curve_from_km
from submit.stats import kaplan_meier


class Categories(BaseModel):
    """An ADRS parameter whose AVALC categories are counted, e.g. the best overall response."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    paramcd: str
    levels: tuple[str, ...] = Field(min_length=1)  # every category shown, zero or not, in this order


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


def response_rate(data: AdamData, shell, paramcd: str, best_response: Categories | None = None) -> pd.DataFrame:
    """The rate of the shell's `paramcd` = Y among the treated subjects, n (%) with exact 95% CI;
    with `best_response`, also the count of each of its categories."""
    columns = columns_of(_treated(data), BY_COHORT_SCHEDULE)
    parts = [big_n(columns), _rate(data, columns, paramcd)]
    if best_response is not None:
        parts.append(subject_counts(_parameter(data, best_response.paramcd), columns, best_response.paramcd, "AVALC",
                                    best_response.levels))
    return assemble(shell.id, columns, parts)


def rate_with_responders(data: AdamData, shell, paramcd: str, responders: str) -> pd.DataFrame:
    """The rate of `paramcd` = Y among all treated subjects, and among the responders (subjects with
    ADRS `responders` = Y) as variable <paramcd>_<responders> with N = the responders of the column."""
    columns = columns_of(_treated(data), BY_COHORT_SCHEDULE)
    who = _parameter(data, responders)
    who = who.loc[who["AVALC"] == "Y", "USUBJID"]
    parts = [big_n(columns), _rate(data, columns, paramcd),
             _rate(data, columns, paramcd, f"{paramcd}_{responders}", within=who)]
    return assemble(shell.id, columns, parts)


def _tte_records(data: AdamData, paramcd: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(treated subjects with a `paramcd` record, their records): the analysis set of the endpoint
    is who has a record (overall survival: all treated; a relapse endpoint: the responders)."""
    adtte = data.frame("ADTTE", ["USUBJID", "PARAMCD", "AVAL", "CNSR"])
    treated = _treated(data)
    records = one_per_subject(adtte[(adtte["PARAMCD"] == paramcd) & adtte["USUBJID"].isin(treated["USUBJID"])],
                              f"ADTTE PARAMCD {paramcd}")
    return treated[treated["USUBJID"].isin(records["USUBJID"])], records


def survival_table(data: AdamData, shell, paramcd: str, months: tuple[float, ...]) -> pd.DataFrame:
    """Kaplan-Meier summary of ADTTE `paramcd` (one Total column): events, censored, median
    (95% CI) in months, and the estimate with its CI and the number at risk at each of `months`."""
    subjects, records = _tte_records(data, paramcd)
    columns = columns_of(subjects, OVERALL)
    return assemble(shell.id, columns, [big_n(columns), time_to_event(records, columns, paramcd, months)],
                    labels={"median": "Median (months)", "median_ci_low": "Median 95% CI lower limit (months)",
                            "median_ci_high": "Median 95% CI upper limit (months)"})


def survival_figure(data: AdamData, shell, paramcd: str) -> list[KmCurve]:
    """The Kaplan-Meier curve of ADTTE `paramcd` over its analysis set, labelled with the shell's
    population and N, in months, at risk at the shell's at_risk_times."""
    _, records = _tte_records(data, paramcd)
    fit = kaplan_meier(records["AVAL"].to_numpy(), 1 - records["CNSR"].to_numpy(), source=f"ADTTE {paramcd}")
    label = f"{shell.population.label} (N={fit.n})"
    return [curve_from_km(label, fit, shell.figure.at_risk_times)]
