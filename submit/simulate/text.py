"""Numbers and clock times as an EDC exports them, formatted column-wise with Arrow compute
(numpy's per-element string formatting is the slowest step of a large simulation otherwise)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _digits(values: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def fixed(values, decimals: int) -> np.ndarray:
    """Fixed-point text with `decimals` places ("12.50"); empty where the value is missing."""
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    scaled = np.round(np.abs(np.nan_to_num(v)) * 10**decimals).astype(np.int64)
    text = _digits(scaled // 10**decimals)
    if decimals:
        text = pc.binary_join_element_wise(text, _digits(scaled % 10**decimals, decimals), ".")
    sign = np.where((v < 0) & (scaled > 0), "-", "")
    out = np.char.add(sign.astype(object), np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)) \
        if (sign != "").any() else np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    out[missing] = ""
    return out


def hhmm(minutes_of_day) -> np.ndarray:
    """"HH:MM" of minutes after midnight."""
    m = np.asarray(minutes_of_day, dtype=np.int64)
    text = pc.binary_join_element_wise(_digits(m // 60, 2), _digits(m % 60, 2), ":")
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
