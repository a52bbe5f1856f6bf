"""Hematological response of acute leukemia from its components, after the registry's criteria.

At each bone marrow assessment (the marrow blast record of LB), the components are gathered as
parameters of their own, each traceable to its SDTM record: marrow blasts, extramedullary disease
(TU, linked by the assessment's link group), and the blood counts of the marrow date or the
latest sample within a window before it. The overall response is then the first of an ordered
list of criteria that the components meet (CR, then CRh*, then PR, else NR; NE without marrow
blasts). A relapse is an assessment showing relapse signs (e.g. blasts > 5% or EMD) when the
subject's latest assessment with either remission or relapse signs was a remission.
"""

from __future__ import annotations

import operator
import re

import numpy as np
import pandas as pd

from submit.adam.filters import select
from submit.adam.derive.dates import dtc_to_date
from submit.adam.derive.extreme_event import extreme_event_records
from submit.adam.registry import bad_argument, derivation

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
             "!=": operator.ne}
_CONDITION = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(\S.*?)\s*$")

COMPONENT_VARS = ["USUBJID", "_ASSESS", "PARAMCD", "PARAM", "AVAL", "AVALC", "ADT", "AVISIT", "AVISITN",
                  "SRCDOM", "SRCVAR", "SRCSEQ"]


def lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """`values` (indexed by key) for each of `keys`, keeping the dtype: Series.map turns an empty
    date series into floats."""
    return values.reindex(keys.to_numpy()).set_axis(keys.index)


def _condition(fn: str, arg: str, text: str):
    m = _CONDITION.match(str(text))
    if not m:
        raise bad_argument(fn, arg, f"condition {text!r} is not '<op> <value>' with op one of {list(OPERATORS)}")
    op, value = m.groups()
    try:
        value = float(value)
    except ValueError:
        pass
    return OPERATORS[op], value


def _meets(wide: pd.DataFrame, when: dict, fn: str, arg: str) -> pd.Series:
    """All conditions of `when` ({PARAMCD: '<op> value'}) hold; a missing component fails its condition."""
    ok = pd.Series(True, index=wide.index)
    for paramcd, text in when.items():
        if paramcd not in wide:
            raise bad_argument(fn, arg, f"names the component {paramcd!r}, which was not derived")
        op, value = _condition(fn, arg, text)
        col = wide[paramcd]
        ok &= col.notna() & op(col, value).fillna(False).astype(bool)
    return ok


