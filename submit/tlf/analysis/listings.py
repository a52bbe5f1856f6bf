"""CSR 16.2 listings: one data frame per listing with the columns its shell names (the renderer
sorts and formats). Treated subjects only (ADSL SAFFL = Y)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.tlf.analysis.data import AdamData

RESPONSE_NUMBERS = ("BMBLAST", "PBBLAST", "PLAT", "HGB", "ANC")  # ADRS components with AVAL
RESPONSE_CODES = ("EMD", "INVRESP")  # ADRS parameters with AVALC (besides OVRLRESP)


def _treated(data: AdamData, more: list[str]) -> pd.DataFrame:
    """Treated subjects with COHORT, the cohort's short code of the study configuration ("2a"): the
    listings are too wide for the full TRT01A text, which their footnotes spell out."""
    treated = data.population("SAFFL", ["TRT01A", "ARMCD", *more])
    code = {cohort.armcd: cohort.code for cohort in data.study.cohorts}
    return treated.assign(COHORT=treated["ARMCD"].map(code).fillna(treated["ARMCD"]))


def response(data: AdamData, shell=None) -> pd.DataFrame:
    """16.2.6.1: each bone marrow assessment (ADRS OVRLRESP) with its component values and the
    investigator's response, joined by subject and AVISIT (the assessment's components may carry
    their own dates)."""
    adrs = data.frame("ADRS", ["USUBJID", "PARAMCD", "AVAL", "AVALC", "AVISIT", "ADT", "ADY"])
    keys = ["USUBJID", "AVISIT"]
    assessments = adrs.loc[adrs["PARAMCD"] == "OVRLRESP", [*keys, "ADT", "ADY", "AVALC"]]
    parts = adrs[adrs["PARAMCD"].isin(RESPONSE_NUMBERS + RESPONSE_CODES)]
    numbers = parts[parts["PARAMCD"].isin(RESPONSE_NUMBERS)].pivot(index=keys, columns="PARAMCD", values="AVAL")
    codes = parts[parts["PARAMCD"].isin(RESPONSE_CODES)].pivot(index=keys, columns="PARAMCD", values="AVALC")
    listing = (assessments.merge(numbers.reindex(columns=list(RESPONSE_NUMBERS)).reset_index(), on=keys, how="left")
               .merge(codes.reindex(columns=list(RESPONSE_CODES)).reset_index(), on=keys, how="left"))
    listing[list(RESPONSE_CODES)] = listing[list(RESPONSE_CODES)].fillna("")
    treated = _treated(data, [])
    out = treated[["USUBJID", "TRT01A", "COHORT"]].merge(listing, on="USUBJID", how="inner")
    return out.assign(ADY=_whole(out["ADY"]))


def deaths(data: AdamData, shell=None) -> pd.DataFrame:
    """16.2.7.1: treated subjects who died. DTHDY: study day of death (day 1 = first infusion);
    DTHTEFL: death within the TEAE window (up to the AE follow-up days after the last infusion)."""
    adsl = _treated(data, ["AGE", "SEX", "TRTSDT", "TRTEDT", "DTHFL", "DTHDT", "DTHCAUS"])
    dead = adsl[adsl["DTHFL"] == "Y"]
    window = pd.Timedelta(days=data.study.schedule.ae_follow_up_days)
    study_day = (dead["DTHDT"] - dead["TRTSDT"]).dt.days
    within = dead["DTHDT"] <= dead["TRTEDT"] + window
    return dead.assign(DTHDY=(study_day + (study_day >= 0)).astype("Int64"),  # no day 0
                       DTHTEFL=np.where(dead["DTHDT"].isna() | dead["TRTEDT"].isna(), "",
                                        np.where(within, "Y", "N")))


def serious_adverse_events(data: AdamData, shell=None) -> pd.DataFrame:
    """16.2.7.2: every serious adverse event of the treated subjects, treatment-emergent or not."""
    adae = data.frame("ADAE", ["USUBJID", "AESER", "AEBODSYS", "AEDECOD", "AETERM", "ASTDT", "ASTDY", "AENDT",
                               "ATOXGR", "AEREL", "AEACN", "AEOUT", "TRTEMFL"])
    treated = _treated(data, [])
    out = treated[["USUBJID", "TRT01A", "COHORT"]].merge(adae[adae["AESER"] == "Y"].drop(columns="TRT01A", errors="ignore"),
                                               on="USUBJID", how="inner")
    return out.assign(ASTDY=_whole(out["ASTDY"]))


def _whole(days: pd.Series) -> pd.Series:
    """Study days as integers with missing values (a day is whole; blank where unknown)."""
    return days.round().astype("Int64")
