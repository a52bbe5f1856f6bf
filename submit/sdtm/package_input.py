"""An existing SDTM package as the start of a build (`submit build --sdtm DIR`).

Every dataset file of DIR (XPT, SAS7BDAT, Parquet, Dataset-JSON, CSV) is read with a declared or
detected text encoding; its dataset name is the file stem in upper case (SUPP-- and RELREC
included). The package then carries the SDTM the ADaM is derived from:

- the study has SDTM specs (`sdtm/Datasets.csv`): the input is conformed to them, as a mapped
  domain is (exactly the spec's datasets and variables, typed as the spec says; every mismatch is an
  InputError naming file and variable) and written as XPT v5 through the spec's metadata, so that
  the SDTM define.xml describes it;
- it has none: XPT files are copied byte for byte and the other formats written as XPT v5 (CSV
  carries no types and needs specs); the input's own define.xml (with its stylesheet and
  define.html) is copied when it has one, else the SDTM define.xml is written from a spec derived
  from the package's own attributes (submit/sdtm/spec_from_input.py), as a package without one is
  rejected (FDA technical rejection criterion 1736).

Either way, text that XPT v5 cannot hold is transliterated to ASCII where it has an ASCII form
(submit/sdtm/ascii_text.py), every change listed in qc/sdtm_transliteration.csv; and the corrections
the study declares (`sdtm_corrections.yaml`, submit/sdtm/corrections.py) are applied, every changed
value listed in qc/sdtm_corrections.csv.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.dataset_io import FORMATS, DatasetMeta, read_dataset
from submit.errors import DataCheckError, InputError, Problem
from submit.project import sdtm_dir
from submit.sdtm.build import SdtmResult, xpt_meta
from submit.sdtm.engine import with_spec_types
from submit.spec.model import Spec
from submit.sdtm.ascii_text import COLUMNS, transliterate
from submit.sdtm.corrections import REPORT as CORRECTIONS_REPORT, correct_sdtm
from submit.sdtm.spec_from_input import spec_from_input
from submit.spec.store import load_spec, write_spec
from submit.xpt import XptDataset, XptVariable, write_xpt

log = logging.getLogger("submit.sdtm")

INVENTORY = "sdtm_input.csv"  # qc/: what was read, from which file, in which encoding
TRANSLITERATION = "sdtm_transliteration.csv"  # qc/: text values changed to ASCII (file, row, variable, before, after)
SPEC_FROM_INPUT = "sdtm_spec_from_input"  # qc/: the SDTM spec derived from the package's attributes
DEFINE_FILES = ("define.xml", "define.html", "*.xsl")  # an input's define, taken along when there are no specs


@dataclass(frozen=True)
class InputDataset:
    name: str  # upper-case file stem
    path: Path
    data: pd.DataFrame  # char missing as None, numbers as float (SAS dates stay numbers)
    meta: DatasetMeta


def dataset_files(folder: Path) -> dict[str, Path]:
    """Dataset name -> file, for every file of a dataset format (define.xml and the like are not)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)
    found: dict[str, list[Path]] = {}
    for path in files:
        found.setdefault(path.stem.upper(), []).append(path)
    for name, paths in found.items():  # a package of ours: Dataset-JSON beside each XPT, same data
        xpt = [p for p in paths if p.suffix.lower() == ".xpt"]
        if xpt and all(p.suffix.lower() in (".xpt", ".json", ".ndjson") for p in paths):
            found[name] = xpt
    twice = [Problem(str(paths[1]), f"a second file of dataset {name} (first: {paths[0].name})")
             for name, paths in found.items() if len(paths) > 1]
    if twice:
        raise InputError(f"{folder}: datasets given more than once", twice)
    if not found:
        raise InputError("no SDTM datasets", [Problem(str(folder), f"holds no dataset file ({', '.join(sorted(FORMATS))})")])
    return {name: paths[0] for name, paths in found.items()}