@derivation
def derive_param_bm_components(df: pd.DataFrame, ctx, marrow: dict, emd: dict, blood: list[dict],
                               window_days: int = 7, after: str = "TRTSDT",
                               screening: dict | None = None) -> pd.DataFrame:
    """Component records of every bone marrow assessment after `after` (an ADSL date); marrow
    records meeting the filter `screening` (e.g. {VISITNUM: 1}) are pre-treatment whatever their
    date (an undated screening marrow is not post-baseline).

    marrow: {filter, paramcd, param} on LB (the assessment's anchor; its LBLNKGRP links the EMD record)
    emd:    {domain, filter, paramcd, param, link}: one indicator per assessment (AVALC Y/N)
    blood:  [{filter, paramcd, param}] on LB: the value of the marrow date, or else the latest
            within `window_days` days before it."""
    fn = "derive_param_bm_components"
    for arg, spec, keys in (("marrow", marrow, {"filter", "paramcd", "param"}),
                            ("emd", emd, {"domain", "filter", "paramcd", "param", "link"})):
        if not isinstance(spec, dict) or not keys <= set(spec):
            raise bad_argument(fn, arg, f"needs {sorted(keys)}")
    lb = ctx.domain("LB")
    bm = select(lb, marrow["filter"], fn).copy()
    bm["ADT"] = dtc_to_date(bm["LBDTC"])[0]
    start = bm["USUBJID"].map(ctx.adsl.set_index("USUBJID")[after])
    screened = bm.index.isin(select(bm, screening, fn).index) if screening else np.zeros(len(bm), bool)
    bm = bm[~(bm["ADT"] <= start).to_numpy() & ~screened]  # post-baseline (undated: not done)
    bm["_ASSESS"] = bm["USUBJID"] + "|" + bm["LBLNKGRP"].fillna("")
    anchor = bm[["USUBJID", "_ASSESS", "LBLNKGRP", "ADT", "VISIT", "VISITNUM"]].rename(
        columns={"VISIT": "AVISIT", "VISITNUM": "AVISITN", "ADT": "_BMDT"})

    def records(frame: pd.DataFrame, spec: dict, aval, avalc, adt, srcvar: str, seq: str, dom: str) -> pd.DataFrame:
        return pd.DataFrame({"USUBJID": frame["USUBJID"].to_numpy(), "_ASSESS": frame["_ASSESS"].to_numpy(),
                             "PARAMCD": spec["paramcd"], "PARAM": spec["param"], "AVAL": aval, "AVALC": avalc,
                             "ADT": adt, "AVISIT": frame["AVISIT"].to_numpy(), "AVISITN": frame["AVISITN"].to_numpy(),
                             "SRCDOM": dom, "SRCVAR": srcvar, "SRCSEQ": frame[seq].to_numpy()})

    bmr = bm.rename(columns={"VISIT": "AVISIT", "VISITNUM": "AVISITN"})
    parts = [records(bmr, marrow, bmr["LBSTRESN"].to_numpy(), None, bmr["ADT"].to_numpy(),
                     "LBSTRESN", "LBSEQ", "LB")]
    em = select(ctx.domain(emd["domain"]), emd["filter"], fn)
    link = emd["link"]
    em = anchor.merge(em, left_on=["USUBJID", "LBLNKGRP"], right_on=["USUBJID", link], how="inner")
    pre = emd["domain"][:2]
    parts.append(records(em, emd, np.nan, em[f"{pre}STRESC"].to_numpy(), dtc_to_date(em[f"{pre}DTC"])[0].to_numpy(),
                         f"{pre}STRESC", f"{pre}SEQ", emd["domain"]))
    for i, b in enumerate(blood):
        if not isinstance(b, dict) or not {"filter", "paramcd", "param"} <= set(b):
            raise bad_argument(fn, f"blood[{i}]", "needs filter, paramcd and param")
        lab = select(lb, b["filter"], fn)
        lab = lab.assign(_LBDT=dtc_to_date(lab["LBDTC"])[0])[["USUBJID", "_LBDT", "LBSTRESN", "LBSEQ"]].dropna(
            subset=["_LBDT", "LBSTRESN"])
        m = anchor.dropna(subset=["_BMDT"]).merge(lab, on="USUBJID")
        m = m[(m["_LBDT"] <= m["_BMDT"]) & (m["_LBDT"] >= m["_BMDT"] - pd.Timedelta(days=window_days))]
        m = m.sort_values(["_ASSESS", "_LBDT", "LBSEQ"], kind="stable").drop_duplicates("_ASSESS", keep="last")
        parts.append(records(m, b, m["LBSTRESN"].to_numpy(), None, m["_LBDT"].to_numpy(), "LBSTRESN", "LBSEQ", "LB"))
    comp = pd.concat(parts, ignore_index=True)
    return pd.concat([df, comp], ignore_index=True) if len(df) else comp


@derivation
def derive_param_overall_response(df: pd.DataFrame, ctx, paramcd: str, param: str, components: list[str],
                                  criteria: list[dict], otherwise: str, not_evaluable: dict, relapse: dict,
                                  remission: list[str]) -> pd.DataFrame:
    """One `paramcd` record per assessment (see the module docstring).

    criteria:      [{response, when: {COMPONENT: '<op> value', ...}}], the first met wins
    otherwise:     the response when none is met (e.g. NR)
    not_evaluable: {response, missing: [COMPONENT]}: the response when any of these is missing
    relapse:       {response, any: {COMPONENT: '<op> value'}}: relapse signs
    remission:     the responses that are a remission (e.g. [CR, CRh*])"""
    fn = "derive_param_overall_response"
    comp = df[df["PARAMCD"].isin(components)]
    if comp.empty:
        raise bad_argument(fn, "components", f"none of {components} is in the dataset (derive them first)")
    value = comp["AVAL"].astype(object).where(comp["AVAL"].notna(), comp["AVALC"])
    wide = pd.DataFrame({"_ASSESS": comp["_ASSESS"], "PARAMCD": comp["PARAMCD"], "v": value}).pivot_table(
        index="_ASSESS", columns="PARAMCD", values="v", aggfunc="first")
    anchors = comp.drop_duplicates("_ASSESS").set_index("_ASSESS")
    wide = wide.reindex(anchors.index)  # an assessment not done has no value at all
    for c in components:
        if c not in wide:
            wide[c] = np.nan
    choices = [_meets(wide, c["when"], fn, f"criteria[{i}]") for i, c in enumerate(criteria)]
    response = pd.Series(np.select(choices, [c["response"] for c in criteria], otherwise), index=wide.index)
    missing = wide[not_evaluable["missing"]].isna().any(axis=1)
    response = response.where(~missing, not_evaluable["response"])
    signs = pd.Series(False, index=wide.index)
    for i, (pc, text) in enumerate(relapse["any"].items()):
        signs |= _meets(wide, {pc: text}, fn, f"relapse.any[{i}]")
    first = comp[comp["PARAMCD"] == components[0]].set_index("_ASSESS")
    rec = pd.DataFrame({"USUBJID": anchors["USUBJID"], "AVISIT": anchors["AVISIT"], "AVISITN": anchors["AVISITN"],
                        "ADT": first["ADT"].reindex(wide.index), "AVALC": response,
                        "_signs": signs & ~missing}).reset_index()
    rec = rec.sort_values(["USUBJID", "ADT", "AVISITN"], kind="stable")
    # Relapse: relapse signs while the latest assessment with remission or relapse signs was a remission.
    state = rec[rec["AVALC"].isin(remission) | rec["_signs"]]
    previous = state.groupby("USUBJID")["AVALC"].shift(1)
    relapsed = state.index[(state["_signs"] & previous.isin(remission)).to_numpy()]
    rec.loc[relapsed, "AVALC"] = relapse["response"]
    out = rec.assign(PARAMCD=paramcd, PARAM=param, AVAL=np.nan, SRCDOM=None, SRCVAR=None, SRCSEQ=np.nan)
    return pd.concat([df, out.drop(columns=["_signs"])], ignore_index=True)


