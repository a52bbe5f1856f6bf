"""A spec folder: one CSV per Pinnacle 21 sheet, read into the metadata model and written back.

Files (UTF-8, `\\n` line ends, a header row, one row per item; the columns are `TABLES`):
Study.csv (Attribute,Value), Datasets.csv, Variables.csv, ValueLevel.csv, WhereClauses.csv,
Codelists.csv, Dictionaries.csv, Methods.csv, Comments.csv, Documents.csv. Study, Datasets and
Variables are required; a missing optional file is an empty table. A sheet may also come in parts:
`parts/<any>/<Sheet>.csv` files are appended to `<Sheet>.csv` in name order (so several people can
add domains without editing one file); `write_spec` refuses a folder with parts, as it cannot know
which part a row belongs to.

Cell conventions: booleans Yes/No (read: also Y/N, True/False; empty = No); Extended is Y or empty;
Extensible is Yes, No or empty (empty only for a sponsor codelist); Key Variables are separated by
blanks (read: also commas); an empty Order is the row's position within its dataset (codelist);
WhereClauses.csv has one row per condition, the rows of one ID being one clause, and the values of
IN/NOTIN separated by `|`; Codelists.csv has one row per term, the codelist columns repeated on
every row (read: a codelist column may be left empty on all rows but one). Cells are stripped.
Rows are written in the order of the spec's tuples, which is the order they were read in, so a
load/write cycle does not reorder anyone's file. Problems name `file:line` (the header is line 1).
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from submit.errors import InputError, Problem
from submit.spec.ct import load_terminology
from submit.spec.model import (Codelist, Comment, Dataset, Dictionary, Document, Method, Spec, Study, Term,
                               ValueLevel, Variable, WhereClause, WhereCondition)
from submit.spec.validate import Sources, validate_spec

log = logging.getLogger("submit.spec")

PARTS = "parts"
STUDY_ATTRIBUTES = {"StudyName": "name", "StudyDescription": "description", "ProtocolName": "protocol",
                    "StandardName": "standard", "StandardVersion": "standard_version", "Language": "language"}

# Column -> (attribute, kind). Kinds: "" text; "int" integer or empty (None); "order" integer, empty =
# position; "bool" Yes/No; "maybe" Yes/No/empty (None); "flag" Y/empty; "list" blank-separated names;
# "values" |-separated values.
_ITEM = {"Data Type": ("data_type", ""), "Length": ("length", "int"),
         "Significant Digits": ("significant_digits", "int"), "Format": ("display_format", ""),
         "Mandatory": ("mandatory", "bool"), "Assigned Value": ("assigned_value", ""), "Codelist": ("codelist", ""),
         "Origin": ("origin", ""), "Source": ("source", ""), "Pages": ("pages", ""), "Method": ("method", ""),
         "Predecessor": ("predecessor", "")}
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "Datasets": {"Dataset": ("name", ""), "Description": ("label", ""), "Class": ("cls", ""),
                 "Structure": ("structure", ""), "Purpose": ("purpose", ""), "Key Variables": ("keys", "list"),
                 "Repeating": ("repeating", "bool"), "Reference Data": ("reference", "bool"),
                 "Comment": ("comment", ""), "Developer Notes": ("notes", ""), "Subclass": ("subclass", ""),
                 "Order": ("order", "order")},
    "Variables": {"Order": ("order", "order"), "Dataset": ("dataset", ""), "Variable": ("name", ""),
                  "Label": ("label", ""), **_ITEM, "Role": ("role", ""), "Comment": ("comment", ""),
                  "Developer Notes": ("notes", ""), "Core": ("core", "")},
    "ValueLevel": {"Order": ("order", "order"), "Dataset": ("dataset", ""), "Variable": ("variable", ""),
                   "Where Clause": ("where_clause", ""), **_ITEM, "Comment": ("comment", ""),
                   "Developer Notes": ("notes", "")},
    "WhereClauses": {"ID": ("id", ""), "Dataset": ("dataset", ""), "Variable": ("variable", ""),
                     "Comparator": ("comparator", ""), "Value": ("values", "values")},
    "Codelists": {"ID": ("id", ""), "Name": ("name", ""), "NCI Codelist Code": ("nci_code", ""),
                  "Data Type": ("data_type", ""), "Terminology": ("terminology", ""),
                  "Extensible": ("extensible", "maybe"), "Order": ("order", "order"), "Term": ("value", ""),
                  "NCI Term Code": ("nci_code", ""), "Decoded Value": ("decode", ""), "Extended": ("extended", "flag"),
                  "Comment": ("comment", "")},
    "Dictionaries": {"ID": ("id", ""), "Name": ("name", ""), "Data Type": ("data_type", ""),
                     "Dictionary": ("dictionary", ""), "Version": ("version", "")},
    "Methods": {"ID": ("id", ""), "Name": ("name", ""), "Type": ("type", ""), "Description": ("description", ""),
                "Expression Context": ("expression_context", ""), "Expression Code": ("expression_code", ""),
                "Document": ("document", ""), "Pages": ("pages", "")},
    "Comments": {"ID": ("id", ""), "Description": ("description", ""), "Document": ("document", ""),
                 "Pages": ("pages", "")},
    "Documents": {"ID": ("id", ""), "Title": ("title", ""), "Href": ("href", "")},
}
TABLES: dict[str, tuple[str, ...]] = {"Study": ("Attribute", "Value"), **{t: tuple(f) for t, f in FIELDS.items()}}
REQUIRED_TABLES = ("Study", "Datasets", "Variables")
# Columns without which a sheet cannot be read; other columns may be absent (empty).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "Study": ("Attribute", "Value"),
    "Datasets": ("Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables"),
    "Variables": ("Dataset", "Variable", "Label", "Data Type", "Origin"),
    "ValueLevel": ("Dataset", "Variable", "Where Clause", "Data Type", "Origin"),
    "WhereClauses": ("ID", "Dataset", "Variable", "Comparator", "Value"),
    "Codelists": ("ID", "Name", "Data Type", "Term"),
    "Dictionaries": ("ID", "Name", "Data Type", "Dictionary", "Version"),
    "Methods": ("ID", "Name", "Type", "Description"),
    "Comments": ("ID", "Description"),
    "Documents": ("ID", "Title", "Href"),
}
_CODELIST_COLUMNS = ("ID", "Name", "NCI Codelist Code", "Data Type", "Terminology", "Extensible", "Comment")
_TERM_COLUMNS = ("Order", "Term", "NCI Term Code", "Decoded Value", "Extended")
_CONDITION_COLUMNS = ("Dataset", "Variable", "Comparator", "Value")
MODELS = {"Datasets": Dataset, "Variables": Variable, "ValueLevel": ValueLevel, "Dictionaries": Dictionary,
          "Methods": Method, "Comments": Comment, "Documents": Document}
_YES, _NO = {"yes", "y", "true"}, {"no", "n", "false"}
_INT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class RawTable:
    """One sheet as read: each row with where it was read ("file:line") and its cells by column."""

    name: str
    file: str
    rows: tuple[tuple[str, dict[str, str]], ...]


# ---------------------------------------------------------------------------------------- reading
class _Cells:
    """Cell parsing that records a problem instead of stopping at the first bad cell."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def value(self, where: str, cells: Mapping[str, str], column: str, kind: str, position: int):
        text = cells.get(column, "")
        if kind == "":
            return text
        if kind in ("int", "order"):
            if not text:
                return position if kind == "order" else None
            if _INT.fullmatch(text):
                return int(text)
            self.problems.append(Problem(where, f"{column} {text!r} is not an integer", column=column))
            return position if kind == "order" else None
        if kind in ("bool", "maybe", "flag"):
            low = text.lower()
            if low in _YES or low in _NO:
                return low in _YES
            if not text:
                return None if kind == "maybe" else False
            self.problems.append(Problem(where, f"{column} {text!r} is not Yes or No", column=column))
            return None if kind == "maybe" else False
        if kind == "list":
            return tuple(re.split(r"[,\s]+", text)) if text else ()
        if kind == "values":
            return tuple(text.split("|")) if text else ()
        raise AssertionError(kind)

    def fields(self, table: str, where: str, cells: Mapping[str, str], position: int,
               columns: tuple[str, ...] | None = None) -> dict:
        spec = FIELDS[table]
        return {spec[c][0]: self.value(where, cells, c, spec[c][1], position) for c in columns or spec}


