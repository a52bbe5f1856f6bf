"""CPU time, wall time and peak memory of the data layers of `submit build` alone: read the raw
extract, map SDTM, derive ADaM (each writing its XPTs), at one study size, optionally under cProfile
(issue 19). The later stages (define.xml, validation, TLFs) are left out: bench_build.py times them.

Usage: python benchmarks/bench_layers.py N [--raw DIR] [--profile PREFIX]
  N: subjects to simulate (ignored with --raw, an extract written by `submit simulate`)
  --profile PREFIX: writes PREFIX-read.prof, PREFIX-sdtm.prof, PREFIX-adam.prof
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import tempfile
import time
from pathlib import Path

from submit.adam.build import build_adam
from submit.project import Specs, default_specs_dir
from submit.raw.reader import read_raw
from submit.sdtm.build import build_sdtm
from submit.simulate import DEFAULT_SEED, simulate_study, write_extract


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(name: str, profile: str | None, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    if profile:
        prof = cProfile.Profile()
        result = prof.runcall(fn)
        prof.dump_stats(f"{profile}-{name}.prof")
    else:
        result = fn()
    print(f"{name:<10} wall {time.perf_counter() - wall:6.1f} s  cpu {time.process_time() - cpu:6.1f} s  "
          f"peak {peak_mb():6.0f} MB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("subjects", type=int)
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--profile")
    args = parser.parse_args()
    specs = Specs(default_specs_dir())
    study = specs.study
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw_dir = args.raw
        if raw_dir is None:
            raw_dir = root / "raw"
            timed("simulate", args.profile, lambda: write_extract(
                simulate_study(study, specs.simulation, n_subjects=args.subjects, seed=DEFAULT_SEED), raw_dir,
                specs.raw_schema))
        extract = timed("read", args.profile, lambda: read_raw(raw_dir, specs.raw_schema, study))
        sdtm = timed("sdtm", args.profile, lambda: build_sdtm(specs.folder / "sdtm", extract.frames, study, root,
                                                             subjects=extract.subjects))
        timed("adam", args.profile, lambda: build_adam(specs.folder / "adam", sdtm.all_domains, study, root))


if __name__ == "__main__":
    main()