@derivation
def derive_param_from_domain(df: pd.DataFrame, ctx, domain: str, paramcd: str, param: str, avalc: str,
                             date: str, filter: dict | None = None, values: dict | None = None) -> pd.DataFrame:
    """One record per `domain` record meeting `filter`: AVALC from the variable `avalc` (recoded by
    `values` where listed), ADT from the --DTC `date`, the visit, and the source record."""
    src = select(ctx.domain(domain), filter, "derive_param_from_domain")
    pre = domain[:2]
    avc = src[avalc].replace(values or {})
    out = pd.DataFrame({"USUBJID": src["USUBJID"], "PARAMCD": paramcd, "PARAM": param, "AVAL": np.nan,
                        "AVALC": avc, "ADT": dtc_to_date(src[date])[0], "AVISIT": src.get("VISIT"),
                        "AVISITN": src.get("VISITNUM"), "SRCDOM": domain, "SRCVAR": avalc, "SRCSEQ": src[f"{pre}SEQ"]})
    if "LNKGRP" in "".join(src.columns):
        out["_ASSESS"] = src["USUBJID"] + "|" + src[f"{pre}LNKGRP"].fillna("")
    return pd.concat([df, out], ignore_index=True)


def _population(ctx, population: dict | None) -> pd.DataFrame:
    return select(ctx.adsl, population or {}, "population")[["USUBJID"]]


@derivation
def derive_param_best_response(df: pd.DataFrame, ctx, paramcd: str, param: str, source: str, order: list[str],
                               none: str, filter: dict | None = None, population: dict | None = None) -> pd.DataFrame:
    """Best of the `source` responses meeting `filter` per subject of the `population` (ADSL filter),
    by the hierarchy `order` (best first); subjects without one get `none`. The record keeps the
    date, visit and traceability of the assessment chosen (the first of equal ones). The ordered
    events of derive_param_extreme_event, one per response of the hierarchy."""
    events = [{"filter": {"AVALC": value}} for value in order] + [{"dataset": "ADSL", "set": {"AVALC": none}}]
    where = {"PARAMCD": source, **({"all": [filter]} if filter else {})}
    best = extreme_event_records(df, ctx, events, ["event", "ADT"], source=where,
                                 population=population or {}, fn="derive_param_best_response")
    best = best.assign(PARAMCD=paramcd, PARAM=param, AVAL=np.nan, SRCDOM="ADRS", SRCVAR="AVALC")
    best["SRCSEQ"] = np.nan  # set once ASEQ exists: see derive_var_srcseq_assessment
    best["_SRCASSESS"] = best.get("_ASSESS")
    return pd.concat([df, best], ignore_index=True)


@derivation
def derive_param_response_flag(df: pd.DataFrame, ctx, paramcd: str, param: str, source: str,
                               values: list[str]) -> pd.DataFrame:
    """Y (AVAL 1) when the subject's `source` response (e.g. BOR) is one of `values`, else N (0);
    one record per subject having a `source` record."""
    src = df[df["PARAMCD"] == source]
    hit = src["AVALC"].isin(values)
    out = src.assign(PARAMCD=paramcd, PARAM=param, AVALC=np.where(hit, "Y", "N"), AVAL=hit.astype(float))
    return pd.concat([df, out], ignore_index=True)


