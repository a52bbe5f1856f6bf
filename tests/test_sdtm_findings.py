"""PC, RS, TU (extramedullary disease), SUPPDM, SUPPPC and RELREC built from the default
simulated extract, double-programmed from the raw CSV files with plain pandas; the findings
algorithms (submit/sdtm/findings.py) on constructed frames."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import SPECS
from submit.errors import InputError
from submit.raw.reader import read_raw
from submit.sdtm.algorithms import DomainContext, Exceptions, SourceContext
from submit.sdtm.build import build_sdtm
from submit.spec.store import load_spec
from submit.sdtm.findings import (censored_result, cycle_day_visit, derive_complete_relationships, derive_drop_empty,
                                  derive_split_text, derive_text_overflow, group_start, iso_duration, seq_of,
                                  split_words, template)

QNAM = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
CYCLE_DAY = re.compile(r"^(?:(?P<scr>SCR)|(?P<rt>RT)?C?(?P<k>\d+)D(?P<d>\d+)|UNS(?P<u>\d+))$")


@pytest.fixture(scope="module")
def built(default_sdtm):
    result, root = default_sdtm
    trace = pd.read_csv(root / "qc" / "sdtm_traceability.csv", dtype=str, keep_default_na=False)
    return result, trace


def _usubjid(study, subjid: pd.Series) -> pd.Series:
    return study.study.id + "-" + subjid


def _visitnum(code: pd.Series) -> pd.Series:
    """VISITNUM of an EDC visit code, computed here independently of the mapping."""
    p = code.str.extract(CYCLE_DAY)
    k, d = pd.to_numeric(p.k), pd.to_numeric(p.d)
    return pd.Series(np.select([p.scr.notna(), p.u.notna(), p.rt.notna()],
                               [1.0, 9000 + pd.to_numeric(p.u), 1000 + 100 * k + d], 100 * k + d), index=code.index)


# --- PC --------------------------------------------------------------------------------------


def test_pc_has_one_record_per_raw_sample(built, raw, study):
    pc = built[0].domains["PC"]
    assert len(pc) == len(raw["pk"]) > 0
    assert not pc.duplicated(["USUBJID", "PCSEQ"]).any()
    rows = built[1][built[1].DOMAIN == "PC"]
    assert sorted(rows.RAW_ROW.astype(int)) == list(range(1, len(raw["pk"]) + 1))


def _pc_with_raw(pc: pd.DataFrame, pk: pd.DataFrame, study) -> pd.DataFrame:
    r = pk.assign(USUBJID=_usubjid(study, pk.SUBJID), PCDTC=pk.PKDT + "T" + pk.PKTM, PCTPTNUM=pk.NOMHR.astype(float))
    return r.merge(pc, on=["USUBJID", "PCDTC", "PCTPTNUM"], how="left", validate="one_to_one", indicator=True)


def test_pc_results_and_below_limit_results_as_documented(built, raw, study):
    m = _pc_with_raw(built[0].domains["PC"], raw["pk"], study)
    assert (m._merge == "both").all()
    assert (m.PCORRES == m.RESULT).all()  # as reported, tokens included
    lod, lloq = m.RESULT == "<LOD", m.RESULT == "<LLOQ"
    number = ~(lod | lloq)
    assert lod.any() and number.any()
    assert (m.PCSTRESC[lod] == "<" + m.LOD[lod]).all() and (m.PCSTRESC[lod] == "<3").all()
    assert (m.PCSTRESC[lloq] == "<" + m.LLOQ[lloq]).all()
    assert m.PCSTRESN[lod | lloq].isna().all()
    assert np.allclose(m.PCSTRESN[number], m.RESULT[number].astype(float))
    assert (m.PCSTRESC[number].astype(float) == m.RESULT[number].astype(float)).all()
    assert (m.PCSTRESU == "pg/mL").all() and (m.PCORRESU == "pg/mL").all()
    assert (m.PCLLOQ == m.LLOQ.astype(float)).all() and (m.PCLLOQ == 50).all()
    assert (m.PCTESTCD == "BLINA").all() and (m.PCSPEC == "SERUM").all()


def test_pc_below_lloq_results_when_the_extract_has_them(tmp_path, default_raw, schema, study):
    """The default study has no result between the LOD and the LLOQ: make some and rebuild."""
    bad = tmp_path / "raw"
    shutil.copytree(default_raw, bad)
    pk = pd.read_csv(bad / "pk.csv", dtype=str, keep_default_na=False)
    rows = pk.index[pk.SAMPLE == "D29"][:3]
    pk.loc[rows, "RESULT"] = "<LLOQ"
    pk.to_csv(bad / "pk.csv", index=False, lineterminator="\n")
    result = build_sdtm(SPECS / "sdtm", read_raw(bad, schema, study).frames, study, tmp_path / "out")
    m = _pc_with_raw(result.domains["PC"], pk, study)
    hit = m.loc[rows]
    assert (hit.PCORRES == "<LLOQ").all() and (hit.PCSTRESC == "<50").all() and hit.PCSTRESN.isna().all()
    assert (hit.PCSTRESU == "pg/mL").all() and (hit.PCLLOQ == 50).all()
    assert not (result.exceptions.domain == "PC").any()


def test_pc_nominal_times_recomputed_from_raw(built, raw, study):
    """Nominal hours from the sample code (PREDOSE, H48, Dd) and, 48 h after a dose step, from the
    start of the step in the infusion log; reference = start of the cycle's first core segment."""
    pk, inf = raw["pk"].copy(), raw["infusion"]
    core = inf[inf.PHASE == "CORE"].assign(start=lambda d: pd.to_datetime(d.STDT + "T" + d.STTM))
    cycle_start = core.groupby(["SUBJID", "CYCLE"]).start.min().rename("cycle_start").reset_index()
    step_start = core.groupby(["SUBJID", "CYCLE", "STEP"]).start.min().rename("step_start").reset_index()
    pk["STEP"] = pk.SAMPLE.str.extract(r"^STEP(\d)H48$")[0]
    pk = pk.merge(cycle_start, on=["SUBJID", "CYCLE"], how="left")
    pk = pk.merge(step_start, on=["SUBJID", "CYCLE", "STEP"], how="left")
    day = pd.to_numeric(pk.SAMPLE.str.extract(r"^D(\d+)$")[0])
    step_hours = ((pk.step_start - pk.cycle_start).dt.total_seconds() / 3600).round() + 48
    pk["expected"] = np.select([pk.SAMPLE == "PREDOSE", pk.SAMPLE == "H48", day.notna(), pk.STEP.notna()],
                               [0.0, 48.0, (day - 1) * 24, step_hours], np.nan)
    assert pk.expected.notna().all() and (pk.STEP.notna()).any()
    assert (pk.expected == pk.NOMHR.astype(float)).all()  # the raw nominal hours are what the design says
    m = _pc_with_raw(built[0].domains["PC"], pk.drop(columns=["STEP"]), study)
    assert (m.PCTPTNUM == m.expected).all()
    assert (m.PCELTM == "PT" + m.expected.astype(int).astype(str) + "H").all()
    assert (m.PCTPTREF == "CYCLE " + m.CYCLE + " INFUSION START").all()
    assert (m.PCRFTDTC == m.cycle_start.dt.strftime("%Y-%m-%dT%H:%M")).all()
    k, d = m.CYCLE.astype(int), np.floor(m.expected / 24) + 1
    assert (m.VISITNUM == 100 * k + d).all()
    assert (m.VISIT == "CYCLE " + m.CYCLE + " DAY " + d.astype(int).astype(str)).all()
    assert (m.PCTPT[m.SAMPLE == "PREDOSE"] == "PREDOSE").all()


