"""Where a study's specs live, loading them, and where its package goes.

A study is a folder of specs (`specs/<study>/study.yaml` and the rest). Which folder a command
uses: `--specs DIR`, else `$SUBMIT_SPECS`, else `./study.yaml` when the current folder is a study
folder, else the `default` named in `specs/studies.yaml` of the current folder or of the
repository this package runs from (or, installed from a wheel, of the specs it ships).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from submit.config import StudyConfig, load_study_config
from submit.errors import InputError, Problem
from submit.raw.schema import RawSchema, load_raw_schema
from submit.shipped import shipped_path
from submit.yaml_load import load_yaml

REPO_SPECS = shipped_path("specs")
STUDIES_FILE = "studies.yaml"


def default_specs_dir() -> Path:
    if os.environ.get("SUBMIT_SPECS"):
        return Path(os.environ["SUBMIT_SPECS"])
    if (Path.cwd() / "study.yaml").is_file():
        return Path.cwd()
    for root in (Path.cwd() / "specs", REPO_SPECS):
        index = root / STUDIES_FILE
        if index.is_file():
            try:
                name = (load_yaml(index.read_text(encoding="utf-8")) or {}).get("default")
            except (yaml.YAMLError, AttributeError) as exc:
                raise InputError("Study index is invalid", [Problem(str(index), str(exc))]) from None
            if not name:
                raise InputError("Study index names no default study", [Problem(str(index), "no `default`",
                                                                                 key="default")])
            return root / str(name)
    raise InputError("No study specs found", [Problem(str(Path.cwd()), "give --specs DIR (a folder with study.yaml) "
                                                                        "or set $SUBMIT_SPECS")])


def package_dirs(study_id: str) -> tuple[Path, Path]:
    """The SDTM and ADaM folders of a package, relative to its root (FDA eCTD module 5 layout)."""
    base = Path("m5/datasets") / study_id.lower()
    return base / "tabulations" / "sdtm", base / "analysis" / "adam" / "datasets"


def sdtm_dir(study: StudyConfig) -> Path:
    return package_dirs(study.study.id)[0]


def adam_dir(study: StudyConfig) -> Path:
    return package_dirs(study.study.id)[1]


@dataclass(frozen=True)
class Specs:
    folder: Path

    @cached_property
    def study(self) -> StudyConfig:
        return load_study_config(self.folder / "study.yaml")

    @cached_property
    def raw_schema(self) -> RawSchema:
        return load_raw_schema(self.folder / "raw")

    @property
    def simulation_file(self) -> Path:
        """The simulator's calibration; only a simulated study has one."""
        return self.folder / "simulation.yaml"

    @property
    def has_simulator(self) -> bool:
        return self.simulation_file.is_file()

    def has_specs(self, part: str) -> bool:
        """Whether the study has the specs of a stage (`sdtm`, `adam`, `tlf`): its folder exists.
        A build runs only the stages whose specs the study has."""
        return (self.folder / part).is_dir()

    @cached_property
    def simulation(self):
        """The simulator's parameters (`simulation.yaml`); an InputError when the study has none."""
        from submit.simulate.params import load_simulation_params  # noqa: PLC0415 (simulated studies only)

        return load_simulation_params(self.simulation_file)
