"""ADaM of the default study: the published endpoint counts through the whole pipeline, the
primary endpoint double-programmed from the SDTM XPT files with plain pandas, agreement with the
simulator's latent truth, structure checks, and each registry censoring rule on tiny cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from scipy import stats

from submit.adam.build import conform
from submit.adam.context import AdamContext
from submit.adam.registry import DERIVATIONS, load_pipeline
from submit.errors import InputError
from submit.stats import kaplan_meier

from conftest import ADAM_DIR, SDTM_DIR, SPECS


def xpt(root, folder, name) -> pd.DataFrame:
    df, _ = pyreadstat.read_xport(str(root / folder / f"{name}.xpt"))
    return df


@pytest.fixture(scope="module")
def adam(default_adam):
    result, root = default_adam
    return {name: xpt(root, ADAM_DIR, name.lower()) for name in result.datasets}


def flag(adrs: pd.DataFrame, paramcd: str) -> pd.Series:
    return adrs[adrs.PARAMCD == paramcd].set_index("SUBJID").AVALC


def test_published_counts_through_the_pipeline(adam):
    adrs = adam["ADRS"]
    counts = {p: int((flag(adrs, p) == "Y").sum()) for p in ("CRCRH", "CR", "CRH", "PR")}
    assert counts == {"CRCRH": 25, "CR": 15, "CRH": 10, "PR": 2}
    assert all(len(flag(adrs, p)) == 36 for p in ("BOR", "CRCRH", "MRDRESP", "HSCT"))
    responders = flag(adrs, "CRCRH") == "Y"
    assert (flag(adrs, "MRDRESP")[responders] == "Y").sum() == 22
    assert (flag(adrs, "HSCT")[responders] == "Y").sum() == 13


# --- the primary endpoint, programmed a second time from the SDTM XPT files -------------------
def best_response_from_sdtm(root) -> pd.Series:
    """Registry criteria on the day-29 marrows of cycles 1-2, read straight from LB and TU: blasts,
    EMD of the same link group, and the blood counts of the marrow day or the latest <= 7 days before."""
    lb, tu = xpt(root, SDTM_DIR, "lb"), xpt(root, SDTM_DIR, "tu")
    bm = lb[(lb.LBTESTCD == "BLASTCE") & lb.VISIT.isin(["CYCLE 1 DAY 29", "CYCLE 2 DAY 29"]) & (lb.LBDTC != "")]
    bm = bm[["USUBJID", "LBLNKGRP", "LBDTC", "LBSTRESN"]].rename(columns={"LBSTRESN": "blasts"})
    bm["day"] = pd.to_datetime(bm.LBDTC.str[:10])
    emd = tu[tu.TUTESTCD == "TUEXMIND"][["USUBJID", "TULNKGRP", "TUSTRESC"]]
    bm = bm.merge(emd, left_on=["USUBJID", "LBLNKGRP"], right_on=["USUBJID", "TULNKGRP"], how="left")
    blood = lb[lb.LBTESTCD.isin(["PLAT", "HGB", "NEUT", "BLASTLE"]) & (lb.LBSPEC == "BLOOD")].copy()
    blood["bday"] = pd.to_datetime(blood.LBDTC.str[:10])
    for test in ["PLAT", "HGB", "NEUT", "BLASTLE"]:
        one = blood[blood.LBTESTCD == test][["USUBJID", "bday", "LBSTRESN"]]
        m = bm[["USUBJID", "LBLNKGRP", "day"]].merge(one, on="USUBJID")
        m = m[(m.bday <= m.day) & (m.bday > m.day - pd.Timedelta(days=8))].sort_values("bday")
        bm = bm.merge(m.groupby(["USUBJID", "LBLNKGRP"]).LBSTRESN.last().rename(test), on=["USUBJID", "LBLNKGRP"],
                      how="left")
    clear = (bm.blasts <= 5) & (bm.BLASTLE == 0) & (bm.TUSTRESC == "N")
    cr = clear & (bm.PLAT > 100) & (bm.HGB >= 110) & (bm.NEUT > 1.5)
    crh = clear & (bm.PLAT > 50) & (bm.HGB >= 70) & (bm.NEUT > 0.5)
    bm["rank"] = np.select([cr, crh, bm.blasts <= 25], [4, 3, 2], 1)
    names = {4: "CR", 3: "CRh*", 2: "PR", 1: "NR"}
    dm = xpt(root, SDTM_DIR, "dm")
    best = bm.groupby("USUBJID")["rank"].max().reindex(dm.USUBJID).map(names).fillna("NE")
    return best.set_axis(dm.SUBJID.to_numpy())


def test_primary_endpoint_double_programmed_from_sdtm(adam, default_sdtm):
    independent = best_response_from_sdtm(default_sdtm[1])
    bor = flag(adam["ADRS"], "BOR").reindex(independent.index)
    assert bor.tolist() == independent.tolist()
    assert (independent.isin(["CR", "CRh*"])).sum() == 25


def test_adrs_agrees_with_the_latent_truth(adam, truth):
    adrs = adam["ADRS"]
    subjects = truth.set_index("SUBJID")
    for paramcd, column in [("BOR", "BOR"), ("CRCRH", "CRCRH"), ("MRDRESP", "MRDRESP"), ("HSCT", "HSCTIMM")]:
        assert flag(adrs, paramcd).reindex(subjects.index).tolist() == subjects[column].tolist(), paramcd
    c1 = adrs[(adrs.PARAMCD == "OVRLRESP") & (adrs.AVISIT == "CYCLE 1 DAY 29")].set_index("SUBJID").AVALC
    known = subjects.C1RESP[subjects.C1RESP != ""]
    assert c1.reindex(known.index).tolist() == known.tolist()


def test_discordance_lists_the_planted_case_and_the_marrow_not_done(default_adam, cases):
    report = pd.read_csv(default_adam[1] / "qc" / "adrs_discordance.csv", dtype=str, keep_default_na=False)
    planted = cases.set_index("case").loc["PLAT_EQ_100K_CRH"]
    differ = report[report.REPORTED != ""]
    assert differ.USUBJID.str.endswith(planted.SUBJID).tolist() == [True]
    assert differ[["DERIVED", "REPORTED", "PLAT"]].values.tolist() == [["CRh*", "CR", "100.0"]]
    not_done = cases.set_index("case").loc["BM_NOT_DONE"]
    missing = report[report.REPORTED == ""]
    assert missing.USUBJID.str.endswith(not_done.SUBJID).tolist() == [True] and missing.DERIVED.tolist() == ["NE"]


def test_relapse_and_survival_dates_agree_with_the_truth(adam, truth):
    tte = adam["ADTTE"]
    responders = truth[truth.CRCRH == "Y"].set_index("SUBJID")
    rfs = tte[tte.PARAMCD == "RFS"].set_index("SUBJID")
    assert sorted(rfs.index) == sorted(responders.index)
    start = pd.to_datetime(rfs.STARTDT).dt.strftime("%Y-%m-%d")
    assert start.reindex(responders.index).tolist() == responders.FIRSTREMDT.tolist()
    relapsed = responders[responders.RELAPSE == "Y"]
    adt = pd.to_datetime(rfs.ADT).dt.strftime("%Y-%m-%d")
    assert adt.reindex(relapsed.index).tolist() == relapsed.RELAPSDT.tolist()
    assert (rfs.CNSR.reindex(relapsed.index) == 0).all()
    os_ = tte[tte.PARAMCD == "OS"].set_index("SUBJID")
    dead = truth.set_index("SUBJID").DEATH == "Y"
    assert ((os_.CNSR.reindex(dead.index) == 0) == dead).all()


def _independent_median(aval: pd.Series, cnsr: pd.Series) -> float:
    """Kaplan-Meier median with scipy's estimator for censored data (not submit.stats)."""
    data = stats.CensoredData(uncensored=aval[cnsr == 0].to_numpy(), right=aval[cnsr == 1].to_numpy())
    sf = stats.ecdf(data).sf
    below = sf.quantiles[sf.probabilities <= 0.5]
    return float(below.min()) if len(below) else np.nan