def read_input(folder: Path, encoding: str | None = None) -> dict[str, InputDataset]:
    """Every dataset of the folder; all decoding problems at once."""
    datasets, problems = {}, []
    for name, path in dataset_files(folder).items():
        try:
            df, meta = read_dataset(path, as_text=True, encoding=encoding)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for column, variable in meta.variables.items():  # blank text is missing, as in mapped SDTM
            if variable.type == "char":
                df[column] = df[column].astype(object).where(df[column].notna() & (df[column] != ""), None)
        if meta.encoding and meta.encoding != "utf-8":
            log.info("%s: text read as %s (%s)", path.name, meta.encoding,
                     "declared" if encoding else "not UTF-8, detected")
        datasets[name] = InputDataset(name, path, df, meta)
    if problems:
        raise InputError("SDTM datasets that cannot be decoded", problems)
    used = sorted({d.meta.encoding for d in datasets.values() if d.meta.encoding})
    log.info("read %d SDTM datasets from %s (text encoding: %s)", len(datasets), folder, ", ".join(used) or "n/a")
    return datasets


def check_study(datasets: dict[str, InputDataset], study: StudyConfig) -> None:
    """The input is the study of the specs: a package of another study would land under the wrong id."""
    problems = []
    for ds in datasets.values():
        if "STUDYID" in ds.data:
            other = sorted(set(ds.data["STUDYID"].dropna().astype(str)) - {study.study.id})
            if other:
                problems.append(Problem(str(ds.path), f"STUDYID {', '.join(other[:5])} is not the study's "
                                                      f"{study.study.id} (study.yaml)", column="STUDYID"))
    if problems:
        raise InputError("the SDTM package is of another study", problems)


def conform_input(ds: InputDataset, spec: Spec) -> tuple[pd.DataFrame, list[Problem]]:
    """The dataset as its spec describes it: the spec's variables in its order and types, sorted by
    its keys; every variable missing or extra, and every text in a numeric variable, a problem."""
    variables = spec.variables_of(ds.name)
    names = [v.name for v in variables]
    file = str(ds.path)
    problems = [Problem(file, f"{ds.name}.{n} is in the SDTM spec but not in the data", column=n)
                for n in names if n not in ds.data]
    problems += [Problem(file, f"{ds.name}.{c} is not a variable of {ds.name} in the SDTM spec", column=str(c))
                 for c in ds.data.columns if c not in names]
    if problems:
        return ds.data, problems
    df = ds.data[names].copy()
    for v in variables:
        if not v.is_char and ds.meta.variables[v.name].type == "char":
            text = df[v.name]
            bad = text.notna() & pd.to_numeric(text, errors="coerce").isna()
            problems += [Problem(file, f"{text[i]!r} is not a number (numeric in the SDTM spec)", row=int(i) + 1,
                                 column=v.name) for i in bad[bad].index[:20]]
    df = with_spec_types(df, variables)
    keys = [k for k in spec.dataset(ds.name).keys if k in df.columns]
    return (df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df), problems


def _file_attributes(ds: InputDataset) -> XptDataset:
    """XPT metadata from the attributes the input file carries (no spec to take them from)."""
    return XptDataset(name=ds.name, label=ds.meta.label, variables=tuple(
        XptVariable(name=v.name, label=v.label, type=v.type, length=v.length if v.type == "char" else None,
                    format=v.format) for v in ds.meta.variables.values()))


