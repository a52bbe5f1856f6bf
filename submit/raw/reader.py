"""Read a raw EDC extract (CSV, SAS7BDAT or XPT) and check it against the raw schema.

`read_raw` loads one file per dataset of the schema, `<dataset>.csv`, `.sas7bdat` or `.xpt` (the
name matched case-insensitively, formats may be mixed in one folder), checks every cell and row and
returns typed frames. Every problem is reported at once: on any problem the whole read fails with
InputError listing them all, so no row is ever dropped silently. Extra files and extra columns are
logged as warnings (extra columns are kept as read).

Where a problem is: in a CSV file the line as an editor shows it (the header is line 1; a
quoted value holding a line break makes its record span lines), in a SAS file the 1-based
observation (row). Column names match case-insensitively. Cells are stripped of surrounding
blanks (SAS pads character values) and an empty cell is a missing value.

Typed output: text -> str, integer -> Int64, float -> float64; date, partial_date and time become
canonical strings ("2011-03-05", "2011-03-UN", "14:30") from the format each column declares
(submit/raw/dates.py), so the mapping never sees an EDC's own date format. In SAS files a numeric
date is days since 1960-01-01 and a numeric time seconds since midnight; character columns are
parsed like CSV text. The subject of each record is in the column its dataset declares
(`subject`, default SUBJID); `RawExtract.subjects` tells the mapping which.

Text is checked where it is read, for what an XPT v5 value can hold: ASCII only (or, for a
dataset declaring `transliterate: true`, typographic characters mapped to ASCII by
submit/sdtm/ascii_text.py, every change listed in `RawExtract.transliterated`), no control
characters or line breaks, at most 200 bytes unless the column is `long_text` (split into SUPP--
by the mapping). A CSV file is decoded with its dataset's declared `encoding` (default UTF-8); a
byte that does not decode is a problem at its line and column.

Checks are vectorized over whole columns; Python loops only build the problems of failing rows.
"""

from __future__ import annotations

import csv
import io
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
from submit.sdtm.ascii_text import to_ascii

log = logging.getLogger("submit.raw")

SUFFIXES = (".csv", ".sas7bdat", ".xpt")
_SAS_EPOCH = np.datetime64("1960-01-01", "D")
_SAS_DAYS = (-138061, 2936547)  # 1582-01-01 .. 9999-12-31, the dates SAS can hold
# Shapes as regular expressions; ASCII digits only ([0-9], not \d, which matches any Unicode digit).
_INTEGER = r"[+-]?[0-9]{1,18}"  # at most 18 digits always fits in int64
_FLOAT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
MAX_TEXT_BYTES = 200  # an XPT v5 character value
_CONTROL = r"[\x00-\x1f\x7f]"  # control characters, line breaks and tabs included
TRANSLITERATION_COLUMNS = ["file", "line", "row", "column", "before", "after"]


@dataclass(frozen=True)
class RawExtract:
    frames: dict[str, pd.DataFrame]  # by dataset name, in schema order
    sources: dict[str, Path]  # the file each frame was read from
    subjects: dict[str, str]  # the subject-id column of each dataset
    transliterated: pd.DataFrame  # every value changed to ASCII (TRANSLITERATION_COLUMNS)


@dataclass(frozen=True)
class _Setting:
    """What checking a column needs beyond the column: the study's value sets and the default
    window of two-digit years."""

    value_sets: dict[str, list[str]]
    yearcutoff: int
    changes: list  # frames of transliterated values, filled while reading


@dataclass(frozen=True)
class _Locator:
    """Where record number `position` (0-based) of a file is, as its user counts: the line of a
    CSV file (header = line 1), else the row (observation) of a SAS file."""

    file: str
    lines: np.ndarray | None = None  # CSV: the first line of each record

    def problem(self, position: int, message: str, column: str | None) -> Problem:
        if self.lines is None:
            return Problem(self.file, message, row=position + 1, column=column)
        return Problem(self.file, message, line=int(self.lines[position]), column=column)

    def numbers(self, positions: np.ndarray) -> tuple[str, list[int]]:
        """("lines" or "rows", the numbers of the records at `positions`)."""
        if self.lines is None:
            return "rows", (positions + 1).tolist()
        return "lines", self.lines[positions].tolist()


