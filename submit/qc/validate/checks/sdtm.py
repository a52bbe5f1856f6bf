"""SDTM data rules: Core designations, keys and --SEQ, subjects in DM, ISO 8601 dates, study days,
start before end, DOMAIN. Which variables are Required/Expected and which are the keys comes from
the metadata (define.xml, else the spec) plus the class-level Required variables of the SDTMIG
(`params.required_by_class` in the catalogue, "--" standing for the domain prefix)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.qc.validate.checks import Context, Skipped, check, frame, issue, rows
from submit.qc.validate.iso8601 import compare_after, full_dates, valid_dtc
from submit.qc.validate.package import Dataset


def _core_variables(ctx: Context, core: str) -> dict[str, list[str]]:
    """dataset -> variables with this Core designation (metadata, plus the class-level list)."""
    meta = ctx.metadata()
    if core != "Req" and not meta.has_core_designations:
        raise Skipped(f"the metadata ({meta.source}) has no Core designations: {core} unknown")
    by_class = ctx.params.get("required_by_class", {}) if core == "Req" else {}
    out = {}
    for name in ctx.part.datasets:
        d = meta.datasets.get(name)
        if d is None:
            continue
        names = [v.name for v in d.variables if v.has_core(core)]
        prefix = name[:2]
        by_prefix = [t.replace("--", prefix) for t in by_class.get(d.cls.upper(), ())]
        names += [v for v in by_prefix if v not in names]
        out[name] = names
    return out


@check("required_variable_missing")
def required_missing(ctx: Context):
    return frame([issue(name, v, detail="Required variable is not in the dataset")
                  for name, names in _core_variables(ctx, "Req").items()
                  for v in names if v not in ctx.part.datasets[name].data])


@check("expected_variable_missing")
def expected_missing(ctx: Context):
    return frame([issue(name, v, detail="Expected variable is not in the dataset")
                  for name, names in _core_variables(ctx, "Exp").items()
                  for v in names if v not in ctx.part.datasets[name].data])


@check("required_variable_null")
def required_null(ctx: Context):
    found = []
    for name, names in _core_variables(ctx, "Req").items():
        ds = ctx.part.datasets[name]
        found += [rows(ds, ds.null(v), v, "Required variable is null") for v in names if v in ds.data]
    return frame(found)


@check("duplicate_keys")
def duplicate_keys(ctx: Context):
    meta, found = ctx.metadata(), []
    for name, ds in ctx.part.datasets.items():
        d = meta.datasets.get(name)
        if d is None or not d.keys or any(k not in ds.data for k in d.keys) or not ds.records:
            continue
        keys = pd.DataFrame({k: ds.text(k) for k in d.keys})
        dup = keys.duplicated(keep=False).to_numpy()
        if dup.any():
            value = pd.Series("", index=keys.index, dtype=object)
            value[dup] = keys[dup].agg(", ".join, axis=1)
            found.append(rows(ds, dup, "", f"more than one record with the same {', '.join(d.keys)}", value))
    return frame(found)


def _seq_variable(ds: Dataset) -> str | None:
    name = f"{ds.name[:2]}SEQ"
    return name if name in ds.data else None


@check("seq_unique")
def seq_unique(ctx: Context):
    found = []
    for ds in ctx.part.datasets.values():
        seq = _seq_variable(ds)
        owner = next((v for v in ("USUBJID", "POOLID") if v in ds.data), None)
        if seq is None or owner is None:
            continue
        keys = pd.DataFrame({"owner": ds.text(owner), "seq": ds.data[seq]})
        dup = keys.duplicated(keep=False).to_numpy() & ~ds.null(seq)
        found.append(rows(ds, dup, seq, f"{seq} is not unique within {owner}"))
    return frame(found)


def _dm(ctx: Context) -> Dataset:
    dm = ctx.part.get("DM")
    if dm is None or "USUBJID" not in dm.data:
        raise Skipped("no DM dataset with USUBJID")
    return dm


@check("subject_in_dm")
def subject_in_dm(ctx: Context):
    subjects = set(_dm(ctx).text("USUBJID"))
    found = []
    for name, ds in ctx.part.datasets.items():
        if name == "DM" or "USUBJID" not in ds.data:
            continue
        text = ds.text("USUBJID")
        found.append(rows(ds, (text != "") & ~text.isin(subjects), "USUBJID", "USUBJID not in DM"))
    return frame(found)


@check("dm_one_record_per_subject")
def dm_unique(ctx: Context):
    dm = _dm(ctx)
    text = dm.text("USUBJID")
    return rows(dm, text.duplicated(keep=False).to_numpy() & (text != "").to_numpy(), "USUBJID",
                "more than one DM record for the subject")


def _dtc_variables(ds: Dataset) -> list[str]:
    return [v for v in ds.meta.variables if v.endswith("DTC") and ds.is_char(v)]


@check("iso8601")
def iso8601(ctx: Context):
    return frame([rows(ds, ~_valid_dtc(ds, v), v, "not an ISO 8601 date/time")
                  for ds in ctx.part.datasets.values() for v in _dtc_variables(ds)])


def _valid_dtc(ds: Dataset, variable: str) -> np.ndarray:
    codes, distinct = ds.distinct(variable)  # checked once per distinct value
    return valid_dtc(pd.Series(distinct, dtype=object)).to_numpy(dtype=bool)[codes]


def _study_day(dates: pd.Series, reference: pd.Series) -> np.ndarray:
    """SDTMIG study day: days from the reference date, +1 on or after it (there is no day 0)."""
    days = ((dates - reference) / pd.Timedelta(days=1)).to_numpy(dtype="float64")
    return np.where(days >= 0, days + 1, days)


@check("study_day")
def study_day(ctx: Context):
    dm = _dm(ctx)
    if "RFSTDTC" not in dm.data:
        raise Skipped("DM has no RFSTDTC")
    reference = dict(zip(dm.text("USUBJID"), full_dates(dm.text("RFSTDTC"))))
    pairs = ctx.params.get("pairs", {"DY": "DTC", "STDY": "STDTC", "ENDY": "ENDTC"})
    found = []
    for ds in ctx.part.datasets.values():
        if "USUBJID" not in ds.data:
            continue
        prefix, rf = ds.name[:2], None
        for dy_suffix, dtc_suffix in pairs.items():
            dy, dtc = prefix + dy_suffix, prefix + dtc_suffix
            if dy not in ds.data or dtc not in ds.data:
                continue
            if rf is None:
                rf = pd.to_datetime(ds.text("USUBJID").map(reference))
            expected = _study_day(full_dates(ds.text(dtc)), rf)
            actual = ds.data[dy].to_numpy(dtype="float64", na_value=np.nan)
            known, given = ~np.isnan(expected), ~np.isnan(actual)
            wrong = known & given & (actual != expected)
            detail = np.full(len(expected), "", dtype=object)
            detail[wrong] = [f"expected {x:g} from {dtc} and RFSTDTC" for x in expected[wrong]]  # the few wrong
            found.append(rows(ds, wrong, dy, detail))
            found.append(rows(ds, given & ~known, dy, f"populated though {dtc} or RFSTDTC is not a complete date"))
            found.append(rows(ds, known & ~given, dy, f"missing though {dtc} and RFSTDTC are complete dates"))
    return frame(found)


@check("start_after_end")
def start_after_end(ctx: Context):
    start_suffix, end_suffix = ctx.params.get("start", "STDTC"), ctx.params.get("end", "ENDTC")
    found = []
    for ds in ctx.part.datasets.values():
        for start in (v for v in ds.meta.variables if v.endswith(start_suffix)):
            end = start[: -len(start_suffix)] + end_suffix
            if end in ds.data and ds.is_char(start) and ds.is_char(end):
                after = compare_after(ds.text(start), ds.text(end))
                found.append(rows(ds, after, start, f"after {end}", ds.text(start) + " > " + ds.text(end)))
    return frame(found)


def _domain_of(name: str) -> str:
    """The DOMAIN value of a dataset: its name, or the domain a split dataset (LBCH) belongs to."""
    return name if name.startswith("AP") and len(name) == 4 else name[:2]


@check("domain_value")
def domain_value(ctx: Context):
    return frame([rows(ds, (ds.text("DOMAIN") != _domain_of(ds.name)).to_numpy(), "DOMAIN",
                       f"DOMAIN is not {_domain_of(ds.name)}")
                  for ds in ctx.part.datasets.values() if "DOMAIN" in ds.data])
