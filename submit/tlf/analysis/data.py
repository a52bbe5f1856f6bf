"""The ADaM datasets the TLFs read, as the analyses expect them.

Dates (numeric SAS dates with a date format) come as datetime64, character missing values as "",
numeric missing values as NaN. `AdamData.frame(name, columns)` hands an analysis exactly the
variables it reads, after checking that the dataset has them (naming every missing one at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyreadstat

from submit.config import StudyConfig
from submit.errors import DataCheckError, InputError, Problem


class XptFolder:
    """The XPTs of a folder, each column read when an analysis first asks for it: the TLFs use a
    few variables of large datasets (ADLB at 3,600 subjects: 7 of its 43 columns, a third of the
    time of reading it whole)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.paths = {path.stem.upper(): path for path in sorted(self.folder.glob("*.xpt"))}
        if not self.paths:
            raise InputError("No ADaM datasets", [Problem(str(self.folder), "no *.xpt files in this folder")])
        self._names: dict[str, list[str]] = {}
        self._read: dict[str, pd.DataFrame] = {}

    def names(self) -> set[str]:
        return set(self.paths)

    def columns(self, name: str) -> list[str]:
        if name not in self._names:
            self._names[name] = list(pyreadstat.read_xport(str(self.paths[name]), metadataonly=True)[1].column_names)
        return self._names[name]

    def read(self, name: str, columns: list[str]) -> pd.DataFrame:
        have = self._read.get(name)
        missing = [c for c in columns if have is None or c not in have.columns]
        if missing:
            new = _normalized(*pyreadstat.read_xport(str(self.paths[name]), usecols=missing))
            have = new if have is None else pd.concat([have, new], axis=1)
            self._read[name] = have
        return have[columns]


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
