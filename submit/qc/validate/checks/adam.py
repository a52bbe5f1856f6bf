"""ADaM data rules: ADSL one record per subject, PARAMCD form and its one-to-one PARAM, CNSR
values, ADSL variables carried unchanged into other datasets, subjects traceable to ADSL and DM,
and SRCDOM/SRCVAR/SRCSEQ pointing at real records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.qc.validate.checks import Context, Skipped, check, frame, rows
from submit.qc.validate.package import Dataset

PARAMCD = r"^[A-Z_][A-Z0-9_]{0,7}$"


def _adsl(ctx: Context) -> Dataset:
    adsl = ctx.part.get("ADSL")
    if adsl is None or "USUBJID" not in adsl.data:
        raise Skipped("no ADSL with USUBJID")
    return adsl


@check("adsl_one_record_per_subject")
def adsl_unique(ctx: Context):
    adsl = _adsl(ctx)
    text = adsl.text("USUBJID")
    return rows(adsl, text.duplicated(keep=False).to_numpy() | (text == "").to_numpy(), "USUBJID",
                "not one ADSL record per subject")


def _with(ctx: Context, *variables: str):
    return [ds for ds in ctx.part.datasets.values() if all(v in ds.data for v in variables)]


@check("paramcd_format")
def paramcd_format(ctx: Context):
    return frame([rows(ds, (~ds.text("PARAMCD").str.match(PARAMCD)).to_numpy() & ~ds.null("PARAMCD"), "PARAMCD",
                       "more than 8 characters, or not A-Z, 0-9, _ starting with a letter or _")
                  for ds in _with(ctx, "PARAMCD")])


@check("param_paramcd_one_to_one")
def param_one_to_one(ctx: Context):
    found = []
    for ds in _with(ctx, "PARAMCD", "PARAM"):
        pairs = pd.DataFrame({"PARAMCD": ds.text("PARAMCD"), "PARAM": ds.text("PARAM")})
        distinct = pairs.drop_duplicates()
        for a, b in (("PARAMCD", "PARAM"), ("PARAM", "PARAMCD")):
            counts = distinct.groupby(a)[b].nunique()
            many = pairs[a].isin(counts.index[counts > 1]).to_numpy()
            found.append(rows(ds, many, a, f"{a} has more than one {b}", pairs[a] + " / " + pairs[b]))
    return frame(found)


@check("cnsr_values")
def cnsr_values(ctx: Context):
    allowed = [float(v) for v in ctx.params.get("allowed", (0, 1))]
    found = []
    for ds in _with(ctx, "CNSR"):
        values = ds.data["CNSR"]
        if ds.is_char("CNSR"):
            values = pd.to_numeric(values, errors="coerce")
        bad = ~np.isin(values.to_numpy(dtype="float64", na_value=np.nan), allowed)
        found.append(rows(ds, bad, "CNSR", f"CNSR is not one of {', '.join(f'{a:g}' for a in allowed)}"))
    return frame(found)


@check("adsl_variables_consistent")
def adsl_consistent(ctx: Context):
    """A variable of ADSL in another ADaM dataset holds the subject's ADSL value."""
    adsl = _adsl(ctx)
    subjects = pd.Index(adsl.text("USUBJID"))
    first = np.flatnonzero(~subjects.duplicated())  # a duplicated ADSL subject is SUB-ADAM-001's finding
    subjects = subjects[first]
    found = []
    for name, ds in ctx.part.datasets.items():
        if name == "ADSL" or "USUBJID" not in ds.data:
            continue
        found_at = subjects.get_indexer(ds.text("USUBJID"))
        known = found_at >= 0  # subjects not in ADSL are SUB-ADAM-006's finding
        at = first[np.where(known, found_at, 0)]  # the subject's ADSL record
        for v in ds.meta.variables:
            if v in ("USUBJID", "STUDYID") or v not in adsl.data or ds.is_char(v) != adsl.is_char(v):
                continue
            if ds.is_char(v):
                actual, expected = ds.text(v).to_numpy(dtype=object), adsl.text(v).to_numpy(dtype=object)[at]
                differ = actual != expected
            else:
                actual = ds.data[v].to_numpy(dtype="float64", na_value=np.nan)
                expected = adsl.data[v].to_numpy(dtype="float64", na_value=np.nan)[at]
                differ = ~((actual == expected) | (np.isnan(actual) & np.isnan(expected)))
            found.append(rows(ds, differ & known, v, "differs from ADSL." + v))
    return frame(found)


