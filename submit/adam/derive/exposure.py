"""Subject-level exposure facts from EX: treatment cycles started and completed."""

from __future__ import annotations

import pandas as pd

from submit.adam.filters import select
from submit.adam.derive.dates import dtc_to_datetime
from submit.adam.registry import derivation


@derivation
def derive_vars_cycles(df: pd.DataFrame, ctx, started: str, completed: str, filter: dict | None = None,
                       cycle: str = "EXSCAT", min_span_days: float = 28) -> pd.DataFrame:
    """`started`: the number of distinct cycles (`cycle`) with an EX record meeting `filter`;
    `completed`: those whose infusion ran from its first start to its last end over at least
    `min_span_days` days (a cycle interrupted and resumed still counts; one stopped early does not)."""
    ex = select(ctx.domain("EX"), filter, "derive_vars_cycles")
    start, _ = dtc_to_datetime(ex["EXSTDTC"])
    end, _ = dtc_to_datetime(ex["EXENDTC"])
    spans = (pd.DataFrame({"USUBJID": ex["USUBJID"], "cycle": ex[cycle], "start": start, "end": end})
             .groupby(["USUBJID", "cycle"]).agg(start=("start", "min"), end=("end", "max")))
    full = (spans["end"] - spans["start"]) >= pd.Timedelta(days=min_span_days)
    per = pd.DataFrame({"n": 1, "full": full.astype(int)}).groupby(level="USUBJID").sum()
    out = df.copy()
    out[started] = df["USUBJID"].map(per["n"]).fillna(0).astype(float)
    out[completed] = df["USUBJID"].map(per["full"]).fillna(0).astype(float)
    return out
