"""The SDTM stage: every domain of the mapping specs from the checked raw extract, written as
XPT v5 with the exceptions and traceability reports beside."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.progress import Progress
from submit.project import sdtm_dir
from submit.sdtm.algorithms import Exceptions
from submit.sdtm.engine import TRACE, run_domain
from submit.sdtm.mapping import DomainMapping, load_mapping
from submit.spec.model import Spec
from submit.spec.store import load_spec
from submit.xpt import XptDataset, XptVariable, write_xpt

log = logging.getLogger("submit.sdtm")


@dataclass(frozen=True)
class SdtmResult:
    spec: Spec | None  # None: an SDTM package taken as given, without SDTM specs
    domains: dict[str, pd.DataFrame]  # the domains in the package, without the trace columns
    exceptions: pd.DataFrame
    # Domains without records: not submitted (no XPT, not in define.xml), yet ADaM derives from them
    # (a study without adverse events has an ADAE without records).
    empty: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def all_domains(self) -> dict[str, pd.DataFrame]:
        return {**self.domains, **self.empty}


def xpt_meta(spec: Spec, dataset: str) -> XptDataset:
    """What the XPT writer needs, read from the one metadata source."""
    ds = spec.dataset(dataset)
    return XptDataset(
        name=ds.name, label=ds.label, keys=ds.keys,
        variables=tuple(XptVariable(name=v.name, label=v.label, type="char" if v.is_char else "num",
                                    length=v.length if v.is_char else None, format=v.display_format)
                        for v in spec.variables_of(dataset)))


def load_mappings(folder: Path, spec: Spec, frames: dict[str, pd.DataFrame]) -> list[DomainMapping]:
    columns = {name: tuple(df.columns) for name, df in frames.items()}
    mappings = [load_mapping(p, spec, columns) for p in sorted((folder / "mapping").glob("*.yaml"))]
    # DM first (the others need its dates), then SE (every EPOCH comes from the subject's elements)
    return sorted(mappings, key=lambda m: {"DM": 0, "SE": 1}.get(m.domain, 2))


def build_sdtm(spec_folder: Path, frames: dict[str, pd.DataFrame], study: StudyConfig, root: Path,
               subjects: dict[str, str] | None = None) -> SdtmResult:
    """Every domain of the mapping specs; `subjects`: the subject-id column of each raw dataset
    (`RawExtract.subjects`; SUBJID where not given)."""
    spec = load_spec(spec_folder)
    mappings = load_mappings(spec_folder, spec, frames)
    exceptions = Exceptions()
    domains: dict[str, pd.DataFrame] = {}
    traces = []
    cache: dict = {}  # computed once per build and shared by the domains (after DM exists)
    progress = Progress(log, "SDTM", len(mappings))
    for mapping in mappings:
        df = run_domain(mapping, spec, frames, study, exceptions, dm=domains.get("DM"), cache=cache if "DM" in domains else None,
                        subjects=subjects, specs_folder=spec_folder.parent)
        seq = next((c for c in df.columns if c.endswith("SEQ") and c != "__row"), None)
        trace = df[["USUBJID", *([seq] if seq else []), *TRACE]].rename(
            columns={seq: "SEQ", "__raw": "RAW_DATASET", "__row": "RAW_ROW"}) if "USUBJID" in df else None
        if trace is not None:
            traces.append(trace.assign(DOMAIN=mapping.domain))
        domains[mapping.domain] = df.drop(columns=list(TRACE))
        progress.step(mapping.domain, f"{len(df)} records")
    traced = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame(columns=["RAW_DATASET", "RAW_ROW"])
    sources = {src.raw: len(frames[src.raw]) for m in mappings for src in m.sources if src.raw in frames}
    exceptions.settle(traced.rename(columns={"RAW_DATASET": "raw_dataset", "RAW_ROW": "raw_row"}), sources)
    out = root / sdtm_dir(study)
    out.mkdir(parents=True, exist_ok=True)
    # A domain with no records is not submitted (no XPT, no define.xml entry).
    empty = {name: df for name, df in domains.items() if df.empty}
    if empty:
        log.info("no records, not submitted: %s", ", ".join(empty))
    domains = {name: df for name, df in domains.items() if name not in empty}
    written = Progress(log, "SDTM XPT", len(domains))
    for name, df in domains.items():
        written.step(name)
        write_xpt(df, xpt_meta(spec, name), out / f"{name.lower()}.xpt", created=study.dates.build_date)
    qc = root / "qc"
    qc.mkdir(parents=True, exist_ok=True)
    report = exceptions.frame()
    report.to_csv(qc / "sdtm_exceptions.csv", index=False, lineterminator="\n")
    if traces:
        trace = pd.concat(traces, ignore_index=True)[["DOMAIN", "USUBJID", "SEQ", "RAW_DATASET", "RAW_ROW"]]
        trace.to_csv(qc / "sdtm_traceability.csv", index=False, lineterminator="\n")
    return SdtmResult(spec=spec, domains=domains, exceptions=report, empty=empty)