def take_sdtm(folder: Path, spec_folder: Path | None, study: StudyConfig, root: Path,
              encoding: str | None = None, corrections: Path | None = None) -> SdtmResult:
    """Read the SDTM package at `folder` and write it into the package at `root` (see the module doc).
    `spec_folder` None: the study has no SDTM specs. `corrections`: the study's declared corrections
    (submit/sdtm/corrections.py), applied when the file exists."""
    datasets = read_input(folder, encoding)
    check_study(datasets, study)
    datasets, changed = ascii_text(datasets, root / "qc" / TRANSLITERATION)
    datasets, corrected = correct_sdtm(datasets, corrections, study, root / "qc" / CORRECTIONS_REPORT)
    changed |= corrected
    out = root / sdtm_dir(study)
    out.mkdir(parents=True, exist_ok=True)
    spec = load_spec(spec_folder) if spec_folder is not None else None
    domains: dict[str, pd.DataFrame] = {}
    if spec is not None:
        specified = {d.name for d in spec.datasets}
        problems = [Problem(str(ds.path), f"dataset {name} is not in the SDTM spec ({spec_folder}/Datasets.csv)")
                    for name, ds in datasets.items() if name not in specified]
        absent = sorted(specified - set(datasets))
        if absent:  # a domain without records is not submitted: its define.xml entry is left out
            log.info("datasets of the SDTM spec not in the input (no records, not submitted): %s", ", ".join(absent))
        for name, ds in datasets.items():
            if name in specified:
                domains[name], found = conform_input(ds, spec)
                problems += found
        if problems:
            raise InputError(f"the SDTM package {folder} does not match the study's SDTM spec", problems)
        for name, df in domains.items():
            _write(replace(datasets[name], data=df), xpt_meta(spec, name), out / f"{name.lower()}.xpt", study)
    else:
        untyped = [Problem(str(ds.path), "CSV carries no variable types: give XPT, SAS7BDAT, Parquet or "
                                         "Dataset-JSON, or add SDTM specs (sdtm/) to the study")
                   for ds in datasets.values() if ds.meta.format == "csv"]
        if untyped:
            raise InputError("SDTM without specs needs typed datasets", untyped)
        if not (folder / "define.xml").is_file():  # its define.xml is written from its own attributes
            spec = spec_from_input(datasets, study)
            write_spec(spec, root / "qc" / SPEC_FROM_INPUT)
            log.info("%s has no define.xml and the study no SDTM specs: the SDTM define.xml is written from the "
                     "package's own attributes (qc/%s)", folder, SPEC_FROM_INPUT)
        for name, ds in datasets.items():
            target = out / f"{name.lower()}.xpt"
            if ds.meta.format == "xpt" and name not in changed:
                shutil.copyfile(ds.path, target)  # the package carries the SDTM exactly as given
            else:
                meta = xpt_meta(spec, name) if spec is not None else _file_attributes(ds)
                _write(ds, meta, target, study)
            domains[name] = ds.data
        if spec is None:
            for path in sorted({p for pattern in DEFINE_FILES for p in folder.glob(pattern) if p.is_file()}):
                shutil.copyfile(path, out / path.name)
    write_inventory(datasets, root / "qc" / INVENTORY)
    return SdtmResult(spec=spec, domains=domains, exceptions=pd.DataFrame())


def _write(ds: InputDataset, meta: XptDataset, target: Path, study: StudyConfig) -> None:
    try:
        write_xpt(ds.data, meta, target, created=study.dates.build_date)
    except DataCheckError as exc:  # e.g. non-ASCII text: name the input file, not the staging one
        raise DataCheckError(f"{ds.path.name}: cannot be written as XPT v5",
                             [replace(p, file=str(ds.path)) for p in exc.problems]) from None


def ascii_text(datasets: dict[str, InputDataset], report: Path) -> tuple[dict[str, InputDataset], set[str]]:
    """The datasets with typographic characters transliterated to ASCII (submit/sdtm/ascii_text.py),
    every change listed in `report`; and the names of the datasets changed."""
    frames, changed = [], set()
    out = dict(datasets)
    for name, ds in datasets.items():
        data, changes = transliterate(ds.data, ds.path.name)
        if len(changes):
            out[name] = replace(ds, data=data)
            changed.add(name)
            frames.append(changes)
            log.warning("%s: %d text value(s) transliterated to ASCII for XPT v5 (qc/%s)", ds.path.name, len(changes),
                        report.name)
    report.parent.mkdir(parents=True, exist_ok=True)
    (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)).to_csv(
        report, index=False, lineterminator="\n")
    return out, changed


def write_inventory(datasets: dict[str, InputDataset], path: Path) -> None:
    """Datasets, files, formats, encodings and record counts of the SDTM input: the reviewer's first check."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"dataset": name, "file": ds.path.name, "format": ds.meta.format, "encoding": ds.meta.encoding,
             "records": len(ds.data), "variables": ds.data.shape[1]} for name, ds in datasets.items()]
    pd.DataFrame(rows).to_csv(path, index=False, lineterminator="\n")
