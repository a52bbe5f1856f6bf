"""Executes a domain's mapping spec: each source's variables by their algorithms, the sources
stacked, the domain algorithms run, then the records conformed to the metadata spec.

Nothing is lost silently: a raw record left out by a source filter, or a record that lacks a
required variable after mapping, is listed in the exceptions with its reason; every record keeps
its raw dataset and row for the traceability report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.errors import InputError, Problem
from submit.sdtm.algorithms import (DOMAIN_ALGORITHMS, VARIABLE_ALGORITHMS, DomainContext, Exceptions,
                                    SourceContext)
from submit.sdtm.mapping import DomainMapping
from submit.spec.model import Spec

TRACE = ("__raw", "__row")  # raw dataset and 1-based raw row of each record


def _where(rows: pd.DataFrame, where: dict | None) -> tuple[pd.Series, str]:
    """Rows a source keeps, and the reason given for the others."""
    if not where:
        return pd.Series(True, index=rows.index), ""
    col = rows[where["column"]].astype(object)
    if "equals" in where:
        keep = col == where["equals"]
    elif "in" in where:
        keep = col.isin(where["in"])
    elif "not_in" in where:
        keep = ~col.isin(where["not_in"])
    else:
        keep = col.notna() if where.get("present", True) else col.isna()
    return keep.fillna(False).astype(bool), where.get("reason", f"left out by the filter on {where['column']}")


def run_domain(mapping: DomainMapping, spec: Spec, frames: dict[str, pd.DataFrame], study: StudyConfig,
               exceptions: Exceptions, dm: pd.DataFrame | None = None, cache: dict | None = None,
               subjects: dict[str, str] | None = None, specs_folder: Path | None = None) -> pd.DataFrame:
    """One domain from its mapping; `subjects`: the subject-id column of each raw dataset as the
    raw schema declares it (SUBJID where not given); `specs_folder`: the study folder (trial design
    tables, visit schedule)."""
    domain = mapping.domain
    subjects = subjects or {}
    parts = []
    for src in mapping.sources:
        raw = frames[src.raw]
        keep, reason = _where(raw, src.where)
        if (~keep).any():
            left = raw.index[~keep.to_numpy()]
            exceptions.add(domain, src.raw, left, src.where["column"], raw.loc[left, src.where["column"]], reason,
                           filtered=True)
        rows = raw[keep.to_numpy()]
        out = pd.DataFrame(index=rows.index)
        for var, step in src.variables.items():
            ctx = SourceContext(domain, src.raw, rows, frames, study, exceptions, var, specs_folder=specs_folder,
                                spec=spec, subjects=subjects)
            out[var] = VARIABLE_ALGORITHMS[step.algorithm](ctx, **step.params)
        out["__raw"] = src.raw
        out["__row"] = rows.index.to_numpy() + 1
        parts.append(out)
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(TRACE))
    dctx = DomainContext(domain, study, dm if dm is not None else (df if domain == "DM" else None), frames, exceptions,
                         {} if cache is None else cache, specs_folder=specs_folder, spec=spec, subjects=subjects)
    for step in mapping.then:
        df = DOMAIN_ALGORITHMS[step.algorithm](df, dctx, **step.params)
    return conform(df, spec, domain, exceptions, mapping.file)


def with_spec_types(df: pd.DataFrame, variables) -> pd.DataFrame:
    """The spec's variables typed as the spec says: text with None for missing (blank is missing),
    numbers as float (NaN for missing)."""
    for v in variables:
        if v.is_char:
            col = df[v.name].astype(object)
            # `!= ""` compares the objects in C; `astype(str)` built an Arrow string per row first
            df[v.name] = col.where(col.notna() & (col != ""), None)
        else:
            df[v.name] = pd.to_numeric(df[v.name], errors="coerce").astype(float)
    return df


def conform(df: pd.DataFrame, spec: Spec, domain: str, exceptions: Exceptions, mapping_file: str) -> pd.DataFrame:
    """Columns in spec order, types as the spec says, records lacking a required variable moved to
    the exceptions, sorted by the dataset keys. A spec variable the mapping does not compute is an
    error (an always-empty variable is mapped explicitly, e.g. `{hardcode: {value: null}}`), so
    that nothing reaches the XPT by accident."""
    variables = spec.variables_of(domain)
    absent = [v.name for v in variables if v.name not in df.columns]
    if absent:
        raise InputError(f"{domain}: the mapping computes no value for {len(absent)} variable(s) of the spec",
                         [Problem(mapping_file, f"{domain}.{name} is in the spec but no algorithm maps it", key=name)
                          for name in absent])
    df = with_spec_types(df, variables)
    missing = pd.Series(False, index=df.index)
    for v in variables:
        if v.mandatory:
            gap = df[v.name].isna()
            if gap.any():
                for raw_name, rows in df[gap].groupby("__raw").__row:
                    exceptions.add(domain, raw_name, rows.to_numpy() - 1, v.name, [""] * len(rows),
                                   f"required {domain}.{v.name} could not be derived; record not mapped")
            missing |= gap
    df = df[~missing.to_numpy()]
    keys = [k for k in spec.dataset(domain).keys if k in df.columns]
    df = df.sort_values(keys, kind="stable") if keys else df
    return df[[v.name for v in variables] + list(TRACE)].reset_index(drop=True)
