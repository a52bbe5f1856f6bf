"""Displayed numbers: SAS-style rounding and the cell templates of the shells.

A cell template is text with `{stat:format}` fields, e.g. `"{n} ({p:pct1})"` or
`"{ci_low:pct1}, {ci_high:pct1}"`. The field name is an ARD `stat_name`; the format is one of

| format | shows | example (value -> text) |
| --- | --- | --- |
| `d0` ... `d4` | the value with that many decimals | `d1`: 9.65 -> `9.7` |
| `pct0` ... `pct2` | a proportion (0-1) as a percent with that many decimals | `pct1`: 0.69444 -> `69.4` |
| `sig2` ... `sig4` | that many significant digits (integer digits kept) | `sig3`: 0.023456 -> `0.0235` |
| `pvalue3`, `pvalue4` | a p-value with that many decimals, bounded as SAS's PVALUE format | `pvalue3`: 0.00004 -> `<0.001`, 0.9996 -> `>0.999` |

A count shown with its percentage (a template with both `{n}` and `{p...}`) prints "0" alone when
the count is 0. Counts (`COUNT_STATS`) may omit the format (then `d0`); any other statistic must name one, so that
a shell never shows a rate or a median rounded to an integer by accident. Rounding is half away
from zero, as SAS's ROUND does, on the unrounded ARD value.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from submit.stats.rounding import sas_round

COUNT_STATS = frozenset({"n", "N", "events", "censored", "n_risk", "nmiss", "geo_n"})
_FORMAT = re.compile(r"^(d|pct|sig|pvalue)(\d)$")
_MAX_DIGITS = {"d": 4, "pct": 2, "sig": 4, "pvalue": 4}
_MIN_DIGITS = {"d": 0, "pct": 0, "sig": 2, "pvalue": 3}
KNOWN_FORMATS = "d0-d4, pct0-pct2, sig2-sig4, pvalue3-pvalue4"


def _magnitude(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    return np.where(np.isfinite(magnitude), magnitude, 0).astype(int)


def _decimals(kind: str, digits: int, x: np.ndarray) -> np.ndarray:
    if kind != "sig":
        return np.full(x.shape, digits, dtype=int)
    decimals = np.clip(digits - 1 - _magnitude(x), 0, 12)
    # 9.996 to 3 digits rounds up to 10.0, a magnitude more: one decimal fewer keeps 3 digits.
    rounded = np.array(x, dtype=float)
    for d in np.unique(decimals):
        pick = decimals == d
        rounded[pick] = sas_round(x[pick], int(d))
    grew = (_magnitude(rounded) > _magnitude(x)) & (decimals > 0)
    return decimals - grew


def format_numbers(values, fmt: str, missing: str = "NE") -> np.ndarray:
    """Text of each value in `fmt`; NaN shows as `missing`. Vectorized over the values."""
    kind, digits = parse_format(fmt)
    if kind == "pvalue":
        return np.asarray([format_number(v, fmt, missing) for v in np.asarray(values, dtype=float)], dtype=object)
    x = np.asarray(values, dtype=float)
    if kind == "pct":
        x = x * 100.0
    decimals = _decimals(kind, digits, x)
    out = np.full(x.shape, missing, dtype=object)
    finite = np.isfinite(x)
    for d in np.unique(decimals[finite]):  # one pass per number of decimals, not per value
        pick = finite & (decimals == d)
        rounded = sas_round(x[pick], int(d)) + 0.0  # + 0.0 turns -0.0 into 0.0
        out[pick] = np.char.mod(f"%.{int(d)}f", rounded).astype(object)
    return out


def format_number(value: float, fmt: str, missing: str = "NE") -> str:
    """`format_numbers` for one value (table cells), without the array machinery for d and pct."""
    kind, digits = parse_format(fmt)
    x = float(value)
    if not math.isfinite(x):
        return missing
    if kind == "sig":
        return str(format_numbers([x], fmt, missing)[0])
    if kind == "pvalue":  # the smallest and largest values that print are 10^-digits and 1 - 10^-digits
        bound = 10.0 ** -digits
        if x < bound:
            return f"<{bound:.{digits}f}"
        if x > 1 - bound:
            return f">{1 - bound:.{digits}f}"
    if kind == "pct":
        x *= 100.0
    return f"{sas_round(x, digits) + 0.0:.{digits}f}"


@lru_cache(maxsize=64)
def parse_format(fmt: str) -> tuple[str, int]:
    match = _FORMAT.match(fmt)
    if not match:
        raise ValueError(f"unknown number format {fmt!r} (known: {KNOWN_FORMATS})")
    kind, digits = match.group(1), int(match.group(2))
    if not _MIN_DIGITS[kind] <= digits <= _MAX_DIGITS[kind]:
        raise ValueError(f"unknown number format {fmt!r} (known: {KNOWN_FORMATS})")
    return kind, digits


@dataclass(frozen=True)
class CellTemplate:
    """A parsed cell template: literal text and (stat, format) fields, in order."""

    text: str
    parts: tuple[tuple[str, str | None, str | None], ...]  # (literal, stat or None, format)

    @property
    def stats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(stat for _, stat, _ in self.parts if stat))

    def fill(self, values: dict[str, float], missing: str = "NE", zero: str | None = "0") -> str:
        """The cell text; `values` must hold every stat of the template (KeyError otherwise).

        A count shown with its percentage prints `zero` alone when the count is 0 ("0", not
        "0 (0.0)", the usual shell convention) unless `zero` is None."""
        if zero is not None and "n" in values and "p" in self.stats and "n" in self.stats and values["n"] == 0:
            return zero
        out = []
        for literal, stat, fmt in self.parts:
            out.append(literal)
            if stat is not None:
                out.append(format_number(values[stat], fmt or "d0", missing))
        return "".join(out)


@lru_cache(maxsize=1024)
def parse_cell(template: str) -> CellTemplate:
    """Parse and check a cell template; ValueError says what is wrong."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"cell template {template!r}: {exc}") from None
    parts = []
    for literal, field, spec, conversion in pieces:
        if field is None:
            parts.append((literal, None, None))
            continue
        if conversion or not field.isidentifier():
            raise ValueError(f"cell template {template!r}: field {{{field}}} must be a plain stat name")
        if spec:
            try:
                parse_format(spec)
            except ValueError as exc:
                raise ValueError(f"cell template {template!r}: {exc}") from None
        elif field not in COUNT_STATS:
            raise ValueError(f"cell template {template!r}: {{{field}}} needs a format such as "
                             f"{{{field}:d1}} (only counts {sorted(COUNT_STATS)} default to integers)")
        parts.append((literal, field, spec or None))
    return CellTemplate(template, tuple(parts))


