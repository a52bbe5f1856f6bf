"""A study data package on disk, read once for every check: the SDTM and ADaM dataset folders,
their XPT files (data and SAS attributes), their define.xml, and the metadata the checks compare
the data with.

Folders are found by the eCTD layout of the design contract, without knowing the study name:
`<root>/m5/datasets/*/tabulations/sdtm` and `<root>/m5/datasets/*/analysis/adam/datasets` (or the
same below `<root>` when it is `m5/datasets`, a study folder or `tabulations`/`analysis`). `<root>`
may also be one dataset folder itself (its XPT files are SDTM, or ADaM when the folder lies under
`adam` or holds ADSL); then only that standard is checked and the package-level rules (TS, DM,
ADSL present) are not applicable.

Metadata source, per folder: its define.xml when present; else the study's spec folder
(`<specs>/sdtm`, `<specs>/adam`) when it describes the same study (StudyName = the data's STUDYID);
else none, and the checks needing metadata are skipped with a note. Core designations (Expected)
always come from the spec when it is the same study's, as define.xml only carries Mandatory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from submit.dataset_io import DatasetMeta, read_dataset
from submit.errors import InputError, Problem
from submit.qc.validate.define_xml import DefineError, read_define
from submit.qc.validate.metadata import Metadata, from_spec

log = logging.getLogger("submit.qc.validate")

SDTM_PATTERNS = ("m5/datasets/*/tabulations/sdtm", "datasets/*/tabulations/sdtm", "*/tabulations/sdtm",
                 "tabulations/sdtm")
ADAM_PATTERNS = ("m5/datasets/*/analysis/adam/datasets", "datasets/*/analysis/adam/datasets",
                 "*/analysis/adam/datasets", "analysis/adam/datasets", "adam/datasets")
XPT_V5_HEADER = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
XPT_V8_HEADER = b"HEADER RECORD*******LIBV8   HEADER RECORD!!!!!!!"
DEFINE = "define.xml"


@dataclass(frozen=True, eq=False)
class Dataset:
    """One XPT file as read: `data` holds character values as str ("" when missing) and numbers
    as float (NaN when missing; dates stay SAS numbers), rows in file order."""

    name: str  # the dataset name in the file's member header, upper case as written
    path: Path
    data: pd.DataFrame
    meta: DatasetMeta
    version: int | None  # 5 or 8 (XPT), None when the header is neither
    _cache: dict = field(default_factory=dict, repr=False)  # derived columns, computed once for all checks

    @property
    def records(self) -> int:
        return len(self.data)

    def is_char(self, variable: str) -> bool:
        return self.meta.variables[variable].type == "char"

    def null(self, variable: str) -> np.ndarray:
        """Missing values: blank text or numeric missing."""
        key = ("null", variable)
        if key not in self._cache:
            column = self.data[variable]
            self._cache[key] = ((self.text(variable).str.strip() == "").to_numpy() if self.is_char(variable)
                                else column.isna().to_numpy())
        return self._cache[key]

    def text(self, variable: str) -> pd.Series:
        """Values as text as define.xml and CT write them: "" for missing, integers without ".0"."""
        key = ("text", variable)
        if key not in self._cache:
            column = self.data[variable]
            self._cache[key] = column.fillna("").astype(str) if self.is_char(variable) else as_text(column)
        return self._cache[key]

    def distinct(self, variable: str) -> tuple[np.ndarray, pd.Index]:
        """`text(variable)` factorized: (code per record, distinct texts). Checks comparing text with
        a set of values compare the few distinct values, then gather by code."""
        key = ("distinct", variable)
        if key not in self._cache:
            codes, uniques = pd.factorize(self.text(variable))
            self._cache[key] = codes, pd.Index(uniques, dtype=object)
        return self._cache[key]

    def isin(self, variable: str, values) -> np.ndarray:
        """Per record: its text is one of `values`."""
        codes, uniques = self.distinct(variable)
        return uniques.isin(list(values))[codes] if len(codes) else np.zeros(0, dtype=bool)

    def nbytes(self, variable: str) -> np.ndarray:
        """Per record: the UTF-8 bytes of its text."""
        key = ("nbytes", variable)
        if key not in self._cache:
            codes, uniques = self.distinct(variable)
            sizes = np.array([len(v.encode("utf-8")) for v in uniques], dtype=np.int64)
            self._cache[key] = sizes[codes] if len(codes) else np.zeros(0, dtype=np.int64)
        return self._cache[key]

    def usubjid(self) -> pd.Series | None:
        return self.data["USUBJID"].fillna("").astype(str) if "USUBJID" in self.data else None


def as_text(numbers: pd.Series) -> pd.Series:
    """Numbers as text: whole numbers without ".0", missing as "". Formatted once per distinct value
    (a Python step each), then gathered by row."""
    codes, distinct = pd.factorize(numbers.to_numpy(dtype="float64", na_value=np.nan), use_na_sentinel=True)
    texts = np.append(_as_text(pd.Series(distinct, dtype="float64")).to_numpy(dtype=object), "")  # code -1: ""
    return pd.Series(texts[codes], index=numbers.index, dtype=object).astype(str)


def _as_text(numbers: pd.Series) -> pd.Series:
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
    out = pd.Series(numbers.astype(str).to_numpy(), index=numbers.index, dtype=object)
    out[whole] = values[whole].astype("int64").astype(str)
    out[np.isnan(values)] = ""
    return out.astype(str)


@dataclass(eq=False)
class Part:
    """The SDTM or the ADaM datasets of the package, with their define.xml and metadata."""

    standard: str  # "SDTM" or "ADaM"
    folder: Path
    label: str = ""  # the folder as reports name it: relative to the package root (no machine paths)
    datasets: dict[str, Dataset] = field(default_factory=dict)  # by dataset name
    unreadable: dict[Path, str] = field(default_factory=dict)  # XPT files that could not be read, and why
    define_path: Path | None = None
    define: Metadata | None = None  # from define.xml
    define_error: str | None = None  # define.xml exists but cannot be read
    metadata: Metadata | None = None  # define.xml, else the spec; what the data must agree with
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> Dataset | None:
        return self.datasets.get(name)


@dataclass(eq=False)
class Package:
    root: Path
    sdtm: Part | None
    adam: Part | None
    is_root: bool  # a whole package (not one dataset folder): package-level rules apply
    standards: tuple[str, ...] = ("SDTM", "ADaM")  # what the package must hold (a study with SDTM specs alone: SDTM)
    extensible: dict[str, bool] = field(default_factory=dict)  # CDISC CT: NCI codelist code -> extensible

    def parts(self) -> list[Part]:
        return [p for p in (self.sdtm, self.adam) if p is not None]


def _one(root: Path, patterns: tuple[str, ...]) -> Path | None:
    found = sorted({p.resolve() for pattern in patterns for p in root.glob(pattern) if p.is_dir()})
    if len(found) > 1:
        raise InputError("the package holds more than one study; validate one study folder at a time",
                         [Problem(str(p), "dataset folder") for p in found])
    return found[0] if found else None


def _xpt_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".xpt")


def find_folders(root: Path) -> tuple[Path | None, Path | None, bool]:
    """(SDTM folder, ADaM folder, whether root is a package rather than one dataset folder)."""
    if not root.is_dir():
        raise InputError("not a folder", [Problem(str(root), "does not exist or is not a folder")])
    sdtm, adam = _one(root, SDTM_PATTERNS), _one(root, ADAM_PATTERNS)
    if sdtm or adam:
        return sdtm, adam, True
    files = _xpt_files(root)
    if not files:
        raise InputError("no datasets to validate", [Problem(
            str(root), "holds neither XPT files nor the folders */tabulations/sdtm or */analysis/adam/datasets")])
    is_adam = "adam" in (p.lower() for p in root.resolve().parts) or any(p.stem.lower() == "adsl" for p in files)
    return (None, root, False) if is_adam else (root, None, False)


def _xpt_version(path: Path) -> int | None:
    with path.open("rb") as f:
        head = f.read(len(XPT_V5_HEADER))
    return 5 if head == XPT_V5_HEADER else 8 if head == XPT_V8_HEADER else None


def read_part(standard: str, folder: Path, label: str = "") -> Part:
    part = Part(standard, folder, label)
    for path in _xpt_files(folder):
        try:
            version = _xpt_version(path)
            try:
                df, meta = read_dataset(path, as_text=True)  # UTF-8, else cp1252
            except InputError:  # neither: read byte for byte, the ASCII rule reports the values
                df, meta = read_dataset(path, as_text=True, encoding="latin-1")
        except Exception as exc:  # any reader failure is a finding about the file, not a crash
            part.unreadable[path] = f"{type(exc).__name__}: {exc}".replace(str(path), path.name)
            continue
        name = meta.name.strip().upper() or path.stem.upper()
        if name in part.datasets:
            part.unreadable[path] = f"a second file holding dataset {name} (first: {part.datasets[name].path.name})"
            continue
        part.datasets[name] = Dataset(name, path, df, meta, version)
    define = folder / DEFINE
    if define.is_file():
        part.define_path = define
        try:
            part.define = replace(read_define(define), source=f"{part.label or folder.name}/{DEFINE}")
        except DefineError as exc:
            part.define_error = str(exc).replace(str(define), DEFINE)
    return part


def _study_id(part: Part) -> str:
    for name in ("DM", "ADSL", "TS", *part.datasets):
        ds = part.datasets.get(name)
        if ds is not None and "STUDYID" in ds.data and ds.records:
            return str(ds.data["STUDYID"].iloc[0]).strip()
    return ""


def attach_metadata(part: Part, spec: Metadata | None, extensible: dict[str, bool]) -> None:
    """The metadata the data must agree with: define.xml, else the same study's spec (see module doc)."""
    study = _study_id(part)
    same_study = spec is not None and (not study or spec.study == study)
    if spec is not None and not same_study:
        part.notes.append(f"the spec {spec.source} describes study {spec.study!r}, not {study!r}: not used")
    if part.define is not None:
        part.metadata = part.define.with_extensibility(extensible)
        if same_study:
            part.metadata = replace(part.metadata.with_core_from(spec),
                                    source=f"{part.metadata.source} (Core designations: {spec.source})")
        else:
            part.notes.append("define.xml gives Mandatory (Required) only: Expected variables are not checked")
    elif same_study:
        part.metadata = spec
        part.notes.append(f"no usable define.xml: data checked against the spec {spec.source}")
    else:
        part.notes.append("no define.xml and no spec of this study: metadata checks skipped")


