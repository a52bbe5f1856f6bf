"""SDTM mapping algorithms: the subject's path through the trial design, registered on import.

* `subject_elements`: SE from the infusion log, the informed consent date and the end of
  participation; contiguous by construction (each element ends where the next starts).
* `subject_visits`: SV from the visit-coded records stacked by the mapping's sources (numbered by the
  `visit`/`visitnum` algorithms, so SV, TV and the findings domains share one numbering).
* `epoch_from_elements`: EPOCH of any dated record from the subject's elements (SE), so that the
  EPOCH of a record agrees with SE.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from submit.sdtm.algorithms import DomainContext, domain_algorithm
from submit.sdtm.trial_design import (EPOCHS, FOLLOW, REST, SCREEN, _bad, _identify, element_code, trial_arms,
                                      trial_elements, trial_visits)


# --- SE -------------------------------------------------------------------------------------------


def _stamp(date: pd.Series, time: pd.Series) -> pd.Series:
    """ISO 8601 date or date-time text from raw date and time columns (null date: null)."""
    d, t = date.astype(object), time.astype(object)
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


def subject_elements(ctx: DomainContext, infusion: str = "infusion", consent: str = "consent",
                     subject: str = "SUBJID") -> pd.DataFrame:
    """The elements each subject passed through, one record each, in time order:

    * SCRN from the informed consent (DM.RFICDTC) to the start of the first infusion;
    * one infusion element per dose step of a cycle (PHASE, CYCLE, STEP of the infusion log) from the
      start of its first segment to the end of its last: an interruption within a step stays inside
      the step's element (the element runs longer than planned, SDTMIG SE assumption 3), and a step
      still running at the data cut-off has no end;
    * TFI from the end of a cycle's infusion to the start of the next cycle, or, after the last cycle
      of the core study or retreatment, for the planned treatment-free days (not beyond the end of
      participation);
    * FU from the end of that interval to the start of retreatment or to DM.RFPENDTC.

    Each element ends where the next starts, so the elements are contiguous by construction. TAETORD
    is the order of the element in the subject's planned arm (DM.ARMCD) when the element is the
    planned one for that phase, cycle and step (dose included), else null; EPOCH is the arm's epoch,
    or that of the phase for an unplanned element."""
    if ctx.dm is None:
        raise _bad(ctx.domain, "subject_elements needs DM (consent, arm, end of participation)")
    study, dm = ctx.study, ctx.dm[["USUBJID", "SUBJID", "ARMCD", "RFICDTC", "RFPENDTC"]]
    inf = ctx.frames[infusion]
    by_subject = dm.set_index("SUBJID")
    seg = pd.DataFrame({"SUBJID": inf[subject].astype(object), "phase": inf.PHASE.astype(object),
                        "cycle": inf.CYCLE.astype(float), "step": inf.STEP.astype("Int64").astype(str).astype(object),
                        "start": _stamp(inf.STDT, inf.STTM), "end": _stamp(inf.ENDT, inf.ENTM),
                        "dose": inf.DOSE.astype(float), "row": np.arange(1, len(inf) + 1)})
    seg = seg[seg.SUBJID.isin(by_subject.index) & seg.start.notna()]
    keys = ["SUBJID", "phase", "cycle", "step"]
    steps = seg.groupby(keys, sort=False).agg(dose=("dose", "first"), row=("row", "min"), ends=("end", "count"),
                                              n=("end", "size"))
    steps["start"] = _extreme(seg, keys, "start", "min")
    steps["end"] = _extreme(seg, keys, "end", "max").where(steps.ends == steps.n)  # a segment running: no end
    steps = steps.reset_index().assign(kind="INF")

    cyc_keys = ["SUBJID", "phase", "cycle"]
    cyc = steps.groupby(cyc_keys, sort=False).agg(row=("row", "max"), ends=("end", "count"), n=("end", "size"))
    cyc["start"] = _extreme(steps, cyc_keys, "start", "min")
    cyc["end"] = _extreme(steps, cyc_keys, "end", "max").where(cyc.ends == cyc.n)
    cyc = cyc.reset_index()
    cyc = cyc.sort_values(["SUBJID", "start"], kind="stable")
    nxt = cyc.groupby("SUBJID").shift(-1)
    cyc["next_start"], cyc["next_phase"] = nxt.start, nxt.phase
    rfpen = cyc.SUBJID.map(by_subject.RFPENDTC).astype(object)
    rfpen_day = rfpen.astype(str).str.slice(0, 10).where(rfpen.notna())

    rest = cyc[cyc.end.notna() & (cyc.next_start.isna() | (cyc.next_start > cyc.end))].assign(
        kind="TFI", step=REST, start=lambda d: d.end)
    last_of_phase = cyc.next_phase.isna() | (cyc.next_phase != cyc.phase)
    fu_start = _shift_days(cyc.end, study.treatment.treatment_free_days)
    fu_text = fu_start.fillna("")
    keep = cyc.end.notna() & last_of_phase & fu_start.notna() & np.where(
        cyc.next_start.isna(), fu_text.str.slice(0, 10) <= rfpen_day.fillna(""), fu_text < cyc.next_start.fillna(""))
    follow = cyc[keep].assign(kind="FU", step=FOLLOW, start=fu_start[keep])

    scr = dm[dm.RFICDTC.notna()]
    screen = pd.DataFrame({"SUBJID": scr.SUBJID, "phase": None, "cycle": np.nan, "step": SCREEN,
                           "start": scr.RFICDTC.astype(str).str.slice(0, 10), "kind": "SCRN"})
    cons = ctx.frames.get(consent)
    if cons is not None:
        crow = pd.Series(np.arange(1, len(cons) + 1), index=cons[subject].astype(object)).groupby(level=0).first()
        screen["row"] = screen.SUBJID.map(crow)
    cols = ["SUBJID", "phase", "cycle", "step", "kind", "start", "end", "dose", "row"]
    se = pd.concat([x.reindex(columns=cols) for x in (screen, steps, rest, follow)], ignore_index=True)
    se["rank"] = se.kind.map({"SCRN": 0, "INF": 1, "TFI": 2, "FU": 3})
    se = se.sort_values(["SUBJID", "start", "rank"], kind="stable").reset_index(drop=True)

    # contiguous: an element ends where the next one starts; the last one at the end of participation
    # (a running infusion: no end)
    se["SEENDTC"] = se.groupby("SUBJID").start.shift(-1)
    last = se.SEENDTC.isna()
    running = se.kind.eq("INF") & se.end.isna()
    se.loc[last & ~running, "SEENDTC"] = se.SUBJID.map(by_subject.RFPENDTC)[last & ~running]

    # the planned element: TAETORD and EPOCH of the subject's arm
    ta = trial_arms(study)
    se["ARMCD"] = se.SUBJID.map(by_subject.ARMCD)
    se["ETCD"] = se.kind.map({"SCRN": SCREEN, "TFI": REST, "FU": FOLLOW})
    inf_rows = se.kind.eq("INF")
    codes = {d: element_code(study, d) for d in se.dose[inf_rows].unique()}  # one per dose level
    se.loc[inf_rows, "ETCD"] = se.dose[inf_rows].map(codes)
    se.loc[se.kind.isin(["SCRN", "FU"]), "cycle"] = np.nan  # follow-up is planned per phase, not per cycle
    plan = ta.rename(columns={"_PHASE": "phase", "_CYCLE": "cycle", "_STEP": "step", "ETCD": "PLANNED"})
    plan["cycle"] = plan.cycle.astype(float)
    se = se.merge(plan[["ARMCD", "phase", "cycle", "step", "TAETORD", "PLANNED", "EPOCH"]], how="left",
                  on=["ARMCD", "phase", "cycle", "step"])
    planned = se.PLANNED.eq(se.ETCD)
    se["TAETORD"] = se.TAETORD.where(planned)
    se["EPOCH"] = se.EPOCH.where(planned, se.kind.map({"SCRN": EPOCHS["screening"], "FU": EPOCHS["follow-up"]})
                                 .fillna(se.phase.map(EPOCHS)))
    se["ELEMENT"] = se.ETCD.map(trial_elements(study).set_index("ETCD").ELEMENT)
    se["USUBJID"] = se.SUBJID.map(by_subject.USUBJID)
    se["__raw"] = np.where(se.kind.eq("SCRN"), consent, infusion)
    se["__row"] = se.row
    return se.rename(columns={"start": "SESTDTC"})[
        ["USUBJID", "ETCD", "ELEMENT", "TAETORD", "EPOCH", "SESTDTC", "SEENDTC", "__raw", "__row"]]


@domain_algorithm
def derive_subject_elements(df: pd.DataFrame, ctx: DomainContext, infusion: str = "infusion",
                            consent: str = "consent") -> pd.DataFrame:
    """SE from the infusion log, the consent and DM (see `subject_elements`): a mapping without
    sources; each record traces to the infusion row that starts it (treatment-free interval and
    follow-up: the last infusion row of the cycle before) or to the consent row."""
    for name in (infusion, consent):
        if name not in ctx.frames:
            raise _bad(ctx.domain, f"subject_elements: no raw dataset {name!r}")
    se = ctx.cached(("SE", infusion, consent), lambda: subject_elements(ctx, infusion, consent))
    return _identify(se, ctx)


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
    tv = trial_visits(ctx.study).set_index("VISITNUM")
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
                               infusion: str = "infusion", consent: str = "consent") -> pd.DataFrame:
    """EPOCH of each record from the subject's elements (SE): the epoch of the element in which the
    record's date falls, compared by date (an element starting on the record's date counts, the
    latest one of that day winning), null before informed consent, after the end of the last element
    and for partial dates. Keeps EPOCH in every domain consistent with SE."""
    if dtc not in df:
        raise _bad(ctx.domain, f"epoch_from_elements: no variable {dtc}")
    se = ctx.cached(("SE", infusion, consent), lambda: subject_elements(ctx, infusion, consent))
    se = se.assign(day=pd.to_datetime(se.SESTDTC.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce"),
                   until=pd.to_datetime(se.SEENDTC.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce"))
    # One resolution on both sides: merge_asof refuses keys of different datetime units.
    se = se[se.day.notna()].sort_values(["day", "SESTDTC"], kind="stable").astype(
        {"USUBJID": object, "day": "datetime64[us]"})
    text = df[dtc].astype(object).where(df[dtc].notna(), "").astype(str).str.slice(0, 10)
    rec = pd.DataFrame({"USUBJID": df.USUBJID.astype(object),
                        "day": pd.to_datetime(text.where(text.str.len() == 10), format="%Y-%m-%d", errors="coerce"),
                        "i": np.arange(len(df))})
    known = rec[rec.day.notna()].sort_values("day", kind="stable").astype({"day": "datetime64[us]"})
    hit = pd.merge_asof(known, se[["USUBJID", "day", "until", "EPOCH", "SEENDTC"]], on="day", by="USUBJID",
                        direction="backward")
    inside = hit.SEENDTC.isna() | hit.until.isna() | (hit.day <= hit.until)
    # after the last element's end: no epoch, unless the element is open (a running infusion)
    epoch = np.full(len(df), None, dtype=object)
    epoch[hit.i.to_numpy()] = hit.EPOCH.astype(object).where(inside & hit.EPOCH.notna(), None).to_numpy()
    df[target] = epoch
    return df
