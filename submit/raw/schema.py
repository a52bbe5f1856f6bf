"""Raw schema: one YAML definition per raw dataset in `specs/<study>/raw/`, loaded read-only.

The schema documents what a sponsor's EDC extract must look like; the simulator writes it and the
reader checks it. Loading reports every problem of every file at once.

Dataset keys: `dataset` (the file name, lower case), `label`, `description`, `keys` (columns
unique together), `subject_master: true` on exactly one dataset (every subject of the others must
be in it), `subject` (the subject-id column, e.g. PATNUM; default SUBJID; a required text
column), `yearcutoff` (default for the dataset's two-digit-year columns, see below),
`encoding` (of a CSV or XPT file, a Python codec name; default UTF-8; a SAS7BDAT file declares its
own), `transliterate: true` (typographic characters such as curly quotes, dashes and accented
letters are mapped to ASCII, each change reported in qc/raw_transliteration.csv; without it any
non-ASCII text is an error, XPT v5 holding ASCII only), `columns`.

Column keys: `name`, `type` (text, integer, float, date, partial_date, time), `required`,
`label`, `description`; for text `allowed` (a list), `allowed_from` (a path into study.yaml
lists, e.g. `sites.id`, `cohorts.code`), `pattern` (a regular expression the whole value
matches), `long_text: true` (values may exceed the 200 bytes of an XPT v5 value: the SDTM mapping
splits them into SUPP-- per SDTMIG 4.5.3.2; any other text over 200 bytes is an error at read); for numbers `min`, `max`; for dates and times `format` as the EDC exports them
(submit/raw/dates.py: date default YYYY-MM-DD, also e.g. DD-MMM-YYYY, DD-MMM-YY, MM/DD/YYYY,
DDMMMYYYY; time default HH:MM, also H:MM, HH:MM:SS, H:MM:SS) and, for a two-digit year (YY),
`yearcutoff`: the first year of the 100-year window the years are read in (as SAS's YEARCUTOFF=).
Without one, the window is the 100 years ending with the year of the study's data cut-off (the
reader logs the window it used). Example:

    subject: PATNUM
    columns:
      - {name: PATNUM, type: text, required: true, label: Patient number}
      - {name: AESTDT, type: partial_date, required: true, format: DD-MMM-YY, yearcutoff: 1950, label: Start}
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from submit.errors import InputError, Problem
from submit.raw.dates import DEFAULT_DATE_FORMAT, DEFAULT_TIME_FORMAT, check_time_format, date_format
from submit.yaml_load import load_yaml

COLUMN_TYPES = ("text", "integer", "float", "date", "partial_date", "time")
DATE_TYPES = ("date", "partial_date")
DEFAULT_SUBJECT = "SUBJID"
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_DATASET = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_STUDY_PATH = re.compile(r"^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+$")  # a list block of study.yaml and a field
_YEARS = (1000, 9900)  # a yearcutoff is a four-digit year
_COLUMN_KEYS = {"name", "type", "required", "label", "allowed", "allowed_from", "pattern", "min", "max", "description",
                "format", "yearcutoff", "long_text"}
_DATASET_KEYS = {"dataset", "label", "description", "keys", "subject_master", "subject", "yearcutoff", "columns", "encoding",
                 "transliterate"}


@dataclass(frozen=True)
class RawColumn:
    name: str
    type: str
    required: bool
    label: str
    allowed: tuple[str, ...] | None = None
    allowed_from: str | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""
    format: str | None = None  # dates and times: as exported (the default when not declared)
    yearcutoff: int | None = None  # two-digit years: first year of their 100-year window
    long_text: bool = False  # text over 200 bytes allowed: its SDTM target is split into SUPP--

    @property
    def is_date(self) -> bool:
        return self.type in DATE_TYPES


@dataclass(frozen=True)
class RawDataset:
    name: str
    label: str
    description: str
    keys: tuple[str, ...]
    columns: tuple[RawColumn, ...]
    subject_master: bool = False
    source: str = ""
    subject: str = DEFAULT_SUBJECT  # the column naming the subject
    encoding: str | None = None  # of a CSV or XPT file (None: UTF-8; a SAS7BDAT file's own)
    transliterate: bool = False  # typographic characters to ASCII, each change reported

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> RawColumn:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class RawSchema:
    datasets: tuple[RawDataset, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.datasets)

    @property
    def subject_master(self) -> RawDataset:
        return next(d for d in self.datasets if d.subject_master)

    @property
    def subjects(self) -> dict[str, str]:
        """The subject-id column of each dataset."""
        return {d.name: d.subject for d in self.datasets}

    def __getitem__(self, name: str) -> RawDataset:
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(name)


def _line_of(text: str, needle: str) -> int | None:
    """1-based line where `needle` first appears, so an error can point into the file."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def _is_year(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _YEARS[0] <= value <= _YEARS[1]


