"""Does define.xml describe the XPT files beside it? Compared file against file (the define read
back, the XPT files read as written, by submit.xpt.reader (pyreadstat for a file it does not read);
neither shares code with the writer):

- every XPT file is a dataset of the define and every dataset of the define an XPT file, with the
  same name and label; the same variables in the same order, each with the same label, type
  (character for text and ISO 8601 types, numeric for integer and float), display format and,
  for text, the same length; numbers fit Length and SignificantDigits, integers are whole;
- every value of a variable with a codelist is in the codelist (for a CDISC codelist that CT
  publishes as extensible, a value outside is a note, not an error); the same for value-level
  items on the records their where clause selects, which also fit the item's type and length;
- every where clause selects at least one record, and every value it tests for (EQ, IN) occurs;
- every href (document leafs, the stylesheet) names a file that exists.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from submit.define.measure import ISO8601_TYPES, NUMERIC_TYPES, Selector, digits, numbers_in_text, text_length, \
    text_values
from submit.xpt.reader import Unsupported, XptColumn, XptFile
from submit.define.reader import Condition, Define, Group, Item, read_define
from submit.errors import Problem
from submit.spec.ct import Terminology, load_terminology

SHOWN_VALUES = 10  # values listed in one problem


@dataclass(frozen=True)
class Xpt:
    path: Path
    name: str  # in the member header
    label: str
    columns: dict[str, XptColumn]  # in file order
    data: pd.DataFrame  # the columns a check reads
    select: Selector  # the records where clauses select, over `data`


@dataclass
class Consistency:
    errors: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # not errors: extensible codelists, remote hrefs


def consistency_problems(define_path: Path, xpt_folder: Path) -> list[Problem]:
    """The errors of `check_consistency` (its notes are not problems)."""
    return check_consistency(define_path, xpt_folder).errors


def check_consistency(define_path: Path, xpt_folder: Path, *, ct: Terminology | None = None,
                      written_later: Collection[str] = ()) -> Consistency:
    """`written_later`: hrefs of documents the caller writes after the define (a reviewer's guide
    reports on the validation of the package, which needs the define first); not checked here."""
    define = read_define(Path(define_path))
    checker = _Checker(define, Path(xpt_folder), ct)
    checker.written_later = frozenset(written_later)
    return checker.run()


def _format(text: str | None) -> str:
    return (text or "").upper().rstrip(".")


def _shown(values) -> str:
    values = sorted(map(str, values))
    more = f" and {len(values) - SHOWN_VALUES} more" if len(values) > SHOWN_VALUES else ""
    return ", ".join(repr(v) for v in values[:SHOWN_VALUES]) + more


class _Checker:
    def __init__(self, define: Define, folder: Path, ct: Terminology | None):
        self.define, self.folder, self._ct = define, folder, ct
        self.out = Consistency()
        self.written_later: frozenset[str] = frozenset()
        self.where = str(define.path)
        self.data: dict[str, Xpt] = {}  # XPT data by dataset name, read once

    def error(self, file: Path | str, message: str, column: str | None = None) -> None:
        self.out.errors.append(Problem(str(file), message, column=column))

    def note(self, file: Path | str, message: str, column: str | None = None) -> None:
        self.out.notes.append(Problem(str(file), message, column=column))

    def extensible(self, nci_code: str) -> bool:
        if not nci_code or not self.define.ct_versions:
            return False
        if self._ct is None:
            self._ct = load_terminology(self.define.ct_versions[0])
        codelists = self._ct.codelists
        return bool(nci_code in codelists.index and codelists.loc[nci_code, "extensible"])

    def run(self) -> Consistency:
        base = self.define.path.parent
        files = {p.resolve(): p for p in sorted(self.folder.glob("*.xpt"))}
        described = set()
        for group in self.define.groups:
            path = (base / group.href).resolve() if group.href else None
            if path not in files:
                self.error(self.where, f"dataset {group.name}: its file {group.href or '(no def:leaf)'} is not "
                                       f"among the XPT files of {self.folder}")
                continue
            described.add(path)
            try:
                xpt = self.read(group, files[path])
            except Exception as exc:  # pyreadstat raises its own and OS errors  # noqa: BLE001
                self.error(files[path], f"cannot be read as XPT: {exc}")
                continue
            self.data[group.name] = xpt
            self.dataset(group, xpt)
        for path in sorted(set(files) - described):
            self.error(files[path], "this XPT file is not a dataset of define.xml")
        self.where_clauses()
        self.hrefs(base)
        return self.out

    # ------------------------------------------------------------------------------------ datasets
    def read(self, group: Group, path: Path) -> Xpt:
        """The XPT's attributes, and the values of the columns a check reads: numbers, codelist and
        value-level variables, variables of where clauses (text lengths come from the attributes)."""
        items = {self.define.items[oid].name: self.define.items[oid] for oid in group.items
                 if oid in self.define.items}
        tested = {self.define.items[c.item].name for conditions in self.define.where_clauses.values()
                  for c in conditions if c.item in group.items and c.item in self.define.items}

        def needed(columns) -> list[str]:
            return [c.name for c in columns if c.type != "char" or c.name in tested
                    or (c.name in items and (items[c.name].codelist or items[c.name].value_list))]

        try:
            xpt = XptFile(path)
            name, label, columns = xpt.name, xpt.label, xpt.columns
            data = xpt.frame(needed(columns))
        except Unsupported:  # not plain XPT v5 of UTF-8 text: ReadStat reads it
            import pyreadstat  # noqa: PLC0415

            _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
            name, label = meta.table_name or "", meta.file_label or ""
            columns = [XptColumn(c, meta.column_names_to_labels.get(c) or "",
                                 "char" if meta.readstat_variable_types[c] == "string" else "num",
                                 meta.variable_storage_width[c], meta.original_variable_types.get(c) or "", 0)
                       for c in meta.column_names]
            wanted = needed(columns)
            data = (pyreadstat.read_xport(str(path), usecols=wanted, disable_datetime_conversion=True)[0] if wanted
                    else pd.DataFrame(index=range(meta.number_rows or 0)))
        return Xpt(path, name, label, {c.name: c for c in columns}, data, Selector(data))

    def dataset(self, group: Group, xpt: Xpt) -> None:
        if xpt.name != group.name:
            self.error(xpt.path, f"dataset name {xpt.name!r} but define.xml names it {group.name}")
        if xpt.label != group.label:
            self.error(xpt.path, f"dataset label {xpt.label!r} but define.xml says {group.label!r}")
        items = [self.define.items[oid] for oid in group.items if oid in self.define.items]
        defined = [i.name for i in items]
        columns = list(xpt.columns)
        for name in [c for c in columns if c not in defined]:
            self.error(xpt.path, f"variable {name} is in the XPT file but not in define.xml dataset {group.name}",
                       name)
        for name in [d for d in defined if d not in columns]:
            self.error(xpt.path, f"variable {name} of define.xml dataset {group.name} is not in the XPT file", name)
        if set(columns) == set(defined) and columns != defined:
            self.error(xpt.path, f"variable order {' '.join(columns)} but define.xml has {' '.join(defined)}")
        for item in items:
            if item.name in xpt.columns:
                self.variable(group, item, xpt, xpt.columns[item.name])

    def variable(self, group: Group, item: Item, xpt: Xpt, attributes: XptColumn) -> None:
        name, label = item.name, attributes.label
        what = f"{group.name}.{name}"
        if label != item.label:
            self.error(xpt.path, f"{what}: label {label!r} but define.xml says {item.label!r}", name)
        is_char = attributes.type == "char"
        if is_char == (item.data_type in NUMERIC_TYPES):
            kind = "character" if is_char else "numeric"
            self.error(xpt.path, f"{what}: {kind} in the XPT file but DataType {item.data_type} in define.xml", name)
            return
        if _format(attributes.format) != _format(item.display_format):
            self.error(xpt.path, f"{what}: format {attributes.format or '(none)'} but "
                                 f"define.xml DisplayFormat {item.display_format or '(none)'}", name)
        width = attributes.length
        if item.data_type == "text" and item.length != width:
            self.error(xpt.path, f"{what}: length {width} in the XPT file but Length {item.length} in define.xml",
                       name)
        if name not in xpt.data:
            return  # a text variable without codelist or value list: its length was compared above
        column = xpt.select.distinct(name)
        if item.data_type != "text":  # text fits: the XPT stores no value longer than its length
            self.fits(xpt.path, what, name, item, column)
        self.codelist(xpt.path, what, name, item, column)
        if item.value_list:
            self.value_list(group, item, xpt)

    def fits(self, path: Path, what: str, name: str, item: Item, column: pd.Series) -> None:
        """Values of `column` (the distinct values of a variable, or of a where clause's records of
        it) fit the item."""
        if item.data_type in ISO8601_TYPES:
            return
        if item.data_type == "text":
            longest = text_length(column)
            if item.length is not None and longest > item.length:
                self.error(path, f"{what}: a value of {longest} bytes, over Length {item.length}", name)
            return
        if pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(dtype="float64", na_value=np.nan)
        else:
            values, bad = numbers_in_text(text_values(column))
            if len(bad):
                self.error(path, f"{what}: DataType {item.data_type} but values that are no numbers: "
                                 f"{_shown(bad.unique())}", name)
        found = digits(values)
        if item.data_type == "integer" and found.decimals:
            self.error(path, f"{what}: DataType integer but values with decimals", name)
        need = found.integer if item.data_type == "integer" else found.length
        if item.length is not None and need > item.length:
            self.error(path, f"{what}: values of {need} digits, over Length {item.length}", name)
        if item.data_type == "float" and found.decimals > (item.significant_digits or 0):
            self.error(path, f"{what}: values with {found.decimals} decimals, over SignificantDigits "
                             f"{item.significant_digits}", name)

    def codelist(self, path: Path, what: str, name: str, item: Item, column: pd.Series) -> None:
        codelist = self.define.codelists.get(item.codelist)
        if codelist is None or codelist.values is None:
            return
        # `column` holds distinct values (Selector.distinct), few: compared as Python sets
        if pd.api.types.is_numeric_dtype(column.dtype):
            allowed = set(pd.to_numeric(pd.Series(codelist.values, dtype=object), errors="coerce").dropna())
            outside = [v for v in dict.fromkeys(column.dropna().tolist()) if v not in allowed]
        else:
            allowed = set(codelist.values)
            outside = [v for v in dict.fromkeys(column.tolist()) if v != "" and v not in allowed]
        if not outside:
            return
        message = f"{what}: values not in codelist {codelist.oid}: {_shown(outside)}"
        if self.extensible(codelist.nci_code):
            self.note(path, f"{message} (an extensible CDISC codelist: list them as extended values)", name)
        else:
            self.error(path, message, name)

    # --------------------------------------------------------------------------------- value level
    def conditions_mask(self, conditions: tuple[Condition, ...], group: Group, xpt: Xpt) -> np.ndarray:
        own = [(self.define.items[c.item].name, c.comparator, c.values) for c in conditions
               if c.item in self.define.items and c.item in group.items]
        return xpt.select.mask(own)

    def value_list(self, group: Group, parent: Item, xpt: Xpt) -> None:
        for entry in self.define.value_lists.get(parent.value_list, ()):
            item = self.define.items.get(entry.item)
            if item is None:
                continue
            conditions = tuple(c for w in entry.where for c in self.define.where_clauses.get(w, ()))
            mask = self.conditions_mask(conditions, group, xpt)
            rows = xpt.select.distinct(parent.name, mask)
            what = f"{group.name}.{parent.name} where {', '.join(entry.where)}"
            self.fits(xpt.path, what, parent.name, item, rows)
            self.codelist(xpt.path, what, parent.name, item, rows)

    def where_clauses(self) -> None:
        """Each where clause selects records, and each value it looks for occurs."""
        owner = {oid: g for g in self.define.groups for oid in g.items}
        for oid, conditions in self.define.where_clauses.items():
            groups = {owner[c.item].name: owner[c.item] for c in conditions if c.item in owner}
            if len(groups) != 1:
                continue  # conditions across datasets (or on none in this define): nothing to select
            group = next(iter(groups.values()))
            xpt = self.data.get(group.name)
            if xpt is None:
                continue  # its file is missing or unreadable: reported with the dataset
            for c in conditions:
                name = self.define.items[c.item].name
                if c.comparator in ("EQ", "IN") and name in xpt.data:
                    for value in c.values:
                        if not xpt.select.occurs(name, value):
                            self.error(self.where, f"where clause {oid}: no {group.name} record has "
                                                   f"{name} = {value!r}", name)
            if not self.conditions_mask(conditions, group, xpt).any():
                self.error(self.where, f"where clause {oid}: selects no record of {group.name}")

    # --------------------------------------------------------------------------------------- hrefs
    def hrefs(self, base: Path) -> None:
        links = [*((f"def:leaf {i}", h) for i, h in self.define.document_hrefs)]
        if self.define.stylesheet:
            links.append(("xml-stylesheet", self.define.stylesheet))
        for what, href in links:
            target = href.split("#", 1)[0]
            if target in self.written_later:
                continue
            if "://" in target:
                self.note(self.where, f"{what}: {href} is not a local file and was not checked")
            elif not target or not (base / target).is_file():
                self.error(self.where, f"{what}: href {href!r} names no file beside define.xml")