def test_supppc_conforms_and_points_at_its_parent_sample(built, raw):
    result, trace = built
    pc, supp = result.domains["PC"], result.domains["SUPPPC"]
    _supp_form(supp, "PC")
    assert len(supp) == len(pc) and (supp.IDVAR == "PCSEQ").all() and (supp.QNAM == "PCLOD").all()
    parent = pc.assign(IDVARVAL=pc.PCSEQ.astype(int).astype(str))
    m = supp.merge(parent, on=["USUBJID", "IDVARVAL"], how="left", indicator=True, validate="one_to_one")
    assert (m._merge == "both").all()
    # the parent record of each qualifier is the PC record of the same raw sample (the
    # traceability report lists the records of each dataset in the dataset's order)
    supp_rows = trace[trace.DOMAIN == "SUPPPC"].RAW_ROW.astype(int).to_numpy()
    pc_rows = trace[trace.DOMAIN == "PC"].assign(IDVARVAL=lambda t: t.SEQ.astype(float).astype(int).astype(str))
    parent_rows = supp[["USUBJID", "IDVARVAL"]].merge(pc_rows, on=["USUBJID", "IDVARVAL"], how="left",
                                                     validate="one_to_one").RAW_ROW.astype(int).to_numpy()
    assert (parent_rows == supp_rows).all()
    lod = raw["pk"].LOD.to_numpy()[supp_rows - 1]
    assert (supp.QVAL.astype(float).to_numpy() == lod.astype(float)).all()


