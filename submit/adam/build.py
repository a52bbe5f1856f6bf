"""The ADaM stage: each dataset of the ADaM spec derived by its pipeline from SDTM (and the ADaM
datasets before it, in the spec's order), conformed to the spec and written as XPT v5."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import submit.adam.derive  # noqa: F401  (registers the derivations)
from submit.adam.context import AdamContext
from submit.adam.registry import DERIVATIONS, load_pipeline
from submit.config import StudyConfig
from submit.progress import Progress
from submit.project import adam_dir
from submit.errors import DataCheckError, InputError, Problem
from submit.sdtm.build import xpt_meta
from submit.spec.model import Spec
from submit.spec.store import load_spec
from submit.xpt import write_xpt

log = logging.getLogger("submit.adam")


@dataclass(frozen=True)
class AdamResult:
    spec: Spec
    datasets: dict[str, pd.DataFrame]
    qc: dict[str, pd.DataFrame]


def conform(df: pd.DataFrame, spec: Spec, name: str, pipeline: str) -> pd.DataFrame:
    """Exactly the spec's variables, in its order and types, sorted by the keys (which must be
    unique). Working variables start with an underscore and are dropped; any other variable the
    spec does not list, or a spec variable no step derived, is an error."""
    variables = spec.variables_of(name)
    names = [v.name for v in variables]
    problems = [Problem(pipeline, f"{name}.{v} is in the spec but no step derives it") for v in names if v not in df]
    problems += [Problem(pipeline, f"{name}.{c} is derived but not in the spec") for c in df.columns
                 if c not in names and not c.startswith("_")]
    if problems:
        raise InputError(f"{name} does not match its spec", problems)
    out = df[names].copy()
    for v in variables:
        col = out[v.name]
        if v.is_char:
            col = col.astype(object)
            # `!= ""` compares objects in C; `astype(str)` first built a new string per row (~3 s per
            # large dataset at 3,600 subjects)
            out[v.name] = col.where(col.notna() & (col != ""), None)
        elif not pd.api.types.is_datetime64_any_dtype(col):
            out[v.name] = pd.to_numeric(col, errors="coerce").astype(float)
    keys = list(spec.dataset(name).keys)
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    dup = out.duplicated(keys, keep=False)
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())[:20]
        raise DataCheckError(f"{name}: {int(dup.sum())} records share their keys {' '.join(keys)}",
                             [Problem(f"{name}", "duplicate key " + ", ".join(f"{k}={out.at[r, k]}" for k in keys), row=int(r) + 1)
                              for r in rows])
    return out


def build_adam(spec_folder: Path, sdtm: dict[str, pd.DataFrame], study: StudyConfig, root: Path,
               given: dict[str, pd.DataFrame] | None = None) -> AdamResult:
    """Every dataset of the ADaM spec in its order. `given`: ADaM datasets derived elsewhere (e.g. a
    reference ADSL while a study's own is being specified), read by the pipelines but neither
    derived nor written."""
    spec = load_spec(spec_folder)
    ctx = AdamContext(sdtm=sdtm, study=study, adam=dict(given or {}))
    derived = [ds for ds in sorted(spec.datasets, key=lambda d: d.order) if ds.name not in (given or {})]
    progress = Progress(log, "ADaM", len(derived))
    for ds in derived:
        path = spec_folder / "derivations" / f"{ds.name.lower()}.yaml"
        if not path.is_file():
            raise InputError(f"No pipeline for {ds.name}", [Problem(str(path), "missing")])
        pipeline = load_pipeline(path)
        ctx.dataset = ds.name
        started = time.perf_counter()
        df = pd.DataFrame()
        for step in pipeline.steps:
            try:
                df = DERIVATIONS[step.name](df, ctx, **step.params)
            except InputError as err:
                err.summary = f"{step.where}: {step.name}: {err.summary}"
                raise
        ctx.adam[ds.name] = conform(df, spec, ds.name, pipeline.file)
        progress.step(ds.name, f"{len(ctx.adam[ds.name])} records in {time.perf_counter() - started:.1f} s")
    out = root / adam_dir(study)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in ctx.adam.items():
        if name in (given or {}):
            continue
        write_xpt(df, xpt_meta(spec, name), out / f"{name.lower()}.xpt", created=study.dates.build_date)
    if ctx.qc:
        (root / "qc").mkdir(parents=True, exist_ok=True)
        for stem, frame in sorted(ctx.qc.items()):
            frame.to_csv(root / "qc" / f"{stem}.csv", index=False, lineterminator="\n")
    return AdamResult(spec=spec, datasets={k: v for k, v in ctx.adam.items() if k not in (given or {})}, qc=ctx.qc)
