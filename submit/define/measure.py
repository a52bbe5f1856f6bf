"""What define.xml says about the data where the spec leaves it to the data: the byte length of
text, the digits of numbers, and the rows a where clause selects. The generator measures the
frames it is given; the consistency check measures the XPT files, with the same functions.

Numbers: define.xml's Length of an integer or float is its count of digits (the sign and the
decimal point not counted) and SignificantDigits of a float the digits after the point, as in the
CDISC examples (AGE integer Length 2); the SAS storage width (always 8) says nothing to a reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from submit.spec.model import DATA_TYPES
from submit.xpt.columns import numeric_values
from submit.xpt.formats import parse_format, temporal_kind

NUMERIC_TYPES = ("integer", "float")
# ISO 8601 text types: define.xml gives them no Length (Define-XML 2.1 asks a Length of text,
# integer and float only).
ISO8601_TYPES = tuple(t for t in DATA_TYPES if t not in ("text", *NUMERIC_TYPES))
MAX_DECIMALS = 15
_RTOL = 1e-12  # a value "has d decimals" when rounding to d changes it by less than this (relative):
# far above the error of the IBM doubles of an XPT file, far below any digit a study records.


@dataclass(frozen=True)
class Digits:
    integer: int  # digits before the decimal point (at least 1)
    decimals: int  # digits after it

    @property
    def length(self) -> int:
        return self.integer + self.decimals


def text_length(series: pd.Series) -> int:
    """Longest value in bytes, trailing blanks excluded, at least 1: what the XPT writer stores."""
    values = pa.array(series.astype(object).where(series.notna(), None), type=pa.large_string(), from_pandas=True)
    longest = pc.max(pc.binary_length(pc.utf8_rtrim(values, characters=" "))).as_py()
    return max(1, longest or 0)


def digits(values: np.ndarray) -> Digits:
    """Digits of the finite values: the longest integer part and the most decimals any value needs."""
    v = np.unique(np.abs(np.asarray(values, dtype="float64")))
    v = v[np.isfinite(v)]
    if not v.size:
        return Digits(1, 0)
    integer = len(str(int(v.max())))
    tolerance = _RTOL * np.maximum(v, 1.0)
    decimals = next((d for d in range(MAX_DECIMALS + 1) if np.all(np.abs(np.round(v, d) - v) <= tolerance)),
                    MAX_DECIMALS)
    return Digits(integer, decimals)


def sas_numbers(series: pd.Series, display_format: str = "") -> np.ndarray:
    """A numeric column as SAS numbers (dates as days since 1960 when the format is a date format),
    as the XPT writer converts it; NaN where it cannot."""
    values, _ = numeric_values(series, temporal_kind(parse_format(display_format)) if display_format else None)
    return np.full(len(series), np.nan) if values is None else values


def text_values(series: pd.Series) -> pd.Series:
    """Text as XPT stores it: missing as "", trailing blanks dropped (Arrow string operations)."""
    return series.astype(str).fillna("").str.rstrip(" ")


def numbers_in_text(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Numbers written as text (e.g. SUPP-- QVAL of a float QNAM): (values, the non-empty texts that
    are not numbers)."""
    values = pd.to_numeric(text.where(text != "", None), errors="coerce")
    return values.to_numpy(dtype="float64", na_value=np.nan), text[(text != "") & values.isna()]


def where_mask(df: pd.DataFrame, conditions: Iterable[tuple[str, str, tuple[str, ...]]]) -> np.ndarray:
    """Rows meeting every (variable, comparator, values) condition; a missing variable selects none.
    Numeric variables compare as numbers, character ones as text (trailing blanks dropped)."""
    return Selector(df).mask(conditions)


class Selector:
    """`where_mask` over one frame, for many where clauses: each text column is cleaned and
    factorized once (its distinct values compared, then mapped back to the rows), not per clause."""

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self._text: dict[str, tuple[np.ndarray, pd.Series]] = {}  # variable -> (codes, distinct text + "")

    def mask(self, conditions: Iterable[tuple[str, str, tuple[str, ...]]]) -> np.ndarray:
        mask = np.ones(len(self.df), dtype=bool)
        for variable, comparator, values in conditions:
            if variable not in self.df.columns:
                return np.zeros(len(self.df), dtype=bool)
            column = self.df[variable]
            if pd.api.types.is_numeric_dtype(column.dtype):
                numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
                targets = numbers.dropna().tolist()  # a value that is no number matches nothing (isin matches NaN)
                mask &= _hit(column, comparator, targets)
            else:
                codes, text = self._distinct(variable)
                mask &= _hit(text, comparator, list(values))[codes]
        return mask

    def occurs(self, variable: str, value: str) -> bool:
        """Does any row have `variable` EQ `value`?"""
        return bool(self.mask([(variable, "EQ", (value,))]).any())

    def distinct(self, variable: str, mask: np.ndarray | None = None) -> pd.Series:
        """The distinct values of `variable` (on the rows of `mask`): numbers as they are, text as
        `text_values` gives it. What the checks of values need: lengths, digits and codelists
        depend on the set of values alone."""
        column = self.df[variable]
        if pd.api.types.is_numeric_dtype(column.dtype):
            return (column if mask is None else column[mask]).drop_duplicates()
        codes, text = self._distinct(variable)
        return text.iloc[np.unique(codes if mask is None else codes[mask])]  # code -1 (missing): the last, ""

    def _distinct(self, variable: str) -> tuple[np.ndarray, pd.Series]:
        if variable not in self._text:
            codes, distinct = pd.factorize(self.df[variable], use_na_sentinel=True)
            text = np.append(text_values(pd.Series(distinct)).to_numpy(dtype=object), "")  # code -1 (missing): ""
            self._text[variable] = codes, pd.Series(text, dtype=object)
        return self._text[variable]


def _hit(column: pd.Series, comparator: str, targets: list) -> np.ndarray:
    if comparator in ("EQ", "IN"):
        hit = column.isin(targets)
    elif comparator in ("NE", "NOTIN"):
        hit = ~column.isin(targets)
    else:
        if not targets:
            return np.zeros(len(column), dtype=bool)
        target = targets[0]
        hit = {"LT": column < target, "LE": column <= target, "GT": column > target,
               "GE": column >= target}[comparator]
    return np.asarray(hit, dtype=bool)
