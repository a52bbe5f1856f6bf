"""One record per subject chosen from an ordered list of events (after admiral's
`derive_extreme_event` with `event()` and `event_joined()` objects).

Each event names where its candidate records come from and which of them qualify:

    events:
      - filter: {AVALC: CR}                        # a record of this dataset (the step's `source`)
        confirmed_by:                              # ... confirmed by later records (event_joined)
          until: {AVALC: CR}                       #   the first later record meeting this,
          min_days: 28                             #   at least 28 days after the record, confirms;
          all: {AVALC: [CR, NE]}                   #   every later record up to it meets this,
          at_most: [{filter: {AVALC: NE}, count: 1}]  #   at most 1 of them meets that,
          none_after: {first: {AVALC: CR}, then: {AVALC: PR}}  # and no PR on or after a CR among them
        set: {AVALC: CR}                           # values the chosen record gets
      - dataset: ADSL                              # every subject of another dataset (ADSL, a domain)
        set: {AVALC: MISSING}
        keep: [RANDDT]                             # only USUBJID and these are kept from it
        copy: {ADT: DTHDT}                         # new variable <- variable of the source record

Candidates of every event are pooled; each subject's first record by `order` is kept: a list of
variables, `{VAR: desc}` for a descending one, and `event` for the event's position in the list
(missing values sort last, as in dplyr). A record of this dataset keeps all its variables (a copy
of the assessment chosen), then takes the event's `set`, then the step's `set_values`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from submit.adam.filters import meets, select
from submit.adam.registry import bad_argument, derivation

EVENT_FIELDS = {"dataset", "filter", "confirmed_by", "set", "copy", "keep"}
CONFIRM_FIELDS = {"until", "min_days", "date", "all", "at_most", "none_after"}
EVENT_KEY = "event"  # the order key of the event's position (lower case: never a variable name)


@dataclass(frozen=True)
class Confirmation:
    """Later records of the subject (by `date`) up to and including the first that meets `until`
    at least `min_days` after the record; the record is confirmed when there is one and the
    records of that window meet `all`, `at_most` and `none_after`."""
    until: dict
    min_days: int = 0
    date: str = "ADT"
    all: dict | None = None
    at_most: tuple = ()
    none_after: dict | None = None

    @classmethod
    def parse(cls, raw, fn: str, arg: str) -> Confirmation:
        if not isinstance(raw, dict) or "until" not in raw:
            raise bad_argument(fn, arg, f"needs until (a filter of the confirming record), got {raw!r}")
        unknown = set(raw) - CONFIRM_FIELDS
        if unknown:
            raise bad_argument(fn, arg, f"has unknown fields {sorted(unknown)} (accepted: {sorted(CONFIRM_FIELDS)})")
        at_most = raw.get("at_most") or []
        at_most = [at_most] if isinstance(at_most, dict) else at_most
        for i, a in enumerate(at_most):
            if not isinstance(a, dict) or set(a) != {"filter", "count"} or not isinstance(a["count"], int):
                raise bad_argument(fn, f"{arg}.at_most[{i}]", f"needs filter and an integer count, got {a!r}")
        none_after = raw.get("none_after")
        if none_after is not None and (not isinstance(none_after, dict) or set(none_after) != {"first", "then"}):
            raise bad_argument(fn, f"{arg}.none_after", f"needs first and then (two filters), got {none_after!r}")
        if not isinstance(raw.get("min_days", 0), int):
            raise bad_argument(fn, f"{arg}.min_days", f"must be a whole number of days, got {raw['min_days']!r}")
        return cls(until=raw["until"], min_days=raw.get("min_days", 0), date=raw.get("date", "ADT"),
                   all=raw.get("all"), at_most=tuple(at_most), none_after=none_after)


@dataclass(frozen=True)
class Event:
    dataset: str | None = None  # None: the records of the dataset being derived
    filter: dict | None = None
    confirmed_by: Confirmation | None = None
    set: dict = field(default_factory=dict)
    copy: dict = field(default_factory=dict)
    keep: tuple = ()

    @classmethod
    def parse(cls, raw, fn: str, index: int) -> Event:
        arg = f"events[{index}]"
        if not isinstance(raw, dict):
            raise bad_argument(fn, arg, f"an event is a mapping of {sorted(EVENT_FIELDS)}, got {raw!r}")
        unknown = set(raw) - EVENT_FIELDS
        if unknown:
            raise bad_argument(fn, arg, f"has unknown fields {sorted(unknown)} (accepted: {sorted(EVENT_FIELDS)})")
        for key in ("set", "copy"):
            if not isinstance(raw.get(key, {}), dict):
                raise bad_argument(fn, f"{arg}.{key}", f"must be a mapping of variables, got {raw[key]!r}")
        if raw.get("keep") and raw.get("dataset") is None:
            raise bad_argument(fn, f"{arg}.keep", "applies to events of another dataset (records of this one keep all)")
        conf = raw.get("confirmed_by")
        return cls(dataset=raw.get("dataset"), filter=raw.get("filter"),
                   confirmed_by=Confirmation.parse(conf, fn, f"{arg}.confirmed_by") if conf is not None else None,
                   set=raw.get("set") or {}, copy=raw.get("copy") or {}, keep=tuple(raw.get("keep") or ()))


def _sort_keys(order: list, fn: str) -> tuple[list[str], list[bool]]:
    names, ascending = [], []
    for i, item in enumerate(order):
        if isinstance(item, str):
            names.append(item), ascending.append(True)
        elif isinstance(item, dict) and len(item) == 1 and next(iter(item.values())) in ("asc", "desc"):
            name, direction = next(iter(item.items()))
            names.append(name), ascending.append(direction == "asc")
        else:
            raise bad_argument(fn, f"order[{i}]", f"expected a variable, 'event' or {{VAR: desc}}, got {item!r}")
    return names, ascending


def confirmed(records: pd.DataFrame, pool: pd.DataFrame, rule: Confirmation, fn: str, arg: str) -> np.ndarray:
    """For each of `records` (a subset of `pool`, by index), whether the later records of its
    subject in `pool` confirm it by `rule` (vectorized: one self-join per subject)."""
    if records.empty:
        return np.zeros(0, bool)
    if rule.date not in pool:
        raise bad_argument(fn, f"{arg}.date", f"{rule.date!r} is not a variable of the source records")
    ranked = pool.assign(_rank=np.arange(len(pool))).sort_values(["USUBJID", rule.date, "_rank"], kind="stable")
    ranked["_rank"] = np.arange(len(ranked))
    rank = ranked["_rank"]
    cand = pd.DataFrame({"USUBJID": records["USUBJID"].to_numpy(), "_cid": np.arange(len(records)),
                         "_crank": rank.reindex(records.index).to_numpy(), "_cdate": records[rule.date].to_numpy()})
    pairs = cand.merge(ranked, on="USUBJID")
    pairs = pairs[pairs["_rank"] > pairs["_crank"]].sort_values(["_cid", "_rank"], kind="stable")
    limit = pairs["_cdate"] + pd.Timedelta(days=rule.min_days)
    confirms = meets(pairs, rule.until, fn, f"{arg}.until") & (pairs[rule.date] >= limit).fillna(False).astype(bool)
    first = pairs["_rank"].where(confirms).groupby(pairs["_cid"]).min()
    window = pairs[pairs["_rank"] <= pairs["_cid"].map(first)]
    ok = pd.Series(False, index=range(len(records)))
    ok[first.dropna().index] = True
    if rule.all is not None:
        every = meets(window, rule.all, fn, f"{arg}.all").groupby(window["_cid"]).all()
        ok &= every.reindex(ok.index, fill_value=True)
    for i, limit_ in enumerate(rule.at_most):
        n = meets(window, limit_["filter"], fn, f"{arg}.at_most[{i}]").groupby(window["_cid"]).sum()
        ok &= (n.reindex(ok.index, fill_value=0) <= limit_["count"])
    if rule.none_after is not None:
        dates = window[rule.date]
        first_at = dates.where(meets(window, rule.none_after["first"], fn, f"{arg}.none_after")).groupby(window["_cid"]).min()
        then_at = dates.where(meets(window, rule.none_after["then"], fn, f"{arg}.none_after")).groupby(window["_cid"]).max()
        clash = (then_at >= first_at).reindex(ok.index).fillna(False).astype(bool)
        ok &= ~clash
    return ok.to_numpy()


def extreme_event_records(df: pd.DataFrame, ctx, events: list[dict], order: list, source: dict | None = None,
                          population: dict | None = None, fn: str = "derive_param_extreme_event") -> pd.DataFrame:
    """One record per subject: the first by `order` of the candidates of all `events` (see the
    module docstring), for the subjects of `population` (an ADSL filter) when given."""
    if not isinstance(events, list) or not events:
        raise bad_argument(fn, "events", "must list at least one event")
    parsed = [Event.parse(e, fn, i) for i, e in enumerate(events)]
    names, ascending = _sort_keys(order, fn)
    pool = select(df, source, fn) if len(df) else df
    frames = []
    for i, ev in enumerate(parsed):
        arg = f"events[{i}]"
        if ev.dataset is None:
            rows = select(pool, ev.filter, fn) if len(pool) else pool
            if ev.confirmed_by is not None:
                rows = rows[confirmed(rows, pool, ev.confirmed_by, fn, f"{arg}.confirmed_by")]
            rows = rows.copy()
        else:
            data = ctx.domain(ev.dataset)
            rows = select(data, ev.filter, fn)
            if ev.confirmed_by is not None:
                rows = rows[confirmed(rows, data, ev.confirmed_by, fn, f"{arg}.confirmed_by")]
            wanted = ["USUBJID", *ev.keep, *ev.copy.values()]
            missing = [v for v in wanted if v not in rows]
            if missing:
                raise bad_argument(fn, arg, f"names {missing}, not variables of {ev.dataset}")
            rows = rows[list(dict.fromkeys(["USUBJID", *ev.keep]))].assign(
                **{new: rows[old] for new, old in ev.copy.items()})
        if ev.dataset is None and ev.copy:
            rows = rows.assign(**{new: rows[old] for new, old in ev.copy.items()})
        frames.append(rows.assign(**ev.set, _event=i))
    found = pd.concat(frames, ignore_index=True)
    if population is not None:
        found = found[found["USUBJID"].isin(select(ctx.adsl, population, fn)["USUBJID"])]
    keys = [("_event" if n == EVENT_KEY else n) for n in names]
    missing = [n for n in keys if n not in found]
    if missing:
        raise bad_argument(fn, "order", f"names {missing}, not variables of the candidate records")
    # dplyr sorts missing values last in both directions; pandas does so too with na_position="last"
    chosen = (found.sort_values(["USUBJID", *keys], ascending=[True, *ascending], kind="stable", na_position="last")
              .drop_duplicates("USUBJID"))
    return chosen.drop(columns=["_event"]).reset_index(drop=True)


@derivation
def derive_param_extreme_event(df: pd.DataFrame, ctx, events: list[dict], order: list, set_values: dict,
                               source: dict | None = None, population: dict | None = None,
                               aval_map: dict | None = None) -> pd.DataFrame:
    """Adds one record per subject chosen from the ordered `events` among the records of this
    dataset meeting `source` (and other datasets' records, as events say); the new records take
    `set_values` (e.g. PARAMCD, PARAM) and, with `aval_map`, AVAL = aval_map[AVALC] (a value not
    listed gives a missing AVAL)."""
    fn = "derive_param_extreme_event"
    if not isinstance(set_values, dict) or not set_values:
        raise bad_argument(fn, "set_values", "must give the new records' values (e.g. PARAMCD, PARAM)")
    new = extreme_event_records(df, ctx, events, order, source, population, fn).assign(**set_values)
    if aval_map is not None:
        if not isinstance(aval_map, dict):
            raise bad_argument(fn, "aval_map", f"must map AVALC values to numbers, got {aval_map!r}")
        new["AVAL"] = new["AVALC"].map(aval_map).astype(float)
    return pd.concat([df, new], ignore_index=True) if len(df) else new


@derivation
def derive_vars_extreme_event(df: pd.DataFrame, ctx, events: list[dict], order: list, new_vars: list[str]
                              ) -> pd.DataFrame:
    """Variables `new_vars` of each subject's record chosen from the ordered `events` (as
    derive_param_extreme_event chooses it), added to the subject's records; missing for a subject
    without a candidate. E.g. the cause of death from a fatal AE, else from the disposition of the
    death: events `{dataset: AE, filter: {AEOUT: FATAL}, copy: {DTHCAUS: AEDECOD}, set: {DTHDOM: AE}}`,
    `{dataset: DS, ...}`, order `[event]`."""
    fn = "derive_vars_extreme_event"
    if not isinstance(new_vars, list) or not new_vars:
        raise bad_argument(fn, "new_vars", "must name the variables to take from the chosen records")
    chosen = extreme_event_records(df, ctx, events, order, fn=fn)
    missing = [v for v in new_vars if v not in chosen]
    if missing:
        raise bad_argument(fn, "new_vars", f"names {missing}, which no event sets or copies")
    out = df.drop(columns=[v for v in new_vars if v in df])
    return out.merge(chosen[["USUBJID", *new_vars]], on="USUBJID", how="left", validate="many_to_one")
