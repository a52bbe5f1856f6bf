"""The ADaM datasets the TLFs read, as the analyses expect them.

Dates (numeric SAS dates with a date format) come as datetime64, character missing values as "",
numeric missing values as NaN. `AdamData.frame(name, columns)` hands an analysis exactly the
variables it reads, after checking that the dataset has them (naming every missing one at once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from submit.config import StudyConfig
from submit.errors import DataCheckError, InputError, Problem
from submit.xpt.reader import Unsupported, XptFile


# How pyreadstat (1.3) classes a SAS format, by the name before its width: the TLFs' frames have
# always had its conversions (DATE-class numbers as dates, DATETIME-class as date-times).
_FORMAT_NAME = re.compile(r"^([A-Z][A-Z0-9]+[A-Z])(\d+)?(?(2)(?:\.\d*)?$|\.?$)")
_DATE_FORMATS = {"WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "DDMMYYB", "DDMMYYC", "DDMMYYD", "DDMMYYN",
                 "DDMMYYP", "DDMMYYS", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP", "MMDDYYS",
                 "WEEKDATX", "DTDATE", "IS8601DA", "E8601DA", "B8601DA", "YYMMDDB", "YYMMDDD", "YYMMDDN",
                 "YYMMDDP", "YYMMDDS"}
_DATETIME_FORMATS = {"DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN"}
_TIME_FORMATS = {"TIME", "HHMM", "TOD", "TIMEAMPM", "IS8601TM", "E8601TM", "B8601TM"}
_UNIX_FROM_SAS = 3653  # days from 1960-01-01 (SAS) to 1970-01-01 (numpy)


class XptFolder:
    """The XPTs of a folder, each opened once (submit.xpt.reader: headers parsed, observations
    mapped) and each column decoded when an analysis first asks for it: the TLFs use a few
    variables of large datasets (ADLB at 3,600 subjects: 8 of its 43 columns). What that reader
    does not read (time formats, text that is not UTF-8, other XPT layouts) pyreadstat reads."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.paths = {path.stem.upper(): path for path in sorted(self.folder.glob("*.xpt"))}
        if not self.paths:
            raise InputError("No ADaM datasets", [Problem(str(self.folder), "no *.xpt files in this folder")])
        self._files: dict[str, XptFile | None] = {}  # None: read with pyreadstat
        self._names: dict[str, list[str]] = {}
        self._read: dict[str, dict[str, pd.Series]] = {}

    def names(self) -> set[str]:
        return set(self.paths)

    def columns(self, name: str) -> list[str]:
        if name not in self._names:
            xpt = self._file(name)
            self._names[name] = ([c.name for c in xpt.columns] if xpt is not None else list(
                pyreadstat.read_xport(str(self.paths[name]), metadataonly=True)[1].column_names))
        return self._names[name]

    def read(self, name: str, columns: list[str]) -> pd.DataFrame:
        have = self._read.setdefault(name, {})
        missing = [c for c in columns if c not in have]
        if missing:
            have.update(self._decoded(name, missing))
        if not columns:
            return pd.DataFrame(index=pd.RangeIndex(self._rows(name)))
        return pd.DataFrame({c: have[c] for c in columns})

    def _file(self, name: str) -> XptFile | None:
        if name not in self._files:
            try:
                self._files[name] = XptFile(self.paths[name])
            except Unsupported:
                self._files[name] = None
        return self._files[name]

    def _rows(self, name: str) -> int:
        xpt = self._file(name)
        return xpt.rows if xpt is not None else pyreadstat.read_xport(str(self.paths[name]), metadataonly=True)[1].number_rows

    def _decoded(self, name: str, columns: list[str]) -> dict[str, pd.Series]:
        xpt = self._file(name)
        out, slow = {}, list(columns) if xpt is None else []
        for column in columns if xpt is not None else ():
            try:
                out[column] = _as_pyreadstat(xpt, column)
            except Unsupported:
                slow.append(column)
        if slow:
            frame = _normalized(*pyreadstat.read_xport(str(self.paths[name]), usecols=slow))
            out.update(frame.items())
        return out


def _as_pyreadstat(xpt: XptFile, name: str) -> pd.Series:
    """Column `name` as pyreadstat reads it and `_normalized` turns it: text as "str" ("" for
    blank), numbers as float64, DATE-class formats as datetime64[s] and DATETIME-class as
    datetime64[us], both from SAS numbers the way pyreadstat converts them (whole days truncated;
    seconds to the microsecond); a date column without values as `_normalized` types it.
    Unsupported for what pyreadstat converts otherwise (time formats)."""
    column = xpt.column(name)
    meta = next(c for c in xpt.columns if c.name == name)
    match = _FORMAT_NAME.match(meta.format) if meta.type == "num" and meta.format else None
    kind = match.group(1) if match else ""
    if kind in _TIME_FORMATS:
        raise Unsupported("a time format")
    if kind not in _DATE_FORMATS and kind not in _DATETIME_FORMATS:
        return column
    values = column.to_numpy()
    missing = np.isnan(values)
    if missing.all():  # pyreadstat gives objects, `_normalized` types them from the format
        if "DATE" in meta.format.upper():
            return pd.Series(pd.NaT, index=column.index, dtype="datetime64[s]", name=name)
        return column
    filled = np.where(missing, 0.0, values)
    if kind in _DATE_FORMATS:
        stamps = ((np.trunc(filled).astype(np.int64) - _UNIX_FROM_SAS) * 86400).astype("datetime64[s]")
    else:
        micros = (np.floor(filled / 86400).astype(np.int64) * 86400_000_000
                  + np.mod(filled, 86400).astype(np.int64) * 1_000_000
                  + np.round(np.mod(filled, 1) * 1e6).astype(np.int64))
        stamps = (micros - _UNIX_FROM_SAS * 86400_000_000).astype("datetime64[us]")
    stamps[missing] = np.datetime64("NaT")
    return pd.Series(stamps, index=column.index, name=name)


