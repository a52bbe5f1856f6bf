"""Time and peak memory of every stage of `submit build` (the real `run_build`, stage by stage) at
several study sizes, each size in its own process so that its peak resident memory is its own, and
the ratio of the build to the bare writer: reading every XPT of the package and writing the same data
with `pyreadstat.write_xport` (v5), measured in the same process (issue 19).

Usage: python benchmarks/bench_build.py [N ...]   (default: 36 360 3600; 36000 takes many minutes)

Not a test: numbers depend on the machine and on what else runs on it. "peak" is the process's
maximum resident memory so far (ru_maxrss), printed after each stage: the stage where it jumps is
the one that needs the memory. Imports are timed as their own line (a CLI run pays them once).
"""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import sys, time, resource, tempfile
from contextlib import contextmanager
from pathlib import Path
started = time.perf_counter()
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n = int(sys.argv[1])
rows = []
def record(name, seconds):
    rows.append((name, seconds, peak()))
    print(f"{n:>7} subjects  {name:<48} {seconds:7.1f} s   peak {peak():6.0f} MB", flush=True)

import pyreadstat
import submit.build as build
from submit.project import Specs, default_specs_dir
from submit.simulate import DEFAULT_SEED, simulate_study, write_extract
record("imports", time.perf_counter() - started)

@contextmanager
def timed_stage(number, total, name):
    start = time.perf_counter()
    yield
    record(name, time.perf_counter() - start)

build.stage = timed_stage  # run_build looks `stage` up at call time
specs = Specs(default_specs_dir())
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    start = time.perf_counter()
    write_extract(simulate_study(specs.study, specs.simulation, n_subjects=n, seed=DEFAULT_SEED), root / "raw",
                  specs.raw_schema)
    record("simulate the raw extract", time.perf_counter() - start)
    start = time.perf_counter()
    build.run_build(specs, raw_dir=root / "raw", out_dir=root / "out")
    total = time.perf_counter() - start
    record("BUILD (run_build, all stages)", total)
    start, size = time.perf_counter(), 0
    for i, xpt in enumerate(sorted((root / "out" / "m5").rglob("*.xpt"))):
        df, meta = pyreadstat.read_xport(str(xpt))
        pyreadstat.write_xport(df, str(root / f"bare{i}.xpt"), file_format_version=5, table_name=meta.table_name,
                               column_labels=meta.column_labels)
        size += xpt.stat().st_size
    bare = time.perf_counter() - start
    record(f"bare read + pyreadstat.write_xport ({size / 1e6:.0f} MB XPT)", bare)
    print(f"{n:>7} subjects  build / bare writer = {total / bare:.1f}x", flush=True)
"""

if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [36, 360, 3600]:
        subprocess.run([sys.executable, "-c", CHILD, str(n)], check=True)
