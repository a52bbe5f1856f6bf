"""What the XPT writer is told (dataset and variable metadata) and what its checks answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FDA_MAX_BYTES = 5_000_000_000  # FDA TCG: datasets over 5 GB are split; decimal GB, the stricter reading


@dataclass(frozen=True)
class XptVariable:
    """One variable. `length` is in bytes: None for a character variable means the longest value
    (trailing blanks excluded, at least 1); numerics are always stored in 8 bytes. `format` and
    `informat` are SAS names as SAS prints them: "DATE9.", "E8601DA.", "8.2", "$CHAR20."."""

    name: str
    label: str
    type: Literal["char", "num"]
    length: int | None = None
    format: str = ""
    informat: str = ""


@dataclass(frozen=True)
class XptDataset:
    """One dataset: variables in the order they are written, `keys` the stable sort order of rows."""

    name: str
    label: str
    variables: tuple[XptVariable, ...]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    """One broken rule. `row` is the 1-based position of the row in the DataFrame as given (before
    sorting by keys); `value` is the offending value, for value rules."""

    dataset: str
    variable: str | None
    code: str  # short rule name, e.g. "name", "label", "ascii", "control", "length", "range", "type"
    message: str
    row: int | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.dataset + (f".{self.variable}" if self.variable else "")
        if self.row is not None:
            where += f" row {self.row}"
        value = "" if self.value is None else f" (value {_short(self.value)})"
        return f"{where}: {self.message}{value}"


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
