"""SDTM mapping algorithms: trial design (TE, TA, TV, TS, TI), registered on import. The subject's
path through it (SE, SV, EPOCH) is in `elements.py`.

The trial design domains have no raw source: their mappings run with zero sources and one domain
algorithm that generates the records, so nothing of the design is typed twice.

* `trial_elements`, `trial_arms`, `trial_visits`: TE, TA and TV from the study configuration
  (cohorts and their dose steps per cycle, infusion and treatment-free days, number of cycles,
  screening window, assessment days). The design is: screening; per cycle one infusion element per
  dose step (one element per dose level: the same infusion at 15 ug/m2/day is one element whether it
  is the first step or the whole cycle) then the treatment-free interval; follow-up; retreatment
  cycles built like the core cycles (the first retreatment cycle takes the first cycle's dose steps,
  as the configuration says); final follow-up.
* `trial_summary`: TS from the study configuration, the data (study start date, actual number of
  subjects) and the study facts listed in the mapping (ts.yaml); TSPARM, TSVALCD and TSVCDVER of
  CDISC terms are looked up in the CT of the study's `standards.ct`, never typed.
* `trial_criteria`: TI from the criteria listed in the mapping (ti.yaml).

Trace columns: records built from raw rows keep that raw dataset and row; records built from the
configuration carry `__raw` = "study.yaml" (or the mapping file for facts typed there) and `__row` =
the record number.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.errors import InputError, Problem
from submit.sdtm.algorithms import DomainContext, _visits, domain_algorithm
from submit.spec.ct import load_terminology

SCREEN, REST, FOLLOW = "SCRN", "TFI", "FU"
CORE, RETREAT = "CORE", "RETREATMENT"  # raw infusion PHASE values
EPOCHS = {"screening": "SCREENING", CORE: "TREATMENT", RETREAT: "RETREATMENT", "follow-up": "FOLLOW-UP"}
PHASE_NAMES = {CORE: "core study", RETREAT: "retreatment"}
CONFIG = "study.yaml"


def _bad(where: str, message: str) -> InputError:
    return InputError(f"Mapping of {where}", [Problem("mapping", message)])


def _num(x: float) -> str:
    """A dose or day as written in a protocol: 15.0 -> '15', 7.5 -> '7.5'."""
    return f"{x:g}"


def _trace(df: pd.DataFrame, raw: str) -> pd.DataFrame:
    """Trace columns of configuration-built records: the source file and the record number."""
    df["__raw"] = raw
    df["__row"] = np.arange(1, len(df) + 1)
    return df


def _identify(df: pd.DataFrame, ctx: DomainContext) -> pd.DataFrame:
    df.insert(0, "STUDYID", ctx.study.study.id)
    df.insert(1, "DOMAIN", ctx.domain)
    return df


# --- the planned design, from the study configuration -----------------------------------------


def element_code(study: StudyConfig, dose) -> str:
    """ETCD of the infusion at one dose level: the drug's first 4 letters and the dose (BLIN15)."""
    code = study.study.drug[:4].upper() + _num(float(dose))
    if len(code) > 8:
        raise InputError("Trial elements", [Problem(CONFIG, f"element code {code} is longer than 8 characters",
                                                     key="cohorts")])
    return code


def doses(study: StudyConfig) -> list[float]:
    """Every dose level of every cohort's dose steps, ascending."""
    return sorted({s.dose for c in study.cohorts for s in (*c.cycle1, *c.later)})


