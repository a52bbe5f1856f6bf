"""Study configuration and raw schema: loaded into read-only objects; errors name file, key or line."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from conftest import SPECS
from submit.adam.build import build_adam
from submit.adam.context import AdamContext
from submit.adam.registry import DERIVATIONS
from submit.config import load_study_config
from submit.errors import InputError
from submit.raw.schema import load_raw_schema
from submit.sdtm.algorithms import Exceptions, SourceContext, site_attribute
from submit.simulate import simulate_study

# The smallest study configuration: identity, standards and dates, no design block.
MINIMAL = {
    "study": {"id": "XYZ-001", "title": "A placebo-controlled study of X", "sponsor": "Example Pharma",
              "phase": "PHASE III TRIAL"},
    "standards": {"sdtmig": "3.4", "define_xml": "2.1", "ct": "2025-03-28"},
    "dates": {"data_cutoff": "2024-03-31", "build_date": "2024-04-15"},
}
DESIGN_BLOCKS = ("sites", "treatment", "cohorts", "schedule", "lab_limits")


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


def test_a_study_of_identity_standards_and_dates_alone_loads(tmp_path):
    study = load_study_config(_write(tmp_path, MINIMAL))
    assert study.study.id == "XYZ-001" and study.standards.adamig is None and study.dates.first_patient_dosed is None
    assert all(getattr(study, block) is None for block in DESIGN_BLOCKS)
    for required in ("title", "sponsor", "phase"):  # what TS and every page header need
        data = yaml.safe_load(yaml.safe_dump(MINIMAL))
        del data["study"][required]
        with pytest.raises(InputError) as err:
            load_study_config(_write(tmp_path, data))
        assert [p.key for p in err.value.problems] == [f"study.{required}"]


def _cohort(armcd: str, code: str = "A") -> dict:
    return {"code": code, "armcd": armcd, "label": f"Arm {armcd}", "planned_n": 10,
            "cycle1": [{"start": 1, "dose": 5}], "later": [{"start": 1, "dose": 5}]}


def test_arm_codes_follow_cdisc_not_an_upper_case_pattern(tmp_path):
    data = {**MINIMAL, "cohorts": [_cohort("Pbo", "P"), _cohort("Xan_Lo", "L"), _cohort("X" * 20, "H")]}
    assert [c.armcd for c in load_study_config(_write(tmp_path, data)).cohorts] == ["Pbo", "Xan_Lo", "X" * 20]
    data["cohorts"] += [_cohort("Xan-Hi", "H2"), _cohort("X" * 21, "H3")]
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as err:
        load_study_config(path)
    assert [p.key for p in err.value.problems] == ["cohorts.3.armcd", "cohorts.4.armcd"]
    assert all(p.file == str(path) for p in err.value.problems)


def test_an_unknown_top_level_key_is_refused_with_the_known_ones(tmp_path):
    path = _write(tmp_path, {**MINIMAL, "cohort": [_cohort("Pbo")]})  # typo of cohorts
    with pytest.raises(InputError) as err:
        load_study_config(path)
    (problem,) = err.value.problems
    assert (problem.file, problem.key) == (str(path), "cohort") and "cohorts" in problem.message


def test_dates_of_first_and_last_dosing_are_optional_but_ordered(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(MINIMAL))
    data["dates"] |= {"first_patient_dosed": "2023-01-10", "last_patient_dosed": "2023-01-09"}
    with pytest.raises(InputError, match="first_patient_dosed <= last_patient_dosed"):
        load_study_config(_write(tmp_path, data))
    data["dates"] |= {"last_patient_dosed": "2024-03-31"}  # the day of the cut-off: nothing left to observe
    with pytest.raises(InputError):
        load_study_config(_write(tmp_path, data))


@pytest.fixture
def minimal(tmp_path):
    return load_study_config(_write(tmp_path, MINIMAL))


def test_a_derivation_asking_for_an_absent_block_names_the_step_and_the_key(default_sdtm, study, tmp_path):
    # The default study's ADaM specs on its SDTM, with a study.yaml that has no cohorts.
    data = yaml.safe_load((SPECS / "study.yaml").read_text())
    del data["cohorts"]
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as err:
        build_adam(SPECS / "adam", default_sdtm[0].domains, load_study_config(path), tmp_path / "out")
    step = err.value.summary.split(": ")[0]
    assert step.rsplit(":", 1)[0].endswith(".yaml") and "/derivations/" in step  # file:line of the pipeline step
    (problem,) = err.value.problems
    assert (problem.file, problem.key) == (str(path), "cohorts")


def test_a_dose_plan_must_name_a_dose_step_block(study):
    ctx = AdamContext(sdtm={}, study=study, adam={"ADSL": pd.DataFrame({"USUBJID": ["S1"], "ACTARMCD": ["COH1"]})})
    df = pd.DataFrame({"USUBJID": ["S1"], "NRRLT": [0.0], "APHASE": ["P"], "ACYCLE": [1.0], "DOSESTPN": [1.0]})
    with pytest.raises(InputError) as err:
        DERIVATIONS["derive_vars_nominal_times"](df, ctx, from_step="NSRLT", dose_plan="schedule")
    assert err.value.problems[0].key == "dose_plan" and "cohorts" in err.value.summary
    out = DERIVATIONS["derive_vars_nominal_times"](df, ctx, from_step="NSRLT", dose_plan="cohorts")
    assert out.NSRLT.tolist() == [0.0]


def test_sdtm_site_attribute_needs_the_sites_block(minimal):
    rows = pd.DataFrame({"SUBJID": ["1"], "SITEID": ["101"]})
    ctx = SourceContext("DM", "dm", rows, {"cohort": pd.DataFrame({"SUBJID": ["1"], "COHORT": ["A"]})}, minimal,
                        Exceptions(), "ARMCD")
    for algorithm, params, key in ((site_attribute, {"attribute": "country"}, "sites"),):
        with pytest.raises(InputError) as err:
            algorithm(ctx, **params)
        assert [p.key for p in err.value.problems] == [key] and "DM.ARMCD" in err.value.summary


def test_the_simulator_names_every_block_it_lacks(minimal, simulation):
    with pytest.raises(InputError) as err:
        simulate_study(minimal, simulation, n_subjects=2)
    assert [p.key for p in err.value.problems] == [*DESIGN_BLOCKS, "dates.first_patient_dosed",
                                                    "dates.last_patient_dosed"]


def test_derivation_values_agree_with_the_default_studys_design(study):
    """The analysis values the default study's derivations state (AE window, assay limits, cytokine
    hours, cycle length) are those of the protocol design its study.yaml (and simulator) holds."""
    steps = {}
    for name in ("adae", "adlb", "adpc", "adex"):
        for step in yaml.safe_load((SPECS / "adam" / "derivations" / f"{name}.yaml").read_text())["steps"]:
            (derivation, params), = step.items()
            steps.setdefault((name, derivation), []).append(params)
    assert steps["adae", "derive_vars_trtemfl"][0]["end_window_days"] == study.schedule.ae_follow_up_days
    for name, assay in (("adlb", study.lab_limits.cytokine), ("adpc", study.lab_limits.pk)):
        assert steps[name, "derive_vars_blq"][0]["limits"] == {"lod": assay.lod, "lloq": assay.lloq}
        assert steps[name, "derive_vars_infusion_timing"][0]["cycle_days"] == study.treatment.cycle_days
    assert steps["adlb", "derive_vars_step_timepoints"][0]["hours"] == list(study.schedule.cytokine_hours_after_step)
    assert steps["adex", "derive_param_exposure"][0]["infusion_days"] == study.treatment.infusion_days
