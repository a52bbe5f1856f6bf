"""MT103-206's trial design tables, written once into its study folder (`trial_design/TE.csv`,
`TA.csv`, `TV.csv`) from the cohorts, infusion cycles and assessment schedule of its study.yaml.

The SDTM stage never runs this: it reads the tables, as it would read any sponsor's. This helper
only saves typing a few hundred rows of a regular design by hand (and a test checks the committed
tables are what it writes). Run it again after changing the design in study.yaml:

    python -m submit.simulate.design_tables [--specs specs/mt103-206]

The design: screening; per cycle one infusion element per dose step (one element per dose level:
the same infusion at 15 ug/m2/day is one element whether it is the first step or the whole cycle)
then the treatment-free interval; follow-up; retreatment cycles built like the core cycles (the
first retreatment cycle takes the first cycle's dose steps); final follow-up. Planning columns of
TA (`_PHASE`, `_CYCLE`, `_STEP`: the infusion log's PHASE, CYCLE and STEP of each planned element)
let SE find the planned element of each infusion record; `_CODE` of TV is the EDC visit code.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from submit.config import StudyConfig, load_study_config
from submit.errors import InputError, Problem
from submit.shipped import shipped_path

SCREEN, REST, FOLLOW = "SCRN", "TFI", "FU"
CORE, RETREAT = "CORE", "RETREATMENT"  # raw infusion PHASE values
EPOCHS = {"screening": "SCREENING", CORE: "TREATMENT", RETREAT: "RETREATMENT", "follow-up": "FOLLOW-UP"}
PHASE_NAMES = {CORE: "core study", RETREAT: "retreatment"}
CONFIG = "study.yaml"
FOLDER = "trial_design"


def _num(x: float) -> str:
    """A dose or day as written in a protocol: 15.0 -> '15', 7.5 -> '7.5'."""
    return f"{x:g}"


def element_code(study: StudyConfig, dose) -> str:
    """ETCD of the infusion at one dose level: the drug's first 4 letters and the dose (BLIN15)."""
    code = study.study.drug[:4].upper() + _num(float(dose))
    if len(code) > 8:
        raise InputError("Trial elements", [Problem(CONFIG, f"element code {code} is longer than 8 characters",
                                                     key="cohorts")])
    return code


def doses(study: StudyConfig) -> list[float]:
    """Every dose level of every cohort's dose steps, ascending."""
    return sorted({s.dose for c in study.cohorts for s in (*c.cycle1, *c.later)})


def trial_elements(study: StudyConfig) -> pd.DataFrame:
    """TE: screening, one infusion element per dose level, treatment-free interval, follow-up."""
    t, drug, unit = study.treatment, study.study.drug, study.treatment.dose_unit
    rows = [{"ETCD": SCREEN, "ELEMENT": "Screening", "TESTRL": "Informed consent",
             "TEENRL": f"Start of the first {drug} infusion (screening assessments within "
                       f"{study.schedule.screening_window_days} days before it)", "TEDUR": None}]
    rows += [{"ETCD": element_code(study, d), "ELEMENT": f"{drug.capitalize()} {_num(d)} {unit}",
              "TESTRL": f"Start of the continuous intravenous infusion of {drug} at {_num(d)} {unit}",
              "TEENRL": f"Start of the next dose step, or end of the {t.infusion_days}-day infusion period "
                        f"of the cycle (or earlier end of the infusion)", "TEDUR": None} for d in doses(study)]
    rows += [{"ETCD": REST, "ELEMENT": "Treatment-free interval",
              "TESTRL": f"End of the {drug} infusion period of a cycle",
              "TEENRL": f"Start of the next cycle's infusion, or {t.treatment_free_days} days after the end "
                        "of the infusion", "TEDUR": f"P{t.treatment_free_days}D"},
             {"ETCD": FOLLOW, "ELEMENT": "Follow-up",
              "TESTRL": "End of the treatment-free interval after the last cycle of the core study or of "
                        "retreatment",
              "TEENRL": "Start of retreatment, or end of participation (death, withdrawal, loss to follow-up "
                        "or data cut-off)", "TEDUR": None}]
    return pd.DataFrame(rows)


