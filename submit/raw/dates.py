"""Dates and times of a raw extract as EDC systems export them, read to one canonical text form.

A raw column declares its format (schema key `format`); the reader converts every value to the
canonical form the SDTM mapping reads: a date YYYY-MM-DD, a partial date with UN for an unknown
day or month (2011-03-UN, 2011-UN-UN), a time HH:MM (HH:MM:SS when the format has seconds).

Date formats are written with the tokens YYYY, YY (a two-digit year, read in the 100 years from
`yearcutoff` on, as SAS's YEARCUTOFF= option: 1926 reads 26-99 as 1926-1999 and 00-25 as
2000-2025), MM or M (month number, M without a leading zero), MMM (English month abbreviation,
any case), DD or D (day), separated by -, /, . or a blank, or by nothing (DDMMMYYYY, as SAS's
DATE9. writes). Examples: YYYY-MM-DD (the default), DD-MMM-YYYY (Medidata Rave, 05-MAR-2011),
DD-MMM-YY, MM/DD/YYYY (InForm), DDMMMYYYY. In a partial date an unknown day or month is UN, UNK
or UNKNOWN (any case); the year must be known, and a known day needs a known month.
Time formats: HH:MM (the default), H:MM, HH:MM:SS, H:MM:SS (H: the hour without a leading zero).

Every function works on the distinct values of a column (pandas string operations, no per-row
Python), so its cost grows with the number of different dates, not of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from submit.distinct import Distinct

DEFAULT_DATE_FORMAT = "YYYY-MM-DD"
DEFAULT_TIME_FORMAT = "HH:MM"
UNKNOWN = "UNKNOWN|UNK|UN"  # longest first: the regular expression takes the first that fits
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_TOKEN = re.compile(r"YYYY|YY|MMM|MM|M|DD|D|[-/. ]")
_DIGITS = {"YYYY": "[0-9]{4}", "YY": "[0-9]{2}", "MM": "[0-9]{2}", "M": "[0-9]{1,2}",
           "DD": "[0-9]{2}", "D": "[0-9]{1,2}", "MMM": "|".join(MONTHS)}
_TIME = {"HH:MM": "(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})", "H:MM": "(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})",
         "HH:MM:SS": "(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})",
         "H:MM:SS": "(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})"}
TIME_FORMATS = tuple(_TIME)

# A conversion's failures: the rows each check fails and its message, {!r} standing for the cell.
Failures = list[tuple[pd.Series, str]]


@dataclass(frozen=True)
class DateFormat:
    text: str  # as declared, e.g. DD-MMM-YY
    tokens: tuple[str, ...]

    @property
    def two_digit_year(self) -> bool:
        return "YY" in self.tokens

    def pattern(self, partial: bool) -> str:
        """The regular expression of the (upper-cased) value, groups y, m and d."""
        unknown = f"|{UNKNOWN}" if partial else ""
        group = {"Y": "y", "M": "m", "D": "d"}
        return "".join(f"(?P<{group[t[0]]}>{_DIGITS[t]}{'' if t[0] == 'Y' else unknown})" if t in _DIGITS
                       else re.escape(t) for t in self.tokens)


@lru_cache(maxsize=None)
def date_format(text: str) -> DateFormat:
    """The declared date format; ValueError saying what is wrong with it."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        raise ValueError(f"date format {text!r} may hold only YYYY, YY, MMM, MM, M, DD, D and the separators - / . or a blank")
    for part, names in (("year", ("YYYY", "YY")), ("month", ("MMM", "MM", "M")), ("day", ("DD", "D"))):
        if sum(t in names for t in tokens) != 1:
            raise ValueError(f"date format {text!r} needs exactly one {part} ({' or '.join(names)})")
    return DateFormat(text, tuple(tokens))


def check_time_format(text: str) -> None:
    if text not in _TIME:
        raise ValueError(f"time format {text!r} is not one of {', '.join(TIME_FORMATS)}")


def year_window(yearcutoff: int) -> str:
    return f"{yearcutoff}-{yearcutoff + 99}"


def calendar_dates(text: pd.Series) -> pd.Series:
    """YYYY-MM-DD text as datetime64; NaT where missing or not in the calendar (2011-02-30)."""
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def parse_dates(text: pd.Series, fmt: str, partial: bool, yearcutoff: int) -> tuple[pd.Series, Failures]:
    """Canonical dates of a text column (empty cells already missing) and the cells that fail:
    not in the format, or not in the calendar."""
    form = date_format(fmt)
    distinct = Distinct.of(text)
    values = distinct.values
    parts = values.str.upper().str.extract(f"^(?:{form.pattern(partial)})$")
    if values.empty:
        parts = pd.DataFrame(columns=["y", "m", "d"], index=values.index, dtype=object)
    shaped = parts["y"].notna()
    year = parts["y"]
    if form.two_digit_year:
        yy = pd.to_numeric(year, errors="coerce")
        first = yearcutoff % 100
        year = (yearcutoff - first + yy + 100 * (yy < first)).astype("Int64").astype("str")
    year = year.str.zfill(4)
    month_unknown = parts["m"].isin(UNKNOWN.split("|"))
    day_unknown = parts["d"].isin(UNKNOWN.split("|"))
    month = parts["m"].replace({name: f"{i:02d}" for i, name in enumerate(MONTHS, 1)}).str.zfill(2)
    month = month.where(~month_unknown, "UN")
    day = parts["d"].str.zfill(2).where(~day_unknown, "UN")
    loose_day = shaped & month_unknown & ~day_unknown  # 2011-UN-05 has no canonical form
    shaped &= ~loose_day
    canonical = (year + "-" + month + "-" + day).where(shaped)
    # An unknown day or month stands for any valid one, and 01 always is: check the known parts.
    real = calendar_dates(canonical.str.replace("UN", "01")).notna()
    kind = "partial date" if partial else "date"
    expected = fmt + (", an unknown day or month as UN or UNK" if partial else "")
    return distinct.on_rows(canonical.where(real)), [
        (distinct.flag(~shaped & ~loose_day), f"not a {kind} {{!r}} (expected {expected})"),
        (distinct.flag(loose_day), f"not a {kind} {{!r}} (a known day needs a known month)"),
        (distinct.flag(shaped & ~real), "impossible date {!r}"),
    ]


def parse_times(text: pd.Series, fmt: str) -> tuple[pd.Series, Failures]:
    """Canonical times (HH:MM, or HH:MM:SS for a format with seconds) of a text column and the
    cells that fail."""
    check_time_format(fmt)
    distinct = Distinct.of(text)
    values = distinct.values
    parts = values.str.extract(f"^(?:{_TIME[fmt]})$")
    if values.empty:
        parts = pd.DataFrame(columns=["h", "mi", "s"], index=values.index, dtype=object)
    number = parts.apply(pd.to_numeric, errors="coerce")
    ok = number["h"].le(23) & number["mi"].le(59)
    canonical = parts["h"].str.zfill(2) + ":" + parts["mi"]
    if "s" in parts:
        ok &= number["s"].le(59)
        canonical += ":" + parts["s"]
    full = "00:00:00-23:59:59" if "s" in parts else "00:00-23:59"
    return distinct.on_rows(canonical.where(ok)), [(distinct.flag(~ok), f"not a time {{!r}} (expected {fmt}, {full})")]


def has_seconds(fmt: str) -> bool:
    return fmt.endswith(":SS")