def load_spec_metadata(folder: Path | None, ct_version: str | None) -> Metadata | None:
    """The spec folder as metadata, or None when there is none; a spec that does not load is an
    input error (the study's own specs are broken)."""
    if folder is None or not (folder / "Datasets.csv").is_file():
        return None
    from submit.spec.store import load_spec  # noqa: PLC0415

    # Named by its last two parts ("specs/sdtm"): reports carry no machine-specific paths.
    return from_spec(load_spec(folder, ct_version=ct_version), source=f"{folder.parent.name}/{folder.name}")


def ct_extensibility(ct_version: str | None) -> dict[str, bool]:
    """NCI codelist code -> extensible, from CDISC CT; empty when CT is not available."""
    if not ct_version:
        return {}
    from submit.spec.ct import load_terminology  # noqa: PLC0415

    try:
        ct = load_terminology(ct_version)
    except InputError as exc:
        log.warning("CDISC CT %s not available (%s): extensibility of codelists unknown", ct_version, exc.summary)
        return {}
    return {str(k): bool(v) for k, v in ct.codelists["extensible"].items()}


def read_package(root: Path, *, sdtm_spec: Path | None = None, adam_spec: Path | None = None,
                 ct_version: str | None = None, standards: tuple[str, ...] = ("SDTM", "ADaM")) -> Package:
    root = Path(root)
    sdtm_folder, adam_folder, is_root = find_folders(root)

    def label(folder: Path) -> str:
        return folder.relative_to(root.resolve()).as_posix() if is_root else folder.name

    sdtm = read_part("SDTM", sdtm_folder, label(sdtm_folder)) if sdtm_folder else None
    adam = read_part("ADaM", adam_folder, label(adam_folder)) if adam_folder else None
    version = ct_version or next((p.define.ct_version for p in (sdtm, adam) if p and p.define and p.define.ct_version),
                                 None)
    package = Package(Path(root), sdtm, adam, is_root, standards, ct_extensibility(version))
    for part, spec_folder in ((sdtm, sdtm_spec), (adam, adam_spec)):
        if part is not None:
            attach_metadata(part, load_spec_metadata(spec_folder, ct_version), package.extensible)
    return package
