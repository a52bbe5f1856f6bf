"""CM, PR, MH and VS: their algorithms (`fixed_visit`, `epoch_in_study`) and the domains built from
the default simulated extract, each double-programmed from the raw CSV files with plain pandas."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import SPECS
from submit.errors import InputError
from submit.raw.reader import read_raw
from submit.sdtm.algorithms import Exceptions, SourceContext
from submit.sdtm.build import build_sdtm
from submit.sdtm.visits import fixed_visit
from submit.spec.ct import ct_file
from submit.spec.store import load_spec

PARTIAL = r"^\d{4}(-\d{2})?$"


def iso(raw_dates: pd.Series) -> pd.Series:
    """Raw EDC dates as ISO 8601 by another route: unknown parts dropped from the right."""
    return raw_dates.str.replace(r"(-UN)+$", "", regex=True).replace("", None)


@pytest.fixture(scope="module")
def sdtm(default_sdtm):
    return default_sdtm[0]


@pytest.fixture(scope="module")
def usubjid(study):
    return lambda subjid: study.study.id + "-" + subjid


@pytest.fixture(scope="module")
def dm(sdtm):
    return sdtm.domains["DM"].set_index("USUBJID")


# --- algorithms ------------------------------------------------------------------------------


def _source(n: int = 3) -> SourceContext:
    rows = pd.DataFrame({"SUBJID": [f"S{i}" for i in range(n)]})
    return SourceContext("VS", "dm", rows, {}, None, Exceptions(), "VISITNUM", SPECS, load_spec(SPECS / "sdtm"))


def test_fixed_visit_numbers_like_visitnum():
    ctx = _source()
    assert fixed_visit(ctx, code="SCR", field="VISITNUM").tolist() == [1.0] * 3
    assert fixed_visit(ctx, code="SCR", field="VISIT").tolist() == ["SCREENING"] * 3
    assert fixed_visit(ctx, code="C2D8", field="VISITNUM").tolist() == [208.0] * 3
    with pytest.raises(InputError, match="not a visit code of the visit schedule"):
        fixed_visit(ctx, code="SCREEN", field="VISIT")
    with pytest.raises(InputError, match="field must be"):
        fixed_visit(ctx, code="SCR", field="VISITDY")


# --- CM ----------------------------------------------------------------------------------------


def test_cm_one_record_per_altx_row_with_partial_dates_kept(sdtm, raw, usubjid):
    cm = sdtm.domains["CM"]
    altx = raw["altx"][raw["altx"].TXTYPE != "Radiotherapy"].assign(USUBJID=lambda d: usubjid(d.SUBJID))
    assert len(cm) == len(altx) > 0
    m = altx.merge(cm, left_on=["USUBJID", "TXSPID"], right_on=["USUBJID", "CMSPID"], how="left",
                   validate="one_to_one")
    assert (m.CMTRT == m.TXNAME).all()
    assert (m.CMSCAT == m.TXTYPE.str.upper()).all()
    assert (m.CMSTDTC == iso(m.TXSTDT)).all()
    assert m.CMENDTC.fillna("").tolist() == iso(m.TXENDT).fillna("").tolist()
    partial = m.CMSTDTC.str.fullmatch(PARTIAL)
    assert partial.any(), "the default study has a partial start date"
    assert m.CMSTDY[partial].isna().all() and m.CMSTDY[~partial].notna().all()
    assert set(cm.CMCAT) == {"ANTI-LEUKEMIC THERAPY"}
    assert set(zip(cm.CMSTRTPT, cm.CMSTTPT)) == {("AFTER", "LAST BLINATUMOMAB INFUSION")}


def at_precision(dates: pd.Series, reference: pd.Series) -> list[tuple[str, str]]:
    """Each date with the reference date cut to the date's own precision (2011-05 vs 2011-05)."""
    return [(d, r[: len(d)]) for d, r in zip(dates, reference.str.slice(0, 10))]


def test_cm_therapies_start_after_the_last_infusion(sdtm, dm):
    cm = sdtm.domains["CM"]
    pairs = at_precision(cm.CMSTDTC, cm.USUBJID.map(dm.RFXENDTC))
    assert all(d > r if len(d) == 10 else d >= r for d, r in pairs)  # the AFTER of CMSTRTPT holds
    complete = cm.CMSTDTC.str.len() == 10
    assert cm.EPOCH[complete].isin(["TREATMENT", "FOLLOW-UP"]).all()  # per SE: the treatment-free interval is TREATMENT


# --- PR ----------------------------------------------------------------------------------------


