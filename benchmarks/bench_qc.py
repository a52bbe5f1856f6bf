"""CPU time of the stages that read a written package back (issue 19): reading every XPT (pyreadstat
and submit.xpt.reader), the define.xml consistency check, Dataset-JSON and `submit validate` without
and with its report cache, on a package already built (`submit build --out DIR`).

Usage: python benchmarks/bench_qc.py DIR

CPU time (time.process_time) rather than wall time: the numbers then mean something on a shared
machine. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def timed(name: str, work) -> None:
    start = time.process_time()
    work()
    print(f"{name:<44} {time.process_time() - start:7.2f} s CPU", flush=True)


def main(root: Path) -> None:
    import pyreadstat

    from submit.dataset_json import write_dataset_json
    from submit.define import check_consistency
    from submit.project import Specs, default_specs_dir
    from submit.qc.validate import validate_package
    from submit.qc.validate.package import find_folders

    try:
        from submit.xpt.reader import XptFile
    except ImportError:  # a version before the reader (to compare)
        XptFile = None
    specs = Specs(default_specs_dir())  # the study's specs, as `submit validate` uses them

    sdtm, adam, _ = find_folders(root)
    folders = [f for f in (sdtm, adam) if f is not None]
    files = [p for f in folders for p in sorted(f.glob("*.xpt"))]
    print(f"{root}: {len(files)} XPT files, {sum(p.stat().st_size for p in files) / 2**20:.0f} MB")
    timed("read every XPT: pyreadstat", lambda: [pyreadstat.read_xport(str(p), disable_datetime_conversion=True)
                                                 for p in files])
    if XptFile is not None:
        timed("read every XPT: submit.xpt.reader", lambda: [XptFile(p).frame() for p in files])
    later = {"csdrg.docx", "adrg.docx"}
    timed("define.xml consistency check", lambda: [check_consistency(f / "define.xml", f, written_later=later)
                                                   for f in folders])
    with tempfile.TemporaryDirectory() as tmp:
        copies = [shutil.copytree(f, Path(tmp) / f.name) for f in folders]
        timed("Dataset-JSON", lambda: [write_dataset_json(f) for f in copies])
    timed("validate (no cache)", lambda: validate_package(root, specs))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SUBMIT_CACHE"] = cache
        try:
            timed("validate (cache: store)", lambda: validate_package(root, specs, cache=True))
            timed("validate (cache: hit)", lambda: validate_package(root, specs, cache=True))
        except TypeError:  # a version without the cache
            pass


if __name__ == "__main__":
    main(Path(sys.argv[1]))
