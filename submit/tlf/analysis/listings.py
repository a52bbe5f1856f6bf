"""Subject listings: one data frame per listing with the columns its shell names (the renderer
sorts and formats). Treated subjects only (ADSL SAFFL = Y), each with COHORT: the short code the
shell's `cohort_codes` gives the subject's ARMCD (the listings are too wide for the full TRT01A
text, which their footnotes spell out)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from submit.tlf.analysis.data import AdamData


def _treated(data: AdamData, cohort_codes: Mapping[str, str], more: list[str]) -> pd.DataFrame:
    """Treated subjects with COHORT (the ARMCD itself where `cohort_codes` has no code for it)."""
    treated = data.population("SAFFL", ["TRT01A", "ARMCD", *more])
    return treated.assign(COHORT=treated["ARMCD"].map(dict(cohort_codes)).fillna(treated["ARMCD"]))


def response_listing(data: AdamData, shell, cohort_codes: dict[str, str], assessment: str,
                     numbers: tuple[str, ...] = (), codes: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each response assessment (ADRS PARAMCD `assessment`, its AVALC and date) with the AVAL of
    the ADRS parameters `numbers` and the AVALC of `codes` at the same AVISIT, one column each
    (joined by subject and AVISIT: the assessment's components may carry their own dates)."""
    adrs = data.frame("ADRS", ["USUBJID", "PARAMCD", "AVAL", "AVALC", "AVISIT", "ADT", "ADY"])
    keys = ["USUBJID", "AVISIT"]
    assessments = adrs.loc[adrs["PARAMCD"] == assessment, [*keys, "ADT", "ADY", "AVALC"]]
    parts = adrs[adrs["PARAMCD"].isin(numbers + codes)]
    values = parts[parts["PARAMCD"].isin(numbers)].pivot(index=keys, columns="PARAMCD", values="AVAL")
    texts = parts[parts["PARAMCD"].isin(codes)].pivot(index=keys, columns="PARAMCD", values="AVALC")
    listing = (assessments.merge(values.reindex(columns=list(numbers)).reset_index(), on=keys, how="left")
               .merge(texts.reindex(columns=list(codes)).reset_index(), on=keys, how="left"))
    listing[list(codes)] = listing[list(codes)].fillna("")
    treated = _treated(data, cohort_codes, [])
    out = treated[["USUBJID", "TRT01A", "COHORT"]].merge(listing, on="USUBJID", how="inner")
    return out.assign(ADY=_whole(out["ADY"]))


def deaths_listing(data: AdamData, shell, cohort_codes: dict[str, str], teae_window_days: int) -> pd.DataFrame:
    """Treated subjects who died. DTHDY: study day of death (day 1 = first infusion); DTHTEFL:
    death within the TEAE window (up to `teae_window_days` after the last infusion, ADSL TRTEDT)."""
    adsl = _treated(data, cohort_codes, ["AGE", "SEX", "TRTSDT", "TRTEDT", "DTHFL", "DTHDT", "DTHCAUS"])
    dead = adsl[adsl["DTHFL"] == "Y"]
    window = pd.Timedelta(days=teae_window_days)
    study_day = (dead["DTHDT"] - dead["TRTSDT"]).dt.days
    within = dead["DTHDT"] <= dead["TRTEDT"] + window
    return dead.assign(DTHDY=(study_day + (study_day >= 0)).astype("Int64"),  # no day 0
                       DTHTEFL=np.where(dead["DTHDT"].isna() | dead["TRTEDT"].isna(), "",
                                        np.where(within, "Y", "N")))


def sae_listing(data: AdamData, shell, cohort_codes: dict[str, str]) -> pd.DataFrame:
    """Every serious adverse event (ADAE AESER = Y) of the treated subjects, treatment-emergent or not."""
    adae = data.frame("ADAE", ["USUBJID", "AESER", "AEBODSYS", "AEDECOD", "AETERM", "ASTDT", "ASTDY", "AENDT",
                               "ATOXGR", "AEREL", "AEACN", "AEOUT", "TRTEMFL"])
    treated = _treated(data, cohort_codes, [])
    out = treated[["USUBJID", "TRT01A", "COHORT"]].merge(adae[adae["AESER"] == "Y"].drop(columns="TRT01A", errors="ignore"),
                                               on="USUBJID", how="inner")
    return out.assign(ASTDY=_whole(out["ASTDY"]))


def _whole(days: pd.Series) -> pd.Series:
    """Study days as integers with missing values (a day is whole; blank where unknown)."""
    return days.round().astype("Int64")
