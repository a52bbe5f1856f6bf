"""Trial design (TS, TA, TE, TV, TI) and subject elements and visits (SE, SV): the algorithms on
small hand-made inputs, and the domains of the default study double-programmed from the raw CSV
files and the study configuration with plain pandas."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import SPECS
from submit.config import StudyConfig
from submit.errors import InputError
from submit.raw.reader import read_raw
from submit.sdtm import elements as el
from submit.sdtm import trial_tables as tt
from submit.sdtm.algorithms import DomainContext, Exceptions, derive_baseline_flag
from submit.sdtm.engine import run_domain
from submit.sdtm.mapping import DomainMapping, Step
from submit.simulate import design_tables as dt
from submit.spec.ct import ct_file
from submit.spec.store import load_spec

SPEC = load_spec(SPECS / "sdtm")

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
    path = ct_file("sdtm-ct-2025-03-28.txt")
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)


def context(study, domain="SE", dm=None, frames=None, folder=SPECS) -> DomainContext:
    return DomainContext(domain, study, dm, frames or {}, Exceptions(), {}, folder, SPEC)


def se_params() -> dict:
    """The element rules of the default study's se.yaml."""
    return yaml.safe_load((SPECS / "sdtm" / "mapping" / "se.yaml").read_text())["then"][0]["subject_elements"]