@check("subject_in_adsl")
def subject_in_adsl(ctx: Context):
    subjects = set(_adsl(ctx).text("USUBJID"))
    return frame([rows(ds, ~ds.text("USUBJID").isin(subjects).to_numpy(), "USUBJID", "USUBJID not in ADSL")
                  for name, ds in ctx.part.datasets.items() if name != "ADSL" and "USUBJID" in ds.data])


def _sdtm(ctx: Context):
    if ctx.package.sdtm is None:
        raise Skipped("no SDTM datasets in the package")
    return ctx.package.sdtm


@check("adsl_subject_in_dm")
def adsl_subject_in_dm(ctx: Context):
    adsl = _adsl(ctx)
    dm = _sdtm(ctx).get("DM")
    if dm is None or "USUBJID" not in dm.data:
        raise Skipped("no SDTM DM with USUBJID")
    return rows(adsl, ~adsl.text("USUBJID").isin(set(dm.text("USUBJID"))).to_numpy(), "USUBJID",
                "ADSL subject not in SDTM DM")


def _source(ctx: Context, name: str) -> Dataset | None:
    """The dataset SRCDOM names: an SDTM domain of the package or an ADaM dataset."""
    sdtm = ctx.package.sdtm
    return (sdtm.get(name) if sdtm else None) or ctx.part.get(name)


@check("srcdom_srcvar")
def srcdom_srcvar(ctx: Context):
    _sdtm(ctx)
    found = []
    for ds in _with(ctx, "SRCDOM"):
        dom = ds.text("SRCDOM")
        var = ds.text("SRCVAR") if "SRCVAR" in ds.data else pd.Series("", index=dom.index)
        sources = {n: _source(ctx, n) for n in pd.unique(dom) if n}
        unknown = dom.isin({n for n, s in sources.items() if s is None}).to_numpy()
        found.append(rows(ds, unknown, "SRCDOM", "SRCDOM is not a dataset of the package"))
        # Checked per distinct (SRCDOM, SRCVAR) pair, then mapped back to the records.
        pairs = dom + "." + var
        distinct = pd.DataFrame({"d": dom, "v": var}).drop_duplicates()
        wrong = {f"{d}.{v}" for d, v in distinct.itertuples(index=False)
                 if v and sources.get(d) is not None and v not in sources[d].data}
        found.append(rows(ds, pairs.isin(wrong).to_numpy(), "SRCVAR", "SRCVAR is not a variable of SRCDOM", pairs))
    return frame(found)


def _seq_name(source: Dataset) -> str | None:
    for name in (f"{source.name[:2]}SEQ", "ASEQ"):
        if name in source.data:
            return name
    return None


@check("srcseq_record")
def srcseq_record(ctx: Context):
    _sdtm(ctx)
    found = []
    for ds in _with(ctx, "SRCDOM", "SRCSEQ", "USUBJID"):
        dom = ds.text("SRCDOM")
        seq = ds.data["SRCSEQ"]
        seq = pd.to_numeric(seq, errors="coerce") if ds.is_char("SRCSEQ") else seq
        bad = np.zeros(ds.records, dtype=bool)
        for name in sorted(n for n in pd.unique(dom[seq.notna()]) if n):
            source = _source(ctx, name)
            pick = ((dom == name) & seq.notna()).to_numpy()
            seq_name = _seq_name(source) if source is not None else None
            if seq_name is None or "USUBJID" not in source.data:
                bad |= pick  # no such dataset, or it has no sequence number to point at
                continue
            targets = pd.MultiIndex.from_arrays([source.text("USUBJID"), source.data[seq_name].astype("float64")])
            wanted = pd.MultiIndex.from_arrays([ds.text("USUBJID"), seq.astype("float64")])
            bad |= pick & ~wanted.isin(targets)
        found.append(rows(ds, bad, "SRCSEQ", "no record of SRCDOM with this USUBJID and sequence number",
                          dom + " " + ds.text("SRCSEQ")))
    return frame(found)
