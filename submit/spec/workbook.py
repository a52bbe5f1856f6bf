"""The spec as a Pinnacle 21 style Excel workbook, and back.

`export_xlsx` writes one sheet per CSV of the spec folder with the same columns (bold frozen
header, filter, column widths from the content). The file is byte-reproducible: fixed document
properties and fixed zip entry timestamps, so the same spec gives the same bytes.

`import_xlsx` reads a workbook written by us or by hand/P21: sheet and column names match
leniently (case, blanks and punctuation ignored, plus the synonyms below), columns we do not know
are ignored with a warning, a missing required column is an error naming sheet and column, and the
rows then go through the same reading and validation as the CSV folder (problems name
`file[sheet]:row`, the header being row 1).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import warnings
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from submit.errors import InputError, Problem
from submit.spec.model import Spec
from submit.spec.store import REQUIRED_COLUMNS, REQUIRED_TABLES, TABLES, RawTable, checked_spec, spec_rows

log = logging.getLogger("submit.spec")

FIXED_TIME = dt.datetime(2000, 1, 1)  # document properties when no date is given
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry
NUMBER_COLUMNS = ("Order", "Length", "Significant Digits")  # written as numbers, as P21 does
MAX_WIDTH = 60

# Other names of sheets and columns in workbooks seen in the wild; each name matches ignoring case,
# blanks and punctuation. "*" applies to every sheet; a sheet's own entry takes precedence.
SHEET_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Study": ("Study", "Study Metadata", "Define"),
    "Datasets": ("Datasets", "Dataset", "Domains", "Tables"),
    "Variables": ("Variables", "Variable", "Variable Metadata"),
    "ValueLevel": ("ValueLevel", "Value Level", "VLM", "Value Level Metadata"),
    "WhereClauses": ("WhereClauses", "Where Clauses", "Where Clause"),
    "Codelists": ("Codelists", "Codelist", "Controlled Terms", "Controlled Terminology", "Code Lists"),
    "Dictionaries": ("Dictionaries", "Dictionary", "External Dictionaries"),
    "Methods": ("Methods", "Method", "Computational Methods", "Derivations"),
    "Comments": ("Comments", "Comment"),
    "Documents": ("Documents", "Document", "Supplemental Documents"),
}
COLUMN_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "*": {
        "Dataset": ("Dataset", "Dataset Name", "Domain", "Table"),
        "Variable": ("Variable", "Variable Name"),
        "Label": ("Label", "Variable Label"),
        "Data Type": ("Data Type", "Type", "DataType"),
        "Length": ("Length", "Variable Length"),
        "Significant Digits": ("Significant Digits", "Sig Digits"),
        "Format": ("Format", "Display Format", "SAS Format"),
        "Mandatory": ("Mandatory", "Required"),
        "Codelist": ("Codelist", "Controlled Terms or Format", "Codelist Name", "Codelist ID", "Controlled Terms"),
        "Origin": ("Origin", "Origin Type"),
        "Source": ("Source", "Origin Source"),
        "Pages": ("Pages", "CRF Pages", "Page"),
        "Method": ("Method", "Method ID", "Derivation"),
        "Comment": ("Comment", "Comment ID"),
        "Document": ("Document", "Document ID"),
        "Developer Notes": ("Developer Notes", "Notes", "Programming Notes"),
        "Where Clause": ("Where Clause", "Where", "Where Clause ID"),
        "Core": ("Core", "CDISC Core"),
        "Order": ("Order", "Seq", "Sequence"),
    },
    "Study": {"Attribute": ("Attribute", "Name", "Key"), "Value": ("Value",)},
    "Datasets": {"Description": ("Description", "Label", "Dataset Label"),
                 "Key Variables": ("Key Variables", "Keys", "Key"),
                 "Reference Data": ("Reference Data", "Reference"), "Class": ("Class", "Dataset Class"),
                 "Subclass": ("Subclass", "Sub Class")},
    "WhereClauses": {"ID": ("ID", "Where Clause", "Where Clause ID"), "Comparator": ("Comparator", "Operator"),
                     "Value": ("Value", "Values")},
    "Codelists": {"ID": ("ID", "Codelist ID", "Codelist"), "Name": ("Name", "Codelist Name"),
                  "NCI Codelist Code": ("NCI Codelist Code", "Codelist Code"),
                  "Extensible": ("Extensible", "Codelist Extensible"),
                  "Term": ("Term", "Submission Value", "Coded Value", "CDISC Submission Value"),
                  "NCI Term Code": ("NCI Term Code", "Code", "Term Code", "NCI Code"),
                  "Decoded Value": ("Decoded Value", "Decode", "Decoded Term"),
                  "Extended": ("Extended", "Extended Value", "Sponsor Extension")},
    "Dictionaries": {"Dictionary": ("Dictionary", "Dictionary Name")},
    "Methods": {"Expression Code": ("Expression Code", "Code"),
                "Expression Context": ("Expression Context", "Context")},
    "Documents": {"Href": ("Href", "Location", "URL", "File"), "Title": ("Title", "Name")},
}


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name or "").lower())


def column_names(sheet: str) -> dict[str, str]:
    """Normalized header -> canonical column of one sheet."""
    out: dict[str, str] = {}
    for column in TABLES[sheet]:
        names = COLUMN_SYNONYMS.get(sheet, {}).get(column) or COLUMN_SYNONYMS["*"].get(column) or (column,)
        for name in (column, *names):
            other = out.setdefault(_key(name), column)
            assert other == column, f"{sheet}: {name!r} would mean both {other} and {column}"
    return out


# ----------------------------------------------------------------------------------------- export
def _write_sheet(ws, header: tuple[str, ...], rows: list[list[str]]) -> None:
    ws.append(list(header))
    for row in rows:
        ws.append([int(v) if c in NUMBER_COLUMNS and re.fullmatch(r"-?[0-9]+", v) else v
                   for c, v in zip(header, row)])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text such as "=1" must not become a formula
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows) + 1, 2)}"
    for i, column in enumerate(header):
        longest = max([len(column), *(len(str(r[i]).split("\n")[0]) for r in rows)])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(longest + 2, MAX_WIDTH)


def _deterministic_zip(data: bytes) -> bytes:
    """The same archive with fixed entry timestamps and attributes (zipfile stamps the clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type, entry.create_system, entry.external_attr = zipfile.ZIP_DEFLATED, 3, 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def export_xlsx(spec: Spec, path: str | Path, *, created: dt.date | None = None) -> Path:
    """Write the spec as a P21 style workbook; `created` stamps the document properties (default a
    fixed date), so two exports of one spec are byte-identical."""
    path = Path(path)
    stamp = dt.datetime.combine(created, dt.time()) if created else FIXED_TIME
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in spec_rows(spec).items():
        _write_sheet(wb.create_sheet(name), TABLES[name], rows)
    wb.properties.creator = "submit"
    wb.properties.lastModifiedBy = "submit"
    wb.properties.title = f"{spec.study.name} {spec.study.standard} {spec.study.standard_version} specification"
    wb.properties.created = wb.properties.modified = stamp
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # not save_workbook: that stamps "modified" with the clock
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(_deterministic_zip(raw.getvalue()))
    os.replace(tmp, path)
    return path


# ----------------------------------------------------------------------------------------- import
def _text(value: object) -> str:
    """A cell as the text the CSV would hold (Excel turns 8 into 8.0 and Yes into TRUE at times)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return (value.date() if value.time() == dt.time() else value).isoformat()
    return str(value).strip()


def _read_sheet(ws, sheet: str, label: str) -> tuple[RawTable, list[Problem]]:
    problems: list[Problem] = []
    rows = ws.iter_rows(values_only=True)
    header = [_text(h) for h in next(rows, ())]
    names = column_names(sheet)
    columns: dict[int, str] = {}
    for i, h in enumerate(header):
        column = names.get(_key(h))
        if column is None:
            if h:
                log.warning("%s: column %r is not a column of %s, ignored", label, h, sheet)
        elif column in columns.values():
            problems.append(Problem(f"{label}:1", f"columns {header[list(columns.values()).index(column)]!r} "
                                                  f"and {h!r} both mean {column}", column=h))
        else:
            columns[i] = column
    for column in REQUIRED_COLUMNS[sheet]:
        if column not in columns.values():
            also = [n for n in (COLUMN_SYNONYMS.get(sheet, {}).get(column) or COLUMN_SYNONYMS["*"].get(column) or ())
                    if n != column]
            problems.append(Problem(label, f"required column {column!r} is missing"
                                           + (f" (also accepted: {', '.join(also)})" if also else ""), column=column))
    out = []
    for n, values in enumerate(rows, start=2):
        cells = {columns[i]: _text(v) for i, v in enumerate(values) if i in columns}
        if any(cells.values()):
            out.append((f"{label}:{n}", cells))
    return RawTable(sheet, label, tuple(out)), problems


def import_xlsx(path: str | Path, *, ct_version: str | None = None) -> Spec:
    """The validated spec of a P21 style workbook; InputError listing every problem. CT rules run
    when `ct_version` is given."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            # P21 workbooks carry data validations and styles openpyxl cannot keep; irrelevant here.
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"cannot read {path}", [Problem(str(path), f"{type(exc).__name__}: {exc}")]) from exc
    try:
        sheets = {_key(ws.title): ws for ws in wb.worksheets}
        tables, problems, used = {}, [], set()
        for sheet in TABLES:
            ws = next((sheets[_key(n)] for n in SHEET_SYNONYMS[sheet] if _key(n) in sheets), None)
            if ws is None:
                if sheet in REQUIRED_TABLES:
                    problems.append(Problem(str(path), f"required sheet {sheet!r} is missing "
                                                       f"(also accepted: {', '.join(SHEET_SYNONYMS[sheet][1:])})"))
                continue
            used.add(ws.title)
            tables[sheet], found = _read_sheet(ws, sheet, f"{path}[{ws.title}]")
            problems += found
        ignored = [ws.title for ws in wb.worksheets if ws.title not in used]
        if ignored:
            log.warning("%s: sheets %s are not spec sheets, ignored", path, ignored)
    finally:
        wb.close()
    return checked_spec(tables, problems, ct_version, f"Workbook {path}")
