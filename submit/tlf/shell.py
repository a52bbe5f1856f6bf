"""Output shells (`specs/<study>/tlf/*.yaml`): what each table, listing and figure shows, declared as data.

Each file holds `outputs:`, a list of shells. The schema is spelled out with an example per kind
in the README beside the shells; in short:

    - id: "<CSR number>"              # unique; the ARD is ard/<id>.csv
      file: t_<name>                  # file stem of the document
      kind: table                     # table | listing | figure
      title: ["Response Rate Within 2 Cycles"]    # Jinja2 lines
      population: {label: All treated subjects, flag: SAFFL}
      datasets: [ADSL, ADRS]
      analysis: {kind: response_rate, paramcd: <PARAMCD>}   # what computes the result, with its parameters
      columns: [...]                  # table: how ARD groups become columns
      rows: [...]                     # table: how ARD variables and stats become rows
      footnotes: [...]                # Jinja2 lines

Loading checks the whole set and reports every problem at once (file, output id and key):
unknown keys, wrong types, bad cell templates and formats, Jinja2 syntax, duplicate ids or files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from jinja2 import TemplateSyntaxError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from submit.errors import InputError, Problem
from submit.tlf.formatting import parse_cell, parse_format
from submit.tlf.settings import SETTINGS_FILE
from submit.tlf.text import jinja_env
from submit.yaml_load import load_yaml

TOTAL = "Total"  # group_level of the overall column (DESIGN.md)
LEVEL_PATH_SEPARATOR = " | "  # child levels of a nested block are "parent | child" (SOC | PT)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Population(_Frozen):
    label: str  # printed under the title, e.g. "All treated subjects"
    flag: str | None = None  # the ADaM flag selecting it, e.g. SAFFL (index and source line)


class ColumnSet(_Frozen):
    """One or more columns: the ARD rows of `group` at each of `levels`.

    `levels` omitted: every level of `group` in the ARD except Total, in order of appearance.
    `group` omitted: match on group_level alone (the overall column: `{level: Total}`)."""

    group: str | None = None
    levels: tuple[str, ...] | None = None
    label: str = "{{ level }}"  # Jinja2: `level`, its parts `path` ("Placebo | 3" -> ["Placebo", "3"]), the study
    span: str | None = None  # spanning header (Jinja2 as label); adjacent columns with the same text share it
    show_n: bool = True  # "(N=xx)" under the label, from the header-N statistic
    cell: str | None = None  # a cell template for the whole column (statistics-as-columns layouts)

    @model_validator(mode="before")
    @classmethod
    def _single_level(cls, data):
        if isinstance(data, dict) and "level" in data:
            if "levels" in data:
                raise ValueError("give either level or levels")
            data = {**data, "levels": [data["level"]]}
            del data["level"]
        return data

    @model_validator(mode="after")
    def _needs_levels(self) -> "ColumnSet":
        if self.group is None and self.levels is None:
            raise ValueError("a column without group must name its level(s), e.g. {level: Total}")
        return self


class StatLine(_Frozen):
    label: str
    cell: str


class Level(_Frozen):
    level: str
    label: str | None = None  # default: the level itself


class RowBlock(_Frozen):
    """Rows read from the ARD records of one `variable`.

    * `cell` alone: one row, `label` and the cell (variable_level = `level`, default empty).
    * `stats`: a row with `label`, then one indented row per statistic line.
    * `levels` (explicit list, or `ard` for the ARD's levels) with `cell`: one row per level;
      with `stats`: per level a sub-heading and its statistic lines.
    * `child` (with `levels: ard` and `cell`): nested rows, e.g. SOC then its PTs; the child
      variable's levels are "<parent level> | <child level>".
    `sort` orders levels taken from the ARD: `ard` (as they appear), `alpha`, or `frequency`
    (descending `sort_stat` in the column whose group_level is `sort_column`, ties alphabetical).
    """

    label: str | None = None
    variable: str
    level: str = ""
    levels: tuple[Level, ...] | Literal["ard"] | None = None
    level_label: str = "{{ level }}"  # Jinja2 label of levels taken from the ARD
    child: str | None = None
    stats: tuple[StatLine, ...] | None = None
    cell: str | None = None
    sort: Literal["ard", "alpha", "frequency"] = "ard"
    sort_stat: str = "n"
    sort_column: str = TOTAL
    blank_after: bool = True  # an empty row after the block
    # printed in a column that lacks the block's statistics (e.g. "" for a comparison with the
    # reference arm in the reference arm's own column); None: that is an error
    absent_text: str | None = None
    # a row printed where a block of levels taken from the ARD has none (a dataset without records),
    # e.g. "No subjects with a serious TEAE"; None: the block prints no rows
    empty_text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _level_strings(cls, data):
        if isinstance(data, dict) and isinstance(data.get("levels"), list):
            data = {**data, "levels": [lv if isinstance(lv, dict) else {"level": str(lv)} for lv in data["levels"]]}
        return data

    @model_validator(mode="after")
    def _shape(self) -> "RowBlock":
        if self.child is not None and (self.levels != "ard" or self.cell is None):
            raise ValueError("a nested block (child) needs levels: ard and a cell")
        if self.level and self.levels is not None:
            raise ValueError("give either level or levels")
        if self.sort != "ard" and self.levels != "ard":
            raise ValueError("sort applies to levels taken from the ARD (levels: ard)")
        return self


class AnalysisRef(BaseModel):
    """The analysis computing a shell's result: `kind` names a function of the closed vocabulary of
    `submit.tlf.analysis.registry`; every other key is a parameter of it (checked there against the
    function's signature, before anything is computed)."""

    model_config = ConfigDict(frozen=True, extra="allow")
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

    @property
    def params(self) -> dict:
        return dict(self.model_extra or {})


class HeaderN(_Frozen):
    """Where the "(N=xx)" of the column headers comes from."""

    variable: str = "BIGN"  # ARD variable (variable_level empty) holding each column's N
    text: str = "(N={N})"  # cell template of the stats of that record


class _ShellBase(_Frozen):
    id: Annotated[str, Field(pattern=r"^1[46](\.\d+)+$")]
    file: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: tuple[str, ...] = Field(min_length=1)
    population: Population
    datasets: tuple[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,7}$")], ...] = Field(min_length=1)
    footnotes: tuple[str, ...] = ()
    analysis: AnalysisRef | None = None  # None: a shell rendered from results computed elsewhere
    source: str | None = None  # the file the shell was read from (set by the loader)

    @property
    def kind_label(self) -> str:
        return self.kind.capitalize()  # type: ignore[attr-defined]


class TableShell(_ShellBase):
    kind: Literal["table"]
    columns: tuple[ColumnSet, ...] = Field(min_length=1)
    rows: tuple[RowBlock, ...] = Field(min_length=1)
    stub_header: str = ""  # header of the first (row label) column
    header_n: HeaderN | None = HeaderN()
    missing_text: str = "NE"  # a statistic that is NaN (not estimable)
    absent_text: str | None = None  # a cell with no ARD record at all; None: that is an error
    zero_text: str | None = "0"  # "{n} ({p})" cells with n = 0; None: print the template

    @model_validator(mode="after")
    def _one_cell_each(self) -> "TableShell":
        column_cells = any(c.cell for c in self.columns)
        if column_cells and not all(c.cell for c in self.columns):
            raise ValueError("either every column set has a cell template or none has")
        for block in self.rows:
            lines = [block.cell] if block.stats is None else [s.cell for s in block.stats]
            if column_cells and any(lines):
                raise ValueError(f"rows of {block.variable}: the columns carry the cell templates; "
                                 "rows must not")
            if not column_cells and not all(lines):
                raise ValueError(f"rows of {block.variable}: give a cell template (cell or stats)")
        return self


class ListingColumn(_Frozen):
    name: str  # column of the listing frame
    label: str
    format: str | None = None  # number format (d0-d4, sig2-sig4) for numeric columns
    width: float | None = None  # relative width; default from the content
    repeat: bool = True  # False: blank a value equal to the one in the row above (key columns)


class ListingShell(_ShellBase):
    kind: Literal["listing"]
    columns: tuple[ListingColumn, ...] = Field(min_length=1)
    sort_by: tuple[str, ...] = ()
    empty_text: str = "No records."


class KmFigureSpec(_Frozen):
    type: Literal["km"] = "km"
    x_label: str = "Months"
    y_label: str = "Survival probability"
    at_risk_times: tuple[float, ...] = Field(min_length=1)
    x_max: float | None = None
    show_median: bool = True
    ci_band: bool = False  # the pointwise 95% CI of each curve as a shaded band


class FigureShell(_ShellBase):
    kind: Literal["figure"]
    figure: KmFigureSpec


Shell = Annotated[Union[TableShell, ListingShell, FigureShell], Field(discriminator="kind")]
_SHELL = TypeAdapter(Shell)


def load_shells(folder: Path) -> tuple[TableShell | ListingShell | FigureShell, ...]:
    """Every shell of `folder/*.yaml` but settings.yaml (sorted by file name, then in file order), checked as a set."""
    problems: list[Problem] = []
    shells: list = []
    files = sorted(p for p in Path(folder).glob("*.yaml") if p.name != SETTINGS_FILE)
    if not files:
        raise InputError("No TLF shells", [Problem(str(folder), "no *.yaml shell files in this folder")])
    for path in files:
        shells.extend(_load_file(path, problems))
    for what, values in (("id", [s.id for s in shells]), ("file", [s.file for s in shells])):
        for value in sorted({v for v in values if values.count(v) > 1}):
            files_of = sorted({s.source for s in shells if getattr(s, what) == value})
            problems.append(Problem(", ".join(files_of), f"{what} {value!r} is used by more than one output"))
    if problems:
        raise InputError(f"TLF shells in {folder} are invalid", problems)
    return tuple(shells)


def _load_file(path: Path, problems: list[Problem]) -> list:
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(Problem(str(path), f"not valid YAML: {exc}"))
        return []
    raw = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        problems.append(Problem(str(path), "expected a mapping with a list `outputs`", key="outputs"))
        return []
    shells = []
    for index, item in enumerate(raw):  # item by item, so that one bad shell hides no other problem
        ident = item.get("id") if isinstance(item, dict) else None
        where = f"outputs[{index}] (id {ident})" if ident else f"outputs[{index}]"
        try:
            shell = _SHELL.validate_python(item)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(p) for p in err["loc"]]
                loc = loc[1:] if loc and loc[0] in ("table", "listing", "figure") else loc
                key = ".".join(loc)
                problems.append(Problem(str(path), f"{err['msg']} (got {_short(err.get('input'))})",
                                        key=f"{where}.{key}" if key else where))
            continue
        shell = shell.model_copy(update={"source": str(path)})
        problems.extend(check_shell_text(shell))
        shells.append(shell)
    return shells


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_shell_text(shell) -> list[Problem]:
    """Cell templates, number formats and Jinja2 syntax of one shell."""
    problems: list[Problem] = []
    where = shell.source or "shell"

    def bad(key: str, message: str) -> None:
        problems.append(Problem(where, message, key=f"id {shell.id}.{key}"))

    texts = [("title", t) for t in shell.title] + [("footnotes", f) for f in shell.footnotes]
    texts.append(("population.label", shell.population.label))
    cells: list[tuple[str, str]] = []
    if isinstance(shell, TableShell):
        for i, col in enumerate(shell.columns):
            texts.append((f"columns[{i}].label", col.label))
            if col.span:
                texts.append((f"columns[{i}].span", col.span))
            if col.cell:
                cells.append((f"columns[{i}].cell", col.cell))
        for i, block in enumerate(shell.rows):
            texts.append((f"rows[{i}].level_label", block.level_label))
            if block.empty_text:
                texts.append((f"rows[{i}].empty_text", block.empty_text))
            for name in ("label",):
                if getattr(block, name):
                    texts.append((f"rows[{i}].{name}", getattr(block, name)))
            if block.cell:
                cells.append((f"rows[{i}].cell", block.cell))
            for j, line in enumerate(block.stats or ()):
                cells.append((f"rows[{i}].stats[{j}].cell", line.cell))
        if shell.header_n is not None:
            cells.append(("header_n.text", shell.header_n.text))
    if isinstance(shell, ListingShell):
        for i, col in enumerate(shell.columns):
            if col.format:
                try:
                    parse_format(col.format)
                except ValueError as exc:
                    bad(f"columns[{i}].format", str(exc))
    for key, template in cells:
        try:
            parse_cell(template)
        except ValueError as exc:
            bad(key, str(exc))
    env = jinja_env()
    for key, text in texts:
        try:
            env.parse(text)
        except TemplateSyntaxError as exc:
            bad(key, f"Jinja2 syntax error: {exc.message}")
    return problems


def expected_stats(shell: TableShell) -> list[dict[str, str]]:
    """What a table shell reads from its ARD: one entry per (variable, variable_level, stats).

    `variable_level` is "*" where the levels come from the ARD; for the analysis writer."""
    out: list[dict[str, str]] = []
    column_stats = sorted({s for c in shell.columns if c.cell for s in parse_cell(c.cell).stats})

    def add(variable: str, level: str, templates: list[str | None], with_columns: bool = True) -> None:
        stats = {s for t in templates if t for s in parse_cell(t).stats}
        stats = sorted(stats | set(column_stats) if with_columns else stats)
        out.append({"variable": variable, "variable_level": level, "stats": ", ".join(stats)})

    if shell.header_n is not None and any(c.show_n for c in shell.columns):
        add(shell.header_n.variable, "", [shell.header_n.text], with_columns=False)
    for block in shell.rows:
        templates = [block.cell] if block.stats is None else [s.cell for s in block.stats]
        if block.levels is None:
            add(block.variable, block.level, templates)
        elif block.levels == "ard":
            add(block.variable, "*", templates)
            if block.child:
                add(block.child, f"*{LEVEL_PATH_SEPARATOR}*", templates)
        else:
            for lv in block.levels:
                add(block.variable, lv.level, templates)
    return out


def describe_columns(shell: TableShell) -> str:
    parts = []
    for col in shell.columns:
        group = col.group or "(any group)"
        levels = ", ".join(col.levels) if col.levels else "levels from the ARD"
        parts.append(f"{group}: {levels}")
    return "; ".join(parts)


def main(folder: str) -> None:  # pragma: no cover - a reading aid for analysis writers
    """Print what every shell of `folder` expects from its ARD or listing frame, and its analysis."""
    for shell in load_shells(Path(folder)):
        print(f"{shell.kind_label} {shell.id} ({shell.file}): {' / '.join(shell.title)}")
        if shell.analysis is not None:
            params = ", ".join(f"{k}={v!r}" for k, v in shell.analysis.params.items())
            print(f"  analysis: {shell.analysis.kind}({params})")
        if isinstance(shell, TableShell):
            print(f"  columns: {describe_columns(shell)}")
            for item in expected_stats(shell):
                print(f"  {item['variable']:<16} {item['variable_level']:<14} {item['stats']}")
        elif isinstance(shell, ListingShell):
            print(f"  frame columns: {', '.join(c.name for c in shell.columns)}")
        else:
            print("  Kaplan-Meier curves (submit.tlf.figure.KmCurve per group)")


if __name__ == "__main__":  # pragma: no cover
    import sys

    main(*sys.argv[1:])
