"""The header records of an XPT v5 file (SAS TS-140): 80-byte ASCII records, then one 140-byte
NAMESTR per variable. Everything here is a pure function of the metadata and `created`, which is
what makes output byte-reproducible."""

from __future__ import annotations

import datetime as dt
import struct

from submit.xpt.check import Field
from submit.xpt.formats import SasFormat

RECORD = 80
NAMESTR = 140
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# SAS version and OS of TS-140's example, as ReadStat writes them too; readers ignore both.
_VERSION, _OS = "6.06", "bsd4.2"
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhi52s")  # TS-140's NAMESTR layout, 140 bytes


def _header(kind: str, digits: str = "0" * 30) -> str:
    return f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{digits}  "


def sas_stamp(created: dt.date | dt.datetime) -> str:
    """ddMMMyy:hh:mm:ss, month in English whatever the locale; a date is taken at 00:00:00."""
    if not isinstance(created, dt.date):
        raise TypeError(f"created must be a datetime.date or datetime.datetime, not {type(created).__name__}")
    t = created if isinstance(created, dt.datetime) else dt.datetime.combine(created, dt.time())
    return f"{t.day:02d}{_MONTHS[t.month - 1]}{t.year % 100:02d}:{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def header_size(variables: int) -> int:
    """Bytes before the first observation."""
    return RECORD * 8 + -(-NAMESTR * variables // RECORD) * RECORD + RECORD  # 8 records, NAMESTRs, OBS


def headers(name: str, label: str, fields: tuple[Field, ...], created: dt.date | dt.datetime) -> bytes:
    stamp = sas_stamp(created)
    text = "".join([
        _header("LIBRARY"),
        f"{'SAS':<8}{'SAS':<8}{'SASLIB':<8}{_VERSION:<8}{_OS:<8}{'':<24}{stamp}",
        f"{stamp}{'':<64}",
        _header("MEMBER", "000000000000000001600000000140"),  # 160: descriptor size; 140: NAMESTR size
        _header("DSCRPTR"),
        f"{'SAS':<8}{name:<8}{'SASDATA':<8}{_VERSION:<8}{_OS:<8}{'':<24}{stamp}",
        f"{stamp}{'':<16}{label:<40}{'':<8}",  # the last 8: dataset type, blank
        _header("NAMESTR", f"000000{len(fields):04d}" + "0" * 20),
    ])
    assert len(text) == 8 * RECORD, "names and labels must be checked first"
    namestrs = b"".join(_namestr(i, f) for i, f in enumerate(fields, 1))
    namestrs += b" " * (-len(namestrs) % RECORD)
    return text.encode("ascii") + namestrs + _header("OBS").encode("ascii")


def _namestr(number: int, field: Field) -> bytes:
    var = field.var
    fmt, informat = field.format or SasFormat("", 0, 0), field.informat or SasFormat("", 0, 0)
    numeric = var.type == "num"
    return _NAMESTR.pack(
        1 if numeric else 2, 0, field.length, number,  # type (1 num, 2 char), hash, length, varnum
        _text(var.name, 8), _text(var.label, 40),
        _text(fmt.name, 8), fmt.width, fmt.decimals, 1 if numeric else 0, b"\0\0",  # justify right if num
        _text(informat.name, 8), informat.width, informat.decimals,
        field.position, b"\0" * 52)


def _text(value: str, size: int) -> bytes:
    return value.encode("ascii").ljust(size, b" ")
