"""Deterministic pagination of a table output, as SAS ODS RTF and rtflite do it.

Word and LibreOffice would break a long table wherever their own layout says, which leaves the
footnotes on the last page only, cannot say which block a page continues and makes "Page X of Y"
depend on the program that opens the file. Here each page is decided before the document is
written: the height of every row is its number of lines (the text wrapped at its column width,
characters of a monospaced font) times the line height, and a page takes rows until its room is
used. Each page then gets its own table (titles and column headers), its footnotes and an
explicit page break, so every page of the document is known, and numbered, in advance.

A page that starts inside a block repeats the block's labels (each ancestor row, by indentation,
with " (continued)"); a listing page that starts inside a subject's records shows the key values
that the rows above had blanked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from submit.tlf.model import Table

LINE_EM = 1.15  # line height of Courier New / Liberation Mono (ascent + descent 2320/2048 em), rounded up
ROW_PAD_PT = 1.0  # wordml.CELL_PAD_TOP (20 twips) above the text of every row
SAFETY_LINES = 2.0  # room kept free at the foot of every page for rounding in the word processors
CONTINUED = " (continued)"


def line_pt(font_pt: float) -> float:
    return font_pt * LINE_EM


def wrapped_lines(texts: Sequence[str] | pd.Series, width: int) -> np.ndarray:
    """Lines each text takes wrapped at spaces into `width` characters (explicit line breaks kept;
    a longer word broken). Only texts longer than the width are wrapped one by one. A column of a
    body (a Series) is measured by column operations; a few title, header or footnote texts (a
    sequence) one by one, which costs less than building a Series for them."""
    if not isinstance(texts, pd.Series):
        return np.array([_text_lines(str(text), width) for text in texts], dtype=np.int64)
    texts = texts.astype(object).astype(str)
    lines = texts.str.count("\n").to_numpy() + 1
    long = texts.str.len().to_numpy() > width
    if long.any():  # each distinct text wrapped once: listings repeat terms, visits and codes
        wrapped = texts[long]
        lines[long] = wrapped.map({text: _text_lines(text, width) for text in wrapped.unique()}).to_numpy()
    return lines


def _text_lines(text: str, width: int) -> int:
    if len(text) <= width:
        return text.count("\n") + 1
    width = max(int(width), 1)
    return sum(max(1, len(textwrap.wrap(part.replace("\u200b", " "), width, break_on_hyphens=False)))
               for part in text.split("\n"))


def row_lines(table: Table, chars: Sequence[int], indent_chars: int = 2) -> np.ndarray:
    """Lines of each body row: the most lines of any of its cells (row labels lose their indent)."""
    if table.body.empty:
        return np.zeros(0, dtype=int)
    most = np.ones(len(table.body), dtype=int)
    for j, name in enumerate(table.body.columns):
        text = table.body[name]
        if j == 0:
            for level in np.unique(table.indent):
                pick = table.indent == level
                most[pick] = np.maximum(most[pick], wrapped_lines(text[pick], chars[0] - indent_chars * level))
        else:
            most = np.maximum(most, wrapped_lines(text, chars[j]))
    return most


def header_lines(table: Table, chars: Sequence[int]) -> list[int]:
    """Lines of each column header row."""
    out = []
    for row in table.header:
        col, most = 0, 1
        for cell in row:
            width = sum(chars[col:col + cell.span]) + 2 * (cell.span - 1)
            most = max(most, int(wrapped_lines([cell.text], width)[0]))
            col += cell.span
        out.append(most)
    return out


@dataclass(frozen=True)
class Page:
    start: int  # first body row of the whole table on this page
    stop: int  # one past the last
    table: Table  # what the page shows: continued rows, then rows start..stop-1


def paginate(table: Table, chars: Sequence[int], room_pt: float, font_pt: float) -> list[Page]:
    """Cut the body into pages of at most `room_pt` points of rows (each page's share of the page
    height once titles, column headers and footnotes are set). A page is not ended after a row
    kept with the next (a heading, a row whose next is indented under it, a statistic of a set, a
    listing subject's record) unless the block is longer than half a page; blank rows do not start a page."""
    n = len(table.body)
    if n == 0:
        return [Page(0, 0, table)]
    line = line_pt(font_pt)
    heights = row_lines(table, chars) * line + ROW_PAD_PT
    top = np.concatenate(([0.0], np.cumsum(heights)))
    keep = table.keep_with_next.copy() if table.keep_with_next is not None else np.zeros(n, dtype=bool)
    keep[:-1] |= table.indent[1:] > table.indent[:-1]
    cells = table.body.iloc[:, 1:] if table.body.shape[1] > 1 else table.body.iloc[:, :0]
    heading = (table.body.iloc[:, 0] != "").to_numpy() & ~(cells != "").any(axis=1).to_numpy()
    blank = (table.body == "").all(axis=1).to_numpy()
    shown_above = _last_shown(table)
    pages: list[Page] = []
    start = 0
    while start < n:
        while pages and start < n and blank[start]:
            start += 1
        if start >= n:
            break
        lead = _continued(table, start, chars)
        room = room_pt - (row_lines(lead, chars).sum() * line + ROW_PAD_PT * len(lead.body) if lead is not None else 0)
        stop = int(np.searchsorted(top, top[start] + room, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        if stop < n:
            free = np.flatnonzero(~keep[start:stop])  # a page may end after these rows
            cut = start + int(free[-1]) + 1 if len(free) else stop
            if top[cut] - top[start] >= room / 2:
                stop = cut
            else:  # a block longer than half a page breaks inside: never after its heading
                while stop - 1 > start and heading[stop - 1]:
                    stop -= 1
        shown = table.rows(start, stop)
        if lead is not None:
            shown = _stack(lead, shown)
        pages.append(Page(start, stop, _refill_keys(shown, table, start, shown_above)))
        start = stop
    return pages


def _continued(table: Table, start: int, chars: Sequence[int]) -> Table | None:
    """The rows labelling the blocks that row `start` is inside, each with " (continued)"."""
    level = int(table.indent[start])
    if level == 0 or start == 0:
        return None
    found: list[int] = []
    for i in range(start - 1, -1, -1):  # nearest row above of each shallower indentation
        if table.indent[i] < level and table.body.iat[i, 0] != "":
            found.append(i)
            level = int(table.indent[i])
            if level == 0:
                break
    if not found:
        return None
    rows = found[::-1]
    body = pd.DataFrame("", index=range(len(rows)), columns=table.body.columns, dtype=object)
    body.iloc[:, 0] = [table.body.iat[i, 0] + CONTINUED for i in rows]
    zeros = np.zeros(body.shape, dtype=int)
    return Table(header=table.header, body=body, indent=table.indent[rows].copy(), widths=table.widths,
                 min_widths=table.min_widths, align=table.align, keep_with_next=np.ones(len(rows), dtype=bool),
                 pad_left=None if table.pad_left is None else zeros, pad_right=None if table.pad_right is None else zeros,
                 stretch=table.stretch, key_columns=table.key_columns)


def _stack(first: Table, second: Table) -> Table:
    def join(a, b):
        return None if a is None or b is None else np.concatenate([a, b])
    body = pd.concat([first.body, second.body], ignore_index=True)
    return Table(header=second.header, body=body, indent=np.concatenate([first.indent, second.indent]),
                 widths=second.widths, min_widths=second.min_widths, align=second.align,
                 keep_with_next=join(first.keep_with_next, second.keep_with_next),
                 pad_left=join(first.pad_left, second.pad_left), pad_right=join(first.pad_right, second.pad_right),
                 stretch=second.stretch, key_columns=second.key_columns)


def _last_shown(table: Table) -> dict[int, np.ndarray]:
    """Per key column of a listing, for each row the last row at or above it whose value is shown
    (not blanked as a repeat); -1 where none is. Found once for the whole table, not per page."""
    out = {}
    for j in table.key_columns:
        shown = (table.body.iloc[:, j] != "").to_numpy()
        out[j] = np.maximum.accumulate(np.where(shown, np.arange(len(shown)), -1))
    return out


def _refill_keys(page: Table, whole: Table, start: int, shown_above: dict[int, np.ndarray]) -> Table:
    """A listing page starting inside a block shows the key values blanked as repeats."""
    if not whole.key_columns or start == 0:
        return page
    body = page.body.copy()
    for j in whole.key_columns:
        if body.iat[0, j] == "" and shown_above[j][start - 1] >= 0:
            body.iat[0, j] = whole.body.iat[shown_above[j][start - 1], j]
    return Table(header=page.header, body=body, indent=page.indent, widths=page.widths, min_widths=page.min_widths,
                 align=page.align, keep_with_next=page.keep_with_next, pad_left=page.pad_left,
                 pad_right=page.pad_right, stretch=page.stretch, key_columns=page.key_columns)
