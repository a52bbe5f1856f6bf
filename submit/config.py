"""The study configuration (`specs/study.yaml`) as a typed, validated, read-only object."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from submit.errors import InputError, Problem


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StudyInfo(_Frozen):
    id: Annotated[str, Field(min_length=1, max_length=20)]
    title: str
    short_title: str
    registry_id: str
    sponsor: str
    phase: str
    indication: str
    drug: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Site(_Frozen):
    id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,8}$")]
    name: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class DoseStep(_Frozen):
    start: Annotated[int, Field(ge=1)]
    dose: Annotated[float, Field(gt=0)]


def _check_steps(steps: tuple[DoseStep, ...], name: str) -> None:
    starts = [s.start for s in steps]
    if not steps or starts[0] != 1:
        raise ValueError(f"{name}: the first dose step must start on day 1")
    if starts != sorted(set(starts)):
        raise ValueError(f"{name}: dose step start days must increase")


class Cohort(_Frozen):
    code: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,4}$")]
    armcd: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,19}$")]  # SDTM ARMCD
    label: str
    planned_n: Annotated[int, Field(ge=1)]
    cycle1: tuple[DoseStep, ...]
    later: tuple[DoseStep, ...]

    @model_validator(mode="after")
    def _steps(self) -> "Cohort":
        _check_steps(self.cycle1, "cycle1")
        _check_steps(self.later, "later")
        return self


class Treatment(_Frozen):
    dose_unit: str
    infusion_days: Annotated[int, Field(ge=1)]
    treatment_free_days: Annotated[int, Field(ge=0)]
    max_core_cycles: Annotated[int, Field(ge=1)]
    core_study_weeks: Annotated[int, Field(ge=1)]

    @property
    def cycle_days(self) -> int:
        return self.infusion_days + self.treatment_free_days


class Schedule(_Frozen):
    screening_window_days: Annotated[int, Field(ge=1)]
    hematology_days: tuple[int, ...]
    bone_marrow_day: Annotated[int, Field(ge=1)]
    pk_cycles: tuple[int, ...]
    pk_days: tuple[int, ...]
    pk_hours_after_step: tuple[float, ...]
    cytokine_hours_after_step: tuple[float, ...]
    follow_up_interval_days: Annotated[int, Field(ge=1)]
    ae_follow_up_days: Annotated[int, Field(ge=0)]


class AssayLimits(_Frozen):
    lod: Annotated[float, Field(gt=0)]
    lloq: Annotated[float, Field(gt=0)]
    unit: str

    @model_validator(mode="after")
    def _order(self) -> "AssayLimits":
        if self.lod > self.lloq:
            raise ValueError("lod must not exceed lloq")
        return self


class LabLimits(_Frozen):
    pk: AssayLimits
    cytokine: AssayLimits
    mrd_response_below: Annotated[float, Field(gt=0, lt=1)]


class StudyDates(_Frozen):
    first_patient_dosed: dt.date
    last_patient_dosed: dt.date
    data_cutoff: dt.date
    build_date: dt.date

    @model_validator(mode="after")
    def _order(self) -> "StudyDates":
        if not self.first_patient_dosed <= self.last_patient_dosed < self.data_cutoff:
            raise ValueError("expected first_patient_dosed <= last_patient_dosed < data_cutoff")
        return self


class Standards(_Frozen):
    sdtmig: str
    adamig: str
    define_xml: str
    ct: str
    meddra: str
    ctcae: str


class StudyConfig(_Frozen):
    study: StudyInfo
    sites: tuple[Site, ...]
    treatment: Treatment
    cohorts: tuple[Cohort, ...]
    schedule: Schedule
    lab_limits: LabLimits
    dates: StudyDates
    standards: Standards

    @model_validator(mode="after")
    def _unique(self) -> "StudyConfig":
        for what, codes in (("sites", [s.id for s in self.sites]),
                            ("cohorts", [c.code for c in self.cohorts])):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"{what}: duplicate codes {dupes}")
        return self

    def cohort(self, code: str) -> Cohort:
        return next(c for c in self.cohorts if c.code == code)

    def with_build_date(self, build_date: dt.date | None) -> "StudyConfig":
        if build_date is None:
            return self
        return self.model_copy(update={"dates": self.dates.model_copy(update={"build_date": build_date})})


def load_study_config(path: str | Path) -> StudyConfig:
    """Read and validate a study configuration; every problem is reported at once."""
    path = Path(path)
    if not path.is_file():
        raise InputError("Study configuration not found", [Problem(str(path), "file does not exist")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError("Study configuration is not valid YAML", [Problem(str(path), str(exc))]) from None
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(str(path), f"{err['msg']} (got {err.get('input')!r})",
                    key=".".join(str(part) for part in err["loc"]) or "(top level)")
            for err in exc.errors()
        ]
        raise InputError(f"Study configuration {path} is invalid", problems) from None