@pytest.mark.parametrize("paramcd", ["OS", "RFS", "TTHR"])
def test_km_medians_from_adtte_agree_with_an_independent_estimator(adam, paramcd):
    rows = adam["ADTTE"][adam["ADTTE"].PARAMCD == paramcd]
    ours = kaplan_meier(rows.AVAL.to_numpy(), (1 - rows.CNSR).to_numpy()).median()[0]
    theirs = _independent_median(rows.AVAL, rows.CNSR)
    assert ours == pytest.approx(theirs) or (np.isnan(ours) and np.isnan(theirs))


def test_survival_medians_near_the_published_ones(adam):
    tte = adam["ADTTE"]
    months = {p: _independent_median(tte[tte.PARAMCD == p].AVAL, tte[tte.PARAMCD == p].CNSR) / 30.4375
              for p in ("OS", "RFS")}
    assert 8.5 <= months["OS"] <= 11.5 and 6.0 <= months["RFS"] <= 9.5  # published 9.8 and 7.6


def test_structure_keys_and_adsl_variables(adam):
    adsl = adam["ADSL"]
    assert adsl.USUBJID.is_unique and len(adsl) == 36
    for name, keys in {"ADRS": ["USUBJID", "PARAMN", "AVISITN", "ADT"], "ADTTE": ["USUBJID", "PARAMCD"]}.items():
        assert not adam[name].duplicated(keys).any(), name
    for name, df in adam.items():
        shared = [c for c in df.columns if c in adsl.columns and c != "USUBJID"]
        merged = df[["USUBJID", *shared]].merge(adsl[["USUBJID", *shared]], on="USUBJID", suffixes=("", "_adsl"))
        for c in shared:
            left, right = merged[c], merged[f"{c}_adsl"]
            assert ((left == right) | (left.isna() & right.isna())).all(), f"{name}.{c} differs from ADSL"
    params = adam["ADRS"].groupby("PARAMCD").PARAM.nunique()
    assert (params == 1).all() and adam["ADRS"].PARAMCD.str.len().max() <= 8


