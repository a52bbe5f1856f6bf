"""Every SAS XPT v5 and FDA constraint, checked before anything is written, all reported at once.

What is enforced (each a Violation naming the dataset, the variable and, for values, the 1-based
row of the DataFrame as given and the value):
- names of the dataset and of variables: 1-8 characters, upper-case letters A-Z, digits and
  underscore, starting with a letter (lower case is refused rather than upper-cased: the name must
  be the one in define.xml); no duplicate variable (in the metadata or among the frame's columns);
- the frame has exactly the metadata's variables; keys are variables;
- labels (dataset and variables): at most 40 characters, printable ASCII (0x20-0x7E);
- types: "char" or "num"; a numeric variable holds numbers or dates, a character one holds text
  (see columns.py for what converts); formats and informats are SAS formats, $-formats on character
  variables only, names of at most 8 characters;
- lengths: numerics 8; character lengths 1-200 bytes; a value longer than the given length;
- character values: at most 200 bytes, ASCII, no control characters (0x00-0x1F, 0x7F: tabs and
  line breaks included). Values are never altered here: cleaning belongs to the derivation, where
  it is traceable;
- numeric values: finite (NaN is SAS missing, +/-inf is refused) and within IBM's range (< 16**63).
Empty labels are allowed. Rows are sorted by keys (stable; missing first, as SAS sorts them).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from submit.xpt.columns import Text, numeric_values, text_values
from submit.xpt.formats import SasFormat, parse_format, temporal_kind
from submit.xpt.ibm import IBM_MAX
from submit.xpt.model import Violation, XptDataset, XptVariable

NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
PRINTABLE = re.compile(r"[\x20-\x7e]*")
MAX_LABEL = 40
MAX_CHAR = 200
MAX_VARIABLES = 9999  # the NAMESTR header holds the count in 4 digits


@dataclass(frozen=True)
class Field:
    """A variable as written: its resolved length and its byte offset in an observation."""

    var: XptVariable
    length: int
    position: int
    format: SasFormat | None
    informat: SasFormat | None


@dataclass(frozen=True)
class Prepared:
    """The outcome of the checks; when `violations` is empty, what the writer needs."""

    meta: XptDataset
    violations: list[Violation]
    fields: tuple[Field, ...] = ()
    values: dict | None = None  # name -> float64 array or Text, in the frame's row order
    order: np.ndarray | None = None  # row permutation sorting by keys
    rows: int = 0

    @property
    def row_length(self) -> int:
        return sum(f.length for f in self.fields)


def check_xpt(df: pd.DataFrame, meta: XptDataset) -> list[Violation]:
    """Every violation of the XPT v5 / FDA rules by this frame and metadata; empty when it can be written."""
    return prepare(df, meta).violations


def prepare(df: pd.DataFrame, meta: XptDataset) -> Prepared:
    out: list[Violation] = []
    ds = meta.name

    def add(variable: str | None, code: str, message: str, row: int | None = None, value: object = None):
        out.append(Violation(ds, variable, code, message, row, value))

    _check_name(add, None, "dataset name", meta.name)
    _check_label(add, None, "dataset label", meta.label)
    if not meta.variables:
        add(None, "variables", "has no variables")
    if len(meta.variables) > MAX_VARIABLES:
        add(None, "variables", f"has {len(meta.variables)} variables, over the {MAX_VARIABLES} XPT v5 holds")
    names = [v.name for v in meta.variables]
    for name, count in Counter(names).items():
        if count > 1:
            add(name, "duplicate", f"is defined {count} times in the metadata")
    for key in meta.keys:
        if key not in names:
            add(key, "key", "is a key but not a variable of the dataset")

    columns = [str(c) for c in df.columns]
    for name, count in Counter(columns).items():
        if count > 1:
            add(name, "duplicate", f"is a column {count} times in the data")
    for name in columns:
        if name not in names:
            add(name, "column", "is a column of the data but not a variable of the metadata")

    fields, values, position = [], {}, 0
    column_counts, name_counts = Counter(columns), Counter(names)
    where = {name: i for i, name in enumerate(columns)}
    for var in meta.variables:
        length, fmt, informat = _check_variable(add, var)
        if var.name not in where:
            add(var.name, "column", "is a variable of the metadata but not a column of the data")
        elif column_counts[var.name] == 1 and name_counts[var.name] == 1 and var.type in ("char", "num"):
            series = df.iloc[:, where[var.name]]
            if var.type == "num":
                values[var.name] = _check_numbers(add, var, series, temporal_kind(fmt))
            else:
                values[var.name], length = _check_text(add, var, series, length)
        fields.append(Field(var, length, position, fmt, informat))
        position += length

    if out:
        return Prepared(meta, out)
    return Prepared(meta, out, tuple(fields), values, _sort_order(meta.keys, values, len(df)), len(df))


def _check_name(add, variable: str | None, what: str, name: str) -> None:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        add(variable, "name", f"{what} {name!r} must be 1-8 characters, upper-case letters A-Z, digits or "
                              "underscore, starting with a letter")


def _check_label(add, variable: str | None, what: str, label: str) -> None:
    if not isinstance(label, str):
        add(variable, "label", f"{what} must be text, not {type(label).__name__}", value=label)
        return
    if len(label) > MAX_LABEL:
        add(variable, "label", f"{what} is {len(label)} characters, over the {MAX_LABEL} of XPT v5", value=label)
    if not PRINTABLE.fullmatch(label):
        add(variable, "label", f"{what} must be printable ASCII", value=label)


def _check_variable(add, var: XptVariable) -> tuple[int, SasFormat | None, SasFormat | None]:
    """Metadata checks of one variable; returns its length (0 when it comes from the values) and formats."""
    name = var.name
    _check_name(add, name if isinstance(name, str) else None, "variable name", name)
    _check_label(add, name, "label", var.label)
    length = 8
    if var.type == "num":
        if var.length not in (None, 8):
            add(name, "length", f"numeric length {var.length!r}: numerics are written in 8 bytes")
    elif var.type == "char":
        length = var.length or 0
        if var.length is not None and (not isinstance(var.length, int) or not 1 <= var.length <= MAX_CHAR):
            add(name, "length", f"character length {var.length!r} must be 1-{MAX_CHAR} bytes")
            length = 0
    else:
        add(name, "type", f"type {var.type!r} must be 'char' or 'num'")
    return length, _check_format(add, var, "format", var.format), _check_format(add, var, "informat", var.informat)


def _check_format(add, var: XptVariable, what: str, text: str) -> SasFormat | None:
    if not text:
        return None
    fmt = parse_format(text) if isinstance(text, str) else None
    if fmt is None:
        add(var.name, "format", f"{what} {text!r} is not a SAS format (name, width, period, decimals)")
    elif len(fmt.name) > 8 or fmt.width > 32767 or fmt.decimals > 32767:
        add(var.name, "format", f"{what} {text!r} does not fit XPT v5 (name of at most 8 characters)")
    elif fmt.char != (var.type == "char") and var.type in ("char", "num"):
        kind = "character ($)" if fmt.char else "numeric"
        add(var.name, "format", f"{what} {text!r} is a {kind} format on a {var.type} variable")
    else:
        return fmt
    return None


def _check_numbers(add, var: XptVariable, series: pd.Series, kind: str | None) -> np.ndarray | None:
    values, problem = numeric_values(series, kind)
    if problem:
        add(var.name, "type", f"numeric variable {problem}")
        return None
    with np.errstate(invalid="ignore"):
        for row in np.flatnonzero(np.isinf(values)):
            add(var.name, "range", "is infinite: SAS numbers are finite (NaN is the missing value)",
                int(row) + 1, float(values[row]))
        for row in np.flatnonzero(np.isfinite(values) & (np.abs(values) >= IBM_MAX)):
            add(var.name, "range", "is too large for XPT v5's IBM doubles (|x| >= 16**63, about 7.2e75)",
                int(row) + 1, float(values[row]))
    return values


def _check_text(add, var: XptVariable, series: pd.Series, length: int) -> tuple[Text | None, int]:
    text, problem = text_values(series)
    if problem:
        add(var.name, "type", f"character variable {problem}")
        return None, length
    nbytes = pc.binary_length(text.dictionary).to_numpy(zero_copy_only=False)  # per distinct value

    def each(bad, code: str, message) -> None:  # `bad`: per distinct value
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return
        rows = np.flatnonzero(bad[text.codes])
        for row, value in zip(rows, text.values(rows)):
            add(var.name, code, message(value) if callable(message) else message, int(row) + 1, value)

    each(pc.invert(pc.string_is_ascii(text.dictionary)), "ascii", "is not ASCII")
    each(pc.match_substring_regex(text.dictionary, r"[\x00-\x1f\x7f]"), "control",
         "has control characters (tab, line break, ...): only printable ASCII can be written")
    each(nbytes > MAX_CHAR, "length", lambda v: f"is {len(v.encode())} bytes, over the {MAX_CHAR} of XPT v5")
    if var.length is not None and length:
        each((nbytes > length) & (nbytes <= MAX_CHAR), "length",
             lambda v: f"is {len(v.encode())} bytes, over the variable's length {length}")
    if var.length is None:
        length = max(1, int(nbytes.max(initial=0)))
    return text, length


def _sort_order(keys: tuple[str, ...], values: dict, rows: int) -> np.ndarray:
    """Stable sort by keys, SAS's order: numeric missing lowest, text by bytes, blank text first."""
    keys = list(dict.fromkeys(keys))
    if not keys or rows == 0:
        return np.arange(rows)
    # Numeric missing as -inf: lowest and equal to each other (checked values are never infinite).
    columns = [np.where(np.isnan(v), -np.inf, v) if isinstance(v, np.ndarray) else v.ranks()
               for v in (values[k] for k in keys)]
    return np.lexsort(columns[::-1])  # lexsort: last key first; stable
