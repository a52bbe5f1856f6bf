"""The TLF stage: the ADaM XPTs of the package -> every shell's result -> `outputs/tlf/`.

TLFs read ADaM only (DESIGN.md), and they read it from the XPT files that go to the regulator, so
that the tables show exactly what a reviewer recomputes from the submitted datasets.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.tlf.analysis import AdamData, XptFolder, analyze
from submit.tlf.package import write_tlf_package
from submit.tlf.shell import load_shells
from submit.tlf.text import TlfContext

log = logging.getLogger("submit.tlf")


def build_tlf(adam_folder: Path, out_dir: Path, study: StudyConfig, shells_folder: Path) -> pd.DataFrame:
    """Compute and render every output of `shells_folder` from the ADaM XPTs of `adam_folder` into
    `out_dir` (DOCX per output, ard/<id>.csv, figures/, tlf_index.csv, tlf_all.docx); returns the index."""
    shells = load_shells(Path(shells_folder))
    data = AdamData(XptFolder(Path(adam_folder)), study, source=str(adam_folder))
    results = analyze(data, shells)
    context = TlfContext(study=study, build_date=study.dates.build_date)
    index = write_tlf_package(shells, results, Path(out_dir), context)
    log.info("%d TLF outputs written to %s", len(index), out_dir)
    return index
