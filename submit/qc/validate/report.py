"""The validation report as a Pinnacle 21 style workbook (Summary, Issue Summary, Details, Rules),
as JSON, and as a short text summary. Both files are byte-reproducible: fixed document properties
and zip timestamps, stable row order, no clock."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from typing import TYPE_CHECKING

import pandas as pd

from submit.qc.validate.engine import ValidationReport

if TYPE_CHECKING:
    from openpyxl import Workbook

FIXED_DATE = dt.date(2000, 1, 1)  # document date when no build date is given
MAX_DETAIL_ROWS = 1_000_000  # an Excel sheet holds 1,048,576 rows; JSON keeps every issue
SEVERITIES = ("Error", "Warning", "Notice")


def dataset_summary(report: ValidationReport) -> pd.DataFrame:
    counts = (report.issues.groupby(["standard", "dataset", "severity"]).size().unstack(fill_value=0)
              .reindex(columns=list(SEVERITIES), fill_value=0).reset_index())
    out = report.datasets.merge(counts, on=["standard", "dataset"], how="outer")
    out[list(SEVERITIES)] = out[list(SEVERITIES)].fillna(0).astype(int)
    out[["label", "file"]] = out[["label", "file"]].fillna("")
    out[["records", "variables"]] = out[["records", "variables"]].astype("Int64")  # none for define.xml
    out["_s"] = out["standard"].map({"SDTM": 0, "ADaM": 1}).fillna(2)
    return out.sort_values(["_s", "dataset"], kind="mergesort").drop(columns="_s").reset_index(drop=True)


def issue_summary(report: ValidationReport) -> pd.DataFrame:
    rules = {r.id: r for r in report.rules}
    grouped = (report.issues.groupby(["standard", "dataset", "rule", "severity", "message"], sort=False)
               .size().rename("found").reset_index())
    grouped["p21"] = grouped["rule"].map(lambda r: rules[r].p21)
    grouped["cdisc"] = grouped["rule"].map(lambda r: rules[r].cdisc)
    grouped["fda"] = grouped["rule"].map(lambda r: rules[r].fda)
    grouped["core"] = grouped["rule"].map(lambda r: rules[r].core)
    grouped["explanation"] = grouped["rule"].map(lambda r: report.explanations.get(r, ""))
    return grouped[["standard", "dataset", "rule", "p21", "cdisc", "fda", "core", "message", "severity", "found",
                    "explanation"]]


def text_summary(report: ValidationReport) -> str:
    lines = [f"Validation of {report.root}: {report.errors} errors, {report.warnings} warnings, "
             f"{report.count('Notice')} notices ({len(report.rules)} rules)"]
    keys = ["standard", "dataset", "rule", "severity", "message"]
    named = report.issues.dropna(subset=["variable"])
    named = named[named["variable"].astype(str) != ""]
    variables = named.groupby(keys, sort=False)["variable"].agg(lambda v: ", ".join(sorted(set(map(str, v)))[:6]))
    for row in issue_summary(report).itertuples(index=False):
        why = f"  [explained: {row.explanation}]" if row.explanation else ""
        which = variables.get(tuple(getattr(row, k) for k in keys))
        lines.append(f"  {row.severity:<7} {row.rule:<13} {row.standard:<4} {row.dataset:<10} {row.found:>7}  "
                     f"{row.message}{f' ({which})' if which else ''}{why}")
    lines += [f"  skipped {n.rule} on {n.standard}: {n.text}" for n in report.notes]
    lines += [f"  note: {n}" for n in report.package_notes]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- JSON
def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if pd.isna(v) else int(v) if k in ("row", "found", "records", "variables", *SEVERITIES) else v)
             for k, v in row.items()} for row in df.to_dict(orient="records")]


def report_dict(report: ValidationReport, build_date: dt.date | None = None) -> dict:
    return {
        "package": report.root,
        "date": (build_date or FIXED_DATE).isoformat(),
        "summary": {"errors": report.errors, "warnings": report.warnings, "notices": report.count("Notice"),
                    "rules": len(report.rules), "metadata": dict(sorted(report.sources.items()))},
        "datasets": _records(dataset_summary(report)),
        "issue_summary": _records(issue_summary(report)),
        "issues": _records(report.issues),
        "skipped": [{"rule": n.rule, "standard": n.standard, "reason": n.text} for n in report.notes],
        "notes": list(report.package_notes),
        "rules": [{"id": r.id, "p21": r.p21, "cdisc": r.cdisc, "fda": r.fda, "core": r.core, "standard": r.standard, "severity": r.severity,
                   "scope": r.scope, "message": r.message, "description": r.description, "check": r.check,
                   "params": json.loads(json.dumps(dict(r.params)))} for r in report.rules],
    }


def write_json(report: ValidationReport, path: Path, build_date: dt.date | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_dict(report, build_date), indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- Excel
def _sheet(wb: Workbook, title: str, header: list[str], rows, widths: list[int], preamble: list[list] = ()):
    # openpyxl only where a workbook is written: `submit validate` without --xlsx does not load it
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    ws = wb.create_sheet(title)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{len(preamble) + 2}"
    bold = Font(bold=True)
    for line in preamble:
        ws.append(line)

    def cell(value):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"  # text such as "=1" must not become a formula
        return c

    header_cells = []
    for name in header:
        c = WriteOnlyCell(ws, value=name)
        c.font = bold
        header_cells.append(c)
    ws.append(header_cells)
    for row in rows:
        ws.append([cell(None if v is None or (not isinstance(v, str) and pd.isna(v)) else v) for v in row])
    return ws


def write_xlsx(report: ValidationReport, path: Path, build_date: dt.date | None = None) -> Path:
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.writer.excel import ExcelWriter  # noqa: PLC0415

    from submit.spec.workbook import _deterministic_zip as deterministic_zip  # noqa: PLC0415

    stamp = dt.datetime.combine(build_date or FIXED_DATE, dt.time())
    wb = Workbook(write_only=True)
    summary = dataset_summary(report)
    preamble = [["Validation report", report.root], ["Date", (build_date or FIXED_DATE).isoformat()],
                ["Errors", report.errors], ["Warnings", report.warnings], ["Notices", report.count("Notice")],
                ["Rules", len(report.rules)],
                *(["Metadata " + k, v] for k, v in sorted(report.sources.items())), []]
    tail = [[], ["Skipped checks"], *([n.rule, n.standard, n.text] for n in report.notes),
            *([[], ["Notes"]] if report.package_notes else []), *([n] for n in report.package_notes)]
    body = [list(r) for r in summary[["standard", "dataset", "label", "file", "records", "variables", *SEVERITIES]]
            .itertuples(index=False)]
    totals = ["Total", "", "", "", int(pd.to_numeric(summary["records"], errors="coerce").fillna(0).sum()), "",
              *(int(summary[s].sum()) for s in SEVERITIES)]
    _sheet(wb, "Summary", ["Standard", "Dataset", "Label", "File", "Records", "Variables", *SEVERITIES],
           [*body, totals, *tail], [14, 12, 40, 16, 10, 10, 9, 9, 9], preamble)
    _sheet(wb, "Issue Summary", ["Standard", "Dataset", "Rule ID", "P21 ID", "CDISC ID", "FDA ID", "CORE ID", "Message",
                                 "Severity", "Found", "Explanation"],
           issue_summary(report).itertuples(index=False), [9, 10, 14, 14, 14, 12, 14, 60, 9, 8, 80])
    details = report.issues.head(MAX_DETAIL_ROWS)
    _sheet(wb, "Details", ["Standard", "Dataset", "Record", "USUBJID", "Variable", "Value", "Rule ID", "Message",
                           "Detail", "Severity"],
           details[["standard", "dataset", "row", "usubjid", "variable", "value", "rule", "message", "detail",
                    "severity"]].itertuples(index=False), [9, 10, 8, 22, 10, 30, 14, 50, 50, 9])
    _sheet(wb, "Rules", ["Rule ID", "P21 ID", "CDISC ID", "FDA ID", "CORE ID", "Standard", "Severity", "Applies to",
                         "Message", "Description", "Check", "Parameters"],
           ([r.id, r.p21, r.cdisc, r.fda, r.core, r.standard, r.severity, r.scope, r.message, r.description, r.check,
             json.dumps(dict(r.params), sort_keys=True) if r.params else ""] for r in report.rules),
           [14, 16, 16, 12, 14, 30, 9, 9, 50, 80, 26, 40])
    wb.properties.creator = wb.properties.lastModifiedBy = "submit"
    wb.properties.title = "Conformance validation report"
    wb.properties.created = wb.properties.modified = stamp
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # not wb.save: that stamps "modified" with the clock
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(deterministic_zip(raw.getvalue()))
    return path


def write_reports(report: ValidationReport, qc_folder: Path, build_date: dt.date | None = None) -> tuple[Path, Path]:
    """`qc_folder`/validation.xlsx and validation.json."""
    qc_folder = Path(qc_folder)
    return (write_xlsx(report, qc_folder / "validation.xlsx", build_date),
            write_json(report, qc_folder / "validation.json", build_date))
