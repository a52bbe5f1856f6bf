"""Declared corrections of a given SDTM package (submit/sdtm/corrections.py) on tiny frames: values
expected by hand from the SDTMIG study-day rule and the FDA study start date."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from submit.errors import InputError
from submit.project import Specs
from submit.sdtm.corrections import correct_sdtm
from submit.sdtm.package_input import InputDataset

from conftest import SPECS


@pytest.fixture(scope="module")
def study():
    return Specs(SPECS).study


def _datasets(tmp_path: Path) -> dict[str, InputDataset]:
    dm = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "ARMCD": ["A", "SCRNFAIL", "A"],
                       "RFICDTC": [None, None, None], "RFSTDTC": ["2020-01-10", None, "2020-01-05T08:00"]})
    eg = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S3"],
                       "EGDTC": ["2020-01-10T09:00", "2020-01-09", "2020-01", "2020-01-15"],
                       "EGDY": [1.0, 0.0, 5.0, 11.0]})
    ts = pd.DataFrame({"STUDYID": ["X"], "DOMAIN": ["TS"], "TSSEQ": [1.0], "TSPARMCD": ["TITLE"],
                       "TSPARM": ["Trial Title"], "TSVAL": ["A study"]})
    return {n: InputDataset(n, tmp_path / f"{n.lower()}.parquet", df, None) for n, df in
            (("DM", dm), ("EG", eg), ("TS", ts))}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sdtm_corrections.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_study_days_recomputed_and_listed(tmp_path, study):
    source = _write(tmp_path, "- {correction: study_day, domains: [EG], reason: vendor study days}\n")
    out, changed = correct_sdtm(_datasets(tmp_path), source, study, tmp_path / "qc" / "c.csv")
    # day 1 on RFSTDTC, -1 the day before (no day 0), none for a partial date, 11 days after Jan 5 = day 11
    assert out["EG"].data["EGDY"].tolist()[:2] == [1.0, -1.0] and pd.isna(out["EG"].data["EGDY"][2])
    assert out["EG"].data["EGDY"][3] == 11.0 and changed == {"EG"}
    report = pd.read_csv(tmp_path / "qc" / "c.csv")
    assert report[["dataset", "row", "variable", "before"]].values.tolist() == [["EG", 2, "EGDY", 0.0],
                                                                                 ["EG", 3, "EGDY", 5.0]]
    assert report["after"][0] == -1.0 and pd.isna(report["after"][1])
    assert (report["correction"] == "study_day").all() and report["file"].eq("eg.parquet").all()


def test_study_start_added_to_ts_from_dm(tmp_path, study):
    source = _write(tmp_path, "- {correction: ts_parameter, parmcd: SSTDTC, from: DM, reason: missing}\n")
    out, changed = correct_sdtm(_datasets(tmp_path), source, study, tmp_path / "c.csv")
    new = out["TS"].data.iloc[-1]
    # no consent dates: the earliest first treatment of an enrolled subject (S3, Jan 5; S2 screen failure)
    assert (new["TSPARMCD"], new["TSPARM"], new["TSVAL"], new["TSSEQ"]) == ("SSTDTC", "Study Start Date", "2020-01-05", 1.0)
    assert changed == {"TS"}
    report = pd.read_csv(tmp_path / "c.csv")
    assert set(report["row"]) == {2} and report["before"].isna().all()


def test_without_the_file_nothing_is_corrected(tmp_path, study):
    given = _datasets(tmp_path)
    out, changed = correct_sdtm(given, tmp_path / "absent.yaml", study, tmp_path / "c.csv")
    assert changed == set() and out["EG"].data is given["EG"].data
    assert pd.read_csv(tmp_path / "c.csv").empty


def test_bad_declarations_all_reported(tmp_path, study):
    source = _write(tmp_path, "- {correction: recode, reason: x}\n"
                              "- {correction: study_day, domains: EG}\n"
                              "- {correction: ts_parameter, parmcd: TITLE, from: TS, reason: x}\n")
    with pytest.raises(InputError) as err:
        correct_sdtm(_datasets(tmp_path), source, study, tmp_path / "c.csv")
    text = " ".join(p.message for p in err.value.problems)
    for expected in ("'recode'", "reason is required", "domains must be a list", "parmcd must be", "from must be DM"):
        assert expected in text
