"""What a reviewer's guide is written from: the study's configuration and specs, one layer's
metadata and data as built, and the build's validation report with the study's explanations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.qc.validate import EXPLANATIONS
from submit.qc.validate.engine import load_explanations
from submit.spec.model import Spec

SCOPE = {"SDTM": "sdtm", "ADaM": "adam"}  # a guide's standard -> the validation rules' scope
NOT_EXPLAINED = f"Not explained: the study's {EXPLANATIONS} has no entry for this rule."


@dataclass(frozen=True)
class Finding:
    """One rule that fired, as the Issue Summary of the validation report gives it."""

    rule: str
    cdisc: str
    p21: str
    severity: str
    dataset: str
    message: str
    count: int
    explanation: str  # from the study's validation_explanations.yaml, else NOT_EXPLAINED


@dataclass(frozen=True)
class GuideInputs:
    study: StudyConfig
    specs_folder: Path
    standard: str  # "SDTM" or "ADaM"
    spec: Spec
    frames: Mapping[str, pd.DataFrame]  # the layer's datasets as written to XPT, by name
    report: dict  # qc/validation.json of the build
    explanations: Mapping[str, str]  # rule id -> text, from the study's specs
    from_raw: bool  # SDTM mapped from a raw extract (else an SDTM package taken as given)
    version: str

    @property
    def scope(self) -> str:
        return SCOPE[self.standard]

    def rules(self) -> list[dict]:
        """The validation rules run on this guide's layer and on the package as a whole."""
        return [r for r in self.report.get("rules", []) if r["scope"] in (self.scope, "package")]

    def findings(self) -> list[Finding]:
        """Every rule of this guide's layer (or of the package) that fired, with its explanation."""
        scopes = {r["id"]: r["scope"] for r in self.report.get("rules", [])}
        found = []
        for s in self.report.get("issue_summary", []):
            if scopes.get(s["rule"], "package") not in (self.scope, "package"):
                continue
            found.append(Finding(s["rule"], s.get("cdisc") or "", s.get("p21") or "", s["severity"], s["dataset"],
                                 s["message"], int(s["found"]), self.explanations.get(s["rule"], NOT_EXPLAINED)))
        return found

    def issues(self, rule: str, dataset: str) -> list[dict]:
        return [i for i in self.report.get("issues", []) if i["rule"] == rule and i["dataset"] == dataset]


def read_report(qc_folder: Path) -> dict:
    return json.loads((Path(qc_folder) / "validation.json").read_text(encoding="utf-8"))


def study_explanations(specs_folder: Path) -> dict[str, str]:
    """The study's explanations of expected findings (empty when it has none)."""
    return load_explanations(Path(specs_folder) / EXPLANATIONS)
