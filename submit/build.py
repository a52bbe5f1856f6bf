"""`submit build`: every stage of the pipeline, written to a staging folder and moved into place
only when all of it succeeded, so a failed build leaves the previous package untouched."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from submit.project import Specs, adam_dir, sdtm_dir
from submit.raw.reader import RawExtract, read_raw
from submit.adam.build import build_adam
from submit import __version__
from submit.dataset_io import DatasetFolder
from submit.dataset_json import write_dataset_json
from submit.define import load_define_inputs, write_define
from submit.guides import GuideInputs, check_document_links, guide_document, read_report, study_explanations, \
    with_guide, write_guide
from submit.errors import DataCheckError, InputError, Problem
from submit.qc.validate import validate_package, write_reports
from submit.sdtm.build import build_sdtm
from submit.sdtm.corrections import CORRECTIONS
from submit.sdtm.package_input import take_sdtm
from submit.simulate import DEFAULT_SEED, simulate_study, write_extract
from submit.tlf.build import start_tlf
from submit.tlf.package import PendingTlfPackage

log = logging.getLogger("submit.build")
MANAGED = ("raw", "raw_truth", "m5", "tlf", "qc", "manifest.json")  # what a build owns in --out
SHOWN = {"sdtm": "SDTM", "adam": "ADaM"}
DATASET_FORMATS = ("xpt", "json")  # what a build writes unless told (--formats xpt: XPT only)


@contextmanager
def stage(number: int, total: int, name: str):
    """Progress line per stage, with its time."""
    log.info("[%d/%d] %s ...", number, total, name)
    start = time.perf_counter()
    yield
    log.info("[%d/%d] %s done in %.1f s", number, total, name, time.perf_counter() - start)


def run_build(specs: Specs, raw_dir: Path | None, out_dir: Path, build_date: dt.date | None = None,
              sdtm_input: Path | None = None, encoding: str | None = None,
              formats: Collection[str] = DATASET_FORMATS) -> None:
    """Build the package from raw data (`raw_dir`, else simulated when the study has a simulator) or
    from an existing SDTM package (`sdtm_input`). `formats` of the datasets: "xpt" always, "json"
    adds Dataset-JSON 1.1 beside each XPT (submit.dataset_json). Each stage runs only where the study has its specs:
    SDTM mapping needs sdtm/, ADaM and its define adam/, the TLFs adam/ and tlf/."""
    if raw_dir is not None and sdtm_input is not None:
        raise InputError("give --raw or --sdtm, not both", [Problem(str(sdtm_input), "a second data source")])
    from_raw = sdtm_input is None
    if from_raw and raw_dir is None and not specs.has_simulator:
        raise InputError("no data to build from", [Problem(
            str(specs.folder), "the study has no simulator (simulation.yaml): give --raw DIR (a raw extract) "
                               "or --sdtm DIR (an SDTM package)")])
    has = {part: specs.has_specs(part) for part in ("sdtm", "adam", "tlf")}
    if from_raw and not has["sdtm"]:
        raise InputError("raw data needs SDTM mapping specs", [Problem(
            str(specs.folder / "sdtm"), "missing: a study without SDTM specs builds from --sdtm DIR")])
    study = specs.study.with_build_date(build_date)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        staging = Path(tmp)
        steps: list[tuple[str, Callable[[], None]]] = []
        raw: dict[str, RawExtract] = {}
        layers: dict = {}

        def get_raw() -> None:
            if raw_dir is None:
                write_extract(simulate_study(study, specs.simulation, seed=DEFAULT_SEED), staging / "raw", specs.raw_schema)
            else:
                shutil.copytree(raw_dir, staging / "raw")

        def check_raw() -> None:
            # The user's files are read, not the staging copy, so that every problem names them.
            raw["extract"] = read_raw(raw_dir if raw_dir is not None else staging / "raw", specs.raw_schema, study)
            (staging / "qc").mkdir(exist_ok=True)
            write_raw_inventory(raw["extract"], staging / "qc" / "raw_inventory.csv")
            if not raw["extract"].transliterated.empty:
                raw["extract"].transliterated.to_csv(staging / "qc" / "raw_transliteration.csv", index=False,
                                                     lineterminator="\n")

        def sdtm() -> None:
            extract = raw.pop("extract")  # nothing after SDTM reads the raw frames: freed with the stage
            layers["sdtm"] = build_sdtm(specs.folder / "sdtm", extract.frames, study, staging, subjects=extract.subjects)

        def take() -> None:
            layers["sdtm"] = take_sdtm(sdtm_input, specs.folder / "sdtm" if has["sdtm"] else None, study, staging,
                                       encoding, corrections=specs.folder / CORRECTIONS)

        def adam() -> None:
            layers["adam"] = build_adam(specs.folder / "adam", layers["sdtm"].all_domains, study, staging)

        if from_raw:
            steps.append(("simulate the raw extract (simulation.yaml)" if raw_dir is None else f"copy the raw extract {raw_dir}", get_raw))
            steps.append(("read and check the raw extract", check_raw))
            steps.append(("map SDTM and write XPT", sdtm))
        else:
            steps.append(("read the SDTM package" + (", conform it to the SDTM spec" if has["sdtm"] else "")
                          + " and write XPT", take))
        if has["adam"]:
            steps.append(("derive ADaM and write XPT", adam))
        tlf: list[PendingTlfPackage] = []
        if has["adam"] and has["tlf"]:
            # The TLFs read the ADaM XPTs just written, as a reviewer would, not the frames in memory.
            # They come right after ADaM so that LibreOffice converts the PDF bundle on another core
            # while define.xml, Dataset-JSON, validation and the guides are written.
            steps.append(("compute and render the TLFs", lambda: tlf.append(
                start_tlf(staging / adam_dir(study), staging / "tlf", study, specs.folder / "tlf"))))
        # define.xml of each layer described by specs; an SDTM package taken without specs has its own
        # define.xml or gets one written from its attributes (then its result has a spec)
        defined = [layer for layer in ("sdtm", "adam") if has[layer] or (layer == "sdtm" and not from_raw)]

        folders = {"sdtm": sdtm_dir(study), "adam": adam_dir(study)}

        def define() -> None:
            # Each define.xml references its layer's reviewer's guide, written after validation (the
            # guide reports the validation of the package): its href is known, its file comes later.
            for layer in ("sdtm", "adam"):
                if layer in defined and layers[layer].spec is not None:
                    result = layers[layer]
                    inputs = with_guide(load_define_inputs(), result.spec.study.standard, SHOWN[layer])
                    write_define(result.spec, frames_of(result), staging / folders[layer], study, inputs=inputs,
                                 written_later={guide_document(SHOWN[layer]).href})
            # The last stage that needs the build's frames in memory: later ones read the XPTs, and the
            # frames' memory (most of a large study's) is not held through Dataset-JSON and validation.
            for layer, result in layers.items():
                layers[layer] = WrittenLayer(result.spec, DatasetFolder(staging / folders[layer], frames_of(result)))

        if defined:
            steps.append((f"write and check define.xml ({', '.join(SHOWN[layer] for layer in defined)})", define))
        if defined and "json" in formats:  # from each define.xml and the XPT files it describes
            steps.append(("write Dataset-JSON 1.1 beside the XPT",
                          lambda: [write_dataset_json(staging / folders[layer]) for layer in defined]))

        def validate() -> None:
            # Cached by the SHA-256 of everything it reads: a rebuild of the same bytes, and `submit
            # validate` of the package after the build, take the report instead of checking again.
            report = validate_package(staging, specs, label=out_dir.name, cache=True)
            write_reports(report, staging / "qc", study.dates.build_date)
            if report.has_errors:
                errors = report.issues[report.issues["severity"] == "Error"].head(200)
                raise DataCheckError(f"The package fails {report.errors} conformance check(s); nothing was published",
                                     [Problem(str(i.dataset), f"{i.rule}: {i.message} {i.detail}".strip(),
                                              row=issue_row(i.row), column=str(i.variable) if i.variable else None)
                                      for i in errors.itertuples()])

        steps.append(("check conformance (submit validate)", validate))

        def guides() -> None:
            report = read_report(staging / "qc")
            explanations = study_explanations(specs.folder)
            for layer in defined:
                result = layers[layer]
                if result.spec is None:  # the package's own define.xml was taken as given: not ours to extend
                    log.info("no %s reviewer's guide: the SDTM package came with its own define.xml", SHOWN[layer])
                    continue
                write_guide(GuideInputs(study, specs.folder, SHOWN[layer], result.spec, frames_of(result), report,
                                        explanations, from_raw, __version__), staging / folders[layer])
                del layers[layer]  # its datasets read back for the guide: freed before the next layer's
                check_document_links(staging / folders[layer] / "define.xml")

        if defined:  # each layer whose define.xml the build writes gets its guide
            steps.append((f"write the reviewer's guides ({', '.join(SHOWN[layer] for layer in defined)})", guides))
        if has["adam"] and has["tlf"]:
            steps.append(("finish the TLFs (the PDF bundle LibreOffice converted meanwhile, the index)",
                          lambda: tlf[0].finish()))
        steps.append(("write the manifest", lambda: write_manifest(staging)))
        if not has["adam"]:
            log.info("the study has no ADaM specs (adam/): no ADaM, ADaM define.xml or TLFs")
        elif not has["tlf"]:
            log.info("the study has no TLF shells (tlf/): no TLFs")
        try:
            for number, (name, step) in enumerate(steps, 1):
                with stage(number, len(steps), name):
                    step()
        finally:  # a failed stage stops LibreOffice before the staging folder goes
            for pending in tlf:
                pending.cancel()
        publish(staging, out_dir)


@dataclass(frozen=True)
class WrittenLayer:
    """A layer once its XPTs and define.xml are written: its spec, and its datasets read back on demand."""
    spec: object  # the layer's Spec; None for an SDTM package taken with its own define.xml
    datasets: DatasetFolder


def frames_of(result) -> Mapping[str, pd.DataFrame]:
    """The datasets of an SDTM or ADaM build result, by name."""
    return result.domains if hasattr(result, "domains") else result.datasets


def issue_row(row) -> int | None:
    """A validation issue's 1-based row, None when the issue has none (None, NaN or pd.NA)."""
    return None if pd.isna(row) or not row else int(row)


def write_raw_inventory(extract: RawExtract, path: Path) -> None:
    """Datasets, files and record counts of the raw extract used: the reviewer's first check."""
    rows = [{"dataset": name, "file": extract.sources[name].name, "records": len(df),
             "subjects": df[extract.subjects[name]].nunique(), "columns": df.shape[1]} for name, df in extract.frames.items()]
    pd.DataFrame(rows).to_csv(path, index=False, lineterminator="\n")


def write_manifest(root: Path) -> None:
    """Every file of the package with its size and SHA-256, in path order."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        files.append({"path": path.relative_to(root).as_posix(), "bytes": path.stat().st_size, "sha256": digest})
    (root / "manifest.json").write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")


def publish(staging: Path, out_dir: Path) -> None:
    """Swap the staged products into `out_dir`: a handful of renames once everything is written."""
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".previous-") as old:
        for name in MANAGED:
            if (out_dir / name).exists():
                (out_dir / name).rename(Path(old) / name)
        for name in MANAGED:
            if (staging / name).exists():
                (staging / name).rename(out_dir / name)
