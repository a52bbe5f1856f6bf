"""Run the catalogue's rules over a package and collect the report."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from submit.errors import InputError, Problem
from submit.qc.validate.catalogue import Rule
from submit.qc.validate.checks import CHECKS, ISSUE_COLUMNS, Context, Skipped
from submit.qc.validate.package import Package
from submit.yaml_load import load_yaml

log = logging.getLogger("submit.qc.validate")
REPORT_COLUMNS = ("standard", "dataset", "rule", "severity", "row", "usubjid", "variable", "value", "message", "detail")
SEVERITY_ORDER = {"Error": 0, "Warning": 1, "Notice": 2}


@dataclass(frozen=True)
class Note:
    """A rule that did not run on a part of the package, and why."""

    rule: str
    standard: str
    text: str


@dataclass(frozen=True, eq=False)
class ValidationReport:
    root: str
    rules: tuple[Rule, ...]
    issues: pd.DataFrame  # REPORT_COLUMNS, one row per issue, in a stable order
    datasets: pd.DataFrame  # standard, dataset, label, file, records, variables
    notes: tuple[Note, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)  # standard -> what its metadata came from
    package_notes: tuple[str, ...] = ()
    explanations: Mapping[str, str] = field(default_factory=dict)  # rule id -> why it is expected here

    def count(self, severity: str) -> int:
        return int((self.issues["severity"] == severity).sum())

    @property
    def errors(self) -> int:
        return self.count("Error")

    @property
    def warnings(self) -> int:
        return self.count("Warning")

    @property
    def has_errors(self) -> bool:
        return self.errors > 0


def load_explanations(path: Path | None) -> dict[str, str]:
    """Per-study explanations of expected issues: a YAML mapping rule id -> text."""
    if path is None or not path.is_file():
        return {}
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InputError("validation explanations must map rule ids to text",
                         [Problem(str(path), "not a mapping of text")])
    return {str(k): v.strip() for k, v in data.items()}


def _parts(rule: Rule, package: Package):
    if rule.scope == "package":
        return [None]
    return [p for p in (package.sdtm if rule.scope == "sdtm" else package.adam,) if p is not None]


def run_rules(package: Package, rules: tuple[Rule, ...],
              explanations: Mapping[str, str] | None = None) -> ValidationReport:
    found, notes = [], []
    for rule in rules:
        for part in _parts(rule, package):
            standard = part.standard if part else "Package"
            start = time.perf_counter()
            try:
                out = CHECKS[rule.check](Context(rule, part, package))
            except Skipped as skip:
                notes.append(Note(rule.id, standard, str(skip)))
                continue
            count = 0 if out is None else len(out)
            log.debug("%s on %s: %d issues in %.2f s", rule.id, standard, count, time.perf_counter() - start)
            if count:
                found.append(out[list(ISSUE_COLUMNS)].assign(
                    standard=_standard_of(out["dataset"], package, standard),
                    rule=rule.id, severity=rule.severity, message=rule.message))
    issues = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=list(REPORT_COLUMNS))
    issues = _ordered(issues)
    datasets = pd.DataFrame(
        [{"standard": p.standard, "dataset": ds.name, "label": ds.meta.label, "file": ds.path.name,
          "records": ds.records, "variables": len(ds.meta.variables)}
         for p in package.parts() for ds in sorted(p.datasets.values(), key=lambda d: d.name)],
        columns=["standard", "dataset", "label", "file", "records", "variables"])
    sources = {p.standard: (p.metadata.source if p.metadata else "none") for p in package.parts()}
    package_notes = tuple(f"{p.standard}: {n}" for p in package.parts() for n in p.notes)
    return ValidationReport(str(package.root), rules, issues, datasets, tuple(notes), sources, package_notes,
                            dict(explanations or {}))


def _standard_of(datasets: pd.Series, package: Package, default: str) -> pd.Series:
    """Package-scope rules name a dataset; attribute its issues to the part holding it."""
    if default != "Package":
        return pd.Series(default, index=datasets.index)
    adam = set(package.adam.datasets) if package.adam else set()
    return datasets.map(lambda d: "ADaM" if d in adam or d.startswith("AD") else "SDTM")


def _ordered(issues: pd.DataFrame) -> pd.DataFrame:
    issues = issues.copy()
    issues["row"] = pd.to_numeric(issues["row"], errors="coerce").astype("Int64")
    for c in ("dataset", "variable", "usubjid", "value", "detail"):
        issues[c] = issues[c].fillna("").astype(str)
    issues["_s"] = issues["standard"].map({"SDTM": 0, "ADaM": 1}).fillna(2)
    issues["_v"] = issues["severity"].map(SEVERITY_ORDER)
    issues = issues.sort_values(["_s", "dataset", "_v", "rule", "row", "variable", "value"], na_position="first",
                                kind="mergesort")
    return issues[list(REPORT_COLUMNS)].reset_index(drop=True)
