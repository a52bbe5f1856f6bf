"""Checks shared by the comparative statistics: equal lengths, usable times and flags, group levels.

Programming errors (arrays of different lengths, alpha out of range) raise ValueError; problems of
the data or of the shell's choices (a missing value, a reference level absent, no events) raise
InputError listing every problem at once, each naming `source` (the data or shell analysed) and the
input (time, event, group, strata, ...) as the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem


def check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")


def as_arrays(**inputs: Any) -> dict[str, np.ndarray]:
    """The inputs (None skipped) as 1-d arrays; ValueError when their lengths differ."""
    arrays = {name: np.asarray(value).ravel() for name, value in inputs.items() if value is not None}
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise ValueError(f"inputs differ in length: {shown}")
    return arrays


def missing_problems(source: str, **arrays: np.ndarray) -> list[Problem]:
    """One problem per input holding missing values (rows named, first few)."""
    problems = []
    for name, values in arrays.items():
        rows = np.flatnonzero(pd.isna(values))
        if len(rows):
            first = ", ".join(str(r + 1) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
            problems.append(Problem(source, f"{len(rows)} missing value(s), rows {first}", column=name))
    return problems


def time_event_problems(
    source: str, time: np.ndarray, event: np.ndarray
) -> tuple[list[Problem], np.ndarray, np.ndarray]:
    """Times must be >= 0 and finite, events 0 or 1 (1 = event; ADaM CNSR is the other way round)."""
    times = pd.to_numeric(pd.Series(time), errors="coerce").to_numpy(dtype=float)
    events = pd.to_numeric(pd.Series(event), errors="coerce").to_numpy(dtype=float)
    problems = []
    bad_time = np.flatnonzero(~np.isfinite(times) | (times < 0))
    if len(bad_time):
        problems.append(
            Problem(
                source,
                f"{len(bad_time)} time(s) missing or negative, first at row {bad_time[0] + 1}",
                column="time",
            )
        )
    bad_event = np.flatnonzero(~np.isin(events, (0.0, 1.0)))
    if len(bad_event):
        problems.append(
            Problem(
                source,
                f"{len(bad_event)} event flag(s) not 0 or 1, first at row {bad_event[0] + 1}",
                column="event",
            )
        )
    elif not events.any():
        problems.append(Problem(source, "no events: nothing to compare", column="event"))
    return problems, times, events


def group_levels(
    source: str, group: np.ndarray, reference: Any = None, levels: Any = None
) -> tuple[list[Problem], list[Any]]:
    """The levels to compare, the reference first: `levels` as given (each must be observed), else the
    observed ones sorted. At least two; the reference must be one of them."""
    observed = pd.unique(pd.Series(group).dropna())
    problems = []
    if levels is None:
        ordered = sorted(observed, key=str)
    else:
        ordered = list(levels)
        absent = [level for level in ordered if level not in set(observed)]
        if absent:
            problems.append(Problem(source, f"level(s) {absent} have no records", column="group"))
        extra = [level for level in observed if level not in set(ordered)]
        if extra:
            problems.append(
                Problem(
                    source,
                    f"observed level(s) {sorted(extra, key=str)} are not among levels {ordered}",
                    column="group",
                )
            )
    if reference is not None:
        if reference not in set(observed):
            problems.append(
                Problem(
                    source,
                    f"reference level {reference!r} is not among the groups {sorted(observed, key=str)}",
                    column="group",
                )
            )
        else:
            ordered = [reference, *(level for level in ordered if level != reference)]
    if len(observed) < 2:
        problems.append(
            Problem(source, f"at least two groups are needed, found {list(observed)}", column="group")
        )
    return problems, ordered


def raise_if(problems: list[Problem], what: str, source: str) -> None:
    if problems:
        raise InputError(f"{source}: {len(problems)} problem(s) with the input of {what}", problems)
