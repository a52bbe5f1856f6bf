"""Column work done once per distinct value: a column's values repeat (dates, visit codes, units,
results across subjects), so a conversion computed on its distinct values and put back on the rows
by position costs what the number of different values costs, not the number of rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.extensions import take


@dataclass(frozen=True)
class Distinct:
    """A column's distinct present values and, for each row, which one it holds (-1: missing)."""

    values: pd.Series  # object dtype
    codes: np.ndarray
    index: pd.Index
    dtype: object

    @classmethod
    def of(cls, column: pd.Series) -> "Distinct":
        codes, uniques = pd.factorize(column)
        return cls(pd.Series(np.asarray(uniques, dtype=object), dtype=object), codes, column.index, column.dtype)

    def rows(self, result: pd.Series, missing=None) -> pd.Series:
        """A per-value result on the rows, in the result's dtype; `missing` (default: the dtype's
        missing value) where the cell is missing."""
        picked = take(result.to_numpy(), self.codes, allow_fill=True, fill_value=missing)
        return pd.Series(picked, index=self.index, dtype=object if result.dtype == object else None)

    def on_rows(self, result: pd.Series) -> pd.Series:
        """A per-value result on the rows, missing where the cell is, typed as the cells."""
        picked = np.append(result.to_numpy(dtype=object, na_value=None), None)[self.codes]
        return pd.Series(picked, index=self.index, dtype=object).astype(self.dtype)

    def flag(self, condition: pd.Series) -> pd.Series:
        """A per-value condition on the rows; False where the cell is missing."""
        return pd.Series(np.append(condition.to_numpy(dtype=bool, na_value=False), False)[self.codes], index=self.index)