def test_srcseq_points_at_real_records(adam, default_sdtm):
    root = default_sdtm[1]
    for name in ("ADRS", "ADTTE"):
        df = adam[name].dropna(subset=["SRCSEQ"])
        for dom, rows in df.groupby("SRCDOM"):
            if dom.startswith("AD"):
                source = adam[dom].rename(columns={"ASEQ": "SEQ"})
            else:
                source = xpt(root, SDTM_DIR, dom.lower()).rename(columns={f"{dom}SEQ": "SEQ"})
            found = rows.merge(source[["USUBJID", "SEQ"]], left_on=["USUBJID", "SRCSEQ"], right_on=["USUBJID", "SEQ"])
            assert len(found) == len(rows), f"{name} -> {dom}"


# --- the registry's censoring rules, each on a tiny hand-made case ----------------------------
def tte_steps():
    return {s.params["paramcd"]: s for s in load_pipeline(SPECS / "adam" / "derivations" / "adtte.yaml").steps
            if s.name == "derive_param_tte"}


def run_tte(paramcd, adsl, adrs, ss, study):
    ctx = AdamContext(sdtm={"SS": ss}, study=study, adam={"ADSL": adsl, "ADRS": adrs}, dataset="ADTTE")
    step = tte_steps()[paramcd]
    return DERIVATIONS[step.name](pd.DataFrame(), ctx, **step.params).set_index("USUBJID")


D = pd.Timestamp


