"""`submit compare BASE COMPARE`: PROC COMPARE for double-programming QC. Exit 0 equal, 1 different,
2 on an input error (the CLI group turns InputError into 2; click's own usage errors are 2 too)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import click

from submit.dataset_io import read_dataset
from submit.errors import InputError, Problem
from submit.qc.compare import (DEFAULT_CRITERION, METHODS, CompareOptions, ComparisonRun, compare_datasets,
                               pair_folders)
from submit.qc.compare_report import text_report, write_json

log = logging.getLogger(__name__)


@click.command()
@click.argument("base", type=click.Path(exists=True, path_type=Path))
@click.argument("comp", metavar="COMPARE", type=click.Path(exists=True, path_type=Path))
@click.option("--by", "by", multiple=True, metavar="VARS",
              help="BY (ID) variables matching observations; repeatable or comma-separated. "
                   "Without it, observations are matched by position. Case in key values is significant.")
@click.option("--method", type=click.Choice(METHODS, case_sensitive=False), default=None,
              help="How numbers are judged equal, as PROC COMPARE's METHOD=. Default: exact, "
                   "or relative when --criterion is given (as in SAS).")
@click.option("--criterion", type=click.FloatRange(min=0), default=None,
              help=f"Tolerance for --method absolute|relative; values are unequal when the difference "
                   f"exceeds it. Default {DEFAULT_CRITERION:g}, PROC COMPARE's CRITERION= default.")
@click.option("--ignore-case", is_flag=True, help="Character values equal whatever their case.")
@click.option("--ignore-trailing-blanks/--no-ignore-trailing-blanks", default=True, show_default=True,
              help="Character values equal whatever their trailing blanks, as in SAS, where values are "
                   "blank-padded to their length (and XPT readers strip the padding).")
@click.option("--max-print", type=click.IntRange(min=0), default=50, show_default=True,
              help="Rows listed per variable and per listing; counts are always complete.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the text report here instead of standard output.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as JSON, for machines.")
@click.pass_context
def compare(ctx: click.Context, base: Path, comp: Path, by: tuple[str, ...], method: str | None,
            criterion: float | None, ignore_case: bool, ignore_trailing_blanks: bool, max_print: int,
            out_path: Path | None, json_path: Path | None) -> None:
    """Compare two datasets (XPT, SAS7BDAT, CSV, Dataset-JSON, Parquet), or two folders of them paired
    by dataset name, as PROC COMPARE does: attributes, observations by key, values."""
    options = CompareOptions(
        by=tuple(v for item in by for v in re.split(r"[,\s]+", item) if v),
        method=(method or ("relative" if criterion is not None else "exact")).lower(),
        criterion=DEFAULT_CRITERION if criterion is None else criterion,
        ignore_case=ignore_case, ignore_trailing_blanks=ignore_trailing_blanks, max_print=max_print)
    run = compare_paths(base, comp, options)

    report = text_report(run)
    if out_path:
        out_path.write_text(report, encoding="utf-8")
    else:
        click.echo(report, nl=False)
    if json_path:
        write_json(run, json_path)
    for c in run.comparisons:
        log.info("%s: %s", c.name, "equal" if c.equal else "DIFFERENT")
    ctx.exit(0 if run.equal else 1)


def compare_paths(base: Path, comp: Path, options: CompareOptions) -> ComparisonRun:
    if base.is_dir() != comp.is_dir():
        raise InputError("compare two datasets or two folders, not one of each",
                         [Problem(str(p), "is a folder" if p.is_dir() else "is a file") for p in (base, comp)])
    if not base.is_dir():
        return ComparisonRun(str(base), str(comp), options, [_compare_files(base, comp, options, False)])
    pairing = pair_folders(base, comp)
    if not pairing.pairs and not pairing.only_in_base and not pairing.only_in_compare:
        raise InputError("no datasets to compare", [Problem(str(base), "no dataset files"),
                                                     Problem(str(comp), "no dataset files")])
    return ComparisonRun(str(base), str(comp), options,
                         [_compare_files(b, c, options, True) for b, c in pairing.pairs],
                         only_in_base=[str(p) for p in pairing.only_in_base],
                         only_in_compare=[str(p) for p in pairing.only_in_compare], folders=True)


def _compare_files(base: Path, comp: Path, options: CompareOptions, in_folders: bool):
    base_df, base_meta = _read(base)
    comp_df, comp_meta = _read(comp)
    return compare_datasets(base_df, base_meta, comp_df, comp_meta, options, keys_may_be_absent=in_folders)


def _read(path: Path):
    # as_text: SAS dates stay numbers (PROC COMPARE compares unformatted values) and CSV cells stay
    # untouched text, typed later against the other side.
    try:
        return read_dataset(path, as_text=True)
    except Exception as exc:  # readers raise a zoo of types (ValueError, ReadstatError, ArrowInvalid, ...)
        raise InputError(f"cannot read {path}", [Problem(str(path), f"{type(exc).__name__}: {exc}")]) from exc
