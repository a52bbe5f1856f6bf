"""SDTM mapping algorithms: the subject's path through the trial design, registered on import.

* `subject_elements`: SE from a declared exposure source and element rules (se.yaml), the planned
  arms (TA table) and DM; contiguous by construction (each element ends where the next starts).
* `subject_visits`: SV from the visit-coded records stacked by the mapping's sources (numbered by the
  visit schedule, so SV, TV and the findings domains share one numbering).
* `epoch_from_elements`: EPOCH of any dated record from the subject's elements (SE, built right
  after DM), so that the EPOCH of a record agrees with SE; compared by date, or with `by_time` by date
  and time (a pre-dose measurement on the day of the first dose stays in screening).

Element rules (se.yaml), e.g. for cycles of dose steps:

    subject_elements:
      exposure:                                 # the raw dataset of the treatment given
        raw: infusion
        subject: SUBJID                         # default: the subject column of its raw schema
        start: {date: STDT, time: STTM}         # time optional
        end: {date: ENDT, time: ENTM}
        element: [PHASE, CYCLE, STEP]           # the records of one element share these values
        etcd: {column: DOSE, values: {5: BLIN5, 15: BLIN15}}   # or {column: X}: the value is the ETCD;
                                                # none: the ETCD that TA plans at that place
      arms: {file: trial_design/TA.csv, match: {PHASE: _PHASE, CYCLE: _CYCLE, STEP: _STEP}}
      elements: trial_design/TE.csv
      first: {etcd: SCRN, start: RFICDTC, trace: {raw: consent}}   # from a DM date to the first exposure;
                                                # traced to the subject's first record of `trace`
                                                # (the raw form of that date), else to its DM record
      gap: {etcd: TFI, after: [PHASE, CYCLE]}   # after each such group: until the next one, at most TEDUR
      follow_up: {etcd: FU, after: [PHASE]}     # after the gap of the last group of each PHASE
      end: RFPENDTC                             # DM variable ending the last element (default)

A simple study (one exposure record per dose, one element per treatment, follow-up after the last
dose): `element: [EXTRT]`, `etcd: {column: EXTRT, values: {...}}`, `arms: {file: ..., match: {}}`,
`follow_up: {etcd: FU, after: []}` and no gap.

The planned element of a subject's element is its *slot*: the row of the subject's arm (DM.ARMCD)
in TA whose planning columns hold the element's values of the columns its rule groups by (the other
planning columns empty); where the arm has several such rows, the one with the element's ETCD.
TAETORD is the slot's when the ETCD is the planned one, else null; EPOCH is the slot's, or without
a slot the one epoch TA gives that ETCD (null when TA gives it several).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from submit.errors import InputError, Problem
from submit.sdtm.algorithms import DomainContext, domain_algorithm, raw_text
from submit.sdtm.trial_tables import _identify, load_trial_table
from submit.sdtm.visits import visit_schedule

SE_CACHE = ("SE",)
KINDS = ("first", "exposure", "gap", "follow_up")  # also the order of elements starting together


def _bad(where: str, message: str, **at) -> InputError:
    return InputError(f"Mapping of {where}", [Problem("mapping", message, **at)])


# --- the rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementRules:
    raw: str
    subject: str
    start: tuple[str, str | None]  # date, time columns
    end: tuple[str, str | None]
    element: tuple[str, ...]
    etcd_column: str | None
    etcd_values: dict | None
    arms: str
    match: dict  # raw column -> TA planning column
    elements: str
    first: dict
    gap: dict | None
    follow_up: dict | None
    end_of_participation: str


def _stamp_columns(spec, name: str, problems: list[str]) -> tuple[str, str | None]:
    if not isinstance(spec, dict) or "date" not in spec or set(spec) - {"date", "time"}:
        problems.append(f"exposure.{name} must be {{date: COLUMN, time: COLUMN}} (time optional)")
        return "", None
    return spec["date"], spec.get("time")


def element_rules(ctx: DomainContext, exposure: dict, arms: dict, elements: str, first: dict,
                  gap: dict | None, follow_up: dict | None, end: str) -> ElementRules:
    """The declared rules, checked: every problem at once, naming the parameter."""
    p: list[str] = []
    exposure = exposure if isinstance(exposure, dict) else {}
    unknown = set(exposure) - {"raw", "subject", "start", "end", "element", "etcd"}
    if unknown:
        p.append(f"exposure: unknown keys {sorted(unknown)}")
    raw = exposure.get("raw")
    if raw not in ctx.frames:
        p.append(f"exposure.raw: no raw dataset {raw!r}")
    start = _stamp_columns(exposure.get("start"), "start", p)
    stop = _stamp_columns(exposure.get("end"), "end", p)
    element = tuple(exposure.get("element") or ())
    if not element:
        p.append("exposure.element must list the columns grouping records into one element")
    etcd = exposure.get("etcd")
    if etcd is not None and (not isinstance(etcd, dict) or "column" not in etcd or set(etcd) - {"column", "values"}):
        p.append("exposure.etcd must be {column: COLUMN, values: {raw value: ETCD}} (values optional)")
        etcd = None
    subject = exposure.get("subject") or ctx.subject_of(raw)
    if raw in ctx.frames:
        columns = [subject, *start, *stop, *element, *([etcd["column"]] if etcd else [])]
        p += [f"exposure: raw {raw} has no column {c}" for c in columns if c and c not in ctx.frames[raw]]
    if not isinstance(arms, dict) or "file" not in arms or set(arms) - {"file", "match"}:
        p.append("arms must be {file: TA table, match: {exposure column: TA planning column}}")
        arms = {"file": "", "match": {}}
    match = dict(arms.get("match") or {})
    p += [f"arms.match: {c} is not an exposure.element column" for c in match if c not in element]
    for name, rule in (("first", first), ("gap", gap), ("follow_up", follow_up)):
        if rule is None:
            continue
        allowed = {"etcd", "start", "trace"} if name == "first" else {"etcd", "after"}
        if not isinstance(rule, dict) or "etcd" not in rule or set(rule) - allowed:
            p.append(f"{name} must be {{{', '.join(sorted(allowed))}}} with etcd")
            continue
        if name == "first" and "start" not in rule:
            p.append("first.start must name the DM date starting the first element (e.g. RFICDTC)")
        trace = rule.get("trace") if name == "first" else None
        if trace is not None and (not isinstance(trace, dict) or trace.get("raw") not in ctx.frames
                                  or set(trace) - {"raw", "subject"}):
            p.append("first.trace must be {raw: raw dataset, subject: column} (the form of the start date)")
    gap_after = tuple((gap or {}).get("after") or ())
    fu_after = tuple((follow_up or {}).get("after") or ())
    p += [f"gap.after: {c} is not an exposure.element column" for c in gap_after if c not in element]
    if gap is not None:
        p += [f"follow_up.after: {c} is not a gap.after column" for c in fu_after if c not in gap_after]
    else:
        p += [f"follow_up.after: {c} is not an exposure.element column" for c in fu_after if c not in element]
    if p:
        raise InputError(f"Mapping of {ctx.domain} (subject_elements)", [Problem("mapping", m) for m in p])
    return ElementRules(raw, subject, start, stop, element, etcd["column"] if etcd else None,
                        {str(k): v for k, v in etcd["values"].items()} if etcd and etcd.get("values") else None,
                        arms["file"], match, elements, first, gap, follow_up, end)


def _days(tedur, where: str) -> int:
    """Days of an ISO 8601 duration in whole days or weeks (P14D, P2W)."""
    m = re.fullmatch(r"P(\d+)([DW])", str(tedur or ""))
    if not m:
        raise _bad(where, f"subject_elements: the gap element needs TEDUR in days or weeks (P14D, P2W), not {tedur!r}")
    return int(m[1]) * (7 if m[2] == "W" else 1)


# --- SE -------------------------------------------------------------------------------------------


def _stamp(date: pd.Series, time: pd.Series | None) -> pd.Series:
    """ISO 8601 date or date-time text from raw date and time columns (null date: null)."""
    d = date.astype(object)
    if time is None:
        return d.where(d.notna())
    t = time.astype(object)
    return d.where(t.isna() | d.isna(), d.astype(str) + "T" + t.astype(str)).where(d.notna())


def _shift_days(stamp: pd.Series, days: int) -> pd.Series:
    """An ISO date or date-time `days` later, at the same precision (date-time: hh:mm)."""
    parsed = pd.to_datetime(stamp, format="ISO8601", errors="coerce") + pd.Timedelta(days=days)
    with_time = stamp.astype(str).str.len() > 10
    return pd.Series(np.where(with_time, parsed.dt.strftime("%Y-%m-%dT%H:%M"), parsed.dt.strftime("%Y-%m-%d")),
                     index=stamp.index, dtype=object).where(stamp.notna() & parsed.notna())


def _extreme(df: pd.DataFrame, keys: list[str], column: str, how: str) -> pd.Series:
    """Per group, the earliest (`min`) or latest (`max`) ISO 8601 text of a column, nulls skipped.
    ISO 8601 text sorts in time order, so its rank among the distinct values is compared instead
    of the text (a text min/max per group would run in Python)."""
    codes, uniques = pd.factorize(df[column], sort=True)
    rank = pd.Series(np.where(codes < 0, np.nan, codes), index=df.index)
    best = rank.groupby([df[k] for k in keys], sort=False, dropna=False).agg(how)
    text = np.asarray(uniques, dtype=object)[best.fillna(0).astype(int).to_numpy()] if len(uniques) else None
    return pd.Series(text, index=best.index, dtype=object).where(best.notna())


def _spans(df: pd.DataFrame, keys: list[str], row: str) -> pd.DataFrame:
    """Per group: first start, last end (null while one is open), and the trace row."""
    out = df.groupby(keys, sort=False, dropna=False).agg(row=("row", row), ends=("end", "count"), n=("end", "size"))
    out["start"] = _extreme(df, keys, "start", "min")
    out["end"] = _extreme(df, keys, "end", "max").where(out.ends == out.n)
    return out.drop(columns=["ends", "n"])


def _exposure_elements(ctx: DomainContext, r: ElementRules, subjects: pd.Index) -> pd.DataFrame:
    """One record per exposure element: the records sharing the `element` values, from the start of
    the first to the end of the last (an interruption stays inside the element, SDTMIG SE
    assumption 3; a record still running leaves the element open)."""
    raw = ctx.frames[r.raw]
    seg = pd.DataFrame({"SUBJID": raw[r.subject].astype(object),
                        "start": _stamp(raw[r.start[0]], raw[r.start[1]] if r.start[1] else None),
                        "end": _stamp(raw[r.end[0]], raw[r.end[1]] if r.end[1] else None),
                        "row": np.arange(1, len(raw) + 1)})
    for c in r.element:
        seg[c] = raw_text(raw[c]).astype(object)
    if r.etcd_column is not None:
        value = raw_text(raw[r.etcd_column])
        seg["ETCD"] = value.map(r.etcd_values) if r.etcd_values is not None else value
        unmapped = value.notna() & seg.ETCD.isna() & seg.SUBJID.isin(subjects)
        if unmapped.any():
            ctx.exceptions.add(ctx.domain, r.raw, raw.index[unmapped.to_numpy()], r.etcd_column, value[unmapped],
                               "no element (ETCD) for this value in subject_elements")
    else:
        seg["ETCD"] = None
    seg = seg[seg.SUBJID.isin(subjects) & seg.start.notna()]
    keys = ["SUBJID", *r.element]
    steps = _spans(seg, keys, "min")
    steps["ETCD"] = seg.groupby(keys, sort=False, dropna=False).ETCD.first()
    return steps.reset_index().assign(kind="exposure")


def _gap_and_follow_up(steps: pd.DataFrame, r: ElementRules, te: pd.DataFrame, rfpen: pd.Series,
                       where: str) -> list[pd.DataFrame]:
    """The gap element after each `gap.after` group whose exposure ended (until the next group
    starts), and the follow-up element after the last group of each `follow_up.after` value, from
    the end of the gap (TEDUR of the gap element) until the next exposure or the end of participation."""
    if r.gap is None and r.follow_up is None:
        return []
    period = list(r.gap.get("after") or []) if r.gap else list(r.element)
    keys = ["SUBJID", *period]
    cyc = _spans(steps, keys, "max").reset_index().sort_values(["SUBJID", "start"], kind="stable")
    nxt = cyc.groupby("SUBJID").shift(-1)
    cyc["next_start"] = nxt.start
    out = []
    if r.gap is not None:
        out.append(cyc[cyc.end.notna() & (cyc.next_start.isna() | (cyc.next_start > cyc.end))].assign(
            kind="gap", ETCD=r.gap["etcd"], start=lambda d: d.end))
    if r.follow_up is not None:
        after = list(r.follow_up.get("after") or [])
        last = cyc.next_start.isna()
        for c in after:  # the last group of its follow_up.after value
            last |= nxt[c].astype(object).ne(cyc[c].astype(object))
        offset = _days(te.TEDUR.get(r.gap["etcd"]), where) if r.gap is not None else 0
        start = _shift_days(cyc.end, offset)
        text = start.fillna("")
        rfpen_day = cyc.SUBJID.map(rfpen).astype(object)
        rfpen_day = rfpen_day.astype(str).str.slice(0, 10).where(rfpen_day.notna()).fillna("")
        keep = cyc.end.notna() & last & start.notna() & np.where(
            cyc.next_start.isna(), text.str.slice(0, 10) <= rfpen_day, text < cyc.next_start.fillna(""))
        out.append(cyc[keep].drop(columns=[c for c in period if c not in after]).assign(
            kind="follow_up", ETCD=r.follow_up["etcd"], start=start[keep]))
    return out


def _plan(se: pd.DataFrame, r: ElementRules, ta: pd.DataFrame, where: str) -> pd.DataFrame:
    """TAETORD and EPOCH of each element from its slot in the subject's arm (see the module)."""
    planning = list(r.match.values())
    group_by = {"first": [], "exposure": list(r.element),
                "gap": list((r.gap or {}).get("after") or []), "follow_up": list((r.follow_up or {}).get("after") or [])}
    etcd_epochs = ta.groupby("ETCD").EPOCH.agg(lambda e: e.iloc[0] if e.nunique() == 1 else None)
    parts = []
    for kind, rows in se.groupby("kind", sort=False):
        cols = [c for c in group_by[kind] if c in r.match]
        plan_cols = [r.match[c] for c in cols]
        others = [c for c in planning if c not in plan_cols]
        slots = ta[ta[plan_cols].notna().all(axis=1) & ta[others].isna().all(axis=1)]
        on_etcd = slots.duplicated(["ARMCD", *plan_cols]).any()  # several candidates: the one with the ETCD
        if on_etcd:
            twice = slots.duplicated(["ARMCD", *plan_cols, "ETCD"], keep=False)
            if twice.any():
                raise InputError(f"Mapping of {where} (subject_elements)",
                                 [Problem(r.arms, f"arm {a} plans {e} twice at the same place", row=int(n))
                                  for a, e, n in zip(slots.ARMCD[twice], slots.ETCD[twice], slots["__row"][twice])])
        slot = slots[["ARMCD", *plan_cols, "ETCD", "TAETORD", "EPOCH"]].rename(columns=dict(zip(plan_cols, cols)))
        slot["PLANNED"] = slot.ETCD
        keys = ["ARMCD", *cols, *(["ETCD"] if on_etcd else [])]
        hit = rows.merge(slot if on_etcd else slot.drop(columns="ETCD"), how="left", on=keys)
        hit.index = rows.index
        if r.etcd_column is None and kind == "exposure":
            hit["ETCD"] = hit.PLANNED
        planned = hit.PLANNED.eq(hit.ETCD)
        hit["TAETORD"] = hit.TAETORD.where(planned)
        hit["EPOCH"] = hit.EPOCH.where(hit.PLANNED.notna(), hit.ETCD.map(etcd_epochs))
        parts.append(hit)
    return pd.concat(parts).loc[se.index]