def tiny_case():
    adsl = pd.DataFrame({
        "USUBJID": ["A", "B", "C", "D", "E", "F"], "FASFL": "Y",
        "TRTSDT": [D("2011-01-01")] * 6,
        "DTHFL": ["Y", "Y", "Y", None, None, None],
        "DTHDT": [D("2011-06-01"), D("2011-07-01"), D("2011-08-01"), pd.NaT, pd.NaT, pd.NaT],
        "DTHCAUS": ["TRANSPLANT-RELATED", "DISEASE PROGRESSION", "DISEASE PROGRESSION", None, None, None],
        "LSTALVDT": [D("2011-05-30"), D("2011-06-30"), D("2011-07-30"), D("2011-09-01"), D("2011-10-01"), D("2011-03-01")]})
    ovr = [("A", "2011-01-29", "CR"), ("A", "2011-03-12", "CR"),          # dies in remission (other cause)
           ("B", "2011-01-29", "CRh*"),                                   # dies of progression without relapse
           ("C", "2011-01-29", "CR"), ("C", "2011-04-01", "RELAPSE"),      # relapses, later dies of progression
           ("D", "2011-01-29", "CR"), ("D", "2011-03-12", "CR"),           # alive in remission: BM then follow-up
           ("E", "2011-01-29", "NR"),                                      # never in remission: no RFS/TTHR
           ("F", "2011-01-29", "CR")]                                      # relapse reported at a follow-up
    adrs = pd.DataFrame(ovr, columns=["USUBJID", "ADT", "AVALC"]).assign(
        PARAMCD="OVRLRESP", APHASE="CORE STUDY", ADT=lambda d: pd.to_datetime(d.ADT), ASEQ=lambda d: d.index + 1.0)
    ss = pd.DataFrame({"USUBJID": ["D", "D", "F"], "SSTESTCD": "REMSTAT", "SSSEQ": [1.0, 2.0, 1.0],
                       "SSSTRESC": ["IN REMISSION", "IN REMISSION", "RELAPSED"],
                       "SSDTC": ["2011-05-01", "2011-08-20", "2011-02-20"]})
    return adsl, adrs, ss


def test_rfs_counts_death_from_any_cause_and_relapse(study):
    rfs = run_tte("RFS", *tiny_case(), study)
    assert "E" not in rfs.index
    assert rfs.loc["A", ["CNSR", "EVNTDESC"]].tolist() == [0, "DEATH"] and rfs.loc["A", "AVAL"] == 124
    assert rfs.loc["B", "CNSR"] == 0 and rfs.loc["B", "ADT"] == D("2011-07-01")
    assert rfs.loc["C", "ADT"] == D("2011-04-01") and rfs.loc["C", "CNSR"] == 0  # the relapse, not the later death
    assert rfs.loc["D", ["CNSR", "CNSDTDSC"]].tolist() == [1, "LAST SURVIVAL FOLLOW-UP IN REMISSION"]
    assert rfs.loc["D", "ADT"] == D("2011-08-20")  # the latest confirmation of remission
    assert rfs.loc["F", ["CNSR", "ADT"]].tolist() == [0, D("2011-02-20")]


def test_tthr_censors_death_without_relapse_at_the_death_date(study):
    tthr = run_tte("TTHR", *tiny_case(), study)
    assert tthr.loc["A", ["CNSR", "CNSDTDSC"]].tolist() == [1, "DEATH WITHOUT RELAPSE"]
    assert tthr.loc["A", "ADT"] == D("2011-06-01")
    assert tthr.loc["B", ["CNSR", "EVNTDESC"]].tolist() == [0, "DEATH DUE TO DISEASE PROGRESSION"]
    assert tthr.loc["C", ["CNSR", "ADT"]].tolist() == [0, D("2011-04-01")]
    assert tthr.loc["D", ["CNSR", "ADT"]].tolist() == [1, D("2011-08-20")]


def test_os_censors_at_the_last_date_known_alive(study):
    os_ = run_tte("OS", *tiny_case(), study)
    assert len(os_) == 6
    assert os_.loc["A", ["CNSR", "AVAL"]].tolist() == [0, 152]
    assert os_.loc["E", ["CNSR", "ADT", "CNSDTDSC"]].tolist() == [1, D("2011-10-01"), "LAST DATE KNOWN ALIVE"]


