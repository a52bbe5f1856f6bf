"""ISO 8601 date/time text as SDTM writes it (SDTMIG 4.4: extended format, reduced precision by
dropping trailing components, a hyphen for each unknown component in the middle, e.g. 2003---15,
no time zone), checked and converted column-wise on the distinct values."""

from __future__ import annotations

import numpy as np
import pandas as pd

FULL_DATE = r"^\d{4}-\d{2}-\d{2}"
STRICT = (r"(?:\d{4}|-)(?:-(?:0[1-9]|1[0-2]|-)(?:-(?:0[1-9]|[12][0-9]|3[01]|-)"
          r"(?:T(?:[01][0-9]|2[0-3]|-)(?::(?:[0-5][0-9]|-)(?::(?:[0-5][0-9](?:\.[0-9]+)?|-))?)?)?)?)?")
KNOWN = r"^(\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?)?)?)"


def valid_dtc(values: pd.Series) -> pd.Series:
    """True where a non-blank value is a well-formed SDTM ISO 8601 date/time (blank counts as valid:
    missing is not malformed). Checked once per distinct value."""
    text = values.fillna("").astype(str)
    unique = pd.Series(pd.unique(text), dtype=object).astype(str)
    # The last component given must be known: "2003-" or "2003--" is not a reduced precision.
    ok = unique.str.fullmatch(STRICT) & unique.str[-1:].str.isdigit()
    # A complete date must exist in the calendar (2011-02-30 does not).
    complete = ok & unique.str.match(FULL_DATE)
    if complete.any():
        calendar = pd.to_datetime(unique[complete].str[:10], format="%Y-%m-%d", errors="coerce")
        ok[complete] = calendar.notna().to_numpy()
    ok |= unique == ""
    return pd.Series(ok.to_numpy()[pd.Index(unique).get_indexer(text)], index=values.index)


def full_dates(values: pd.Series) -> pd.Series:
    """The date part of values with a complete date (YYYY-MM-DD) as datetime64; NaT otherwise."""
    text = values.fillna("").astype(str)
    complete = text.str.match(FULL_DATE)
    return pd.to_datetime(text.str[:10].where(complete), format="%Y-%m-%d", errors="coerce")


def known_prefix(values: pd.Series) -> pd.Series:
    """The leading known components of each value ("2003---15" -> "2003"): comparable as text
    between two values (ISO 8601 extended format sorts as text) to the shorter one's length."""
    return values.fillna("").astype(str).str.extract(KNOWN, expand=False).fillna("")


def compare_after(start: pd.Series, end: pd.Series) -> np.ndarray:
    """True where start is after end at the precision both give (blank or unknown: never)."""
    a, b = known_prefix(start), known_prefix(end)
    n = np.minimum(a.str.len().to_numpy(), b.str.len().to_numpy())
    out = np.zeros(len(a), dtype=bool)
    for length in np.unique(n[n >= 4]):
        pick = n == length
        out[pick] = (a[pick].str[:length] > b[pick].str[:length]).to_numpy()
    return out
