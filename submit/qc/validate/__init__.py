"""`submit validate`: conformance of a study data package (XPT v5, define.xml, SDTM, ADaM, FDA
technical rejection criteria) against a catalogue of rules kept as data (`rules.yaml`).

    from submit.qc.validate import validate_package, write_reports
    report = validate_package(root, specs=Specs(folder))   # ValidationReport
    write_reports(report, root / "qc", build_date)          # validation.xlsx, validation.json
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from submit.cache import load_entry, store_entry
from submit.qc.validate.cache import report_file
from submit.qc.validate.catalogue import Rule, load_rules
from submit.qc.validate.engine import ValidationReport, load_explanations, run_rules
from submit.qc.validate.package import find_folders, read_package
from submit.qc.validate.report import text_summary, write_json, write_reports, write_xlsx

EXPLANATIONS = "validation_explanations.yaml"

__all__ = ["Rule", "ValidationReport", "load_rules", "text_summary", "validate", "validate_package", "write_json",
           "write_reports", "write_xlsx"]


def validate(root: Path, *, sdtm_spec: Path | None = None, adam_spec: Path | None = None,
             ct_version: str | None = None, explanations: Path | None = None,
             rules: tuple[Rule, ...] | None = None, label: str | None = None,
             standards: tuple[str, ...] = ("SDTM", "ADaM"), cache: bool = False) -> ValidationReport:
    """Validate the package (or dataset folder) at `root`. Spec folders are the fallback metadata
    when a folder has no define.xml, and the source of Expected designations; `explanations` is a
    YAML file mapping rule ids to why their issues are expected in this study; `label` names the
    package in the reports (default: `root` as given), e.g. "outputs" for a build's staging folder;
    `standards` are those the package must hold (a missing one is a technical rejection). `cache`:
    the report of the same inputs validated before (the catalogue's rules) is taken from the user's
    cache (submit.qc.validate.cache), and a new one stored there."""
    root = Path(root)
    entry = None
    if cache and rules is None:
        entry = report_file(root, *find_folders(root), [sdtm_spec, adam_spec], explanations, ct_version, standards)
    report = load_entry(entry)
    if isinstance(report, ValidationReport):  # stored without its rules: they are the catalogue's
        report = replace(report, root=str(root), rules=load_rules())
    else:
        package = read_package(root, sdtm_spec=sdtm_spec, adam_spec=adam_spec, ct_version=ct_version,
                               standards=standards)
        report = run_rules(package, rules if rules is not None else load_rules(), load_explanations(explanations))
        store_entry(entry, replace(report, rules=()))
    return replace(report, root=label) if label is not None else report


def validate_package(root: Path, specs=None, *, label: str | None = None, cache: bool = False) -> ValidationReport:
    """`validate` with the study's specs folder (`submit.project.Specs`): its sdtm/ and adam/ specs,
    its CT version and its `validation_explanations.yaml`. A study without ADaM specs is not expected
    to hold ADaM (its package is SDTM alone). `cache`: see `validate`."""
    if specs is None:
        return validate(root, label=label, cache=cache)
    folder = Path(specs.folder)

    def spec(part: str) -> Path | None:  # a study may have SDTM specs alone (or none, taking SDTM as given)
        return folder / part if (folder / part).is_dir() else None

    return validate(root, sdtm_spec=spec("sdtm"), adam_spec=spec("adam"), ct_version=specs.study.standards.ct,
                    explanations=folder / EXPLANATIONS, label=label,
                    standards=("SDTM", "ADaM") if spec("adam") else ("SDTM",), cache=cache)