def read_raw(folder: str | Path, schema: RawSchema, study: StudyConfig) -> RawExtract:
    """Read and check the raw extract in `folder`; raise InputError listing every problem."""
    folder = Path(folder)
    problems: list[Problem] = []
    sources = _locate(folder, schema, problems)
    setting = _Setting(_value_sets(schema, study, problems), study.dates.data_cutoff.year - 99, [])
    frames, locators = {}, {}
    for ds in schema.datasets:
        if ds.name in sources:
            read = _read_one(sources[ds.name], ds, setting, problems)
            if read is not None:
                frames[ds.name], locators[ds.name] = read
    _check_orphans(frames, sources, schema, problems, locators)
    if problems:
        # Folder problems first, then file by file in schema order, row by row (stable: columns in order).
        rank = {str(folder): -1, **{str(p): i for i, p in enumerate(sources.values())}}
        problems.sort(key=lambda p: (rank.get(p.file, -1), p.line or p.row or 0))
        raise InputError(f"Raw extract {folder} does not match the raw schema "
                         f"({len(problems)} problem{'s' if len(problems) > 1 else ''})", problems)
    changes = (pd.concat(setting.changes, ignore_index=True) if setting.changes
               else pd.DataFrame(columns=TRANSLITERATION_COLUMNS))
    return RawExtract(frames, sources, schema.subjects, changes)


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