def subject_elements(ctx: DomainContext, r: ElementRules) -> pd.DataFrame:
    """The elements each subject passed through, one record each, in time order: the first element
    from the DM date `first.start` to the first exposure; the exposure elements; the gap and
    follow-up elements; each ends where the next starts (the last at the end of participation, or
    open while an exposure runs)."""
    where = ctx.domain
    if ctx.dm is None:
        raise _bad(where, "subject_elements needs DM (first element start, arm, end of participation)")
    for name in ("USUBJID", "SUBJID", "ARMCD", r.first["start"], r.end_of_participation):
        if name not in ctx.dm:
            raise _bad(where, f"subject_elements: DM has no {name}")
    dm = ctx.dm.reset_index(drop=True)
    by_subject = dm.set_index("SUBJID")
    te = load_trial_table(ctx.specs_folder, r.elements, ctx.spec, "TE").set_index("ETCD")
    ta = load_trial_table(ctx.specs_folder, r.arms, ctx.spec, "TA", planning=tuple(r.match.values()))
    known = set(te.index)
    used = {r.first["etcd"], *((r.gap or {}).get("etcd"),), *((r.follow_up or {}).get("etcd"),),
            *(r.etcd_values or {}).values()} - {None}
    if used - known:
        raise _bad(where, f"subject_elements: elements {sorted(used - known)} are not in {r.elements}")

    steps = _exposure_elements(ctx, r, by_subject.index)
    rfpen = by_subject[r.end_of_participation]
    later = _gap_and_follow_up(steps, r, te, rfpen, where)
    first = dm[dm[r.first["start"]].notna()]
    screen = pd.DataFrame({"SUBJID": first.SUBJID, "start": first[r.first["start"]].astype(str).str.slice(0, 10),
                           "kind": "first", "ETCD": r.first["etcd"], "row": first.index + 1, "__raw": "DM"})
    if r.first.get("trace"):  # the raw form the start date was collected on: the subject's first record
        form, subject = ctx.frames[r.first["trace"]["raw"]], r.first["trace"].get("subject") or ctx.subject_of(r.first["trace"]["raw"])
        rows = pd.Series(np.arange(1, len(form) + 1), index=form[subject].astype(object)).groupby(level=0).first()
        screen["row"], screen["__raw"] = screen.SUBJID.map(rows), r.first["trace"]["raw"]
    cols = ["SUBJID", *r.element, "kind", "ETCD", "start", "end", "row", "__raw"]
    se = pd.concat([x.reindex(columns=cols) for x in (screen, steps, *later)], ignore_index=True)
    se["__raw"] = se["__raw"].fillna(r.raw)
    se["rank"] = se.kind.map({k: i for i, k in enumerate(KINDS)})
    se = se.sort_values(["SUBJID", "start", "rank"], kind="stable").reset_index(drop=True)

    # contiguous: an element ends where the next one starts; the last one at the end of participation
    # (a running exposure: no end)
    se["SEENDTC"] = se.groupby("SUBJID").start.shift(-1)
    last = se.SEENDTC.isna()
    running = se.kind.eq("exposure") & se.end.isna()
    se.loc[last & ~running, "SEENDTC"] = se.SUBJID.map(rfpen)[last & ~running]

    se["ARMCD"] = se.SUBJID.map(by_subject.ARMCD)
    se = _plan(se, r, ta, where)
    se["ELEMENT"] = se.ETCD.map(te.ELEMENT)
    se["USUBJID"] = se.SUBJID.map(by_subject.USUBJID)
    se["__row"] = se.row
    return se.rename(columns={"start": "SESTDTC"})[
        ["USUBJID", "ETCD", "ELEMENT", "TAETORD", "EPOCH", "SESTDTC", "SEENDTC", "__raw", "__row"]]


