"""SS (survival follow-up: vital and remission status) and DD (primary cause of death) built from
the default simulated extract and double-programmed from the raw CSV files with plain pandas; the
survival contact numbering on constructed frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SPECS
from submit.errors import InputError
from submit.sdtm.algorithms import Exceptions, SourceContext
from submit.sdtm.visits import visit, visitnum
from submit.spec.store import load_spec


@pytest.fixture(scope="module")
def built(default_sdtm):
    return default_sdtm[0]


def _ctx(rows: pd.DataFrame, study) -> SourceContext:
    return SourceContext("SS", "survfu", rows, {"survfu": rows}, study, Exceptions(), "VISIT", SPECS,
                         load_spec(SPECS / "sdtm"))


def _usubjid(study, subjid: pd.Series) -> pd.Series:
    return study.study.id + "-" + subjid


def test_spec_loads_with_status_domains():
    spec = load_spec(SPECS / "sdtm")
    assert {"SS", "DD"} <= {d.name for d in spec.datasets}
    assert spec.codelist("SSTATRS").values() and "PRCDTH" in spec.codelist("DTHDXCD").values()


def test_survival_contacts_are_numbered_by_the_schedule(study):
    """FUNUM n -> code FUn: the contacts TV plans take its VISITNUM, later ones the declared rule
    (5000 + n); contact 0 or a non-number is no visit code and is reported."""
    rows = pd.DataFrame({"FUNUM": pd.array([1, 12, None], dtype="Int64")})
    ctx = _ctx(rows, study)
    names = visit(ctx, column="FUNUM", prefix="FU")
    nums = visitnum(ctx, column="FUNUM", prefix="FU")
    assert names.tolist()[:2] == ["SURVIVAL FOLLOW-UP 1", "SURVIVAL FOLLOW-UP 12"] and pd.isna(names.iloc[2])
    assert nums.tolist()[:2] == [5001.0, 5012.0] and np.isnan(nums.iloc[2])
    bad = _ctx(pd.DataFrame({"FUNUM": ["2", "0", "x"]}), study)
    assert visitnum(bad, column="FUNUM", prefix="FU").iloc[0] == 5002.0
    assert visit(bad, column="FUNUM", prefix="FU").iloc[1:].isna().all()
    assert [r["raw_row"] for r in bad.exceptions.rows] == [2, 3]


def _contacts(raw, study) -> pd.DataFrame:
    """The raw survival contacts with USUBJID and their VISITNUM (5000 + contact number)."""
    s = raw["survfu"].copy()
    s["USUBJID"] = _usubjid(study, s.SUBJID)
    s["VISITNUM"] = 5000 + s.FUNUM.astype(int).astype(float)
    return s


def test_ss_survival_status_double_programmed(built, raw, study):
    ss = built.domains["SS"]
    s = _contacts(raw, study)
    surv = ss[ss.SSTESTCD == "SURVSTAT"]
    assert len(s) > 0 and len(surv) == len(s)
    m = s.merge(surv, on=["USUBJID", "VISITNUM"], how="left", validate="one_to_one")
    assert (m.SSORRES == m.FUSTAT).all()
    assert (m.SSSTRESC == m.FUSTAT.str.upper()).all()
    assert (m.SSDTC == m.FUDT).all()
    assert (m.VISIT == "SURVIVAL FOLLOW-UP " + m.FUNUM.astype(int).astype(str)).all()
    assert (surv.SSTEST == "Survival Status").all()
    # survival contacts are numbered clear of every other visit of the study
    assert not set(surv.VISITNUM) & set(built.domains["RS"].VISITNUM.dropna())


def test_ss_remission_status_holds_every_raw_remstat(built, raw, study):
    ss = built.domains["SS"]
    s = _contacts(raw, study)
    rem = ss[ss.SSTESTCD == "REMSTAT"]
    assert len(rem) == len(s)
    m = s.merge(rem, on=["USUBJID", "VISITNUM"], how="left", validate="one_to_one")
    assert (m.SSORRES == m.REMSTAT).all()
    assert (m.SSSTRESC == m.REMSTAT.str.upper()).all()
    assert (m.SSDTC == m.FUDT).all()
    # the RFS censoring input: last contact confirming remission, per subject, by both routes
    raw_last = s[s.REMSTAT == "In remission"].groupby("USUBJID").FUDT.max()
    sdtm_last = rem[rem.SSSTRESC == "IN REMISSION"].groupby("USUBJID").SSDTC.max()
    assert raw_last.sort_index().equals(sdtm_last.sort_index())


def test_ss_conforms_to_value_level_codelists(built):
    spec, ss = built.spec, built.domains["SS"]
    assert set(ss.SSTESTCD) == {"SURVSTAT", "REMSTAT"}
    assert set(ss.loc[ss.SSTESTCD == "SURVSTAT", "SSSTRESC"]) <= set(spec.codelist("SSTATRS").values())
    assert set(ss.loc[ss.SSTESTCD == "REMSTAT", "SSSTRESC"]) <= set(spec.codelist("SSREMST").values())
    assert not ss.duplicated(["USUBJID", "SSTESTCD", "VISITNUM"]).any()
    assert not ss.duplicated(["USUBJID", "SSSEQ"]).any()
    assert set(ss.EPOCH.dropna()) <= set(spec.codelist("EPOCH").values())


def test_dd_primary_cause_double_programmed(built, raw, study):
    dd = built.domains["DD"]
    d = raw["death"].copy()
    d["USUBJID"] = _usubjid(study, d.SUBJID)
    assert len(d) > 0 and len(dd) == len(d)
    m = d.merge(dd, on="USUBJID", how="left", validate="one_to_one")
    assert (m.DDTESTCD == "PRCDTH").all() and (m.DDTEST == "Primary Cause of Death").all()
    assert (m.DDORRES == m.DTHCAUS).all()
    assert (m.DDSTRESC == m.DTHCAUS.str.upper()).all()
    assert (m.DDDTC == m.DTHDT).all()
    dm = built.domains["DM"].set_index("USUBJID")
    assert (dm.loc[dd.USUBJID, "DTHFL"] == "Y").all()
    assert set(dd.DDSTRESC) <= set(built.spec.codelist("DTHCAUS").values())
