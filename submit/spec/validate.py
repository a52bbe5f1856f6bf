"""Checks of a whole spec, every problem at once, each naming the file and line it came from.

Errors make the spec unusable (the define.xml or a dataset built from it would be wrong); warnings
are logged and do not stop anything. Rules:

Errors
- references: a Codelist that is neither a codelist nor a dictionary id, or an unknown Method,
  Comment, Document or Where Clause id; a variable or value-level row whose dataset is not in
  Datasets; a value-level row or where condition naming a variable that is not in Variables; key
  variables that are not variables of the dataset
- duplicates: datasets, variables within a dataset, variable orders within a dataset, value-level
  rows (dataset, variable, where clause), ids of every table (a dictionary id may not repeat a
  codelist id either: Variables.Codelist refers to both), terms within a codelist, conditions on
  one variable within a where clause
- required values: the Study attributes but Language; dataset name, description, class, structure,
  purpose, key variables; variable name, label, data type, origin; value-level data type, origin;
  ids, names and descriptions of codelists, dictionaries, methods, comments, documents (and a
  document's href); a codelist needs at least one term
- form: dataset and variable names of 1-8 characters `[A-Z][A-Z0-9_]*`; labels at most 40
  characters; lengths 1-200; significant digits only for float and not negative; data types,
  origins, sources, core values, purposes, comparators, method types and codelist data types from
  their fixed lists; EQ/NE/LT/LE/GT/GE take one value, IN/NOTIN at least one, no value is empty or
  contains "|" (the WhereClauses.csv separator); Derived without a Method (define.xml 2.1 needs a method for
  every derived item, and a reviewer could not tell how the value came about); Predecessor without
  a predecessor
- CT (for a codelist with an NCI codelist code): the codelist exists in CT and its extensible
  flag is CT's; a term in CT carries CT's C-code and is not marked Extended; a term not in CT is
  allowed only in an extensible codelist and only when marked Extended; Extended only in a CDISC
  codelist

Warnings
- a codelist, dictionary, method, comment, document or where clause nothing refers to (it would
  sit unused in define.xml); a Method on an item whose origin is not Derived; a where-clause value
  not in the codelist of its variable; a dataset class Define-XML 2.1 does not list
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from submit.errors import Problem
from submit.spec.ct import Terminology
from submit.spec.model import CORE, DATA_TYPES, ORIGIN_SOURCES, ORIGIN_TYPES, Spec, ValueLevel, Variable

NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
MAX_LABEL = 40
MAX_LENGTH = 200
PURPOSES = ("Tabulation", "Analysis")
COMPARATORS = ("EQ", "NE", "LT", "LE", "GT", "GE", "IN", "NOTIN")
MULTI_VALUE = ("IN", "NOTIN")
VALUE_SEPARATOR = "|"
METHOD_TYPES = ("Computation", "Imputation")
CODELIST_TYPES = ("text", "integer", "float")
STUDY_REQUIRED = ("name", "description", "protocol", "standard", "standard_version")
# def:Class values of Define-XML 2.1 (SDTM and ADaM).
DATASET_CLASSES = (
    "TRIAL DESIGN", "SPECIAL PURPOSE", "INTERVENTIONS", "EVENTS", "FINDINGS", "FINDINGS ABOUT",
    "RELATIONSHIP", "STUDY REFERENCE", "SUBJECT LEVEL ANALYSIS DATASET", "BASIC DATA STRUCTURE",
    "OCCURRENCE DATA STRUCTURE", "ADAM OTHER", "DEVICE LEVEL ANALYSIS DATASET",
    "MEDICAL DEVICE BASIC DATA STRUCTURE", "MEDICAL DEVICE OCCURRENCE DATA STRUCTURE",
    "INTEGRATED SUBJECT LEVEL", "INTEGRATED BASIC DATA STRUCTURE", "INTEGRATED OCCURRENCE DATA STRUCTURE")


@dataclass(frozen=True)
class Sources:
    """Where each item of a spec was read, for problems. Keys: (table, index) for a row of a table;
    (table, i, j) for term j of codelist i or condition j of where clause i, (table, i) then being
    the first row of that codelist or clause; ("Study", attribute). A spec built in code has none,
    and problems then name the table's file."""

    locations: Mapping[tuple, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)

    def at(self, table: str, *key) -> str:
        return self.locations.get((table, *key)) or self.files.get(table) or f"{table}.csv"


