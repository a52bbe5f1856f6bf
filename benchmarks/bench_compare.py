"""Benchmark `submit compare`'s engine: two 1,000,000-row datasets of 20 variables with a few thousand
differences of every kind, compared by key; prints the time and peak memory.

    /work/venv/bin/python benchmarks/bench_compare.py [--rows N]

Not a test: numbers depend on the machine. Reading files is left out (that is pyreadstat's speed)."""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from submit.dataset_io import DatasetMeta, VariableMeta
from submit.qc.compare import CompareOptions, ComparisonRun, compare_datasets
from submit.qc.compare_report import json_report, text_report

TERMS = np.array(["HEADACHE", "NAUSEA", "RASH", "FATIGUE", "PYREXIA", "COUGH", "DIZZINESS", "ARTHRALGIA"])


def build(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {"USUBJID": np.char.add("MT103-206-", (np.arange(rows) // 20).astype(str)).astype(object),
            "AESEQ": (np.arange(rows) % 20 + 1).astype(float)}
    for i in range(9):
        data[f"NUM{i}"] = rng.normal(100, 15, rows).round(3)
    for i in range(9):
        data[f"CHAR{i}"] = TERMS[rng.integers(0, len(TERMS), rows)]
    return pd.DataFrame(data).astype({"USUBJID": "str", **{f"CHAR{i}": "str" for i in range(9)}})


def perturb(base: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """About 3,700 differences: numbers off, numbers within a 1e-9 noise, texts changed, values
    missing, observations dropped and added, a duplicated key."""
    rng = np.random.default_rng(seed)
    comp = base.copy()
    n = len(comp)
    pick = lambda k: rng.choice(n, k, replace=False)  # noqa: E731
    comp.loc[pick(1000), "NUM3"] += 0.5
    comp.loc[pick(5000), "NUM4"] += 1e-12  # floating-point noise: equal under --criterion
    comp.loc[pick(1000), "CHAR2"] = "OTHER"
    comp.loc[pick(500), "NUM7"] = np.nan
    comp.loc[pick(500), "CHAR8"] = comp["CHAR8"].str.lower()
    comp = comp.drop(index=pick(200))
    extra = base.iloc[:200].assign(AESEQ=base["AESEQ"].iloc[:200] + 100)
    return pd.concat([comp, extra, comp.iloc[:1]], ignore_index=True)


def meta(df: pd.DataFrame, source: str) -> DatasetMeta:
    variables = {c: VariableMeta(c, "num" if pd.api.types.is_numeric_dtype(df[c]) else "char",
                                 8 if pd.api.types.is_numeric_dtype(df[c]) else 20) for c in df.columns}
    return DatasetMeta(name="AE", label="Adverse Events", variables=variables, source=source, format="xpt")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows

    t0 = time.perf_counter()
    base = build(rows)
    comp = perturb(base)
    built = time.perf_counter() - t0
    rss_before = peak_rss_mib()
    print(f"built {len(base):,} and {len(comp):,} rows x {base.shape[1]} variables in {built:.1f} s; "
          f"peak RSS so far {rss_before:,.0f} MiB")

    options = CompareOptions(by=("USUBJID", "AESEQ"), method="absolute", criterion=1e-9)
    t0 = time.perf_counter()
    result = compare_datasets(base, meta(base, "base"), comp, meta(comp, "compare"), options)
    compared = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = ComparisonRun("base", "compare", options, [result])
    text, doc = text_report(run), json_report(run)
    reported = time.perf_counter() - t0

    print(f"compare: {compared:.2f} s; reports: {reported:.2f} s ({len(text):,} characters of text)")
    print(f"peak RSS {peak_rss_mib():,.0f} MiB (+{peak_rss_mib() - rss_before:,.0f} MiB during the compare)")
    print(f"found: {result.only_in_base.count} only in base, {result.only_in_compare.count} only in compare, "
          f"{result.duplicates_compare.count} duplicate key(s) in compare, "
          + ", ".join(f"{v.variable} {v.count}" for v in result.value_differences)
          + f"; equal={doc['equal']}")


if __name__ == "__main__":
    main()
