"""Where a study's specs live, and loading them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from submit.config import StudyConfig, load_study_config
from submit.raw.schema import RawSchema, load_raw_schema

REPO_SPECS = Path(__file__).resolve().parent.parent / "specs"


def default_specs_dir() -> Path:
    """`$SUBMIT_SPECS`, else `./specs` when the current folder has one, else the repository's."""
    if os.environ.get("SUBMIT_SPECS"):
        return Path(os.environ["SUBMIT_SPECS"])
    local = Path.cwd() / "specs"
    return local if (local / "study.yaml").is_file() else REPO_SPECS


@dataclass(frozen=True)
class Specs:
    folder: Path

    @cached_property
    def study(self) -> StudyConfig:
        return load_study_config(self.folder / "study.yaml")

    @cached_property
    def raw_schema(self) -> RawSchema:
        return load_raw_schema(self.folder / "raw")