@dataclass
class Findings:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class _Checker:
    def __init__(self, spec: Spec, sources: Sources):
        self.spec, self.sources, self.found = spec, sources, Findings()

    def error(self, where: tuple, message: str, column: str | None = None) -> None:
        self.found.errors.append(Problem(self.sources.at(*where), message, column=column))

    def warn(self, where: tuple, message: str, column: str | None = None) -> None:
        self.found.warnings.append(Problem(self.sources.at(*where), message, column=column))

    def required(self, where: tuple, what: str, values: Mapping[str, str]) -> None:
        for column, value in values.items():
            if not value:
                self.error(where, f"{what}: {column} is required", column)

    def one_of(self, where: tuple, what: str, column: str, value: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        if value and value not in allowed:
            self.error(where, f"{what}: {column} {value!r} is not one of {', '.join(a for a in allowed if a)}", column)

    def name(self, where: tuple, what: str, column: str, value: str) -> None:
        if value and not NAME.fullmatch(value):
            self.error(where, f"{what}: {column} {value!r} must be 1-8 characters, an upper-case letter "
                              "then upper-case letters, digits or _", column)

    def label(self, where: tuple, what: str, column: str, value: str) -> None:
        if len(value) > MAX_LABEL:
            self.error(where, f"{what}: {column} is {len(value)} characters, at most {MAX_LABEL} allowed", column)

    def refers(self, where: tuple, what: str, column: str, value: str, known: set[str], kind: str) -> None:
        if value and value not in known:
            self.error(where, f"{what}: unknown {kind} {value!r}", column)

    def duplicates(self, table: str, keys: list, describe) -> None:
        """An error at every repetition of a key after its first occurrence."""
        seen: dict = {}
        for i, key in enumerate(keys):
            if key in seen:
                self.error((table, i), f"duplicate {describe(key)} (first at {self.sources.at(table, seen[key])})")
            else:
                seen[key] = i


def validate_spec(spec: Spec, sources: Sources | None = None, ct: Terminology | None = None) -> Findings:
    """Every error and warning of `spec`; CT rules only when `ct` is given."""
    check = _Checker(spec, sources or Sources())
    for rule in (_study, _datasets, _variables, _value_level, _where_clauses, _codelists, _simple_tables,
                 _unused):
        rule(check)
    if ct is not None:
        check_ct(check, ct)
    return check.found


def _study(c: _Checker) -> None:
    names = {"name": "StudyName", "description": "StudyDescription", "protocol": "ProtocolName",
             "standard": "StandardName", "standard_version": "StandardVersion"}
    for attr in STUDY_REQUIRED:
        if not getattr(c.spec.study, attr):
            c.error(("Study", names[attr]), f"Study: {names[attr]} is required", "Value")


def _datasets(c: _Checker) -> None:
    spec = c.spec
    c.duplicates("Datasets", [d.name for d in spec.datasets], lambda k: f"dataset {k}")
    comments = {x.id for x in spec.comments}
    for i, d in enumerate(spec.datasets):
        at, what = ("Datasets", i), f"dataset {d.name or '?'}"
        c.required(at, what, {"Dataset": d.name, "Description": d.label, "Class": d.cls,
                              "Structure": d.structure, "Purpose": d.purpose})
        c.name(at, what, "Dataset", d.name)
        c.label(at, what, "Description", d.label)
        c.one_of(at, what, "Purpose", d.purpose, PURPOSES)
        if d.cls and d.cls not in DATASET_CLASSES:
            c.warn(at, f"{what}: Class {d.cls!r} is not a Define-XML 2.1 class", "Class")
        c.refers(at, what, "Comment", d.comment, comments, "comment")
        names = {v.name for v in spec.variables if v.dataset == d.name}
        if not d.keys:
            c.error(at, f"{what}: Key Variables is required", "Key Variables")
        for key, n in Counter(d.keys).items():
            if key not in names:
                c.error(at, f"{what}: key variable {key} is not a variable of {d.name}", "Key Variables")
            if n > 1:
                c.error(at, f"{what}: key variable {key} is listed {n} times", "Key Variables")


def _item(c: _Checker, at: tuple, what: str, item: Variable | ValueLevel) -> None:
    """The rules variables and value-level rows share."""
    spec = c.spec
    c.required(at, what, {"Data Type": item.data_type, "Origin": item.origin})
    c.one_of(at, what, "Data Type", item.data_type, DATA_TYPES)
    c.one_of(at, what, "Origin", item.origin, ORIGIN_TYPES)
    c.one_of(at, what, "Source", item.source, ORIGIN_SOURCES)
    if item.length is not None and not 1 <= item.length <= MAX_LENGTH:
        c.error(at, f"{what}: Length {item.length} is not within 1-{MAX_LENGTH}", "Length")
    if item.significant_digits is not None:
        if item.data_type != "float":
            c.error(at, f"{what}: Significant Digits only apply to float, not {item.data_type or '?'}",
                    "Significant Digits")
        elif item.significant_digits < 0:
            c.error(at, f"{what}: Significant Digits must not be negative", "Significant Digits")
    if item.origin == "Derived" and not item.method:
        c.error(at, f"{what}: Derived needs a Method (define.xml documents how it is derived)", "Method")
    if item.method and item.origin != "Derived":
        c.warn(at, f"{what}: Method {item.method} on an item whose origin is {item.origin or '?'}", "Method")
    if item.origin == "Predecessor" and not item.predecessor:
        c.error(at, f"{what}: Predecessor origin needs a Predecessor", "Predecessor")
    c.refers(at, what, "Codelist", item.codelist,
             {x.id for x in spec.codelists} | {x.id for x in spec.dictionaries}, "codelist or dictionary")
    c.refers(at, what, "Method", item.method, {x.id for x in spec.methods}, "method")
    c.refers(at, what, "Comment", item.comment, {x.id for x in spec.comments}, "comment")


def _variables(c: _Checker) -> None:
    spec = c.spec
    datasets = {d.name for d in spec.datasets}
    c.duplicates("Variables", [(v.dataset, v.name) for v in spec.variables], lambda k: f"variable {k[0]}.{k[1]}")
    c.duplicates("Variables", [(v.dataset, v.order) for v in spec.variables], lambda k: f"Order {k[1]} in {k[0]}")
    for i, v in enumerate(spec.variables):
        at, what = ("Variables", i), f"{v.dataset or '?'}.{v.name or '?'}"
        c.required(at, what, {"Dataset": v.dataset, "Variable": v.name, "Label": v.label})
        if v.dataset and v.dataset not in datasets:
            c.error(at, f"{what}: dataset {v.dataset} is not in Datasets", "Dataset")
        c.name(at, what, "Variable", v.name)
        c.label(at, what, "Label", v.label)
        c.one_of(at, what, "Core", v.core, CORE)
        _item(c, at, what, v)


def _value_level(c: _Checker) -> None:
    spec = c.spec
    datasets = {d.name for d in spec.datasets}
    variables = {(v.dataset, v.name) for v in spec.variables}
    clauses = {w.id for w in spec.where_clauses}
    c.duplicates("ValueLevel", [(x.dataset, x.variable, x.where_clause) for x in spec.value_level],
                 lambda k: f"value-level row {k[0]}.{k[1]} where {k[2]}")
    for i, x in enumerate(spec.value_level):
        at, what = ("ValueLevel", i), f"{x.dataset or '?'}.{x.variable or '?'} where {x.where_clause or '?'}"
        c.required(at, what, {"Dataset": x.dataset, "Variable": x.variable, "Where Clause": x.where_clause})
        if x.dataset and x.dataset not in datasets:
            c.error(at, f"{what}: dataset {x.dataset} is not in Datasets", "Dataset")
        elif x.variable and (x.dataset, x.variable) not in variables:
            c.error(at, f"{what}: {x.dataset}.{x.variable} is not in Variables", "Variable")
        c.refers(at, what, "Where Clause", x.where_clause, clauses, "where clause")
        _item(c, at, what, x)


def _where_clauses(c: _Checker) -> None:
    spec = c.spec
    variables = {(v.dataset, v.name): v for v in spec.variables}
    codelists = {x.id: x for x in spec.codelists}
    c.duplicates("WhereClauses", [w.id for w in spec.where_clauses], lambda k: f"where clause id {k}")
    for i, w in enumerate(spec.where_clauses):
        c.required(("WhereClauses", i), "where clause", {"ID": w.id})
        seen: set = set()
        for j, cond in enumerate(w.conditions):
            at, what = ("WhereClauses", i, j), f"where clause {w.id}: {cond.dataset or '?'}.{cond.variable or '?'}"
            c.required(at, what, {"Dataset": cond.dataset, "Variable": cond.variable, "Comparator": cond.comparator})
            if (cond.dataset, cond.variable) in seen:
                c.error(at, f"{what}: a second condition on the same variable", "Variable")
            seen.add((cond.dataset, cond.variable))
            variable = variables.get((cond.dataset, cond.variable))
            if cond.dataset and cond.variable and variable is None:
                c.error(at, f"{what}: {cond.dataset}.{cond.variable} is not in Variables", "Variable")
            c.one_of(at, what, "Comparator", cond.comparator, COMPARATORS)
            n = len(cond.values)
            if cond.comparator in MULTI_VALUE and n == 0:
                c.error(at, f"{what}: {cond.comparator} needs at least one value", "Value")
            elif cond.comparator in COMPARATORS and cond.comparator not in MULTI_VALUE and n != 1:
                c.error(at, f"{what}: {cond.comparator} needs exactly one value, got {n}", "Value")
            if "" in cond.values:
                c.error(at, f"{what}: an empty value (define.xml has no empty CheckValue)", "Value")
            if any(VALUE_SEPARATOR in v for v in cond.values):
                c.error(at, f"{what}: a value contains {VALUE_SEPARATOR!r}, the separator of values", "Value")
            codelist = codelists.get(variable.codelist) if variable else None
            if codelist is not None:
                outside = [v for v in cond.values if v not in codelist.values()]
                if outside:
                    c.warn(at, f"{what}: {outside} not in codelist {codelist.id}", "Value")


def _codelists(c: _Checker) -> None:
    spec = c.spec
    c.duplicates("Codelists", [x.id for x in spec.codelists], lambda k: f"codelist id {k}")
    codelist_ids = {x.id for x in spec.codelists}
    for i, d in enumerate(spec.dictionaries):
        if d.id in codelist_ids:
            c.error(("Dictionaries", i), f"dictionary id {d.id} is also a codelist id", "ID")
    for i, cl in enumerate(spec.codelists):
        at, what = ("Codelists", i), f"codelist {cl.id or '?'}"
        c.required(at, what, {"ID": cl.id, "Name": cl.name, "Data Type": cl.data_type})
        c.one_of(at, what, "Data Type", cl.data_type, CODELIST_TYPES)
        if not cl.terms:
            c.error(at, f"{what}: no terms", "Term")
        c.refers(at, what, "Comment", cl.comment, {x.id for x in spec.comments}, "comment")
        if cl.nci_code and cl.extensible is None:
            c.error(at, f"{what}: Extensible (Yes or No) is required for a CDISC codelist", "Extensible")
        seen: dict[str, int] = {}
        for j, t in enumerate(cl.terms):
            tat = ("Codelists", i, j)
            if not t.value:
                c.error(tat, f"{what}: Term is required", "Term")
            elif t.value in seen:
                first = c.sources.at("Codelists", i, seen[t.value])
                c.error(tat, f"{what}: duplicate term {t.value!r} (first at {first})", "Term")
            else:
                seen[t.value] = j
            if t.extended and not cl.nci_code:
                c.error(tat, f"{what}: term {t.value!r} is marked Extended but the codelist has no NCI code",
                        "Extended")


def _simple_tables(c: _Checker) -> None:
    spec = c.spec
    documents = {x.id for x in spec.documents}
    tables = (
        ("Dictionaries", spec.dictionaries, "dictionary",
         lambda x: {"ID": x.id, "Name": x.name, "Data Type": x.data_type, "Dictionary": x.dictionary,
                    "Version": x.version}),
        ("Methods", spec.methods, "method",
         lambda x: {"ID": x.id, "Name": x.name, "Type": x.type, "Description": x.description}),
        ("Comments", spec.comments, "comment", lambda x: {"ID": x.id, "Description": x.description}),
        ("Documents", spec.documents, "document", lambda x: {"ID": x.id, "Title": x.title, "Href": x.href}),
    )
    for table, items, kind, required in tables:
        c.duplicates(table, [x.id for x in items], lambda k, kind=kind: f"{kind} id {k}")
        for i, x in enumerate(items):
            at, what = (table, i), f"{kind} {x.id or '?'}"
            c.required(at, what, required(x))
            if table == "Dictionaries":
                c.one_of(at, what, "Data Type", x.data_type, CODELIST_TYPES)
            if table == "Methods":
                c.one_of(at, what, "Type", x.type, METHOD_TYPES)
            if table in ("Methods", "Comments"):
                c.refers(at, what, "Document", x.document, documents, "document")


def _unused(c: _Checker) -> None:
    spec = c.spec
    items = (*spec.variables, *spec.value_level)
    codelist_refs = {x.codelist for x in items}
    used = {
        "Codelists": codelist_refs, "Dictionaries": codelist_refs,
        "Methods": {x.method for x in items},
        "Comments": {x.comment for x in (*spec.datasets, *items, *spec.codelists)},
        "Documents": {x.document for x in (*spec.methods, *spec.comments)},
        "WhereClauses": {x.where_clause for x in spec.value_level},
    }
    tables = {"Codelists": spec.codelists, "Dictionaries": spec.dictionaries, "Methods": spec.methods,
              "Comments": spec.comments, "Documents": spec.documents, "WhereClauses": spec.where_clauses}
    kinds = {"Codelists": "codelist", "Dictionaries": "dictionary", "Methods": "method", "Comments": "comment",
             "Documents": "document", "WhereClauses": "where clause"}
    for table, table_items in tables.items():
        for i, x in enumerate(table_items):
            if x.id and x.id not in used[table]:
                c.warn((table, i), f"{kinds[table]} {x.id} is not referred to", "ID")


def check_ct(c: _Checker, ct: Terminology) -> None:
    """Codelists with an NCI code against CT, one table merge for all their terms."""
    cdisc = [(i, cl) for i, cl in enumerate(c.spec.codelists) if cl.nci_code]
    known = set(ct.codelists.index)
    for i, cl in cdisc:
        if cl.nci_code not in known:
            c.error(("Codelists", i), f"codelist {cl.id}: {cl.nci_code} is not a codelist of CDISC CT {ct.version}",
                    "NCI Codelist Code")
        elif cl.extensible is not None and cl.extensible != ct.codelists.at[cl.nci_code, "extensible"]:
            c.error(("Codelists", i), f"codelist {cl.id}: Extensible is "
                                      f"{'Yes' if ct.codelists.at[cl.nci_code, 'extensible'] else 'No'} in CDISC CT "
                                      f"{ct.version}", "Extensible")
    rows = pd.DataFrame(
        [(i, j, cl.id, cl.nci_code, t.value, t.nci_code, t.extended) for i, cl in cdisc if cl.nci_code in known
         for j, t in enumerate(cl.terms)],
        columns=["i", "j", "id", "codelist", "value", "nci_code", "extended"])
    if rows.empty:
        return
    rows = rows.merge(ct.terms[["codelist", "value", "code"]], how="left", on=["codelist", "value"])
    rows["extensible"] = rows["codelist"].map(ct.codelists["extensible"]).astype(bool)
    in_ct = rows["code"].notna()
    failures = (
        (in_ct & (rows["nci_code"] != rows["code"]),
         "codelist {id}: term {value!r} has NCI Term Code {code} in CDISC CT, not {nci_code!r}", "NCI Term Code"),
        (in_ct & rows["extended"],
         "codelist {id}: term {value!r} is in CDISC CT ({code}), so it is not an extension", "Extended"),
        (~in_ct & ~rows["extensible"],
         "codelist {id}: term {value!r} is not in CDISC CT {version} and {codelist} is not extensible", "Term"),
        (~in_ct & rows["extensible"] & ~rows["extended"],
         "codelist {id}: term {value!r} is not in CDISC CT {version}; mark it Extended if it is a sponsor "
         "extension", "Extended"),
    )
    for mask, message, column in failures:
        for r in rows[mask].itertuples(index=False):
            c.error(("Codelists", r.i, r.j), message.format(version=ct.version, **r._asdict()), column)
