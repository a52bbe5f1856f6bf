"""`submit validate`: conformance of a study data package (XPT v5, define.xml, SDTM, ADaM, FDA
technical rejection criteria) against a catalogue of rules kept as data (`rules.yaml`).

    from submit.qc.validate import validate_package, write_reports
    report = validate_package(root, specs=Specs(folder))   # ValidationReport
    write_reports(report, root / "qc", build_date)          # validation.xlsx, validation.json
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from submit.qc.validate.catalogue import Rule, load_rules
from submit.qc.validate.engine import ValidationReport, load_explanations, run_rules
from submit.qc.validate.package import read_package
from submit.qc.validate.report import text_summary, write_json, write_reports, write_xlsx

EXPLANATIONS = "validation_explanations.yaml"

__all__ = ["Rule", "ValidationReport", "load_rules", "text_summary", "validate", "validate_package", "write_json",
           "write_reports", "write_xlsx"]


def validate(root: Path, *, sdtm_spec: Path | None = None, adam_spec: Path | None = None,
             ct_version: str | None = None, explanations: Path | None = None,
             rules: tuple[Rule, ...] | None = None, label: str | None = None,
             standards: tuple[str, ...] = ("SDTM", "ADaM")) -> ValidationReport:
    """Validate the package (or dataset folder) at `root`. Spec folders are the fallback metadata
    when a folder has no define.xml, and the source of Expected designations; `explanations` is a
    YAML file mapping rule ids to why their issues are expected in this study; `label` names the
    package in the reports (default: `root` as given), e.g. "outputs" for a build's staging folder;
    `standards` are those the package must hold (a missing one is a technical rejection)."""
    package = read_package(Path(root), sdtm_spec=sdtm_spec, adam_spec=adam_spec, ct_version=ct_version,
                           standards=standards)
    report = run_rules(package, rules if rules is not None else load_rules(), load_explanations(explanations))
    return replace(report, root=label) if label is not None else report


def validate_package(root: Path, specs=None, *, label: str | None = None) -> ValidationReport:
    """`validate` with the study's specs folder (`submit.project.Specs`): its sdtm/ and adam/ specs,
    its CT version and its `validation_explanations.yaml`. A study without ADaM specs is not expected
    to hold ADaM (its package is SDTM alone)."""
    if specs is None:
        return validate(root, label=label)
    folder = Path(specs.folder)

    def spec(part: str) -> Path | None:  # a study may have SDTM specs alone (or none, taking SDTM as given)
        return folder / part if (folder / part).is_dir() else None

    return validate(root, sdtm_spec=spec("sdtm"), adam_spec=spec("adam"), ct_version=specs.study.standards.ct,
                    explanations=folder / EXPLANATIONS, label=label,
                    standards=("SDTM", "ADaM") if spec("adam") else ("SDTM",))