def _read_one(path: Path, ds: RawDataset, setting: _Setting,
              problems: list[Problem]) -> tuple[pd.DataFrame, _Locator] | None:
    """One dataset file, typed and checked; None when the file cannot be read at all."""
    file = str(path)
    is_csv = path.suffix.lower() == ".csv"
    text = None
    if is_csv:
        text = _decoded(path, ds.encoding or "utf-8", problems)
        if text is None:
            return None
    try:
        raw, _ = read_dataset(path, as_text=True,
                              encoding=ds.encoding or ("utf-8" if path.suffix.lower() != ".sas7bdat" else None))
    except (OSError, ValueError, pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        problems.append(Problem(file, f"cannot read the file: {exc}"))
        return None
    except InputError as exc:  # a file not in the declared encoding
        problems.extend(exc.problems)
        return None
    where = _Locator(file, _record_lines(text, len(raw)) if is_csv else None)
    raw = _match_columns(raw, ds, file, problems)
    typed = {c.name: _check_column(raw[c.name], c, ds, where, setting, problems)
             for c in ds.columns if c.name in raw}
    extra = {name: raw[name] for name in raw.columns if name not in typed}
    frame = pd.DataFrame({**typed, **extra}, index=raw.index)
    _check_keys(frame, ds, where, problems)
    return frame, where


def _decoded(path: Path, encoding: str, problems: list[Problem]) -> str | None:
    """The text of a CSV file in its declared encoding; None, with a problem at the line and column
    of each byte that does not decode (at most 20), when it is not in that encoding."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        pass
    header = next(csv.reader([data.split(b"\n", 1)[0].decode(encoding, "replace")]), [])
    start, found = 0, 0
    while found < 20:
        try:
            data[start:].decode(encoding)
            break
        except UnicodeDecodeError as exc:
            at = start + exc.start
            line_start = data.rfind(b"\n", 0, at) + 1
            before = data[line_start:at].decode(encoding, "replace")
            field = len(next(csv.reader([before]), [""])) - 1 if before else 0
            column = header[field] if 0 <= field < len(header) else None
            problems.append(Problem(str(path), f"byte 0x{data[at]:02x} is not {encoding} (declare the file's "
                                               "encoding in the raw schema: encoding: NAME)",
                                    line=data.count(b"\n", 0, at) + 1, column=column))
            found += 1
            start = at + max(exc.end - exc.start, 1)
    return None


def _record_lines(text: str, records: int) -> np.ndarray:
    """The line where each CSV record starts (header = line 1): the record number + 1 unless a
    quoted value holds a line break or blank lines are skipped, then counted by the csv module."""
    lines = np.arange(2, records + 2)
    if len(text.splitlines()) == records + 1:
        return lines
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, last = [], 0
    for row in reader:
        if row:
            starts.append(last + 1)
        last = reader.line_num
    return np.asarray(starts[1:], dtype=np.int64) if len(starts) == records + 1 else lines


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


def _check_column(raw: pd.Series, col: RawColumn, ds: RawDataset, where: _Locator, setting: _Setting,
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
        if col.type == "text":
            raw = _xpt_text(raw, col, ds, where, setting, problems)
        values, failures = _parse_text(raw, col, where.file, setting)
    if col.required:
        failures.append((empty, "required value is empty"))
    failures += _check_values(values, col, setting.value_sets)
    for mask, message in failures:
        _report(problems, where, col.name, mask, raw, message)
    return values


def _xpt_text(text: pd.Series, col: RawColumn, ds: RawDataset, where: _Locator, setting: _Setting,
              problems: list[Problem]) -> pd.Series:
    """Text an XPT v5 value can hold: control characters and line breaks, non-ASCII text (unless
    transliterated) and values over 200 bytes (unless the column is long_text) are problems."""
    present = text.notna()
    control = present & text.str.contains(_CONTROL, regex=True)
    _report(problems, where, col.name, control, text,
            "control character or line break in {!r} (an XPT v5 value is one line of printable text)")
    odd = present & ~text.str.fullmatch(r"[\x00-\x7f]*")
    if odd.any() and ds.transliterate:
        mapping = {v: to_ascii(v) for v in pd.unique(text[odd])}
        mapping = {k: v for k, v in mapping.items() if v is not None}
        changed = odd & text.isin(list(mapping))
        if changed.any():
            positions = np.flatnonzero(_mask(changed))
            numbers = where.numbers(positions)[1]
            before = text[changed]
            after = before.map(mapping)
            setting.changes.append(pd.DataFrame({
                "file": where.file, "line": numbers if where.lines is not None else None,
                "row": None if where.lines is not None else numbers, "column": col.name,
                "before": before.to_numpy(), "after": after.to_numpy()}))
            text = text.where(~changed, text.map(mapping))
            odd &= ~changed
    _report(problems, where, col.name, odd, text,
            "non-ASCII text {!r} (XPT v5 holds ASCII; declare transliterate: true on the dataset to map "
            "typographic characters and accents to ASCII)" if not ds.transliterate else
            "text {!r} has characters without an ASCII form (XPT v5 holds ASCII)")
    if not col.long_text:
        long = present & ~odd & (text.str.len() > MAX_TEXT_BYTES)
        positions = np.flatnonzero(_mask(long))
        for position, cell in zip(positions.tolist(), text.iloc[positions].tolist()):
            problems.append(where.problem(position, f"text of {len(cell)} bytes is over the {MAX_TEXT_BYTES} of an "
                                                    f"XPT v5 value ({cell[:30]!r}...); shorten it, or declare "
                                                    "long_text: true where the mapping splits it into SUPP--",
                                          col.name))
    return text


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


def _check_keys(frame: pd.DataFrame, ds: RawDataset, where: _Locator, problems: list[Problem]) -> None:
    """Every row of a repeated key is a problem, naming the key and all its rows."""
    if not all(k in frame for k in ds.keys):
        return  # a missing key column is already reported
    keys = frame[list(ds.keys)]
    # Rows with an empty or unparsable key part are reported already; they are not duplicates.
    repeated = _mask(keys.duplicated(keep=False) & keys.notna().all(axis=1))
    if not repeated.any():
        return
    at = np.flatnonzero(repeated)
    for key, positions in keys[repeated].groupby(list(ds.keys), sort=False).indices.items():
        noun, numbers = where.numbers(at[positions])
        named = ", ".join(f"{k}={v}" for k, v in zip(ds.keys, key))
        listed = ", ".join(map(str, numbers[:10])) + (", ..." if len(numbers) > 10 else "")
        for position in at[positions].tolist():
            problems.append(where.problem(position, f"duplicate key {named} ({noun} {listed})", ", ".join(ds.keys)))


def _check_orphans(frames: dict[str, pd.DataFrame], sources: dict[str, Path], schema: RawSchema,
                   problems: list[Problem], locators: dict[str, _Locator]) -> None:
    """Every subject of every dataset (in the column it declares) must be a subject of the master."""
    master = schema.subject_master
    if master.name not in frames or master.subject not in frames[master.name]:
        return  # the master itself is missing or broken, and that is reported already
    subjects = frames[master.name][master.subject].dropna().unique()
    for name, frame in frames.items():
        column = schema[name].subject
        if name != master.name and column in frame:
            orphan = frame[column].notna() & ~frame[column].isin(subjects)
            _report(problems, locators[name], column, orphan, frame[column],
                    f"subject {{!r}} is not in {master.name}")


def _mask(mask: pd.Series) -> np.ndarray:
    """A boolean mask as numpy, a missing comparison result (NA) counting as not failing."""
    return mask.to_numpy(dtype=bool, na_value=False)


def _report(problems: list[Problem], where: _Locator, column: str, mask: pd.Series, cells: pd.Series,
            message: str) -> None:
    """One problem per failing row, the cell as read put in place of the message's first {!r}
    (not str.format: schema patterns and allowed values may hold braces)."""
    before, cell_shown, after = message.partition("{!r}")
    positions = np.flatnonzero(_mask(mask))
    for position, cell in zip(positions.tolist(), cells.iloc[positions].tolist()):
        text = f"{before}{cell!r}{after}" if cell_shown else message
        problems.append(where.problem(position, text, column))
