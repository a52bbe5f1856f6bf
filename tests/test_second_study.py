"""A second study built by its specs alone: XAN-TINY (tests/studies/xan-tiny/), a made-up 6-subject
placebo-controlled study whose EDC extract (tests/studies/xan-tiny-raw/) has PATNUM subjects,
DD-MMM-YY dates with unknown parts, H:MM times and its own visit labels. The package is built with
the CLI; every expected value is recomputed here from the raw CSV files with plain pandas and the
written XPT files are read with pandas' own reader, independently of submit."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from submit.cli import main
from submit.config import load_study_config
from submit.errors import InputError
from submit.sdtm.algorithms import Exceptions, SourceContext, hardcode_if

STUDY = Path(__file__).resolve().parent / "studies" / "xan-tiny"
RAW = STUDY.with_name("xan-tiny-raw")
PACKAGE = Path("m5/datasets/xan-tiny/tabulations/sdtm")
DOMAINS = {"DM", "AE", "DS", "EX", "VS", "TA", "TE", "TV", "TS", "SE", "SV"}
MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                                      "DEC"), 1)}
# The protocol's visits as the EDC labels them, and the declared rule for unscheduled ones (900 + n).
VISITNUM = {"Screening": 1.0, "Day 1": 2.0, "Week 2": 3.0, "Week 4": 4.0, "Unscheduled 1": 901.0}


# ------------------------------------------------------------------ independent reading of the raw
def iso(text: str) -> str:
    """DD-MMM-YY (years 1950-2049) or DD-MMM-YYYY, UN for an unknown day or month, as ISO 8601
    with the unknown parts left out."""
    if not text:
        return ""
    day, month, year = text.split("-")
    year = int(year) if len(year) == 4 else (2000 + int(year) if int(year) < 50 else 1900 + int(year))
    if month == "UN":
        return f"{year}"
    if day == "UN":
        return f"{year}-{MONTHS[month]:02d}"
    return f"{year}-{MONTHS[month]:02d}-{int(day):02d}"


def iso_time(date: str, time: str) -> str:
    hour, minute = time.split(":")
    return f"{iso(date)}T{int(hour):02d}:{minute}"


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in RAW.glob("*.csv")}


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("xan-tiny") / "out"
    result = CliRunner().invoke(main, ["--specs", str(STUDY), "build", "--raw", str(RAW), "--out", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    return out


@pytest.fixture(scope="module")
def sdtm(package) -> dict[str, pd.DataFrame]:
    """Every XPT of the package read by pandas (text decoded, blanks as empty strings)."""
    out = {}
    for path in (package / PACKAGE).glob("*.xpt"):
        df = pd.read_sas(path, format="xport", encoding="ascii")
        for c in df.columns:
            if not pd.api.types.is_numeric_dtype(df[c]):
                df[c] = df[c].fillna("")
            else:  # pandas' XPORT reader gives 16**-65 for an IBM zero (eight zero bytes)
                df[c] = df[c].mask(df[c].abs() < 1e-70, 0.0)
        out[path.stem.upper()] = df
    return out


@pytest.fixture(scope="module")
def first_dose(raw) -> pd.Series:
    d = raw["dosing"]
    return pd.Series([iso_time(a, b) for a, b in zip(d.EXSTDAT, d.EXSTTIM)]).groupby(d.PATNUM.to_numpy()).min()


@pytest.fixture(scope="module")
def last_dose(raw) -> pd.Series:
    d = raw["dosing"]
    return pd.Series([iso_time(a, b) for a, b in zip(d.EXENDAT, d.EXENTIM)]).groupby(d.PATNUM.to_numpy()).max()


@pytest.fixture(scope="module")
def end_of_participation(raw) -> pd.Series:
    dates = pd.concat([pd.DataFrame({"s": raw[name].PATNUM, "d": raw[name][column].map(iso)})
                       for name, column in (("disp", "DSSTDAT"), ("dosing", "EXENDAT"), ("vitals", "VSDAT"),
                                            ("ae", "AESTDAT"), ("ae", "AEENDAT"))])
    return dates[dates.d.str.len() == 10].groupby("s").d.max()


def usubjid(patnum) -> str:
    return f"XAN-TINY-{patnum}"


# ----------------------------------------------------------------------------------- the package
def test_the_xpts_are_in_the_folder_of_the_study_id(package):
    assert sorted(p.name for p in (package / "m5" / "datasets").iterdir()) == ["xan-tiny"]
    assert {p.stem.upper() for p in (package / PACKAGE).glob("*.xpt")} == DOMAINS
    assert not (package / "tlf").exists() and not (package / "m5/datasets/xan-tiny/analysis").exists()


def test_define_xml_names_every_dataset(package):
    tree = ET.parse(package / PACKAGE / "define.xml")
    names = {e.get("Name") for e in tree.iter() if e.tag.endswith("}ItemGroupDef")}
    assert names == DOMAINS


def test_validation_has_no_error_and_no_warning(package):
    report = json.loads((package / "qc" / "validation.json").read_text())
    assert report["summary"]["errors"] == 0
    assert report["summary"]["warnings"] == 0, report["issue_summary"]


def test_every_raw_record_is_mapped(package):
    exceptions = pd.read_csv(package / "qc" / "sdtm_exceptions.csv")
    assert exceptions.empty, exceptions.to_string()


# ------------------------------------------------------------------------------------------- DM
def test_one_dm_record_per_patnum_with_its_usubjid(raw, sdtm):
    dm = sdtm["DM"]
    assert sorted(dm.USUBJID) == sorted(usubjid(p) for p in raw["demog"].PATNUM)
    assert (dm.USUBJID == "XAN-TINY-" + dm.SUBJID).all()


def test_dm_dates_arms_and_screen_failure(raw, sdtm, first_dose, last_dose, end_of_participation):
    dm = sdtm["DM"].set_index("SUBJID")
    demog = raw["demog"].set_index("PATNUM")
    assert dm.RFICDTC.to_dict() == demog.CONSDAT.map(iso).to_dict()
    assert dm.BRTHDTC.to_dict() == demog.BRTHDAT.map(iso).to_dict()
    assert dm.loc["1003", "BRTHDTC"] == "1944-07"  # UN-JUL-1944 stays partial
    assert dm.RFXSTDTC.to_dict() == first_dose.reindex(dm.index).fillna("").to_dict()
    assert dm.RFSTDTC.equals(dm.RFXSTDTC)
    assert dm.RFXENDTC.to_dict() == last_dose.reindex(dm.index).fillna("").to_dict()
    assert dm.RFPENDTC.to_dict() == end_of_participation.to_dict()
    arms = {"Placebo": "Pbo", "Xanomeline Low Dose": "Xan_Lo", "": ""}
    assert dm.ARMCD.to_dict() == demog.RANDARM.map(arms).to_dict()
    assert dm.ARM.to_dict() == demog.RANDARM.to_dict()
    assert dm.ACTARMCD.equals(dm.ARMCD)
    failed = raw["disp"].PATNUM[raw["disp"].DSDECOD == "SCREEN FAILURE"]
    assert dm.ARMNRS.to_dict() == {s: "SCREEN FAILURE" if s in set(failed) else "" for s in dm.index}
    assert set(dm.COUNTRY) == {"USA"} and dm.SITEID.to_dict() == demog.SITENUM.to_dict()


# --------------------------------------------------------------------------------- AE, EX, DS
def _study_day(dtc: pd.Series, subjects: pd.Series, first: pd.Series) -> pd.Series:
    ref = pd.to_datetime(subjects.map(first).str.slice(0, 10), errors="coerce")
    day = pd.to_datetime(dtc.where(dtc.str.len() >= 10).str.slice(0, 10), errors="coerce")
    delta = (day - ref).dt.days
    return pd.Series(np.where(delta >= 0, delta + 1, delta), index=dtc.index)


def test_ae_dates_stay_partial_and_study_days_count_from_the_first_dose(raw, sdtm, first_dose):
    ae = sdtm["AE"].assign(PATNUM=lambda d: d.USUBJID.str.removeprefix("XAN-TINY-"))
    got = ae.set_index(["PATNUM", "AETERM"])[["AESTDTC", "AEENDTC"]]
    expected = raw["ae"].assign(AESTDTC=raw["ae"].AESTDAT.map(iso), AEENDTC=raw["ae"].AEENDAT.map(iso)).set_index(
        ["PATNUM", "AETERM"])[["AESTDTC", "AEENDTC"]]
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index())
    assert got.loc[("1002", "Application site pruritus"), "AESTDTC"] == "2011-02"  # UN-FEB-11
    expected_day = _study_day(ae.AESTDTC, ae.PATNUM, first_dose)
    pd.testing.assert_series_equal(ae.AESTDY, expected_day, check_names=False, check_dtype=False)
    assert ae.loc[ae.AESTDTC.str.len() < 10, "EPOCH"].eq("").all()  # a partial date has no epoch


def test_ex_one_record_per_dispensing_with_times(raw, sdtm):
    ex = sdtm["EX"]
    d = raw["dosing"]
    expected = sorted(zip(d.PATNUM.map(usubjid), [iso_time(a, b) for a, b in zip(d.EXSTDAT, d.EXSTTIM)],
                          [iso_time(a, b) for a, b in zip(d.EXENDAT, d.EXENTIM)], d.DOSE.astype(float),
                          d.VISIT.map(VISITNUM)))
    assert sorted(zip(ex.USUBJID, ex.EXSTDTC, ex.EXENDTC, ex.EXDOSE, ex.VISITNUM)) == expected


def test_ds_disposition_and_consent(raw, sdtm):
    ds = sdtm["DS"]
    disp = ds[ds.DSCAT == "DISPOSITION EVENT"]
    assert sorted(zip(disp.USUBJID, disp.DSDECOD, disp.DSSTDTC)) == sorted(
        zip(raw["disp"].PATNUM.map(usubjid), raw["disp"].DSDECOD, raw["disp"].DSSTDAT.map(iso)))
    consent = ds[ds.DSDECOD == "INFORMED CONSENT OBTAINED"]
    assert sorted(zip(consent.USUBJID, consent.DSSTDTC)) == sorted(
        zip(raw["demog"].PATNUM.map(usubjid), raw["demog"].CONSDAT.map(iso)))


# ------------------------------------------------------------------------------------------ VS
def test_vs_visits_by_the_edc_label_and_units(raw, sdtm):
    vs = sdtm["VS"]
    v = raw["vitals"]
    tests = {"SYSBP": ("SYSBP", "mmHg"), "DIABP": ("DIABP", "mmHg"), "PULSE": ("PULSE", "beats/min")}
    expected = sorted((usubjid(p), code, VISITNUM[label], iso_time(d, t), value, unit if value else "")
                      for code, (column, unit) in tests.items()
                      for p, label, d, t, value in zip(v.PATNUM, v.VISIT, v.VSDAT, v.VSTIM, v[column]))
    assert sorted(zip(vs.USUBJID, vs.VSTESTCD, vs.VISITNUM, vs.VSDTC, vs.VSORRES, vs.VSORRESU)) == expected
    assert set(vs.VISIT[vs.VISITNUM == 901]) == {"UNSCHEDULED 1"}


def test_a_blank_result_is_not_done_with_its_reason(raw, sdtm):
    vs = sdtm["VS"]
    blank = raw["vitals"][raw["vitals"].SYSBP == ""]
    not_done = vs[vs.VSSTAT == "NOT DONE"]
    assert sorted(zip(not_done.USUBJID, not_done.VISITNUM)) == sorted(
        (usubjid(p), VISITNUM[label]) for p, label in zip(blank.PATNUM, blank.VISIT) for _ in range(3))
    assert (not_done.VSORRES == "").all() and (not_done.VSREASND != "").all() and not_done.VSSTRESN.isna().all()
    assert (vs.VSSTAT[vs.VSORRES != ""] == "").all()


def test_baseline_is_the_last_result_on_or_before_the_first_dose(raw, sdtm, first_dose):
    v = raw["vitals"]
    long = pd.concat([pd.DataFrame({"PATNUM": v.PATNUM, "TEST": code, "AT": [iso_time(d, t) for d, t in zip(v.VSDAT, v.VSTIM)],
                                    "VISITNUM": v.VISIT.map(VISITNUM), "VALUE": v[code]}) for code in ("SYSBP", "DIABP", "PULSE")])
    long["DOSE"] = long.PATNUM.map(first_dose)
    before = long[(long.VALUE != "") & long.DOSE.notna() & (long.AT <= long.DOSE)]
    last = before.sort_values("AT").groupby(["PATNUM", "TEST"]).tail(1)
    expected = sorted(zip(last.PATNUM.map(usubjid), last.TEST, last.VISITNUM))
    vs = sdtm["VS"]
    flagged = vs[vs.VSLOBXFL == "Y"]
    assert sorted(zip(flagged.USUBJID, flagged.VSTESTCD, flagged.VISITNUM)) == expected
    # 2002's day-1 vital signs were taken after the first patch: baseline is screening
    assert set(flagged.VISITNUM[flagged.USUBJID == "XAN-TINY-2002"]) == {1.0}


def test_vs_epoch_by_date_and_time_of_the_first_and_last_dose(sdtm, first_dose, last_dose):
    vs = sdtm["VS"].assign(PATNUM=lambda d: d.USUBJID.str.removeprefix("XAN-TINY-"))
    first, last = vs.PATNUM.map(first_dose).fillna("9999"), vs.PATNUM.map(last_dose).fillna("9999")
    expected = np.select([vs.VSDTC < first, vs.VSDTC <= last], ["SCREENING", "TREATMENT"], "FOLLOW-UP")
    assert vs.EPOCH.tolist() == expected.tolist()


# ------------------------------------------------------------------------------------- SE, SV
def test_se_screening_treatment_and_follow_up(raw, sdtm, first_dose, last_dose, end_of_participation):
    demog = raw["demog"].set_index("PATNUM")
    treatment = raw["dosing"].drop_duplicates("PATNUM").set_index("PATNUM").TRT.map({"PLACEBO": "PBO",
                                                                                    "XANOMELINE": "XANLO"})
    expected = []
    for p in demog.index:
        consent, end = iso(demog.CONSDAT[p]), end_of_participation[p]
        if p in first_dose.index:
            expected += [(usubjid(p), "SCRN", "SCREENING", consent, first_dose[p]),
                         (usubjid(p), treatment[p], "TREATMENT", first_dose[p], last_dose[p]),
                         (usubjid(p), "FU", "FOLLOW-UP", last_dose[p], end)]
        else:  # a screen failure: screening only, until the end of participation
            expected.append((usubjid(p), "SCRN", "SCREENING", consent, end))
    se = sdtm["SE"]
    assert sorted(zip(se.USUBJID, se.ETCD, se.EPOCH, se.SESTDTC, se.SEENDTC)) == sorted(expected)
    assert se[se.USUBJID == "XAN-TINY-2003"].TAETORD.isna().all()  # no arm, no planned order
    ordered = se[se.USUBJID != "XAN-TINY-2003"]
    assert dict(zip(ordered.ETCD.replace({"PBO": "TRT", "XANLO": "TRT"}), ordered.TAETORD)) == {
        "SCRN": 1.0, "TRT": 2.0, "FU": 3.0}


def test_sv_one_visit_per_subject_and_label(raw, sdtm):
    labels = pd.concat([raw["vitals"][["PATNUM", "VISIT"]], raw["dosing"][["PATNUM", "VISIT"]]]).drop_duplicates()
    sv = sdtm["SV"]
    assert sorted(zip(sv.USUBJID, sv.VISITNUM)) == sorted(zip(labels.PATNUM.map(usubjid), labels.VISIT.map(VISITNUM)))
    unscheduled = sv[sv.VISITNUM > 900]
    assert (unscheduled.SVPRESP == "").all() and unscheduled.SVUPDES.str.contains("vital signs").all()
    assert (sv.SVPRESP[sv.VISITNUM < 900] == "Y").all()


# ------------------------------------------------------------------------------- trial design
FDA_TS = {"TITLE", "TPHASE", "REGID", "SPONSOR", "SSTDTC", "SENDTC", "ACTSUB", "PLANSUB", "NARMS", "STYPE",
          "INTTYPE", "INTMODEL", "TTYPE", "TBLIND", "TCNTRL", "RANDOM", "ADAPT", "ADDON", "AGEMIN", "AGEMAX",
          "SEXPOP", "HLTSUBJI", "TDIGRP", "TINDTP", "TRT", "PCLAS", "LENGTH", "STOPRULE", "OBJPRIM", "OUTMSPRI",
          "FCNTRY", "DCUTDTC", "DCUTDESC", "SDTIGVER", "SDTMVER", "THERAREA", "EXTTIND", "NCOHORT", "OBJSEC",
          "PDPSTIND", "PDSTIND", "PIPIND", "RDIND", "ONGOSIND"}


def test_ts_has_the_fda_parameters_and_the_study_start_from_the_data(raw, sdtm):
    ts = sdtm["TS"]
    assert FDA_TS <= set(ts.TSPARMCD)
    value = ts.drop_duplicates("TSPARMCD").set_index("TSPARMCD").TSVAL
    randomized = raw["demog"][raw["demog"].RANDARM != ""]
    assert value["SSTDTC"] == min(randomized.CONSDAT.map(iso))
    assert value["ACTSUB"] == str(len(randomized))
    assert value["SDTIGVER"] == "3.4" and value["DCUTDTC"] == "2011-03-31"
    assert (ts.TSVAL != "").sum() + (ts.TSVALNF != "").sum() == len(ts)  # a value or a null flavor each


def test_ta_te_tv_are_the_study_tables(sdtm):
    assert sorted(zip(sdtm["TA"].ARMCD, sdtm["TA"].TAETORD, sdtm["TA"].ETCD)) == [
        ("Pbo", 1.0, "SCRN"), ("Pbo", 2.0, "PBO"), ("Pbo", 3.0, "FU"),
        ("Xan_Lo", 1.0, "SCRN"), ("Xan_Lo", 2.0, "XANLO"), ("Xan_Lo", 3.0, "FU")]
    assert set(sdtm["TE"].ETCD) == {"SCRN", "PBO", "XANLO", "FU"}
    assert dict(zip(sdtm["TV"].VISIT, sdtm["TV"].VISITNUM)) == {"SCREENING": 1, "DAY 1": 2, "WEEK 2": 3, "WEEK 4": 4}


# ------------------------------------------------------------------------ vocabulary: hardcode_if
def _ctx(rows: pd.DataFrame) -> SourceContext:
    return SourceContext("VS", "vitals", rows, {"vitals": rows}, load_study_config(STUDY / "study.yaml"),
                         Exceptions(), "VSSTAT")


def test_hardcode_if_gives_the_value_where_present_or_missing():
    rows = pd.DataFrame({"SYSBP": [120, None, 118], "NOTE": ["a", " ", None]})
    assert hardcode_if(_ctx(rows), column="SYSBP", when="missing", value="NOT DONE").tolist() == [None, "NOT DONE", None]
    assert hardcode_if(_ctx(rows), column="SYSBP", when="present", value="mmHg").tolist() == ["mmHg", None, "mmHg"]
    assert hardcode_if(_ctx(rows), column="NOTE", when="missing", value="X").tolist() == [None, "X", "X"]


def test_hardcode_if_refuses_an_unknown_condition_and_column():
    rows = pd.DataFrame({"SYSBP": [120]})
    with pytest.raises(InputError, match=re.escape("when must be one of present, missing, not 'sometimes'")):
        hardcode_if(_ctx(rows), column="SYSBP", when="sometimes", value="X")
    with pytest.raises(InputError) as err:
        hardcode_if(_ctx(rows), column="DIABP", when="present", value="X")
    assert err.value.problems[0].column == "DIABP"
