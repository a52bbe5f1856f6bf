"""Benchmark the TLF renderer: a listing of N rows (table model + DOCX) at several sizes, a SOC/PT
table of many terms, and optionally a sample package of every shell in specs/tlf filled with
synthetic numbers (the layout of every shell without a study; `submit tlf` draws the real ones).

    /work/venv/bin/python benchmarks/bench_tlf_render.py [--rows 500 2000 5000] [--package DIR]

Not a test: numbers depend on the machine. The synthetic data are shaped like the shells expect
(submit.tlf.shell.expected_stats) and carry no meaning."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from submit.config import load_study_config
from submit.tlf import (LEVEL_PATH_SEPARATOR, KmCurve, ListingShell, TableShell, TlfContext, expected_stats,
                        load_layout, load_shells, render_listing, write_docx, write_tlf_package)
from submit.tlf.paged import page_output
from submit.tlf.rtf_writer import write_rtf
from submit.tlf.package import render_output

REPO = Path(__file__).resolve().parents[1]
GROUP_LEVELS = {"TRT01A": ["Cohort 1: 15 ug/m2/day", "Cohort 2a: 5-15 ug/m2/day", "Cohort 2b: 5-15-30 ug/m2/day",
                           "Cohort 3: 5-15 ug/m2/day (expansion)"],
                "SCHED": ["15 ug/m2/day", "5-15 ug/m2/day", "5-15-30 ug/m2/day"], "DOSE": ["5", "15", "30"]}
WORDS = np.array("fever headache tremor infection nausea rash cough anaemia pain disorder syndrome increased "
                 "decreased abnormal acute chronic neutropenia thrombocytopenia hypokalaemia oedema".split())


def _columns(shell: TableShell) -> list[tuple[str, str]]:
    out = []
    for col in shell.columns:
        group = col.group or ""
        levels = col.levels if col.levels is not None else GROUP_LEVELS.get(group, ["A", "B"])
        out += [(group, lv) for lv in levels]
    return out


def _stat_values(stats: list[str], n_total: int, rng: np.random.Generator) -> dict[str, float]:
    n = int(rng.integers(0, n_total + 1))
    low, high = sorted(rng.uniform(0, 1, 2))
    mean = float(rng.uniform(10, 500))
    values = {"N": n_total, "n": n, "p": n / n_total, "ci_low": low, "ci_high": high, "events": n,
              "censored": n_total - n, "median": float(rng.uniform(1, 15)), "median_ci_low": float(rng.uniform(0, 5)),
              "median_ci_high": float("nan") if rng.random() < 0.3 else float(rng.uniform(6, 20)),
              "survival": high, "mean": mean, "sd": mean * 0.3, "cv": 30.0, "geo_mean": mean * 0.9, "geo_cv": 33.3,
              "min": mean * 0.2, "q1": mean * 0.7, "q3": mean * 1.3, "max": mean * 2.1}
    return {s: values.get(s, float(rng.uniform(0, 100))) for s in stats}


def _levels(variable: str, n_levels: int, rng: np.random.Generator) -> list[str]:
    return [f"{variable.title()} {' '.join(rng.choice(WORDS, 2))} {i}" for i in range(1, n_levels + 1)]


def synthetic_ard(shell: TableShell, rng: np.random.Generator, n_soc: int = 8, n_pt: int = 5) -> pd.DataFrame:
    """An ARD with every record the shell reads, for every column; levels invented where the shell
    takes them from the ARD (SOC/PT: n_soc classes of n_pt terms)."""
    columns = _columns(shell)
    rows = []
    expected = expected_stats(shell)
    parents: dict[str, list[str]] = {}
    for item in expected:
        variable, level, stats = item["variable"], item["variable_level"], item["stats"].split(", ")
        if level == "*":
            levels = parents[variable] = _levels(variable, n_soc, rng)
        elif level == f"*{LEVEL_PATH_SEPARATOR}*":
            parent = next(iter(parents.values()))
            levels = [f"{p}{LEVEL_PATH_SEPARATOR}{t}" for p in parent for t in _levels("term", n_pt, rng)]
        else:
            levels = [level]
        for lv in levels:
            for group, group_level in columns:
                values = _stat_values(stats, 36, rng)
                rows += [{"output": shell.id, "group": group, "group_level": group_level, "variable": variable,
                          "variable_level": lv, "stat_name": s, "stat_label": s, "stat": v} for s, v in values.items()]
    return pd.DataFrame(rows)


def synthetic_listing(shell: ListingShell, n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    subjects = np.sort(rng.integers(1, max(2, n_rows // 20), n_rows))
    data = {}
    for col in shell.columns:
        if col.name == "USUBJID":
            data[col.name] = [f"MT103-206-{s:04d}" for s in subjects]
        elif col.name.endswith("DT"):
            data[col.name] = pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 600, n_rows), unit="D")
        elif col.format or col.name.endswith("DY") or col.name == "AGE":
            data[col.name] = rng.uniform(0, 2000, n_rows).round(3) if col.format else rng.integers(1, 600, n_rows)
        else:
            data[col.name] = [" ".join(w) for w in rng.choice(WORDS, (n_rows, 2))]
    return pd.DataFrame(data)


def synthetic_curves(times: tuple[float, ...], rng: np.random.Generator) -> list[KmCurve]:
    event_times = np.sort(rng.uniform(0.3, max(times) * 0.9, 20))
    survival = np.cumprod(np.full(20, 0.93))
    return [KmCurve("All subjects (N=36)", event_times, survival, np.sort(rng.uniform(1, max(times), 8)),
                    np.linspace(36, 3, len(times)).astype(int), median=float(np.interp(0.5, survival[::-1],
                                                                                     event_times[::-1])))]


def sample_results(shells, rng: np.random.Generator, listing_rows: int = 2000) -> dict[str, object]:
    results: dict[str, object] = {}
    for shell in shells:
        if isinstance(shell, TableShell):
            results[shell.id] = synthetic_ard(shell, rng)
        elif isinstance(shell, ListingShell):
            results[shell.id] = synthetic_listing(shell, listing_rows, rng)
        else:
            results[shell.id] = synthetic_curves(shell.figure.at_risk_times, rng)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[500, 2000, 5000])
    parser.add_argument("--package", type=Path, help="write a sample package of every shell here")
    parser.add_argument("--listing-rows", type=int, default=2000, help="rows of each sample listing")
    args = parser.parse_args()
    study = load_study_config(REPO / "specs" / "mt103-206" / "study.yaml")
    context = TlfContext(study=study, build_date=study.dates.build_date)
    layout = load_layout()
    shells = load_shells(REPO / "specs" / "mt103-206" / "tlf")
    rng = np.random.default_rng(7)
    listing = next(s for s in shells if s.id == "16.2.7.2")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            frame = synthetic_listing(listing, rows, rng)
            start = time.perf_counter()
            render_listing(listing, frame, context)
            middle = time.perf_counter()
            output = render_output(listing, frame, context, layout, Path(tmp))
            paged = page_output(output, layout)
            paginated = time.perf_counter()
            write_docx([output], Path(tmp) / "listing.docx", layout, context, title="bench", paged=[paged])
            docx_done = time.perf_counter()
            write_rtf(output, Path(tmp) / "listing.rtf", layout, context, title="bench", paged=paged)
            end = time.perf_counter()
            size = (Path(tmp) / "listing.docx").stat().st_size / 1e6
            print(f"listing {rows:>6} rows x {len(listing.columns)} columns: table model {middle - start:.2f} s, "
                  f"model + pages {paginated - middle:.2f} s, DOCX {docx_done - paginated:.2f} s ({size:.1f} MB), "
                  f"RTF {end - docx_done:.2f} s ({(Path(tmp) / 'listing.rtf').stat().st_size / 1e6:.1f} MB)")
        soc_pt = next(s for s in shells if s.id == "14.3.1.2")
        ard = synthetic_ard(soc_pt, rng, n_soc=25, n_pt=12)
        start = time.perf_counter()
        output = render_output(soc_pt, ard, context, layout, Path(tmp))
        write_docx([output], Path(tmp) / "soc_pt.docx", layout, context, title="bench")
        print(f"SOC/PT table, {len(output.table.body)} rows from {len(ard)} ARD records: "
              f"{time.perf_counter() - start:.2f} s")
    if args.package:
        results = sample_results(shells, rng, args.listing_rows)
        start = time.perf_counter()
        index = write_tlf_package(shells, results, args.package, context, layout)
        print(f"sample package of {len(index)} outputs in {args.package}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
