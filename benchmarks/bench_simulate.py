"""Time and peak memory of `submit simulate` (generate + write CSV) at several study sizes.

Each size runs in its own process so that the peak resident memory is that size's alone.
Usage: python benchmarks/bench_simulate.py [N ...]   (default: 36 3600 36000)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys, time, resource
from pathlib import Path
from submit.project import Specs, default_specs_dir
from submit.simulate import simulate_study, write_extract
specs = Specs(default_specs_dir())
n, out = int(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
extract = simulate_study(specs.study, specs.simulation, n_subjects=n)
t1 = time.perf_counter()
write_extract(extract, out, specs.raw_schema)
t2 = time.perf_counter()
rows = sum(len(df) for df in extract.frames.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{n:>8} subjects {rows:>11,} rows  generate {t1 - t0:7.2f} s  write {t2 - t1:7.2f} s  peak {peak:8.0f} MB")
"""


def main(sizes: list[int]) -> None:
    print(f"python {sys.version.split()[0]}; one process per size")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-c", CHILD, str(n), str(Path(tmp) / "raw")], check=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [36, 3600, 36000])