def _format_problem(raw: dict) -> str | None:
    """What is wrong with a column's `format` and `yearcutoff`, if anything."""
    fmt, kind = raw.get("format"), raw.get("type")
    if fmt is not None and kind not in (*DATE_TYPES, "time"):
        return "format applies to date, partial_date and time columns only"
    if fmt is not None and not isinstance(fmt, str):
        return "format must be text, e.g. DD-MMM-YYYY"
    try:
        if kind in DATE_TYPES:
            two_digit = date_format(fmt or DEFAULT_DATE_FORMAT).two_digit_year
        elif kind == "time":
            check_time_format(fmt or DEFAULT_TIME_FORMAT)
    except ValueError as exc:
        return str(exc)
    if raw.get("yearcutoff") is not None:
        if kind not in DATE_TYPES or not two_digit:
            return "yearcutoff applies to a date format with a two-digit year (YY) only"
        if not _is_year(raw["yearcutoff"]):
            return f"yearcutoff must be a year ({_YEARS[0]}-{_YEARS[1]}), the first of the 100 years two-digit years are read in"
    return None


def _column(raw: dict, file: str, text: str, problems: list[Problem], yearcutoff: int | None) -> RawColumn | None:
    name = raw.get("name")
    at = f"columns.{name or '?'}"
    line = _line_of(text, f"name: {name}") if name else None
    where = dict(file=f"{file}:{line}" if line else file, key=at)
    bad = len(problems)
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(Problem(message=f"column name {name!r} must be 1-8 upper-case letters, digits or _", **where))
    unknown = set(raw) - _COLUMN_KEYS
    if unknown:
        problems.append(Problem(message=f"unknown properties {sorted(unknown)}", **where))
    if raw.get("type") not in COLUMN_TYPES:
        problems.append(Problem(message=f"type {raw.get('type')!r} is not one of {COLUMN_TYPES}", **where))
    if not isinstance(raw.get("required"), bool):
        problems.append(Problem(message="required must be true or false", **where))
    if not raw.get("label"):
        problems.append(Problem(message="label is missing", **where))
    if raw.get("allowed_from") is not None and not _STUDY_PATH.match(str(raw["allowed_from"])):
        problems.append(Problem(message=f"allowed_from {raw['allowed_from']!r} must be a path into study.yaml, "
                                        "a list and a field of its items, e.g. sites.id", **where))
    wrong_format = _format_problem(raw)
    if wrong_format:
        problems.append(Problem(message=wrong_format, **where))
    if raw.get("pattern") is not None:
        try:
            re.compile(raw["pattern"])
        except re.error as exc:
            problems.append(Problem(message=f"pattern is not a regular expression: {exc}", **where))
    numeric = raw.get("type") in ("integer", "float")
    for bound in ("min", "max"):
        if raw.get(bound) is not None and (not numeric or not isinstance(raw[bound], (int, float))):
            problems.append(Problem(message=f"{bound} needs a number on an integer or float column", **where))
    if raw.get("long_text") is not None and not isinstance(raw["long_text"], bool):
        problems.append(Problem(message="long_text must be true or false", **where))
    for prop in ("pattern", "allowed", "allowed_from", "long_text"):
        if raw.get(prop) is not None and raw.get("type") != "text":
            problems.append(Problem(message=f"{prop} applies to text columns only", **where))
    if len(problems) > bad:
        return None
    allowed = raw.get("allowed")
    kind = raw["type"]
    default_format = DEFAULT_DATE_FORMAT if kind in DATE_TYPES else DEFAULT_TIME_FORMAT if kind == "time" else None
    return RawColumn(
        name=name, type=raw["type"], required=raw["required"], label=raw["label"],
        allowed=tuple(str(v) for v in allowed) if allowed is not None else None,
        allowed_from=raw.get("allowed_from"), pattern=raw.get("pattern"),
        min=raw.get("min"), max=raw.get("max"), description=raw.get("description", ""),
        format=raw.get("format") or default_format, yearcutoff=raw.get("yearcutoff", yearcutoff),
        long_text=bool(raw.get("long_text", False)),
    )


