"""One define.xml (and define.html) beside a folder of XPT files: built from the spec and the
frames, checked against the Define-XML 2.1 schema and against the XPT files, refused with every
problem at once when either check fails."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd

from submit.config import StudyConfig
from submit.define.consistency import check_consistency
from submit.define.html import write_define_html, write_stylesheet
from submit.define.inputs import DefineInputs, load_define_inputs
from submit.define.prune import described_part
from submit.define.schema import schema_errors
from submit.define.xml import build_define, define_bytes
from submit.errors import DataCheckError, Problem
from submit.spec.model import Spec

log = logging.getLogger("submit.define")
DEFINE_XML = "define.xml"
DEFINE_HTML = "define.html"


def write_define(spec: Spec, datasets: Mapping[str, pd.DataFrame], folder: Path, study: StudyConfig,
                 *, inputs: DefineInputs | None = None, written_later: Collection[str] = ()) -> Path:
    """Write `folder/define.xml` for the datasets (by name) whose XPT files are in `folder`, the
    stylesheet named by the inputs (default `define/define.yaml`) and `folder/define.html`.

    Raises DataCheckError listing every problem when the spec and data disagree, the define is not
    valid Define-XML 2.1, or it does not describe the XPT files of `folder` (the define.xml is left
    there to be looked at; define.html is written only for a valid define). Extensible-codelist
    values missing from a codelist and remote hrefs are logged as warnings. `written_later` are
    document hrefs the caller writes after the define (the reviewer's guide): left unchecked here."""
    folder = Path(folder)
    inputs = inputs or load_define_inputs()
    tree, problems = build_define(described_part(spec, datasets), datasets, study, inputs)
    path = folder / DEFINE_XML
    (folder / DEFINE_HTML).unlink(missing_ok=True)  # a rendering of an earlier define must not outlive it
    path.write_bytes(define_bytes(tree, inputs.stylesheet))
    if inputs.stylesheet:
        write_stylesheet(folder / inputs.stylesheet)
    problems += [Problem(str(path), message) for message in schema_errors(path)]
    found = check_consistency(path, folder, written_later=written_later)
    for note in found.notes:
        log.warning("%s", note)
    problems += found.errors
    if problems:
        raise DataCheckError(f"{path} is not a valid define of the XPT files beside it ({len(problems)} problems)",
                             problems)
    write_define_html(path, folder / DEFINE_HTML)
    return path
