"""The Define-XML build inputs that are not per-variable metadata (`define/define.yaml`): the
stylesheet, the status of the standards, and the documents (annotated CRF, reviewer's guides)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from submit.errors import InputError, Problem
from submit.shipped import shipped_path
from submit.spec.model import Document
from submit.yaml_load import load_yaml

DEFAULT_INPUTS = shipped_path("define") / "define.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocumentEntry(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9._-]*$")  # def:leaf ID is an xs:ID
    title: str = Field(min_length=1)
    href: str = Field(min_length=1)

    def document(self) -> Document:
        return Document(self.id, self.title, self.href)


class StandardDocuments(_Frozen):
    annotated_crf: tuple[DocumentEntry, ...] = ()
    supplemental: tuple[DocumentEntry, ...] = ()


class DefineInputs(_Frozen):
    stylesheet: str = Field("", pattern=r"^[^/\\]*$")  # a file name beside define.xml; empty: none
    status: Literal["Final", "Draft", "Provisional"] = "Final"
    documents: dict[str, StandardDocuments] = {}

    def documents_of(self, standard: str) -> StandardDocuments:
        return self.documents.get(standard, StandardDocuments())


def load_define_inputs(path: str | Path = DEFAULT_INPUTS) -> DefineInputs:
    """The validated inputs of a define.yaml; InputError naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise InputError("Define inputs not found", [Problem(str(path), "file does not exist")])
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        return DefineInputs.model_validate(data)
    except yaml.YAMLError as exc:
        raise InputError(f"Define inputs {path} are not valid YAML", [Problem(str(path), str(exc))]) from None
    except ValidationError as exc:
        raise InputError(f"Define inputs {path} are invalid", [
            Problem(str(path), f"{e['msg']} (got {e.get('input')!r})", key=".".join(map(str, e["loc"])))
            for e in exc.errors()]) from None