def elements_of(ctx, **params) -> pd.DataFrame:
    params = params or se_params()
    rules = el.element_rules(ctx, params["exposure"], params["arms"], params.get("elements", "trial_design/TE.csv"),
                             params["first"], params.get("gap"), params.get("follow_up"), params.get("end", "RFPENDTC"))
    return el.subject_elements(ctx, rules)


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
    assert pd.isna(ts.loc["SSTDTC", "TSVALNF"])
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
    # PK samples are visits too (CDISC CG0034): cycle k, day floor(nominal hours / 24) + 1, predose day 1
    pk = raw["pk"]
    day = (pd.to_numeric(pk.NOMHR) // 24 + 1).clip(lower=1).astype(int).astype(str)
    stacked = pd.concat([stacked, pd.DataFrame({"SUBJID": pk.SUBJID, "VISIT": "C" + pk.CYCLE + "D" + day,
                                                "DATE": pk.PKDT})], ignore_index=True)
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


# --- the tables and the one-off helper that wrote MT103-206's ------------------------------------


def test_committed_design_tables_are_what_the_helper_writes(study, tmp_path):
    """TE, TA and TV of the study folder are exactly what submit/simulate/design_tables.py writes
    from study.yaml (rerun it after changing the design)."""
    (tmp_path / "study.yaml").write_text((SPECS / "study.yaml").read_text())
    written = dt.write_design_tables(tmp_path)
    assert [p.name for p in written] == ["TE.csv", "TA.csv", "TV.csv"]
    for path in written:
        assert path.read_bytes() == (SPECS / "trial_design" / path.name).read_bytes(), path.name


def test_helper_follows_a_changed_configuration(study):
    cohorts = [{"code": "A", "armcd": "ARMA", "label": "A", "planned_n": 3,
                "cycle1": [{"start": 1, "dose": 9}, {"start": 8, "dose": 28}], "later": [{"start": 1, "dose": 28}]}]
    data = study.model_dump(mode="json")
    data["cohorts"], data["treatment"]["max_core_cycles"] = cohorts, 2
    changed = StudyConfig.model_validate(data)
    ta = dt.trial_arms(changed)
    assert ta.ETCD.tolist() == ["SCRN", "BLIN9", "BLIN28", "TFI", "BLIN28", "TFI", "FU",
                                "BLIN9", "BLIN28", "TFI", "BLIN28", "TFI", "FU"]
    assert ta.TATRANS[1].endswith("(TAETORD = 4)")  # stopped before the step: the cycle's interval
    assert ta.TATRANS[3].endswith("(TAETORD = 7)")  # no further cycle: follow-up
    assert ta.TATRANS[6].startswith("If no retreatment")  # follow-up ends the path without retreatment
    assert pd.isna(ta.TATRANS[5]) and pd.isna(ta.TATRANS[12])
    assert set(dt.trial_elements(changed).ETCD) == {"SCRN", "BLIN9", "BLIN28", "TFI", "FU"}
    tv = dt.trial_visits(changed)
    assert tv.VISITNUM[tv.VISITNUM < 5000].max() == 1000 + 2 * 100 + 29
    long = study.model_copy(update={"study": study.study.model_copy(update={"drug": "blinatumomab"})})
    with pytest.raises(InputError, match="longer than 8"):
        dt.element_code(long, 12345.5)


def test_engine_runs_a_mapping_without_sources(study):
    mapping = DomainMapping("TE", (), (Step("trial_table", {"file": "trial_design/TE.csv"}),), "te.yaml")
    te = run_domain(mapping, SPEC, {}, study, Exceptions(), specs_folder=SPECS)
    assert list(te.columns[-2:]) == ["__raw", "__row"]
    assert (te["__raw"] == "trial_design/TE.csv").all() and sorted(te["__row"]) == list(range(1, len(te) + 1))
    assert list(te.columns[:-2]) == [v.name for v in SPEC.variables_of("TE")]
    table = pd.read_csv(SPECS / "trial_design" / "TE.csv", dtype=str, keep_default_na=False)
    assert te.set_index("__row").ETCD.sort_index().tolist() == table.ETCD.tolist()


def test_trial_table_reports_every_problem_with_file_row_and_column(study, tmp_path):
    (tmp_path / "td").mkdir()
    (tmp_path / "td" / "TA.csv").write_text(
        "ARMCD,TAETORD,ETCD,EPOCH,COLOUR,_NOTE\n"
        "A,1,SCRN,SCREENING,red,x\n"
        "A,two,TRT,TREATMENT,red,\n"
        "A,1,FU,,blue,\n")
    with pytest.raises(InputError) as err:
        tt.load_trial_table(tmp_path, "td/TA.csv", SPEC, "TA")
    problems = {(p.row, p.column, p.message.split(" (")[0]) for p in err.value.problems}
    assert (None, "COLOUR", "COLOUR is not a variable of TA in the spec") in problems  # unknown column
    assert (None, "ARM", "required column ARM is missing") in problems
    assert (2, "TAETORD", "'two' is not a number") in problems
    assert (3, "EPOCH", "EPOCH is required") in problems
    assert {(p.row, p.column) for p in err.value.problems if "same" in p.message} == {(1, None), (3, None)}
    assert all(p.file == "td/TA.csv" for p in err.value.problems)
    with pytest.raises(InputError, match="no such file"):
        tt.load_trial_table(tmp_path, "td/TE.csv", SPEC, "TE")


def _summary(tmp_path, rows: str) -> Path:
    (tmp_path / "trial_design").mkdir(exist_ok=True)
    (tmp_path / "trial_design" / "TS.csv").write_text("TSPARMCD,TSPARM,TSVAL,TSVALNF,_CODELIST,_FROM\n" + rows)
    return tmp_path


def test_trial_summary_from_its_table(built, study, tmp_path):
    folder = _summary(tmp_path, "TITLE,,,,,study.title\nTBLIND,,OPEN LABEL,,TBLIND,\nTTYPE,,SAFETY,,TTYPE,\n"
                                "TTYPE,,EFFICACY,,TTYPE,\nSSTDTC,,,,,DM\nACTSUB,,,,,DM\nMYPARM,My Parameter,x,,,\n"
                                "AGEMAX,,,PINF,,\n")
    ts = tt.derive_trial_summary(pd.DataFrame(), context(study, "TS", built["DM"], folder=folder), "trial_design/TS.csv")
    got = ts.set_index(["TSPARMCD", "TSSEQ"])
    assert got.loc[("TITLE", 1), "TSVAL"] == study.study.title
    assert got.loc[("TBLIND", 1), "TSVALCD"] == "C49659" and got.loc[("TBLIND", 1), "TSVCDREF"] == "CDISC CT"
    assert got.loc[("TTYPE", 2), "TSVAL"] == "EFFICACY" and got.loc[("TTYPE", 2), "TSVCDVER"] == study.standards.ct
    assert got.loc[("ACTSUB", 1), "TSVAL"] == str(built["DM"].ARMCD.notna().sum())
    first = built["DM"].RFICDTC[built["DM"].ARMCD.notna()].str.slice(0, 10).min()
    assert got.loc[("SSTDTC", 1), "TSVAL"] == first
    assert ts.loc[ts.TSPARMCD == "SSTDTC", "__raw"].tolist() == ["DM"]  # traced to DM, not to a raw dataset
    assert got.loc[("MYPARM", 1), "TSPARM"] == "My Parameter"
    assert got.loc[("TBLIND", 1), "TSPARM"] == "Trial Blinding Schema"


@pytest.mark.parametrize("rows, message", [
    ("TITLE,,Typed twice,,,study.title\n", "leave TSVAL and TSVALNF empty"),
    ("TBLIND,,HALF BLIND,,TBLIND,\n", "not in CDISC CT"),
    ("AGEMAX,,,NONE,,\n", "null flavor"),
    ("AGEMAX,,,,,\n", "either TSVAL or TSVALNF"),
    ("MYPARM,,x,,,\n", "type TSPARM"),
    ("TITLE,,,,,study.nothing\n", "not a key of the study configuration"),
    ("TITLE,,,,,DM\n", "only SSTDTC and ACTSUB"),
])
def test_trial_summary_refuses_bad_rows(built, study, tmp_path, rows, message):
    folder = _summary(tmp_path, rows)
    with pytest.raises(InputError, match=message) as err:
        tt.derive_trial_summary(pd.DataFrame(), context(study, "TS", built["DM"], folder=folder), "trial_design/TS.csv")
    assert err.value.problems[0].file == "trial_design/TS.csv"


def test_ts_table_types_no_configured_value_twice():
    """Values that study.yaml or DM hold are referenced (_FROM), never typed in TS.csv."""
    ts = pd.read_csv(SPECS / "trial_design" / "TS.csv", dtype=str, keep_default_na=False)
    referenced = ts[ts["_FROM"] != ""]
    assert set(referenced.TSPARMCD) == {"TITLE", "REGID", "SPONSOR", "DCUTDTC", "SDTIGVER", "SSTDTC", "ACTSUB"}
    assert (referenced.TSVAL == "").all()
    assert (ts.TSVALCD[ts["_CODELIST"] != ""] == "").all(), "CT codes are looked up, never typed"


# --- visits ---------------------------------------------------------------------------------------


def test_visit_schedule_numbers_planned_and_rule_codes(study):
    from submit.sdtm.visits import visit_schedule

    schedule = visit_schedule(SPECS, SPEC, "test")
    got = schedule.lookup(pd.Series(["SCR", "C2D8", "RT1D29", "UNS3", "FU2", "FU40", "C9D99", None], dtype=object))
    assert got.VISITNUM.tolist()[:6] == [1.0, 208.0, 1129.0, 9003.0, 5002.0, 5040.0]
    assert got.VISIT.tolist()[:6] == ["SCREENING", "CYCLE 2 DAY 8", "RETREATMENT CYCLE 1 DAY 29", "UNSCHEDULED 3",
                                      "SURVIVAL FOLLOW-UP 2", "SURVIVAL FOLLOW-UP 40"]
    assert got.iloc[6:].isna().all().all()  # neither planned nor numbered by a rule


def test_visit_schedule_refuses_bad_rules(study, tmp_path):
    from submit.sdtm.visits import visit_schedule

    folder = tmp_path / "trial_design"
    folder.mkdir()
    (folder / "TV.csv").write_text("VISITNUM,VISIT,TVSTRL,_CODE\n1,SCREENING,Consent,SCR\n2,DAY 1,Dose,SCR\n")
    (folder / "visits.yaml").write_text("planned: TV.csv\nnumbered:\n  - {pattern: 'UNS', base: 9000, visit: U}\n")
    with pytest.raises(InputError) as err:
        visit_schedule(tmp_path, SPEC, "test")
    text = str(err.value)
    assert "exactly one group" in text and "must contain {n}" in text
    (folder / "visits.yaml").write_text("planned: TV.csv\n")
    with pytest.raises(InputError, match="two VISITNUM or VISIT"):
        visit_schedule(tmp_path, SPEC, "test")


# --- SE, SV and EPOCH on hand-made inputs -----------------------------------------------------------


def _dm(rows):
    return pd.DataFrame(rows, columns=["USUBJID", "SUBJID", "ARMCD", "RFICDTC", "RFPENDTC"])


def _infusion(rows):
    cols = ["SUBJID", "PHASE", "CYCLE", "STEP", "SEGMENT", "STDT", "STTM", "ENDT", "ENTM", "DOSE"]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"CYCLE": "Int64", "STEP": "Int64", "SEGMENT": "Int64", "DOSE": float})


