"""Study-dependent text of the outputs (Jinja2) and the page layout (`templates/tlf/layout.yaml`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from jinja2 import StrictUndefined
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from submit import __version__
from submit.errors import InputError, Problem
from submit.shipped import shipped_path
from submit.yaml_load import load_yaml

REPO_TEMPLATES = shipped_path("templates")
DEFAULT_LAYOUT = REPO_TEMPLATES / "tlf" / "layout.yaml"


@lru_cache(maxsize=1)
def jinja_env() -> SandboxedEnvironment:
    """Sandboxed (spec text must not reach Python internals) and strict (a misspelt name fails)."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=512)
def _template(text: str):
    """The compiled template of a text: the same source line and footnotes recur in every output."""
    return jinja_env().from_string(text)


@dataclass(frozen=True)
class TlfContext:
    """What the Jinja2 text of shells and layout may refer to: `study` (specs/study.yaml as loaded,
    e.g. `study.study.id`, `study.dates.data_cutoff`), `build_date`, `version`, plus `extra`."""

    study: Any
    build_date: dt.date
    version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)

    def variables(self, **more: Any) -> dict[str, Any]:
        return {"study": self.study, "build_date": self.build_date.isoformat(), "version": self.version,
                **self.extra, **more}


def render_text(template: str, context: TlfContext, where: str, **more: Any) -> str:
    """Render one Jinja2 text; an error names `where` (shell file and key)."""
    if "{{" not in template and "{%" not in template:
        return template  # plain text: the common case, no template compile
    try:
        return _template(template).render(context.variables(**more))
    except TemplateError as exc:
        raise InputError("TLF text could not be rendered", [Problem(where, f"{template!r}: {exc}")]) from None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


PAGE_SIZES_IN = {"letter": (11.0, 8.5), "a4": (11.69, 8.27)}  # landscape width, height


class Margins(_Frozen):
    top: Annotated[float, Field(ge=0.3, le=2.0)] = 1.0
    bottom: Annotated[float, Field(ge=0.3, le=2.0)] = 1.0
    left: Annotated[float, Field(ge=0.3, le=2.0)] = 1.0
    right: Annotated[float, Field(ge=0.3, le=2.0)] = 1.0
    header: Annotated[float, Field(ge=0.2, le=1.5)] = 0.5  # page edge to header


class Page(_Frozen):
    size: Literal["letter", "a4"] = "letter"
    margins_in: Margins = Margins()

    @property
    def width_in(self) -> float:
        return PAGE_SIZES_IN[self.size][0]

    @property
    def height_in(self) -> float:
        return PAGE_SIZES_IN[self.size][1]

    @property
    def text_width_in(self) -> float:
        return self.width_in - self.margins_in.left - self.margins_in.right

    @property
    def text_height_in(self) -> float:
        return self.height_in - self.margins_in.top - self.margins_in.bottom


class Font(_Frozen):
    name: str = "Courier New"
    size_pt: Annotated[float, Field(ge=5, le=14)] = 8.0


class HeaderLine(_Frozen):
    left: str = ""
    right: str = ""  # may hold {PAGE}, {SECTIONPAGES} and {NUMPAGES}: Word fields


class Layout(_Frozen):
    """Page, font and the Jinja2 text every output shares. Always landscape."""

    page: Page = Page()
    font: Font = Font()
    header: tuple[HeaderLine, ...] = ()
    source: str = "Source: {{ datasets | join(', ') }}."
    combined_title: str = "Tables, Listings and Figures"
    figure_height_in: Annotated[float, Field(ge=2, le=7)] = 4.6


def load_layout(path: Path = DEFAULT_LAYOUT) -> Layout:
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
        return Layout.model_validate(data)
    except OSError as exc:
        raise InputError("TLF layout not readable", [Problem(str(path), str(exc))]) from None
    except yaml.YAMLError as exc:
        raise InputError("TLF layout is not valid YAML", [Problem(str(path), str(exc))]) from None
    except ValidationError as exc:
        problems = [Problem(str(path), f"{e['msg']} (got {e.get('input')!r})",
                            key=".".join(str(p) for p in e["loc"]) or "(top level)") for e in exc.errors()]
        raise InputError(f"TLF layout {path} is invalid", problems) from None
