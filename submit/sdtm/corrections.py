"""Declared corrections of a given SDTM package (`submit build --sdtm DIR`).

A sponsor's SDTM is taken as it is: its defects are reported by `submit validate` and refuse
publication. SDTM delivered by a vendor is corrected by the sponsor before submission, and every
correction is documented. The study says which, in `sdtm_corrections.yaml` of its folder; without
the file nothing is corrected. The vocabulary is closed, each correction named and given its reason:

    - correction: study_day        # --DY, --STDY, --ENDY recomputed from --DTC and DM.RFSTDTC
      domains: [EG, TR, AE]
      reason: the vendor's study days count from another reference date
    - correction: ts_parameter     # a TS parameter the package lacks, derived from DM
      parmcd: SSTDTC
      from: DM
      reason: TS has no study start date (FDA technical rejection criterion 1734)

Every changed value is listed in qc/sdtm_corrections.csv (file, dataset, row, variable, before,
after, correction); a record added has an empty `before`. The rules are the ones the SDTM mapping
uses (`derive_study_day`, `study_start_date` and the CT parameter names of TS), not copies.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from submit.config import StudyConfig
from submit.errors import InputError, Problem
from submit.sdtm.algorithms import DomainContext, Exceptions, derive_study_day
from submit.sdtm.trial_tables import parameter_names, study_start_date
from submit.spec.ct import load_terminology
from submit.yaml_load import load_yaml

if TYPE_CHECKING:
    from submit.sdtm.package_input import InputDataset

log = logging.getLogger("submit.sdtm")

CORRECTIONS = "sdtm_corrections.yaml"  # in the study folder
REPORT = "sdtm_corrections.csv"  # qc/
COLUMNS = ["file", "dataset", "row", "variable", "before", "after", "correction"]
STUDY_DAYS = {"DY": "DTC", "STDY": "STDTC", "ENDY": "ENDTC"}  # --DY variable suffix -> its --DTC
TS_FROM_DM = {"SSTDTC": study_start_date}  # TS parameters derivable from DM
PARAMETERS = {"study_day": {"domains"}, "ts_parameter": {"parmcd", "from"}}  # required, besides `reason`


def load_corrections(path: Path) -> list[dict]:
    """The declared corrections, checked: a known name, its parameters, a reason. All problems at once."""
    entries = load_yaml(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise InputError(f"SDTM corrections {path}", [Problem(str(path), "must be a list of corrections")])
    problems = []
    for i, entry in enumerate(entries, 1):
        where = f"{path.name} correction {i}"
        name = entry.get("correction") if isinstance(entry, dict) else None
        if name not in PARAMETERS:
            problems.append(Problem(str(path), f"{where}: correction must be one of {', '.join(PARAMETERS)}, "
                                               f"not {name!r}", column="correction"))
            continue
        for key in sorted(PARAMETERS[name] | {"reason"}):
            if not entry.get(key):
                problems.append(Problem(str(path), f"{where} ({name}): {key} is required", column=key))
        for key in sorted(set(entry) - PARAMETERS[name] - {"correction", "reason"}):
            problems.append(Problem(str(path), f"{where} ({name}): unknown parameter {key}", column=key))
        if name == "study_day" and entry.get("domains") is not None and not isinstance(entry["domains"], list):
            problems.append(Problem(str(path), f"{where} (study_day): domains must be a list", column="domains"))
        if name == "ts_parameter" and entry.get("parmcd") and entry["parmcd"] not in TS_FROM_DM:
            problems.append(Problem(str(path), f"{where} (ts_parameter): parmcd must be one of {', '.join(TS_FROM_DM)}",
                                    column="parmcd"))
        if name == "ts_parameter" and entry.get("from") and entry["from"] != "DM":
            problems.append(Problem(str(path), f"{where} (ts_parameter): from must be DM", column="from"))
    if problems:
        raise InputError(f"SDTM corrections {path} are invalid", problems)
    return entries


def _changes(ds: InputDataset, column: str, before: pd.Series, after: pd.Series, correction: str) -> pd.DataFrame:
    """One row per value that differs (both missing is equal)."""
    differ = ~((before == after) | (before.isna() & after.isna()))
    return pd.DataFrame({"file": ds.path.name, "dataset": ds.name, "row": np.flatnonzero(differ.to_numpy()) + 1,
                         "variable": column, "before": before[differ].to_numpy(), "after": after[differ].to_numpy(),
                         "correction": correction})


def _need(datasets: dict[str, InputDataset], name: str, source: Path, why: str) -> InputDataset:
    if name not in datasets:
        raise InputError(f"SDTM corrections {source}", [Problem(str(source), f"{why} needs dataset {name}, which the "
                                                                             "input does not have")])
    return datasets[name]


def correct_study_days(ds: InputDataset, dm: pd.DataFrame, study: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """--DY, --STDY, --ENDY of the domain recomputed from its --DTC and DM.RFSTDTC (SDTMIG rule)."""
    prefix = ds.name[:2]
    ctx = DomainContext(domain=ds.name, study=study, dm=dm, frames={}, exceptions=Exceptions())
    data, changes = ds.data.copy(), []
    for day, dtc in STUDY_DAYS.items():
        target, source = prefix + day, prefix + dtc
        if target in data and source in data:
            before = pd.to_numeric(data[target], errors="coerce").astype(float)
            data = derive_study_day(data, ctx, dtc=source, target=target)
            changes.append(_changes(ds, target, before, data[target], "study_day"))
    return data, pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=COLUMNS)


def add_ts_parameter(ts: InputDataset, dm: pd.DataFrame, parmcd: str, study: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TS with the parameter `parmcd` derived from DM (TSSEQ 1, TSPARM its CT name), unless TS has it."""
    data = ts.data
    if (data["TSPARMCD"] == parmcd).any():
        return data, pd.DataFrame(columns=COLUMNS)
    value, _ = TS_FROM_DM[parmcd](dm)
    if value is None:
        raise InputError("SDTM corrections", [Problem(ts.path.name, f"ts_parameter {parmcd}: DM has no date to "
                                                                    "derive it from", column="TSVAL")])
    ct = load_terminology(study.standards.ct)
    record = {"STUDYID": study.study.id, "DOMAIN": "TS", "TSSEQ": 1.0, "TSPARMCD": parmcd,
              "TSPARM": parameter_names(ct, pd.Series([parmcd])).iloc[0], "TSVAL": value}
    if "TSVCDREF" in data:
        record["TSVCDREF"] = "ISO 8601"
    record = {k: v for k, v in record.items() if k in data}
    out = pd.concat([data, pd.DataFrame([record])], ignore_index=True)
    row = len(out)
    changes = pd.DataFrame([{"file": ts.path.name, "dataset": "TS", "row": row, "variable": k, "before": None,
                             "after": v, "correction": "ts_parameter"} for k, v in record.items()], columns=COLUMNS)
    return out, changes