def test_subject_elements_on_hand_made_courses(study):
    frames = {
        "consent": pd.DataFrame({"SUBJID": ["3", "1", "2"], "ICDT": ["2011-01-03", "2011-01-01", "2011-01-02"]}),
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
    se = elements_of(context(study, dm=dm, frames=frames))
    one = se[se.USUBJID == "S-1"]
    assert one.ETCD.tolist() == ["SCRN", "BLIN5", "BLIN15", "TFI"]
    assert one.SESTDTC.tolist() == ["2011-01-01", "2011-01-10T10:00", "2011-01-17T10:00", "2011-02-07T10:00"]
    assert one.SEENDTC.tolist() == ["2011-01-10T10:00", "2011-01-17T10:00", "2011-02-07T10:00", "2011-02-12"]
    assert one.TAETORD.tolist() == [1, 2, 3, 4]
    two = se[se.USUBJID == "S-2"]
    assert two.ETCD.tolist() == ["SCRN", "BLIN15", "TFI", "FU", "BLIN15"]
    assert two.SESTDTC.tolist()[3:] == ["2011-02-21T10:00", "2011-06-01T11:00"]  # FU: 14 days (TEDUR of TFI) later
    assert two.EPOCH.tolist() == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", "RETREATMENT"]
    assert pd.isna(two.SEENDTC.iloc[-1])  # still running
    ta = pd.read_csv(SPECS / "trial_design" / "TA.csv", dtype=str, keep_default_na=False)
    coh1 = ta[ta.ARMCD == "COH1"].set_index(ta.TAETORD[ta.ARMCD == "COH1"].astype(float))
    assert coh1.loc[two.TAETORD.iloc[3], "ETCD"] == "FU" and coh1.loc[two.TAETORD.iloc[4], "_PHASE"] == "RETREATMENT"
    three = se[se.USUBJID == "S-3"]
    assert three.ETCD.tolist() == ["SCRN"] and three.SEENDTC.tolist() == ["2011-01-20"]
    assert set(se["__raw"]) == {"consent", "infusion"}  # screening: the consent form, as se.yaml declares
    assert se.loc[se.ETCD == "SCRN", "__row"].tolist() == [2, 3, 1]


def test_subject_elements_unplanned_dose_has_no_taetord(study):
    frames = {"consent": pd.DataFrame({"SUBJID": ["1"]}),
              "infusion": _infusion([["1", "CORE", 1, 1, 1, "2011-01-10", "10:00", "2011-02-07", "10:00", 30],
                                     ["1", "CORE", 2, 1, 1, "2011-03-10", "10:00", "2011-04-07", "10:00", 7.5]])}
    dm = _dm([["S-1", "1", "COH1", "2011-01-01", "2011-05-01"]])
    ctx = context(study, dm=dm, frames=frames)
    se = elements_of(ctx)
    row = se[se.ETCD == "BLIN30"].iloc[0]
    assert pd.isna(row.TAETORD) and row.EPOCH == "TREATMENT"  # the epoch of its place in the arm
    # a dose without an element: reported with its raw row and column, the element has no ETCD
    assert [(r["raw_row"], r["column"]) for r in ctx.exceptions.rows] == [(2, "DOSE")]
    assert se.ETCD.isna().sum() == 1


def test_subject_elements_of_a_simple_study(study, tmp_path):
    """One exposure record per dose, one element per treatment, screening before the first dose,
    follow-up after the last until RFPENDTC, no cycles and no planning columns."""
    folder = tmp_path / "trial_design"
    folder.mkdir()
    (folder / "TE.csv").write_text("ETCD,ELEMENT,TESTRL,TEENRL,TEDUR\nSCRN,Screening,Consent,First dose,\n"
                                   "PBO,Placebo,First dose,Last dose,\nXAN,Xanomeline,First dose,Last dose,\n"
                                   "FU,Follow-up,Last dose,End of study,\n")
    (folder / "TA.csv").write_text("ARMCD,ARM,TAETORD,ETCD,ELEMENT,EPOCH\n"
                                   "Pbo,Placebo,1,SCRN,Screening,SCREENING\nPbo,Placebo,2,PBO,Placebo,TREATMENT\n"
                                   "Pbo,Placebo,3,FU,Follow-up,FOLLOW-UP\nXan,Xanomeline,1,SCRN,Screening,SCREENING\n"
                                   "Xan,Xanomeline,2,XAN,Xanomeline,TREATMENT\nXan,Xanomeline,3,FU,Follow-up,FOLLOW-UP\n")
    ex = pd.DataFrame({"PATNUM": ["7", "7", "7", "8"], "EXTRT": ["XANOMELINE"] * 3 + ["PLACEBO"],
                       "EXDT": ["2014-01-02", "2014-01-03", "2014-01-04", "2014-02-01"]})
    dm = _dm([["S-7", "7", "Xan", "2013-12-20", "2014-02-10"], ["S-8", "8", "Xan", "2014-01-20", "2014-03-01"]])
    ctx = context(study, dm=dm, frames={"ex": ex}, folder=tmp_path)
    se = elements_of(ctx, exposure={"raw": "ex", "subject": "PATNUM", "start": {"date": "EXDT"}, "end": {"date": "EXDT"},
                                    "element": ["EXTRT"], "etcd": {"column": "EXTRT",
                                                                   "values": {"XANOMELINE": "XAN", "PLACEBO": "PBO"}}},
                     arms={"file": "trial_design/TA.csv", "match": {}}, first={"etcd": "SCRN", "start": "RFICDTC"},
                     follow_up={"etcd": "FU", "after": []})
    seven = se[se.USUBJID == "S-7"]
    assert seven.ETCD.tolist() == ["SCRN", "XAN", "FU"]
    assert seven.SESTDTC.tolist() == ["2013-12-20", "2014-01-02", "2014-01-04"]
    assert seven.SEENDTC.tolist() == ["2014-01-02", "2014-01-04", "2014-02-10"]
    assert seven.TAETORD.tolist() == [1, 2, 3] and seven.EPOCH.tolist() == ["SCREENING", "TREATMENT", "FOLLOW-UP"]
    assert se.loc[se.ETCD == "SCRN", "__raw"].tolist() == ["DM", "DM"]  # no form declared: the DM record
    eight = se[se.USUBJID == "S-8"]  # placebo given in the xanomeline arm: not planned, epoch of the element in TA
    assert eight.ETCD.tolist() == ["SCRN", "PBO", "FU"] and pd.isna(eight.TAETORD.iloc[1])
    assert eight.EPOCH.iloc[1] == "TREATMENT"


def test_subject_elements_refuses_bad_rules(study):
    ctx = context(study, dm=_dm([]), frames={"infusion": _infusion([]), "consent": pd.DataFrame({"SUBJID": []})})
    params = se_params()
    with pytest.raises(InputError) as err:
        el.element_rules(ctx, {**params["exposure"], "element": ["PHASE", "WEEK"]},
                         {"file": "trial_design/TA.csv", "match": {"ARM": "_ARM"}}, "trial_design/TE.csv",
                         {"etcd": "SCRN"}, {"etcd": "TFI", "after": ["CYCLE"]}, {"etcd": "FU", "after": ["PHASE"]},
                         "RFPENDTC")
    text = str(err.value)
    assert "no column WEEK" in text and "ARM is not an exposure.element column" in text
    assert "first.start must name" in text and "PHASE is not a gap.after column" in text


def test_epoch_from_elements(study):
    frames = {"consent": pd.DataFrame({"SUBJID": ["1"]}),
              "infusion": _infusion([["1", "CORE", 1, 1, 1, "2011-01-10", "10:00", "2011-02-07", "10:00", 15]])}
    dm = _dm([["S-1", "1", "COH1", "2011-01-05", "2011-05-01"]])
    ctx = context(study, dm=dm, frames=frames)
    df = pd.DataFrame({"USUBJID": ["S-1"] * 7,
                       "XXDTC": ["2011-01-04", "2011-01-05", "2011-01-10", "2011-02-07T12:00", "2011-02-21",
                                 "2011-05-02", "2011-03"]})
    with pytest.raises(InputError, match="needs SE"):
        el.derive_epoch_from_elements(df.copy(), ctx, dtc="XXDTC")
    p = se_params()
    el.derive_subject_elements(pd.DataFrame(), ctx, p["exposure"], p["arms"], p["first"], p["elements"], p["gap"],
                               p["follow_up"])
    out = el.derive_epoch_from_elements(df, ctx, dtc="XXDTC")
    epochs = [None if pd.isna(x) else x for x in out.EPOCH]
    assert epochs == [None, "SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", None, None]


def test_baseline_flag_takes_its_reference_from_dm(study):
    dm = pd.DataFrame({"USUBJID": ["S-1"], "RFXSTDTC": ["2011-01-10T10:00"], "RFSTDTC": ["2011-01-05"]})
    df = pd.DataFrame({"USUBJID": ["S-1"] * 3, "XXTESTCD": ["A"] * 3, "XXORRES": ["1", "2", "3"],
                       "XXDTC": ["2011-01-04", "2011-01-08", "2011-01-10T11:00"]})
    first_dose = derive_baseline_flag(df.copy(), context(study, "XX", dm), prefix="XX", by=["XXTESTCD"])
    assert first_dose.XXLOBXFL.tolist() == [None, "Y", None]  # 11:00 is after the 10:00 start
    reference = derive_baseline_flag(df.copy(), context(study, "XX", dm), prefix="XX", by=["XXTESTCD"],
                                     reference="RFSTDTC")
    assert reference.XXLOBXFL.tolist() == ["Y", None, None]
    with pytest.raises(InputError, match="not a variable of DM"):
        derive_baseline_flag(df.copy(), context(study, "XX", dm), prefix="XX", by=["XXTESTCD"], reference="RFICDTC")


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