def _supp_form(supp: pd.DataFrame, rdomain: str) -> None:
    assert (supp.RDOMAIN == rdomain).all()
    assert supp.QNAM.str.fullmatch(QNAM).all()
    assert (supp.QLABEL.str.len() <= 40).all() and supp.QLABEL.notna().all()
    assert supp.QVAL.notna().all() and (supp.QVAL.str.len() <= 200).all()
    assert supp.QORIG.notna().all()
    assert not supp.duplicated(["USUBJID", "IDVAR", "IDVARVAL", "QNAM"]).any()


def test_suppdm_conforms_and_holds_the_consented_protocol_version(built, raw, study):
    result, _ = built
    supp, dm = result.domains["SUPPDM"], result.domains["DM"]
    _supp_form(supp, "DM")
    assert supp.IDVAR.isna().all() and supp.IDVARVAL.isna().all()  # DM: one record per subject
    assert set(supp.USUBJID) <= set(dm.USUBJID)
    consent = raw["consent"].assign(USUBJID=lambda d: _usubjid(study, d.SUBJID)).set_index("USUBJID")
    assert (supp.set_index("USUBJID").QVAL == consent.PROTVER.reindex(supp.USUBJID)).all()
    assert len(supp) == len(consent)


# --- RS --------------------------------------------------------------------------------------


RESPONSE = {"CR": "CR", "CRh*": "CRh", "PR": "PR", "NR": "NR", "Relapse": "RELAPSED DISEASE", "NE": "NE"}


def test_rs_values_are_in_their_codelists(built):
    result, _ = built
    rs, spec = result.domains["RS"], result.spec
    for var in ("RSTESTCD", "RSTEST", "RSCAT", "RSSTRESC", "RSEVAL"):
        codelist = next(v.codelist for v in spec.variables_of("RS") if v.name == var)
        assert set(rs[var]) <= set(spec.codelist(codelist).values()), var
    assert set(spec.codelist("ONCRSR").values()) >= {"CR", "CRh", "PR", "NR"}
    assert spec.codelist("ONCRSR").nci_code == "C96785" and not any(t.extended for t in spec.codelist("ONCRSR").terms)


def test_rs_response_at_each_assessment_equals_raw(built, raw, study):
    rs = built[0].domains["RS"]
    r = raw["resp"].assign(USUBJID=lambda d: _usubjid(study, d.SUBJID), VISITNUM=lambda d: _visitnum(d.VISIT))
    m = r.merge(rs, on=["USUBJID", "VISITNUM"], how="outer", indicator=True, validate="one_to_one")
    assert (m._merge == "both").all() and len(rs) == len(r)
    assert (m.RSORRES == m.RESP).all()
    assert (m.RSSTRESC == m.RESP.map(RESPONSE)).all()
    assert (m.RSDTC == m.RSDT).all()
    assert (m.RSTESTCD == "OVRLRESP").all() and (m.RSEVAL == "INVESTIGATOR").all()


