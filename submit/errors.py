"""Errors that the CLI turns into exit codes, each carrying every problem found at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in an input: where it is and what is wrong."""

    file: str
    message: str
    row: int | None = None  # 1-based data row (header excluded); None when not row-specific
    column: str | None = None
    key: str | None = None  # dotted key for configuration files
    line: int | None = None  # 1-based line of a text file as an editor shows it (a CSV header is line 1)

    def __str__(self) -> str:
        where = [self.file]
        if self.key:
            where.append(f"key {self.key}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class SubmitError(Exception):
    """Base class; `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, summary: str, problems: list[Problem] | None = None):
        self.summary = summary
        self.problems = list(problems or [])
        super().__init__(summary)

    def __str__(self) -> str:
        # Rendered on demand: an input with millions of bad cells must not build millions of lines.
        return self.render(limit=1000)

    def render(self, limit: int | None = None) -> str:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [self.summary, *(f"  {p}" for p in shown)]
        if len(shown) < len(self.problems):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)


class InputError(SubmitError):
    """Usage or input error: a configuration, spec or raw file is not as documented (exit 2)."""

    exit_code = 2


class DataCheckError(SubmitError):
    """The data failed a check (exit 1)."""

    exit_code = 1
