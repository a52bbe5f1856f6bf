"""SDTM mapping algorithms: interventions, history and vital signs (CM, PR, MH, VS), registered on
import.

* `fixed_visit`: VISIT/VISITNUM for a form that belongs to one visit but has no visit column (height
  and weight on the screening demographics form), numbered by the same rule as `visit`/`visitnum`.
"""

from __future__ import annotations

import pandas as pd

from submit.errors import InputError, Problem
from submit.sdtm.algorithms import SourceContext, _visits, variable_algorithm

VISIT_FIELDS = ("VISIT", "VISITNUM")


def _bad(where: str, message: str) -> InputError:
    return InputError(f"Mapping of {where}", [Problem("mapping", message)])


@variable_algorithm
def fixed_visit(ctx: SourceContext, code: str, field: str = "VISIT") -> pd.Series:
    """VISIT (`field: VISIT`) or VISITNUM (`field: VISITNUM`) of one EDC visit code for every record
    of a source whose form is completed at a single visit and has no visit column of its own (height
    and weight on the screening demographics form: SCR -> SCREENING, 1). The code goes through the
    same parser as `visit`/`visitnum`, so these records cannot be numbered differently from the
    records of the same visit that carry the code."""
    where = f"{ctx.domain}.{ctx.target}"
    if field not in VISIT_FIELDS:
        raise _bad(where, f"fixed_visit: field must be one of {', '.join(VISIT_FIELDS)}, not {field!r}")
    if not isinstance(code, str) or _visits(pd.Series([code], dtype=object)).VISIT.isna().any():
        raise _bad(where, f"fixed_visit: {code!r} is not an EDC visit code (SCR, C1D8, RT1D29, UNS1)")
    return _visits(pd.Series(code, index=ctx.rows.index, dtype=object))[field]
