"""ARD + table shell -> table grid: one renderer for every summary table.

Each cell is the ARD record selected by its column (group, group_level) and its row (variable,
variable_level), filled into the row's (or column's) cell template. Nothing is computed here but
the text of numbers: every number printed comes from the ARD. Every problem (a statistic the shell
shows but the ARD lacks, an unknown variable, a missing column N) is reported at once, naming the
shell, the row, the column and the statistic.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.tlf.ard import ArdIndex, normalize_ard
from submit.tlf.formatting import CellTemplate, decimal_align, parse_cell
from submit.tlf.model import HeaderCell, Table
from submit.tlf.shell import LEVEL_PATH_SEPARATOR, TOTAL, RowBlock, TableShell
from submit.tlf.text import TlfContext, render_text

MAX_PROBLEMS = 200  # a wholly mismatched ARD would otherwise list every cell
STUB_MIN_WIDTH = 30  # characters
COLUMN_GAP = 2  # characters: the least room between the numbers of two neighbouring columns
HEADER_LINES = 3  # a column header line may wrap into this many lines before its column is widened
_HYPHEN_IN_WORD = re.compile(r"(?<=\w)-(?=\w)")


@dataclass(frozen=True)
class _Column:
    group: str | None
    level: str
    label: str
    span: str | None
    show_n: bool
    cell: CellTemplate | None

    @property
    def name(self) -> str:
        return f"{self.label!r} ({self.group or 'any group'}={self.level})"


class _Builder:
    def __init__(self, shell: TableShell, index: ArdIndex, context: TlfContext):
        self.shell, self.index, self.context = shell, index, context
        self.where = shell.source or f"shell {shell.id}"
        self.problems: list[Problem] = []
        self.labels: list[str] = []
        self.indents: list[int] = []
        self.cells: list[list[str]] = []
        self.templates: list[list[str]] = []  # per cell: the template that made it (decimal alignment groups)
        self.keep: list[bool] = []
        self.block_index = 0
        self.columns = self._columns()

    def problem(self, message: str, key: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.where, message, key=f"id {self.shell.id}.{key}"))

    def text(self, template: str, key: str, **more) -> str:
        return render_text(template, self.context, f"{self.where}, id {self.shell.id}.{key}", **more)

    # columns and header -------------------------------------------------------------------------
    def _columns(self) -> list[_Column]:
        out = []
        for i, spec in enumerate(self.shell.columns):
            levels = list(spec.levels) if spec.levels is not None else [
                lv for lv in self.index.group_levels(spec.group or "") if lv != TOTAL]
            if not levels:
                self.problem(f"group {spec.group} has no levels in the ARD", f"columns[{i}]")
            template = parse_cell(spec.cell) if spec.cell else None
            for lv in levels:  # label and span may use the level and its parts (nested "Placebo | 3": path)
                names = {"level": lv, "path": lv.split(LEVEL_PATH_SEPARATOR)}
                span = self.text(spec.span, f"columns[{i}].span", **names) if spec.span else None
                out.append(_Column(spec.group, lv, self.text(spec.label, f"columns[{i}].label", **names), span,
                                   spec.show_n, template))
        return out

    def header(self) -> tuple[tuple[HeaderCell, ...], ...]:
        rows: list[tuple[HeaderCell, ...]] = []
        if any(c.span for c in self.columns):
            spans = [HeaderCell("")]
            for col in self.columns:
                last = spans[-1]
                if col.span and len(spans) > 1 and last.text == col.span:
                    spans[-1] = HeaderCell(col.span, last.span + 1, underline=True)
                else:
                    spans.append(HeaderCell(col.span or "", 1, underline=bool(col.span)))
            rows.append(tuple(spans))
        labels = [HeaderCell(self.shell.stub_header)]
        n_spec = self.shell.header_n
        for col in self.columns:
            text = col.label
            if col.show_n and n_spec is not None:
                stats = self.index.cell(col.group, col.level, n_spec.variable, "")
                template = parse_cell(n_spec.text)
                if stats is None or not set(template.stats) <= set(stats):
                    self.problem(f"column {col.name}: header N needs stat(s) {', '.join(template.stats)} of "
                                 f"variable {n_spec.variable} (variable_level empty) in the ARD", "header_n")
                else:
                    text += "\n" + template.fill(stats, zero=None)
            labels.append(HeaderCell(text))
        rows.append(tuple(labels))
        return tuple(rows)

    # body ---------------------------------------------------------------------------------------
    def add(self, label: str, indent: int, cells: list[str] | None = None, templates: list[str] | None = None,
            keep: bool = False) -> None:
        # a heading row is kept with its first line, a statistic line with the next of its set
        self.keep.append(keep or (cells is None and label != ""))
        self.labels.append(label)
        self.indents.append(indent)
        self.cells.append(cells if cells is not None else [""] * len(self.columns))
        self.templates.append(templates if templates is not None else [""] * len(self.columns))

    def template_texts(self, template: CellTemplate | None) -> list[str]:
        """Decimal alignment groups of a row's cells: the template within the current row block."""
        return [f"{self.block_index}:{(col.cell or template).text}" if (col.cell or template) else ""
                for col in self.columns]

    def cells_of(self, variable: str, var_level: str, template: CellTemplate | None, key: str,
                 blank: str | None = None) -> list[str]:
        """The row's cells; with `blank` (the block's absent_text) a column lacking the record or the
        template's statistics prints it: a comparison's row in the reference arm's column."""
        out, absent = [], 0
        for col in self.columns:
            cell_template = col.cell or template
            stats = self.index.cell(col.group, col.level, variable, var_level)
            if blank is not None and (stats is None or not set(cell_template.stats) <= set(stats)):
                out.append(blank)
                continue
            if stats is None:
                absent += 1
                out.append(self.shell.absent_text or "")
                continue
            lacking = [s for s in cell_template.stats if s not in stats]
            if lacking:
                self.problem(f"stat {', '.join(repr(s) for s in lacking)} of variable {variable}={var_level!r} "
                             f"is not in the ARD for column {col.name} (present: {', '.join(sorted(stats))})", key)
                out.append("")
                continue
            out.append(cell_template.fill(stats, self.shell.missing_text, self.shell.zero_text))
        if absent == len(self.columns):
            self.problem(f"variable {variable}={var_level!r} is not in the ARD for any column"
                         + ("" if self.index.has_variable(variable) else f" (no variable {variable} at all)"), key)
        elif absent and self.shell.absent_text is None:
            missing = [c.name for c in self.columns if self.index.cell(c.group, c.level, variable, var_level) is None]
            self.problem(f"variable {variable}={var_level!r} is not in the ARD for column(s) {', '.join(missing)} "
                         "(give the shell an absent_text to allow empty cells)", key)
        return out

    def levels(self, block: RowBlock, key: str, variable: str, under: str | None = None) -> list[tuple[str, str]]:
        """(variable_level, label) pairs of a block, in display order."""
        if block.levels is None:
            return [(block.level, block.label or "")]
        if block.levels != "ard":
            return [(lv.level, lv.label if lv.label is not None else lv.level) for lv in block.levels]
        found = [lv for lv in self.index.levels(variable) if lv != ""]  # "" holds the variable's own stats
        if under is not None:
            prefix = under + LEVEL_PATH_SEPARATOR
            found = [lv for lv in found if lv.startswith(prefix)]
        elif not found and not self._analysed(variable):
            # A variable the analysis names has no levels when its dataset has no records (a study
            # without adverse events): its block prints no rows. Any other is a shell error.
            self.problem(f"variable {variable} is not in the ARD", key)
        ordered = self._sorted(block, variable, found, key)
        shown = (lv.split(LEVEL_PATH_SEPARATOR, 1)[1] if under is not None else lv for lv in ordered)
        return [(lv, self.text(block.level_label, f"{key}.level_label", level=text))
                for lv, text in zip(ordered, shown)]

    def _analysed(self, variable: str) -> bool:
        """Whether the shell's analysis parameters name `variable` (e.g. in an events hierarchy)."""
        def names(value) -> set[str]:
            if isinstance(value, str):
                return {value}
            if isinstance(value, dict):
                return {n for v in value.values() for n in names(v)}
            if isinstance(value, (list, tuple)):
                return {n for v in value for n in names(v)}
            return set()
        analysis = self.shell.analysis
        return analysis is not None and variable in names(analysis.params)

    def _sorted(self, block: RowBlock, variable: str, levels: list[str], key: str) -> list[str]:
        if block.sort == "ard":
            return levels
        alpha = sorted(levels, key=lambda lv: (lv.casefold(), lv))
        if block.sort == "alpha":
            return alpha
        column = next((c for c in self.columns if c.level == block.sort_column), None)
        if column is None:
            self.problem(f"sort_column {block.sort_column!r} is not a column level of this table", key)
            return alpha
        counts = {}
        for lv in alpha:
            stats = self.index.cell(column.group, column.level, variable, lv) or {}
            if block.sort_stat not in stats:
                self.problem(f"sorting needs stat {block.sort_stat!r} of variable {variable}={lv!r} in column "
                             f"{column.name}", key)
            counts[lv] = stats.get(block.sort_stat, 0.0)
        return sorted(alpha, key=lambda lv: -np.nan_to_num(counts[lv]))  # stable: ties stay alphabetical

    def block(self, i: int, block: RowBlock) -> None:
        key = f"rows[{i}]"
        self.block_index = i
        label = self.text(block.label, f"{key}.label") if block.label else ""
        simple = block.levels is None and block.stats is None
        row_template = parse_cell(block.cell) if block.cell else None
        if simple:
            self.add(label, 0, self.cells_of(block.variable, block.level, row_template, key, block.absent_text),
                     self.template_texts(row_template))
        else:
            base = 0
            if label:
                self.add(label, 0)
                base = 1
            levels = self.levels(block, key, block.variable)
            if not levels and block.empty_text is not None:  # e.g. a study without serious TEAEs
                self.add(self.text(block.empty_text, f"{key}.empty_text"), base, [""] * len(self.columns))
            for level, level_label in levels:
                if block.stats is None:
                    self.add(level_label, base,
                             self.cells_of(block.variable, level, row_template, key, block.absent_text),
                             self.template_texts(row_template))
                else:
                    depth = base
                    if block.levels is not None:
                        self.add(level_label, base)
                        depth = base + 1
                    for j, line in enumerate(block.stats):
                        line_template = parse_cell(line.cell) if line.cell else None
                        self.add(self.text(line.label, f"{key}.stats[{j}].label"), depth,
                                 self.cells_of(block.variable, level, line_template, f"{key}.stats[{j}]",
                                               block.absent_text),
                                 self.template_texts(line_template), keep=j < len(block.stats) - 1)
                if block.child:
                    for child_level, child_label in self.levels(block, key, block.child, under=level):
                        self.add(child_label, base + 1, self.cells_of(block.child, child_level, row_template, key),
                                 self.template_texts(row_template))
            if block.child:
                parents = set(self.index.levels(block.variable))
                orphans = [lv for lv in self.index.levels(block.child)
                           if lv.split(LEVEL_PATH_SEPARATOR, 1)[0] not in parents]
                if orphans:
                    self.problem(f"levels of {block.child} without a {block.variable} row (expected "
                                 f"'<{block.variable} level>{LEVEL_PATH_SEPARATOR}<{block.child} level>'): "
                                 f"{', '.join(repr(o) for o in orphans[:5])}", key)
        if block.blank_after:
            self.add("", 0)