class Frames:
    """Datasets held in memory (by upper-case name), with the interface of XptFolder."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]):
        self.frames = {name.upper(): frame for name, frame in frames.items()}

    def names(self) -> set[str]:
        return set(self.frames)

    def columns(self, name: str) -> list[str]:
        return list(self.frames[name].columns)

    def read(self, name: str, columns: list[str]) -> pd.DataFrame:
        return self.frames[name][columns]


@dataclass(frozen=True, eq=False)
class AdamData:
    """The ADaM datasets (an XptFolder, or frames by name), the study configuration and where the
    data came from (for messages)."""

    datasets: XptFolder | Frames | Mapping[str, pd.DataFrame]
    study: StudyConfig
    source: str = "ADaM"

    def __post_init__(self) -> None:
        if not isinstance(self.datasets, (XptFolder, Frames)):
            object.__setattr__(self, "datasets", Frames(self.datasets))

    def frame(self, name: str, columns: Iterable[str]) -> pd.DataFrame:
        """`columns` of dataset `name`, and only those; InputError naming each one it lacks."""
        wanted = list(dict.fromkeys(columns))
        where = f"{self.source}/{name.lower()}.xpt"
        if name not in self.datasets.names():
            raise InputError(f"ADaM dataset {name} is missing", [Problem(where, "no such dataset; the TLFs need it")])
        present = set(self.datasets.columns(name))
        missing = [c for c in wanted if c not in present]
        if missing:
            raise InputError(f"ADaM dataset {name} lacks variables the TLFs read",
                             [Problem(where, f"variable {c} is missing", column=c) for c in missing])
        return self.datasets.read(name, wanted)

    def frame_columns(self, name: str) -> list[str]:
        """The variables of dataset `name` (none when the package has no such dataset)."""
        return self.datasets.columns(name) if name in self.datasets.names() else []

    def population(self, flag: str, columns: Iterable[str] = ()) -> pd.DataFrame:
        """ADSL subjects with `flag` = Y (SAFFL, ENRLFL, PKFL, CYTFL), with USUBJID, the flag and `columns`."""
        adsl = self.frame("ADSL", ["USUBJID", flag, *columns])
        return adsl[adsl[flag] == "Y"]


def read_adam(folder: Path) -> dict[str, pd.DataFrame]:
    """Every `*.xpt` of `folder` read whole, keyed by upper-case dataset name (for in-memory use)."""
    xpts = XptFolder(folder)
    return {name: xpts.read(name, xpts.columns(name)) for name in sorted(xpts.names())}


def _normalized(frame: pd.DataFrame, meta=None) -> pd.DataFrame:
    """Dates as datetime64, character missing values as "". With the XPT's metadata the types come
    from it, so a column without values keeps them (pyreadstat reads it as object): a study
    without deaths has DTHDT missing throughout, a dataset without records has no values at all."""
    kinds = meta.readstat_variable_types if meta is not None else {}
    formats = meta.original_variable_types if meta is not None else {}
    out = {}
    for name, values in frame.items():
        if kinds.get(name) == "double" and values.dtype == object and values.isna().all():
            values = (pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
                      if "DATE" in str(formats.get(name, "")).upper() else values.astype("float64"))
        elif frame.empty and kinds.get(name) == "string":
            values = values.astype("str")
        elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "date":
            values = pd.to_datetime(values)  # pyreadstat gives datetime.date objects for SAS dates
        elif pd.api.types.is_string_dtype(values) and not pd.api.types.is_datetime64_any_dtype(values):
            values = values.fillna("")
        out[name] = values
    return pd.DataFrame(out, index=frame.index)


def one_per_subject(records: pd.DataFrame, what: str) -> pd.DataFrame:
    """`records` when each subject has at most one; DataCheckError naming the subjects otherwise
    (a subject-level parameter counted twice would be counted in two categories)."""
    repeated = records["USUBJID"].duplicated(keep=False)
    if repeated.any():
        subjects = sorted(records.loc[repeated, "USUBJID"].unique())
        raise DataCheckError(f"{what}: more than one record per subject",
                             [Problem(what, "subject has more than one record", key=s) for s in subjects[:50]])
    return records
