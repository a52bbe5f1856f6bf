"""Read a raw EDC extract (CSV, SAS7BDAT or XPT) and check it against the raw schema.

`read_raw` loads one file per dataset of the schema, `<dataset>.csv`, `.sas7bdat` or `.xpt` (the
name matched case-insensitively, formats may be mixed in one folder), checks every cell and row and
returns typed frames. Every problem is reported at once: on any problem the whole read fails with
InputError listing them all, so no row is ever dropped silently. Extra files and extra columns are
logged as warnings (extra columns are kept as read).

Rows in problems are 1-based data rows: row 1 is the first row after the CSV header (the first
observation of a SAS file). Column names match case-insensitively. Cells are stripped of surrounding
blanks (SAS pads character values) and an empty cell is a missing value.

Typed output: text -> str, integer -> Int64, float -> float64; date, partial_date and time become
canonical strings ("2011-03-05", "2011-03-UN", "14:30") from the format each column declares
(submit/raw/dates.py), so the mapping never sees an EDC's own date format. In SAS files a numeric
date is days since 1960-01-01 and a numeric time seconds since midnight; character columns are
parsed like CSV text. The subject of each record is in the column its dataset declares
(`subject`, default SUBJID); `RawExtract.subjects` tells the mapping which.

Checks are vectorized over whole columns; Python loops only build the problems of failing rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from submit.config import StudyConfig
from submit.dataset_io import read_dataset
from submit.errors import InputError, Problem
from submit.raw.dates import Failures, date_format, has_seconds, parse_dates, parse_times, year_window
from submit.raw.schema import RawColumn, RawDataset, RawSchema

log = logging.getLogger("submit.raw")

SUFFIXES = (".csv", ".sas7bdat", ".xpt")
_SAS_EPOCH = np.datetime64("1960-01-01", "D")
_SAS_DAYS = (-138061, 2936547)  # 1582-01-01 .. 9999-12-31, the dates SAS can hold
# Shapes as regular expressions; ASCII digits only ([0-9], not \d, which matches any Unicode digit).
_INTEGER = r"[+-]?[0-9]{1,18}"  # at most 18 digits always fits in int64
_FLOAT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


@dataclass(frozen=True)
class RawExtract:
    frames: dict[str, pd.DataFrame]  # by dataset name, in schema order
    sources: dict[str, Path]  # the file each frame was read from
    subjects: dict[str, str]  # the subject-id column of each dataset


@dataclass(frozen=True)
class _Setting:
    """What checking a column needs beyond the column: the study's value sets and the default
    window of two-digit years."""

    value_sets: dict[str, list[str]]
    yearcutoff: int


def read_raw(folder: str | Path, schema: RawSchema, study: StudyConfig) -> RawExtract:
    """Read and check the raw extract in `folder`; raise InputError listing every problem."""
    folder = Path(folder)
    problems: list[Problem] = []
    sources = _locate(folder, schema, problems)
    setting = _Setting(_value_sets(schema, study, problems), study.dates.data_cutoff.year - 99)
    frames = {}
    for ds in schema.datasets:
        if ds.name in sources:
            frame = _read_one(sources[ds.name], ds, setting, problems)
            if frame is not None:
                frames[ds.name] = frame
    _check_orphans(frames, sources, schema, problems)
    if problems:
        # Folder problems first, then file by file in schema order, row by row (stable: columns in order).
        rank = {str(folder): -1, **{str(p): i for i, p in enumerate(sources.values())}}
        problems.sort(key=lambda p: (rank.get(p.file, -1), p.row or 0))
        raise InputError(f"Raw extract {folder} does not match the raw schema "
                         f"({len(problems)} problem{'s' if len(problems) > 1 else ''})", problems)
    return RawExtract(frames, sources, schema.subjects)


def _value_sets(schema: RawSchema, study: StudyConfig, problems: list[Problem]) -> dict[str, list[str]]:
    """The values each `allowed_from` path names in the study configuration (`sites.id`: the id of
    every site); a path the study does not have is a problem of the schema file naming it."""
    found: dict[str, list[str]] = {}
    for ds in schema.datasets:
        for col in ds.columns:
            if col.allowed_from and col.allowed_from not in found:
                values = _study_values(study, col.allowed_from)
                if values is None:
                    problems.append(Problem(ds.source, f"allowed_from {col.allowed_from}: the study configuration "
                                                       f"has no {col.allowed_from}", key=f"columns.{col.name}"))
                else:
                    found[col.allowed_from] = values
    return found


def _study_values(study: StudyConfig, path: str) -> list[str] | None:
    """The scalar values at a dotted path of the study configuration, through its lists (a few
    entries: sites, cohorts); None when a step is absent or the path ends on an object."""
    items: list = [study]
    for part in path.split("."):
        found = [getattr(item, part, None) for item in items]  # an optional block may be None
        if any(value is None for value in found):
            return None
        items = [v for value in found for v in (value if isinstance(value, (list, tuple)) else [value])]
    if not all(isinstance(v, (str, int, float)) for v in items):
        return None
    return [str(v) for v in items]


def _locate(folder: Path, schema: RawSchema, problems: list[Problem]) -> dict[str, Path]:
    """The one file of each dataset; a missing or ambiguous dataset is a problem of the folder."""
    if not folder.is_dir():
        problems.append(Problem(str(folder), "raw extract folder does not exist"))
        return {}
    found: dict[str, list[Path]] = {name: [] for name in schema.names}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in SUFFIXES and path.stem.lower() in found:
            found[path.stem.lower()].append(path)
        elif not path.name.startswith("."):
            log.warning("%s: not a dataset of the raw schema, ignored", path)
    sources = {}
    for name, paths in found.items():
        if not paths:
            problems.append(Problem(str(folder), f"dataset {name} is missing (no {name}.csv, .sas7bdat or .xpt)"))
        elif len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            problems.append(Problem(str(folder), f"dataset {name} has {len(paths)} files ({names}); keep one"))
        else:
            sources[name] = paths[0]
    return sources


def _read_one(path: Path, ds: RawDataset, setting: _Setting, problems: list[Problem]) -> pd.DataFrame | None:
    """One dataset file, typed and checked; None when the file cannot be read at all."""
    file = str(path)
    try:
        raw, _ = read_dataset(path, as_text=True)
    except (OSError, ValueError, pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        problems.append(Problem(file, f"cannot read the file: {exc}"))
        return None
    raw = _match_columns(raw, ds, file, problems)
    typed = {c.name: _check_column(raw[c.name], c, file, setting, problems)
             for c in ds.columns if c.name in raw}
    extra = {name: raw[name] for name in raw.columns if name not in typed}
    frame = pd.DataFrame({**typed, **extra}, index=raw.index)
    _check_keys(frame, ds, file, problems)
    return frame


def _match_columns(raw: pd.DataFrame, ds: RawDataset, file: str, problems: list[Problem]) -> pd.DataFrame:
    """Rename columns to the schema's spelling; report missing and repeated columns, warn of extra ones."""
    spelling = {name.upper(): name for name in ds.column_names}
    names = [spelling.get(str(c).upper(), str(c)) for c in raw.columns]
    for name, count in Counter(names).items():
        if count > 1:
            problems.append(Problem(file, f"column {name} appears {count} times", column=name))
    raw = raw.set_axis(names, axis=1)
    raw = raw.loc[:, ~raw.columns.duplicated()]
    for name in ds.column_names:
        if name not in raw:
            problems.append(Problem(file, f"column {name} is missing", column=name))
    extra = [name for name in raw.columns if name not in spelling.values()]
    if extra:
        log.warning("%s: columns not in the raw schema, kept as read: %s", file, ", ".join(extra))
    return raw