def trial_arms(study: StudyConfig) -> pd.DataFrame:
    """TA: the longest path of each cohort's arm, with the planned phase, cycle and step of every
    infusion element in the planning columns _PHASE, _CYCLE, _STEP (treatment-free interval: phase
    and cycle; follow-up: phase; screening: none) for SE.

    Path: screening; core cycles 1..max_core_cycles, each its dose-step infusion elements then the
    treatment-free interval; follow-up; retreatment cycles alike; final follow-up. Shorter paths are
    transitions (TATRANS): an infusion stopped before its next dose step goes to the cycle's
    treatment-free interval, no further cycle goes to follow-up, no retreatment stays in follow-up."""
    names = trial_elements(study).set_index("ETCD").ELEMENT
    n = study.treatment.max_core_cycles
    out = []
    for c in study.cohorts:
        rows: list[dict] = [{"ETCD": SCREEN, "EPOCH": EPOCHS["screening"], "TABRANCH": f"Assigned to {c.label}",
                             "_PHASE": None, "_CYCLE": None, "_STEP": None, "_KEY": (None, None, SCREEN)}]
        for phase in (CORE, RETREAT):
            for cycle in range(1, n + 1):
                steps = c.cycle1 if cycle == 1 else c.later
                for i, s in enumerate(steps):
                    nxt = steps[i + 1] if i + 1 < len(steps) else None
                    rows.append({"ETCD": element_code(study, s.dose), "EPOCH": EPOCHS[phase], "_PHASE": phase,
                                 "_CYCLE": cycle, "_STEP": i + 1, "_KEY": (phase, cycle, str(i + 1)),
                                 "_TO": (phase, cycle, REST) if nxt else None,
                                 "_RULE": f"If the infusion ends before day {nxt.start} of the cycle, go to the "
                                          "treatment-free interval" if nxt else None})
                last = cycle == n
                rows.append({"ETCD": REST, "EPOCH": EPOCHS[phase], "_PHASE": phase, "_CYCLE": cycle, "_STEP": None,
                             "_KEY": (phase, cycle, REST), "_TO": None if last else (phase, None, FOLLOW),
                             "_RULE": None if last else "If no further cycle is given (no response, relapse, "
                                                        "transplant, toxicity or other reason), go to follow-up"})
            rows.append({"ETCD": FOLLOW, "EPOCH": EPOCHS["follow-up"], "_PHASE": phase, "_CYCLE": None,
                         "_STEP": None, "_KEY": (phase, None, FOLLOW), "_TO": None,
                         "_RULE": "If no retreatment is given (no haematological relapse after response), stay in "
                                  "follow-up until the end of the study" if phase == CORE else None})
        arm = pd.DataFrame(rows).astype(object)
        arm = arm.where(arm.notna(), None)
        arm.insert(0, "ARMCD", c.armcd)
        arm.insert(1, "ARM", c.label)
        arm.insert(2, "TAETORD", np.arange(1, len(arm) + 1))
        # the TAETORD each transition rule leads to (a few dozen planned elements per arm)
        order = dict(zip(arm._KEY, arm.TAETORD))
        target = [order.get(k) if k is not None else None for k in arm._TO]
        arm["TATRANS"] = [None if rule is None else rule if t is None else f"{rule} (TAETORD = {t:g})"
                          for rule, t in zip(arm._RULE, target)]
        out.append(arm)
    ta = pd.concat(out, ignore_index=True)
    ta["ELEMENT"] = ta.ETCD.map(names)
    return ta[["ARMCD", "ARM", "TAETORD", "ETCD", "ELEMENT", "TABRANCH", "TATRANS", "EPOCH",
               "_PHASE", "_CYCLE", "_STEP"]]