def render_table(shell: TableShell, ard: pd.DataFrame, context: TlfContext) -> Table:
    """Draw a table shell from its ARD; InputError lists every mismatch between the two."""
    where = f"ARD of table {shell.id} ({shell.file})"
    ard = normalize_ard(ard, where)
    others = sorted(set(ard["output"]) - {shell.id, ""})
    if others:
        raise InputError(f"ARD of table {shell.id} holds other outputs",
                         [Problem(where, f"output column has {', '.join(others)}; expected {shell.id}")])
    builder = _Builder(shell, ArdIndex(ard, where), context)
    header = builder.header()
    for i, block in enumerate(shell.rows):
        builder.block(i, block)
    if builder.problems:
        raise InputError(f"Table {shell.id} ({shell.file}) cannot be drawn from its ARD", builder.problems)
    while builder.labels and builder.labels[-1] == "" and not any(builder.cells[-1]):
        for part in (builder.labels, builder.indents, builder.cells, builder.keep, builder.templates):
            part.pop()
    return _grid(header, builder)


def _grid(header: tuple[tuple[HeaderCell, ...], ...], builder: _Builder) -> Table:
    n = len(builder.columns)
    names = [f"c{j + 1}" for j in range(n)]
    cells = pd.DataFrame(builder.cells, columns=names, dtype=object) if builder.cells else \
        pd.DataFrame(columns=names, dtype=object)
    templates = pd.DataFrame(builder.templates, columns=names, dtype=object) if builder.templates else cells
    pad_left = np.zeros((len(cells), n + 1), dtype=int)
    pad_right = np.zeros((len(cells), n + 1), dtype=int)
    body = pd.DataFrame({"c0": builder.labels}, dtype=object)
    for j, name in enumerate(names, start=1):
        texts, pad_left[:, j], pad_right[:, j] = decimal_align(cells[name].astype(str).tolist(),
                                                               templates[name].astype(str).tolist())
        body[name] = texts
    header = _unbroken_hyphens(header)
    indent = np.asarray(builder.indents, dtype=int)
    labels = pd.Series(builder.labels, dtype=object).astype(str)
    stub_lines = labels.str.len() + 2 * indent
    stub_header = header[-1][0].text.split("\n")
    natural = [float(min(max([*stub_lines, *(len(t) for t in stub_header), 8]), 60))]
    minimum = [float(min(natural[0], STUB_MIN_WIDTH))]  # row labels wrap badly: keep them wide
    for j in range(1, n + 1):
        block = int((pad_left[:, j] + body[f"c{j}"].str.len().to_numpy() + pad_right[:, j]).max()) if len(body) else 0
        header_text = [header[r][k].text for r in range(len(header)) for k in _covering(header[r], j)
                       if header[r][k].span == 1]
        words = [len(w) for t in header_text for w in t.split()]
        wrapped = [_width_for_lines(line, HEADER_LINES) for t in header_text for line in t.split("\n")]
        # a cell such as "25 (69.4)" never wraps; a header line wraps into at most HEADER_LINES lines
        natural.append(float(max(block, *wrapped, 4) + COLUMN_GAP))
        minimum.append(float(max(block, *words, 4) + COLUMN_GAP))
    return Table(header=header, body=body.astype(str), indent=indent, widths=tuple(natural),
                 min_widths=tuple(minimum), align=("left",) + ("center",) * n,
                 keep_with_next=np.asarray(builder.keep, dtype=bool), pad_left=pad_left, pad_right=pad_right,
                 stretch=(0.0,) + (1.0,) * n)


def _unbroken_hyphens(header: tuple[tuple[HeaderCell, ...], ...]) -> tuple[tuple[HeaderCell, ...], ...]:
    """Hyphens inside a word of a column header as non-breaking hyphens: "5-15 ug/m2/day" must not
    wrap after "5-"."""
    return tuple(tuple(dataclasses.replace(c, text=_HYPHEN_IN_WORD.sub("\u2011", c.text)) for c in row)
                 for row in header)


def _width_for_lines(line: str, lines: int) -> int:
    """The narrowest width (characters) at which `line` wraps at spaces into at most `lines` lines."""
    words = line.split()
    if not words:
        return 0
    width = max(len(w) for w in words)
    while True:
        count, used = 1, -1
        for w in words:
            if used + 1 + len(w) > width:
                count, used = count + 1, len(w)
            else:
                used += 1 + len(w)
        if count <= lines:
            return width
        width += 1


def _covering(row: tuple[HeaderCell, ...], column: int) -> list[int]:
    """Index of the header cell of `row` that covers grid column `column`."""
    start = 0
    for k, cell in enumerate(row):
        if start <= column < start + cell.span:
            return [k]
        start += cell.span
    return []