def test_a_censoring_source_before_the_origin_is_not_used(study):
    adsl, adrs, ss = tiny_case()
    ss = pd.concat([ss, pd.DataFrame({"USUBJID": ["D"], "SSTESTCD": "REMSTAT", "SSSEQ": [9.0],
                                      "SSSTRESC": ["IN REMISSION"], "SSDTC": ["2010-12-01"]})])
    adrs = adrs[~((adrs.USUBJID == "D") & (adrs.ADT > D("2011-01-29")))]
    ss = ss[~((ss.USUBJID == "D") & (ss.SSDTC > "2011-01-01"))]
    rfs = run_tte("RFS", adsl, adrs, ss, study)
    assert rfs.loc["D", ["CNSR", "ADT"]].tolist() == [1, D("2011-01-29")]


# --- the framework refuses what it cannot do, naming what is wrong -----------------------------
def test_pipeline_errors_name_the_file_line_and_parameter(tmp_path):
    path = tmp_path / "adxx.yaml"
    path.write_text(yaml.safe_dump({"dataset": "ADXX", "steps": [
        {"start_from": {"domain": "DM"}}, {"derive_var_map": {"source": "A", "nwe": "B", "values": {}}},
        {"no_such_step": {}}]}, sort_keys=False))
    with pytest.raises(InputError) as err:
        load_pipeline(path)
    text = str(err.value)
    assert "unknown parameter 'nwe'" in text and "parameter 'new' is required" in text
    assert "unknown derivation 'no_such_step'" in text and f"{path}:" in text


def test_a_filter_on_a_missing_variable_names_the_argument(study):
    ctx = AdamContext(sdtm={"DM": pd.DataFrame({"USUBJID": ["A"]})}, study=study)
    with pytest.raises(InputError, match="argument 'filter'.*'ARMX'"):
        DERIVATIONS["start_from"](pd.DataFrame(), ctx, domain="DM", filter={"ARMX": "COH1"})


def test_conform_refuses_undeclared_variables_and_duplicate_keys(default_adam):
    spec = default_adam[0].spec
    adtte = default_adam[0].datasets["ADTTE"]
    with pytest.raises(InputError, match="EXTRA is derived but not in the spec"):
        conform(adtte.assign(EXTRA=1), spec, "ADTTE", "adtte.yaml")
    with pytest.raises(Exception, match="share their keys"):
        conform(pd.concat([adtte, adtte.head(1)]), spec, "ADTTE", "adtte.yaml")


def test_screening_marrow_is_pre_treatment_only_where_the_pipeline_says_so(study):
    """Which visit is screening is the pipeline's `screening` filter, not a VISITNUM the code knows."""
    lb = pd.DataFrame({"USUBJID": "S1", "LBTESTCD": "BLASTCE", "LBSEQ": [1.0, 2.0], "LBLNKGRP": ["M1", "M2"],
                       "LBSTRESN": [80.0, 3.0], "LBDTC": ["", "2011-02-01"], "VISIT": ["SCREENING", "CYCLE 1 DAY 29"],
                       "VISITNUM": [1.0, 129.0]})
    tu = pd.DataFrame(columns=["USUBJID", "TUTESTCD", "TULNKGRP", "TUSTRESC", "TUDTC", "TUSEQ"])
    ctx = AdamContext(sdtm={"LB": lb, "TU": tu}, study=study,
                      adam={"ADSL": pd.DataFrame({"USUBJID": ["S1"], "TRTSDT": [pd.Timestamp("2011-01-04")]})})
    args = dict(marrow={"filter": {"LBTESTCD": "BLASTCE"}, "paramcd": "BMBLAST", "param": "Marrow blasts"},
                emd={"domain": "TU", "filter": {}, "paramcd": "EMD", "param": "EMD", "link": "TULNKGRP"}, blood=[])
    derive = DERIVATIONS["derive_param_bm_components"]
    assert derive(pd.DataFrame(), ctx, **args).AVISITN.tolist() == [1.0, 129.0]  # undated: kept
    assert derive(pd.DataFrame(), ctx, screening={"VISITNUM": 1}, **args).AVISITN.tolist() == [129.0]
