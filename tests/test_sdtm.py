"""SDTM built from the default simulated extract: conformance per domain, DM and LB
double-programmed from the raw extract by another route, and unmappable raw records reported."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from conftest import SDTM_DIR, SPECS, load_csv_folder
from submit.raw.reader import read_raw
from submit.sdtm.build import build_sdtm

ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?)?)?)?$")


@pytest.fixture(scope="module")
def sdtm(default_sdtm):
    return default_sdtm


def test_every_domain_is_written_as_xpt_and_reads_back(sdtm):
    result, root = sdtm
    for name, df in result.domains.items():
        back, meta = pyreadstat.read_xport(str(root / SDTM_DIR / f"{name.lower()}.xpt"))
        assert len(back) == len(df) > 0
        assert list(back.columns) == [v.name for v in result.spec.variables_of(name)]
        assert meta.file_label == result.spec.dataset(name).label


def test_conformance_per_domain(sdtm):
    result, _ = sdtm
    spec = result.spec
    subjects = set(result.domains["DM"].USUBJID)
    for name, df in result.domains.items():
        ds = spec.dataset(name)
        keys = [k for k in ds.keys]
        assert not df.duplicated(keys).any(), f"{name}: keys {keys} not unique"
        if "USUBJID" in df:  # trial design datasets have no subjects
            assert set(df.USUBJID) <= subjects, f"{name}: USUBJID not in DM"
        seq = f"{name}SEQ"
        if seq in df and "USUBJID" in df:
            assert not df.duplicated(["USUBJID", seq]).any()
        for v in spec.variables_of(name):
            if v.mandatory:
                assert df[v.name].notna().all(), f"{name}.{v.name} is required"
            if v.name.endswith("DTC"):
                values = df[v.name].dropna()
                assert values.map(lambda s: bool(ISO.match(s))).all(), f"{name}.{v.name} not ISO 8601"  # noqa: E731
            if v.codelist and v.codelist in {c.id for c in spec.codelists}:
                allowed = set(spec.codelist(v.codelist).values())
                used = set(df[v.name].dropna())
                assert used <= allowed, f"{name}.{v.name}: {sorted(used - allowed)} not in codelist {v.codelist}"


def test_study_days_agree_with_rfstdtc(sdtm):
    result, _ = sdtm
    ref = result.domains["DM"].set_index("USUBJID").RFSTDTC.str.slice(0, 10)
    for name, df in result.domains.items():
        for dy in [c for c in df.columns if re.fullmatch(r"[A-Z]{2}(ST|EN)?DY", c)]:
            dtc = dy[:-2] + "DTC"
            rows = df[df[dy].notna()]
            start = pd.to_datetime(rows.USUBJID.map(ref))
            day = pd.to_datetime(rows[dtc].str.slice(0, 10))
            delta = (day - start).dt.days
            expected = np.where(delta >= 0, delta + 1, delta)
            assert (rows[dy].to_numpy() == expected).all(), f"{name}.{dy}"
            assert (rows[dy] != 0).all()


def test_dm_double_programmed_from_raw(sdtm, raw, study):
    dm = sdtm[0].domains["DM"].set_index("USUBJID")
    r = raw["dm"].copy()
    r["USUBJID"] = study.study.id + "-" + r.SUBJID
    r = r.set_index("USUBJID")
    assert sorted(dm.index) == sorted(r.index)
    assert (dm.SEX == r.SEX.str[0].reindex(dm.index)).all()
    assert (dm.AGE == r.AGE.astype(float).reindex(dm.index)).all()
    inf = raw["infusion"].assign(USUBJID=lambda d: study.study.id + "-" + d.SUBJID)
    first = (inf.STDT + "T" + inf.STTM).groupby(inf.USUBJID).min()
    assert (dm.RFSTDTC == first.reindex(dm.index)).all()
    dead = set(study.study.id + "-" + raw["death"].SUBJID)
    assert set(dm.index[dm.DTHFL == "Y"]) == dead and dm.DTHFL.isin(["Y", None]).all()
    cohorts = raw["cohort"].set_index(study.study.id + "-" + raw["cohort"].SUBJID).COHORT
    codes = {c.code: c.armcd for c in study.cohorts}
    assert (dm.ARMCD == cohorts.reindex(dm.index).map(codes)).all()


def test_lb_double_programmed_from_raw(sdtm, raw, study):
    lb = sdtm[0].domains["LB"]
    h = raw["hema"].copy()
    h["USUBJID"] = study.study.id + "-" + h.SUBJID
    h["LBDTC"] = h.LBDT + "T" + h.LBTM
    value = h.RESULT.astype(float)
    to_giga = h.UNIT.map({"/uL": 1e-3, "10^9/L": 1.0, "/nL": 1.0})
    to_gl = h.UNIT.map({"g/dL": 10.0, "g/L": 1.0, "mmol/L": 16.114})
    h["expected"] = np.where(h.TEST == "HEMOGLOBIN", value * to_gl, np.where(h.TEST.isin(["PLATELETS", "ANC", "WBC"]), value * to_giga, value))
    h["LBTESTCD"] = h.TEST.map({"PLATELETS": "PLAT", "HEMOGLOBIN": "HGB", "ANC": "NEUT", "WBC": "WBC", "BLASTS": "BLASTLE"})
    m = h.merge(lb, on=["USUBJID", "LBDTC", "LBTESTCD"], how="left", validate="one_to_one")
    assert m.LBSTRESN.notna().all()
    assert np.allclose(m.LBSTRESN, m.expected, rtol=0, atol=1e-3)
    assert len(lb[lb.LBCAT == "HEMATOLOGY"]) == len(h)


def test_unmappable_raw_records_are_in_the_exceptions_report(tmp_path, default_raw, schema, study):
    bad = tmp_path / "raw"
    shutil.copytree(default_raw, bad)
    hema = pd.read_csv(bad / "hema.csv", dtype=str, keep_default_na=False)
    row = hema.index[hema.TEST == "PLATELETS"][0]
    hema.loc[row, "UNIT"] = "g/L"  # a unit the reader accepts but platelets cannot be converted from
    hema.to_csv(bad / "hema.csv", index=False, lineterminator="\n")
    frames = read_raw(bad, schema, study).frames
    result = build_sdtm(SPECS / "sdtm", frames, study, tmp_path / "out")
    exc = result.exceptions
    hit = exc[(exc.raw_dataset == "hema") & (exc.raw_row == row + 1)]
    assert hit.column.tolist() == ["LBORRESU"] and hit.value.tolist() == ["g/L"]
    assert "standard unit" in hit.reason.iloc[0]
    report = pd.read_csv(tmp_path / "out" / "qc" / "sdtm_exceptions.csv")
    assert ((report.raw_dataset == "hema") & (report.raw_row == row + 1)).any()


def test_every_record_traces_back_to_a_raw_row(sdtm, default_raw):
    result, root = sdtm
    trace = pd.read_csv(root / "qc" / "sdtm_traceability.csv", dtype=str, keep_default_na=False)
    raw = load_csv_folder(default_raw)
    for _, t in trace.sample(200, random_state=1).iterrows():
        assert int(t.RAW_ROW) <= len(raw[t.RAW_DATASET])
    counts = trace.groupby("DOMAIN").size()
    for name, df in result.domains.items():
        if "USUBJID" in df:  # trial design domains have no subject records to trace
            assert counts[name] == len(df)


def test_every_raw_row_of_a_source_is_mapped_or_an_exception(sdtm, default_raw):
    result, root = sdtm
    trace = pd.read_csv(root / "qc" / "sdtm_traceability.csv", dtype={"RAW_ROW": int})
    exc = result.exceptions
    raw = load_csv_folder(default_raw)
    for name in set(trace.RAW_DATASET):
        covered = set(trace.RAW_ROW[trace.RAW_DATASET == name]) | set(exc.raw_row[exc.raw_dataset == name])
        assert covered == set(range(1, len(raw[name]) + 1)), name


def test_settle_keeps_only_rows_no_mapping_took():
    from submit.sdtm.algorithms import Exceptions

    exc = Exceptions()
    exc.add("PR", "altx", np.array([1, 2]), "TXTYPE", ["Chemotherapy", "Chemotherapy"], "not radiotherapy", filtered=True)
    exc.add("CM", "altx", np.array([4]), "TXSTDT", ["2011-02-30"], "impossible date")
    traced = pd.DataFrame({"raw_dataset": ["altx", "altx"], "raw_row": [1, 2]})  # rows 1-2 (1-based) mapped
    exc.settle(traced, {"altx": 6})
    got = exc.frame().sort_values("raw_row")
    assert got[["raw_row", "reason"]].values.tolist() == [
        [3, "not radiotherapy"], [4, "not mapped to any SDTM domain"], [5, "impossible date"],
        [6, "not mapped to any SDTM domain"]]


def test_epoch_agrees_with_the_subject_elements(sdtm):
    """Every dated record's EPOCH is the epoch of the SE element holding its date (computed here
    from SE itself); records outside every element, or with partial dates, have none."""
    result, _ = sdtm
    se = result.domains["SE"].copy()
    se["start"] = pd.to_datetime(se.SESTDTC.str.slice(0, 10))
    se["end"] = pd.to_datetime(se.SEENDTC.str.slice(0, 10))
    checked = 0
    for name, df in result.domains.items():
        if "EPOCH" not in df or name in ("SE", "TA"):
            continue
        dtc = next(c for c in df.columns if c.endswith("DTC") and c != "RFICDTC")
        rows = df[df[dtc].notna() & (df[dtc].str.len() >= 10)]
        day = pd.to_datetime(rows[dtc].str.slice(0, 10))
        m = rows.assign(day=day, i=np.arange(len(rows))).merge(se[["USUBJID", "start", "end", "EPOCH"]], on="USUBJID",
                                                                 suffixes=("", "_se"))
        m = m[(m.day >= m.start) & (m.day <= m.end)].sort_values(["i", "start"]).groupby("i").tail(1)
        got = rows.EPOCH.iloc[m.i.to_numpy()].to_numpy()
        assert (got == m.EPOCH_se.to_numpy()).all(), name
        checked += len(m)
    assert checked > 1000


def test_every_planned_visit_number_used_is_in_tv(sdtm):
    result, _ = sdtm
    planned = set(result.domains["TV"].VISITNUM)
    for name, df in result.domains.items():
        if "VISITNUM" in df and name != "TV":
            used = set(df.VISITNUM.dropna())
            scheduled = {v for v in used if v < 9000}  # 9000+: unscheduled
            assert scheduled <= planned, f"{name}: {sorted(scheduled - planned)} not in TV"


def test_ds_protocol_milestones_from_raw(sdtm, raw, study):
    ds = sdtm[0].domains["DS"]
    milestones = ds[ds.DSCAT == "PROTOCOL MILESTONE"]
    usubjid = study.study.id + "-"
    for decod, frame, date, keep in (("INFORMED CONSENT OBTAINED", "consent", "ICDT", None),
                                     ("ELIGIBILITY CRITERIA MET", "consent", "ELIGDT", ("ELIGYN", "Y")),
                                     ("ENTERED INTO TRIAL", "cohort", "ASSIGNDT", None)):
        r = raw[frame] if keep is None else raw[frame][raw[frame][keep[0]] == keep[1]]
        got = milestones[milestones.DSDECOD == decod]
        assert sorted(zip(got.USUBJID, got.DSSTDTC)) == sorted(zip(usubjid + r.SUBJID, r[date])), decod
    entered = milestones[milestones.DSDECOD == "ENTERED INTO TRIAL"].set_index("USUBJID").DSTERM
    cohorts = raw["cohort"].set_index(usubjid + raw["cohort"].SUBJID).COHORT
    assert (entered == "ASSIGNED TO COHORT " + cohorts.reindex(entered.index)).all()


def test_arm_codelists_agree_with_the_study_configuration(sdtm, study):
    """ARMCD/ARM terms live in the spec (define.xml needs them) and the cohorts in study.yaml (the
    mapper and TA use them): the two must say the same."""
    spec = sdtm[0].spec
    armcd = {t.value: t.decode for t in spec.codelist("ARMCD").terms}
    assert armcd == {c.armcd: c.label for c in study.cohorts}
    assert set(spec.codelist("ARM").values()) == {c.label for c in study.cohorts}