def _groups(rows) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Rows by their ID, in order of first appearance."""
    groups: dict[str, list] = {}
    for where, cells in rows:
        groups.setdefault(cells.get("ID", ""), []).append((where, cells))
    return groups


def _group_fields(p: _Cells, table: str, rows, columns: tuple[str, ...], what: str) -> dict:
    """Columns that hold one value for a group of rows: the one non-empty value among the rows."""
    merged: dict[str, str] = {}
    first: dict[str, str] = {}
    for where, cells in rows:
        for column in columns:
            text = cells.get(column, "")
            if text and column in merged and merged[column] != text:
                p.problems.append(Problem(where, f"{what}: {column} {text!r} here but {merged[column]!r} at "
                                                 f"{first[column]}", column=column))
            elif text and column not in merged:
                merged[column], first[column] = text, where
    return p.fields(table, rows[0][0], merged, 0, columns)


def _study(p: _Cells, rows, loc: dict) -> Study:
    names = {re.sub(r"[^a-z0-9]", "", a.lower()): a for a in STUDY_ATTRIBUTES}  # "Study Name" too
    study: dict[str, str] = {"language": "en"}
    for where, cells in rows:
        attribute = names.get(re.sub(r"[^a-z0-9]", "", cells.get("Attribute", "").lower()))
        if attribute is None:
            p.problems.append(Problem(where, f"unknown Study attribute {cells.get('Attribute', '')!r} (known: "
                                             f"{', '.join(STUDY_ATTRIBUTES)})", column="Attribute"))
        elif ("Study", attribute) in loc:
            p.problems.append(Problem(where, f"Study attribute {attribute} given twice", column="Attribute"))
        else:
            study[STUDY_ATTRIBUTES[attribute]] = cells.get("Value", "")
            loc["Study", attribute] = where
    return Study(**{**{f: "" for f in STUDY_ATTRIBUTES.values()}, **study})


def _items(p: _Cells, table: str, rows, loc: dict, within: str | None = None) -> tuple:
    """The objects of a sheet's rows; an empty Order is the row's position within `within`."""
    out, counts = [], {}
    for i, (where, cells) in enumerate(rows):
        group = cells.get(within, "") if within else ""
        counts[group] = counts.get(group, 0) + 1
        loc[table, i] = where
        fields = p.fields(table, where, cells, counts[group])
        out.append(_variable(p, fields, where, cells) if table == "Variables" else MODELS[table](**fields))
    return tuple(out)


def _variable(p: _Cells, f: dict, where: str, cells: dict) -> Variable:
    # Variable.mandatory is Core == Req; a plain P21 sheet has Mandatory but no Core.
    mandatory = f.pop("mandatory")
    if not f["core"]:
        f["core"] = "Req" if mandatory else "Perm"
    elif cells.get("Mandatory") and mandatory != (f["core"] == "Req"):
        p.problems.append(Problem(where, f"Mandatory {cells['Mandatory']} contradicts Core {f['core']} "
                                         "(Mandatory is Yes exactly when Core is Req)", column="Mandatory"))
    return Variable(**f)


def _codelists(p: _Cells, rows, loc: dict) -> tuple[Codelist, ...]:
    out = []
    for i, (cid, group) in enumerate(_groups(rows).items()):
        head = _group_fields(p, "Codelists", group, _CODELIST_COLUMNS, f"codelist {cid}")
        loc["Codelists", i] = group[0][0]
        term_rows = [(w, c) for w, c in group if any(c.get(col) for col in _TERM_COLUMNS)]
        terms = []
        for j, (where, cells) in enumerate(term_rows):
            loc["Codelists", i, j] = where
            terms.append(Term(**p.fields("Codelists", where, cells, j + 1, _TERM_COLUMNS)))
        out.append(Codelist(**head, terms=tuple(terms)))
    return tuple(out)


def _where_clauses(p: _Cells, rows, loc: dict) -> tuple[WhereClause, ...]:
    out = []
    for i, (wid, group) in enumerate(_groups(rows).items()):
        loc["WhereClauses", i] = group[0][0]
        condition_rows = [(w, c) for w, c in group if any(c.get(col) for col in _CONDITION_COLUMNS)]
        conditions = []
        for j, (where, cells) in enumerate(condition_rows):
            loc["WhereClauses", i, j] = where
            conditions.append(WhereCondition(**p.fields("WhereClauses", where, cells, 0, _CONDITION_COLUMNS)))
        out.append(WhereClause(wid, tuple(conditions)))
    return tuple(out)


def spec_from_tables(tables: Mapping[str, RawTable]) -> tuple[Spec, Sources, list[Problem]]:
    """The spec the sheets describe, where each item was read, and the cells that could not be read."""
    p = _Cells()
    loc: dict[tuple, str] = {}
    rows = {name: tables[name].rows if name in tables else () for name in TABLES}
    spec = Spec(
        study=_study(p, rows["Study"], loc),
        datasets=_items(p, "Datasets", rows["Datasets"], loc),
        variables=_items(p, "Variables", rows["Variables"], loc, within="Dataset"),
        value_level=_items(p, "ValueLevel", rows["ValueLevel"], loc, within="Dataset"),
        where_clauses=_where_clauses(p, rows["WhereClauses"], loc),
        codelists=_codelists(p, rows["Codelists"], loc),
        dictionaries=_items(p, "Dictionaries", rows["Dictionaries"], loc),
        methods=_items(p, "Methods", rows["Methods"], loc),
        comments=_items(p, "Comments", rows["Comments"], loc),
        documents=_items(p, "Documents", rows["Documents"], loc),
    )
    return spec, Sources(loc, {name: t.file for name, t in tables.items()}), p.problems


def checked_spec(tables: Mapping[str, RawTable], problems: list[Problem], ct_version: str | None,
                 what: str) -> Spec:
    """The spec of the sheets, validated: InputError listing every problem, or the spec (warnings
    logged). The CT rules run only when a CT version is known. `problems` are those of reading the
    sheets (missing files, sheets or columns): they alone are reported, as every row would follow."""
    if problems:
        raise InputError(f"{what} cannot be read ({len(problems)} problems)", problems)
    spec, sources, problems = spec_from_tables(tables)
    ct = None
    if ct_version:
        ct = load_terminology(ct_version)
    else:
        log.warning("%s: no CT version known (standards.ct of study.yaml), codelists not checked against CT", what)
    found = validate_spec(spec, sources, ct)
    for warning in found.warnings:
        log.warning("%s", warning)
    problems += found.errors
    if problems:
        raise InputError(f"{what} is invalid ({len(problems)} problems)", problems)
    return spec


def _read_csv(path: Path, table: str) -> tuple[list[tuple[str, dict[str, str]]], list[Problem]]:
    """Rows of one CSV with their `file:line` (a quoted cell may span lines: the row's first line)."""
    problems, rows = [], []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        known = TABLES[table]
        for h in header:
            if h not in known:
                problems.append(Problem(f"{path}:1", f"unknown column {h!r} (known: {', '.join(known)})", column=h))
        for h in sorted({h for h in header if header.count(h) > 1}):
            problems.append(Problem(f"{path}:1", f"column {h!r} appears twice", column=h))
        for h in REQUIRED_COLUMNS[table]:
            if h not in header:
                problems.append(Problem(f"{path}:1", f"required column {h!r} is missing", column=h))
        line = reader.line_num
        for record in reader:
            where, line = f"{path}:{line + 1}", reader.line_num
            if not any(c.strip() for c in record):
                continue
            if len(record) > len(header):
                problems.append(Problem(where, f"{len(record)} cells but {len(header)} columns"))
            rows.append((where, {h: c.strip() for h, c in zip(header, record) if h in known}))
    return rows, problems


def read_tables(folder: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Every sheet of a spec folder (parts appended), and the problems of reading them."""
    tables, problems = {}, []
    for name in TABLES:
        paths = [p for p in (folder / f"{name}.csv", *sorted(folder.glob(f"{PARTS}/*/{name}.csv"))) if p.is_file()]
        if not paths:
            if name in REQUIRED_TABLES:
                problems.append(Problem(str(folder / f"{name}.csv"), "required file is missing"))
            continue
        rows = []
        for path in paths:
            more, found = _read_csv(path, name)
            rows += more
            problems += found
        tables[name] = RawTable(name, str(paths[0]), tuple(rows))
    return tables, problems


def ct_version_beside(folder: Path) -> str | None:
    """standards.ct of the study configuration of a spec folder (`<specs>/study.yaml` for `<specs>/sdtm`)."""
    from submit.config import load_study_config  # noqa: PLC0415 (only when a spec is loaded)

    path = Path(folder).parent / "study.yaml"
    return load_study_config(path).standards.ct if path.is_file() else None


def load_spec(folder: str | Path, *, ct_version: str | None = None) -> Spec:
    """The validated spec of a folder; InputError listing every problem with file and line.

    `ct_version` defaults to standards.ct of the study.yaml beside the folder; without either, the
    CT rules are skipped with a warning."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("Spec not found", [Problem(str(folder), "not a folder")])
    tables, problems = read_tables(folder)
    return checked_spec(tables, problems, ct_version or ct_version_beside(folder), f"Spec {folder}")


# ---------------------------------------------------------------------------------------- writing
def _text(value, kind: str) -> str:
    if kind in ("int", "order"):
        return "" if value is None else str(value)
    if kind == "bool":
        return "Yes" if value else "No"
    if kind == "maybe":
        return "" if value is None else "Yes" if value else "No"
    if kind == "flag":
        return "Y" if value else ""
    if kind == "list":
        return " ".join(value)
    if kind == "values":
        return "|".join(value)
    return value


def _row(table: str, obj, columns: tuple[str, ...] | None = None) -> list[str]:
    return [_text(getattr(obj, FIELDS[table][c][0]), FIELDS[table][c][1]) for c in columns or TABLES[table]]


def spec_rows(spec: Spec) -> dict[str, list[list[str]]]:
    """Every sheet of a spec as rows of text cells in `TABLES` column order (header excluded)."""
    codelist_rows = []
    for cl in spec.codelists:
        head = dict(zip(_CODELIST_COLUMNS, _row("Codelists", cl, _CODELIST_COLUMNS)))
        terms = [dict(zip(_TERM_COLUMNS, _row("Codelists", t, _TERM_COLUMNS))) for t in cl.terms] or [{}]
        codelist_rows += [[{**head, **t}.get(c, "") for c in TABLES["Codelists"]] for t in terms]
    where_rows = [[w.id, *cells] for w in spec.where_clauses
                  for cells in ([_row("WhereClauses", c, _CONDITION_COLUMNS) for c in w.conditions]
                                or [[""] * len(_CONDITION_COLUMNS)])]
    return {
        "Study": [[a, getattr(spec.study, f)] for a, f in STUDY_ATTRIBUTES.items()],
        "Datasets": [_row("Datasets", d) for d in spec.datasets],
        "Variables": [_row("Variables", v) for v in spec.variables],
        "ValueLevel": [_row("ValueLevel", x) for x in spec.value_level],
        "WhereClauses": where_rows,
        "Codelists": codelist_rows,
        "Dictionaries": [_row("Dictionaries", x) for x in spec.dictionaries],
        "Methods": [_row("Methods", x) for x in spec.methods],
        "Comments": [_row("Comments", x) for x in spec.comments],
        "Documents": [_row("Documents", x) for x in spec.documents],
    }


def write_spec(spec: Spec, folder: str | Path, *, merge_parts: bool = False) -> None:
    """Every sheet's CSV into `folder` (created if need be; other files there are left alone). The
    CSVs are written to a temporary folder beside it first and then moved in, so a failure leaves
    the previous files as they were. A folder in parts is refused, unless `merge_parts`: then the
    main files get every row (the spec is whole, e.g. a workbook of the whole folder) and the
    parts' CSVs are removed once they are written."""
    folder = Path(folder)
    parts = sorted(folder.glob(f"{PARTS}/*/*.csv"))
    if parts and not merge_parts:
        raise InputError(f"Spec {folder} comes in parts", [Problem(str(folder / PARTS), "writing would duplicate "
                         "the rows of the parts; merge them into the main files or write to another folder")])
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, rows in spec_rows(spec).items():
            with (tmp / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(TABLES[name])
                writer.writerows(rows)
        folder.mkdir(exist_ok=True)
        for path in sorted(tmp.iterdir()):
            os.replace(path, folder / path.name)
        for path in parts:  # their rows are in the main files now
            path.unlink()
        if parts:
            log.info("%s: the rows of %d part file(s) are now in the main files; %s/ removed",
                     folder, len(parts), PARTS)
            shutil.rmtree(folder / PARTS, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
