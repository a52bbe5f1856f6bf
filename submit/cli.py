"""The `submit` command line. Exit codes: 0 success, 1 the data failed a check, 2 usage or input error."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import click

from submit import __version__
from submit.errors import SubmitError
from submit.project import Specs, default_specs_dir
from submit.simulate import DEFAULT_SEED
from submit.qc.compare_cmd import compare
from submit.qc.validate.cli import validate
from submit.spec.cli import spec

log = logging.getLogger("submit")


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("submit")
    root.handlers[:] = [handler]
    root.setLevel(level)


class _Group(click.Group):
    """Turns SubmitError into its exit code and a readable message instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SubmitError as exc:
            click.echo(f"error: {exc.render(limit=200)}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="submit")
@click.option("-v", "--verbose", count=True, help="More detail (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.option("--specs", "specs_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Study specs folder (default: ./specs, else the repository's).")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool, specs_dir: Path | None) -> None:
    """submit: raw clinical trial data to a regulatory study data package."""
    _setup_logging(-1 if quiet else verbose)
    ctx.obj = Specs(specs_dir or default_specs_dir())


@main.command()
@click.option("--subjects", "n_subjects", type=click.IntRange(1, 1_000_000), default=36, show_default=True,
              help="Number of subjects; 36 reproduces the published counts of the default study.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs/raw"),
              show_default=True, help="Folder for the raw extract; the latent truth goes beside it (<out>_truth).")
@click.pass_obj
def simulate(specs: Specs, n_subjects: int, seed: int, out_dir: Path) -> None:
    """Simulate a raw EDC extract from the study's simulation parameters (simulation.yaml)."""
    from submit.simulate import simulate_study, write_extract  # noqa: PLC0415

    extract = simulate_study(specs.study, specs.simulation, n_subjects=n_subjects, seed=seed)
    write_extract(extract, out_dir, specs.raw_schema)
    result(f"wrote {len(extract.frames)} raw datasets for {n_subjects} subjects to {out_dir} "
           f"(truth: {truth_dir(out_dir)})")


def result(line: str) -> None:
    """A command's final line: what it wrote. Printed whatever the verbosity (-q keeps it, as the one
    line that says the command did its job)."""
    click.echo(line, err=True)


def truth_dir(out_dir: Path) -> Path:
    return out_dir.with_name(out_dir.name + "_truth")


@main.command()
@click.option("--raw", "raw_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Raw extract to map (CSV, SAS7BDAT or XPT). Default: simulate the study when it has a "
                   "simulator (simulation.yaml).")
@click.option("--sdtm", "sdtm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Start from an existing SDTM package instead of raw data: every dataset of DIR (XPT, SAS7BDAT, "
                   "Parquet, Dataset-JSON, CSV; name = file stem). With SDTM specs (sdtm/) it is conformed to them "
                   "and written as XPT v5 with its define.xml; without, its XPT files are copied as they are, with the "
                   "input's own define.xml, else one written from the datasets' own attributes. Typographic "
                   "non-ASCII text is transliterated and listed in qc/sdtm_transliteration.csv.")
@click.option("--encoding", default=None, metavar="NAME",
              help="Text encoding of the --sdtm datasets (e.g. cp1252, latin-1). Default: UTF-8, else cp1252, "
                   "as detected per file and logged.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs"),
              show_default=True, help="Output root (the package tree of the design contract).")
@click.option("--build-date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date stamped into outputs (default: dates.build_date of the study configuration).")
@click.option("--formats", default="xpt,json", show_default=True, metavar="LIST",
              help="Dataset formats, comma-separated: xpt (always written: define.xml points at it) and json "
                   "(CDISC Dataset-JSON 1.1 beside each XPT, .ndjson too for 100,000 records or more).")
@click.pass_obj
def build(specs: Specs, raw_dir: Path | None, sdtm_dir: Path | None, encoding: str | None, out_dir: Path,
          build_date: dt.datetime | None, formats: str) -> None:
    """Run every stage of the pipeline and write the package atomically.

    Stages run where the study has their specs: SDTM mapping (sdtm/, from --raw or the simulator),
    ADaM and its define.xml (adam/), TLFs (adam/ and tlf/); validation always. A study with SDTM
    specs alone builds SDTM, define.xml and validation."""
    from submit.build import run_build

    if encoding is not None and sdtm_dir is None:
        raise click.UsageError("--encoding applies to the datasets of --sdtm")
    chosen = {f.strip().lower() for f in formats.split(",") if f.strip()}
    if not chosen <= {"xpt", "json"} or "xpt" not in chosen:
        raise click.BadParameter(f"{formats!r}: give xpt, or xpt,json", param_hint="--formats")
    run_build(specs, raw_dir=raw_dir, out_dir=out_dir, build_date=build_date.date() if build_date else None,
              sdtm_input=sdtm_dir, encoding=encoding, formats=chosen)
    result(f"package written to {out_dir}")


@main.command()
@click.option("--adam", "adam_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of the ADaM XPTs. Default: outputs/m5/datasets/<study>/analysis/adam/datasets.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs/tlf"),
              show_default=True, help="Folder for the documents, ard/, figures/ and the index.")
@click.option("--format", "formats", default=None, metavar="LIST",
              help="Comma-separated: docx, rtf (a document per output), pdf (tlf_all.pdf, bookmarked; needs "
                   "LibreOffice). Default: formats of the study's tlf/settings.yaml, else docx,rtf.")
@click.pass_obj
def tlf(specs: Specs, adam_dir: Path | None, out_dir: Path, formats: str | None) -> None:
    """Tables, listings and figures of every shell (specs/tlf) from the ADaM datasets."""
    from submit.project import adam_dir as package_adam_dir  # noqa: PLC0415
    from submit.tlf.build import replace_tlf  # noqa: PLC0415
    from submit.tlf.settings import parse_formats  # noqa: PLC0415

    chosen = parse_formats(formats) if formats is not None else None
    index = replace_tlf(adam_dir or Path("outputs") / package_adam_dir(specs.study), out_dir, specs.study,
                        specs.folder / "tlf", chosen)
    result(f"wrote {len(index)} outputs to {out_dir}")


main.add_command(compare)
main.add_command(spec)
main.add_command(validate)

if __name__ == "__main__":  # pragma: no cover
    main()