def _check_column(raw: pd.Series, col: RawColumn, file: str, setting: _Setting,
                  problems: list[Problem]) -> pd.Series:
    """Type one column and check its values; cells that do not parse become missing when typed."""
    if pd.api.types.is_numeric_dtype(raw) and col.type != "text":
        values, failures = _parse_sas_number(raw.astype("float64"), col)
        empty = raw.isna()
    else:
        if pd.api.types.is_numeric_dtype(raw):  # text stored as a SAS number: the number as written
            raw = raw.astype("str").str.removesuffix(".0")
        raw = raw.astype("str").str.strip()
        empty = raw.isna() | (raw == "")
        raw = raw.where(~empty)
        values, failures = _parse_text(raw, col, file, setting)
    if col.required:
        failures.append((empty, "required value is empty"))
    failures += _check_values(values, col, setting.value_sets)
    for mask, message in failures:
        _report(problems, file, col.name, mask, raw, message)
    return values


def _parse_text(text: pd.Series, col: RawColumn, file: str, setting: _Setting) -> tuple[pd.Series, Failures]:
    """Typed values of a text column (empty cells already missing) and the cells that do not parse."""
    present = text.notna()
    kind = col.type
    if kind == "text":
        return text, []
    if kind == "integer":
        ok = text.str.fullmatch(_INTEGER)
        return text.where(ok).str.removeprefix("+").astype("Int64"), [(present & ~ok, "not an integer {!r}")]
    if kind == "float":
        # Via Float64: a cast in Arrow, many times faster than pd.to_numeric on strings.
        numbers = text.where(text.str.fullmatch(_FLOAT)).astype("Float64").astype("float64")
        ok = np.isfinite(numbers)  # a shape check alone would let 1e999 (infinity) through
        return numbers.where(ok), [(present & ~ok, "not a number {!r}")]
    if kind == "time":
        return parse_times(text, col.format)
    yearcutoff = col.yearcutoff
    if yearcutoff is None:
        yearcutoff = setting.yearcutoff
        if date_format(col.format).two_digit_year and present.any():
            log.info("%s: %s two-digit years read as %s (the 100 years ending with the data cut-off; "
                     "declare yearcutoff to change)", file, col.name, year_window(yearcutoff))
    return parse_dates(text, col.format, kind == "partial_date", yearcutoff)