@domain_algorithm
def derive_subject_elements(df: pd.DataFrame, ctx: DomainContext, exposure: dict, arms: dict, first: dict,
                            elements: str = "trial_design/TE.csv", gap: dict | None = None,
                            follow_up: dict | None = None, end: str = "RFPENDTC") -> pd.DataFrame:
    """SE by the declared element rules (see the module): a mapping without sources; each record
    traces to the exposure row that starts it (gap and follow-up: the last exposure row of the group
    before) or, for the first element, to the subject's DM record. Kept for `epoch_from_elements`."""
    rules = element_rules(ctx, exposure, arms, elements, first, gap, follow_up, end)
    se = subject_elements(ctx, rules)
    ctx.cache[SE_CACHE] = se
    return _identify(se.copy(), ctx)


# --- SV and EPOCH from SE -----------------------------------------------------------------------


@domain_algorithm
def derive_subject_visits(df: pd.DataFrame, ctx: DomainContext, describe: dict) -> pd.DataFrame:
    """SV: one record per subject and visit from the stacked visit-coded records (USUBJID, VISIT,
    VISITNUM, SVSTDTC = the record's date). SVSTDTC/SVENDTC = first/last date of the visit's records;
    a planned visit (in TV) has SVPRESP = Y, SVOCCUR = Y when a record of it is dated and N when none
    is (every assessment not done), and VISITDY of TV; an unscheduled visit has SVUPDES naming what
    was assessed, from `describe` ({raw dataset: what it holds}, every source needed). The record
    traces to the first raw record of the visit."""
    where = f"{ctx.domain} (subject_visits)"
    missing = sorted(set(df["__raw"].unique()) - set(describe or {}))
    if missing:
        raise _bad(where, f"subject_visits: describe has no text for raw {missing}")
    df = df[df.VISITNUM.notna()].copy()
    date = df.SVSTDTC.astype(object)
    df["SVSTDTC"] = date.where(date.notna() & (date.astype(str) != ""), None)  # iso8601 gives "" for no date
    df["__order"] = df["__raw"].map({k: i for i, k in enumerate(describe)})
    df["what"] = df["__raw"].map(describe)
    df = df.sort_values(["__order", "__row"], kind="stable")
    keys = ["USUBJID", "VISITNUM"]
    sv = df.groupby(keys, sort=True).agg(STUDYID=("STUDYID", "first"), DOMAIN=("DOMAIN", "first"),
                                         VISIT=("VISIT", "first"), __raw=("__raw", "first"), __row=("__row", "first"))
    sv["SVSTDTC"] = _extreme(df, keys, "SVSTDTC", "min")
    sv["SVENDTC"] = _extreme(df, keys, "SVSTDTC", "max")
    sv = sv.reset_index()
    tv = visit_schedule(ctx.specs_folder, ctx.spec, where).planned.drop_duplicates("VISITNUM").set_index("VISITNUM")
    planned = sv.VISITNUM.isin(tv.index)
    # what an unscheduled visit assessed: its sources' descriptions, in the order of `describe`
    uns = df[~df.VISITNUM.isin(tv.index)].drop_duplicates(["USUBJID", "VISITNUM", "what"])
    what = uns.groupby(["USUBJID", "VISITNUM"]).what.agg(", ".join)
    sv["what"] = pd.MultiIndex.from_frame(sv[["USUBJID", "VISITNUM"]]).map(what.to_dict().get) if len(what) else None
    sv["SVPRESP"] = np.where(planned, "Y", None)
    sv["SVOCCUR"] = pd.Series(np.where(sv.SVSTDTC.notna(), "Y", "N"), index=sv.index, dtype=object).where(planned)
    sv["VISITDY"] = sv.VISITNUM.map(tv.VISITDY)
    sv["SVUPDES"] = ("Unscheduled visit: " + sv.what).where(~planned)
    return sv.drop(columns="what")