@derivation
def derive_param_exist_flag(df: pd.DataFrame, ctx, paramcd: str, param: str, domain: str, any_of: list[dict],
                            population: dict | None = None, date: str | None = None) -> pd.DataFrame:
    """Y (AVAL 1) when `domain` has a record meeting any filter of `any_of` for the subject, else N;
    one record per subject of the `population`. The Y record keeps the first such record's date
    (`date`, an --DTC) and traceability."""
    src = ctx.domain(domain)
    hits = pd.concat([select(src, f, "derive_param_exist_flag") for f in any_of]).sort_index()
    pre = domain[:2]
    if date:
        hits = hits.assign(_d=dtc_to_date(hits[date])[0]).sort_values(["USUBJID", "_d"], kind="stable")
    first = hits.drop_duplicates("USUBJID").set_index("USUBJID")
    subj = _population(ctx, population)
    found = subj["USUBJID"].isin(first.index)
    out = pd.DataFrame({"USUBJID": subj["USUBJID"], "PARAMCD": paramcd, "PARAM": param,
                        "AVALC": np.where(found, "Y", "N"), "AVAL": found.astype(float).to_numpy(),
                        "ADT": subj["USUBJID"].map(first["_d"]) if date else pd.NaT,
                        "SRCDOM": np.where(found, domain, None),
                        "SRCVAR": np.where(found, f"{pre}TESTCD" if f"{pre}TESTCD" in src else None, None),
                        "SRCSEQ": subj["USUBJID"].map(first[f"{pre}SEQ"])})
    return pd.concat([df, out], ignore_index=True)


@derivation
def derive_param_immediate_hsct(df: pd.DataFrame, ctx, paramcd: str, param: str, procedure: dict,
                                remission_qnam: str, remission: list[str], other_therapy: dict,
                                population: dict | None = None) -> pd.DataFrame:
    """Y when the subject's first transplant after the study drug (`procedure`: {domain, filter},
    e.g. PR allogeneic HSCT with PRSTRTPT = AFTER) was done in remission (its SUPP qualifier
    `remission_qnam` is one of `remission`) with no other anti-leukemic therapy (`other_therapy`:
    {domain, filter}) started before it; else N. One record per subject of the `population`."""
    fn = "derive_param_immediate_hsct"
    for arg, spec in (("procedure", procedure), ("other_therapy", other_therapy)):
        if not isinstance(spec, dict) or "domain" not in spec:
            raise bad_argument(fn, arg, "needs domain (and filter)")
    dom = procedure["domain"]
    pre = dom[:2]
    tx = select(ctx.domain(dom), procedure.get("filter"), fn).copy()
    tx["_d"] = dtc_to_date(tx[f"{pre}STDTC"], "first")[0]
    tx = tx.sort_values(["USUBJID", "_d"], kind="stable").drop_duplicates("USUBJID")
    supp = ctx.domain(f"SUPP{dom}")
    supp = supp[supp["QNAM"] == remission_qnam]
    tx["_idv"] = tx[f"{pre}SEQ"].astype("Int64").astype("str")
    tx = tx.merge(supp[["USUBJID", "IDVARVAL", "QVAL"]], left_on=["USUBJID", "_idv"],
                  right_on=["USUBJID", "IDVARVAL"], how="left")
    oth_dom = other_therapy["domain"]
    oth = select(ctx.domain(oth_dom), other_therapy.get("filter"), fn)
    oth_first = dtc_to_date(oth[f"{oth_dom[:2]}STDTC"], "first")[0].groupby(oth["USUBJID"]).min()
    before = lookup(oth_first, tx["USUBJID"]) < tx["_d"]
    tx["_imm"] = tx["QVAL"].isin(remission) & ~before.fillna(False).astype(bool)
    tx = tx.set_index("USUBJID")
    subj = _population(ctx, population)["USUBJID"]
    yes = subj.map(tx["_imm"]).eq(True)  # no record (NaN) is no
    has = subj.isin(tx.index)
    out = pd.DataFrame({"USUBJID": subj, "PARAMCD": paramcd, "PARAM": param, "AVALC": np.where(yes, "Y", "N"),
                        "AVAL": yes.astype(float).to_numpy(), "ADT": lookup(tx["_d"], subj).where(yes),
                        "SRCDOM": np.where(has, dom, None), "SRCVAR": np.where(has, f"{pre}STDTC", None),
                        "SRCSEQ": subj.map(tx[f"{pre}SEQ"]).where(has)})
    return pd.concat([df, out], ignore_index=True)


