"""`submit validate DIR`: exit 0 without errors, 1 with errors (warnings do not fail), 2 on bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from submit.errors import InputError
from submit.qc.validate.manifest import MANIFEST, manifest_problems

log = logging.getLogger("submit.qc.validate")


@click.command()
@click.argument("root", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Pinnacle 21 style workbook (Summary, Issue Summary, Details, Rules) here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report as JSON here.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Validate again even when the same package, specs and program were validated before "
                   "(reports are cached by the SHA-256 of what they depend on).")
@click.pass_context
def validate(ctx: click.Context, root: Path, xlsx: Path | None, json_path: Path | None, no_cache: bool) -> None:
    """Check a study data package (or one dataset folder): XPT v5, define.xml, SDTM and ADaM rules,
    FDA technical rejection criteria. The study's specs (--specs) supply the metadata when a folder
    has no define.xml, the Expected variables, the CT version and the explanations of expected warnings."""
    from submit.qc.validate import text_summary, validate_package, write_json, write_xlsx  # noqa: PLC0415

    specs = ctx.obj  # submit.project.Specs
    try:
        build_date = specs.study.dates.build_date
    except InputError:  # validating another study's package without its specs
        specs, build_date = None, None
    report = validate_package(root, specs, cache=not no_cache)
    click.echo(text_summary(report), nl=False)
    if xlsx:
        write_xlsx(report, xlsx, build_date)
    if json_path:
        write_json(report, json_path, build_date)
    changed = manifest_problems(root)
    if changed:
        click.echo(f"error: {len(changed)} file(s) differ from {MANIFEST}", err=True)
        for problem in changed:
            click.echo(f"  {problem}", err=True)
    ctx.exit(1 if report.has_errors or changed else 0)