@domain_algorithm
def derive_epoch_from_elements(df: pd.DataFrame, ctx: DomainContext, dtc: str, target: str = "EPOCH",
                               by_time: bool = False) -> pd.DataFrame:
    """EPOCH of each record from the subject's elements (SE, built right after DM): the epoch of the
    element in which the record's date falls, compared by date (an element starting on the record's
    date counts, the latest one of that day winning), null before the first element, after the end
    of the last element and for partial dates. Keeps EPOCH in every domain consistent with SE.
    With `by_time`, a record with a time is placed by date and time among elements starting with a
    time (a pre-dose measurement on the day of the first dose stays in the element before the dose);
    a record or element without a time is still compared by date."""
    if dtc not in df:
        raise _bad(ctx.domain, f"epoch_from_elements: no variable {dtc}")
    if not isinstance(by_time, bool):
        raise _bad(ctx.domain, f"epoch_from_elements: by_time must be true or false, not {by_time!r}")
    se = ctx.cache.get(SE_CACHE)
    if se is None:
        raise _bad(ctx.domain, "epoch_from_elements needs SE: map SE (subject_elements) in the study")
    se = se.assign(day=pd.to_datetime(se.SESTDTC.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce"),
                   until=pd.to_datetime(se.SEENDTC.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce"))
    # an element starts at its time when it has one, else at the start of its day
    se["at"] = _moment(se.SESTDTC, se.day, by_time, end_of_day=False)
    # One resolution on both sides: merge_asof refuses keys of different datetime units.
    se = se[se.day.notna()].sort_values(["at", "SESTDTC"], kind="stable").astype(
        {"USUBJID": object, "at": "datetime64[us]"})
    stamp = df[dtc].astype(object).where(df[dtc].notna(), "").astype(str)
    text = stamp.str.slice(0, 10)
    day = pd.to_datetime(text.where(text.str.len() == 10), format="%Y-%m-%d", errors="coerce")
    # a record at its time when it has one, else at the end of its day (every element of that day counts)
    rec = pd.DataFrame({"USUBJID": df.USUBJID.astype(object), "day": day,
                        "at": _moment(stamp, day, by_time, end_of_day=True), "i": np.arange(len(df))})
    known = rec[rec.day.notna()].sort_values("at", kind="stable").astype({"at": "datetime64[us]"})
    hit = pd.merge_asof(known, se[["USUBJID", "at", "until", "EPOCH", "SEENDTC"]], on="at", by="USUBJID",
                        direction="backward")
    inside = hit.SEENDTC.isna() | hit.until.isna() | (hit.day <= hit.until)
    # after the last element's end: no epoch, unless the element is open (a running infusion)
    epoch = np.full(len(df), None, dtype=object)
    epoch[hit.i.to_numpy()] = hit.EPOCH.astype(object).where(inside & hit.EPOCH.notna(), None).to_numpy()
    df[target] = epoch
    return df


def _moment(stamp: pd.Series, day: pd.Series, by_time: bool, end_of_day: bool) -> pd.Series:
    """The instant an ISO 8601 text is compared at: its date and time (`by_time` and a time given),
    else its day (the end of it with `end_of_day`, so that it follows every time of that day)."""
    whole_day = day + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if end_of_day else day
    if not by_time:
        return whole_day
    text = stamp.astype(object).where(stamp.notna(), "").astype(str)
    timed = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
    at = pd.to_datetime(text.where(timed).str.slice(0, 16), format="%Y-%m-%dT%H:%M", errors="coerce")
    return at.where(timed, whole_day)