def trial_elements(study: StudyConfig) -> pd.DataFrame:
    """TE: screening, one infusion element per dose level, treatment-free interval, follow-up."""
    t, drug, unit = study.treatment, study.study.drug, study.treatment.dose_unit
    rows = [{"ETCD": SCREEN, "ELEMENT": "Screening", "TESTRL": "Informed consent",
             "TEENRL": f"Start of the first {drug} infusion (screening assessments within "
                       f"{study.schedule.screening_window_days} days before it)", "TEDUR": None}]
    rows += [{"ETCD": element_code(study, d), "ELEMENT": f"{drug.capitalize()} {_num(d)} {unit}",
              "TESTRL": f"Start of the continuous intravenous infusion of {drug} at {_num(d)} {unit}",
              "TEENRL": f"Start of the next dose step, or end of the {t.infusion_days}-day infusion period "
                        f"of the cycle (or earlier end of the infusion)", "TEDUR": None} for d in doses(study)]
    rows += [{"ETCD": REST, "ELEMENT": "Treatment-free interval",
              "TESTRL": f"End of the {drug} infusion period of a cycle",
              "TEENRL": f"Start of the next cycle's infusion, or {t.treatment_free_days} days after the end "
                        "of the infusion", "TEDUR": f"P{t.treatment_free_days}D"},
             {"ETCD": FOLLOW, "ELEMENT": "Follow-up",
              "TESTRL": "End of the treatment-free interval after the last cycle of the core study or of "
                        "retreatment",
              "TEENRL": "Start of retreatment, or end of participation (death, withdrawal, loss to follow-up "
                        "or data cut-off)", "TEDUR": None}]
    return pd.DataFrame(rows)


def trial_arms(study: StudyConfig) -> pd.DataFrame:
    """TA: the longest path of each cohort's arm, with the planned phase, cycle and step of every
    element in the columns _PHASE, _CYCLE, _STEP (step number, or SCRN / TFI / FU) for SE.

    Path: screening; core cycles 1..max_core_cycles, each its dose-step infusion elements then the
    treatment-free interval; follow-up; retreatment cycles alike; final follow-up. Shorter paths are
    transitions (TATRANS): an infusion stopped before its next dose step goes to the cycle's
    treatment-free interval, no further cycle goes to follow-up, no retreatment stays in follow-up."""
    names = trial_elements(study).set_index("ETCD").ELEMENT
    n = study.treatment.max_core_cycles
    out = []
    for c in study.cohorts:
        rows: list[dict] = [{"ETCD": SCREEN, "EPOCH": EPOCHS["screening"], "TABRANCH": f"Assigned to {c.label}",
                             "_PHASE": None, "_CYCLE": None, "_STEP": SCREEN}]
        for phase in (CORE, RETREAT):
            for cycle in range(1, n + 1):
                steps = c.cycle1 if cycle == 1 else c.later
                for i, s in enumerate(steps):
                    nxt = steps[i + 1] if i + 1 < len(steps) else None
                    rows.append({"ETCD": element_code(study, s.dose), "EPOCH": EPOCHS[phase], "_PHASE": phase,
                                 "_CYCLE": cycle, "_STEP": str(i + 1),
                                 "_TO": (phase, cycle, REST) if nxt else None,
                                 "_RULE": f"If the infusion ends before day {nxt.start} of the cycle, go to the "
                                          "treatment-free interval" if nxt else None})
                last = cycle == n
                rows.append({"ETCD": REST, "EPOCH": EPOCHS[phase], "_PHASE": phase, "_CYCLE": cycle, "_STEP": REST,
                             "_TO": None if last else (phase, None, FOLLOW),
                             "_RULE": None if last else "If no further cycle is given (no response, relapse, "
                                                        "transplant, toxicity or other reason), go to follow-up"})
            rows.append({"ETCD": FOLLOW, "EPOCH": EPOCHS["follow-up"], "_PHASE": phase, "_CYCLE": None,
                         "_STEP": FOLLOW,
                         "_TO": None,
                         "_RULE": "If no retreatment is given (no haematological relapse after response), stay in "
                                  "follow-up until the end of the study" if phase == CORE else None})
        arm = pd.DataFrame(rows).astype(object)
        arm = arm.where(arm.notna(), None)
        arm.insert(0, "ARMCD", c.armcd)
        arm.insert(1, "ARM", c.label)
        arm.insert(2, "TAETORD", np.arange(1, len(arm) + 1, dtype=float))
        # the TAETORD each transition rule leads to (a few dozen planned elements per arm)
        order = dict(zip(zip(arm._PHASE, arm._CYCLE, arm._STEP), arm.TAETORD))
        target = pd.Series([order.get(k) if k is not None else None for k in arm._TO], index=arm.index, dtype=object)
        arm["TATRANS"] = [None if rule is None else rule if t is None else f"{rule} (TAETORD = {t:g})"
                          for rule, t in zip(arm._RULE, target)]
        out.append(arm)
    ta = pd.concat(out, ignore_index=True)
    ta["ELEMENT"] = ta.ETCD.map(names)
    ta["_CYCLE"] = ta._CYCLE.astype(float)
    return ta[["ARMCD", "ARM", "TAETORD", "ETCD", "ELEMENT", "TABRANCH", "TATRANS", "EPOCH",
               "_PHASE", "_CYCLE", "_STEP"]]


