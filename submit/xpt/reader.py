"""Read a SAS XPT v5 transport file (SAS TS-140) with numpy: the headers parsed once, the
observations a (rows, row length) byte matrix mapped from the file, each column decoded only when
asked for, as whole-column operations (IBM doubles to IEEE, fixed-width bytes to Arrow strings).

Why beside pyreadstat: pyreadstat (ReadStat) converts value by value and always decodes every
column; this reads the whole package in a fraction of its time. The values are those pyreadstat
gives (the tests compare both on every file of a package): text with trailing blanks and NULs
dropped and "" for missing, numbers as float64 with NaN for every SAS missing value (".", ".A"-".Z",
"._"), IBM fractions truncated to the 53 bits of a double as ReadStat does, all-blank rows at the end
of the file dropped as ReadStat drops them (padding cannot be told from blank rows).

What this does not read raises Unsupported, and callers read the file with pyreadstat instead: XPT
v8 and anything but a plain v5 library of one member, NAMESTRs of another size, and text that is not
UTF-8 (ReadStat then converts with an encoding).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from submit.xpt.records import NAMESTR, RECORD

_LIBRARY = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
_MEMBER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
_NAMESTR_HEADER = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
_OBS = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhi52s")
_MISSING_FIRST = np.array([ord("."), ord("_"), *range(ord("A"), ord("Z") + 1)], np.uint8)
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" dtype, as pyreadstat's columns


class Unsupported(Exception):
    """Not a file this reader reads: read it with pyreadstat."""


@dataclass(frozen=True)
class XptColumn:
    name: str
    label: str
    type: str  # "char" or "num"
    length: int  # storage width in bytes
    format: str  # as ReadStat composes it: "DATE9.", "8.2", "$CHAR20."; "" for none
    position: int  # byte offset in an observation


def _text(raw: bytes) -> str:
    try:
        return raw.rstrip(b" \0").decode("utf-8")
    except UnicodeDecodeError:
        raise Unsupported("header text is not UTF-8") from None


def _format(name: bytes, width: int, decimals: int) -> str:
    name = _text(name)
    if not name and not width and not decimals:
        return ""
    if decimals:
        return f"{name}{width}.{decimals}"
    return f"{name}{width}." if width else name


class XptFile:
    """One XPT v5 file: `name`, `label`, `columns` (in file order), `rows`; `column(name)` decodes one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            size = f.seek(0, 2)
            self._buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        buf = self._buffer
        if bytes(buf[:len(_LIBRARY)]) != _LIBRARY or bytes(buf[3 * RECORD:3 * RECORD + len(_MEMBER)]) != _MEMBER:
            raise Unsupported("not an XPT v5 library")
        if int(bytes(buf[3 * RECORD + 74:3 * RECORD + 78])) != NAMESTR:
            raise Unsupported("NAMESTR records are not 140 bytes")
        descriptor = bytes(buf[5 * RECORD:7 * RECORD])
        self.name, self.label = _text(descriptor[8:16]), _text(descriptor[RECORD + 32:RECORD + 72])
        if bytes(buf[7 * RECORD:7 * RECORD + len(_NAMESTR_HEADER)]) != _NAMESTR_HEADER:
            raise Unsupported("no NAMESTR header")
        count = int(bytes(buf[7 * RECORD + 54:7 * RECORD + 58]))
        start = 8 * RECORD
        columns = []
        for i in range(count):
            (kind, _, length, _, name, label, fname, fwidth, fdecimals, _, _, _, _, _,
             position, _) = _NAMESTR.unpack_from(buf, start + i * NAMESTR)
            if kind not in (1, 2) or length < 1 or (kind == 1 and not 2 <= length <= 8):
                raise Unsupported("a variable of unknown type or length")
            columns.append(XptColumn(_text(name), _text(label), "num" if kind == 1 else "char", length,
                                     _format(fname, fwidth, fdecimals), position))
        obs = start + -(-count * NAMESTR // RECORD) * RECORD
        if bytes(buf[obs:obs + len(_OBS)]) != _OBS:
            raise Unsupported("not one member (no OBS header where expected)")
        self.columns = tuple(columns)
        self._by_name = {c.name: c for c in columns}
        width = sum(c.length for c in columns)
        if width != max((c.position + c.length for c in columns), default=0):
            raise Unsupported("variables do not tile the observation")
        data = np.frombuffer(buf, np.uint8, offset=obs + RECORD) if size > obs + RECORD else np.empty(0, np.uint8)
        rows = len(data) // width if width else 0
        matrix = data[:rows * width].reshape(rows, width)
        if buf.find(_MEMBER, obs + RECORD) >= 0:
            raise Unsupported("more than one member")
        blank = (matrix == ord(" ")).all(axis=1) if rows else np.zeros(0, bool)
        kept = rows - (int(np.argmin(blank[::-1])) if not blank.all() else rows)  # trailing blank rows dropped
        self._matrix = matrix[:kept]
        self.rows = kept

    def column(self, name: str) -> pd.Series:
        """float64 numbers (NaN for missing) or pandas "str" text ("" for blank), in file order."""
        c = self._by_name[name]
        cells = np.ascontiguousarray(self._matrix[:, c.position:c.position + c.length])
        if c.type == "num":
            return pd.Series(_numbers(cells), name=name)
        return pd.Series(pd.arrays.ArrowStringArray(_strings(cells)), name=name, dtype=_TEXT)

    def frame(self, names: list[str] | None = None) -> pd.DataFrame:
        names = [c.name for c in self.columns] if names is None else names
        if not names:
            return pd.DataFrame(index=range(self.rows))
        return pd.DataFrame({name: self.column(name) for name in names})


def _numbers(cells: np.ndarray) -> np.ndarray:
    """(n, length) IBM doubles, big-endian, truncated to `length` bytes -> float64, as ReadStat's
    xpt2ieee: the fraction's low bits beyond a double's 53 are dropped (truncated, not rounded)."""
    n, length = cells.shape
    if length < 8:
        cells = np.concatenate([cells, np.zeros((n, 8 - length), np.uint8)], axis=1)
    bits = cells.view(">u8").reshape(n).astype(np.uint64)
    fraction = bits & np.uint64(0x00FFFFFFFFFFFFFF)
    exponent = ((bits >> np.uint64(56)) & np.uint64(0x7F)).astype(np.int64)
    top = (fraction >> np.uint64(53)).astype(np.int64)  # the 3 bits above a double's significand
    drop = np.select([top >= 4, top >= 2, top == 1], [3, 2, 1], 0).astype(np.uint64)
    fraction = (fraction >> drop) << drop
    values = np.ldexp(fraction.astype(np.float64), (4 * (exponent - 64) - 56).astype(np.int32))
    values = np.where(bits >> np.uint64(63) == 1, -values, values)
    values[fraction == 0] = 0.0
    missing = np.isin(cells[:, 0], _MISSING_FIRST) & ~cells[:, 1:].any(axis=1)
    values[missing] = np.nan
    return values


def _strings(cells: np.ndarray) -> pa.Array:
    """(n, width) blank-padded bytes -> Arrow strings without trailing blanks or NULs; Unsupported
    when not UTF-8."""
    n, width = cells.shape
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int64) * width).tobytes())
    array = pa.LargeStringArray.from_buffers(n, offsets, pa.py_buffer(cells.tobytes()))
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        raise Unsupported("text that is not UTF-8") from None
    return pc.utf8_rtrim(array, characters=" \0").cast(pa.string())
