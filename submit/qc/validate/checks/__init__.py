"""Check functions, registered by the name the rule catalogue gives them.

A check receives a `Context` (its rule, the part of the package it runs on, the whole package)
and returns its issues as a DataFrame of ISSUE_COLUMNS (helpers below build one vectorized from a
row mask), or raises `Skipped` when it cannot run (no define.xml, no DM, ...): the report lists
those with their reason. Checks never modify the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from submit.qc.validate.catalogue import Rule
from submit.qc.validate.package import Dataset, Package, Part

ISSUE_COLUMNS = ("dataset", "variable", "row", "usubjid", "value", "detail")
CHECKS: dict[str, Callable[[Context], pd.DataFrame]] = {}


class Skipped(Exception):
    """The check cannot run on this part; the message says why."""


@dataclass(frozen=True, eq=False)
class Context:
    rule: Rule
    part: Part | None  # None for package-scope rules
    package: Package

    @property
    def params(self):
        return self.rule.params

    def metadata(self):
        """The metadata of the part, or Skipped."""
        if self.part is None or self.part.metadata is None:
            raise Skipped("no metadata (define.xml or spec of this study)")
        return self.part.metadata

    def define(self):
        if self.part is None or self.part.define is None:
            raise Skipped("no readable define.xml")
        return self.part.define


def check(name: str):
    def register(fn):
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = fn
        return fn
    return register


_EMPTY = pd.DataFrame(columns=list(ISSUE_COLUMNS), dtype=object)


def empty() -> pd.DataFrame:
    return _EMPTY


def rows(ds: Dataset, mask, variable: str | None, detail, value=None) -> pd.DataFrame | None:
    """One issue per record where `mask` holds (None when it holds nowhere). `detail` and `value`:
    a constant or a Series/array aligned with the dataset (indexed by record position)."""
    mask = np.asarray(mask, dtype=bool)
    where = np.flatnonzero(mask)
    if not len(where):
        return None

    def pick(x):
        if isinstance(x, pd.Series):
            return x.to_numpy()[where]
        if isinstance(x, np.ndarray):
            return x[where]
        return x

    if value is None and variable is not None and variable in ds.data:
        value = ds.text(variable)
    usubjid = ds.usubjid()
    return pd.DataFrame({
        "dataset": ds.name, "variable": variable or "", "row": where + 1,
        "usubjid": usubjid.to_numpy()[where] if usubjid is not None else "",
        "value": pick(value) if value is not None else "", "detail": pick(detail)})


def issue(dataset: str, variable: str | None = None, detail: str = "", value: object = "",
          row: int | None = None, usubjid: str = "") -> dict:
    return {"dataset": dataset, "variable": variable or "", "row": row, "usubjid": usubjid,
            "value": "" if value is None else str(value), "detail": detail}


def frame(items: list) -> pd.DataFrame:
    """Issues from dicts (`issue`) or frames (`rows`; None and empty ones are dropped)."""
    items = [f for f in items if f is not None and len(f)]
    if not items:
        return _EMPTY
    dicts = [f for f in items if isinstance(f, dict)]
    frames = [f for f in items if not isinstance(f, dict)]
    if dicts:  # a check may report dataset-level issues (dicts) beside record-level ones (frames)
        frames.insert(0, pd.DataFrame(dicts, columns=list(ISSUE_COLUMNS)))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


# Importing the check modules registers their checks.
from submit.qc.validate.checks import adam, adam_bds, define, fda, sdtm, sdtm_consistency, xpt  # noqa: E402,F401
