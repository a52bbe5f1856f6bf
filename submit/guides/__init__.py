"""Reviewer's guides of the package: the clinical Study Data Reviewer's Guide (cSDRG) beside the SDTM
and the Analysis Data Reviewer's Guide (ADRG) beside the ADaM, as DOCX, with the sections of the
PHUSE templates (`templates/guides/*.yaml`) filled from the metadata, the data as built and the
build's validation report with the study's explanations. Each is referenced from its layer's
define.xml (def:SupplementalDoc, def:leaf).

    entry = guide_document("SDTM")                     # the define.xml leaf, before the define is written
    write_guide(inputs, folder)                        # after validation: folder/csdrg.docx
"""

from __future__ import annotations

from pathlib import Path

from submit.define.inputs import DefineInputs, DocumentEntry, StandardDocuments
from submit.define.reader import read_define
from submit.errors import DataCheckError, Problem
from submit.guides.docx import write_guide as write_docx
from submit.guides.inputs import GuideInputs, read_report, study_explanations
from submit.guides import analysis, tabulation
from submit.guides.outline import Outline, load_outline, render_outline

OUTLINES = {"SDTM": "csdrg", "ADaM": "adrg"}
CONTENTS = {"SDTM": tabulation.CONTENTS, "ADaM": analysis.CONTENTS}

__all__ = ["GuideInputs", "check_document_links", "guide_document", "guide_outline", "read_report",
           "study_explanations", "with_guide", "write_guide"]


def guide_outline(standard: str) -> Outline:
    return load_outline(OUTLINES[standard])


def guide_document(standard: str) -> DocumentEntry:
    """The define.xml document entry of the layer's guide (its href is the guide's file name)."""
    outline = guide_outline(standard)
    return DocumentEntry(id=outline.leaf_id, title=outline.title, href=outline.file)


def with_guide(inputs: DefineInputs, ig_name: str, standard: str) -> DefineInputs:
    """The define inputs with the layer's guide added to its def:SupplementalDoc (`ig_name` is the
    spec's StandardName, e.g. SDTMIG)."""
    docs = inputs.documents_of(ig_name)
    entry = guide_document(standard)
    if any(d.id == entry.id for d in docs.supplemental):
        return inputs
    updated = StandardDocuments(annotated_crf=docs.annotated_crf, supplemental=(*docs.supplemental, entry))
    return inputs.model_copy(update={"documents": {**inputs.documents, ig_name: updated}})


def write_guide(inputs: GuideInputs, folder: Path) -> Path:
    """Write the guide of `inputs.standard` into `folder` (the layer's define.xml folder)."""
    outline = guide_outline(inputs.standard)
    contents = CONTENTS[inputs.standard]
    info = inputs.study.study
    cover = (f"Study {info.id}", " ".join(info.title.split()), info.sponsor,
             f"Data cut-off {inputs.study.dates.data_cutoff.isoformat()}",
             f"Version of {inputs.study.dates.build_date.isoformat()}")
    document = render_outline(outline, inputs, contents, cover, header=f"Study {info.id}: {outline.title}")
    path = Path(folder) / outline.file
    write_docx(document, path, inputs.study.dates.build_date)
    return path


def check_document_links(define_path: Path) -> None:
    """Every document a define.xml references exists beside it (after the guides are written)."""
    define = read_define(Path(define_path))
    missing = [href for _, href in define.document_hrefs
               if "://" not in href and not (Path(define_path).parent / href.split("#", 1)[0]).is_file()]
    if missing:
        raise DataCheckError(f"{define_path} references documents that were not written",
                             [Problem(str(define_path), f"def:leaf href {href!r} names no file") for href in missing])
