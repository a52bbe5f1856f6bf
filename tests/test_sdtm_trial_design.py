"""Trial design (TS, TA, TE, TV, TI) and subject elements and visits (SE, SV): the algorithms on
small hand-made inputs, and the domains of the default study double-programmed from the raw CSV
files and the study configuration with plain pandas."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest
import yaml

from conftest import SPECS
from submit.config import StudyConfig
from submit.errors import InputError
from submit.raw.reader import read_raw
from submit.sdtm import elements as el
from submit.sdtm import trial_design as td
from submit.sdtm.algorithms import DomainContext, Exceptions
from submit.sdtm.engine import run_domain
from submit.sdtm.mapping import DomainMapping, Step
from submit.spec.ct import ct_folder
from submit.spec.store import load_spec

# FDA Study Data Technical Conformance Guide / FDA validator rules: trial summary parameters expected
# in every TS of an interventional drug or biologic study (TSVAL, or TSVALNF when not applicable).
FDA_TS = {"SSTDTC", "SPONSOR", "TITLE", "TPHASE", "TTYPE", "INDIC", "TRT", "PCLAS", "STYPE", "ADDON", "AGEMIN",
          "AGEMAX", "LENGTH", "PLANSUB", "ACTSUB", "RANDOM", "SEXPOP", "TBLIND", "TCNTRL", "TDIGRP", "TINDTP",
          "HLTSUBJI", "OBJPRIM", "OBJSEC", "OUTMSPRI", "REGID", "DCUTDTC", "DCUTDESC", "SDTIGVER", "SDTMVER",
          "THERAREA", "NARMS", "INTMODEL", "INTTYPE", "FCNTRY", "ADAPT", "EXTTIND", "ONGOSIND", "CURTRT", "COMPTRT",
          "RDIND", "STOPRULE"}
TRIAL_DESIGN = ("TS", "TA", "TE", "TV", "TI", "SE", "SV")


# --- helpers ----------------------------------------------------------------------------------------


def visitnum(code: str) -> float:
    """VISITNUM of an EDC visit code, programmed independently of algorithms.py."""
    if code == "SCR":
        return 1.0
    if m := re.fullmatch(r"UNS(\d+)", code):
        return 9000.0 + int(m[1])
    m = re.fullmatch(r"(RT)?C?(\d+)D(\d+)", code)
    return (1000.0 if m[1] else 0.0) + 100 * int(m[2]) + int(m[3])


def ct_rows() -> pd.DataFrame:
    """The SDTM CT file as plain text rows (not through submit.spec.ct)."""
    path = next(ct_folder().glob("sdtm-ct-*.txt"))
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)


def context(study, domain="SE", dm=None, frames=None) -> DomainContext:
    return DomainContext(domain, study, dm, frames or {}, Exceptions())


# --- the domains of the default study -----------------------------------------------------------------


@pytest.fixture(scope="module")
def built(default_sdtm):
    return default_sdtm[0].domains


def test_trial_design_domains_are_built(built):
    for name in TRIAL_DESIGN:
        assert len(built[name]) > 0, name


def test_ta_arms_are_the_cohorts_with_their_dose_steps(built, study):
    ta = built["TA"]
    assert list(dict.fromkeys(ta.ARMCD)) == sorted(c.armcd for c in study.cohorts)
    assert set(ta.ARMCD) == set(built["DM"].ARMCD.dropna())
    n = study.treatment.max_core_cycles
    for c in study.cohorts:
        arm = ta[ta.ARMCD == c.armcd].sort_values("TAETORD")
        assert (arm.ARM == c.label).all()
        assert arm.TAETORD.tolist() == list(range(1, len(arm) + 1))
        expected = ["SCRN"]
        for _ in ("core", "retreatment"):
            for k in range(1, n + 1):
                expected += [f"BLIN{s.dose:g}" for s in (c.cycle1 if k == 1 else c.later)] + ["TFI"]
            expected.append("FU")
        assert arm.ETCD.tolist() == expected, c.armcd
        epochs = arm.EPOCH.tolist()
        assert epochs[0] == "SCREENING" and epochs[-1] == "FOLLOW-UP"
        first_fu = expected.index("FU")
        assert set(epochs[1:first_fu]) == {"TREATMENT"} and epochs[first_fu] == "FOLLOW-UP"
        assert set(epochs[first_fu + 1:-1]) == {"RETREATMENT"}
        # every transition rule skips forward to a later element of the same arm, but the one of the
        # follow-up after the core study, which ends the path when no retreatment is given
        rules = arm.TATRANS.dropna()
        targets = rules.str.extract(r"TAETORD = (\d+)\)$")[0].astype(float)
        assert targets.isna().sum() == 1 and arm.ETCD[targets.index[targets.isna()]].tolist() == ["FU"]
        targets = targets.dropna()
        assert (targets.to_numpy() > arm.TAETORD[targets.index].to_numpy() + 1).all()


def test_te_has_one_infusion_element_per_dose_level(built, study):
    te = built["TE"].set_index("ETCD")
    doses = {s.dose for c in study.cohorts for s in (*c.cycle1, *c.later)}
    assert set(te.index) == {"SCRN", "TFI", "FU"} | {f"BLIN{d:g}" for d in doses}
    assert set(built["TA"].ETCD) == set(te.index)
    assert te.loc["TFI", "TEDUR"] == f"P{study.treatment.treatment_free_days}D"
    assert (te.TEENRL.notna() | te.TEDUR.notna()).all(), "TEENRL or TEDUR for every element"


def test_ts_has_every_fda_parameter(built):
    ts = built["TS"]
    assert FDA_TS <= set(ts.TSPARMCD), sorted(FDA_TS - set(ts.TSPARMCD))
    assert (ts.TSVAL.notna() != ts.TSVALNF.notna()).all(), "exactly one of TSVAL and TSVALNF"
    assert not ts.duplicated(["TSPARMCD", "TSSEQ"]).any()
    assert (ts.TSVAL.dropna().str.len() <= 200).all()
    assert ts.loc[ts.TSPARMCD == "AGEMAX", "TSVALNF"].tolist() == ["PINF"]


def test_ts_values_from_raw_and_configuration(built, raw, study):
    ts = built["TS"].set_index("TSPARMCD")
    # the FDA definition: the earliest informed consent of an enrolled subject
    enrolled = set(raw["cohort"].SUBJID)
    consent = raw["consent"][raw["consent"].SUBJID.isin(enrolled)]
    assert ts.loc["SSTDTC", "TSVAL"] == consent.ICDT.min()
    assert ts.loc["SSTDTC", "TSVCDREF"] == "ISO 8601"
    assert ts.loc["ACTSUB", "TSVAL"] == str(len(raw["dm"]))
    assert ts.loc["PLANSUB", "TSVAL"] == str(sum(c.planned_n for c in study.cohorts))
    assert ts.loc["NARMS", "TSVAL"] == str(raw["cohort"].COHORT.nunique()) == str(len(study.cohorts))
    assert ts.loc["TITLE", "TSVAL"] == study.study.title
    assert ts.loc["REGID", "TSVAL"] == study.study.registry_id
    assert ts.loc["DCUTDTC", "TSVAL"] == str(study.dates.data_cutoff)
    assert ts.loc["SDTIGVER", "TSVAL"] == study.standards.sdtmig
    fcntry = ts.loc[["FCNTRY"]]
    assert sorted(fcntry.TSVAL) == sorted({s.country for s in study.sites})


def test_ts_codes_are_the_ct_codes(built, study):
    ts = built["TS"]
    ct = ct_rows()
    coded = ts[ts.TSVCDREF == "CDISC CT"]
    assert len(coded) > 20 and (coded.TSVCDVER == study.standards.ct).all()
    terms = ct[ct["Codelist Code"] != ""]
    pairs = set(zip(terms["CDISC Submission Value"], terms["Code"]))
    assert set(zip(coded.TSVAL, coded.TSVALCD)) <= pairs
    # TSPARM is the CT name with the C-code of the TSPARMCD term
    parmcd = terms[terms["Codelist Code"] == "C66738"].set_index("CDISC Submission Value").Code
    parm = terms[terms["Codelist Code"] == "C67152"].set_index("Code")["CDISC Submission Value"]
    assert (ts.TSPARM == ts.TSPARMCD.map(parmcd).map(parm)).all()
    assert (ts.loc[ts.TSPARMCD == "TPHASE", "TSVALCD"] == "C15601").all()  # PHASE II TRIAL
    for parmcd_, ref in {"INDIC": "SNOMED", "TDIGRP": "SNOMED", "TRT": "UNII", "PCLAS": "MED-RT",
                         "FCNTRY": "ISO 3166", "REGID": "ClinicalTrials.gov"}.items():
        assert (ts.loc[ts.TSPARMCD == parmcd_, "TSVCDREF"] == ref).all(), parmcd_


def test_ti_criteria(built):
    ti = built["TI"]
    assert set(ti.IECAT) == {"INCLUSION", "EXCLUSION"}
    assert (ti.IETESTCD.str.slice(0, 2).map({"IN": "INCLUSION", "EX": "EXCLUSION"}) == ti.IECAT).all()
    assert ti.IETEST.str.contains("18 years").any()


def test_tv_numbering_matches_the_visit_codes(built, study):
    tv = built["TV"]
    steps = {s.start + 2 for c in study.cohorts for s in (*c.cycle1, *c.later)}  # PK 48 h after each step start
    days = sorted({*study.schedule.hematology_days, study.schedule.bone_marrow_day, *study.schedule.pk_days, *steps})
    n = study.treatment.max_core_cycles
    codes = ["SCR"] + [f"{p}{k}D{d}" for p in ("C", "RT") for k in range(1, n + 1) for d in days]
    contacts = (study.dates.data_cutoff - study.dates.first_patient_dosed).days // study.schedule.follow_up_interval_days
    assert sorted(tv.VISITNUM) == sorted([visitnum(c) for c in codes] + [5000.0 + n for n in range(1, contacts + 1)])
    core = tv[(tv.VISITNUM > 100) & (tv.VISITNUM < 1000)]
    cycle, day = core.VISITNUM // 100, core.VISITNUM % 100
    assert (core.VISITDY == (cycle - 1) * study.treatment.cycle_days + day).all()
    assert tv.ARMCD.isna().all()


def test_every_lb_visitnum_is_in_tv_or_unscheduled(built):
    lb, tv = built["LB"], built["TV"]
    used = set(lb.VISITNUM.dropna())
    assert used and used <= set(tv.VISITNUM) | {v for v in used if v >= 9000}
    assert {v for v in used if v >= 9000} <= set(built["SV"].VISITNUM)


def test_sv_covers_every_visit_of_the_raw_forms(built, raw, study):
    sv = built["SV"]
    stacked = pd.concat([raw[name][["SUBJID", "VISIT", date]].rename(columns={date: "DATE"})
                         for name, date in (("hema", "LBDT"), ("bm", "BMDT"), ("mrd", "MRDDT"), ("emd", "EMDDT"),
                                            ("resp", "RSDT"))], ignore_index=True)
    stacked["USUBJID"] = study.study.id + "-" + stacked.SUBJID
    stacked["VISITNUM"] = stacked.VISIT.map(visitnum)
    fu = raw["survfu"]  # survival contacts: 5000 + contact number
    stacked = pd.concat([stacked, pd.DataFrame({"SUBJID": fu.SUBJID, "DATE": fu.FUDT, "USUBJID": study.study.id + "-" + fu.SUBJID,
                                                "VISITNUM": 5000 + fu.FUNUM.astype(float)})], ignore_index=True)
    dated = stacked[stacked.DATE != ""]
    expected = dated.groupby(["USUBJID", "VISITNUM"]).DATE.min().reindex(
        pd.MultiIndex.from_frame(stacked[["USUBJID", "VISITNUM"]].drop_duplicates()))
    got = sv.set_index(["USUBJID", "VISITNUM"])
    assert sorted(got.index) == sorted(expected.index)
    hema_bm = set(zip(study.study.id + "-" + raw["hema"].SUBJID, raw["hema"].VISIT.map(visitnum)))
    hema_bm |= set(zip(study.study.id + "-" + raw["bm"].SUBJID, raw["bm"].VISIT.map(visitnum)))
    assert hema_bm <= set(got.index)
    diff = got.SVSTDTC.reindex(expected.index).fillna("") != expected.fillna("")
    assert not diff.any(), pd.concat([got.SVSTDTC.reindex(expected.index), expected], axis=1)[diff]
    unscheduled = got.index.get_level_values("VISITNUM") >= 9000
    assert got.SVPRESP[~unscheduled].eq("Y").all() and got.SVPRESP[unscheduled].isna().all()
    assert got.SVUPDES[unscheduled].str.startswith("Unscheduled visit: ").all()
    assert got.SVUPDES[~unscheduled].isna().all()


def test_se_is_contiguous_and_within_participation(built):
    se, dm = built["SE"], built["DM"].set_index("USUBJID")
    se = se.sort_values(["USUBJID", "SESEQ"])
    assert (se.groupby("USUBJID").SESTDTC.apply(lambda s: s.is_monotonic_increasing)).all()
    nxt = se.groupby("USUBJID").SESTDTC.shift(-1)
    inner = nxt.notna()
    assert (se.SEENDTC[inner] == nxt[inner]).all(), "each element ends where the next starts"
    first = se.groupby("USUBJID").head(1).set_index("USUBJID")
    last = se.groupby("USUBJID").tail(1).set_index("USUBJID")
    assert (first.ETCD == "SCRN").all()
    assert (first.SESTDTC == dm.RFICDTC.reindex(first.index)).all()
    assert set(first.index) == set(dm.index)
    day = lambda s: s.astype(str).str.slice(0, 10)  # noqa: E731
    assert (day(se.SESTDTC) >= day(se.USUBJID.map(dm.RFICDTC))).all()
    ended = se.SEENDTC.notna()
    assert (day(se.SEENDTC[ended]) <= day(se.USUBJID.map(dm.RFPENDTC)[ended])).all()
    closed = last.SEENDTC.notna()  # a subject still on infusion at the cut-off has an open last element
    assert (day(last.SEENDTC[closed]) == day(dm.RFPENDTC.reindex(last.index)[closed])).all()
    assert (day(se.SEENDTC[ended]) >= day(se.SESTDTC[ended])).all()


def test_se_infusion_elements_double_programmed_from_raw(built, raw, study):
    se, ta, dm = built["SE"], built["TA"], built["DM"].set_index("USUBJID")
    inf = raw["infusion"].assign(USUBJID=lambda d: study.study.id + "-" + d.SUBJID,
                                 START=lambda d: d.STDT + "T" + d.STTM)
    steps = inf.groupby(["USUBJID", "PHASE", "CYCLE", "STEP"]).agg(START=("START", "min"), DOSE=("DOSE", "first"))
    infusion = se[se.ETCD.str.startswith("BLIN")]
    assert len(infusion) == len(steps)
    merged = steps.reset_index().merge(infusion, left_on=["USUBJID", "START"], right_on=["USUBJID", "SESTDTC"],
                                       how="left", validate="one_to_one")
    assert (merged.ETCD == "BLIN" + merged.DOSE.astype(float).map(lambda d: f"{d:g}")).all()
    assert (merged.EPOCH == merged.PHASE.map({"CORE": "TREATMENT", "RETREATMENT": "RETREATMENT"})).all()
    # TAETORD, ETCD and EPOCH are those of the subject's planned arm
    planned = se[se.TAETORD.notna()].assign(ARMCD=lambda d: d.USUBJID.map(dm.ARMCD))
    hit = planned.merge(ta, on=["ARMCD", "TAETORD"], how="left", suffixes=("", "_TA"))
    assert (hit.ETCD == hit.ETCD_TA).all() and (hit.EPOCH == hit.EPOCH_TA).all()
    # a treatment-free interval follows every cycle whose infusion ended, retreatment is preceded by follow-up
    cycles = inf.groupby(["USUBJID", "PHASE", "CYCLE"]).size()
    assert (se.ETCD == "TFI").sum() == len(cycles)
    retreated = inf[inf.PHASE == "RETREATMENT"].USUBJID.unique()
    for u in retreated:
        path = se[se.USUBJID == u].sort_values("SESEQ")
        first_rt = path.index[path.EPOCH == "RETREATMENT"][0]
        assert path.loc[:first_rt].ETCD.iloc[-2] == "FU"


def test_sv_epoch_agrees_with_se(built):
    sv, se = built["SV"], built["SE"]
    rows = sv[sv.EPOCH.notna()]
    assert len(rows) > 0.9 * len(sv)
    for u, visits in rows.groupby("USUBJID"):
        elements = se[se.USUBJID == u]
        for _, v in visits.iterrows():
            started = elements[elements.SESTDTC.str.slice(0, 10) <= v.SVSTDTC]
            assert v.EPOCH == started.sort_values("SESTDTC").EPOCH.iloc[-1]


# --- the algorithms on hand-made inputs -------------------------------------------------------------


def test_engine_runs_a_mapping_without_sources(study):
    spec = load_spec(SPECS / "sdtm")
    mapping = DomainMapping("TE", (), (Step("trial_elements", {}),), "te.yaml")
    te = run_domain(mapping, spec, {}, study, Exceptions())
    assert list(te.columns[-2:]) == ["__raw", "__row"]
    assert (te["__raw"] == "study.yaml").all() and sorted(te["__row"]) == list(range(1, len(te) + 1))
    assert list(te.columns[:-2]) == [v.name for v in spec.variables_of("TE")]


def test_trial_arms_follow_a_changed_configuration(study):
    cohorts = [{"code": "A", "armcd": "ARMA", "label": "A", "planned_n": 3,
                "cycle1": [{"start": 1, "dose": 9}, {"start": 8, "dose": 28}], "later": [{"start": 1, "dose": 28}]}]
    data = study.model_dump(mode="json")
    data["cohorts"], data["treatment"]["max_core_cycles"] = cohorts, 2
    changed = StudyConfig.model_validate(data)
    ta = td.trial_arms(changed)
    assert ta.ETCD.tolist() == ["SCRN", "BLIN9", "BLIN28", "TFI", "BLIN28", "TFI", "FU",
                                "BLIN9", "BLIN28", "TFI", "BLIN28", "TFI", "FU"]
    assert ta.TATRANS[1].endswith("(TAETORD = 4)")  # stopped before the step: the cycle's interval
    assert ta.TATRANS[3].endswith("(TAETORD = 7)")  # no further cycle: follow-up
    assert ta.TATRANS[6].startswith("If no retreatment")  # follow-up ends the path without retreatment
    assert pd.isna(ta.TATRANS[5]) and pd.isna(ta.TATRANS[12])
    te = td.trial_elements(changed)
    assert set(te.ETCD) == {"SCRN", "BLIN9", "BLIN28", "TFI", "FU"}
    tv = td.trial_visits(changed)
    assert tv.VISITNUM[tv.VISITNUM < 5000].max() == 1000 + 2 * 100 + 29


def test_element_code_longer_than_8_is_refused(study):
    long = study.model_copy(update={"study": study.study.model_copy(update={"drug": "blinatumomab"})})
    with pytest.raises(InputError, match="longer than 8"):
        td.element_code(long, 12345.5)


def _dm(rows):
    return pd.DataFrame(rows, columns=["USUBJID", "SUBJID", "ARMCD", "RFICDTC", "RFPENDTC"])


def _infusion(rows):
    cols = ["SUBJID", "PHASE", "CYCLE", "STEP", "SEGMENT", "STDT", "STTM", "ENDT", "ENTM", "DOSE"]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"CYCLE": "Int64", "STEP": "Int64", "SEGMENT": "Int64", "DOSE": float})


def test_subject_elements_on_hand_made_courses(study):
    frames = {
        "consent": pd.DataFrame({"SUBJID": ["1", "2", "3"], "ICDT": ["2011-01-01", "2011-01-02", "2011-01-03"]}),
        "infusion": _infusion([
            # 1: cohort 3, cycle 1 two steps, step 2 interrupted and resumed; dies during the interval
            ["1", "CORE", 1, 1, 1, "2011-01-10", "10:00", "2011-01-17", "10:00", 5],
            ["1", "CORE", 1, 2, 2, "2011-01-17", "10:00", "2011-01-20", "08:00", 15],
            ["1", "CORE", 1, 2, 3, "2011-01-22", "09:00", "2011-02-07", "10:00", 15],
            # 2: cohort 1, one cycle, then retreatment; infusion running at the data cut-off
            ["2", "CORE", 1, 1, 1, "2011-01-10", "10:00", "2011-02-07", "10:00", 15],
            ["2", "RETREATMENT", 1, 1, 1, "2011-06-01", "11:00", None, None, 15],
        ]),
    }
    dm = _dm([["S-1", "1", "COH3", "2011-01-01", "2011-02-12"],
              ["S-2", "2", "COH1", "2011-01-02", "2011-06-20"],
              ["S-3", "3", "COH1", "2011-01-03", "2011-01-20"]])  # 3: never treated
    se = el.subject_elements(context(study, dm=dm, frames=frames))
    one = se[se.USUBJID == "S-1"]
    assert one.ETCD.tolist() == ["SCRN", "BLIN5", "BLIN15", "TFI"]
    assert one.SESTDTC.tolist() == ["2011-01-01", "2011-01-10T10:00", "2011-01-17T10:00", "2011-02-07T10:00"]
    assert one.SEENDTC.tolist() == ["2011-01-10T10:00", "2011-01-17T10:00", "2011-02-07T10:00", "2011-02-12"]
    assert one.TAETORD.tolist() == [1, 2, 3, 4]
    two = se[se.USUBJID == "S-2"]
    assert two.ETCD.tolist() == ["SCRN", "BLIN15", "TFI", "FU", "BLIN15"]
    assert two.SESTDTC.tolist()[3:] == ["2011-02-21T10:00", "2011-06-01T11:00"]
    assert two.EPOCH.tolist() == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", "RETREATMENT"]
    assert pd.isna(two.SEENDTC.iloc[-1])  # still running
    ta = td.trial_arms(study)
    coh1 = ta[ta.ARMCD == "COH1"].set_index("TAETORD")
    assert coh1.loc[two.TAETORD.iloc[3], "ETCD"] == "FU" and coh1.loc[two.TAETORD.iloc[4], "_PHASE"] == "RETREATMENT"
    three = se[se.USUBJID == "S-3"]
    assert three.ETCD.tolist() == ["SCRN"] and three.SEENDTC.tolist() == ["2011-01-20"]
    assert set(se["__raw"]) == {"consent", "infusion"}


def test_subject_elements_unplanned_dose_has_no_taetord(study):
    frames = {"consent": pd.DataFrame({"SUBJID": ["1"], "ICDT": ["2011-01-01"]}),
              "infusion": _infusion([["1", "CORE", 1, 1, 1, "2011-01-10", "10:00", "2011-02-07", "10:00", 30]])}
    dm = _dm([["S-1", "1", "COH1", "2011-01-01", "2011-03-01"]])
    se = el.subject_elements(context(study, dm=dm, frames=frames))
    row = se[se.ETCD == "BLIN30"].iloc[0]
    assert pd.isna(row.TAETORD) and row.EPOCH == "TREATMENT"


def test_epoch_from_elements(study):
    frames = {"consent": pd.DataFrame({"SUBJID": ["1"], "ICDT": ["2011-01-05"]}),
              "infusion": _infusion([["1", "CORE", 1, 1, 1, "2011-01-10", "10:00", "2011-02-07", "10:00", 15]])}
    dm = _dm([["S-1", "1", "COH1", "2011-01-05", "2011-05-01"]])
    df = pd.DataFrame({"USUBJID": ["S-1"] * 7,
                       "XXDTC": ["2011-01-04", "2011-01-05", "2011-01-10", "2011-02-07T12:00", "2011-02-21",
                                 "2011-05-02", "2011-03"]})
    out = el.derive_epoch_from_elements(df, context(study, dm=dm, frames=frames), dtc="XXDTC")
    epochs = [None if pd.isna(x) else x for x in out.EPOCH]
    assert epochs == [None, "SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", None, None]


def test_trial_summary_refuses_bad_parameters(built, study, default_raw, schema):
    frames = read_raw(default_raw, schema, study).frames
    ctx = context(study, "TS", built["DM"], frames)
    with pytest.raises(InputError, match="comes from the study configuration"):
        td.derive_trial_summary(pd.DataFrame(), ctx, [{"parmcd": "TITLE", "value": "Typed twice"}])
    with pytest.raises(InputError, match="not in CDISC CT"):
        td.derive_trial_summary(pd.DataFrame(), ctx,
                                [{"parmcd": "TBLIND", "value": "HALF BLIND", "codelist": "TBLIND"}])
    with pytest.raises(InputError, match="null flavor"):
        td.derive_trial_summary(pd.DataFrame(), ctx, [{"parmcd": "AGEMAX", "null_flavor": "NONE"}])
    with pytest.raises(InputError, match="either value or null_flavor"):
        td.derive_trial_summary(pd.DataFrame(), ctx, [{"parmcd": "AGEMAX"}])
    with pytest.raises(InputError, match="not in CDISC CT"):
        td.derive_trial_summary(pd.DataFrame(), ctx, [{"parmcd": "MYPARM", "value": "x"}])
    ok = td.derive_trial_summary(pd.DataFrame(), ctx, [{"parmcd": "MYPARM", "value": "x", "parm": "My Parameter"}])
    assert ok.loc[ok.TSPARMCD == "MYPARM", "TSPARM"].tolist() == ["My Parameter"]


def test_trial_criteria_refuses_bad_criteria(study):
    ctx = context(study, "TI")
    with pytest.raises(InputError, match="must start IN or EX"):
        td.derive_trial_criteria(pd.DataFrame(), ctx, [{"code": "AB01", "text": "x"}])
    with pytest.raises(InputError, match="1-200"):
        td.derive_trial_criteria(pd.DataFrame(), ctx, [{"code": "IN01", "text": "x" * 201}])
    with pytest.raises(InputError, match="repeated"):
        td.derive_trial_criteria(pd.DataFrame(), ctx, [{"code": "IN01", "text": "a"}, {"code": "IN01", "text": "b"}])


def test_subject_visits_marks_undated_planned_visits_not_occurred(study):
    df = pd.DataFrame({"STUDYID": "X", "DOMAIN": "SV", "USUBJID": ["S-1"] * 3,
                       "VISIT": ["CYCLE 2 DAY 29", "CYCLE 2 DAY 29", "UNSCHEDULED 1"],
                       "VISITNUM": [229.0, 229.0, 9001.0],
                       "SVSTDTC": [None, None, "2011-05-01"], "__raw": ["bm", "mrd", "bm"], "__row": [5, 7, 9]})
    sv = el.derive_subject_visits(df, context(study, "SV"), describe={"bm": "bone marrow", "mrd": "MRD"})
    assert sv.SVOCCUR.tolist()[0] == "N" and pd.isna(sv.SVOCCUR.tolist()[1])
    assert sv.SVUPDES.tolist()[1] == "Unscheduled visit: bone marrow"
    assert sv.VISITDY.tolist()[0] == study.treatment.cycle_days + 29
    assert sv["__row"].tolist() == [5, 9]
    with pytest.raises(InputError, match="describe has no text"):
        el.derive_subject_visits(df, context(study, "SV"), describe={"bm": "bone marrow"})


def test_mappings_type_no_configured_value_twice():
    """ts.yaml must not restate what study.yaml holds (the algorithm refuses it; check the file too)."""
    mapping = yaml.safe_load((SPECS / "sdtm" / "mapping" / "ts.yaml").read_text())
    params = mapping["then"][0]["trial_summary"]["parameters"]
    derived = {"TITLE", "TPHASE", "REGID", "SPONSOR", "INDIC", "TRT", "FCNTRY", "PLANSUB", "NARMS", "NCOHORT",
               "LENGTH", "DOSE", "DOSU", "DCUTDTC", "SDTIGVER", "SSTDTC", "ACTSUB"}
    assert not [p for p in params if p["parmcd"] in derived and "value" in p]