_NUMBER_TEXT = re.compile(r"(-?\d+(?:\.\d+)?)")


def decimal_align(texts: list[str], groups: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Decimal alignment of one column of centred cells, for a monospaced font.

    Within cells of one group (the cell template that made them) the second and later numbers are
    padded with spaces to the widest integer part of that field, so that "1 ( 5.6)" stands over
    "12 (66.7)" and the ")" of every row lines up. Across the whole column the first number of
    every cell is aligned on its decimal point (or the end of an integer) by room on the left,
    and every cell is given room on the right up to the widest one: centred, all cells then take
    the same width and line up. Cells without a number (blank, "NE", text) are centred in that
    width. Returns (texts, room left, room right), the room in characters."""
    pieces = [_NUMBER_TEXT.split(text) for text in texts]  # literal, number, literal, ..., literal
    widths: dict[tuple[str, int, int], int] = {}
    for parts, group in zip(pieces, groups):
        fields = len(parts) // 2
        for k in range(1, fields):
            key = (group, fields, k)
            widths[key] = max(widths.get(key, 0), len(parts[2 * k + 1].split(".")[0]))
    out, anchors = [], []
    for parts, group in zip(pieces, groups):
        fields = len(parts) // 2
        for k in range(1, fields):
            number = parts[2 * k + 1]
            parts[2 * k + 1] = number.rjust(widths[(group, fields, k)] + len(number) - len(number.split(".")[0]))
        out.append("".join(parts))
        anchors.append(len(parts[0]) + len(parts[1].split(".")[0]) if fields else -1)
    anchor = np.asarray(anchors, dtype=int)
    numbered = anchor >= 0
    left = np.where(numbered, (anchor[numbered].max() if numbered.any() else 0) - anchor, 0)
    length = np.asarray([len(t) for t in out], dtype=int)
    width = int((left + length).max()) if len(out) else 0
    text_only = ~numbered & (length > 0)
    left = np.where(text_only, (width - length) // 2, left)
    right = np.where(length > 0, width - left - length, 0)
    return out, left.astype(int), right.astype(int)
