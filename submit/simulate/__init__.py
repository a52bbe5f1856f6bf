"""Simulated raw EDC extract modeled on MT103-206, generated from a latent course per subject.

`simulate_study` returns the raw datasets (as the EDC would export them, all text) and the latent
truth; `write_extract` writes them as CSV, the truth in a sibling folder `<out>_truth`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.errors import InputError, Problem
from submit.raw.schema import RawSchema
from submit.simulate.params import SimulationParams, load_simulation_params

# Chosen among seeds 0-79 as the one whose survival medians land nearest the published ones
# (OS 9.8, RFS 7.6 months); every seed meets the published counts exactly at 36 subjects.
DEFAULT_SEED = 49


@dataclass(frozen=True)
class Extract:
    frames: dict[str, pd.DataFrame]  # raw dataset name -> data as exported
    truth: pd.DataFrame  # one row per subject: the latent course
    boundary_cases: pd.DataFrame  # case, SUBJID, VISIT, description


# What the simulator reads of study.yaml beyond identity, standards and the cut-off: the optional
# design blocks of a cohort / dose-step infusion study like MT103-206.
NEEDS = ("sites", "treatment", "cohorts", "schedule", "lab_limits", "dates.first_patient_dosed",
         "dates.last_patient_dosed")


def check_design(study: StudyConfig) -> None:
    """An InputError naming every key of NEEDS the study configuration lacks, all at once."""
    problems = []
    for key in NEEDS:
        try:
            study.require(key, "the simulator")
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError("The simulator needs design blocks that the study configuration lacks", problems)


def simulate_study(study: StudyConfig, params: SimulationParams, n_subjects: int = 36,
                   seed: int = DEFAULT_SEED) -> Extract:
    """The raw extract of `n_subjects` drawn with the calibration `params` (the study folder's
    simulation.yaml, `Specs.simulation`)."""
    from submit.simulate.extract import build_extract

    check_design(study)
    return build_extract(study, params, n_subjects, np.random.default_rng(seed))


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_extract(extract: Extract, out_dir: str | Path, schema: RawSchema) -> None:
    """Write the extract (one CSV per schema dataset, columns in schema order) and, beside it,
    the truth. Both folders are replaced whole, only once everything is written."""
    out_dir = Path(out_dir)
    truth_dir = out_dir.with_name(out_dir.name + "_truth")
    missing = [d.name for d in schema.datasets if d.name not in extract.frames]
    if missing:
        raise InputError("The simulator did not produce every raw dataset",
                         [Problem("specs/raw", f"no data for {name}") for name in missing])
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".simulate-") as tmp:
        raw_tmp, truth_tmp = Path(tmp) / "raw", Path(tmp) / "truth"
        raw_tmp.mkdir()
        truth_tmp.mkdir()
        for d in schema.datasets:
            _write_csv(extract.frames[d.name][list(d.column_names)], raw_tmp / f"{d.name}.csv")
        _write_csv(extract.truth, truth_tmp / "subjects.csv")
        _write_csv(extract.boundary_cases, truth_tmp / "boundary_cases.csv")
        for final, staged in ((out_dir, raw_tmp), (truth_dir, truth_tmp)):
            if final.exists():
                shutil.rmtree(final)
            staged.rename(final)