def _parse_sas_number(x: pd.Series, col: RawColumn) -> tuple[pd.Series, Failures]:
    """Typed values of a SAS numeric column: dates in days since 1960, times in seconds since midnight
    (whole minutes unless the column's time format has seconds)."""
    kind = col.type
    present = x.notna()
    whole = (x % 1 == 0) & present
    if kind == "float":
        return x, []
    if kind == "integer":
        return x.where(whole).astype("Int64"), [(present & ~whole, "not a whole number {!r}")]
    if kind == "time":
        seconds = has_seconds(col.format)
        ok = whole & x.between(0, 86399) & (seconds or (x % 60 == 0))
        total = x.where(ok).fillna(0).astype("int64")
        minutes = total // 60
        hhmm = ((minutes // 60).astype("str").str.zfill(2) + ":" + (minutes % 60).astype("str").str.zfill(2))
        if seconds:
            return (hhmm + ":" + (total % 60).astype("str").str.zfill(2)).where(ok), [
                (present & ~ok, "not a SAS time {!r} (whole seconds since midnight)")]
        return hhmm.where(ok), [(present & ~ok, "not a SAS time {!r} (whole minutes since midnight, in seconds)")]
    ok = whole & x.between(*_SAS_DAYS)  # date and partial_date: a SAS number is always a full date
    days = x.where(ok).fillna(0).to_numpy("int64").astype("timedelta64[D]") + _SAS_EPOCH
    iso = pd.Series(days.astype("str"), index=x.index, dtype="str")
    return iso.where(ok), [(present & ~ok, "not a SAS date {!r} (days since 1960-01-01)")]


def _check_values(values: pd.Series, col: RawColumn, value_sets: dict[str, list[str]]) -> Failures:
    """Allowed values, value sets of the study, pattern and range, on the values that parsed."""
    present = values.notna()
    numeric = col.type in ("integer", "float")
    failures: Failures = []
    choices = []
    if col.allowed is not None:
        choices.append((col.allowed, f"{{!r}} is not one of {', '.join(col.allowed)}"))
    if col.allowed_from in value_sets:  # a path the study lacks is reported already
        allowed = value_sets[col.allowed_from]
        choices.append((allowed, f"{{!r}} is not one of the study's {col.allowed_from} ({', '.join(allowed)})"))
    for allowed, message in choices:
        # Numbers compare as numbers, so 5 and 5.0 both match an allowed '5'.
        allowed = pd.to_numeric(pd.Series(allowed), errors="coerce") if numeric else list(allowed)
        failures.append((present & ~values.isin(allowed), message))
    if col.pattern:
        text = values.astype("str") if numeric else values
        failures.append((present & ~text.str.fullmatch(col.pattern), f"{{!r}} does not match the pattern {col.pattern}"))
    if numeric and col.min is not None:
        failures.append((values < col.min, f"{{!r}} is below the minimum {col.min}"))
    if numeric and col.max is not None:
        failures.append((values > col.max, f"{{!r}} is above the maximum {col.max}"))
    return failures


def _check_keys(frame: pd.DataFrame, ds: RawDataset, file: str, problems: list[Problem]) -> None:
    """Every row of a repeated key is a problem, naming the key and all its rows."""
    if not all(k in frame for k in ds.keys):
        return  # a missing key column is already reported
    keys = frame[list(ds.keys)]
    # Rows with an empty or unparsable key part are reported already; they are not duplicates.
    repeated = _mask(keys.duplicated(keep=False) & keys.notna().all(axis=1))
    if not repeated.any():
        return
    numbers = np.flatnonzero(repeated) + 1
    for key, positions in keys[repeated].groupby(list(ds.keys), sort=False).indices.items():
        rows = numbers[positions].tolist()
        named = ", ".join(f"{k}={v}" for k, v in zip(ds.keys, key))
        listed = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        for row in rows:
            problems.append(Problem(file, f"duplicate key {named} (rows {listed})", row=row, column=", ".join(ds.keys)))


def _check_orphans(frames: dict[str, pd.DataFrame], sources: dict[str, Path], schema: RawSchema,
                   problems: list[Problem]) -> None:
    """Every subject of every dataset (in the column it declares) must be a subject of the master."""
    master = schema.subject_master
    if master.name not in frames or master.subject not in frames[master.name]:
        return  # the master itself is missing or broken, and that is reported already
    subjects = frames[master.name][master.subject].dropna().unique()
    for name, frame in frames.items():
        column = schema[name].subject
        if name != master.name and column in frame:
            orphan = frame[column].notna() & ~frame[column].isin(subjects)
            _report(problems, str(sources[name]), column, orphan, frame[column],
                    f"subject {{!r}} is not in {master.name}")


def _mask(mask: pd.Series) -> np.ndarray:
    """A boolean mask as numpy, a missing comparison result (NA) counting as not failing."""
    return mask.to_numpy(dtype=bool, na_value=False)


def _report(problems: list[Problem], file: str, column: str, mask: pd.Series, cells: pd.Series,
            message: str) -> None:
    """One problem per failing row, the cell as read put in place of the message's first {!r}
    (not str.format: schema patterns and allowed values may hold braces)."""
    before, cell_shown, after = message.partition("{!r}")
    positions = np.flatnonzero(_mask(mask))
    for position, cell in zip(positions.tolist(), cells.iloc[positions].tolist()):
        text = f"{before}{cell!r}{after}" if cell_shown else message
        problems.append(Problem(file, text, row=position + 1, column=column))