# --- TU (extramedullary disease) -------------------------------------------------------------


def test_tu_has_one_record_per_extramedullary_assessment(built, raw, study):
    tu = built[0].domains["TU"]
    e = raw["emd"].assign(USUBJID=lambda d: _usubjid(study, d.SUBJID), VISITNUM=lambda d: _visitnum(d.VISIT))
    assert len(tu) == len(e)
    m = e.merge(tu, on=["USUBJID", "VISITNUM"], how="left", indicator=True, validate="one_to_one")
    assert (m._merge == "both").all()
    assert (m.TUTESTCD == "TUEXMIND").all()
    assert (m.TUSTRESC == m.EMDSTAT.map({"Absent": "N", "Present": "Y"})).all()
    assert (m.TUORRES == m.EMDSTAT).all()
    sites = {"CNS": "CENTRAL NERVOUS SYSTEM", "Testis": "TESTIS", "Skin": "SKIN", "Lymph nodes": "LYMPH NODE",
             "Mediastinum": "MEDIASTINUM"}
    present = m.EMDSTAT == "Present"
    assert present.any() and (m.TULOC[present] == m.EMDSITE[present].map(sites)).all()
    assert m.TULOC[~present].isna().all()
    assert (m.TUDTC == m.EMDDT).all()


# --- RELREC ----------------------------------------------------------------------------------


def test_relrec_relates_the_records_of_each_marrow_assessment(built, raw, study):
    result, _ = built
    rel = result.domains["RELREC"]
    assert set(rel.RDOMAIN) == {"LB", "RS", "TU"} and rel.RELTYPE.isna().all()
    for domain in ("LB", "RS", "TU"):
        parent = result.domains[domain]
        part = rel[rel.RDOMAIN == domain]
        assert (part.IDVAR == f"{domain}LNKGRP").all()
        keys = set(zip(parent.USUBJID, parent[f"{domain}LNKGRP"]))
        assert set(zip(part.USUBJID, part.IDVARVAL)) <= keys
    # double-programmed: a relation for every visit with records in at least two of marrow (LB),
    # response (RS) and extramedullary disease (TU)
    visits = pd.concat([raw[name][["SUBJID", "VISIT"]].drop_duplicates().assign(src=name)
                        for name in ("bm", "resp", "emd")])
    expected = visits.groupby(["SUBJID", "VISIT"]).src.nunique()
    per_relation = rel.groupby(["USUBJID", "RELID"]).RDOMAIN.nunique()
    assert len(per_relation) == (expected >= 2).sum() > 0
    assert (per_relation >= 2).all()


# --- algorithms on constructed frames --------------------------------------------------------


def _ctx(study, rows: pd.DataFrame, frames: dict | None = None, target: str = "X") -> SourceContext:
    return SourceContext("XX", "raw", rows, frames or {}, study, Exceptions(), target)


def test_template_fills_columns_and_is_null_when_one_is(study):
    rows = pd.DataFrame({"CYCLE": pd.array([1, 2, None], dtype="Int64"), "V": ["C1D29", "C2D29", "X"]})
    out = template(_ctx(study, rows), text="CYCLE {CYCLE} / {V}")
    assert out.tolist()[:2] == ["CYCLE 1 / C1D29", "CYCLE 2 / C2D29"] and pd.isna(out.iloc[2])
    with pytest.raises(InputError):
        template(_ctx(study, rows), text="NO PLACEHOLDER")


def test_seq_of_orders_within_subject_and_keeps_raw_order_on_ties(study):
    rows = pd.DataFrame({"SUBJID": ["a", "a", "b", "a"], "D": ["2011-01-02", "2011-01-01", "2011-01-01", "2011-01-01"]})
    assert seq_of(_ctx(study, rows), order=["D"]).tolist() == [3, 1, 1, 2]
    assert seq_of(_ctx(study, rows), order=["D"], text=True).tolist() == ["3", "1", "1", "2"]