def _dataset(path: Path, problems: list[Problem]) -> RawDataset | None:
    file = str(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        problems.append(Problem(file, f"not valid YAML: {exc}"))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(file, "expected a mapping with keys dataset, label, keys, columns"))
        return None
    bad = len(problems)
    for key in ("dataset", "label", "keys", "columns"):
        if key not in raw:
            problems.append(Problem(file, f"{key} is missing", key=key))
    unknown = set(raw) - _DATASET_KEYS
    if unknown:
        problems.append(Problem(file, f"unknown properties {sorted(unknown)}"))
    name = raw.get("dataset")
    if name is not None and (not isinstance(name, str) or not _DATASET.match(name)):
        problems.append(Problem(file, f"dataset name {name!r} must be lower-case letters, digits or _", key="dataset"))
    if name is not None and name != path.stem:
        problems.append(Problem(file, f"dataset {name!r} must be defined in {name}.yaml", key="dataset"))
    yearcutoff = raw.get("yearcutoff")
    if yearcutoff is not None and not _is_year(yearcutoff):
        problems.append(Problem(file, f"yearcutoff must be a year ({_YEARS[0]}-{_YEARS[1]})", key="yearcutoff"))
    encoding = raw.get("encoding")
    if encoding is not None:
        try:
            encoding = codecs.lookup(str(encoding)).name
        except LookupError:
            problems.append(Problem(file, f"encoding {encoding!r} is not a codec name (e.g. utf-8, cp1252, latin-1)",
                                    key="encoding"))
    if not isinstance(raw.get("transliterate", False), bool):
        problems.append(Problem(file, "transliterate must be true or false", key="transliterate"))
    columns = [_column(c, file, text, problems, yearcutoff) for c in raw.get("columns") or []]
    names = [c.name for c in columns if c]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(file, f"column {dup} is defined twice", key=f"columns.{dup}"))
    for key in raw.get("keys") or []:
        if key not in names:
            problems.append(Problem(file, f"key column {key} is not among the columns", key="keys"))
        elif not next(c for c in columns if c and c.name == key).required:
            problems.append(Problem(file, f"key column {key} must be required", key="keys"))
    subject = raw.get("subject", DEFAULT_SUBJECT)
    declared = next((c for c in columns if c and c.name == subject), None)
    if declared is None:
        problems.append(Problem(file, f"the subject column {subject} is not among the columns "
                                      "(declare another with subject: NAME)", key="subject"))
    elif not (declared.required and declared.type == "text"):
        problems.append(Problem(file, f"the subject column {subject} must be a required text column "
                                      "(text keeps identifiers such as 0012 as written)", key="subject"))
    if len(problems) > bad:
        return None
    return RawDataset(
        name=name, label=raw["label"], description=" ".join(str(raw.get("description", "")).split()),
        keys=tuple(raw["keys"]), columns=tuple(columns),
        subject_master=bool(raw.get("subject_master", False)), source=file, subject=subject,
        encoding=encoding, transliterate=bool(raw.get("transliterate", False)),
    )


def load_raw_schema(folder: str | Path) -> RawSchema:
    """Load every `*.yaml` in `folder`; raise InputError listing all problems found."""
    folder = Path(folder)
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise InputError("Raw schema not found", [Problem(str(folder), "no *.yaml dataset definitions")])
    problems: list[Problem] = []
    datasets = [d for d in (_dataset(p, problems) for p in paths) if d]
    masters = [d.name for d in datasets if d.subject_master]
    if len(masters) != 1 and not problems:
        problems.append(Problem(str(folder), f"exactly one dataset must be the subject_master (found {masters or 'none'})"))
    if problems:
        raise InputError(f"Raw schema in {folder} is invalid", problems)
    return RawSchema(tuple(datasets))
