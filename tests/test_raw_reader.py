"""The raw extract reader against a tiny schema written here (independent of specs/raw and the simulator)."""

from __future__ import annotations

import csv
import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from submit.config import load_study_config
from submit.errors import InputError
from submit.raw.reader import read_raw
from submit.raw.schema import load_raw_schema

ROOT = Path(__file__).parents[1]

SCHEMA = {
    "subj": """
dataset: subj
label: Subjects
keys: [SUBJID]
subject_master: true
columns:
  - {name: SUBJID, type: text, required: true, pattern: '[0-9]{3}-[0-9]{3}', label: Subject}
  - {name: SITEID, type: text, required: true, allowed_from: sites.id, label: Site}
  - {name: COHORT, type: text, required: true, allowed_from: cohorts.code, label: Cohort}
  - {name: AGE, type: integer, required: true, min: 18, max: 100, label: Age}
""",
    "vis": """
dataset: vis
label: Visits
keys: [SUBJID, VISNUM]
columns:
  - {name: SUBJID, type: text, required: true, label: Subject}
  - {name: VISNUM, type: integer, required: true, min: 1, max: 20, label: Visit number}
  - {name: VISDT, type: date, required: true, label: Visit date}
  - {name: VISTM, type: time, required: false, label: Visit time}
  - {name: WEIGHT, type: float, required: false, min: 30, max: 200, label: Weight (kg)}
  - {name: DONE, type: text, required: true, allowed: [Y, N], label: Done}
""",
    "ae": """
dataset: ae
label: Adverse events
keys: [SUBJID, AESEQ]
columns:
  - {name: SUBJID, type: text, required: true, label: Subject}
  - {name: AESEQ, type: integer, required: true, label: AE number}
  - {name: AETERM, type: text, required: true, label: Term}
  - {name: AESTDT, type: partial_date, required: true, label: Start}
  - {name: AEENDT, type: partial_date, required: false, label: End}
""",
}

# The good extract, every cell as text exactly as it stands in the CSV.
GOOD = {
    "subj": [
        {"SUBJID": "101-001", "SITEID": "101", "COHORT": "1", "AGE": "45"},
        {"SUBJID": "101-002", "SITEID": "101", "COHORT": "2a", "AGE": "100"},
        {"SUBJID": "102-001", "SITEID": "102", "COHORT": "3", "AGE": "18"},
        {"SUBJID": "103-001", "SITEID": "103", "COHORT": "2b", "AGE": "60"},
    ],
    "vis": [
        {"SUBJID": "101-001", "VISNUM": "1", "VISDT": "2011-02-28", "VISTM": "08:05", "WEIGHT": "70.5", "DONE": "Y"},
        {"SUBJID": "101-001", "VISNUM": "2", "VISDT": "2012-02-29", "VISTM": "23:59", "WEIGHT": "", "DONE": "N"},
        {"SUBJID": "101-002", "VISNUM": "1", "VISDT": "2011-03-01", "VISTM": "", "WEIGHT": "82", "DONE": "Y"},
        {"SUBJID": "102-001", "VISNUM": "+3", "VISDT": "2000-02-29", "VISTM": "00:00", "WEIGHT": "30", "DONE": "Y"},
    ],
    "ae": [
        {"SUBJID": "101-001", "AESEQ": "1", "AETERM": "Nausea", "AESTDT": "2011-03-UN", "AEENDT": ""},
        {"SUBJID": "101-002", "AESEQ": "1", "AETERM": "Pyrexia", "AESTDT": "2011-UN-UN", "AEENDT": "2011-04-02"},
        {"SUBJID": "101-002", "AESEQ": "2", "AETERM": " Headache ", "AESTDT": "2011-03-05", "AEENDT": "2011-04-UN"},
    ],
}


@pytest.fixture(scope="module")
def study():
    return load_study_config(ROOT / "specs" / "mt103-206" / "study.yaml")


