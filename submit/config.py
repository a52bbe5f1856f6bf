"""The study configuration (`study.yaml` of a study folder) as a typed, validated, read-only object.

Every study declares its identity (`study`), `standards` and `dates`. The rest are optional, named
design blocks that only some studies have: `sites`, and the cohort / dose-step / infusion design
of a continuous-infusion study (`treatment`, `cohorts`, `schedule`, `lab_limits`). They stay
top-level keys rather than children of one `design:` key: each is already a distinct, closed name,
and their dotted keys (`cohorts.1`, `treatment.infusion_days`) are what errors and specs name. A
block is validated as a whole when present; what needs one asks for it with `require`, which
names study.yaml and the missing key. Unknown keys are refused at every level (a typo must not pass).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from submit.errors import InputError, Problem
from submit.yaml_load import load_yaml


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Text = Annotated[str, Field(min_length=1)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # ISO 3166-1 alpha-3


class StudyInfo(_Frozen):
    """Identity: what TS and every page header need (STUDYID, TITLE, SPONSOR, TPHASE) is required;
    a study need not be registered (phase 1 in healthy volunteers) nor have one drug or country."""

    id: Annotated[str, Field(min_length=1, max_length=20)]  # STUDYID
    title: Text
    sponsor: Text
    phase: Text
    short_title: Text | None = None
    registry_id: Text | None = None
    indication: Text | None = None
    drug: Text | None = None
    country: Country | None = None


class Site(_Frozen):
    id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,8}$")]
    name: str
    country: Country


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
    armcd: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,20}$")]  # SDTM ARMCD: up to 20, e.g. Pbo, Xan_Lo
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
    data_cutoff: dt.date
    build_date: dt.date
    first_patient_dosed: dt.date | None = None
    last_patient_dosed: dt.date | None = None

    @model_validator(mode="after")
    def _order(self) -> "StudyDates":
        given = [(name, getattr(self, name)) for name in ("first_patient_dosed", "last_patient_dosed", "data_cutoff")
                 if getattr(self, name) is not None]
        if any(a > b for (_, a), (_, b) in zip(given, given[1:])) or (
                self.last_patient_dosed is not None and self.last_patient_dosed == self.data_cutoff):
            raise ValueError(f"expected {' <= '.join(n for n, _ in given)} (last patient dosed before the cut-off)")
        return self


class Standards(_Frozen):
    sdtmig: Text
    define_xml: Text
    ct: Text  # CDISC CT package date, e.g. 2025-03-28
    adamig: Text | None = None  # a study with SDTM alone has none
    meddra: Text | None = None
    ctcae: Text | None = None


class StudyConfig(_Frozen):
    study: StudyInfo
    standards: Standards
    dates: StudyDates
    # Optional, named design blocks (see the module docstring).
    sites: Annotated[tuple[Site, ...], Field(min_length=1)] | None = None
    treatment: Treatment | None = None
    cohorts: Annotated[tuple[Cohort, ...], Field(min_length=1)] | None = None
    schedule: Schedule | None = None
    lab_limits: LabLimits | None = None
    _source: str = PrivateAttr(default="study.yaml")  # the file, for errors

    @model_validator(mode="after")
    def _unique(self) -> "StudyConfig":
        for what, codes in (("sites", [s.id for s in self.sites or ()]),
                            ("cohorts", [c.code for c in self.cohorts or ()]),
                            ("cohorts", [c.armcd for c in self.cohorts or ()])):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"{what}: duplicate codes {dupes}")
        return self

    def require(self, key: str, needed_by: str):
        """The value at the dotted `key` (e.g. `cohorts`, `treatment.infusion_days`); an InputError
        naming study.yaml, the key and `needed_by` when the study does not have it."""
        value, path = self, []
        for part in key.split("."):
            path.append(part)
            where = ".".join(path)
            if not isinstance(value, BaseModel) or part not in type(value).model_fields:
                raise InputError(f"{needed_by}: {key!r} is not a key of the study configuration",
                                 [Problem(self._source, f"no such key (asked for by {needed_by})", key=where)])
            value = getattr(value, part)
            if value is None:
                raise InputError(f"{needed_by} needs {where!r} of the study configuration, which the study lacks",
                                 [Problem(self._source, f"missing: {needed_by} asks for it", key=where)])
        return value

    def cohort(self, code: str) -> Cohort:
        return next(c for c in self.require("cohorts", "StudyConfig.cohort") if c.code == code)

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
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError("Study configuration is not valid YAML", [Problem(str(path), str(exc))]) from None
    try:
        config = StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"Study configuration {path} is invalid",
                         [_problem(path, err) for err in exc.errors()]) from None
    config._source = str(path)
    return config


def _problem(path: Path, err: dict) -> Problem:
    key = ".".join(str(part) for part in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
        return Problem(str(path), f"unknown key (known: {', '.join(StudyConfig.model_fields)})", key=key)
    return Problem(str(path), f"{err['msg']} (got {err.get('input')!r})", key=key)
