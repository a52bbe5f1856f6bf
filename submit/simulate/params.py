"""Parameters of the simulated study (`specs/simulation.yaml`), validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from submit.errors import InputError, Problem
from submit.yaml_load import load_yaml


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Survival(_Model):
    relapse_median: float
    relapse_median_after_hsct: float
    death_without_relapse_median: float
    transplant_death_median: float
    death_after_relapse_median: float
    nonresponder_death_median: float
    dropout_rate_per_year: float
    retreatment_of_relapsed: float
    salvage_of_nonresponders: float


class Demographics(_Model):
    age_median: float
    age_range: tuple[int, int]
    male: float
    prior_hsct: dict[str, int]
    salvage_lines: dict[int, float]
    screening_blasts_median: float


class LabUnits(_Model):
    sites: tuple[int, ...]
    PLATELETS: str
    ANC: str
    WBC: str
    HEMOGLOBIN: str


class PK(_Model):
    clearance_median: float
    clearance_cv: float
    half_life_hours: float
    residual_cv: float


class Cytokines(_Model):
    peak: dict[str, float]
    low_start_factor: float
    escalation_factor: float
    later_cycle_factor: float
    later_cycle_il10_factor: float
    profile: tuple[float, ...]
    sd_log: float


class AdverseEvent(_Model):
    pt: str
    soc: str
    verbatim: tuple[str, ...]
    p: float
    onset: str  # early: first days of a cycle; treatment: any infusion day; any: up to 45 days after
    grade: tuple[float, float, float, float, float]
    serious: float
    rel: tuple[float, float, float, float, float]
    days: float


class SimulationParams(_Model):
    best_response: dict[str, int]
    first_remission_in_cycle_1: float
    mrd_response_of_responders: dict[str, int]
    immediate_hsct_of_responders: dict[str, int]
    nr_stop_after_cycle_1: float
    responder_cycles: dict[int, float]
    hsct_cycles: dict[int, float]
    hsct_gap_days: tuple[int, int]
    survival: Survival
    demographics: Demographics
    site_weights: tuple[float, ...]
    lab_units: tuple[LabUnits, ...]
    pk: PK
    cytokines: Cytokines
    adverse_events: tuple[AdverseEvent, ...]
    pre_treatment_ae: dict[str, Any]
    partial_ae_start: dict[str, float]
    partial_ae_end: dict[str, float]


def load_simulation_params(path: str | Path) -> SimulationParams:
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
        return SimulationParams.model_validate(data)
    except FileNotFoundError:
        raise InputError("Simulation parameters not found", [Problem(str(path), "file does not exist")]) from None
    except yaml.YAMLError as exc:
        raise InputError("Simulation parameters are not valid YAML", [Problem(str(path), str(exc))]) from None
    except ValidationError as exc:
        raise InputError(f"Simulation parameters {path} are invalid", [
            Problem(str(path), err["msg"], key=".".join(map(str, err["loc"]))) for err in exc.errors()
        ]) from None
