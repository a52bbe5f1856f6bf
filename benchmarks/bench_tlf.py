"""CPU and wall time of the TLF stage alone (analysis, pagination, DOCX, RTF, ARD, figures; no PDF)
on the ADaM of an existing package, e.g. one written by `submit build --out DIR` (issue 19).

Usage: python benchmarks/bench_tlf.py PACKAGE [OUT]   (OUT: where the outputs go, default a temporary folder)

Not a test: numbers depend on the machine and on what else runs on it. CPU time (user + system of
this process) is steadier than wall time on a shared machine. Imports are timed on their own: the
TLF code imports matplotlib and scipy.special where it draws a figure or computes a CI, so those
count in the stage.
"""

from __future__ import annotations

import sys
import tempfile
import time

started, cpu_started = time.perf_counter(), time.process_time()

from pathlib import Path  # noqa: E402

from submit.project import Specs, adam_dir, default_specs_dir  # noqa: E402
from submit.tlf.build import build_tlf  # noqa: E402


def report(name: str, wall: float, cpu: float) -> None:
    print(f"{name:<40} wall {wall:6.2f} s   cpu {cpu:6.2f} s", flush=True)


if __name__ == "__main__":
    report("imports", time.perf_counter() - started, time.process_time() - cpu_started)
    package = Path(sys.argv[1])
    specs = Specs(default_specs_dir())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tmp) / "tlf"
        start, cpu = time.perf_counter(), time.process_time()
        index = build_tlf(package / adam_dir(specs.study), out, specs.study, specs.folder / "tlf",
                          formats=("docx", "rtf"))
        report(f"TLF stage, {len(index)} outputs (docx, rtf)", time.perf_counter() - start, time.process_time() - cpu)
