"""Time and peak memory of the stages of `submit build` at several study sizes, each size in its
own process so that its peak resident memory is its own. Peak memory is the process's maximum so
far, printed after each stage.
Usage: python benchmarks/bench_build.py [N ...]   (default: 36 3600)
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys, time, resource, tempfile
from pathlib import Path
from submit.project import Specs, adam_dir, default_specs_dir, sdtm_dir
from submit.simulate import simulate_study, write_extract
from submit.raw.reader import read_raw
from submit.sdtm.build import build_sdtm
from submit.adam.build import build_adam
from submit.define import write_define
from submit.qc.validate import validate_package
from submit.tlf.build import build_tlf

specs = Specs(default_specs_dir())
SDTM_DIR, ADAM_DIR = sdtm_dir(specs.study), adam_dir(specs.study)
n = int(sys.argv[1])
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    def stage(name, fn):
        start = time.perf_counter()
        out = fn()
        print(f"{n:>7} subjects  {name:<26} {time.perf_counter() - start:7.1f} s   peak {peak():6.0f} MB", flush=True)
        return out
    stage("simulate", lambda: write_extract(simulate_study(specs.study, specs.simulation, n_subjects=n), root / "raw", specs.raw_schema))
    frames = stage("read and check raw", lambda: read_raw(root / "raw", specs.raw_schema, specs.study).frames)
    sdtm = stage("SDTM", lambda: build_sdtm(specs.folder / "sdtm", frames, specs.study, root))
    adam = stage("ADaM", lambda: build_adam(specs.folder / "adam", sdtm.domains, specs.study, root))
    stage("define.xml SDTM", lambda: write_define(sdtm.spec, sdtm.domains, root / SDTM_DIR, specs.study))
    stage("define.xml ADaM", lambda: write_define(adam.spec, adam.datasets, root / ADAM_DIR, specs.study))
    stage("validate", lambda: validate_package(root, specs))
    stage("TLF (analysis and DOCX)", lambda: build_tlf(root / ADAM_DIR, root / "tlf", specs.study, specs.folder / "tlf"))
"""

if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [36, 3600]:
        subprocess.run([sys.executable, "-c", CHILD, str(n)], check=True)
