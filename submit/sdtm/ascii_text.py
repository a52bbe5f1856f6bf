"""XPT v5 holds ASCII text only. An SDTM package given in a format that holds Unicode (Parquet,
Dataset-JSON) may carry typographic characters that a word processor put there: a curly
apostrophe ("Crohn’s disease"), curly quotes, en and em dashes, no-break spaces, accented letters.
These are transliterated to their ASCII forms, declared here and reported value by value
(qc/sdtm_transliteration.csv: file, row, variable, before, after), so that nothing changes
silently. A character without an ASCII form (e.g. CJK text) is not touched: the XPT writer then
refuses the value, naming the input file, row and column.

Rules, in order: the table TYPOGRAPHIC below; then Unicode NFKD decomposition with the combining
marks dropped (é -> e, ß stays and is refused, ﬁ -> fi).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

TYPOGRAPHIC = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",     # single quotes, prime
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',     # double quotes
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u200a": " ",    # no-break and thin spaces
    "\u2026": "...", "\u2022": "*", "\u00b4": "'", "\u02bc": "'",
}
_TABLE = str.maketrans(TYPOGRAPHIC)
COLUMNS = ["file", "row", "variable", "before", "after"]


def to_ascii(text: str) -> str | None:
    """The ASCII form of `text` by the rules above, or None when it has none."""
    mapped = unicodedata.normalize("NFKD", text.translate(_TABLE))
    mapped = "".join(c for c in mapped if not unicodedata.combining(c))
    return mapped if mapped.isascii() else None


def transliterate(df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`df` with its non-ASCII text transliterated where it can be, one row per changed value).
    Only the distinct non-ASCII values are looked at."""
    out, changes = df, []
    for column in df.columns:
        values = df[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        text = values.astype("string")
        odd = text.notna() & ~text.fillna("").map(str.isascii).astype(bool)
        if not odd.any():
            continue
        mapping = {v: to_ascii(v) for v in pd.unique(text[odd])}
        mapping = {k: v for k, v in mapping.items() if v is not None}
        hit = odd & text.isin(list(mapping))
        if not hit.any():
            continue
        if out is df:
            out = df.copy()
        before = values[hit].astype(str)
        out.loc[hit, column] = before.map(mapping).to_numpy()
        changes.append(pd.DataFrame({"file": file, "row": np.flatnonzero(hit.to_numpy()) + 1, "variable": column,
                                     "before": before.to_numpy(), "after": before.map(mapping).to_numpy()}))
    report = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=COLUMNS)
    return out, report