def test_iso_duration(study):
    rows = pd.DataFrame({"H": [0, 48, 1.5, -1, np.nan, 0.25]})
    assert iso_duration(_ctx(study, rows), column="H").tolist()[:4] == ["PT0H", "PT48H", "PT1H30M", "-PT1H"]
    out = iso_duration(_ctx(study, rows), column="H")
    assert pd.isna(out.iloc[4]) and out.iloc[5] == "PT15M"


def test_cycle_day_visit_counts_days_from_the_infusion_start(study):
    rows = pd.DataFrame({"CYCLE": [1, 1, 2, 1], "NOMHR": [-1.0, 48.0, 216.0, 23.9]})
    ctx = _ctx(study, rows)
    ctx.specs_folder, ctx.spec = SPECS, load_spec(SPECS / "sdtm")
    assert cycle_day_visit(ctx, field="number", code="C{cycle}D{day}").tolist() == [101.0, 103.0, 210.0, 101.0]
    assert cycle_day_visit(ctx, field="name", code="C{cycle}D{day}").tolist()[2] == "CYCLE 2 DAY 10"
    assert cycle_day_visit(ctx, field="number", code="RT{cycle}D{day}").tolist()[0] == 1101.0
    assert not ctx.exceptions.rows
    with pytest.raises(InputError):
        cycle_day_visit(ctx, field="day", code="C{cycle}D{day}")
    with pytest.raises(InputError, match="once each"):
        cycle_day_visit(ctx, field="name", code="C{cycle}")
    # day 5 of a cycle is no planned visit of the schedule: reported, no number
    late = _ctx(study, pd.DataFrame({"CYCLE": [1], "NOMHR": [100.0]}))
    late.specs_folder, late.spec = SPECS, load_spec(SPECS / "sdtm")
    assert pd.isna(cycle_day_visit(late, field="name", code="C{cycle}D{day}").iloc[0])
    assert [r["column"] for r in late.exceptions.rows] == ["NOMHR"]


def test_censored_result_reports_unknown_values(study):
    rows = pd.DataFrame({"R": ["12.50", "<LOD", "<LLOQ", "n.d."], "LOD": [3.0] * 4, "LLOQ": [50.0] * 4})
    ctx = _ctx(study, rows)
    limits = {"<LOD": "LOD", "<LLOQ": "LLOQ"}
    text = censored_result(ctx, column="R", limits=limits)
    assert text.tolist()[:3] == ["12.5", "<3", "<50"] and pd.isna(text.iloc[3])
    assert [e["value"] for e in ctx.exceptions.rows] == ["n.d."]
    number = censored_result(_ctx(study, rows), column="R", limits=limits, numeric=True)
    assert number.iloc[0] == 12.5 and number.iloc[1:].isna().all()


def test_group_start_is_the_earliest_start_of_the_group(study):
    inf = pd.DataFrame({"SUBJID": ["a", "a", "a", "a"], "PHASE": ["CORE", "CORE", "CORE", "RETREATMENT"],
                        "CYCLE": [1, 1, 2, 1], "STDT": ["2011-01-08", "2011-01-01", "2011-02-12", "2011-06-01"],
                        "STTM": ["10:00", "11:00", "09:00", "08:00"]})
    rows = pd.DataFrame({"SUBJID": ["a", "a", "b"], "CYCLE": [1, 2, 1]})
    out = group_start(_ctx(study, rows, {"infusion": inf}), raw="infusion", date="STDT", time="STTM",
                      by={"SUBJID": "SUBJID", "CYCLE": "CYCLE"}, equals={"PHASE": "CORE"})
    assert out.tolist()[:2] == ["2011-01-01T11:00", "2011-02-12T09:00"] and pd.isna(out.iloc[2])


