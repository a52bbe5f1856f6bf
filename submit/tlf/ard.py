"""The analysis results data (ARD) as the renderer reads it.

Long format, one row per statistic (DESIGN.md): `output, group, group_level, variable,
variable_level, stat_name, stat_label, stat`, `stat` unrounded. Empty text cells are empty strings.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem

ARD_COLUMNS = ("output", "group", "group_level", "variable", "variable_level", "stat_name", "stat_label", "stat")
TEXT_COLUMNS = ARD_COLUMNS[:-1]
KEY = ("group", "group_level", "variable", "variable_level")


def normalize_ard(ard: pd.DataFrame, where: str) -> pd.DataFrame:
    """The ARD with text columns as str ("" for missing) and `stat` as float; checks the columns."""
    missing = [c for c in ARD_COLUMNS if c not in ard.columns]
    if missing:
        raise InputError("ARD is not in the documented format",
                         [Problem(where, f"missing column(s) {', '.join(missing)}; expected {', '.join(ARD_COLUMNS)}")])
    out = ard[list(TEXT_COLUMNS)].astype(object).fillna("").astype(str)
    stat = pd.to_numeric(ard["stat"], errors="coerce")
    if pd.api.types.is_float_dtype(ard["stat"]):  # numbers already (as computed): only NaN is missing
        bad = pd.Series(False, index=ard.index)
    else:
        bad = stat.isna() & ~_blank_number(ard["stat"])
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise InputError("ARD statistics are not numbers",
                         [Problem(where, f"stat {ard['stat'].iloc[r]!r} is not a number", row=int(r) + 1, column="stat")
                          for r in rows])
    out["stat"] = stat.astype(float).to_numpy()
    return out


def _blank_number(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.upper()
    return text.isin({"", "NA", "NAN", "."})


def read_ard(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return normalize_ard(frame, str(path))


def write_ard(ard: pd.DataFrame, path: Path) -> None:
    """CSV with the documented columns in order; floats in full precision (shortest round-trip)."""
    ard = ard.loc[:, list(ARD_COLUMNS)]
    ard.to_csv(path, index=False, lineterminator="\n")


class ArdIndex:
    """Lookup of the statistics of one (group, group_level, variable, variable_level) cell."""

    def __init__(self, ard: pd.DataFrame, where: str):
        self.where = where
        self._cells: dict[tuple[str, str, str, str], dict[str, float]] = defaultdict(dict)
        self._by_level: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (level, var, var_level) -> groups
        self._levels: dict[str, dict[str, None]] = defaultdict(dict)  # variable -> its levels, in order
        self._group_levels: dict[str, dict[str, None]] = defaultdict(dict)
        self._stats_of_variable: dict[str, set[str]] = defaultdict(set)
        duplicates: list[Problem] = []
        columns = [ard[c].to_numpy() for c in (*KEY, "stat_name", "stat")]
        for row, (group, level, variable, var_level, stat_name, stat) in enumerate(zip(*columns), 1):
            cell = self._cells[(group, level, variable, var_level)]
            if stat_name in cell:
                duplicates.append(Problem(where, f"statistic {stat_name} of group {group}={level}, variable "
                                                 f"{variable}={var_level!r} appears more than once", row=row))
            cell[stat_name] = stat
            self._by_level[(level, variable, var_level)].add(group)
            self._levels[variable][var_level] = None
            self._group_levels[group][level] = None
            self._stats_of_variable[variable].add(stat_name)
        if duplicates:
            raise InputError("ARD has duplicate statistics", duplicates)

    def cell(self, group: str | None, level: str, variable: str, var_level: str) -> dict[str, float] | None:
        """The statistics of a cell; `group` None matches any group (error if several match)."""
        if group is not None:
            return self._cells.get((group, level, variable, var_level))
        groups = self._by_level.get((level, variable, var_level))
        if not groups:
            return None
        if len(groups) > 1:
            raise InputError("ARD is ambiguous for a column without group", [Problem(
                self.where, f"group_level {level!r} of variable {variable}={var_level!r} appears under groups "
                            f"{', '.join(sorted(groups))}; name the group in the shell's column")])
        return self._cells[(next(iter(groups)), level, variable, var_level)]

    def levels(self, variable: str) -> list[str]:
        return list(self._levels.get(variable, {}))

    def group_levels(self, group: str) -> list[str]:
        return list(self._group_levels.get(group, {}))

    def has_variable(self, variable: str) -> bool:
        return variable in self._levels

    def stats_of(self, variable: str) -> set[str]:
        return self._stats_of_variable.get(variable, set())