@derivation
def derive_var_phase(df: pd.DataFrame, ctx, new: str, date: str, periods: list[dict], otherwise: str) -> pd.DataFrame:
    """`new` = the name of the period containing `date`: periods [{name, filter (on EX), extend_days}]
    span from the first EXSTDTC to the last EXENDTC (+ extend_days) of the subject's EX records
    meeting the filter; the first period listed that contains the date wins; else `otherwise`.
    Undated records stay missing."""
    ex = ctx.domain("EX")
    phase = pd.Series(None, index=df.index, dtype=object)
    for i, p in enumerate(periods):
        if not isinstance(p, dict) or "name" not in p:
            raise bad_argument("derive_var_phase", f"periods[{i}]", "needs name (and filter, extend_days)")
        rows = select(ex, p.get("filter"), "derive_var_phase")
        start = dtc_to_date(rows["EXSTDTC"])[0].groupby(rows["USUBJID"]).min()
        end = (dtc_to_date(rows["EXENDTC"].str.slice(0, 10))[0].groupby(rows["USUBJID"]).max()
               + pd.Timedelta(days=p.get("extend_days", 0)))
        d = pd.to_datetime(df[date])
        first, last = lookup(start, df["USUBJID"]), lookup(end, df["USUBJID"])
        inside = (d >= first) & (d <= last)
        phase = phase.where(phase.notna() | ~inside.fillna(False).astype(bool), p["name"])
    out = df.copy()
    out[new] = phase.where(phase.notna() | df[date].isna(), otherwise)
    return out


@derivation
def derive_var_seq(df: pd.DataFrame, ctx, new: str, order: list[str], by: list[str] | None = None) -> pd.DataFrame:
    """Sequence number 1, 2, ... within `by` (default USUBJID) in `order`."""
    by = by or ["USUBJID"]
    out = df.sort_values(by + order, kind="stable").copy()
    out[new] = out.groupby(by).cumcount().astype(float) + 1
    return out.sort_index()


@derivation
def derive_var_srcseq_assessment(df: pd.DataFrame, ctx, source: str, seq: str = "ASEQ") -> pd.DataFrame:
    """SRCSEQ of records derived from one assessment (their _SRCASSESS) = the `seq` of that
    assessment's `source` record in this dataset (e.g. BOR -> its OVRLRESP record)."""
    src = df[df["PARAMCD"] == source].dropna(subset=["_ASSESS"]).drop_duplicates("_ASSESS").set_index("_ASSESS")[seq]
    out = df.copy()
    linked = out["_SRCASSESS"].notna() if "_SRCASSESS" in out else pd.Series(False, index=out.index)
    out.loc[linked, "SRCSEQ"] = out.loc[linked, "_SRCASSESS"].map(src)
    return out


@derivation
def derive_response_discordance(df: pd.DataFrame, ctx, derived: str, reported: str, qc: str) -> pd.DataFrame:
    """QC evidence, the dataset unchanged: every assessment where the `derived` response differs
    from the `reported` one (or one of them is missing), with the components, to `ctx.qc[qc]`."""
    keys = ["USUBJID", "_ASSESS"]
    d = df[df["PARAMCD"] == derived].set_index(keys)
    r = df[df["PARAMCD"] == reported].set_index(keys)
    both = d[["AVISIT", "ADT", "AVALC"]].join(r[["AVALC", "SRCSEQ"]].rename(columns={"AVALC": "REPORTED",
                                                                                   "SRCSEQ": "RSSEQ"}), how="outer")
    differ = both[both["AVALC"].fillna("") != both["REPORTED"].fillna("")].reset_index()
    comp = df[df["_ASSESS"].isin(differ["_ASSESS"]) & df["AVAL"].notna() | (
        df["_ASSESS"].isin(differ["_ASSESS"]) & (df["PARAMCD"] == "EMD"))]
    detail = (comp.assign(v=comp["AVAL"].astype(object).where(comp["AVAL"].notna(), comp["AVALC"]))
              .pivot_table(index="_ASSESS", columns="PARAMCD", values="v", aggfunc="first"))
    report = differ.rename(columns={"AVALC": "DERIVED"}).merge(detail, left_on="_ASSESS", right_index=True, how="left")
    ctx.qc[qc] = report.drop(columns=["_ASSESS"]).sort_values(["USUBJID", "ADT"], kind="stable")
    return df