@pytest.fixture
def schema(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    for name, text in SCHEMA.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_raw_schema(folder)


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def extract(folder: Path, skip: tuple[str, ...] = (), **changes: dict[tuple[int, str], str | None]) -> Path:
    """Write the good extract as CSV, with cells changed: {(1-based data row, column): value};
    value None drops the column."""
    folder.mkdir(exist_ok=True)
    for name, rows in GOOD.items():
        if name in skip:
            continue
        rows = [dict(r) for r in rows]
        for (row, column), value in changes.get(name, {}).items():
            if value is None:
                for r in rows:
                    del r[column]
            else:
                rows[row - 1][column] = value
        write_csv(folder / f"{name}.csv", rows)
    return folder


def problems_of(folder, schema, study):
    with pytest.raises(InputError) as info:
        read_raw(folder, schema, study)
    return info.value.problems


def only_problem(folder, schema, study):
    problems = problems_of(folder, schema, study)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def where(problem):
    """(file name, data row, column): a CSV problem names its file line, and these fixtures hold one
    record per line after the header, so data row r is line r + 1."""
    row = problem.line - 1 if problem.line is not None else problem.row
    return Path(problem.file).name, row, problem.column


# --- the good extract -----------------------------------------------------------------------------

def test_good_csv_extract_reads_to_typed_frames(tmp_path, schema, study):
    raw = read_raw(extract(tmp_path / "raw"), schema, study)

    assert list(raw.frames) == ["ae", "subj", "vis"]  # schema order (the YAML files sorted)
    assert {n: p.name for n, p in raw.sources.items()} == {"ae": "ae.csv", "subj": "subj.csv", "vis": "vis.csv"}
    vis = raw.frames["vis"]
    assert list(vis.columns) == ["SUBJID", "VISNUM", "VISDT", "VISTM", "WEIGHT", "DONE"]
    assert vis["VISNUM"].dtype == "Int64" and vis["WEIGHT"].dtype == np.float64
    assert all(vis[c].dtype == "str" for c in ("SUBJID", "VISDT", "VISTM", "DONE"))
    assert vis["VISNUM"].tolist() == [1, 2, 1, 3]  # '+3' is the integer 3
    assert vis["VISDT"].tolist() == ["2011-02-28", "2012-02-29", "2011-03-01", "2000-02-29"]
    assert vis["VISTM"].isna().tolist() == [False, False, True, False]
    assert vis["VISTM"].iloc[3] == "00:00"
    assert vis["WEIGHT"].iloc[0] == 70.5 and np.isnan(vis["WEIGHT"].iloc[1]) and vis["WEIGHT"].iloc[2] == 82.0

    ae = raw.frames["ae"]
    assert ae["AESEQ"].dtype == "Int64"
    assert ae["AESTDT"].tolist() == ["2011-03-UN", "2011-UN-UN", "2011-03-05"]
    assert pd.isna(ae["AEENDT"].iloc[0]) and ae["AEENDT"].iloc[2] == "2011-04-UN"
    assert ae["AETERM"].iloc[2] == "Headache"  # surrounding blanks stripped

    subj = raw.frames["subj"]
    assert subj["AGE"].dtype == "Int64" and subj["AGE"].tolist() == [45, 100, 18, 60]
    assert subj["COHORT"].tolist() == ["1", "2a", "3", "2b"]  # codes stay text, never numbers


def test_names_match_case_insensitively(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", skip=("ae",))
    write_csv(folder / "AE.CSV", [{k.lower(): v for k, v in r.items()} for r in GOOD["ae"]])
    raw = read_raw(folder, schema, study)
    assert raw.sources["ae"].name == "AE.CSV"
    assert list(raw.frames["ae"].columns) == ["SUBJID", "AESEQ", "AETERM", "AESTDT", "AEENDT"]


def test_extra_columns_and_files_are_warnings_and_kept(tmp_path, schema, study, caplog):
    folder = extract(tmp_path / "raw", skip=("vis",))
    write_csv(folder / "vis.csv", [{**r, "NOTE": f"n{i}"} for i, r in enumerate(GOOD["vis"])])
    write_csv(folder / "lab.csv", [{"SUBJID": "101-001"}])
    with caplog.at_level(logging.WARNING, logger="submit.raw"):
        raw = read_raw(folder, schema, study)
    assert raw.frames["vis"]["NOTE"].tolist() == ["n0", "n1", "n2", "n3"]
    assert "lab" not in raw.frames
    warned = " ".join(r.getMessage() for r in caplog.records if r.name == "submit.raw")
    assert "NOTE" in warned and "lab.csv" in warned


# --- files and columns ----------------------------------------------------------------------------

def test_missing_dataset_file(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", skip=("ae",))
    problem = only_problem(folder, schema, study)
    assert problem.file == str(folder) and problem.row is None
    assert "dataset ae is missing" in problem.message


def test_two_files_for_one_dataset(tmp_path, schema, study):
    folder = extract(tmp_path / "raw")
    pyreadstat.write_xport(pd.DataFrame(GOOD["ae"]), str(folder / "ae.xpt"))
    problem = only_problem(folder, schema, study)
    assert problem.file == str(folder)
    assert "dataset ae has 2 files" in problem.message and "ae.csv" in problem.message and "ae.xpt" in problem.message


def test_missing_column(tmp_path, schema, study):
    problem = only_problem(extract(tmp_path / "raw", vis={(1, "DONE"): None}), schema, study)
    assert where(problem) == ("vis.csv", None, "DONE")
    assert problem.message == "column DONE is missing"


def test_unreadable_file(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", skip=("subj",))
    (folder / "subj.xpt").write_bytes(b"not a transport file" * 10)
    problem = only_problem(folder, schema, study)
    assert where(problem) == ("subj.xpt", None, None) and "cannot read" in problem.message


def test_missing_folder(tmp_path, schema, study):
    problem = only_problem(tmp_path / "nowhere", schema, study)
    assert problem.file == str(tmp_path / "nowhere") and "does not exist" in problem.message


# --- cell types -----------------------------------------------------------------------------------

def test_wrong_integer(tmp_path, schema, study):
    # Rows 1 and 2 are one subject: their unreadable keys are reported once each, not as duplicates.
    folder = extract(tmp_path / "raw", vis={(1, "VISNUM"): "1.5", (2, "VISNUM"): "3 4", (4, "VISNUM"): "x"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("vis.csv", r, "VISNUM") for r in (1, 2, 4)]
    assert [p.message for p in problems] == ["not an integer '1.5'", "not an integer '3 4'", "not an integer 'x'"]


def test_wrong_float(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", vis={(1, "WEIGHT"): "7o", (2, "WEIGHT"): "1e999",
                                            (3, "WEIGHT"): "nan", (4, "WEIGHT"): "inf"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("vis.csv", r, "WEIGHT") for r in (1, 2, 3, 4)]
    assert [p.message for p in problems] == [
        "not a number '7o'", "not a number '1e999'", "not a number 'nan'", "not a number 'inf'"]


def test_impossible_date_is_told_apart_from_unparseable_text(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", vis={(1, "VISDT"): "2011/02/03", (2, "VISDT"): "2011-02-30",
                                            (3, "VISDT"): "2011-02-29", (4, "VISDT"): "2011-13-01"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("vis.csv", r, "VISDT") for r in (1, 2, 3, 4)]
    assert problems[0].message == "not a date '2011/02/03' (expected YYYY-MM-DD)"
    assert [p.message for p in problems[1:]] == [
        "impossible date '2011-02-30'", "impossible date '2011-02-29'", "impossible date '2011-13-01'"]


def test_wrong_partial_dates(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", ae={(1, "AESTDT"): "2011-UN-05", (2, "AESTDT"): "2011-13-UN",
                                           (3, "AESTDT"): "2011-02-30", (3, "AEENDT"): "2011-04-XX"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [
        ("ae.csv", 1, "AESTDT"), ("ae.csv", 2, "AESTDT"), ("ae.csv", 3, "AESTDT"), ("ae.csv", 3, "AEENDT")]
    assert problems[0].message.startswith("not a partial date '2011-UN-05'")
    assert problems[1].message == "impossible date '2011-13-UN'"
    assert problems[2].message == "impossible date '2011-02-30'"
    assert problems[3].message.startswith("not a partial date '2011-04-XX'")


def test_wrong_times(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", vis={(1, "VISTM"): "24:00", (2, "VISTM"): "7:30",
                                            (3, "VISTM"): "12:60", (4, "VISTM"): "12:30:00"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("vis.csv", r, "VISTM") for r in (1, 2, 3, 4)]
    assert problems[0].message == "not a time '24:00' (expected HH:MM, 00:00-23:59)"


# --- values ---------------------------------------------------------------------------------------

def test_required_value_empty(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", vis={(2, "DONE"): "", (3, "VISDT"): "   "})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("vis.csv", 2, "DONE"), ("vis.csv", 3, "VISDT")]
    assert {p.message for p in problems} == {"required value is empty"}


def test_value_not_allowed(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", vis={(3, "DONE"): "y"})
    problem = only_problem(folder, schema, study)
    assert where(problem) == ("vis.csv", 3, "DONE")
    assert problem.message == "'y' is not one of Y, N"


def test_value_not_among_study_sites_or_cohorts(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", subj={(2, "SITEID"): "999", (4, "COHORT"): "2c"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("subj.csv", 2, "SITEID"), ("subj.csv", 4, "COHORT")]
    assert problems[0].message.startswith("'999' is not one of the study's sites.id (101, 102,")
    assert problems[1].message == "'2c' is not one of the study's cohorts.code (1, 2a, 2b, 3)"


def test_pattern_must_match_the_whole_value(tmp_path, schema, study):
    # The schema's pattern is unanchored: '103-0012' contains a match but is not one.
    problem = only_problem(extract(tmp_path / "raw", subj={(4, "SUBJID"): "103-0012"}), schema, study)
    assert where(problem) == ("subj.csv", 4, "SUBJID")
    assert problem.message == "'103-0012' does not match the pattern [0-9]{3}-[0-9]{3}"


def test_number_outside_min_max(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", subj={(1, "AGE"): "17", (2, "AGE"): "101"},
                     vis={(1, "WEIGHT"): "29.9", (3, "WEIGHT"): "200.5", (4, "VISNUM"): "0"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [
        ("subj.csv", 1, "AGE"), ("subj.csv", 2, "AGE"),
        ("vis.csv", 1, "WEIGHT"), ("vis.csv", 3, "WEIGHT"), ("vis.csv", 4, "VISNUM")]
    assert [p.message for p in problems] == [
        "'17' is below the minimum 18", "'101' is above the maximum 100",
        "'29.9' is below the minimum 30", "'200.5' is above the maximum 200", "'0' is below the minimum 1"]


# --- rows -----------------------------------------------------------------------------------------

def test_duplicate_key_reports_every_row(tmp_path, schema, study):
    # Row 3 repeats row 1's key once typed: '01' is the integer 1.
    folder = extract(tmp_path / "raw", vis={(3, "SUBJID"): "101-001", (3, "VISNUM"): "01"})
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [("vis.csv", 1, "SUBJID, VISNUM"), ("vis.csv", 3, "SUBJID, VISNUM")]
    assert {p.message for p in problems} == {"duplicate key SUBJID=101-001, VISNUM=1 (lines 2, 4)"}


def test_orphan_subject(tmp_path, schema, study):
    problem = only_problem(extract(tmp_path / "raw", ae={(2, "SUBJID"): "109-999"}), schema, study)
    assert where(problem) == ("ae.csv", 2, "SUBJID")
    assert problem.message == "subject '109-999' is not in subj"


def test_every_problem_of_every_file_in_one_error(tmp_path, schema, study):
    folder = extract(tmp_path / "raw",
                     subj={(3, "AGE"): "old", (1, "SITEID"): ""},
                     vis={(2, "VISDT"): "2011-02-30", (4, "DONE"): "maybe", (1, "VISTM"): None},
                     ae={(3, "SUBJID"): "555-555"})
    with pytest.raises(InputError) as info:
        read_raw(folder, schema, study)
    got = [(*where(p), p.message) for p in info.value.problems]
    assert got == [
        ("ae.csv", 3, "SUBJID", "subject '555-555' is not in subj"),
        ("subj.csv", 1, "SITEID", "required value is empty"),
        ("subj.csv", 3, "AGE", "not an integer 'old'"),
        ("vis.csv", None, "VISTM", "column VISTM is missing"),
        ("vis.csv", 2, "VISDT", "impossible date '2011-02-30'"),
        ("vis.csv", 4, "DONE", "'maybe' is not one of Y, N"),
    ]
    assert "6 problems" in info.value.summary


# --- SAS files ------------------------------------------------------------------------------------

def vis_as_sas(rows=GOOD["vis"]) -> pd.DataFrame:
    """The visits as a SAS program would store them: numbers, and dates and times as SAS values."""
    def time(text):
        return dt.time(*map(int, text.split(":"))) if text else None
    return pd.DataFrame({
        "SUBJID": [r["SUBJID"] for r in rows],
        "VISNUM": [float(r["VISNUM"]) for r in rows],
        "VISDT": [dt.date.fromisoformat(r["VISDT"]) for r in rows],
        "VISTM": [time(r["VISTM"]) for r in rows],
        "WEIGHT": [float(r["WEIGHT"]) if r["WEIGHT"] else np.nan for r in rows],
        "DONE": [r["DONE"] for r in rows],
    })


def test_xpt_reads_to_the_same_typed_frame_as_csv(tmp_path, schema, study):
    from_csv = read_raw(extract(tmp_path / "csv"), schema, study).frames["vis"]
    folder = extract(tmp_path / "xpt", skip=("vis",))
    pyreadstat.write_xport(vis_as_sas(), str(folder / "vis.xpt"), table_name="VIS")
    stored, _ = pyreadstat.read_xport(str(folder / "vis.xpt"), disable_datetime_conversion=True)
    assert stored["VISDT"].dtype == np.float64 and stored["VISTM"].dtype == np.float64  # SAS numbers

    raw = read_raw(folder, schema, study)
    assert raw.sources["vis"].suffix == ".xpt"
    from_xpt = raw.frames["vis"]
    pd.testing.assert_frame_equal(from_xpt, from_csv)
    assert from_xpt["VISDT"].iloc[1] == "2012-02-29" and from_xpt["VISTM"].iloc[0] == "08:05"


def test_mixed_formats_in_one_folder(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", skip=("subj",))
    subj = pd.DataFrame(GOOD["subj"]).assign(AGE=lambda d: d["AGE"].astype(float))
    pyreadstat.write_xport(subj, str(folder / "SUBJ.XPT"), table_name="SUBJ")
    raw = read_raw(folder, schema, study)
    assert {n: p.suffix for n, p in raw.sources.items()} == {"ae": ".csv", "subj": ".XPT", "vis": ".csv"}
    assert raw.frames["subj"]["AGE"].dtype == "Int64" and raw.frames["subj"]["AGE"].tolist() == [45, 100, 18, 60]

    # The subject master read from XPT still catches an orphan in a CSV dataset.
    write_csv(folder / "ae.csv", [*GOOD["ae"], {**GOOD["ae"][0], "SUBJID": "999-999", "AESEQ": "9"}])
    problem = only_problem(folder, schema, study)
    assert where(problem) == ("ae.csv", 4, "SUBJID")


def test_bad_sas_numbers(tmp_path, schema, study):
    folder = extract(tmp_path / "raw", skip=("vis",))
    sas = vis_as_sas()
    sas["VISDT"] = [18686.0, 18686.5, np.nan, 18687.0]  # days since 1960; half a day is no date
    sas["VISTM"] = [29100.0, 29130.0, 86400.0, np.nan]  # seconds; 08:05:30 and 24:00 are no HH:MM
    sas["VISNUM"] = [1.0, 2.0, 1.5, 3.0]
    pyreadstat.write_xport(sas, str(folder / "vis.xpt"))
    problems = problems_of(folder, schema, study)
    assert [where(p) for p in problems] == [
        ("vis.xpt", 2, "VISDT"), ("vis.xpt", 2, "VISTM"),
        ("vis.xpt", 3, "VISNUM"), ("vis.xpt", 3, "VISDT"), ("vis.xpt", 3, "VISTM")]
    assert problems[0].message.startswith("not a SAS date 18686.5")
    assert problems[2].message == "not a whole number 1.5"
    assert problems[3].message == "required value is empty"


def test_sas_date_converts_to_the_calendar_date(tmp_path, schema, study):
    # 0 is 1960-01-01 in SAS; 18686 days later is 2011-02-28 (checked against the datetime module).
    folder = extract(tmp_path / "raw", skip=("vis",))
    sas = vis_as_sas()
    sas["VISDT"] = [0.0, -1.0, 18686.0, (dt.date(2000, 2, 29) - dt.date(1960, 1, 1)).days]
    pyreadstat.write_xport(sas, str(folder / "vis.xpt"))
    assert read_raw(folder, schema, study).frames["vis"]["VISDT"].tolist() == [
        "1960-01-01", "1959-12-31", "2011-02-28", "2000-02-29"]


# --- extracts as EDC systems export them: a subject column of their own, dates in their formats ----

EDC_SCHEMA = {
    "pat": """
dataset: pat
label: Patients
keys: [PATNUM]
subject: PATNUM
subject_master: true
columns:
  - {name: PATNUM, type: text, required: true, label: Patient number}
  - {name: SITE, type: text, required: true, allowed_from: sites.id, label: Site}
  - {name: ARMCD, type: text, required: true, label: Arm}
  - {name: BRTHDT, type: date, required: true, format: DD-MMM-YY, label: Birth date}
  - {name: ICDT, type: date, required: true, format: MM/DD/YYYY, label: Informed consent}
""",
    "adverse": """
dataset: adverse
label: Adverse events
keys: [PATNUM, AENUM]
subject: PATNUM
yearcutoff: 1950
columns:
  - {name: PATNUM, type: text, required: true, label: Patient number}
  - {name: AENUM, type: integer, required: true, label: AE number}
  - {name: AESTDT, type: partial_date, required: true, format: DD-MMM-YY, label: Start}
  - {name: AESTTM, type: time, required: false, format: H:MM, label: Start time}
  - {name: AEENDT, type: partial_date, required: false, format: DDMMMYYYY, label: End}
  - {name: AEENTM, type: time, required: false, format: HH:MM:SS, label: End time}
""",
    "death": """
dataset: death
label: Death
keys: [PATNUM]
subject: PATNUM
columns:
  - {name: PATNUM, type: text, required: true, label: Patient number}
  - {name: DTHDT, type: date, required: true, format: DD-MMM-YYYY, label: Date of death}
""",
}

EDC_GOOD = {
    "pat": [
        {"PATNUM": "0012", "SITE": "101", "ARMCD": "A", "BRTHDT": "17-jul-45", "ICDT": "03/05/2011"},
        {"PATNUM": "0013", "SITE": "102", "ARMCD": "B", "BRTHDT": "01-JAN-12", "ICDT": "12/31/2011"},
        {"PATNUM": "0020", "SITE": "101", "ARMCD": "A", "BRTHDT": "01-Jan-13", "ICDT": "02/29/2012"},
    ],
    "adverse": [
        {"PATNUM": "0012", "AENUM": "1", "AESTDT": "05-MAR-11", "AESTTM": "7:05", "AEENDT": "06mar2011", "AEENTM": "14:30:15"},
        {"PATNUM": "0012", "AENUM": "2", "AESTDT": "un-Mar-49", "AESTTM": "", "AEENDT": "UNKAPR2011", "AEENTM": ""},
        {"PATNUM": "0013", "AENUM": "1", "AESTDT": "UNK-UNK-50", "AESTTM": "23:59", "AEENDT": "", "AEENTM": ""},
        {"PATNUM": "0013", "AENUM": "2", "AESTDT": "UNKNOWN-unk-99", "AESTTM": "10:00", "AEENDT": "UNUNK2011", "AEENTM": "00:00:00"},
    ],
    "death": [{"PATNUM": "0013", "DTHDT": "04-Jun-2012"}],
}


@pytest.fixture
def edc_schema(tmp_path):
    folder = tmp_path / "edc_schema"
    folder.mkdir()
    for name, text in EDC_SCHEMA.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_raw_schema(folder)


def edc_extract(folder: Path, **changes: dict[tuple[int, str], str]) -> Path:
    """The good EDC extract as CSV, with cells changed: {(1-based data row, column): value}."""
    folder.mkdir(exist_ok=True)
    for name, rows in EDC_GOOD.items():
        rows = [dict(r) for r in rows]
        for (row, column), value in changes.get(name, {}).items():
            rows[row - 1][column] = value
        write_csv(folder / f"{name}.csv", rows)
    return folder


def test_edc_dates_and_times_read_to_the_canonical_form(tmp_path, edc_schema, study, caplog):
    with caplog.at_level(logging.INFO, logger="submit.raw"):
        raw = read_raw(edc_extract(tmp_path / "raw"), edc_schema, study)
    assert raw.subjects == {"adverse": "PATNUM", "death": "PATNUM", "pat": "PATNUM"}
    pat = raw.frames["pat"]
    assert pat["PATNUM"].tolist() == ["0012", "0013", "0020"]  # text: leading zeros kept
    # No yearcutoff: the 100 years ending with the data cut-off (2012-10-15), 1913-2012.
    assert pat["BRTHDT"].tolist() == ["1945-07-17", "2012-01-01", "1913-01-01"]
    assert pat["ICDT"].tolist() == ["2011-03-05", "2011-12-31", "2012-02-29"]  # month first
    assert "1913-2012" in caplog.text and "BRTHDT" in caplog.text
    assert "AESTDT" not in caplog.text  # its window is declared (dataset yearcutoff 1950)

    ae = raw.frames["adverse"]
    # yearcutoff 1950: 50-99 are 1950-1999, 00-49 are 2000-2049; unknown parts in any spelling become UN.
    assert ae["AESTDT"].tolist() == ["2011-03-05", "2049-03-UN", "1950-UN-UN", "1999-UN-UN"]
    assert ae["AESTTM"].tolist()[:1] + ae["AESTTM"].tolist()[2:] == ["07:05", "23:59", "10:00"]
    assert pd.isna(ae["AESTTM"].iloc[1])
    assert ae["AEENDT"].iloc[[0, 1, 3]].tolist() == ["2011-03-06", "2011-04-UN", "2011-UN-UN"]
    assert ae["AEENTM"].iloc[[0, 3]].tolist() == ["14:30:15", "00:00:00"]  # seconds kept as collected
    assert raw.frames["death"]["DTHDT"].tolist() == ["2012-06-04"]


def test_edc_bad_values_reported_with_file_row_column_all_at_once(tmp_path, edc_schema, study):
    folder = edc_extract(tmp_path / "raw",
                         pat={(1, "BRTHDT"): "1945-07-17", (2, "ICDT"): "31/12/2011", (3, "ICDT"): "02/29/2011"},
                         adverse={(1, "AESTDT"): "31-FEB-11", (2, "AESTDT"): "05-UNK-11", (3, "AESTTM"): "24:10",
                                  (4, "AESTTM"): "7:5", (1, "AEENDT"): "06-MAR-2011", (2, "AEENTM"): "14:30",
                                  (3, "PATNUM"): "12"},
                         death={(1, "DTHDT"): "04-JUNE-2012"})
    with pytest.raises(InputError) as info:
        read_raw(folder, edc_schema, study)
    got = [(*where(p), p.message) for p in info.value.problems]
    assert got == [
        ("adverse.csv", 1, "AESTDT", "impossible date '31-FEB-11'"),
        ("adverse.csv", 1, "AEENDT",
         "not a partial date '06-MAR-2011' (expected DDMMMYYYY, an unknown day or month as UN or UNK)"),
        ("adverse.csv", 2, "AESTDT", "not a partial date '05-UNK-11' (a known day needs a known month)"),
        ("adverse.csv", 2, "AEENTM", "not a time '14:30' (expected HH:MM:SS, 00:00:00-23:59:59)"),
        ("adverse.csv", 3, "AESTTM", "not a time '24:10' (expected H:MM, 00:00-23:59)"),
        ("adverse.csv", 3, "PATNUM", "subject '12' is not in pat"),
        ("adverse.csv", 4, "AESTTM", "not a time '7:5' (expected H:MM, 00:00-23:59)"),
        ("death.csv", 1, "DTHDT", "not a date '04-JUNE-2012' (expected DD-MMM-YYYY)"),
        ("pat.csv", 1, "BRTHDT", "not a date '1945-07-17' (expected DD-MMM-YY)"),
        ("pat.csv", 2, "ICDT", "impossible date '31/12/2011'"),
        ("pat.csv", 3, "ICDT", "impossible date '02/29/2011'"),
    ]


def test_sas_time_with_seconds_keeps_them(tmp_path, edc_schema, study):
    folder = edc_extract(tmp_path / "raw")
    (folder / "adverse.csv").unlink()
    sas = pd.DataFrame(EDC_GOOD["adverse"]).assign(AENUM=lambda d: d["AENUM"].astype(float),
                                                   AEENTM=[52215.0, np.nan, np.nan, 0.5])
    pyreadstat.write_xport(sas, str(folder / "adverse.xpt"))
    problem = only_problem(folder, edc_schema, study)
    assert where(problem) == ("adverse.xpt", 4, "AEENTM") and problem.message.startswith("not a SAS time 0.5")
    sas.loc[3, "AEENTM"] = 0.0
    pyreadstat.write_xport(sas, str(folder / "adverse.xpt"))
    assert read_raw(folder, edc_schema, study).frames["adverse"]["AEENTM"].iloc[[0, 3]].tolist() == [
        "14:30:15", "00:00:00"]  # 52215 s = 14 h 30 min 15 s


def test_value_set_the_study_does_not_have(tmp_path, edc_schema, study):
    folder = edc_extract(tmp_path / "raw")
    problem = only_problem(folder, edc_schema, study.model_copy(update={"sites": None}))
    assert (Path(problem.file).name, problem.key) == ("pat.yaml", "columns.SITE")
    assert problem.message == "allowed_from sites.id: the study configuration has no sites.id"


def test_sdtm_algorithms_follow_the_declared_subject_column(tmp_path, edc_schema, study):
    from submit.sdtm.algorithms import VARIABLE_ALGORITHMS, Exceptions, SourceContext

    raw = read_raw(edc_extract(tmp_path / "raw"), edc_schema, study)
    ae = raw.frames["adverse"]

    def run(name, **params):
        ctx = SourceContext("AE", "adverse", ae, raw.frames, study, Exceptions(), "X", subjects=raw.subjects)
        return VARIABLE_ALGORITHMS[name](ctx, **params).tolist()

    assert run("usubjid") == ["MT103-206-0012", "MT103-206-0012", "MT103-206-0013", "MT103-206-0013"]
    assert run("lookup", raw="pat", column="ARMCD") == ["A", "A", "B", "B"]
    assert run("flag_if_present", raw="death") == [None, None, "Y", "Y"]
    assert run("iso8601", date="AESTDT", time="AESTTM") == ["2011-03-05T07:05", "2049-03", "1950", "1999"]
    assert run("first_of", raw="adverse", date="AEENDT") == ["2011-03-06", "2011-03-06", "2011-UN-UN", "2011-UN-UN"]
    assert run("latest_of", dates=["pat.ICDT", "death.DTHDT"]) == ["2011-03-05", "2011-03-05", "2012-06-04", "2012-06-04"]
    assert run("seq_of", order=["AESTTM"]) == [1.0, 2.0, 2.0, 1.0]  # per patient: 07:05, none; 23:59 after 10:00


def test_edc_schema_errors_all_at_once(tmp_path):
    changes = {
        "pat": [("allowed_from: sites.id", "allowed_from: sites"),
                ("{name: ARMCD, type: text,", "{name: ARMCD, type: text, format: DD-MMM-YY,"),
                ("format: DD-MMM-YY, label: Birth", "format: DD-MON-YY, label: Birth"),
                ("format: MM/DD/YYYY,", "format: MM/DD/YYYY, yearcutoff: 1950,")],
        "adverse": [("yearcutoff: 1950", "yearcutoff: 50"), ("format: H:MM,", "format: HH.MM,")],
        "death": [("subject: PATNUM", "subject: PATID")],
    }
    folder = tmp_path / "schema"
    folder.mkdir()
    for name, text in EDC_SCHEMA.items():
        for old, new in changes[name]:
            assert old in text
            text = text.replace(old, new)
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_raw_schema(folder)
    got = {(Path(p.file.split(":")[0]).name, p.key, p.message) for p in info.value.problems}
    assert got == {
        ("adverse.yaml", "yearcutoff", "yearcutoff must be a year (1000-9900)"),
        ("adverse.yaml", "columns.AESTTM", "time format 'HH.MM' is not one of HH:MM, H:MM, HH:MM:SS, H:MM:SS"),
        ("death.yaml", "subject", "the subject column PATID is not among the columns (declare another with subject: NAME)"),
        ("pat.yaml", "columns.SITE", "allowed_from 'sites' must be a path into study.yaml, a list and a field of its "
                                     "items, e.g. sites.id"),
        ("pat.yaml", "columns.ARMCD", "format applies to date, partial_date and time columns only"),
        ("pat.yaml", "columns.BRTHDT", "date format 'DD-MON-YY' may hold only YYYY, YY, MMM, MM, M, DD, D and the "
                                       "separators - / . or a blank"),
        ("pat.yaml", "columns.ICDT", "yearcutoff applies to a date format with a two-digit year (YY) only"),
    }


def test_subject_column_must_be_required_text(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    for name, text in EDC_SCHEMA.items():
        (folder / f"{name}.yaml").write_text(
            text.replace("{name: PATNUM, type: text,", "{name: PATNUM, type: integer,") if name == "death" else text)
    with pytest.raises(InputError) as info:
        load_raw_schema(folder)
    assert [(Path(p.file).name, p.key) for p in info.value.problems] == [("death.yaml", "subject")]
    assert "must be a required text column" in info.value.problems[0].message