def correct_sdtm(datasets: dict[str, InputDataset], source: Path | None, study: StudyConfig,
                 report: Path) -> tuple[dict[str, InputDataset], set[str]]:
    """The datasets with the corrections declared in `source` (None or absent: none) applied, every
    changed value listed in `report`; and the names of the datasets changed."""
    out, frames, changed = dict(datasets), [], set()
    entries = load_corrections(source) if source is not None and source.is_file() else []
    for entry in entries:
        name = entry["correction"]
        dm = _need(out, "DM", source, name).data
        if name == "study_day":
            targets = [_need(out, str(d).upper(), source, "study_day") for d in entry["domains"]]
            results = [correct_study_days(ds, dm, study) for ds in targets]
        else:
            targets = [_need(out, "TS", source, "ts_parameter")]
            results = [add_ts_parameter(targets[0], dm, entry["parmcd"], study)]
        for ds, (data, changes) in zip(targets, results):
            if len(changes):
                out[ds.name] = replace(ds, data=data)
                changed.add(ds.name)
                frames.append(changes)
                log.warning("%s: %d value(s) corrected (%s: %s) (qc/%s)", ds.path.name, len(changes), name,
                            " ".join(str(entry["reason"]).split()), report.name)
    report.parent.mkdir(parents=True, exist_ok=True)
    (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)).to_csv(
        report, index=False, lineterminator="\n")
    return out, changed
