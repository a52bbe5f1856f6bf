"""The wheel carries everything a build reads: the study specs (specs/, the default study's among
them), the Define-XML inputs (define/define.yaml), the TLF layout (templates/), the CDISC CT and the
validation rules; and a build from it, run in an unrelated folder, needs nothing of the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q",
                    "-w", str(out)], check=True, capture_output=True)
    (path,) = out.glob("submit-*.whl")
    return path


def test_wheel_holds_what_a_build_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = "submit/_shipped/"
    expected = [f"{shipped}define/define.yaml", f"{shipped}templates/tlf/layout.yaml", f"{shipped}specs/studies.yaml",
                "submit/qc/validate/rules.yaml"]
    # every file of the default study's folder, as in the checkout
    default = REPO / "specs" / "mt103-206"
    expected += [f"{shipped}specs/mt103-206/{p.relative_to(default).as_posix()}" for p in default.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts]
    expected += [f"submit/ct/{p.name}" for p in (REPO / "submit" / "ct").glob("*.txt.gz")]
    assert [n for n in expected if n not in names] == []
    assert not any(n.startswith(("specs/", "define/", "templates/", "build_support/")) for n in names)


@pytest.mark.slow
def test_the_wheel_alone_builds_the_default_study_elsewhere(wheel, tmp_path):
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The unpacked wheel first on the path (ahead of any checkout or editable install); the
    # dependencies from this environment; no $SUBMIT_SPECS or $SUBMIT_CT.
    env = {k: v for k, v in os.environ.items() if k not in ("SUBMIT_SPECS", "SUBMIT_CT")}
    env["PYTHONPATH"] = str(unpacked)
    code = ("import submit, sys; assert submit.__file__.startswith(sys.argv[1]), submit.__file__; "
            "from submit.cli import main; sys.argv = ['submit', '-q', 'build', '--out', 'out']; main()")
    done = subprocess.run([sys.executable, "-c", code, str(unpacked)], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (elsewhere / "out" / "manifest.json").is_file()
    assert (elsewhere / "out" / "m5" / "datasets" / "mt103-206" / "tabulations" / "sdtm" / "define.xml").is_file()
