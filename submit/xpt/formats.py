"""SAS display formats as XPT v5 stores them (name, width, decimals) and the kind of SAS number a
date, datetime or time format shows: days or seconds since 1960-01-01, seconds since midnight."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORMAT = re.compile(r"(\$?(?:[A-Z_][A-Z0-9_]*?)?)(\d*)\.(\d*)")

# Formats whose values are SAS dates (days since 1960-01-01); the prefixed families take one
# separator letter (YYMMDDN8., DDMMYYS10.).
_DATE = {"DATE", "DAY", "DOWNAME", "E8601DA", "B8601DA", "IS8601DA", "JULDAY", "JULIAN", "MONNAME",
         "MONTH", "MONYY", "QTR", "QTRR", "WEEKDATE", "WEEKDATX", "WEEKDAY", "WEEKU", "WEEKV", "WEEKW",
         "WORDDATE", "WORDDATX", "YEAR", "YYMON", "YYQR", "NLDATE", "MINGUO", "NENGO", "PDJULG", "PDJULI"}
_DATE_FAMILIES = ("DDMMYY", "MMDDYY", "YYMMDD", "MMYY", "YYMM", "YYQ")
_DATETIME = {"DATETIME", "DATEAMPM", "DTDATE", "DTMONYY", "DTWKDATX", "DTYEAR", "DTYYQC", "MDYAMPM",
             "NLDATM", "E8601DT", "E8601DN", "E8601DX", "E8601DZ", "E8601LX", "B8601DT", "B8601DN",
             "B8601DX", "B8601DZ", "B8601LX", "IS8601DT", "IS8601DN", "IS8601DZ"}
_TIME = {"TIME", "TIMEAMPM", "TOD", "HHMM", "HOUR", "MMSS", "NLTIME", "E8601TM", "E8601TX", "E8601TZ",
         "E8601LZ", "B8601TM", "B8601TX", "B8601TZ", "B8601LZ", "IS8601TM", "IS8601TZ"}


@dataclass(frozen=True)
class SasFormat:
    name: str  # "DATE", "$CHAR", "" for w.d
    width: int  # 0 when not given
    decimals: int

    @property
    def char(self) -> bool:
        return self.name.startswith("$")


def parse_format(text: str) -> SasFormat | None:
    """"DATE9." -> DATE, 9, 0; "8.2" -> "", 8, 2; "E8601DA." -> E8601DA, 0, 0. None when the text is
    not a SAS format (a missing period included: SAS needs it to tell the width from the name)."""
    match = _FORMAT.fullmatch(text.strip().upper())
    if not match or not (match[1] or match[2]) or match[1] == "$" and not match[2]:
        return None
    return SasFormat(match[1], int(match[2] or 0), int(match[3] or 0))


def temporal_kind(fmt: SasFormat | None) -> str | None:
    """"date", "datetime", "time", or None for any other format."""
    if fmt is None:
        return None
    name = fmt.name
    if name in _DATE or any(name.startswith(f) and len(name) <= len(f) + 1 for f in _DATE_FAMILIES):
        return "date"
    if name in _DATETIME:
        return "datetime"
    if name in _TIME:
        return "time"
    return None