def test_pr_is_the_prior_and_the_later_transplants_double_programmed(sdtm, raw, usubjid):
    pr = sdtm.domains["PR"]
    d, h = raw["disease"], raw["hsct"]
    prior = d[d.PRIORSCT == "Y"]
    expected = sorted(
        [(usubjid(s), iso(pd.Series([x])).iloc[0], "BEFORE", "Y", "Y") for s, x in zip(prior.SUBJID, prior.PRSCTDT)]
        + [(usubjid(s), x, "AFTER", None, None) for s, x in zip(h.SUBJID, h.HSCTDT)], key=str)
    got = sorted(zip(pr.USUBJID, pr.PRSTDTC, pr.PRSTRTPT, pr.PRPRESP, pr.PROCCUR), key=str)
    assert got == expected
    assert len(prior) == 15  # published: 15/36 with a prior alloHSCT
    assert (pr.PRDECOD == "ALLOGENEIC STEM CELL TRANSPLANT").all()
    assert pr.PRSTDTC.str.fullmatch(PARTIAL).any(), "the default study has a partial prior transplant date"


def test_pr_timing_agrees_with_the_reference_dates(sdtm, dm):
    pr = sdtm.domains["PR"]
    before, after = pr[pr.PRSTRTPT == "BEFORE"], pr[pr.PRSTRTPT == "AFTER"]
    assert all(d < r for d, r in at_precision(before.PRSTDTC, before.USUBJID.map(dm.RFICDTC)))
    assert before.EPOCH.isna().all()  # pre-study history has no epoch
    assert all(d > r for d, r in at_precision(after.PRSTDTC, after.USUBJID.map(dm.RFXENDTC)))
    assert after.EPOCH.isin(["TREATMENT", "FOLLOW-UP"]).all() and (after.PRSTDY > 0).all()


def test_radiotherapy_goes_to_pr_not_cm(tmp_path, default_raw, schema, study):
    folder = tmp_path / "raw"
    shutil.copytree(default_raw, folder)
    altx = pd.read_csv(folder / "altx.csv", dtype=str, keep_default_na=False)
    altx.loc[0, ["TXNAME", "TXTYPE"]] = ["Cranial irradiation", "Radiotherapy"]
    altx.to_csv(folder / "altx.csv", index=False, lineterminator="\n")
    result = build_sdtm(SPECS / "sdtm", read_raw(folder, schema, study).frames, study, tmp_path / "out")
    cm, pr = result.domains["CM"], result.domains["PR"]
    who = study.study.id + "-" + altx.SUBJID[0]
    assert len(cm) == len(altx) - 1 and not (cm.CMTRT == "Cranial irradiation").any()
    rt = pr[pr.PRSCAT == "RADIOTHERAPY"]
    assert rt[["USUBJID", "PRTRT", "PRDECOD", "PRSTRTPT"]].values.tolist() == [
        [who, "Cranial irradiation", "RADIOTHERAPY", "AFTER"]]
    assert rt.PRSTDTC.tolist() == [iso(altx.TXSTDT[:1]).iloc[0]]
    exc = result.exceptions
    # CM's filter left row 1 out, but PR mapped it: it is not an exception
    assert exc[exc.raw_dataset == "altx"].empty


# --- MH ----------------------------------------------------------------------------------------


def test_mh_primary_diagnosis_for_every_subject_with_the_raw_date(sdtm, raw, usubjid):
    mh = sdtm.domains["MH"]
    d = raw["disease"].assign(USUBJID=lambda x: usubjid(x.SUBJID))
    assert set(mh.USUBJID) == set(usubjid(raw["dm"].SUBJID)) == set(d.USUBJID)
    m = d.merge(mh, on="USUBJID", validate="one_to_one")
    assert (m.MHCAT == "PRIMARY DIAGNOSIS").all() and (m.MHEVDTYP == "INITIAL DIAGNOSIS").all()
    assert (m.MHSTDTC == iso(m.DIAGDT)).all()
    assert m.MHSTDTC.str.fullmatch(r"\d{4}").any() and m.MHSTDTC.str.fullmatch(r"\d{4}-\d{2}").any()
    subtype = m.ALLTYPE.map({"Common ALL": "COMMON B-PRECURSOR", "Pre-B ALL": "PRE-B", "Pro-B ALL": "PRO-B"})
    assert (m.MHTERM == subtype + " ACUTE LYMPHOBLASTIC LEUKEMIA").all()
    assert (m.MHDECOD == "Acute lymphocytic leukaemia").all() and m.MHBODSYS.str.startswith("Neoplasms").all()
    assert (m.MHENRTPT == "ONGOING").all()


# --- VS ----------------------------------------------------------------------------------------


def _ct_terms(codelist: str) -> set[str]:
    ct = pd.read_csv(ct_file("sdtm-ct-2025-03-28.txt"), sep="\t", dtype=str, keep_default_na=False)
    return set(ct.loc[ct["Codelist Code"] == codelist, "CDISC Submission Value"])


