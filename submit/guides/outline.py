"""A guide's outline (`templates/guides/<guide>.yaml`): its title, file name, define.xml leaf and
sections in the order of the PHUSE template, each with fixed text and/or a named content that the
builders fill from metadata. The outline is study-independent; a sponsor may edit the wording."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from jinja2.exceptions import TemplateError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from submit.errors import InputError, Problem
from submit.guides.inputs import GuideInputs
from submit.guides.model import Block, GuideDocument, Heading, Paragraph
from submit.tlf.text import REPO_TEMPLATES, jinja_env
from submit.yaml_load import load_yaml

GUIDE_TEMPLATES = REPO_TEMPLATES / "guides"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")

Content = Callable[[GuideInputs], list[Block]]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Section(_Frozen):
    heading: Annotated[str, Field(min_length=1)]
    text: str = ""  # Jinja2 text (variables: study, standard, from_raw); blank lines split paragraphs
    content: str = ""  # a named content of the guide's builders
    sections: tuple[Section, ...] = ()


class Outline(_Frozen):
    title: Annotated[str, Field(min_length=1)]
    standard: str = Field(pattern=r"^(SDTM|ADaM)$")
    file: str = Field(pattern=r"^[a-z0-9_-]+\.docx$")  # written beside the layer's define.xml
    leaf_id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9._-]*$")  # the define.xml def:leaf ID
    sections: tuple[Section, ...]
    appendices: tuple[Section, ...] = ()


@lru_cache(maxsize=8)
def load_outline(name: str, folder: Path = GUIDE_TEMPLATES) -> Outline:
    path = Path(folder) / f"{name}.yaml"
    try:
        return Outline.model_validate(load_yaml(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise InputError("Reviewer's guide outline not found", [Problem(str(path), str(exc))]) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML", [Problem(str(path), str(exc))]) from None
    except ValidationError as exc:
        raise InputError(f"{path} is not a valid guide outline", [
            Problem(str(path), e["msg"], key=".".join(map(str, e["loc"]))) for e in exc.errors()]) from None


def render_outline(outline: Outline, inputs: GuideInputs, contents: Mapping[str, Content],
                   cover: tuple[str, ...], header: str) -> GuideDocument:
    """The guide's blocks: numbered headings (1, 1.1, 1.1.1; appendices I, II), each section's text
    and content. Headings a content returns are numbered one level below its section."""
    unknown = sorted({s.content for s in _walk(outline.sections + outline.appendices)} - set(contents) - {""})
    if unknown:
        raise ValueError(f"outline {outline.file}: unknown content {', '.join(unknown)}")
    blocks: list[Block] = []

    def emit(section: Section, number: str, level: int) -> None:
        blocks.append(Heading(number, section.heading, level))
        blocks.extend(_paragraphs(section.text, inputs, f"{outline.file}: {section.heading}"))
        sub = 0
        if section.content:
            for block in contents[section.content](inputs):
                if isinstance(block, Heading):
                    sub += 1
                    block = Heading(f"{number}.{sub}" if number[0].isdigit() else "", block.text, level + 1)
                blocks.append(block)
        for i, child in enumerate(section.sections, sub + 1):
            emit(child, f"{number}.{i}", level + 1)

    for i, section in enumerate(outline.sections, 1):
        emit(section, str(i), 1)
    for i, section in enumerate(outline.appendices):
        emit(section, f"Appendix {ROMAN[i]}:", 1)
    return GuideDocument(outline.title, cover, header, tuple(blocks))


def _walk(sections):
    for s in sections:
        yield s
        yield from _walk(s.sections)


def _paragraphs(text: str, inputs: GuideInputs, where: str) -> list[Paragraph]:
    if not text.strip():
        return []
    try:
        rendered = jinja_env().from_string(text).render(study=inputs.study, standard=inputs.standard,
                                                        from_raw=inputs.from_raw, version=inputs.version)
    except TemplateError as exc:
        raise InputError("guide text could not be rendered", [Problem(where, str(exc))]) from None
    return [Paragraph(" ".join(p.split())) for p in rendered.split("\n\n") if p.strip()]
