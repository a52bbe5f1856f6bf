"""One record per subject chosen among events of several sources in priority order (admiral's
derive_vars_extreme_event): e.g. the cause of death from a fatal adverse event, else from the
disposition record of the death; or the last date known alive over several domains.

    derive_vars_extreme_event:
      events:
        - {domain: AE, filter: {AEOUT: FATAL}, order: [AESTDTC, AESEQ],
           set: {DTHCAUS: AEDECOD, DTHDOM: {value: AE}}}
        - {domain: DS, filter: {DSDECOD: DEATH, DSTERM: {contains: DEATH DUE TO}},
           set: {DTHCAUS: DSTERM, DTHDOM: {value: DS}}}
      mode: first

The candidates are sorted by `order` (variables the events set), then by the event's place in
the list, then by the event's own `order` among its records; `mode` first or last picks one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.adam.filters import select
from submit.adam.registry import bad_argument, derivation

FN = "derive_vars_extreme_event"
EVENT_KEYS = {"domain", "filter", "order", "set"}


def _candidates(df: pd.DataFrame, ctx, event, i: int, names: list[str] | None) -> pd.DataFrame:
    arg = f"events[{i}]"
    if not isinstance(event, dict) or not {"set"} <= set(event) <= EVENT_KEYS or not isinstance(event["set"], dict):
        raise bad_argument(FN, arg, f"is {{domain, filter, order, set: {{VARIABLE: source | {{value: x}}}}}}, "
                                    f"got {event!r}")
    data = select(ctx.domain(event["domain"]) if "domain" in event else df, event.get("filter"), FN)
    order = event.get("order") or []
    missing = [v for v in order if v not in data]
    if missing:
        raise bad_argument(FN, arg, f"order names {missing}, not variables of {event.get('domain', ctx.dataset)}")
    data = data.sort_values(order, kind="stable") if order else data
    out = pd.DataFrame({"USUBJID": data["USUBJID"].to_numpy(), "_event": i, "_pos": np.arange(len(data))})
    for new, source in event["set"].items():
        if isinstance(source, dict):
            if set(source) != {"value"}:
                raise bad_argument(FN, arg, f"set.{new}: a source variable or {{value: x}}, got {source!r}")
            out[new] = source["value"]
        elif source in data:
            out[new] = data[source].to_numpy()
        else:
            raise bad_argument(FN, arg, f"set.{new}: {source!r} is not a variable of {event.get('domain', ctx.dataset)}")
    if names is not None and set(event["set"]) != set(names):
        raise bad_argument(FN, arg, f"sets {sorted(event['set'])}; every event sets the same variables {sorted(names)}")
    return out


@derivation
def derive_vars_extreme_event(df: pd.DataFrame, ctx, events: list[dict], mode: str = "first",
                              order: list[str] | None = None) -> pd.DataFrame:
    """The variables every event `set`s, from the first (or last, `mode`) candidate per subject;
    subjects without a candidate get them missing. A variable already in the dataset is replaced."""
    if not isinstance(events, list) or not events:
        raise bad_argument(FN, "events", "must be a non-empty list of events")
    if mode not in ("first", "last"):
        raise bad_argument(FN, "mode", f"must be first or last, got {mode!r}")
    first = _candidates(df, ctx, events[0], 0, None)
    names = [c for c in first.columns if c not in ("USUBJID", "_event", "_pos")]
    frames = [first] + [_candidates(df, ctx, e, i, names) for i, e in enumerate(events[1:], start=1)]
    unknown = [v for v in order or [] if v not in names]
    if unknown:
        raise bad_argument(FN, "order", f"names {unknown}; it sorts by variables the events set ({names})")
    every = pd.concat(frames, ignore_index=True)
    every = every.sort_values([*(order or []), "_event", "_pos"], kind="stable", na_position="first")
    chosen = every.drop_duplicates("USUBJID", keep=mode).set_index("USUBJID")
    out = df.drop(columns=[n for n in names if n in df]).copy()
    for n in names:
        out[n] = df["USUBJID"].map(chosen[n]).to_numpy()
    return out
