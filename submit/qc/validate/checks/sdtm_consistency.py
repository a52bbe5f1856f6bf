"""SDTM rules across records and domains, the kind CDISC CORE and the FDA business rules add to the
structural ones: visits with data are in SV, study days exist beside their dates, link identifiers
have a partner, standard results as text agree with their numbers, no subject date after the end of
participation, normal ranges are ranges, NOT DONE has a reason, AEs after the end of study, deaths
without a fatal AE, and EPOCH wherever a record has a complete date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.qc.validate.checks import Context, check, frame, issue, rows
from submit.qc.validate.iso8601 import FULL_DATE
from submit.qc.validate.package import Dataset

# Datasets without subject records of their own: relationships and supplemental qualifiers.
_NOT_OBSERVATIONS = ("SUPP", "RELREC", "SQ")


def _observations(ctx: Context) -> list[Dataset]:
    return [ds for name, ds in sorted(ctx.part.datasets.items())
            if "USUBJID" in ds.data and not name.startswith(_NOT_OBSERVATIONS)]


def _dates(ds: Dataset, variable: str) -> pd.Series:
    """The YYYY-MM-DD part of complete dates, "" otherwise (comparable as text)."""
    text = ds.text(variable)
    return text.str.slice(0, 10).where(text.str.match(FULL_DATE), "")


@check("visit_in_sv")
def visit_in_sv(ctx: Context):
    """Every (USUBJID, VISITNUM) of a record is a visit of the subject in SV."""
    sv = ctx.part.get("SV")
    known = (pd.MultiIndex.from_arrays([sv.text("USUBJID"), sv.text("VISITNUM")])
             if sv is not None and {"USUBJID", "VISITNUM"} <= set(sv.data) else pd.MultiIndex.from_arrays([[], []]))
    found = []
    for ds in _observations(ctx):
        if ds.name == "SV" or "VISITNUM" not in ds.data:
            continue
        keys = pd.MultiIndex.from_arrays([ds.text("USUBJID"), ds.text("VISITNUM")])
        missing = ~keys.isin(known) & ~ds.null("VISITNUM")
        found.append(rows(ds, missing, "VISITNUM", "no SV record of this subject and visit",
                          ds.text("USUBJID") + " / " + ds.text("VISITNUM")))
    return frame(found)


def _timing_pairs(ctx: Context) -> dict[str, str]:
    return dict(ctx.params.get("pairs", {"DTC": "DY", "STDTC": "STDY", "ENDTC": "ENDY"}))


@check("study_day_present")
def study_day_present(ctx: Context):
    """A --DTC, --STDTC or --ENDTC of the domain's prefix comes with its study day variable."""
    found = []
    for ds in _observations(ctx):
        prefix = ds.name[:2]
        for date_suffix, day_suffix in _timing_pairs(ctx).items():
            date, day = prefix + date_suffix, prefix + day_suffix
            if date in ds.data and day not in ds.data:
                found.append(issue(ds.name, day, detail=f"{date} is present but {day} is not"))
    return frame(found)


def _link_values(ds: Dataset, variable: str) -> pd.MultiIndex:
    keep = ~ds.null(variable)
    return pd.MultiIndex.from_arrays([ds.text("USUBJID")[keep], ds.text(variable)[keep]])


@check("link_partner")
def link_partner(ctx: Context):
    """--LNKID / --LNKGRP link records of two domains: a dataset carrying one needs another dataset
    with a link variable of the same kind, and a populated value the same value for the subject there."""
    found = []
    observations = _observations(ctx)
    for suffix in ctx.params.get("suffixes", ("LNKID", "LNKGRP")):
        carriers = {ds.name: ds.name[:2] + suffix for ds in observations if ds.name[:2] + suffix in ds.data}
        for ds in observations:
            variable = carriers.get(ds.name)
            if variable is None:
                continue
            partners = [o for o in observations if o.name in carriers and o.name != ds.name]
            if not partners:
                found.append(issue(ds.name, variable,
                                   detail=f"no other dataset has a --{suffix} variable to link {variable} to"))
                continue
            targets = _link_values(partners[0], carriers[partners[0].name])
            for o in partners[1:]:
                targets = targets.append(_link_values(o, carriers[o.name]))
            keys = pd.MultiIndex.from_arrays([ds.text("USUBJID"), ds.text(variable)])
            lonely = ~ds.null(variable) & ~keys.isin(targets)
            found.append(rows(ds, lonely, variable, f"no record of another dataset has this --{suffix} for the subject"))
    return frame(found)


_PLAIN_DECIMAL = r"^-?(?:\d+(?:\.\d*)?|\.\d+)$"


@check("stresc_matches_stresn")
def stresc_matches_stresn(ctx: Context):
    """Where --STRESN holds a number, --STRESC is that number as plain decimal text (no exponent)."""
    found = []
    for ds in _observations(ctx):
        prefix = ds.name[:2]
        c, n = prefix + "STRESC", prefix + "STRESN"
        if c not in ds.data or n not in ds.data or ds.is_char(n):
            continue
        number = ds.data[n].to_numpy(dtype="float64", na_value=np.nan)
        text = ds.text(c)
        plain = text.str.fullmatch(_PLAIN_DECIMAL).to_numpy()
        parsed = pd.to_numeric(text.where(plain), errors="coerce").to_numpy(dtype="float64")
        given = ~np.isnan(number)
        same = np.isclose(parsed, number, rtol=1e-9, atol=0.0)
        found.append(rows(ds, given & ~plain, c, f"{c} is not a plain decimal number though {n} is populated"))
        found.append(rows(ds, given & plain & ~same, c, f"{c} differs from {n}", text + " / " + ds.text(n)))
    return frame(found)


