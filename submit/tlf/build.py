"""The TLF stage: the ADaM XPTs of the package -> every shell's result -> `outputs/tlf/`.

TLFs read ADaM only (DESIGN.md), and they read it from the XPT files that go to the regulator, so
that the tables show exactly what a reviewer recomputes from the submitted datasets.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.tlf.analysis import AdamData, XptFolder, analyze
from submit.tlf.package import PendingTlfPackage, start_tlf_package
from submit.tlf.settings import load_tlf_settings
from submit.tlf.shell import load_shells
from submit.tlf.text import TlfContext

log = logging.getLogger("submit.tlf")


def build_tlf(adam_folder: Path, out_dir: Path, study: StudyConfig, shells_folder: Path,
              formats: Sequence[str] | None = None) -> pd.DataFrame:
    """Compute and render every output of `shells_folder` from the ADaM XPTs of `adam_folder` into
    `out_dir` (DOCX and RTF per output, ard/<id>.csv, figures/, tlf_index.csv, tlf_all.docx,
    tlf_all.pdf) in `formats`, by default those of the study's tlf/settings.yaml; returns the index."""
    return start_tlf(adam_folder, out_dir, study, shells_folder, formats).finish()


def start_tlf(adam_folder: Path, out_dir: Path, study: StudyConfig, shells_folder: Path,
              formats: Sequence[str] | None = None) -> PendingTlfPackage:
    """`build_tlf` with the PDF bundle left converting in the background (`finish()` joins it)."""
    formats = formats or load_tlf_settings(Path(shells_folder)).formats
    shells = load_shells(Path(shells_folder))
    data = AdamData(XptFolder(Path(adam_folder)), study, source=str(adam_folder))
    results = analyze(data, shells)
    context = TlfContext(study=study, build_date=study.dates.build_date)
    pending = start_tlf_package(shells, results, Path(out_dir), context, formats=formats)
    log.info("%d TLF outputs rendered as %s", len(pending.index), ", ".join(formats))
    return pending


def replace_tlf(adam_folder: Path, out_dir: Path, study: StudyConfig, shells_folder: Path,
                formats: Sequence[str] | None = None) -> pd.DataFrame:
    """`build_tlf` into a new folder that replaces `out_dir` only once every output is written: a
    failure leaves the previous outputs untouched, and no file of an earlier run is left behind."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}-") as tmp:
        index = build_tlf(adam_folder, Path(tmp) / "new", study, shells_folder, formats)
        if out_dir.exists():
            out_dir.rename(Path(tmp) / "old")
        (Path(tmp) / "new").rename(out_dir)
    return index
