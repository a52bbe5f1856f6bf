"""One DataFrame column as the values an XPT file holds: float64 SAS numbers or ASCII text.

Numbers: any numeric dtype (nullable ones included; <NA> and NaN are SAS missing "."). Dates and
times may arrive either as SAS numbers already (days since 1960-01-01 for dates, seconds since
1960-01-01 00:00:00 for datetimes, seconds since midnight for times: taken as they are) or as
pandas/Python dates (datetime64, datetime.date, datetime.datetime; timedelta64 for times), converted
to that count by the variable's display format: a DATE9. variable gets days (the date part of a
datetime, as DATEPART does), DATETIME20. gets seconds. Such values without a date, datetime or time
format are refused: the format is what says whether a number counts days or seconds.

Text: str values (pandas "str"/string dtypes, object columns of str, categoricals of str); None
and NaN are blank, SAS's character missing. Trailing blanks are dropped, as SAS ignores them; lengths
are then counted in bytes of UTF-8. A column with no value at all (all NaN, as pandas reads an empty
CSV column) is a blank character column.

Functions return (values, problem): problem is None, or why the column cannot be converted at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "us")
_NUMERIC_OBJECTS = {"integer", "floating", "mixed-integer-float", "decimal"}
_DATE_OBJECTS = {"date", "datetime", "datetime64"}
_EXACT_INT = 2**53  # integers beyond this are not exact in a double
_TABLE_BYTES = 64 * 2**20  # pad the distinct values once when they take at most this


def numeric_values(series: pd.Series, kind: str | None) -> tuple[np.ndarray | None, str | None]:
    """float64 SAS numbers; `kind` is the temporal kind of the variable's format, if any."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return None, "holds a categorical; give numbers"
    if pd.api.types.is_bool_dtype(dtype):
        return None, "holds booleans; SAS has no boolean type, give 1/0 numbers"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _from_datetimes(series, kind)
    if pd.api.types.is_timedelta64_dtype(dtype):
        if kind != "time":
            return None, "holds durations (timedelta64) but its format is not a time format (TIME8., E8601TM.)"
        return series.to_numpy(dtype="timedelta64[us]") / np.timedelta64(1, "s"), None
    if pd.api.types.is_integer_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        if series.abs().max() > _EXACT_INT:  # compared as integers: the float conversion would round
            return None, "holds integers beyond 2**53, which a SAS number (a double) cannot hold exactly"
        return values, None
    if pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan), None
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "empty":
        return np.full(len(series), np.nan), None
    if dtype == object and inferred in _NUMERIC_OBJECTS:
        return numeric_values(pd.to_numeric(series), kind)  # as the dtype it converts to
    if dtype == object and inferred in _DATE_OBJECTS:
        try:
            return _from_datetimes(pd.to_datetime(series), kind)
        except (ValueError, TypeError) as exc:
            return None, f"holds dates that pandas cannot convert ({exc})"
    return None, f"holds {inferred} values (dtype {dtype}), not numbers"


def _from_datetimes(series: pd.Series, kind: str | None) -> tuple[np.ndarray | None, str | None]:
    if getattr(series.dtype, "tz", None) is not None:
        return None, "holds time-zone-aware datetimes; SAS datetimes have no zone, convert to local time first"
    stamps = series.to_numpy(dtype="datetime64[us]")
    if kind == "date":
        return (stamps.astype("datetime64[D]") - SAS_EPOCH) / np.timedelta64(1, "D"), None  # NaT -> NaN
    if kind == "datetime":
        return (stamps - SAS_EPOCH) / np.timedelta64(1, "s"), None
    return None, ("holds dates or datetimes but its format is not a date or datetime format "
                  "(DATE9., E8601DA., DATETIME20., E8601DT.): give a format or SAS numbers")


@dataclass(frozen=True)
class Text:
    """A character column, dictionary-encoded: checks, sorting and padding then work on the distinct
    values (few, in clinical data) and rows are numpy gathers of their codes."""

    codes: np.ndarray  # int32, one per row: position in `dictionary`
    dictionary: pa.LargeStringArray  # distinct values, trailing blanks dropped, "" for missing

    def __len__(self) -> int:
        return len(self.codes)

    def values(self, rows: np.ndarray) -> list[str]:
        return self.dictionary.take(pa.array(self.codes[rows])).to_pylist()

    def ranks(self) -> np.ndarray:
        """Per row, the dense rank of its value in byte order, to sort by."""
        if not len(self.dictionary):
            return self.codes
        ranks = pc.rank(self.dictionary, sort_keys="ascending", tiebreaker="dense")
        return ranks.to_numpy()[self.codes]

    def encoder(self, width: int):
        """A function of row positions giving their (rows, width) blank-padded bytes."""
        if len(self.dictionary) * width <= _TABLE_BYTES:
            table = fixed_width(self.dictionary, width)
            return lambda rows: table[self.codes[rows]]
        return lambda rows: fixed_width(self.dictionary.take(pa.array(self.codes[rows])), width)


def text_values(series: pd.Series) -> tuple[Text | None, str | None]:
    """Text with missing as "" and trailing blanks dropped."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_float_dtype(dtype) and series.isna().all():
        return Text(np.zeros(len(series), np.int32), pa.array([""], pa.large_string())), None
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if not (isinstance(dtype, pd.StringDtype) or (dtype == object and inferred in ("string", "empty"))):
        return None, f"holds {inferred} values (dtype {dtype}); a character variable needs text"
    values = pa.array(series, type=pa.large_string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(pc.utf8_rtrim(pc.fill_null(values, ""), characters=" "))
    return Text(encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary), None


def fixed_width(values: pa.LargeStringArray, width: int) -> np.ndarray:
    """ASCII texts of at most `width` bytes -> (n, width) uint8, blank-padded: the padded values are
    contiguous in Arrow's data buffer, so the matrix is a view of it, with no per-value loop."""
    n = len(values)
    if n == 0:
        return np.empty((0, width), np.uint8)
    padded = pc.utf8_rpad(values, width=width, padding=" ")
    _, offsets, data = padded.buffers()
    start = int(np.frombuffer(offsets, np.int64, count=1, offset=8 * padded.offset)[0])
    return np.frombuffer(data, np.uint8, count=n * width, offset=start).reshape(n, width)
