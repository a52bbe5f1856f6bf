"""Time and peak memory of `submit build` stages (simulate, read and check raw, SDTM) at several
study sizes, each size in its own process so its peak resident memory is its own.
Usage: python benchmarks/bench_build.py [N ...]   (default: 36 3600)
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys, time, resource, tempfile
from pathlib import Path
from submit.project import Specs, REPO_SPECS
from submit.simulate import simulate_study, write_extract
from submit.raw.reader import read_raw
from submit.sdtm.build import build_sdtm
specs = Specs(REPO_SPECS)
n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    t = [time.perf_counter()]
    write_extract(simulate_study(specs.study, n_subjects=n), root / "raw", specs.raw_schema); t.append(time.perf_counter())
    frames = read_raw(root / "raw", specs.raw_schema, specs.study).frames; t.append(time.perf_counter())
    result = build_sdtm(specs.folder / "sdtm", frames, specs.study, root); t.append(time.perf_counter())
    records = sum(len(df) for df in result.domains.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n:>7} subjects  simulate {t[1]-t[0]:6.1f} s  read+check {t[2]-t[1]:6.1f} s  "
          f"SDTM {t[3]-t[2]:6.1f} s ({len(result.domains)} domains, {records:,} records)  peak {peak:6.0f} MB")
"""

if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [36, 3600]:
        subprocess.run([sys.executable, "-c", CHILD, str(n)], check=True)