def test_vs_heights_and_weights_equal_raw_in_ct_units(sdtm, raw, usubjid):
    vs = sdtm.domains["VS"]
    dm = raw["dm"].assign(USUBJID=lambda x: usubjid(x.SUBJID))
    long = dm.melt(id_vars="USUBJID", value_vars=["HEIGHT", "WEIGHT"], var_name="VSTESTCD", value_name="raw")
    m = long.merge(vs, on=["USUBJID", "VSTESTCD"], how="left", validate="one_to_one")
    assert len(vs) == len(long) == 2 * len(dm)
    assert np.allclose(m.VSSTRESN, m.raw.astype(float), rtol=0, atol=0)
    assert np.allclose(m.VSORRES.astype(float), m.raw.astype(float), rtol=0, atol=0)
    assert (m.VSORRESU == m.VSTESTCD.map({"HEIGHT": "cm", "WEIGHT": "kg"})).all()
    assert (m.VSSTRESU == m.VSORRESU).all()
    assert set(vs.VSORRESU) | set(vs.VSSTRESU) <= _ct_terms("C66770")  # Units for Vital Signs Results
    assert set(vs.VSTESTCD) <= _ct_terms("C66741") and set(vs.VSTEST) <= _ct_terms("C67153")


def test_vs_screening_visit_date_and_baseline(sdtm, raw, usubjid, dm):
    vs = sdtm.domains["VS"]
    lb = sdtm.domains["LB"]
    assert set(vs.VISITNUM) == set(lb.VISITNUM[lb.VISIT == "SCREENING"]) == {1.0}
    assert set(vs.VISIT) == {"SCREENING"}
    consent = raw["consent"].set_index(usubjid(raw["consent"].SUBJID)).ICDT
    assert (vs.VSDTC == vs.USUBJID.map(consent)).all()
    assert (vs.VSDTC == vs.USUBJID.map(dm.DMDTC)).all()
    treated = vs.USUBJID.map(dm.RFXSTDTC).notna()
    assert (vs.VSLOBXFL[treated] == "Y").all() and vs.VSLOBXFL[~treated].isna().all()
    assert (vs.EPOCH[treated] == "SCREENING").all() and (vs.VSDY[treated] < 0).all()


# --- SUPPMH, SUPPPR ----------------------------------------------------------------------------


def _parents(supp: pd.DataFrame, parent: pd.DataFrame, seq: str) -> pd.DataFrame:
    """Each supplemental qualifier with the parent record its IDVAR/IDVARVAL point at."""
    assert set(supp.IDVAR) == {seq}
    keyed = parent.assign(IDVARVAL=parent[seq].astype(int).astype(str))
    return supp.merge(keyed, on=["USUBJID", "IDVARVAL"], how="left", validate="many_to_one")


def test_suppmh_qualifies_the_primary_diagnosis_with_the_raw_values(sdtm, raw, usubjid):
    supp = sdtm.domains["SUPPMH"]
    m = _parents(supp, sdtm.domains["MH"], "MHSEQ")
    assert (m.MHCAT == "PRIMARY DIAGNOSIS").all()
    d = raw["disease"]
    status = d.DISSTAT.str.upper().str.replace("ALLOHSCT", "ALLOGENEIC HSCT")
    expected = sorted([(usubjid(s), "DISSTAT", v) for s, v in zip(d.SUBJID, status)]
                      + [(usubjid(s), "NSALV", v) for s, v in zip(d.SUBJID, d.NSALV)])
    assert sorted(zip(supp.USUBJID, supp.QNAM, supp.QVAL)) == expected
    assert set(supp.RDOMAIN) == {"MH"} and set(supp.QORIG) == {"Collected"}


def test_supppr_qualifies_the_transplant_after_blinatumomab_with_the_raw_values(sdtm, raw, usubjid):
    supp = sdtm.domains["SUPPPR"]
    m = _parents(supp, sdtm.domains["PR"], "PRSEQ")
    assert (m.PRSTRTPT == "AFTER").all() and (m.PRDECOD == "ALLOGENEIC STEM CELL TRANSPLANT").all()
    h = raw["hsct"]
    date = dict(zip(usubjid(h.SUBJID), h.HSCTDT))
    assert (m.PRSTDTC == m.USUBJID.map(date)).all()  # the very transplant of the form row
    expected = sorted((usubjid(s), q, v.upper() if q != "REMSTAT" or v != "CRh*" else v)
                      for q in ("DONOR", "CONDIT", "REMSTAT") for s, v in zip(h.SUBJID, h[q]))
    assert sorted(zip(supp.USUBJID, supp.QNAM, supp.QVAL)) == expected
    assert supp.QEVAL.fillna("").tolist() == np.where(supp.QNAM == "REMSTAT", "INVESTIGATOR", "").tolist()
