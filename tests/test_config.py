"""Study configuration and raw schema: loaded into read-only objects; errors name file, key or line."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import SPECS
from submit.config import load_study_config
from submit.errors import InputError
from submit.raw.schema import load_raw_schema


def test_study_configuration_loads_typed(study):
    assert study.study.id == "MT103-206"
    assert [c.planned_n for c in study.cohorts] == [7, 5, 6, 18]
    assert [s.dose for s in study.cohort("2b").cycle1] == [5, 15, 30]
    assert study.treatment.cycle_days == 42
    assert str(study.dates.data_cutoff) == "2012-10-15"
    with pytest.raises(Exception):
        study.study.id = "X"  # read-only


def _write(tmp_path, data):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_errors_name_the_file_and_every_bad_key(tmp_path):
    data = yaml.safe_load((SPECS / "study.yaml").read_text())
    data["cohorts"][1]["cycle1"] = [{"start": 8, "dose": 15}]  # must start on day 1
    data["dates"]["data_cutoff"] = "2012-02-30"  # impossible date
    data["treatment"]["infusion_days"] = "four weeks"
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as err:
        load_study_config(path)
    text = str(err.value)
    assert str(path) in text
    keys = {p.key for p in err.value.problems}
    assert {"cohorts.1", "dates.data_cutoff", "treatment.infusion_days"} <= keys
    assert "day 1" in text


def test_unknown_key_and_missing_file(tmp_path):
    data = yaml.safe_load((SPECS / "study.yaml").read_text())
    data["study"]["sponsr"] = "typo"
    with pytest.raises(InputError) as err:
        load_study_config(_write(tmp_path, data))
    assert [p.key for p in err.value.problems] == ["study.sponsr"]
    with pytest.raises(InputError, match="does not exist"):
        load_study_config(tmp_path / "nowhere.yaml")


def test_raw_schema_lists_the_documented_datasets(schema):
    assert len(schema.names) == 18 and schema.subject_master.name == "dm"
    assert schema["ae"].keys == ("SUBJID", "AESPID")
    assert schema["ae"].column("AESTDT").type == "partial_date"


def _schema_problems(tmp_path, edits: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The problems of a copy of the raw schema with the given text replacements per file."""
    folder = tmp_path / "raw"
    shutil.copytree(SPECS / "raw", folder)
    for name, replacements in edits.items():
        text = (folder / name).read_text()
        for old, new in replacements:
            assert old in text
            text = text.replace(old, new)
        (folder / name).write_text(text)
    with pytest.raises(InputError) as err:
        load_raw_schema(folder)
    return [str(p) for p in err.value.problems]


def test_raw_schema_errors_all_at_once_with_file_and_line(tmp_path):
    messages = _schema_problems(tmp_path, {
        "ae.yaml": [("{name: AETERM, type: text,", "{name: AETERM, type: txt,"),
                    ("keys: [SUBJID, AESPID]", "keys: [SUBJID, AENUM]")],
        "dm.yaml": [("name: SEX,", "name: SEX_OF_SUBJECT,")]})
    assert any("ae.yaml:" in m and "AETERM" in m and "type 'txt'" in m for m in messages)
    assert any("ae.yaml" in m and "AENUM" in m for m in messages)
    assert any("dm.yaml:" in m and "SEX_OF_SUBJECT" in m for m in messages)


def test_raw_schema_rejects_properties_that_do_not_fit_the_type(tmp_path):
    messages = " | ".join(_schema_problems(tmp_path, {"death.yaml": [
        ("{name: DTHDT, type: date, required: true,", "{name: DTHDT, type: date, required: true, min: 1,"),
        ("{name: SUBJID, type: text, required: true,", "{name: SUBJID, type: text, required: false,")]}))
    assert "min needs a number on an integer or float column" in messages
    assert "key column SUBJID must be required" in messages
