"""A study's TLF settings, `specs/<study>/tlf/settings.yaml` (optional; every key has a default):

    formats: [docx, rtf]   # what `submit build` writes per output: docx, rtf; pdf adds tlf_all.pdf

`pdf` converts every output with LibreOffice and joins them into one bookmarked PDF (without
LibreOffice the build says so and writes no PDF). `submit tlf --format` overrides the list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from submit.errors import InputError, Problem

SETTINGS_FILE = "settings.yaml"  # in the shells folder; not a shell file
FORMATS = ("docx", "rtf", "pdf")
DEFAULT_FORMATS = ("docx", "rtf")
Format = Literal["docx", "rtf", "pdf"]


class TlfSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    formats: tuple[Format, ...] = Field(default=DEFAULT_FORMATS, min_length=1)

    @field_validator("formats")
    @classmethod
    def _in_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"a format is named twice: {list(value)}")
        if set(value) == {"pdf"}:
            raise ValueError("pdf is the bundle of the docx or rtf outputs: name docx or rtf as well")
        return tuple(f for f in FORMATS if f in value)


def parse_formats(text: str, where: str = "--format") -> tuple[str, ...]:
    """`docx,rtf,pdf` (the CLI option) checked as the settings key is."""
    return _validate({"formats": [part.strip() for part in text.split(",") if part.strip()]}, where).formats


def load_tlf_settings(folder: Path) -> TlfSettings:
    path = Path(folder) / SETTINGS_FILE
    if not path.is_file():
        return TlfSettings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError("TLF settings are not valid YAML", [Problem(str(path), str(exc))]) from None
    return _validate(data, str(path))


def _validate(data, where: str) -> TlfSettings:
    try:
        return TlfSettings.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(where, f"{e['msg']} (got {e.get('input')!r})",
                            key=".".join(str(p) for p in e["loc"]) or "(top level)") for e in exc.errors()]
        raise InputError(f"TLF settings {where} are invalid", problems) from None
