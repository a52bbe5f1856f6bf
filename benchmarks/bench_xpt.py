"""Benchmark the XPT v5 writer: a 1,000,000-row dataset of 30 variables (15 numeric, two of them
dates, 15 character) checked, sorted by two keys and written; prints the time and peak memory.

    /work/venv/bin/python benchmarks/bench_xpt.py [--rows N] [--keep PATH]

Not a test: numbers depend on the machine. Building the frame is timed apart from writing."""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from submit.xpt import XptDataset, XptVariable, check_xpt, write_xpt

TERMS = np.array(["HEADACHE", "NAUSEA", "RASH", "FATIGUE", "PYREXIA", "COUGH", "DIZZINESS", "ARTHRALGIA",
                  "UPPER RESPIRATORY TRACT INFECTION", ""])


def build(rows: int, seed: int = 1) -> tuple[pd.DataFrame, XptDataset]:
    rng = np.random.default_rng(seed)
    subjects = np.array([f"MT103-206-{i:05d}" for i in range(rows // 20 + 1)], dtype=object)
    terms = TERMS.astype(object)
    data = {"USUBJID": pd.Series(subjects[rng.permutation(rows) // 20], dtype="str"),
            "LBSEQ": rng.permutation(rows).astype(float),
            "LBDT": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D"),
            "LBDTM": rng.uniform(2.0e9, 2.1e9, rows)}
    variables = [XptVariable("USUBJID", "Unique Subject Identifier", "char", 40),
                 XptVariable("LBSEQ", "Sequence Number", "num"),
                 XptVariable("LBDT", "Date of Collection", "num", format="DATE9."),
                 XptVariable("LBDTM", "Datetime of Collection", "num", format="E8601DT.")]
    for i in range(12):
        values = rng.normal(100, 15, rows).round(3)
        values[rng.random(rows) < 0.05] = np.nan  # missing values
        data[f"NUM{i}"] = values
        variables.append(XptVariable(f"NUM{i}", f"Numeric result {i}", "num", format="8.3"))
    for i in range(14):
        data[f"CHAR{i}"] = pd.Series(terms[rng.integers(0, len(TERMS), rows)], dtype="str")
        variables.append(XptVariable(f"CHAR{i}", f"Character result {i}", "char", None if i % 2 else 200))
    df = pd.DataFrame(data)
    return df, XptDataset("LB", "Laboratory Test Results", tuple(variables), keys=("USUBJID", "LBSEQ"))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak() -> bool:
    """Reset Linux's peak RSS (ru_maxrss) so the writer's own peak shows, not the frame building's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write here and keep the file")
    args = parser.parse_args()

    start = time.perf_counter()
    df, meta = build(args.rows)
    built = time.perf_counter()
    print(f"built {len(df):,} rows x {len(df.columns)} variables in {built - start:.2f} s; "
          f"peak RSS so far {peak_rss_mib():,.0f} MiB")

    reset = reset_peak()
    print(f"peak RSS reset after building: {'yes' if reset else 'no (the peak below includes building)'}; "
          f"RSS now {peak_rss_mib():,.0f} MiB")
    violations = check_xpt(df, meta)
    checked = time.perf_counter()
    print(f"check_xpt: {len(violations)} violations in {checked - built:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "lb.xpt"
        write_xpt(df, meta, path, created=dt.date(2024, 1, 1))
        done = time.perf_counter()
        size = path.stat().st_size
    print(f"write_xpt (checks, sort, write): {done - checked:.2f} s, {size / 2**20:,.0f} MiB written "
          f"({size / 2**20 / (done - checked):,.0f} MiB/s)")
    print(f"peak RSS {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
