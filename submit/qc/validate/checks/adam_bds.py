"""ADaM rules of the ADaMIG 1.3 structures (ADSL, BDS, BDS time-to-event, OCCDS): required variables
per structure, dates and datetimes that agree, study days from TRTSDT, PARAMCD/PARAMN and AVAL/AVALC
one-to-one, one baseline record per subject and parameter, CHG = AVAL - BASE, censoring with its
descriptions, treatment-emergent flags against dates and ASEQ unique per subject.

The structure of a dataset is read from its variables, as a validator without metadata must: ADSL by
name, BDS by PARAMCD (time-to-event when it has CNSR), OCCDS the other subject datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.qc.validate.checks import Context, check, frame, issue, rows
from submit.qc.validate.package import Dataset

SECONDS_PER_DAY = 86400.0


def structure(ds: Dataset) -> str:
    if ds.name == "ADSL":
        return "ADSL"
    if "PARAMCD" in ds.data:
        return "ADTTE" if "CNSR" in ds.data else "BDS"
    return "OCCDS" if "USUBJID" in ds.data else "OTHER"


def _number(ds: Dataset, variable: str) -> np.ndarray:
    if ds.is_char(variable):
        return pd.to_numeric(ds.text(variable), errors="coerce").to_numpy(dtype="float64")
    return ds.data[variable].to_numpy(dtype="float64", na_value=np.nan)


@check("adam_required_variables")
def required_variables(ctx: Context):
    """`params.required`: structure -> variables; an entry "A|B" is met by either variable."""
    found = []
    for name, ds in sorted(ctx.part.datasets.items()):
        for entry in ctx.params.get("required", {}).get(structure(ds), ()):
            options = entry.split("|")
            if not any(v in ds.data for v in options):
                found.append(issue(name, options[0] if len(options) == 1 else entry,
                                   detail=f"required in an {structure(ds)} dataset: {' or '.join(options)}"))
    return frame(found)


@check("adam_date_datetime_agree")
def date_datetime_agree(ctx: Context):
    """*DT is the date part of *DTM wherever both are populated (SAS dates in days, datetimes in seconds)."""
    found = []
    for ds in ctx.part.datasets.values():
        for dtm in (v for v in ds.data if v.endswith("DTM") and not ds.is_char(v)):
            dt = dtm[:-1]
            if dt not in ds.data or ds.is_char(dt):
                continue
            date, moment = _number(ds, dt), _number(ds, dtm)
            both = ~np.isnan(date) & ~np.isnan(moment)
            differ = both & (np.floor(np.where(both, moment, 0) / SECONDS_PER_DAY) != np.where(both, date, 0))
            if differ.any():  # the values shown are text of whole columns: built only when needed
                found.append(rows(ds, differ, dt, f"{dt} is not the date of {dtm}",
                                  ds.text(dt) + " / " + ds.text(dtm)))
    return frame(found)


@check("adam_study_day")
def study_day(ctx: Context):
    """`params.pairs` (day -> date, e.g. ADY: ADT): the day is date - TRTSDT, + 1 on or after TRTSDT
    (ADaMIG: no day 0), with TRTSDT from the record or else from the subject's ADSL record."""
    adsl = ctx.part.get("ADSL")
    reference = (dict(zip(adsl.text("USUBJID"), _number(adsl, "TRTSDT")))
                 if adsl is not None and {"USUBJID", "TRTSDT"} <= set(adsl.data) else {})
    found = []
    for ds in ctx.part.datasets.values():
        if "USUBJID" not in ds.data:
            continue
        trtsdt = None
        for day, date in ctx.params.get("pairs", {}).items():
            if day not in ds.data or date not in ds.data:
                continue
            if trtsdt is None:
                trtsdt = (_number(ds, "TRTSDT") if "TRTSDT" in ds.data
                          else ds.text("USUBJID").map(reference).to_numpy(dtype="float64", na_value=np.nan))
            diff = _number(ds, date) - trtsdt
            expected = np.where(diff >= 0, diff + 1, diff)
            actual = _number(ds, day)
            wrong = ~np.isnan(expected) & ~np.isnan(actual) & (actual != expected)
            detail = np.full(ds.records, "", dtype=object)
            detail[wrong] = [f"expected {x:g} from {date} and TRTSDT" for x in expected[wrong]]
            found.append(rows(ds, wrong, day, detail))
    return frame(found)