def visit_days(study: StudyConfig) -> list[int]:
    """Planned visit days of every infusion cycle: the hematology days, the bone marrow day, the PK
    days and the days of the PK samples timed after the start of each cohort's dose steps."""
    sched = study.schedule
    after_steps = {step.start + int(h // 24) for cohort in study.cohorts for steps in (cohort.cycle1, cohort.later)
                   for step in steps for h in sched.pk_hours_after_step}
    return sorted({*sched.hematology_days, sched.bone_marrow_day, *sched.pk_days, *after_steps})


_CODE = re.compile(r"(?P<rt>RT|C)(?P<cycle>\d+)D(?P<day>\d+)")


def visit_number(code: str) -> tuple[float, str]:
    """VISITNUM and VISIT of MT103-206's EDC visit codes: SCR 1 SCREENING; CkDd 100k + d CYCLE k DAY d;
    RTkDd 1000 + 100k + d RETREATMENT CYCLE k DAY d."""
    if code == "SCR":
        return 1.0, "SCREENING"
    m = _CODE.fullmatch(code)
    k, d = int(m["cycle"]), int(m["day"])
    if m["rt"] == "RT":
        return 1000.0 + 100 * k + d, f"RETREATMENT CYCLE {k} DAY {d}"
    return 100.0 * k + d, f"CYCLE {k} DAY {d}"


def trial_visits(study: StudyConfig) -> pd.DataFrame:
    """TV with the EDC visit code of each planned visit (_CODE): screening, the planned days of each
    core and retreatment cycle and the survival follow-up contacts (FUn, numbered 5000 + n, as many
    as fit between the first dosing and the data cut-off). VISITDY is planned for the core study
    (cycles back to back, day 1 = first infusion); retreatment has no planned study day."""
    n, days, length = study.treatment.max_core_cycles, visit_days(study), study.treatment.cycle_days
    drug = study.study.drug
    plan = [("SCR", None, f"Informed consent; screening assessments within {study.schedule.screening_window_days} "
                          f"days before the start of the first {drug} infusion")]
    for prefix, phase in (("C", CORE), ("RT", RETREAT)):
        for k in range(1, n + 1):
            for d in days:
                plan.append((f"{prefix}{k}D{d}", (k - 1) * length + d if phase == CORE else None,
                             f"Day {d} of {PHASE_NAMES[phase]} cycle {k} (day 1 = start of the cycle's {drug} "
                             "infusion)"))
    every = study.schedule.follow_up_interval_days
    contacts = range(1, (study.dates.data_cutoff - study.dates.first_patient_dosed).days // every + 1)
    tv = pd.DataFrame(plan, columns=["_CODE", "VISITDY", "TVSTRL"])
    numbered = [visit_number(c) for c in tv._CODE]
    tv["VISITNUM"], tv["VISIT"] = [x[0] for x in numbered], [x[1] for x in numbered]
    survival = pd.DataFrame({"_CODE": [f"FU{n}" for n in contacts], "VISITNUM": [5000.0 + n for n in contacts],
                             "VISIT": [f"SURVIVAL FOLLOW-UP {n}" for n in contacts], "VISITDY": None,
                             "TVSTRL": [f"Survival follow-up contact {n}: {n * every} days after the end of the core "
                                        "study" for n in contacts]})
    tv = pd.concat([tv, survival], ignore_index=True)
    tv["ARMCD"], tv["ARM"], tv["TVENRL"] = None, None, None
    return tv[["VISITNUM", "VISIT", "VISITDY", "ARMCD", "ARM", "TVSTRL", "TVENRL", "_CODE"]]


def _text(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers as a protocol writes them (1, not 1.0), nulls empty."""
    out = df.astype(object).copy()
    for col in out:
        out[col] = [None if v is None or (isinstance(v, float) and np.isnan(v)) else
                    f"{v:g}" if isinstance(v, (int, float, np.integer, np.floating)) else str(v) for v in out[col]]
    return out


def design_tables(study: StudyConfig) -> dict[str, pd.DataFrame]:
    """The tables this helper writes, by file name."""
    return {"TE.csv": _text(trial_elements(study)), "TA.csv": _text(trial_arms(study)),
            "TV.csv": _text(trial_visits(study))}


def write_design_tables(specs: Path) -> list[Path]:
    study = load_study_config(specs / CONFIG)
    folder = specs / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in design_tables(study).items():
        table.to_csv(folder / name, index=False, lineterminator="\n", encoding="utf-8")
        written.append(folder / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m submit.simulate.design_tables", description=__doc__.split("\n\n")[0])
    parser.add_argument("--specs", type=Path, default=shipped_path("specs") / "mt103-206")
    args = parser.parse_args(argv)
    for path in write_design_tables(args.specs):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