LONG = ("Grade 3 neurological event with tremor, aphasia and confusion starting on day 2 of the second "
        "infusion period; infusion interrupted, dexamethasone given, resolved within 72 hours without "
        "sequelae; restarted at the lower dose step after a treatment-free interval as the protocol "
        "requires, with close monitoring for recurrence and a repeat neurological examination daily; the "
        "investigator judged the event related to blinatumomab.")


def _dctx() -> DomainContext:
    return DomainContext("SUPPAE", None, None, {}, Exceptions())


def test_split_words_cuts_between_words_within_200_bytes():
    assert len(LONG) > 400
    hard = "x" * 450
    pieces = split_words(pd.Series([LONG, hard, "short", None, "é" * 150 + " b"]))
    for i, text in enumerate([LONG, hard]):
        parts = pieces.loc[i].dropna().tolist()
        assert all(len(p.encode()) <= 200 for p in parts) and len(parts) == 3
        assert (" ".join(parts) if i == 0 else "".join(parts)) == text
    assert all(not p.endswith(" ") and not p.startswith(" ") for p in pieces.loc[0].dropna())
    first = pieces.loc[0, 0]
    assert LONG[len(first)] == " "  # cut at a blank, not inside a word
    assert pieces.loc[2].dropna().tolist() == ["short"] and pieces.loc[3].isna().all()
    assert all(len(p.encode()) <= 200 for p in pieces.loc[4].dropna())  # multi-byte characters


def test_split_text_parent_and_overflow_join_back_to_the_collected_text():
    parent = pd.DataFrame({"USUBJID": ["S1", "S2"], "AESEQ": [1.0, 1.0], "AETERM": [LONG, "PYREXIA"]})
    cut = derive_split_text(parent.copy(), _dctx(), column="AETERM")
    assert (cut.AETERM.str.encode("utf-8").str.len() <= 200).all() and cut.AETERM.iloc[1] == "PYREXIA"
    supp = pd.DataFrame({"STUDYID": "S", "RDOMAIN": "AE", "USUBJID": ["S1", "S2"], "IDVAR": "AESEQ",
                         "IDVARVAL": ["1", "1"], "QNAM": "AETERM", "QLABEL": "Reported Term for the Adverse Event",
                         "QVAL": [LONG, "PYREXIA"], "QORIG": "Collected"})
    over = derive_text_overflow(supp, _dctx(), qnam="AETERM", qlabel="Reported Term for the Adverse Event")
    assert over.USUBJID.tolist() == ["S1", "S1"] and over.QNAM.tolist() == ["AETERM1", "AETERM2"]
    assert over.QNAM.str.fullmatch(QNAM).all() and (over.QLABEL.str.len() <= 40).all()
    assert over.QLABEL.iloc[1] == "Reported Term for the Adverse Event 2"
    assert " ".join([cut.AETERM.iloc[0], *over.QVAL]) == LONG
    short = derive_text_overflow(supp.iloc[[1]].reset_index(drop=True), _dctx(), qnam="AETERM", qlabel="x")
    assert short.empty
    with pytest.raises(InputError):
        derive_text_overflow(supp, _dctx(), qnam="AETERMXX", qlabel="x")


def test_drop_empty_and_complete_relationships():
    supp = pd.DataFrame({"QVAL": ["1.0", None, " "], "__raw": "x"})
    assert derive_drop_empty(supp, _dctx(), target="QVAL").QVAL.tolist() == ["1.0"]
    rel = pd.DataFrame({"USUBJID": ["a", "a", "a", "b"], "RDOMAIN": ["RS", "TU", "TU", "TU"],
                        "IDVAR": ["RSLNKGRP", "TULNKGRP", "TULNKGRP", "TULNKGRP"],
                        "IDVARVAL": ["G1", "G1", "G2", "G1"], "RELID": ["G1", "G1", "G2", "G1"]})
    kept = derive_complete_relationships(rel, _dctx())
    assert kept[["USUBJID", "RDOMAIN", "RELID"]].values.tolist() == [["a", "RS", "G1"], ["a", "TU", "G1"]]


