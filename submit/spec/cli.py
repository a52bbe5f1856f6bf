"""`submit spec`: the spec folder to a Pinnacle 21 style workbook and back."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from submit.errors import InputError, Problem
from submit.project import Specs

log = logging.getLogger("submit.spec")
STANDARDS = {"sdtm": "SDTM", "adam": "ADAM"}  # folder -> what StandardName must start with


def _standard_option(fn):
    return click.option("--standard", type=click.Choice(sorted(STANDARDS)), default="sdtm", show_default=True,
                        help="Which spec: <specs>/sdtm or <specs>/adam.")(fn)


@click.group()
def spec() -> None:
    """The metadata spec (<specs>/<standard>/*.csv) as a Pinnacle 21 style Excel workbook."""


@spec.command("export")
@click.option("--xlsx", "xlsx", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Workbook to write.")
@_standard_option
@click.pass_obj
def export_command(specs: Specs, xlsx: Path, standard: str) -> None:
    """Write the spec as a workbook (validated first; byte-identical for the same spec and study)."""
    from submit.spec.store import load_spec  # noqa: PLC0415 (keeps `submit --help` fast)
    from submit.spec.workbook import export_xlsx  # noqa: PLC0415

    folder = specs.folder / standard
    spec_ = load_spec(folder, ct_version=specs.study.standards.ct)
    export_xlsx(spec_, xlsx, created=specs.study.dates.build_date)
    log.info("wrote %s from %s", xlsx, folder)


@spec.command("import")
@click.argument("xlsx", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_standard_option
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the spec CSVs into this folder instead of the study's sdtm/ or adam/.")
@click.pass_obj
def import_command(specs: Specs, xlsx: Path, standard: str, out: Path | None) -> None:
    """Replace the spec's CSVs by the content of a workbook, once it is valid (all files or none).
    A study spec in parts (parts/<any>/<Sheet>.csv) gets every row in its main files, the parts
    removed: the workbook exported from it holds them all."""
    from submit.spec.store import write_spec  # noqa: PLC0415
    from submit.spec.workbook import import_xlsx  # noqa: PLC0415

    spec_ = import_xlsx(xlsx, ct_version=specs.study.standards.ct)
    if not spec_.study.standard.upper().startswith(STANDARDS[standard]):
        raise InputError(f"{xlsx} is not a {standard} spec", [Problem(
            f"{xlsx}[Study]", f"StandardName is {spec_.study.standard!r}; use --standard to pick the folder",
            column="Value")])
    folder = out or specs.folder / standard
    write_spec(spec_, folder, merge_parts=out is None)
    log.info("wrote the spec of %s into %s", xlsx, folder)
