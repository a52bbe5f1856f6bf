"""The rendered forms the DOCX writer draws: a table grid and a complete output."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class HeaderCell:
    text: str  # "\n" breaks the line
    span: int = 1  # number of columns covered
    underline: bool = False  # a rule under the cell (spanning headers)


@dataclass(frozen=True, eq=False)
class Table:
    """A grid: column header rows, then a body of text cells.

    The body stays columnar (one str column per table column) so that a listing of thousands of
    rows is turned into WordprocessingML by column operations, never cell by cell."""

    header: tuple[tuple[HeaderCell, ...], ...]
    body: pd.DataFrame  # str cells; columns in display order
    indent: np.ndarray  # per body row: indentation level of the first column
    widths: tuple[float, ...]  # natural width of each column, in characters (its longest line)
    min_widths: tuple[float, ...]  # narrowest sensible width, in characters (its longest unbreakable text)
    align: tuple[str, ...]  # per column: "left" | "center"
    keep_with_next: np.ndarray | None = None  # per body row: a heading row kept on the page of the next row
    # Decimal alignment of centred cells: characters of room left and right of each cell's text
    # (rows x columns), so that every cell of a column takes the same width and its numbers line
    # up (see formatting.decimal_align). None: no padding.
    pad_left: np.ndarray | None = None
    pad_right: np.ndarray | None = None
    # Share of the width left over once every column has its natural width (None: in proportion
    # to the natural widths). A summary table gives it to the statistic columns.
    stretch: tuple[float, ...] | None = None
    # Columns whose blanked repeats are shown again on the first row of a page (listing keys).
    key_columns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = self.body.shape[1]
        pads_ok = all(p is None or p.shape == self.body.shape for p in (self.pad_left, self.pad_right))
        if (len(self.widths) != n or len(self.min_widths) != n or len(self.align) != n
                or len(self.indent) != len(self.body) or not pads_ok
                or (self.stretch is not None and len(self.stretch) != n)
                or (self.keep_with_next is not None and len(self.keep_with_next) != len(self.body))):
            raise ValueError("table widths, alignment, padding and indentation must match the body")
        for row in self.header:
            if sum(c.span for c in row) != n:
                raise ValueError(f"a header row spans {sum(c.span for c in row)} columns, the body has {n}")

    @property
    def n_columns(self) -> int:
        return self.body.shape[1]

    def parts(self, rows: int) -> list[Table]:
        """The body cut into tables of about `rows` rows, each cut after a row that is not kept with
        the next (a listing's subject block, a table's heading row stay whole); the same columns,
        widths and headers in each."""
        n = len(self.body)
        keep = self.keep_with_next if self.keep_with_next is not None else np.zeros(n, dtype=bool)
        cuts, start = [], 0
        while n - start > rows:
            free = np.flatnonzero(~keep[start + rows - 1:])
            if not len(free):
                break
            start += rows + int(free[0])
            if start < n:
                cuts.append(start)
        bounds = [0, *cuts, n]
        return [self.rows(a, b) for a, b in zip(bounds, bounds[1:])]

    def rows(self, start: int, stop: int) -> Table:
        """The body rows start..stop-1 with the same columns, widths and headers."""
        def cut(values):
            return None if values is None else values[start:stop]
        return dataclasses.replace(self, body=self.body.iloc[start:stop], indent=self.indent[start:stop],
                                   keep_with_next=cut(self.keep_with_next), pad_left=cut(self.pad_left),
                                   pad_right=cut(self.pad_right))


@dataclass(frozen=True, eq=False)
class RenderedOutput:
    """One output with all its text resolved, ready for a document."""

    id: str
    kind: str  # "Table" | "Listing" | "Figure"
    file: str
    titles: tuple[str, ...]  # the title lines (without the "Table 14.x" line)
    population: str
    population_flag: str | None
    datasets: tuple[str, ...]
    footnotes: tuple[str, ...]
    source: str
    table: Table | None = None
    figure: Path | None = None  # PNG

    @property
    def heading(self) -> str:
        return f"{self.kind} {self.id}"