def visit_days(study: StudyConfig) -> list[int]:
    """Planned visit days of every infusion cycle: the hematology days, the bone marrow day, the PK
    days and the days of the PK samples timed after the start of each cohort's dose steps."""
    sched = study.schedule
    after_steps = {step.start + int(h // 24) for cohort in study.cohorts for steps in (cohort.cycle1, cohort.later)
                   for step in steps for h in sched.pk_hours_after_step}
    return sorted({*sched.hematology_days, sched.bone_marrow_day, *sched.pk_days, *after_steps})


def trial_visits(study: StudyConfig) -> pd.DataFrame:
    """TV: screening, the planned days of each core and retreatment cycle and the survival follow-up
    contacts. The EDC visit codes of
    these visits (SCR, C2D8, RT1D29) are numbered by the same parser as `visit`/`visitnum`, so TV
    cannot disagree with the VISITNUM of the findings domains. VISITDY is planned for the core study
    (cycles back to back, day 1 = first infusion); retreatment has no planned study day."""
    n, days, length = study.treatment.max_core_cycles, visit_days(study), study.treatment.cycle_days
    drug = study.study.drug
    plan = [("SCR", None, f"Informed consent; screening assessments within {study.schedule.screening_window_days} "
                          f"days before the start of the first {drug} infusion")]
    for prefix, phase in (("C", CORE), ("RT", RETREAT)):
        for k in range(1, n + 1):
            for d in days:
                plan.append((f"{prefix}{k}D{d}", (k - 1) * length + d if phase == CORE else None,
                             f"Day {d} of {PHASE_NAMES[phase]} cycle {k} (day 1 = start of the cycle's {drug} "
                             "infusion)"))
    tv = pd.DataFrame(plan, columns=["code", "VISITDY", "TVSTRL"])
    tv = pd.concat([_visits(tv.code.astype(object)), tv], axis=1)
    # Survival follow-up contacts, numbered 5000 + n (as SS and SV number them): as many as fit
    # between the first dosing and the data cut-off.
    every = study.schedule.follow_up_interval_days
    contacts = range(1, (study.dates.data_cutoff - study.dates.first_patient_dosed).days // every + 1)
    survival = pd.DataFrame({"VISITNUM": [5000.0 + n for n in contacts],
                             "VISIT": [f"SURVIVAL FOLLOW-UP {n}" for n in contacts], "VISITDY": None,
                             "TVSTRL": [f"Survival follow-up contact {n}: {n * every} days after the end of the core "
                                        "study" for n in contacts]})
    tv = pd.concat([tv, survival], ignore_index=True)
    tv["VISITDY"] = tv.VISITDY.astype(float)
    tv["ARMCD"], tv["ARM"], tv["TVENRL"] = None, None, None
    return tv[["VISITNUM", "VISIT", "VISITDY", "ARMCD", "ARM", "TVSTRL", "TVENRL"]]


@domain_algorithm
def derive_trial_elements(df: pd.DataFrame, ctx: DomainContext) -> pd.DataFrame:
    """TE from the study configuration (see `trial_elements`): a mapping without sources."""
    return _trace(_identify(trial_elements(ctx.study), ctx), CONFIG)


@domain_algorithm
def derive_trial_arms(df: pd.DataFrame, ctx: DomainContext) -> pd.DataFrame:
    """TA from the study configuration (see `trial_arms`): one arm per cohort, ARMCD and ARM as in DM."""
    ta = trial_arms(ctx.study).drop(columns=["_PHASE", "_CYCLE", "_STEP"])
    return _trace(_identify(ta, ctx), CONFIG)


@domain_algorithm
def derive_trial_visits(df: pd.DataFrame, ctx: DomainContext) -> pd.DataFrame:
    """TV from the study configuration (see `trial_visits`); ARMCD null: the schedule is the same
    for every arm."""
    return _trace(_identify(trial_visits(ctx.study), ctx), CONFIG)


# --- TS -------------------------------------------------------------------------------------------

TS_KEYS = {"parmcd", "value", "null_flavor", "codelist", "code", "ref", "version", "group", "parm"}
NULL_FLAVORS = ("NI", "INV", "OTH", "PINF", "NINF", "UNC", "DER", "UNK", "ASKU", "NAV", "NASK", "QS", "TRC",
                "MSK", "NA")
ISO8601 = "ISO 8601"
CDISC_CT = "CDISC CT"


def _derived_parameters(study: StudyConfig, ctx: DomainContext) -> list[dict]:
    """TS parameters whose values are in the study configuration or the data, never typed again.
    SSTDTC is the earliest informed consent of an enrolled subject (DM.RFICDTC of subjects with an
    arm: screen failures excluded), the FDA definition; ACTSUB the number of subjects in DM with an
    arm (enrolled)."""
    s, dm = study, ctx.dm
    if dm is None:
        raise _bad(f"{ctx.domain}", "trial_summary needs DM (study start date, actual number of subjects)")
    enrolled = dm[dm.ARMCD.notna()]
    consent = enrolled.RFICDTC.dropna().astype(str)
    consent = consent[consent.str.len() >= 10]
    first = consent.str.slice(0, 10).min() if len(consent) else None
    consent_rows = ctx.frames.get("consent")
    row = None
    if first is not None and consent_rows is not None:
        hit = np.flatnonzero(consent_rows.ICDT.astype(str).to_numpy() == first)
        row = int(hit[0]) + 1 if len(hit) else None
    countries = list(dict.fromkeys(site.country for site in s.sites))
    p = [
        {"parmcd": "TITLE", "value": s.study.title},
        {"parmcd": "TPHASE", "value": s.study.phase, "codelist": "TPHASE"},
        {"parmcd": "REGID", "value": s.study.registry_id, "code": s.study.registry_id, "ref": "ClinicalTrials.gov"},
        {"parmcd": "SPONSOR", "value": s.study.sponsor},
        {"parmcd": "INDIC", "value": s.study.indication},
        {"parmcd": "TRT", "value": s.study.drug.upper()},
        *({"parmcd": "FCNTRY", "value": c, "code": c, "ref": "ISO 3166"} for c in countries),
        {"parmcd": "PLANSUB", "value": str(sum(c.planned_n for c in s.cohorts))},
        {"parmcd": "NARMS", "value": str(len(s.cohorts))},
        {"parmcd": "NCOHORT", "value": str(len(s.cohorts))},
        {"parmcd": "LENGTH", "value": f"P{s.treatment.core_study_weeks}W", "ref": ISO8601},
        *({"parmcd": "DOSE", "value": _num(d)} for d in doses(s)),
        {"parmcd": "DOSU", "value": s.treatment.dose_unit, "codelist": "UNIT"},
        {"parmcd": "DCUTDTC", "value": s.dates.data_cutoff.isoformat(), "ref": ISO8601},
        {"parmcd": "SDTIGVER", "value": s.standards.sdtmig, "codelist": "SDTMIGRS"},
        {"parmcd": "SSTDTC", "value": first, "ref": ISO8601 if first else None,
         "null_flavor": None if first else "NI", "_raw": "consent" if row else "DM", "_row": row},
        {"parmcd": "ACTSUB", "value": str(len(enrolled)), "_raw": "DM"},  # counted in the SDTM DM domain
    ]
    return [{"_raw": CONFIG, **x} for x in p]


def _check_ts_entries(entries, derived: set[str], where: str) -> None:
    problems = []
    if not isinstance(entries, list) or not entries:
        raise _bad(where, "trial_summary: parameters must be a non-empty list of {parmcd: ..., ...}")
    for i, e in enumerate(entries):
        at = f"parameters[{i}]"
        if not isinstance(e, dict) or "parmcd" not in e:
            problems.append(f"{at}: needs parmcd")
            continue
        unknown = set(e) - TS_KEYS
        if unknown:
            problems.append(f"{at} ({e['parmcd']}): unknown keys {sorted(unknown)} (known: {sorted(TS_KEYS)})")
        has_value, has_nf = e.get("value") not in (None, ""), e.get("null_flavor") not in (None, "")
        if e["parmcd"] in derived:
            if has_value or has_nf:
                problems.append(f"{at} ({e['parmcd']}): the value comes from the study configuration or the data; "
                                "give only its code, ref and version here")
        elif has_value == has_nf:
            problems.append(f"{at} ({e['parmcd']}): give either value or null_flavor")
        if has_nf and e["null_flavor"] not in NULL_FLAVORS:
            problems.append(f"{at} ({e['parmcd']}): null_flavor {e['null_flavor']!r} is not an ISO 21090 null flavor")
        if has_value and len(str(e["value"])) > 200:
            problems.append(f"{at} ({e['parmcd']}): value longer than 200 characters (TSVAL1..n are not supported)")
        if e.get("codelist") and e.get("code"):
            problems.append(f"{at} ({e['parmcd']}): give codelist (CDISC CT, code looked up) or code, not both")
    if problems:
        raise InputError(f"Mapping of {where}", [Problem("mapping", m) for m in problems])


def _ct_codes(terms: pd.DataFrame, ct, codelist: pd.Series, value: pd.Series, where: str) -> pd.Series:
    """C-codes of (codelist short name, submission value) pairs; an unknown pair is an error."""
    wanted = pd.DataFrame({"cl": codelist, "value": value}).dropna()
    if wanted.empty:
        return pd.Series(None, index=codelist.index, dtype=object)
    try:
        ids = {cl: ct.codelist_code(cl) for cl in wanted.cl.unique()}  # a handful of codelists
    except KeyError as exc:
        raise _bad(where, f"trial_summary: {exc}") from None
    wanted["codelist"] = wanted.cl.map(ids)
    hit = wanted.reset_index().merge(terms[["codelist", "value", "code"]], how="left", on=["codelist", "value"])
    missing = hit[hit.code.isna()]
    if len(missing):
        raise _bad(where, "trial_summary: not in CDISC CT " + ct.version + ": "
                   + ", ".join(f"{r.value!r} in {r.cl}" for r in missing.itertuples()))
    return hit.set_index("index").code.reindex(codelist.index).astype(object)


@domain_algorithm
def derive_trial_summary(df: pd.DataFrame, ctx: DomainContext, parameters: list) -> pd.DataFrame:
    """TS: the parameters of the study configuration and the data (`_derived_parameters`), then the
    study facts listed in `parameters`, each {parmcd, value | null_flavor, codelist | code+ref+version,
    group, parm}. `codelist` names a CDISC CT codelist (NY, TTYPE...): TSVALCD is the term's C-code,
    TSVCDREF CDISC CT, TSVCDVER the study's CT version. TSPARM is the CT name paired with TSPARMCD
    (same C-code); a sponsor parameter outside CT must give `parm`. A listed parameter that the
    configuration supplies may only add its code (e.g. the SNOMED code of INDIC)."""
    where = f"{ctx.domain} (trial_summary)"
    derived = _derived_parameters(ctx.study, ctx)
    _check_ts_entries(parameters, {d["parmcd"] for d in derived}, where)
    codes = {e["parmcd"]: e for e in parameters if e["parmcd"] in {d["parmcd"] for d in derived}}
    rows = [{**d, **{k: v for k, v in codes.get(d["parmcd"], {}).items() if k != "parmcd"}} for d in derived]
    rows += [{"_raw": "mapping", **e} for e in parameters if e["parmcd"] not in codes]
    ts = pd.DataFrame(rows).astype(object)
    for col in TS_KEYS | {"_row"}:
        if col not in ts:
            ts[col] = None
    ts = ts.where(ts.notna(), None)
    ct = load_terminology(ctx.study.standards.ct)
    terms = ct.terms
    parm_codes = terms[terms.codelist == ct.codelist_code("TSPARMCD")].set_index("value").code
    parm_names = terms[terms.codelist == ct.codelist_code("TSPARM")].set_index("code").value
    ts["TSPARM"] = ts.parm.fillna(ts.parmcd.map(parm_codes).map(parm_names))
    if ts.TSPARM.isna().any():
        raise _bad(where, f"trial_summary: {sorted(ts.parmcd[ts.TSPARM.isna()])} not in CDISC CT {ct.version} "
                          "TSPARMCD; give parm for a sponsor parameter")
    in_ct = ts.codelist.notna()
    ts["TSVALCD"] = _ct_codes(terms, ct, ts.codelist, ts.value.where(in_ct), where).fillna(ts.code)
    ts["TSVCDREF"] = ts.ref.where(~in_ct, CDISC_CT)
    ts["TSVCDVER"] = ts.version.where(~in_ct, ct.version)
    out = pd.DataFrame({"TSGRPID": ts.group, "TSPARMCD": ts.parmcd, "TSPARM": ts.TSPARM,
                        "TSVAL": ts.value.map(lambda v: None if v is None else str(v)), "TSVALNF": ts.null_flavor,
                        "TSVALCD": ts.TSVALCD, "TSVCDREF": ts.TSVCDREF, "TSVCDVER": ts.TSVCDVER})
    out.insert(0, "TSSEQ", (out.groupby("TSPARMCD", sort=False).cumcount() + 1).astype(float))
    out = _identify(out, ctx)
    out["__raw"] = ts._raw.replace({"mapping": f"mapping/{ctx.domain.lower()}.yaml"}).to_numpy()
    number = np.arange(1, len(ts) + 1)
    out["__row"] = np.where(pd.notna(ts._row.to_numpy()), ts._row.to_numpy(), number).astype(int)
    return out


# --- TI -------------------------------------------------------------------------------------------

IETESTCD = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
IECAT = {"IN": "INCLUSION", "EX": "EXCLUSION"}


@domain_algorithm
def derive_trial_criteria(df: pd.DataFrame, ctx: DomainContext, criteria: list,
                          version: str | None = None) -> pd.DataFrame:
    """TI from `criteria`, each {code: IN01 | EX01..., text}: IECAT INCLUSION for codes starting IN,
    EXCLUSION for EX; text at most 200 characters (IETEST); TIVERS = `version` when given."""
    where = f"{ctx.domain} (trial_criteria)"
    if not isinstance(criteria, list) or not criteria:
        raise _bad(where, "trial_criteria: criteria must be a non-empty list of {code, text}")
    problems = []
    for i, c in enumerate(criteria):
        if not isinstance(c, dict) or set(c) != {"code", "text"}:
            problems.append(f"criteria[{i}]: expected exactly code and text, got {c!r}")
            continue
        if not IETESTCD.fullmatch(str(c["code"])) or str(c["code"])[:2] not in IECAT:
            problems.append(f"criteria[{i}]: code {c['code']!r} must start IN or EX and be at most 8 letters/digits")
        if not 0 < len(str(c["text"])) <= 200:
            problems.append(f"criteria[{i}] ({c['code']}): text must have 1-200 characters")
    codes = [c.get("code") for c in criteria if isinstance(c, dict)]
    problems += [f"criteria: code {k} repeated" for k in sorted({k for k in codes if codes.count(k) > 1})]
    if problems:
        raise InputError(f"Mapping of {where}", [Problem("mapping", m) for m in problems])
    ti = pd.DataFrame(criteria).rename(columns={"code": "IETESTCD", "text": "IETEST"}).astype(object)
    ti["IECAT"] = ti.IETESTCD.str.slice(0, 2).map(IECAT)
    ti["TIVERS"] = version
    ti = _identify(ti, ctx)
    ti["__raw"], ti["__row"] = f"mapping/{ctx.domain.lower()}.yaml", np.arange(1, len(ti) + 1)
    return ti