@check("adam_one_to_one")
def one_to_one(ctx: Context):
    """`params.pairs`: [A, B] populated together map one-to-one, within `params.within` when given
    (e.g. AVAL and AVALC within PARAMCD)."""
    within = list(ctx.params.get("within", ()))
    found = []
    for ds in ctx.part.datasets.values():
        for a, b in ctx.params["pairs"]:
            if a not in ds.data or b not in ds.data or any(w not in ds.data for w in within):
                continue
            table = pd.DataFrame({**{w: ds.text(w) for w in within}, a: ds.text(a), b: ds.text(b)})
            both = (~ds.null(a) & ~ds.null(b))
            distinct = table[both].drop_duplicates()
            bad = np.zeros(ds.records, dtype=bool)
            for x, y in ((a, b), (b, a)):
                counts = distinct.groupby([*within, x])[y].nunique()
                many = counts[counts > 1].index
                key = pd.MultiIndex.from_frame(table[[*within, x]]) if within else pd.Index(table[x])
                bad |= both & key.isin(many)
            scope = f" within {', '.join(within)}" if within else ""
            found.append(rows(ds, bad, a, f"{a} and {b} are not one-to-one{scope}", table[a] + " / " + table[b]))
    return frame(found)


@check("adam_one_baseline")
def one_baseline(ctx: Context):
    """At most one record with ABLFL = Y per USUBJID, PARAMCD and, where present, BASETYPE and APERIOD."""
    found = []
    for ds in ctx.part.datasets.values():
        if not {"USUBJID", "PARAMCD", "ABLFL"} <= set(ds.data):
            continue
        by = ["USUBJID", "PARAMCD", *(v for v in ("BASETYPE", "APERIOD") if v in ds.data)]
        flagged = (ds.text("ABLFL") == "Y").to_numpy()
        keys = pd.DataFrame({v: ds.text(v) for v in by})
        dup = keys[flagged].duplicated(keep=False).reindex(keys.index, fill_value=False).to_numpy()
        found.append(rows(ds, dup, "ABLFL", f"more than one ABLFL = Y per {', '.join(by)}"))
    return frame(found)


@check("adam_change_from_baseline")
def change_from_baseline(ctx: Context):
    """CHG = AVAL - BASE where all three are populated (to 1e-9 relative, float noise)."""
    found = []
    for ds in ctx.part.datasets.values():
        if not {"AVAL", "BASE", "CHG"} <= set(ds.data):
            continue
        aval, base, chg = _number(ds, "AVAL"), _number(ds, "BASE"), _number(ds, "CHG")
        known = ~np.isnan(aval) & ~np.isnan(base) & ~np.isnan(chg)
        wrong = known & ~np.isclose(chg, aval - base, rtol=1e-9, atol=1e-9)
        found.append(rows(ds, wrong, "CHG", "CHG is not AVAL - BASE"))
    return frame(found)


@check("adam_censoring_descriptions")
def censoring_descriptions(ctx: Context):
    """An event (CNSR = 0) has EVNTDESC and no CNSDTDSC; a censored record (CNSR > 0) has CNSDTDSC
    (each where the variable exists)."""
    found = []
    for ds in ctx.part.datasets.values():
        if "CNSR" not in ds.data:
            continue
        cnsr = _number(ds, "CNSR")
        event, censored = cnsr == 0, cnsr > 0
        if "EVNTDESC" in ds.data:
            found.append(rows(ds, event & ds.null("EVNTDESC"), "EVNTDESC", "event (CNSR = 0) without EVNTDESC"))
        if "CNSDTDSC" in ds.data:
            found.append(rows(ds, event & ~ds.null("CNSDTDSC"), "CNSDTDSC", "event (CNSR = 0) with a CNSDTDSC"))
            found.append(rows(ds, censored & ds.null("CNSDTDSC"), "CNSDTDSC", "censored (CNSR > 0) without CNSDTDSC"))
    return frame(found)


@check("adam_treatment_emergent_dates")
def treatment_emergent_dates(ctx: Context):
    """TRTEMFL = Y on a record starting (ASTDT) before the first dose (TRTSDT)."""
    adsl = ctx.part.get("ADSL")
    reference = (dict(zip(adsl.text("USUBJID"), _number(adsl, "TRTSDT")))
                 if adsl is not None and {"USUBJID", "TRTSDT"} <= set(adsl.data) else {})
    found = []
    for ds in ctx.part.datasets.values():
        if not {"USUBJID", "TRTEMFL", "ASTDT"} <= set(ds.data):
            continue
        trtsdt = (_number(ds, "TRTSDT") if "TRTSDT" in ds.data
                  else ds.text("USUBJID").map(reference).to_numpy(dtype="float64", na_value=np.nan))
        start = _number(ds, "ASTDT")
        before = (ds.text("TRTEMFL") == "Y").to_numpy() & (start < trtsdt)  # NaN compares False
        found.append(rows(ds, before, "TRTEMFL", "TRTEMFL = Y but ASTDT is before TRTSDT"))
    return frame(found)


@check("adam_aseq_unique")
def aseq_unique(ctx: Context):
    found = []
    for ds in ctx.part.datasets.values():
        if not {"USUBJID", "ASEQ"} <= set(ds.data):
            continue
        keys = pd.DataFrame({"u": ds.text("USUBJID"), "s": ds.text("ASEQ")})
        dup = keys.duplicated(keep=False).to_numpy() & ~ds.null("ASEQ")
        found.append(rows(ds, dup, "ASEQ", "ASEQ is not unique within USUBJID"))
    return frame(found)
