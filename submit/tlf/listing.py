"""Listing shell + data frame -> table grid, by column operations (listings run to thousands of rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.tlf.formatting import format_numbers
from submit.tlf.model import HeaderCell, Table
from submit.tlf.shell import ListingColumn, ListingShell
from submit.tlf.text import TlfContext, render_text

MAX_WIDTH = 40  # characters: longer text wraps
MAX_WORD = 24  # characters: a longer single word may break


def printed_listing(shell: ListingShell, frame: pd.DataFrame) -> pd.DataFrame:
    """The listing as printed, before repeated keys are blanked: the rows sorted by `sort_by`
    (stable), one text column per listing column, named by its variable (the listing's ARD)."""
    texts = _texts(shell, frame)
    return pd.DataFrame({col.name: texts[f"c{i}"] for i, col in enumerate(shell.columns)})


def _texts(shell: ListingShell, frame: pd.DataFrame) -> dict[str, pd.Series]:
    where = shell.source or f"shell {shell.id}"
    wanted = [c.name for c in shell.columns] + [k for k in shell.sort_by if k not in {c.name for c in shell.columns}]
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise InputError(f"Listing {shell.id} ({shell.file}) cannot be drawn from its data", [
            Problem(where, f"column {name} is not in the listing data (it has {', '.join(map(str, frame.columns))})",
                    key=f"id {shell.id}.columns") for name in missing])
    if shell.sort_by:
        frame = frame.sort_values(list(shell.sort_by), kind="mergesort", na_position="last")
    problems: list[Problem] = []
    texts = {}
    for i, col in enumerate(shell.columns):
        try:
            texts[f"c{i}"] = _as_text(frame[col.name], col)
        except ValueError as exc:
            problems.append(Problem(where, f"column {col.name}: {exc}", key=f"id {shell.id}.columns[{i}]"))
    if problems:
        raise InputError(f"Listing {shell.id} ({shell.file}) cannot be drawn from its data", problems)
    return texts


def render_listing(shell: ListingShell, frame: pd.DataFrame, context: TlfContext) -> Table:
    """The listing's rows sorted by `sort_by` (stable), each column as text; repeated key values
    blanked where the shell says `repeat: false`."""
    where = shell.source or f"shell {shell.id}"
    texts = _texts(shell, frame)
    # A zero-width space after each slash lets coded values such as RECOVERED/RESOLVED wrap there
    # rather than force a column as wide as the whole value.
    body = pd.DataFrame({k: v.str.replace("/", "/\u200b", regex=False) for k, v in texts.items()},
                        index=pd.RangeIndex(len(next(iter(texts.values()))) if texts else 0))
    _blank_repeats(body, shell.columns)
    labels = [render_text(c.label, context, f"{where}, id {shell.id}.columns[{i}].label")
              for i, c in enumerate(shell.columns)]
    if body.empty:
        body = pd.DataFrame([[shell.empty_text] + [""] * (len(shell.columns) - 1)], columns=list(texts))
    natural, minimum = zip(*(_width(body[f"c{i}"], labels[i], col) for i, col in enumerate(shell.columns)))
    # A blanked key continues the block above (one subject's records): each row of a block is kept
    # on the page of the next, so that a block starts a page with its key shown. A block longer
    # than a page still breaks.
    continues = (body["c0"].shift(-1).eq("").to_numpy(dtype=bool) if shell.columns and not shell.columns[0].repeat
                 else np.zeros(len(body), dtype=bool))
    return Table(header=(tuple(HeaderCell(t) for t in labels),), body=body, indent=np.zeros(len(body), dtype=int),
                 widths=natural, min_widths=minimum, align=("left",) * len(shell.columns), keep_with_next=continues,
                 key_columns=tuple(i for i, col in enumerate(shell.columns) if not col.repeat))


def _as_text(values: pd.Series, col: ListingColumn) -> pd.Series:
    values = values.reset_index(drop=True)
    if col.format:
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")
        if bad.any():
            raise ValueError(f"format {col.format} needs numbers; row {int(np.flatnonzero(bad)[0]) + 1} has "
                             f"{values[bad].iloc[0]!r}")
        return pd.Series(format_numbers(numbers.to_numpy(dtype=float), col.format, missing=""), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("").astype(object)
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if (finite != np.floor(finite)).any():
            raise ValueError("holds decimals: give the column a format (d0-d4 or sig2-sig4)")
        return values.astype("Int64").astype(str).replace("<NA>", "").astype(object)
    return values.astype(object).where(values.notna(), "").astype(str).astype(object)


def _blank_repeats(body: pd.DataFrame, columns: tuple[ListingColumn, ...]) -> None:
    """Blank a key value equal to the row above while every key column to its left is equal too."""
    same_so_far = pd.Series(True, index=body.index)
    for i, col in enumerate(columns):
        if col.repeat:
            continue
        text = body[f"c{i}"]
        same_so_far &= text.eq(text.shift())
        body.loc[same_so_far, f"c{i}"] = ""


def _width(text: pd.Series, label: str, col: ListingColumn) -> tuple[float, float]:
    """(natural, minimum) width in characters: the longest value, and the longest word (dates,
    identifiers and numbers must not wrap). A shell width fixes both."""
    if col.width is not None:
        return float(col.width), float(col.width)
    lengths = text.str.len()
    words = text.str.split(r"[\s\u200b]+", regex=True).explode().dropna().str.len()
    label_words = [len(w) for w in label.split()]
    natural = max(int(lengths.max()) if len(lengths) else 0, len(label), 3)
    minimum = max(int(words.max()) if len(words) else 0, *label_words, 3)
    return float(min(natural, MAX_WIDTH)), float(min(minimum, MAX_WORD))