def test_cytokine_baseline_is_before_the_first_infusion_to_the_minute(default_sdtm):
    lb, dm = default_sdtm[0].domains["LB"], default_sdtm[0].domains["DM"].set_index("USUBJID")
    base = lb[(lb.LBCAT == "CYTOKINES") & (lb.LBLOBXFL == "Y")]
    start = base.USUBJID.map(dm.RFXSTDTC).str.slice(0, 16)
    assert len(base) > 0 and (base.LBDTC.str.slice(0, 16) <= start).all()
    later_same_day = lb[(lb.LBCAT == "CYTOKINES") & (lb.LBDTC.str.slice(0, 10) == lb.USUBJID.map(dm.RFXSTDTC).str.slice(0, 10))
                        & (lb.LBDTC.str.slice(0, 16) > lb.USUBJID.map(dm.RFXSTDTC).str.slice(0, 16))]
    assert len(later_same_day) > 0 and later_same_day.LBLOBXFL.isna().all()


def test_cytokine_time_points_recomputed_from_raw(built, raw, study):
    """Each cytokine record's planned time point is its raw sample's hours after the start of its
    dose step, and its reference time point that step's first infusion segment in the raw log."""
    cyt, inf = raw["cytokine"], raw["infusion"]
    step_start = (inf.assign(start=inf.STDT + "T" + inf.STTM).groupby(["SUBJID", "PHASE", "CYCLE", "STEP"]).start.min()
                  .rename("step_start").reset_index())
    expected = cyt.merge(step_start, on=["SUBJID", "PHASE", "CYCLE", "STEP"], how="left", validate="many_to_one")
    expected = expected.assign(USUBJID=_usubjid(study, expected.SUBJID), LBDTC=expected.CKDT + "T" + expected.CKTM,
                               LBTESTCD=expected.TEST.map({"IL2": "INTLK2", "IL6": "INTLK6", "IL10": "INTLK10",
                                                           "TNFA": "TNF", "IFNG": "IFNG"}))
    lb = built[0].domains["LB"]
    got = lb[lb.LBCAT == "CYTOKINES"]
    m = got.merge(expected, on=["USUBJID", "LBTESTCD", "LBDTC"], how="inner", validate="one_to_one")
    assert len(m) == len(got) == len(cyt)
    hours = m.NOMHR.astype(int)
    assert (m.LBTPTNUM == hours).all()
    assert (m.LBELTM == "PT" + hours.astype(str) + "H").all()
    assert (m.LBTPT == np.where(hours == 0, "PREDOSE", hours.astype(str) + "H AFTER DOSE STEP START")).all()
    assert (m.LBTPTREF == m.PHASE + " CYCLE " + m.CYCLE + " DOSE STEP " + m.STEP + " START").all()
    assert m.step_start.notna().all() and (m.LBRFTDTC == m.step_start).all()
    # the sample before a step is taken before the step starts, the others after it
    assert ((m.LBDTC < m.LBRFTDTC) == (hours == 0)).all()
    other = lb[lb.LBCAT != "CYTOKINES"]
    assert other[["LBTPT", "LBTPTNUM", "LBELTM", "LBTPTREF", "LBRFTDTC"]].isna().all().all()


def test_numeric_results_as_text_read_as_the_numbers(default_sdtm):
    """CORE-000732 / FDA FB3103: LBSTRESC of a numeric result is the plain decimal of LBSTRESN, never
    e-notation (small MRD ratios were written 3.8e-05 while larger ones were decimals)."""
    lb = default_sdtm[0].domains["LB"]
    numeric = lb[lb["LBSTRESN"].notna()]
    assert (numeric["LBSTRESN"] < 1e-4).any()  # the small values this is about are there
    assert not numeric["LBSTRESC"].str.contains(r"[eE]", regex=True).any()
    assert (pd.to_numeric(numeric["LBSTRESC"]) == numeric["LBSTRESN"]).all()
