"""Time-to-event parameters from declarative event and censoring sources (after admiral's
`derive_param_tte`).

Each source names a dataset (SDTM domain or earlier ADaM dataset), a filter, the date variable
(numeric, or an --DTC whose complete dates are taken), the description written to EVNTDESC or
CNSDTDSC and the traceability variables. For each subject with a start date, the event is the
earliest event-source date on or after the start (ties: the source listed first); without one,
the subject is censored at the latest censoring-source date on or after the start (ties: the
source listed first), or at the start itself when no source has a date. AVAL = ADT - STARTDT + 1 days.

Two choices make admiral's rules available (`derive_param_tte` of admiral): `before_start: start_date`
takes every source date, a date before the start becoming the start date (by default such dates
are ignored), and `censor_ties: last_listed` lets the source listed last win a tie between
censoring dates. A source's `set` gives further constant values of its records (e.g. EVNTDESC of
a censoring source, beside its description in CNSDTDSC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from submit.adam.filters import select
from submit.adam.derive.dates import dtc_to_date
from submit.adam.registry import bad_argument, derivation

FIELDS = ("dataset", "date", "filter", "description", "seq", "cnsr", "set")
BEFORE_START = ("ignore", "start_date")
CENSOR_TIES = ("first_listed", "last_listed")


@dataclass(frozen=True)
class Source:
    dataset: str
    date: str
    description: str
    filter: dict | None = None
    seq: str | None = None  # the variable whose value becomes SRCSEQ
    cnsr: int = 1  # for censoring sources: the CNSR value written
    set: dict | None = None  # further variables of the records from this source (constants)

    @classmethod
    def parse(cls, raw: dict, arg: str, index: int) -> Source:
        if not isinstance(raw, dict) or not {"dataset", "date", "description"} <= set(raw):
            raise bad_argument("derive_param_tte", f"{arg}[{index}]", "needs dataset, date and description")
        unknown = set(raw) - set(FIELDS)
        if unknown:
            raise bad_argument("derive_param_tte", f"{arg}[{index}]", f"has unknown fields {sorted(unknown)}")
        if not isinstance(raw.get("set") or {}, dict):
            raise bad_argument("derive_param_tte", f"{arg}[{index}].set", f"must map variables to values, got {raw['set']!r}")
        return cls(**raw)


def _dates(ctx, src: Source, priority: int, arg: str) -> pd.DataFrame:
    data = select(ctx.domain(src.dataset), src.filter, "derive_param_tte")
    if src.date not in data:
        raise bad_argument("derive_param_tte", arg, f"{src.dataset} has no variable {src.date!r}")
    date = data[src.date]
    if not pd.api.types.is_datetime64_any_dtype(date):
        date = dtc_to_date(date)[0]
    seq = data[src.seq].astype(float) if src.seq else np.nan
    return pd.DataFrame({"USUBJID": data["USUBJID"].to_numpy(), "ADT": date.to_numpy(), "priority": priority,
                         "DESC": src.description, "SRCDOM": src.dataset, "SRCVAR": src.date,
                         "SRCSEQ": np.asarray(seq, dtype=float) if src.seq else np.nan, "CNSR": src.cnsr}).dropna(subset=["ADT"])


def _candidates(ctx, sources: list[Source], arg: str, start: pd.DataFrame, before_start: str) -> pd.DataFrame:
    frames = [_dates(ctx, s, i, f"{arg}[{i}]").assign(_source=f"{arg}[{i}]") for i, s in enumerate(sources)]
    found = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["USUBJID", "ADT", "_source"])
    found = found.merge(start, on="USUBJID")
    if before_start == "start_date":
        return found.assign(ADT=found["ADT"].where(found["ADT"] >= found["STARTDT"], found["STARTDT"]))
    return found[found["ADT"] >= found["STARTDT"]]


@derivation
def derive_param_tte(df: pd.DataFrame, ctx, paramcd: str, param: str, start: dict, events: list[dict],
                     censors: list[dict], start_description: str = "START DATE", before_start: str = "ignore",
                     censor_ties: str = "first_listed") -> pd.DataFrame:
    """Adds one `paramcd` record per subject with a start date (see the module docstring)."""
    if before_start not in BEFORE_START:
        raise bad_argument("derive_param_tte", "before_start", f"must be one of {BEFORE_START}, got {before_start!r}")
    if censor_ties not in CENSOR_TIES:
        raise bad_argument("derive_param_tte", "censor_ties", f"must be one of {CENSOR_TIES}, got {censor_ties!r}")
    if not events:
        raise bad_argument("derive_param_tte", "events", "must list at least one event source")
    start_src = Source.parse({"description": "", **start}, "start", 0)
    ev = [Source.parse({**e, "cnsr": 0}, "events", i) for i, e in enumerate(events)]
    cn = [Source.parse(c, "censors", i) for i, c in enumerate(censors)]
    begin = _dates(ctx, start_src, 0, "start").sort_values("ADT", kind="stable").drop_duplicates("USUBJID")
    begin = begin[["USUBJID", "ADT"]].rename(columns={"ADT": "STARTDT"})
    first_event = (_candidates(ctx, ev, "events", begin, before_start)
                   .sort_values(["USUBJID", "ADT", "priority"], kind="stable").drop_duplicates("USUBJID"))
    censored = _candidates(ctx, cn, "censors", begin, before_start)
    censored = censored[~censored["USUBJID"].isin(first_event["USUBJID"])]
    last_censor = (censored.sort_values(["USUBJID", "ADT", "priority"], ascending=[True, False, censor_ties == "first_listed"],
                                        kind="stable").drop_duplicates("USUBJID"))
    chosen = pd.concat([first_event, last_censor], ignore_index=True)
    fallback = begin[~begin["USUBJID"].isin(chosen["USUBJID"])].assign(
        ADT=lambda d: d["STARTDT"], DESC=start_description, SRCDOM=start_src.dataset, SRCVAR=start_src.date,
        SRCSEQ=np.nan, CNSR=1)
    rec = pd.concat([chosen, fallback], ignore_index=True).sort_values("USUBJID", kind="stable")
    out = pd.DataFrame({
        "USUBJID": rec["USUBJID"], "PARAMCD": paramcd, "PARAM": param, "STARTDT": rec["STARTDT"],
        "ADT": rec["ADT"], "AVAL": ((rec["ADT"] - rec["STARTDT"]).dt.days + 1).astype(float),
        "CNSR": rec["CNSR"].astype(float),
        "EVNTDESC": np.where(rec["CNSR"] == 0, rec["DESC"], None),
        "CNSDTDSC": np.where(rec["CNSR"] != 0, rec["DESC"], None),
        "SRCDOM": rec["SRCDOM"], "SRCVAR": rec["SRCVAR"], "SRCSEQ": rec["SRCSEQ"]})
    for arg, sources in (("events", ev), ("censors", cn)):
        for i, src in enumerate(sources):
            here = (rec["_source"] == f"{arg}[{i}]").to_numpy()
            for var, value in (src.set or {}).items():
                if var not in out:
                    out[var] = None
                out.loc[here, var] = value
    return pd.concat([df, out], ignore_index=True) if len(df) else out.reset_index(drop=True)
