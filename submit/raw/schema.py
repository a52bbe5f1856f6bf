"""Raw schema: one YAML definition per raw dataset in `specs/raw/`, loaded read-only.

The schema documents what a sponsor's EDC extract must look like; the simulator writes it and the
reader checks it. Loading reports every problem of every file at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from submit.errors import InputError, Problem

COLUMN_TYPES = ("text", "integer", "float", "date", "partial_date", "time")
ALLOWED_FROM = ("sites", "cohorts")  # value sets taken from the study configuration
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_DATASET = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_COLUMN_KEYS = {"name", "type", "required", "label", "allowed", "allowed_from", "pattern", "min", "max", "description"}
_DATASET_KEYS = {"dataset", "label", "description", "keys", "subject_master", "columns"}


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


@dataclass(frozen=True)
class RawDataset:
    name: str
    label: str
    description: str
    keys: tuple[str, ...]
    columns: tuple[RawColumn, ...]
    subject_master: bool = False
    source: str = ""

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


def _column(raw: dict, file: str, text: str, problems: list[Problem]) -> RawColumn | None:
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
    if raw.get("allowed_from") not in (None, *ALLOWED_FROM):
        problems.append(Problem(message=f"allowed_from must be one of {ALLOWED_FROM}", **where))
    if raw.get("pattern") is not None:
        try:
            re.compile(raw["pattern"])
        except re.error as exc:
            problems.append(Problem(message=f"pattern is not a regular expression: {exc}", **where))
    numeric = raw.get("type") in ("integer", "float")
    for bound in ("min", "max"):
        if raw.get(bound) is not None and (not numeric or not isinstance(raw[bound], (int, float))):
            problems.append(Problem(message=f"{bound} needs a number on an integer or float column", **where))
    for prop in ("pattern", "allowed", "allowed_from"):
        if raw.get(prop) is not None and raw.get("type") != "text":
            problems.append(Problem(message=f"{prop} applies to text columns only", **where))
    if len(problems) > bad:
        return None
    allowed = raw.get("allowed")
    return RawColumn(
        name=name, type=raw["type"], required=raw["required"], label=raw["label"],
        allowed=tuple(str(v) for v in allowed) if allowed is not None else None,
        allowed_from=raw.get("allowed_from"), pattern=raw.get("pattern"),
        min=raw.get("min"), max=raw.get("max"), description=raw.get("description", ""),
    )


def _dataset(path: Path, problems: list[Problem]) -> RawDataset | None:
    file = str(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
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
    columns = [_column(c, file, text, problems) for c in raw.get("columns") or []]
    names = [c.name for c in columns if c]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(file, f"column {dup} is defined twice", key=f"columns.{dup}"))
    for key in raw.get("keys") or []:
        if key not in names:
            problems.append(Problem(file, f"key column {key} is not among the columns", key="keys"))
        elif not next(c for c in columns if c and c.name == key).required:
            problems.append(Problem(file, f"key column {key} must be required", key="keys"))
    if len(problems) > bad:
        return None
    return RawDataset(
        name=name, label=raw["label"], description=" ".join(str(raw.get("description", "")).split()),
        keys=tuple(raw["keys"]), columns=tuple(columns),
        subject_master=bool(raw.get("subject_master", False)), source=file,
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
    for d in datasets:
        if "SUBJID" not in d.column_names:
            problems.append(Problem(d.source, "every raw dataset needs a SUBJID column", key="columns"))
    if problems:
        raise InputError(f"Raw schema in {folder} is invalid", problems)
    return RawSchema(tuple(datasets))