def _dm(ctx: Context) -> Dataset | None:
    dm = ctx.part.get("DM")
    return dm if dm is not None and "USUBJID" in dm.data else None


@check("date_after_end_of_participation")
def date_after_end_of_participation(ctx: Context):
    """No complete date of a subject is after DM.RFPENDTC (the end of participation), in any domain
    (SE excepted: its last element ends at RFPENDTC by definition) nor in DM's own dates."""
    dm = _dm(ctx)
    end = ctx.params.get("end", "RFPENDTC")
    if dm is None or end not in dm.data:
        return frame([])
    last = dict(zip(dm.text("USUBJID"), _dates(dm, end)))
    found = []
    for ds in _observations(ctx):
        subject_end = ds.text("USUBJID").map(last).fillna("")
        for v in (v for v in ds.meta.variables if v.endswith("DTC") and ds.is_char(v) and v != end):
            date = _dates(ds, v)
            after = ((date != "") & (subject_end != "") & (date > subject_end)).to_numpy()
            found.append(rows(ds, after, v, f"after DM.{end} " + subject_end, ds.text(v)))
    return frame(found)


@check("normal_range_low_equals_high")
def normal_range_low_equals_high(ctx: Context):
    """A normal range whose lower and upper limits are equal (--ORNRLO = --ORNRHI, --STNRLO = --STNRHI)."""
    found = []
    for ds in _observations(ctx):
        prefix = ds.name[:2]
        for lo, hi in ((prefix + "ORNRLO", prefix + "ORNRHI"), (prefix + "STNRLO", prefix + "STNRHI")):
            if lo in ds.data and hi in ds.data:
                same = ~ds.null(lo) & ~ds.null(hi) & (ds.text(lo) == ds.text(hi)).to_numpy()
                found.append(rows(ds, same, lo, f"{lo} equals {hi}", ds.text(lo) + " / " + ds.text(hi)))
    return frame(found)


@check("not_done_without_reason")
def not_done_without_reason(ctx: Context):
    """--STAT = NOT DONE with no --REASND (or no --REASND variable)."""
    found = []
    for ds in _observations(ctx):
        stat, reason = ds.name[:2] + "STAT", ds.name[:2] + "REASND"
        if stat not in ds.data:
            continue
        not_done = (ds.text(stat) == "NOT DONE").to_numpy()
        missing = ds.null(reason) if reason in ds.data else np.ones(ds.records, dtype=bool)
        found.append(rows(ds, not_done & missing, stat, f"NOT DONE without {reason}"))
    return frame(found)


@check("ae_after_end_of_study")
def ae_after_end_of_study(ctx: Context):
    """An adverse event starting after the subject's last disposition event (DS, DSCAT = DISPOSITION
    EVENT): the end of the study for the subject."""
    ae, ds = ctx.part.get("AE"), ctx.part.get("DS")
    if ae is None or ds is None or "AESTDTC" not in ae.data or not {"DSSTDTC", "DSCAT"} <= set(ds.data):
        return frame([])
    events = ds.text("DSCAT") == ctx.params.get("category", "DISPOSITION EVENT")
    last = _dates(ds, "DSSTDTC")[events].groupby(ds.text("USUBJID")[events]).max()
    end = ae.text("USUBJID").map(last).fillna("")
    start = _dates(ae, "AESTDTC")
    after = ((start != "") & (end != "") & (start > end)).to_numpy()
    return rows(ae, after, "AESTDTC", "after the subject's last disposition event " + end)


@check("death_without_fatal_ae")
def death_without_fatal_ae(ctx: Context):
    """A subject who died (DM.DTHFL = Y) has no adverse event with a fatal outcome (AEOUT = FATAL or
    AESDTH = Y)."""
    dm, ae = _dm(ctx), ctx.part.get("AE")
    if dm is None or "DTHFL" not in dm.data:
        return frame([])
    fatal = set()
    if ae is not None:
        mask = np.zeros(ae.records, dtype=bool)
        if "AEOUT" in ae.data:
            mask |= (ae.text("AEOUT") == "FATAL").to_numpy()
        if "AESDTH" in ae.data:
            mask |= (ae.text("AESDTH") == "Y").to_numpy()
        fatal = set(ae.text("USUBJID")[mask])
    died = (dm.text("DTHFL") == "Y").to_numpy()
    return rows(dm, died & ~dm.text("USUBJID").isin(fatal).to_numpy(), "DTHFL", "death with no fatal adverse event")


@check("epoch_missing")
def epoch_missing(ctx: Context):
    """EPOCH is null on a record whose --DTC (else --STDTC) is a complete date."""
    found = []
    for ds in _observations(ctx):
        if "EPOCH" not in ds.data:
            continue
        prefix = ds.name[:2]
        date = next((prefix + s for s in ("DTC", "STDTC") if prefix + s in ds.data), None)
        if date is None:
            continue
        complete = (_dates(ds, date) != "").to_numpy()
        found.append(rows(ds, complete & ds.null("EPOCH"), "EPOCH", f"EPOCH is null though {date} is a complete date",
                          ds.text(date)))
    return frame(found)
